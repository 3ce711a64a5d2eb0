//! The one model of IAM for the DynamoDB rights template.yaml gives its functions:
//! may this function send action A to the table or index R for partition key K?
//! `tests/template.rs` checks every function's rights with it against what the store
//! needs; `examples/iam_proxy.rs` enforces them with it on the Lambda smoke test's
//! requests. `#[path = "common/iam.rs"] mod iam;` from `tests/`,
//! `#[path = "../tests/common/iam.rs"]` from `examples/`; it reads the template as
//! `cfn_yaml.rs` gives it (short-form tags in long form).
//!
//! It reads the shapes the template uses and refuses any other with an `Err` naming
//! it: inline `Allow` statements of each `AWS::Serverless::Function`, each Resource
//! the one `AWS::DynamoDB::Table` (`!GetAtt Table.Arn`) or a named index of it
//! (`!Sub "${Table.Arn}/index/NAME"`, no wildcard), and at most one condition,
//! `ForAllValues:StringLike` on `dynamodb:LeadingKeys`. A statement allows a request
//! when one of its actions matches (IAM wildcards, case-insensitive), it names the
//! request's table or index, and, with the condition, one of its key patterns matches
//! the request's partition key (`StringLike`, case-sensitive). A model of IAM for the
//! shapes this template uses, not IAM itself.
//!
//! Statements on other services (the notify function's SES and SQS rights) are kept
//! apart as [`ServiceStatement`]s: actions and resource ARNs, with `!Sub`'s pseudo
//! parameters and the template parameters given to [`Policies::with_parameters`]
//! filled in; a request is allowed when every resource it needs is named by a
//! statement with a matching action.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

/// Where a statement applies, or a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Table,
    Index(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Table => f.write_str("table"),
            Target::Index(name) => write!(f, "index/{name}"),
        }
    }
}

#[derive(Debug)]
pub struct Statement {
    pub actions: Vec<String>,
    pub targets: Vec<Target>,
    /// `ForAllValues:StringLike` on `dynamodb:LeadingKeys`; `None`: any key.
    pub leading_keys: Option<Vec<String>>,
}

/// A right on another service: actions on resource ARNs (IAM wildcards).
#[derive(Debug, Clone)]
pub struct ServiceStatement {
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// The pseudo parameters a `!Sub` in a resource may use, as the model fills them in.
pub const PARTITION: &str = "aws";
pub const REGION: &str = "eu-west-1";
pub const ACCOUNT: &str = "123456789012";

/// What template.yaml lets its functions do.
#[derive(Debug)]
pub struct Policies {
    /// Each function's statements, by logical resource name (`Permits`, ...).
    pub functions: BTreeMap<String, Vec<Statement>>,
    /// Each function's rights on other services than DynamoDB.
    pub services: BTreeMap<String, Vec<ServiceStatement>>,
    /// The table's partition key attribute (the HASH of its KeySchema).
    partition_key: String,
}

impl Policies {
    /// Every function's inline statements, from the template as JSON.
    pub fn of(template: &Value) -> Result<Policies, String> {
        Policies::with_parameters(template, &BTreeMap::new())
    }

    /// As [`Policies::of`], with these template parameter values in `!Sub` resources.
    pub fn with_parameters(
        template: &Value,
        parameters: &BTreeMap<String, String>,
    ) -> Result<Policies, String> {
        let resources = template["Resources"]
            .as_object()
            .ok_or("the template has no Resources")?;
        let of_type = |kind: &'static str| resources.iter().filter(move |(_, r)| r["Type"] == kind);
        let [(table, definition)] = of_type("AWS::DynamoDB::Table").collect::<Vec<_>>()[..] else {
            return Err("expected exactly one AWS::DynamoDB::Table".into());
        };
        let partition_key = one_or_many(&definition["Properties"]["KeySchema"])
            .into_iter()
            .find(|k| k["KeyType"] == "HASH")
            .and_then(|k| k["AttributeName"].as_str())
            .ok_or("the table's KeySchema has no HASH key")?
            .to_string();
        let mut functions = BTreeMap::new();
        let mut services = BTreeMap::new();
        for (name, function) in of_type("AWS::Serverless::Function") {
            let (statements, others) =
                statements(&function["Properties"]["Policies"], table, parameters)
                    .map_err(|e| format!("{name}: {e}"))?;
            functions.insert(name.clone(), statements);
            services.insert(name.clone(), others);
        }
        Ok(Policies {
            functions,
            services,
            partition_key,
        })
    }

    /// Why `function` may not send this DynamoDB request (`operation` as in
    /// X-Amz-Target after the dot, `request` its JSON body): one reason for each
    /// authorisation it needs and lacks; empty when it is allowed.
    pub fn refusals(&self, function: &str, operation: &str, request: &Value) -> Vec<String> {
        let Some(statements) = self.functions.get(function) else {
            return vec![format!("unknown function {function:?} (access key id)")];
        };
        authorisations(operation, request, &self.partition_key)
            .into_iter()
            .filter(|(action, target, key)| {
                !allows(statements, action, target, key.as_deref().unwrap_or(""))
            })
            .map(|(action, target, key)| match key {
                Some(key) => format!("{action} on {target} key {key:?}"),
                None => format!("{action} on {target} without a key"),
            })
            .collect()
    }
}

impl Policies {
    /// Why `function` may not do `action` on these resource ARNs (each must be
    /// allowed); empty when it may.
    pub fn service_refusals(
        &self,
        function: &str,
        action: &str,
        resources: &[String],
    ) -> Vec<String> {
        let statements = self
            .services
            .get(function)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        resources
            .iter()
            .filter(|resource| {
                !statements.iter().any(|s| {
                    s.actions.iter().any(|a| action_like(a, action))
                        && s.resources.iter().any(|r| string_like(r, resource))
                })
            })
            .map(|resource| format!("{action} on {resource}"))
            .collect()
    }
}

/// A resource of another service as an ARN: a plain string, or a `!Sub` with the
/// pseudo parameters and `parameters` filled in (anything else stays `${...}`).
fn service_resource(
    resource: &Value,
    parameters: &BTreeMap<String, String>,
) -> Result<String, String> {
    if let Some(arn) = resource.as_str() {
        return Ok(arn.to_string());
    }
    if let Some(get_att) = resource["Fn::GetAtt"].as_array() {
        // A resource of this template (a queue): named by its logical id.
        return Ok(format!(
            "arn:{PARTITION}:template:{}",
            get_att
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(".")
        ));
    }
    let Some(text) = resource["Fn::Sub"].as_str() else {
        return Err(format!(
            "a resource as a string, !GetAtt or !Sub, not {resource}"
        ));
    };
    let mut arn = text
        .replace("${AWS::Partition}", PARTITION)
        .replace("${AWS::Region}", REGION)
        .replace("${AWS::AccountId}", ACCOUNT);
    for (name, value) in parameters {
        arn = arn.replace(&format!("${{{name}}}"), value);
    }
    Ok(arn)
}

/// Whether the statements allow `action` on `target` for an item or query whose
/// (table or index) partition key is `key`.
pub fn allows(statements: &[Statement], action: &str, target: &Target, key: &str) -> bool {
    statements.iter().any(|s| {
        s.actions.iter().any(|a| action_like(a, action))
            && s.targets.contains(target)
            && s.leading_keys
                .as_ref()
                .is_none_or(|patterns| patterns.iter().any(|p| string_like(p, key)))
    })
}

/// IAM `StringLike`: `*` any run of characters, `?` one character.
pub fn string_like(pattern: &str, value: &str) -> bool {
    fn go(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|i| go(rest, &v[i..])),
            Some(('?', rest)) => !v.is_empty() && go(rest, &v[1..]),
            Some((c, rest)) => v.first() == Some(c) && go(rest, &v[1..]),
        }
    }
    go(
        &pattern.chars().collect::<Vec<_>>(),
        &value.chars().collect::<Vec<_>>(),
    )
}

/// An IAM action pattern: the same wildcards, but action names ignore case.
pub fn action_like(pattern: &str, action: &str) -> bool {
    string_like(&pattern.to_lowercase(), &action.to_lowercase())
}

/// The authorisations a DynamoDB request needs, as (action, where, partition key):
///
/// - GetItem / PutItem / UpdateItem / DeleteItem on the table, with the partition key
///   of the item (its `Key`, or its `Item` for a Put) as `dynamodb:LeadingKeys`;
/// - TransactWriteItems: each Put / Update / Delete / ConditionCheck part as
///   PutItem / UpdateItem / DeleteItem / ConditionCheckItem on its item (IAM has no
///   TransactWriteItems action);
/// - Query on the table or on its index `IndexName`, with the value compared with `=`
///   on the left of the key condition as `dynamodb:LeadingKeys`;
/// - anything else (Scan, DescribeTable, ...) as that action on the table.
///
/// Without a key the request is checked as having key `""`, which only a `*` pattern
/// matches: stricter than IAM, whose `ForAllValues` holds when there is no key at all.
fn authorisations(
    operation: &str,
    request: &Value,
    partition_key: &str,
) -> Vec<(String, Target, Option<String>)> {
    let key_of = |item: &Value| item[partition_key]["S"].as_str().map(str::to_string);
    let action = |name: &str| format!("dynamodb:{name}");
    match operation {
        "GetItem" | "DeleteItem" | "UpdateItem" => {
            vec![(action(operation), Target::Table, key_of(&request["Key"]))]
        }
        "PutItem" => vec![(action(operation), Target::Table, key_of(&request["Item"]))],
        "Query" => {
            let target = match request["IndexName"].as_str() {
                Some(index) if !index.is_empty() => Target::Index(index.to_string()),
                _ => Target::Table,
            };
            vec![(action(operation), target, query_partition(request))]
        }
        "TransactWriteItems" => one_or_many(&request["TransactItems"])
            .into_iter()
            .flat_map(|part| {
                [
                    ("Put", "PutItem", "Item"),
                    ("Update", "UpdateItem", "Key"),
                    ("Delete", "DeleteItem", "Key"),
                    ("ConditionCheck", "ConditionCheckItem", "Key"),
                ]
                .into_iter()
                .filter_map(|(kind, name, item)| {
                    let part = part.get(kind)?;
                    Some((action(name), Target::Table, key_of(&part[item])))
                })
            })
            .collect(),
        _ => vec![(action(operation), Target::Table, None)],
    }
}

/// The value compared with `=` on the left of a Query's key condition.
fn query_partition(request: &Value) -> Option<String> {
    static LEFT_EQUALS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*\(?\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)").expect("a regex")
    });
    let condition = request["KeyConditionExpression"].as_str()?;
    let placeholder = LEFT_EQUALS.captures(condition)?.get(2)?.as_str();
    let value = request["ExpressionAttributeValues"][placeholder]["S"].as_str()?;
    Some(value.to_string())
}

/// The inline policy statements of a function (its `Properties.Policies`): those on
/// DynamoDB, and those on other services.
fn statements(
    policies: &Value,
    table: &str,
    parameters: &BTreeMap<String, String>,
) -> Result<(Vec<Statement>, Vec<ServiceStatement>), String> {
    let policies = policies
        .as_array()
        .ok_or("every function lists its policies inline")?;
    let mut out = Vec::new();
    let mut others = Vec::new();
    for policy in policies {
        let statements = policy["Statement"]
            .as_array()
            .ok_or_else(|| format!("inline policy statements, no SAM policy template: {policy}"))?;
        for s in statements {
            if s["Effect"] != "Allow" {
                return Err(format!("only Allow statements are modelled: {s}"));
            }
            let actions = strings(&s["Action"], "an action")?;
            // Other services' rights (the notify function's SES and SQS).
            let dynamodb = |a: &String| a.to_lowercase().starts_with("dynamodb:");
            if !actions.iter().any(dynamodb) {
                if s.get("Condition").is_some() {
                    return Err(format!(
                        "conditions on other services are not modelled: {s}"
                    ));
                }
                let resources = one_or_many(&s["Resource"])
                    .into_iter()
                    .map(|r| service_resource(r, parameters))
                    .collect::<Result<_, _>>()?;
                others.push(ServiceStatement { actions, resources });
                continue;
            }
            if !actions.iter().all(dynamodb) {
                return Err(format!(
                    "a statement mixes DynamoDB with other services: {s}"
                ));
            }
            let targets = one_or_many(&s["Resource"])
                .into_iter()
                .map(|r| target(r, table))
                .collect::<Result<_, _>>()?;
            let leading_keys = s.get("Condition").map(leading_keys).transpose()?;
            out.push(Statement {
                actions,
                targets,
                leading_keys,
            });
        }
    }
    Ok((out, others))
}

/// `!GetAtt Table.Arn` or `!Sub "${Table.Arn}/index/NAME"`.
fn target(resource: &Value, table: &str) -> Result<Target, String> {
    if resource["Fn::GetAtt"] == json!([table, "Arn"]) {
        return Ok(Target::Table);
    }
    if let Some(sub) = resource["Fn::Sub"].as_str()
        && let Some(index) = sub.strip_prefix(&format!("${{{table}.Arn}}/index/"))
    {
        if index.contains(['*', '?']) {
            return Err(format!("name the index, no wildcard: {sub}"));
        }
        return Ok(Target::Index(index.to_string()));
    }
    Err(format!(
        "a DynamoDB statement names the table or one of its indexes, not {resource}"
    ))
}

/// The key patterns of the one condition modelled: `ForAllValues:StringLike` on
/// `dynamodb:LeadingKeys`.
fn leading_keys(condition: &Value) -> Result<Vec<String>, String> {
    let unsupported =
        || format!("only ForAllValues:StringLike on dynamodb:LeadingKeys is modelled: {condition}");
    let operators = condition.as_object().ok_or_else(unsupported)?;
    let keys = operators
        .get("ForAllValues:StringLike")
        .and_then(Value::as_object)
        .filter(|_| operators.len() == 1)
        .ok_or_else(unsupported)?;
    let patterns = keys
        .get("dynamodb:LeadingKeys")
        .filter(|_| keys.len() == 1)
        .ok_or_else(unsupported)?;
    strings(patterns, "a key pattern")
}

/// A string or a list of strings (`what` each is, for the error).
fn strings(v: &Value, what: &str) -> Result<Vec<String>, String> {
    one_or_many(v)
        .into_iter()
        .map(|s| {
            s.as_str()
                .map(str::to_string)
                .ok_or(format!("{s} is not {what}"))
        })
        .collect()
}

fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}
