//! Stored data outlives the code that wrote it. `tests/fixtures/stored/` holds a
//! permit application and a Week van Respect registration of every stored schema
//! version, as each store wrote them: the embedded store's document bytes and the
//! DynamoDB item. Each test here loads them raw into its store, under the keys the
//! store uses, and reads them back through the repositories.
//!
//! The DynamoDB half runs against DynamoDB Local (skipped with a notice when
//! `AWS_ENDPOINT_URL_DYNAMODB` is unset, failing under `LOKET_TEST_DYNAMODB=required`,
//! see `tests/common/dynamo.rs`). `write_current_fixtures` (ignored) writes the
//! current version's fixtures through both stores: tests/fixtures/stored/README.md.

#[path = "common/dynamo.rs"]
mod common_dynamo;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use loket::domain::formats::{Email, KvkNumber, Phone, Reference, Register};
use loket::domain::leges::Tariffs;
use loket::domain::permit::{
    self, Actor, Application, Event, Kern, Organiser, PermitAction, PermitStatus,
};
use loket::domain::respect_week::{
    Activity, Contact, Editions, NewRegistration, Organisation, OrganisationType, Registration,
    RegistrationAction, RegistrationStatus,
};
use loket::domain::risk::Alcohol;
use loket::store::dynamo::DynamoStore;
use loket::store::embedded::EmbeddedStore;
use loket::store::{Store, schema};
use redb::{Database, TableDefinition};
use serde_json::Value;

const PERMIT_ID: &str = "fixture-permit";
const REGISTRATION_ID: &str = "fixture-registration";

/// The embedded store's tables, as `src/store/embedded/mod.rs` declares them.
const DOCS: TableDefinition<&str, &[u8]> = TableDefinition::new("docs");
const INDEX: TableDefinition<&str, &str> = TableDefinition::new("index");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stored")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Permit,
    Registration,
}

impl Aggregate {
    const ALL: [Aggregate; 2] = [Aggregate::Permit, Aggregate::Registration];

    fn name(self) -> &'static str {
        match self {
            Aggregate::Permit => "permit",
            Aggregate::Registration => "registration",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Aggregate::Permit => PERMIT_ID,
            Aggregate::Registration => REGISTRATION_ID,
        }
    }

    /// The schema version its repository writes.
    fn current(self) -> u32 {
        match self {
            Aggregate::Permit => schema::permit::SCHEMA.current(),
            Aggregate::Registration => schema::registration::SCHEMA.current(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Embedded,
    Dynamo,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Embedded => "embedded",
            Engine::Dynamo => "dynamodb",
        }
    }
}

fn fixture_path(aggregate: Aggregate, version: u32, engine: Engine) -> PathBuf {
    fixtures().join(format!(
        "{}.v{version}.{}.json",
        aggregate.name(),
        engine.name()
    ))
}

fn read_fixture(aggregate: Aggregate, version: u32, engine: Engine) -> Vec<u8> {
    let path = fixture_path(aggregate, version, engine);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; every stored version needs its fixtures (README there)",
            path.display()
        )
    })
}

// ---------------------------------------------------------------------------------
// The samples: what the fixtures hold, built and changed as loket would.

fn at(text: &str) -> DateTime<Utc> {
    DateTime::<FixedOffset>::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn staff(id: &str) -> Actor {
    Actor::Staff(id.into())
}

/// The Zomerfestival, submitted, reviewed, approved, and its link sent again: every
/// state it was stored in, oldest first.
fn application_states() -> Vec<Application> {
    let tariffs = Tariffs::built_in();
    let event = Event {
        name: "Zomerfestival".into(),
        description: "Tweedaags muziekfestival".into(),
        kern: Kern::new("biddinghuizen"),
        address: "Spijkweg 30".into(),
        starts_at: at("2017-08-18T12:00:00+02:00"),
        ends_at: at("2017-08-19T01:00:00+02:00"),
        expected_visitors: 4000,
        amplified_music: true,
        max_sound_dba: Some(85),
        road_closure: true,
        alcohol: Alcohol::Sale,
        largest_structure_m2: 400,
        on_water: false,
        fireworks: false,
        commercial: true,
        non_profit: false,
    };
    let organiser = Organiser {
        name: "A. de Vries".into(),
        organisation: Some("Stichting Zomerfest".into()),
        kvk_number: Some(KvkNumber::parse("12345678").unwrap()),
        email: Email::parse("info@zomerfest.nl").unwrap(),
        phone: Phone::parse("0321 123456").unwrap(),
    };
    let submitted_at = at("2017-03-01T10:00:00+01:00");
    let mut quote = permit::quote(&event, submitted_at, &tariffs).unwrap();
    // Stored in 2017 with the wording of then: a line's description is kept as it
    // was written, never rewritten (new applications say "EUR 50,00", #21).
    for line in &mut quote.leges.lines {
        line.description = line.description.replace("EUR 50,00", "EUR 50.00");
    }
    let submitted = Application::submit(
        PERMIT_ID.into(),
        Reference::new(Register::Permits, 2017, 1),
        "a".repeat(64),
        organiser,
        event,
        quote,
        submitted_at,
    );
    let in_review = submitted
        .apply(
            &PermitAction::StartReview,
            staff("medewerker-1"),
            at("2017-03-02T09:00:00+01:00"),
            &tariffs,
        )
        .unwrap();
    let approved = in_review
        .apply(
            &PermitAction::Approve {
                reason: Some("Akkoord, met de voorwaarden uit de brief.".into()),
            },
            staff("medewerker-1"),
            at("2017-03-10T14:30:00+01:00"),
            &tariffs,
        )
        .unwrap();
    let new_link = approved.with_new_token("b".repeat(64), at("2017-04-01T12:00:00+02:00"));
    vec![submitted, in_review, approved, new_link]
}

/// A sport club's open training in the 2017 edition, registered and published.
fn registration_states() -> Vec<Registration> {
    let editions = Editions::built_in();
    let edition = editions.get(2017).unwrap();
    let form = NewRegistration {
        organisation: Organisation {
            name: "VV Swifterbant".into(),
            kind: OrganisationType::SportClub,
        },
        contact: Contact {
            name: "P. Jansen".into(),
            email: Email::parse("p.jansen@vvswifterbant.nl").unwrap(),
            phone: Phone::parse("0321 111222").unwrap(),
        },
        activity: Activity {
            title: "Open training: samen sporten".into(),
            description: "Een training voor iedereen, met een gesprek over respect.".into(),
            date: NaiveDate::from_ymd_opt(2017, 11, 8).unwrap(),
            starts_at: NaiveTime::from_hms_opt(18, 30, 0).unwrap(),
            ends_at: NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
            location: "Sportpark De Vaart".into(),
            kern: Kern::new("swifterbant"),
            expected_participants: 40,
            age_min: 8,
            age_max: 14,
            open_to_public: true,
            guest_lesson_wanted: false,
        },
    };
    let registered = Registration::register(
        REGISTRATION_ID.into(),
        Reference::new(Register::RespectWeek, 2017, 1),
        "c".repeat(64),
        form,
        edition,
        at("2017-10-01T10:00:00+02:00"),
    )
    .unwrap();
    let published = registered
        .apply(
            &RegistrationAction::Publish { reason: None },
            staff("medewerker-2"),
            edition,
            at("2017-10-03T11:00:00+02:00"),
        )
        .unwrap();
    vec![registered, published]
}

/// Writes every state of both samples through the repositories, as loket does.
async fn write_samples(store: &Store) {
    let states = application_states();
    store
        .commit(store.permits().create(&states[0]).unwrap())
        .await
        .unwrap();
    for pair in states.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        if after.link_sent_at != before.link_sent_at {
            store
                .permits()
                .renew_token(before, after, &[])
                .await
                .unwrap();
        } else {
            store
                .permits()
                .transition(before, after, &[])
                .await
                .unwrap();
        }
    }
    let states = registration_states();
    store
        .commit(store.registrations().create(&states[0]).unwrap())
        .await
        .unwrap();
    for pair in states.windows(2) {
        store
            .registrations()
            .transition(&pair[0], &pair[1], &[])
            .await
            .unwrap();
    }
}

// ---------------------------------------------------------------------------------
// What every version must read back as.

fn assert_application(app: &Application, fixture: &str) {
    let expected = application_states().pop().unwrap();
    assert_eq!(app.id, PERMIT_ID, "{fixture}");
    assert_eq!(app.reference.as_str(), "EV-2017-0001", "{fixture}");
    assert_eq!(app.status, PermitStatus::Approved, "{fixture}");
    assert_eq!(app.version, 4, "{fixture}");
    assert_eq!(app.token_hash, "b".repeat(64), "{fixture}");
    assert_eq!(app.organiser.name, "A. de Vries", "{fixture}");
    assert_eq!(
        app.organiser.organisation.as_deref(),
        Some("Stichting Zomerfest"),
        "{fixture}"
    );
    assert_eq!(
        app.organiser.email.as_str(),
        "info@zomerfest.nl",
        "{fixture}"
    );
    assert_eq!(app.event.name, "Zomerfestival", "{fixture}");
    assert_eq!(app.event.kern, Kern::new("biddinghuizen"), "{fixture}");
    assert_eq!(
        app.event.starts_at,
        at("2017-08-18T12:00:00+02:00"),
        "{fixture}"
    );
    assert_eq!(app.leges.tariff_year, 2017, "{fixture}");
    assert_eq!(app.leges.total_cents, 146_300, "{fixture}");
    assert_eq!(app.leges.refunded_cents, 0, "{fixture}");
    assert_eq!(
        app.submitted_at,
        at("2017-03-01T10:00:00+01:00"),
        "{fixture}"
    );
    assert_eq!(
        app.link_sent_at,
        Some(at("2017-04-01T12:00:00+02:00")),
        "{fixture}"
    );
    let actions: Vec<&str> = app.history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["submit", "start_review", "approve"], "{fixture}");
    assert_eq!(app.history[2].actor, staff("medewerker-1"), "{fixture}");
    // Nothing else was lost or changed on the way.
    assert_eq!(*app, expected, "{fixture}");
}

fn assert_registration(reg: &Registration, fixture: &str) {
    let expected = registration_states().pop().unwrap();
    assert_eq!(reg.id, REGISTRATION_ID, "{fixture}");
    assert_eq!(reg.reference.as_str(), "WVR-2017-0001", "{fixture}");
    assert_eq!(reg.year, 2017, "{fixture}");
    assert_eq!(reg.status, RegistrationStatus::Published, "{fixture}");
    assert_eq!(reg.version, 2, "{fixture}");
    assert_eq!(reg.organisation.name, "VV Swifterbant", "{fixture}");
    assert_eq!(
        reg.organisation.kind,
        OrganisationType::SportClub,
        "{fixture}"
    );
    let contact = reg.contact.as_ref().expect("the contact is still there");
    assert_eq!(
        contact.email.as_str(),
        "p.jansen@vvswifterbant.nl",
        "{fixture}"
    );
    assert_eq!(
        reg.activity.title, "Open training: samen sporten",
        "{fixture}"
    );
    assert_eq!(
        reg.activity.date,
        NaiveDate::from_ymd_opt(2017, 11, 8).unwrap(),
        "{fixture}"
    );
    assert_eq!(reg.activity.kern, Kern::new("swifterbant"), "{fixture}");
    assert_eq!(reg.activity.expected_participants, 40, "{fixture}");
    assert_eq!(reg.erased_at, None, "{fixture}");
    let actions: Vec<&str> = reg.history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["register", "publish"], "{fixture}");
    assert_eq!(*reg, expected, "{fixture}");
}

/// The schema version a stored body declares (none: 0).
fn declared_schema(body: &str) -> u32 {
    let body: Value = serde_json::from_str(body).expect("a JSON body");
    body.get("schema")
        .map(|v| v.as_u64().expect("a numeric schema") as u32)
        .unwrap_or(0)
}

/// Reads one loaded fixture back through the repositories, checks it, and writes a
/// change to it, which must store it at the current version.
async fn read_back(store: &Store, aggregate: Aggregate, fixture: &str) {
    match aggregate {
        Aggregate::Permit => {
            let app = store
                .permits()
                .get(PERMIT_ID)
                .await
                .unwrap_or_else(|e| panic!("{fixture}: {e}"))
                .unwrap_or_else(|| panic!("{fixture}: not found"));
            assert_application(&app, fixture);
            let approved_only = loket::store::permits::PermitSelection {
                status: Some(PermitStatus::Approved),
                year: Some(2017),
                late: Some(app.deadline.late),
            };
            let listed = store.permits().select_all(approved_only).await.unwrap();
            assert_eq!(listed, std::slice::from_ref(&app), "{fixture}: listed");
            let next = app.with_new_token("d".repeat(64), at("2017-05-01T12:00:00+02:00"));
            store.permits().renew_token(&app, &next, &[]).await.unwrap();
            assert_eq!(store.permits().get(PERMIT_ID).await.unwrap(), Some(next));
        }
        Aggregate::Registration => {
            let reg = store
                .registrations()
                .get(REGISTRATION_ID)
                .await
                .unwrap_or_else(|e| panic!("{fixture}: {e}"))
                .unwrap_or_else(|| panic!("{fixture}: not found"));
            assert_registration(&reg, fixture);
            let selection = loket::store::registrations::ProgrammeSelection {
                date: Some(reg.activity.date),
                organisation_type: Some(OrganisationType::SportClub),
                kern: Some(Kern::new("swifterbant")),
            };
            let listed = store
                .registrations()
                .programme_selected(2017, selection)
                .await
                .unwrap();
            assert_eq!(
                listed,
                std::slice::from_ref(&reg),
                "{fixture}: in the programme"
            );
            let next = reg.with_new_token("d".repeat(64), at("2017-10-04T12:00:00+02:00"));
            store
                .registrations()
                .renew_token(&reg, &next, &[])
                .await
                .unwrap();
            assert_eq!(
                store.registrations().get(REGISTRATION_ID).await.unwrap(),
                Some(next)
            );
        }
    }
    let collection = match aggregate {
        Aggregate::Permit => loket::store::Collection::Permit,
        Aggregate::Registration => loket::store::Collection::Registration,
    };
    let rewritten = store
        .engine()
        .get(collection, aggregate.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        declared_schema(&rewritten.body),
        aggregate.current(),
        "{fixture}: a change stores the current version"
    );
}

#[test]
fn there_are_fixtures_of_every_version_and_nothing_else() {
    let mut expected: BTreeSet<String> = ["README.md".to_string()].into();
    for aggregate in Aggregate::ALL {
        for version in 0..=aggregate.current() {
            for engine in [Engine::Embedded, Engine::Dynamo] {
                let path = fixture_path(aggregate, version, engine);
                expected.insert(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let found: BTreeSet<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn both_stores_hold_the_same_body_of_each_version() {
    for aggregate in Aggregate::ALL {
        for version in 0..=aggregate.current() {
            let embedded: Value =
                serde_json::from_slice(&read_fixture(aggregate, version, Engine::Embedded))
                    .unwrap();
            let item: Value =
                serde_json::from_slice(&read_fixture(aggregate, version, Engine::Dynamo)).unwrap();
            let body = embedded["body"].as_str().unwrap();
            assert_eq!(Some(body), item["body"]["S"].as_str());
            assert_eq!(
                declared_schema(body),
                version,
                "{} v{version}: the body declares its version",
                aggregate.name()
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// The embedded store: the document's bytes in `docs` under `{collection}/{id}`, and
// its index entries in `index`, as `src/store/embedded/` writes them.

fn embedded_doc_key(aggregate: Aggregate) -> String {
    format!("{}/{}", aggregate.name(), aggregate.id())
}

/// A data folder whose file holds exactly `bytes` as the document of `aggregate`.
fn embedded_folder_with(aggregate: Aggregate, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::create(dir.path().join("loket.redb")).unwrap();
    let doc: Value = serde_json::from_slice(bytes).unwrap();
    assert_eq!(doc["collection"], aggregate.name());
    assert_eq!(doc["id"], aggregate.id());
    let key = embedded_doc_key(aggregate);
    let tx = db.begin_write().unwrap();
    {
        let mut docs = tx.open_table(DOCS).unwrap();
        docs.insert(key.as_str(), bytes).unwrap();
        let mut index = tx.open_table(INDEX).unwrap();
        for name in ["gsi1", "gsi2"] {
            let entry = &doc[name];
            let row = format!(
                "{name}\u{1}{}\u{1}{}\u{1}{}",
                entry["partition"].as_str().unwrap(),
                entry["sort"].as_str().unwrap(),
                aggregate.id()
            );
            index.insert(row.as_str(), key.as_str()).unwrap();
        }
    }
    tx.commit().unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_reads_every_stored_version() {
    for aggregate in Aggregate::ALL {
        for version in 0..=aggregate.current() {
            let bytes = read_fixture(aggregate, version, Engine::Embedded);
            let dir = embedded_folder_with(aggregate, &bytes);
            let store = Store::new(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
            let fixture = format!("{} v{version} (embedded)", aggregate.name());
            read_back(&store, aggregate, &fixture).await;
        }
    }
}

// ---------------------------------------------------------------------------------
// DynamoDB: the item with its attributes, in DynamoDB's JSON (`{"S": …}`, `{"N": …}`).

fn item_to_json(item: &HashMap<String, AttributeValue>) -> Value {
    let attributes: BTreeMap<&str, Value> = item
        .iter()
        .map(|(name, value)| {
            let value = match value {
                AttributeValue::S(s) => serde_json::json!({ "S": s }),
                AttributeValue::N(n) => serde_json::json!({ "N": n }),
                other => panic!("attribute {name}: no fixture form for {other:?}"),
            };
            (name.as_str(), value)
        })
        .collect();
    serde_json::to_value(attributes).unwrap()
}

fn item_from_json(json: &[u8]) -> HashMap<String, AttributeValue> {
    let attributes: BTreeMap<String, BTreeMap<String, String>> =
        serde_json::from_slice(json).unwrap();
    attributes
        .into_iter()
        .map(|(name, typed)| {
            let value = match typed.iter().next() {
                Some((t, v)) if typed.len() == 1 && t == "S" => AttributeValue::S(v.clone()),
                Some((t, v)) if typed.len() == 1 && t == "N" => AttributeValue::N(v.clone()),
                _ => panic!("attribute {name}: not an S or N value: {typed:?}"),
            };
            (name, value)
        })
        .collect()
}

fn dynamo_pk(aggregate: Aggregate) -> String {
    format!("{}#{}", aggregate.name(), aggregate.id())
}

async fn dynamo_item(client: &Client, table: &str, aggregate: Aggregate) -> Value {
    let out = client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(dynamo_pk(aggregate)))
        .key("sk", AttributeValue::S("doc".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    item_to_json(out.item().expect("the item is stored"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_reads_every_stored_version() {
    let Some(client) = common_dynamo::local_client().await else {
        return;
    };
    let table = common_dynamo::fresh_table(&client).await;
    let store = Store::new(Arc::new(DynamoStore::new(client.clone(), &table)));
    for aggregate in Aggregate::ALL {
        for version in 0..=aggregate.current() {
            let item = item_from_json(&read_fixture(aggregate, version, Engine::Dynamo));
            assert_eq!(
                item.get("pk"),
                Some(&AttributeValue::S(dynamo_pk(aggregate)))
            );
            assert_eq!(item.get("sk"), Some(&AttributeValue::S("doc".into())));
            // Put replaces the item the previous version's check rewrote.
            client
                .put_item()
                .table_name(&table)
                .set_item(Some(item))
                .send()
                .await
                .unwrap();
            let fixture = format!("{} v{version} (DynamoDB)", aggregate.name());
            read_back(&store, aggregate, &fixture).await;
        }
    }
}

// ---------------------------------------------------------------------------------
// The generator.

fn write_fixture(aggregate: Aggregate, engine: Engine, bytes: &[u8]) {
    let path = fixture_path(aggregate, aggregate.current(), engine);
    std::fs::write(&path, bytes).unwrap();
    eprintln!("wrote {}", path.display());
}

/// Writes the samples through both stores and keeps what each stored as the current
/// version's fixtures. Fixtures of older versions are never rewritten: they are what
/// older loket wrote. Needs DynamoDB Local (see the README in the fixtures' folder).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes tests/fixtures/stored/; run on purpose (README there)"]
async fn write_current_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    write_samples(&store).await;
    drop(store); // closes the file (the writer thread ends with the last handle)
    let db = Database::open(dir.path().join("loket.redb")).unwrap();
    let tx = db.begin_read().unwrap();
    let docs = tx.open_table(DOCS).unwrap();
    for aggregate in Aggregate::ALL {
        let bytes = docs
            .get(embedded_doc_key(aggregate).as_str())
            .unwrap()
            .expect("the document is stored");
        write_fixture(aggregate, Engine::Embedded, bytes.value());
    }

    let client = common_dynamo::local_client()
        .await
        .expect("the generator needs DynamoDB Local: set AWS_ENDPOINT_URL_DYNAMODB");
    let table = common_dynamo::fresh_table(&client).await;
    let store = Store::new(Arc::new(DynamoStore::new(client.clone(), &table)));
    write_samples(&store).await;
    for aggregate in Aggregate::ALL {
        let item = dynamo_item(&client, &table, aggregate).await;
        let mut json = serde_json::to_string_pretty(&item).unwrap();
        json.push('\n');
        write_fixture(aggregate, Engine::Dynamo, json.as_bytes());
    }
}
