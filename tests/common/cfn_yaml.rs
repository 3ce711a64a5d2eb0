//! A CloudFormation template (template.yaml) as JSON, with the short-form tags
//! (`!Ref`, `!GetAtt`, `!Sub`) turned into their long form (`Ref`, `Fn::GetAtt`,
//! `Fn::Sub`), as CloudFormation itself reads them. Shared by `tests/template.rs` and
//! `examples/iam_proxy.rs` (with `iam.rs`): `#[path = "common/cfn_yaml.rs"] mod
//! cfn_yaml;` from `tests/`, `#[path = "../tests/common/cfn_yaml.rs"]` from
//! `examples/`.

use std::path::Path;

use serde_json::{Value, json};

/// The template at `path`, short-form tags in long form.
pub fn read(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let yaml: serde_norway::Value = serde_norway::from_str(&text)
        .map_err(|e| format!("{} is not YAML: {e}", path.display()))?;
    Ok(to_json(yaml))
}

fn to_json(yaml: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).expect("a YAML number is a JSON number"),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_norway::to_string(&other).unwrap().trim().to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let name = if tag == "Ref" {
                "Ref".to_string()
            } else {
                format!("Fn::{tag}")
            };
            let mut value = to_json(tagged.value);
            // `!GetAtt Table.Arn` is `{"Fn::GetAtt": ["Table", "Arn"]}` in long form.
            if name == "Fn::GetAtt"
                && let Value::String(s) = &value
            {
                let (resource, attribute) = s.split_once('.').expect("GetAtt Resource.Attribute");
                value = json!([resource, attribute]);
            }
            json!({ name: value })
        }
    }
}
