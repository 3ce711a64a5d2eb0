//! `template.yaml` (AWS SAM) against the code: the table it declares is the table
//! `loket create-table` makes, every function's IAM rights are ones the store uses
//! (and never `Scan`), the public functions cannot do what only staff may, and the
//! staff routes sit behind the JWT authorizer.
//!
//! The template is read with CloudFormation's short-form tags (`!Ref`, `!GetAtt`,
//! `!Sub`) turned into their long form (`Ref`, `Fn::GetAtt`, `Fn::Sub`)
//! (`common/cfn_yaml.rs`), and the IAM statements with the model the Lambda smoke
//! test's proxy (`examples/iam_proxy.rs`) enforces them with (`common/iam.rs`).

#[path = "common/cfn_yaml.rs"]
mod cfn_yaml;
#[path = "common/iam.rs"]
mod iam;

use std::collections::BTreeSet;
use std::path::Path;

use iam::{Policies, Statement, Target, action_like, allows, string_like};
use loket::domain::respect_week::RegistrationStatus;
use loket::store::dynamo::table_definition;
use loket::store::{self as records, Collection};
use serde_json::{Map, Value, json};

/// The template as JSON, short-form tags in long form.
fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml");
    cfn_yaml::read(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Every function's IAM statements, as the Lambda smoke test's proxy enforces them.
fn policies(t: &Value) -> Policies {
    Policies::of(t).unwrap_or_else(|e| panic!("template.yaml's IAM statements: {e}"))
}

fn resources(t: &Value) -> &Map<String, Value> {
    t["Resources"].as_object().expect("Resources")
}

fn resources_of_type<'a>(t: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resources(t)
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(name, r)| (name.as_str(), r))
        .collect()
}

fn the_table(t: &Value) -> &Value {
    let tables = resources_of_type(t, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1, "one table holds everything");
    &tables[0].1["Properties"]
}

fn key_schema(schema: &Value) -> Vec<(String, String)> {
    schema
        .as_array()
        .expect("KeySchema is a list")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_string(),
                k["KeyType"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(partition: &str, sort: &str) -> Vec<(String, String)> {
    vec![
        (partition.into(), "HASH".into()),
        (sort.into(), "RANGE".into()),
    ]
}

#[test]
fn the_templates_table_has_the_keys_indexes_and_ttl_that_create_table_makes() {
    let t = template();
    let table = the_table(&t);
    let def = table_definition();

    assert_eq!(table["BillingMode"], def.billing_mode, "on-demand capacity");
    assert_eq!(
        table["StreamSpecification"]["StreamViewType"], def.stream_view_type,
        "the stream the notify function reads"
    );
    assert_eq!(
        key_schema(&table["KeySchema"]),
        pair(def.partition_key, def.sort_key),
        "table key schema"
    );

    let mut wanted_attributes: BTreeSet<(String, String)> = BTreeSet::new();
    wanted_attributes.insert((def.partition_key.into(), "S".into()));
    wanted_attributes.insert((def.sort_key.into(), "S".into()));
    for index in def.indexes {
        wanted_attributes.insert((index.partition_key.into(), "S".into()));
        wanted_attributes.insert((index.sort_key.into(), "S".into()));
    }
    let declared: Vec<(String, String)> = table["AttributeDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().unwrap().to_string(),
                a["AttributeType"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        declared.len(),
        wanted_attributes.len(),
        "no attribute declared twice or extra: {declared:?}"
    );
    assert_eq!(
        declared.into_iter().collect::<BTreeSet<_>>(),
        wanted_attributes,
        "attribute definitions"
    );

    let indexes = table["GlobalSecondaryIndexes"].as_array().expect("GSIs");
    assert_eq!(
        indexes.len(),
        def.indexes.len(),
        "as many GSIs as create-table makes"
    );
    for wanted in def.indexes {
        let declared = indexes
            .iter()
            .find(|i| i["IndexName"] == wanted.name)
            .unwrap_or_else(|| panic!("GSI {} is missing", wanted.name));
        assert_eq!(
            key_schema(&declared["KeySchema"]),
            pair(wanted.partition_key, wanted.sort_key),
            "key schema of {}",
            wanted.name
        );
        assert_eq!(
            declared["Projection"],
            json!({"ProjectionType": def.projection}),
            "projection of {}",
            wanted.name
        );
        assert!(
            declared.get("ProvisionedThroughput").is_none(),
            "{}: on-demand tables take no provisioned throughput",
            wanted.name
        );
    }
    assert!(
        table.get("LocalSecondaryIndexes").is_none(),
        "create-table makes no LSI"
    );

    assert_eq!(
        table["TimeToLiveSpecification"],
        json!({"AttributeName": def.ttl_attribute, "Enabled": true}),
        "TTL on the idempotency records' expiry"
    );
}

#[test]
fn the_table_is_protected_recoverable_encrypted_and_kept_when_the_stack_goes() {
    let t = template();
    let table = the_table(&t);
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["DeletionProtectionEnabled"], true);
    assert_eq!(table["SSESpecification"]["SSEEnabled"], true);
    let (_, resource) = resources_of_type(&t, "AWS::DynamoDB::Table")[0];
    assert_eq!(resource["DeletionPolicy"], "Retain");
    assert_eq!(resource["UpdateReplacePolicy"], "Retain");
}

// ----------------------------------------------------------------------- IAM --

fn functions(t: &Value) -> Vec<(&str, &Value)> {
    resources_of_type(t, "AWS::Serverless::Function")
}

fn function<'a>(t: &'a Value, name: &str) -> &'a Value {
    resources(t)
        .get(name)
        .unwrap_or_else(|| panic!("function {name} is in the template"))
}

/// The statements of function `name`, taken out of `policies`.
fn rights(policies: &mut Policies, name: &str) -> Vec<Statement> {
    policies
        .functions
        .remove(name)
        .unwrap_or_else(|| panic!("function {name} is in the template"))
}

/// The DynamoDB item and query actions the store sends (src/store/dynamo.rs). IAM
/// has no `TransactWriteItems` action: each part of a transaction is authorised as
/// the single-item action it is.
const STORE_ACTIONS: [&str; 6] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Query",
];

#[test]
fn no_function_may_scan_and_every_action_is_one_the_store_uses() {
    let all = policies(&template()).functions;
    assert!(
        all.len() >= 4,
        "Permits, RespectWeek, Admin and Purge at least"
    );
    for (name, statements) in all {
        for s in statements {
            for action in &s.actions {
                assert!(
                    !action_like(action, "dynamodb:Scan")
                        && !action.to_lowercase().contains("scan"),
                    "{name} may not Scan: {action}"
                );
                assert!(
                    STORE_ACTIONS.contains(&action.as_str()),
                    "{name}: {action} is not an action the store sends (no wildcards either)"
                );
            }
        }
    }
}

fn doc(collection: Collection) -> String {
    format!("{}#some-id", collection.as_str())
}

/// One IAM expectation: who, their statements, action, where, partition key, allowed,
/// and why.
type Case<'a> = (
    &'a str,
    &'a [Statement],
    &'a str,
    Target,
    &'a String,
    bool,
    &'a str,
);

/// The programme's index: the one index the public RespectWeek function may query.
const PROGRAMME_INDEX: &str = "gsi2";

#[test]
fn the_public_functions_and_the_purge_cannot_list_decide_on_or_read_what_only_staff_may() {
    let mut policies = policies(&template());
    let permits = rights(&mut policies, "Permits");
    let respect = rights(&mut policies, "RespectWeek");
    let purge = rights(&mut policies, "Purge");
    let admin = rights(&mut policies, "Admin");
    let tbl = Target::Table;
    let gsi = |name: &str| Target::Index(name.to_string());
    // Partition keys as the code makes them (layout: src/store/mod.rs).
    let permit = doc(Collection::Permit);
    let registration = doc(Collection::Registration);
    let audit = doc(Collection::Audit);
    let coverage = format!("agg#{}", records::permits::coverage_group(2017));
    let summary = format!("agg#{}", records::registrations::summary_group(2017));
    let wvr_seq = format!("seq#{}", records::registrations::sequence_name(2017));
    let wvr_idem = format!("idem#{}#key-1", loket::app::respect_week::REGISTER_SCOPE);
    let claim = "uniq#wvr-dup#2017#2017-11-08#0a1b2c".to_string();
    let published = records::registrations::status_partition(2017, RegistrationStatus::Published);
    let edition = records::registrations::edition_partition(2017);
    let all_permits = records::permits::ALL_PERMITS.to_string();
    let permit_idem = "idem#POST /permits#key-1".to_string();
    let permit_seq = "seq#EV-2017".to_string();
    let submitted = records::permits::status_partition("submitted");

    // (who, statements, action, where, partition key, allowed, why)
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        // What the organisers' function needs …
        ("Permits", &permits, "dynamodb:GetItem", tbl.clone(), &permit, true, "reads its application"),
        ("Permits", &permits, "dynamodb:PutItem", tbl.clone(), &permit, true, "submits, withdraws, answers"),
        ("Permits", &permits, "dynamodb:GetItem", tbl.clone(), &permit_idem, true, "replays a repeated POST"),
        ("Permits", &permits, "dynamodb:PutItem", tbl.clone(), &permit_idem, true, "records a first POST"),
        ("Permits", &permits, "dynamodb:GetItem", tbl.clone(), &permit_seq, true, "reads the last reference number"),
        ("Permits", &permits, "dynamodb:UpdateItem", tbl.clone(), &permit_seq, true, "claims the next one with the application"),
        ("Permits", &permits, "dynamodb:PutItem", tbl.clone(), &permit_seq, false, "cannot overwrite the register"),
        ("Permits", &permits, "dynamodb:GetItem", tbl.clone(), &wvr_seq, false, "has no business with registrations' numbers"),
        ("Permits", &permits, "dynamodb:UpdateItem", tbl.clone(), &coverage, true, "moves the coverage aggregates"),
        // … and what it must not do.
        ("Permits", &permits, "dynamodb:Query", gsi("gsi1"), &all_permits, false, "cannot list applications"),
        ("Permits", &permits, "dynamodb:Query", gsi("gsi2"), &submitted, false, "cannot list applications by status"),
        ("Permits", &permits, "dynamodb:Query", tbl.clone(), &coverage, false, "cannot read the coverage report"),
        ("Permits", &permits, "dynamodb:GetItem", tbl.clone(), &registration, false, "cannot read registrations (contact data)"),
        ("Permits", &permits, "dynamodb:PutItem", tbl.clone(), &registration, false, "cannot change registrations"),
        ("Permits", &permits, "dynamodb:PutItem", tbl.clone(), &audit, false, "cannot write the staff audit trail"),
        ("Permits", &permits, "dynamodb:DeleteItem", tbl.clone(), &permit, false, "deletes nothing"),
        ("Permits", &permits, "dynamodb:UpdateItem", tbl.clone(), &permit, false, "changes documents only by conditional put"),
        ("Permits", &permits, "dynamodb:UpdateItem", tbl.clone(), &summary, false, "cannot move the Week van Respect summary"),
        // What the Week van Respect function needs …
        ("RespectWeek", &respect, "dynamodb:GetItem", tbl.clone(), &registration, true, "reads its registration"),
        ("RespectWeek", &respect, "dynamodb:PutItem", tbl.clone(), &registration, true, "registers, cancels"),
        ("RespectWeek", &respect, "dynamodb:GetItem", tbl.clone(), &wvr_idem, true, "replays a repeated POST"),
        ("RespectWeek", &respect, "dynamodb:PutItem", tbl.clone(), &wvr_idem, true, "records a first POST"),
        ("RespectWeek", &respect, "dynamodb:PutItem", tbl.clone(), &claim, true, "claims organisation+title+date"),
        ("RespectWeek", &respect, "dynamodb:DeleteItem", tbl.clone(), &claim, true, "releases the claim on cancel"),
        ("RespectWeek", &respect, "dynamodb:GetItem", tbl.clone(), &wvr_seq, true, "reads the last reference number"),
        ("RespectWeek", &respect, "dynamodb:UpdateItem", tbl.clone(), &wvr_seq, true, "claims the next one with the registration"),
        ("RespectWeek", &respect, "dynamodb:UpdateItem", tbl.clone(), &summary, true, "moves the summary counts"),
        ("RespectWeek", &respect, "dynamodb:Query", gsi(PROGRAMME_INDEX), &published, true, "lists the public programme"),
        // … and what it must not do.
        ("RespectWeek", &respect, "dynamodb:Query", gsi("gsi1"), &edition, false, "cannot list every registration"),
        ("RespectWeek", &respect, "dynamodb:Query", tbl.clone(), &summary, false, "cannot read the staff summary"),
        ("RespectWeek", &respect, "dynamodb:GetItem", tbl.clone(), &permit, false, "cannot read permits (contact data)"),
        ("RespectWeek", &respect, "dynamodb:PutItem", tbl.clone(), &permit, false, "cannot change permits"),
        ("RespectWeek", &respect, "dynamodb:PutItem", tbl.clone(), &audit, false, "cannot write the staff audit trail"),
        ("RespectWeek", &respect, "dynamodb:DeleteItem", tbl.clone(), &registration, false, "deletes no documents"),
        ("RespectWeek", &respect, "dynamodb:UpdateItem", tbl.clone(), &coverage, false, "cannot move the leges coverage"),
        ("RespectWeek", &respect, "dynamodb:UpdateItem", tbl.clone(), &permit_seq, false, "cannot draw permit numbers"),
        // The scheduled purge: finds an edition's registrations, erases contact data.
        ("Purge", &purge, "dynamodb:Query", gsi("gsi1"), &edition, true, "lists an edition's registrations"),
        ("Purge", &purge, "dynamodb:GetItem", tbl.clone(), &registration, true, "rereads after a conflict"),
        ("Purge", &purge, "dynamodb:PutItem", tbl.clone(), &registration, true, "erases the contact data"),
        ("Purge", &purge, "dynamodb:GetItem", tbl.clone(), &permit, false, "has no business with permits"),
        ("Purge", &purge, "dynamodb:PutItem", tbl.clone(), &permit, false, "has no business with permits"),
        ("Purge", &purge, "dynamodb:DeleteItem", tbl.clone(), &registration, false, "erases fields, deletes no documents"),
        ("Purge", &purge, "dynamodb:Query", gsi("gsi2"), &submitted, false, "lists nothing else"),
        ("Purge", &purge, "dynamodb:UpdateItem", tbl.clone(), &summary, false, "an erasure moves no summary count"),
        // Staff can do what the staff routes need.
        ("Admin", &admin, "dynamodb:Query", gsi("gsi1"), &all_permits, true, "lists applications"),
        ("Admin", &admin, "dynamodb:Query", gsi("gsi2"), &submitted, true, "lists by status"),
        ("Admin", &admin, "dynamodb:Query", tbl.clone(), &coverage, true, "reads the coverage report"),
        ("Admin", &admin, "dynamodb:Query", tbl.clone(), &summary, true, "reads the Week van Respect summary"),
        ("Admin", &admin, "dynamodb:PutItem", tbl.clone(), &permit, true, "decides"),
        ("Admin", &admin, "dynamodb:PutItem", tbl.clone(), &registration, true, "publishes or declines"),
        ("Admin", &admin, "dynamodb:PutItem", tbl.clone(), &audit, true, "records exports"),
        ("Admin", &admin, "dynamodb:UpdateItem", tbl.clone(), &coverage, true, "moves coverage on reclassify"),
        ("Admin", &admin, "dynamodb:DeleteItem", tbl.clone(), &claim, true, "releases a declined registration's claim"),
    ];
    let mut failures = Vec::new();
    for (who, statements, action, target, key, expected, why) in &cases {
        if allows(statements, action, target, key) != *expected {
            failures.push(format!(
                "{who} {} {action} on {target:?} key {key:?}: {why}",
                if *expected {
                    "must be allowed"
                } else {
                    "must NOT be allowed"
                }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "IAM rights wrong:\n{}",
        failures.join("\n")
    );

    // Every public item right is limited to partition keys (no whole-table writes).
    for (who, statements) in [
        ("Permits", &permits),
        ("RespectWeek", &respect),
        ("Purge", &purge),
    ] {
        for s in statements.iter() {
            if s.targets.contains(&Target::Table) {
                assert!(
                    s.leading_keys.is_some(),
                    "{who}: a table statement without a dynamodb:LeadingKeys condition: {s:?}"
                );
            }
        }
    }
}

#[test]
fn the_iam_pattern_matcher_follows_string_like() {
    let cases = [
        ("permit#*", "permit#abc", true),
        ("permit#*", "permits", false),
        ("idem#POST /permits#*", "idem#POST /permits#k", true),
        ("idem#POST /permits#*", "idem#POST /permits/quote#k", false),
        ("seq#EV-????", "seq#EV-2017", true),
        ("seq#EV-????", "seq#EV-20170", false),
        ("*", "", true),
    ];
    for (pattern, value, expected) in cases {
        assert_eq!(string_like(pattern, value), expected, "{pattern} ~ {value}");
    }
    // Action names ignore case; key patterns do not.
    assert!(action_like("dynamodb:Get*", "DynamoDB:getitem"));
    assert!(!action_like("dynamodb:Get*", "dynamodb:PutItem"));
    assert!(!string_like("permit#*", "Permit#abc"));
}

/// What the Lambda smoke test's proxy does with each DynamoDB request a function
/// sends: every authorisation the request needs must be allowed, or it is refused.
#[test]
fn a_dynamodb_request_is_refused_unless_every_part_of_it_is_allowed() {
    let policies = policies(&template());
    let key = |pk: &str| json!({"pk": {"S": pk}, "sk": {"S": "doc"}});
    let get = |pk: &str| json!({"TableName": "t", "Key": key(pk)});
    let query = |index: Option<&str>, partition: &str| {
        json!({
            "TableName": "t",
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sk)",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":sk": {"S": "x"}},
        })
    };
    let transaction = |put: &str, update: &str| {
        json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": key(put)}},
            {"Update": {"TableName": "t", "Key": key(update), "UpdateExpression": "ADD n :one"}},
        ]})
    };
    // (who, operation, request, what is refused)
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, Value, Vec<&str>)> = vec![
        ("Permits", "GetItem", get("permit#a"), vec![]),
        ("Permits", "GetItem", get("registration#a"), vec![r#"dynamodb:GetItem on table key "registration#a""#]),
        ("Permits", "TransactWriteItems", transaction("permit#a", "seq#EV-2017"), vec![]),
        ("Permits", "TransactWriteItems", transaction("permit#a", "agg#wvr-summary#2017"),
            vec![r#"dynamodb:UpdateItem on table key "agg#wvr-summary#2017""#]),
        ("Permits", "Query", query(Some("gsi1"), "permits"), vec![r#"dynamodb:Query on index/gsi1 key "permits""#]),
        ("RespectWeek", "Query", query(Some("gsi2"), "wvr#2017#published"), vec![]),
        ("Purge", "Query", query(None, "registration#a"), vec![r#"dynamodb:Query on table key "registration#a""#]),
        ("Admin", "Scan", json!({"TableName": "t"}), vec!["dynamodb:Scan on table without a key"]),
        ("local", "GetItem", get("permit#a"), vec![r#"unknown function "local" (access key id)"#]),
    ];
    for (who, operation, request, refused) in cases {
        assert_eq!(
            policies.refusals(who, operation, &request),
            refused,
            "{who} {operation} {request}"
        );
    }
}

// ------------------------------------------------------------ functions, API --

#[test]
fn each_function_builds_an_existing_binary_with_cargo_lambda() {
    let t = template();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, f) in functions(&t) {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let binary = f["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: Metadata.BuildProperties.Binary"));
        assert!(
            root.join("src/bin").join(format!("{binary}.rs")).is_file(),
            "{name}: src/bin/{binary}.rs does not exist"
        );
        assert_eq!(f["Properties"]["CodeUri"], ".", "{name}: the crate root");
    }
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(
        globals["Environment"]["Variables"]["LOKET_STORE"],
        "dynamodb"
    );
}

/// Every HttpApi route: (function, path, method, authorizer).
fn routes(t: &Value) -> Vec<(String, String, String, Option<String>)> {
    let mut out = Vec::new();
    for (name, f) in functions(t) {
        let Some(events) = f["Properties"]["Events"].as_object() else {
            continue;
        };
        for event in events.values().filter(|e| e["Type"] == "HttpApi") {
            let p = &event["Properties"];
            out.push((
                name.to_string(),
                p["Path"].as_str().unwrap_or("$default").to_string(),
                p["Method"].as_str().unwrap_or("ANY").to_uppercase(),
                p["Auth"]["Authorizer"].as_str().map(str::to_string),
            ));
        }
    }
    out
}

#[test]
fn staff_routes_go_to_the_admin_function_behind_the_jwt_authorizer_and_only_there() {
    let t = template();
    let all = routes(&t);
    let staff: Vec<_> = all
        .iter()
        .filter(|(_, path, _, _)| path.starts_with("/admin"))
        .collect();
    assert!(!staff.is_empty(), "there are staff routes");
    for (function, path, method, authorizer) in &staff {
        assert_eq!(function, "Admin", "{method} {path}");
        assert_eq!(
            authorizer.as_deref(),
            Some("StaffJwt"),
            "{method} {path} needs the JWT authorizer"
        );
    }
    for (function, path, method, authorizer) in &all {
        if function == "Admin" {
            assert!(
                path.starts_with("/admin/")
                    || path == "/medewerkers"
                    || path.starts_with("/medewerkers/"),
                "Admin serves only staff routes and pages: {method} {path}"
            );
        } else {
            assert_eq!(authorizer, &None, "{function} {method} {path}: public");
        }
    }
    let api = resources_of_type(&t, "AWS::Serverless::HttpApi");
    assert_eq!(api.len(), 1);
    let jwt = &api[0].1["Properties"]["Auth"]["Authorizers"]["StaffJwt"]["JwtConfiguration"];
    assert!(
        jwt["issuer"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .starts_with("https://cognito-idp.")
    );
    let admin_env = &function(&t, "Admin")["Properties"]["Environment"]["Variables"];
    assert_eq!(
        admin_env["LOKET_JWT_ISSUER"], jwt["issuer"],
        "the service checks the issuer the authorizer checks"
    );
    assert_eq!(
        json!([admin_env["LOKET_JWT_AUDIENCE"]]),
        jwt["audience"],
        "the service checks the audience the authorizer checks"
    );
}

/// The staff pages: on the `admin` function, without the JWT authorizer (a browser
/// sends a cookie, not a bearer token; the function checks it as it checks a token),
/// and with the hosted sign-in configured from the same client and addresses that
/// Cognito has.
#[test]
fn the_staff_pages_go_to_the_admin_function_with_cognitos_hosted_sign_in() {
    let t = template();
    let all = routes(&t);
    for (path, method) in [
        ("/medewerkers", "GET"),
        ("/medewerkers/{proxy+}", "GET"),
        ("/medewerkers/{proxy+}", "POST"),
    ] {
        assert!(
            all.iter().any(|(f, p, m, authorizer)| f == "Admin"
                && p == path
                && m == method
                && authorizer.is_none()),
            "{method} {path} → Admin; routes: {all:?}"
        );
    }
    assert!(
        all.iter()
            .all(|(f, p, _, _)| f == "Admin" || !p.starts_with("/medewerkers")),
        "no other function serves staff pages"
    );

    let client = &resources(&t)["StaffClient"]["Properties"];
    assert_eq!(client["AllowedOAuthFlows"], json!(["code"]));
    assert_eq!(
        client["GenerateSecret"],
        json!(false),
        "a public client: PKCE"
    );
    assert_eq!(client["AllowedOAuthFlowsUserPoolClient"], json!(true));
    let env = &function(&t, "Admin")["Properties"]["Environment"]["Variables"];
    assert_eq!(
        json!([env["LOKET_STAFF_CALLBACK_URL"]]),
        client["CallbackURLs"],
        "the service sends Cognito the callback Cognito allows"
    );
    assert_eq!(
        json!([env["LOKET_STAFF_SIGNED_OUT_URL"]]),
        client["LogoutURLs"],
        "and the logout address"
    );
    assert_eq!(
        env["LOKET_STAFF_CALLBACK_URL"],
        json!({"Ref": "StaffCallbackUrl"})
    );
    let domain = resources_of_type(&t, "AWS::Cognito::UserPoolDomain");
    assert_eq!(domain.len(), 1);
    let signin = env["LOKET_STAFF_SIGNIN_URL"]["Fn::Sub"].as_str().unwrap();
    assert_eq!(
        signin,
        format!(
            "https://${{{}}}.auth.${{AWS::Region}}.amazoncognito.com",
            domain[0].0
        )
    );
    // The parameters' patterns accept what the deploy configuration passes.
    let samconfig = std::fs::read_to_string("infra/samconfig.toml").unwrap();
    for (parameter, value) in [
        (
            "StaffCallbackUrl",
            "https://loket.dronten.nl/medewerkers/inloggen/terug",
        ),
        (
            "StaffSignedOutUrl",
            "https://loket.dronten.nl/medewerkers/uitgelogd",
        ),
        ("StaffSignInDomainPrefix", "loket-dronten"),
    ] {
        assert!(
            samconfig.contains(&format!("{parameter}=\\\"{value}\\\"")),
            "{parameter}"
        );
        let pattern = t["Parameters"][parameter]["AllowedPattern"]
            .as_str()
            .unwrap();
        assert!(
            regex::Regex::new(pattern).unwrap().is_match(value),
            "{parameter}: {value} against {pattern}"
        );
    }
}

/// The notify function: woken by new outbox items on the stream (keys only) and by
/// a schedule; it may read and record outbox messages and nothing else in the table,
/// send as the configured SES identity in the configured configuration set only, and
/// hand failed batches to its own dead-letter queue.
#[test]
fn the_notify_function_sends_the_outbox_through_ses_and_may_do_no_more() {
    let t = template();
    let notify = function(&t, "Notify");
    let props = &notify["Properties"];
    assert_eq!(notify["Metadata"]["BuildProperties"]["Binary"], "notify");
    let stream = &props["Events"]["NewMessages"]["Properties"];
    assert_eq!(
        stream["Stream"],
        json!({"Fn::GetAtt": ["Table", "StreamArn"]})
    );
    let pattern: Value = serde_json::from_str(
        stream["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        pattern,
        json!({"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "outbox#"}]}}}})
    );
    assert_eq!(
        stream["DestinationConfig"]["OnFailure"]["Destination"],
        json!({"Fn::GetAtt": ["NotifyDeadLetters", "Arn"]})
    );
    assert_eq!(props["Events"]["Retries"]["Type"], "ScheduleV2");

    let mut policies = policies(&t);
    let rights = rights(&mut policies, "Notify");
    let outbox = "outbox#m1";
    let tbl = Target::Table;
    for (action, target, key, allowed) in [
        ("dynamodb:GetItem", tbl.clone(), outbox, true),
        ("dynamodb:PutItem", tbl.clone(), outbox, true),
        (
            "dynamodb:Query",
            Target::Index("gsi1".into()),
            "outbox#pending",
            true,
        ),
        ("dynamodb:GetItem", tbl.clone(), "permit#p1", false),
        ("dynamodb:PutItem", tbl.clone(), "registration#r1", false),
        ("dynamodb:DeleteItem", tbl.clone(), outbox, false),
        ("dynamodb:Scan", tbl.clone(), "", false),
    ] {
        assert_eq!(
            iam::allows(&rights, action, &target, key),
            allowed,
            "Notify {action} {key}"
        );
    }
    let others: Vec<&Value> = props["Policies"][0]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            !s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a.as_str().unwrap().starts_with("dynamodb:"))
        })
        .collect();
    let ses = others
        .iter()
        .find(|s| s["Sid"] == "SendAsTheMunicipality")
        .unwrap();
    assert_eq!(ses["Action"], json!(["ses:SendEmail", "ses:SendRawEmail"]));
    let resources = ses["Resource"].to_string();
    assert!(
        resources.contains("identity/${MailIdentity}")
            && resources.contains("configuration-set/${SesConfigurationSet}")
            && !resources.contains('*'),
        "{resources}"
    );
    let sqs = others.iter().find(|s| s["Sid"] == "DeadLetters").unwrap();
    assert_eq!(sqs["Action"], json!(["sqs:SendMessage"]));
    assert_eq!(
        sqs["Resource"],
        json!({"Fn::GetAtt": ["NotifyDeadLetters", "Arn"]})
    );
    assert_eq!(others.len(), 2, "no other rights");
    // With the parameters filled in, as the smoke test's proxy enforces them.
    let parameters = [
        ("MailIdentity", "dronten.nl"),
        ("SesConfigurationSet", "loket"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    let policies = Policies::with_parameters(&t, &parameters).unwrap();
    let arn = |kind: &str, name: &str| {
        format!("arn:aws:ses:{}:{}:{kind}/{name}", iam::REGION, iam::ACCOUNT)
    };
    let send = |function: &str, resource: String| {
        policies
            .service_refusals(function, "ses:SendEmail", &[resource])
            .is_empty()
    };
    assert!(send("Notify", arn("identity", "dronten.nl")));
    assert!(send("Notify", arn("configuration-set", "loket")));
    assert!(
        !send("Notify", arn("identity", "example.com")),
        "another sender"
    );
    assert!(!send("Notify", arn("configuration-set", "other")));
    for name in ["Permits", "RespectWeek", "Admin", "Purge"] {
        assert!(
            !send(name, arn("identity", "dronten.nl")),
            "{name} cannot send e-mail"
        );
        let text = function(&t, name)["Properties"]["Policies"].to_string();
        assert!(!text.contains("ses:"), "{name} cannot send e-mail");
    }
}

#[test]
fn the_public_routes_reach_their_own_function() {
    let t = template();
    let all = routes(&t);
    let wanted = [
        ("Permits", "/permits", "POST"),
        ("Permits", "/permits/{proxy+}", "GET"),
        ("Permits", "/permits/{proxy+}", "POST"),
        ("Permits", "/health", "GET"),
        ("RespectWeek", "/respect-week/{proxy+}", "GET"),
        ("RespectWeek", "/respect-week/{proxy+}", "POST"),
        // The pages.
        ("Permits", "/", "GET"),
        ("Permits", "/evenementen/{proxy+}", "GET"),
        ("Permits", "/evenementen/{proxy+}", "POST"),
        ("Permits", "/static/{proxy+}", "GET"),
        ("RespectWeek", "/week-van-respect/{proxy+}", "GET"),
        ("RespectWeek", "/week-van-respect/{proxy+}", "POST"),
    ];
    for (function, path, method) in wanted {
        assert!(
            all.iter()
                .any(|(f, p, m, _)| f == function && p == path && m == method),
            "{method} {path} → {function} is missing; routes: {all:?}"
        );
    }
}

#[test]
fn the_template_has_the_outputs_deployers_need() {
    let t = template();
    for output in ["ApiUrl", "TableName", "UserPoolId"] {
        assert!(t["Outputs"][output]["Value"].is_object(), "output {output}");
    }
    let groups = resources_of_type(&t, "AWS::Cognito::UserPoolGroup");
    assert!(
        groups
            .iter()
            .any(|(_, g)| g["Properties"]["GroupName"] == loket::api::auth::STAFF_GROUP),
        "the user pool has the group the service checks"
    );
}
