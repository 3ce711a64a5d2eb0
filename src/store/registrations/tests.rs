//! The storage rules of a registration: keys, claims and aggregates.
use super::*;
use crate::domain::respect_week::{
    Activity, Actor, Contact, NewRegistration, Organisation, RegistrationAction,
};
use crate::domain::risk::tests::at;
use crate::store::embedded::EmbeddedStore;

fn edition() -> Edition {
    Editions::built_in().get(2017).cloned().unwrap()
}

fn registration(id: &str, org: &str, title: &str, date: &str, start: &str) -> Registration {
    let form = NewRegistration {
        organisation: Organisation {
            name: org.into(),
            kind: OrganisationType::SportClub,
        },
        contact: Contact {
            name: "P. Jansen".into(),
            email: crate::domain::formats::Email::parse("p.jansen@vv.nl").unwrap(),
            phone: crate::domain::formats::Phone::parse("0321 111222").unwrap(),
        },
        activity: Activity {
            title: title.into(),
            description: "Training".into(),
            date: date.parse().unwrap(),
            starts_at: chrono::NaiveTime::parse_from_str(start, "%H:%M").unwrap(),
            ends_at: chrono::NaiveTime::parse_from_str("23:00", "%H:%M").unwrap(),
            location: "Sportpark".into(),
            kern: Kern::new("swifterbant"),
            expected_participants: 30,
            age_min: 8,
            age_max: 14,
            open_to_public: true,
            guest_lesson_wanted: false,
        },
    };
    Registration::register(
        id.into(),
        reference(2017, 1),
        "h".into(),
        form,
        &edition(),
        at("2017-10-01T10:00:00+02:00"),
    )
    .unwrap()
}

#[test]
fn keys_sort_the_programme_by_date_then_start() {
    let mut sorts: Vec<String> = [
        ("c", "2017-11-08", "14:00"),
        ("a", "2017-11-07", "19:00"),
        ("b", "2017-11-08", "09:30"),
    ]
    .iter()
    .map(|(id, date, start)| programme_sort(&registration(id, "VV", "T", date, start)))
    .collect();
    sorts.sort();
    assert_eq!(
        sorts,
        [
            "2017-11-07#19:00#a",
            "2017-11-08#09:30#b",
            "2017-11-08#14:00#c"
        ]
    );
    let (from, to) = day_range("2017-11-08".parse().unwrap());
    assert!(sorts.iter().filter(|s| **s >= from && **s <= to).count() == 2);
    assert_eq!(reference(2027, 1).as_str(), "WVR-2027-0001");
}

#[test]
fn duplicate_claims_ignore_case_and_spaces_but_not_separators() {
    let a = registration("1", "VV Swift", "Open training", "2017-11-08", "10:00");
    let claim = |r: &Registration| duplicate_claim(&r.duplicate_key());
    for (case, other, same) in [
        (
            "case and spaces",
            registration("2", "vv  SWIFT", "opentraining", "2017-11-08", "10:00"),
            true,
        ),
        (
            "another start time",
            registration("3", "VV Swift", "Open training", "2017-11-08", "18:00"),
            false,
        ),
        (
            "another day",
            registration("4", "VV Swift", "Open training", "2017-11-09", "10:00"),
            false,
        ),
        (
            "a separator moved between name and title",
            registration("5", "VV Swift#Open", "training", "2017-11-08", "10:00"),
            false,
        ),
    ] {
        assert_eq!(claim(&a) == claim(&other), same, "{case}");
    }
    assert!(claim(&a).starts_with("wvr-dup#2017#2017-11-08#10:00#"));
}

#[test]
fn a_cancellation_gives_back_the_claim_and_moves_the_summary() {
    let reg = registration("1", "VV Swift", "Open training", "2017-11-08", "10:00");
    let created = registration_created(&reg).unwrap();
    assert_eq!(
        created.claim_unique,
        [duplicate_claim(&reg.duplicate_key())]
    );
    assert_eq!(created.aggregates[0].group, "wvr-summary#2017");
    assert_eq!(created.aggregates[0].key, "sport_club");

    let cancelled = reg
        .apply(
            &RegistrationAction::Cancel,
            Actor::Registrant,
            &edition(),
            at("2017-10-02T10:00:00+02:00"),
        )
        .unwrap();
    let change = registration_changed(&reg, &cancelled).unwrap();
    assert_eq!(change.expected_version, Some(1));
    assert_eq!(
        change.release_unique,
        [duplicate_claim(&reg.duplicate_key())]
    );
    assert!(change.claim_unique.is_empty());
    assert_eq!(
        change.document.gsi2.unwrap().partition,
        "wvr#2017#cancelled"
    );
}

#[tokio::test]
async fn the_purge_erases_only_when_due_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let writes = AtomicU64::new(0);
    let registrations = Registrations::new(&store, &writes);
    for (id, title) in [("1", "A"), ("2", "B"), ("3", "C")] {
        let reg = registration(id, "VV Swift", title, "2017-11-08", "10:00");
        store
            .commit(registration_created(&reg).unwrap())
            .await
            .unwrap();
    }
    let editions = Editions::built_in();
    let just_before = at("2018-11-12T23:59:59+01:00");
    assert_eq!(
        registrations
            .erase_due_contacts(&editions, just_before)
            .await
            .unwrap(),
        0
    );
    assert!(
        registrations
            .list_all(2017)
            .await
            .unwrap()
            .iter()
            .all(|r| r.contact.is_some())
    );

    let moment = at("2018-11-13T00:00:00+01:00");
    assert_eq!(
        registrations
            .erase_due_contacts(&editions, moment)
            .await
            .unwrap(),
        3
    );
    let after = registrations.list_all(2017).await.unwrap();
    assert_eq!(after.len(), 3, "the activities stay");
    assert!(
        after
            .iter()
            .all(|r| r.contact.is_none() && r.erased_at == Some(moment))
    );
    assert!(after.iter().all(|r| !r.activity.title.is_empty()));
    assert_eq!(
        registrations
            .erase_due_contacts(&editions, moment)
            .await
            .unwrap(),
        0,
        "nothing twice"
    );
}
