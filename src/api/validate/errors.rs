//! validator's errors as our field errors, in a stable order: the order the fields
//! are declared in the schema, cross-field rules last.

use std::collections::BTreeMap;

use utoipa::openapi::{RefOr, Schema};
use validator::{ValidationError, ValidationErrors, ValidationErrorsKind};

use crate::api::error::FieldError;
use crate::app::messages;

struct Found {
    rank: Vec<usize>,
    cross_field: bool,
    error: FieldError,
}

impl Found {
    fn field(
        rank: Vec<usize>,
        path: &str,
        code: &'static str,
        error: Option<&ValidationError>,
    ) -> Found {
        Found {
            rank,
            cross_field: false,
            error: FieldError::new(path, code, messages::field(code, error)),
        }
    }
}

fn join(prefix: &str, name: &str) -> String {
    // A field named like a keyword (`r#type`) is `type` on the wire.
    let name = name.trim_start_matches("r#");
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// `validator`'s code `length` is our `too_long` (a minimum is always `required`).
fn our_code(e: &ValidationError) -> &'static str {
    match e.code.as_ref() {
        "length" => "too_long",
        "range" => "range",
        other => messages::known_code(other),
    }
}

fn flatten(errors: &ValidationErrors, prefix: &str, order: &FieldOrder, out: &mut Vec<Found>) {
    for (name, kind) in errors.errors() {
        match (name.as_ref(), kind) {
            ("__all__", ValidationErrorsKind::Field(list)) => {
                for (i, e) in list.iter().enumerate() {
                    let field = e
                        .params
                        .get("field")
                        .and_then(|v| v.as_str())
                        .unwrap_or_default();
                    let path = if field.starts_with('/') {
                        field.trim_start_matches('/').to_string()
                    } else {
                        join(prefix, field)
                    };
                    let code = our_code(e);
                    let mut rank = order.rank(prefix);
                    rank.push(i);
                    out.push(Found {
                        rank,
                        cross_field: true,
                        error: FieldError::new(&path, code, messages::field(code, Some(e))),
                    });
                }
            }
            (_, ValidationErrorsKind::Field(list)) => {
                let path = join(prefix, name);
                for e in list {
                    out.push(Found::field(order.rank(&path), &path, our_code(e), Some(e)));
                }
            }
            (_, ValidationErrorsKind::Struct(inner)) => {
                flatten(inner, &join(prefix, name), order, out);
            }
            (_, ValidationErrorsKind::List(items)) => {
                for (i, inner) in items {
                    flatten(
                        inner,
                        &join(&join(prefix, name), &i.to_string()),
                        order,
                        out,
                    );
                }
            }
        }
    }
}

/// The declaration order of a request type's fields, read from its schema (utoipa
/// keeps it with `preserve_order`): `event.kern` ranks as `[1, 2]`.
struct FieldOrder(BTreeMap<String, Vec<usize>>);

impl FieldOrder {
    fn of<T: utoipa::ToSchema>() -> FieldOrder {
        let mut components = Vec::new();
        T::schemas(&mut components);
        let components: BTreeMap<String, RefOr<Schema>> = components.into_iter().collect();
        let mut ranks = BTreeMap::new();
        walk(&T::schema(), "", &[], &components, &mut ranks, 0);
        FieldOrder(ranks)
    }

    fn rank(&self, path: &str) -> Vec<usize> {
        self.0.get(path).cloned().unwrap_or_default()
    }

    /// After every declared field of its object.
    fn rank_of_unknown(&self, path: &str) -> Vec<usize> {
        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
        let mut rank = self.rank(parent);
        rank.push(usize::MAX);
        rank
    }
}

fn walk(
    schema: &RefOr<Schema>,
    path: &str,
    rank: &[usize],
    components: &BTreeMap<String, RefOr<Schema>>,
    out: &mut BTreeMap<String, Vec<usize>>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    let schema = match schema {
        RefOr::Ref(r) => {
            let name = r.ref_location.rsplit('/').next().unwrap_or_default();
            match components.get(name) {
                Some(found) => found,
                None => return,
            }
        }
        other => other,
    };
    match schema {
        RefOr::T(Schema::Object(object)) => {
            for (i, (name, property)) in object.properties.iter().enumerate() {
                let child_path = join(path, name);
                let mut child_rank = rank.to_vec();
                child_rank.push(i);
                out.insert(child_path.clone(), child_rank.clone());
                walk(
                    property,
                    &child_path,
                    &child_rank,
                    components,
                    out,
                    depth + 1,
                );
            }
        }
        RefOr::T(Schema::OneOf(one)) => {
            for item in &one.items {
                walk(item, path, rank, components, out, depth + 1);
            }
        }
        RefOr::T(Schema::AllOf(all)) => {
            for item in &all.items {
                walk(item, path, rank, components, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Every failure of a refused body as field errors: field errors in declaration order
/// (unknown fields last in their object), then the cross-field rules in the order
/// they are declared. Only a refused request pays for reading that order.
pub(super) fn field_errors<T: utoipa::ToSchema>(
    failure: Option<&ValidationErrors>,
    unknown: &[String],
) -> Vec<FieldError> {
    let order = FieldOrder::of::<T>();
    let mut errors = Vec::new();
    if let Some(failure) = failure {
        flatten(failure, "", &order, &mut errors);
    }
    for path in unknown {
        errors.push(Found {
            rank: order.rank_of_unknown(path),
            cross_field: false,
            error: FieldError::new(
                path,
                "unknown_field",
                messages::field("unknown_field", None),
            ),
        });
    }
    errors.sort_by(|a, b| (a.cross_field, &a.rank).cmp(&(b.cross_field, &b.rank)));
    errors.into_iter().map(|f| f.error).collect()
}
