//! One behaviour suite for every `DocumentStore`: each case in `suite` runs unchanged
//! against the embedded store (`embedded::…`) and against DynamoDB Local
//! (`dynamo::…`, one fresh table per test; skipped with a notice when
//! `AWS_ENDPOINT_URL_DYNAMODB` is unset, see `tests/common/dynamo.rs`).

#[path = "common/dynamo.rs"]
mod common_dynamo;

use std::collections::BTreeMap;

use loket::store::{
    AggregateDelta, Change, Collection, Document, DocumentStore, IdempotencyRecord, Index,
    IndexEntry, ListQuery, Page, Position, SequenceClaim, SharedStore, StoreError,
};

macro_rules! contract_tests {
    ($($name:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let store = loket::store::embedded::EmbeddedStore::open(dir.path())
                        .expect("open embedded store");
                    super::suite::$name(std::sync::Arc::new(store)).await;
                }
            )+
        }

        mod dynamo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(store) = super::common_dynamo::fresh_store().await else {
                        return;
                    };
                    super::suite::$name(std::sync::Arc::new(store)).await;
                }
            )+
        }
    };
}

contract_tests!(
    a_created_document_can_be_read_back,
    creating_an_existing_document_is_a_version_conflict,
    an_update_needs_the_stored_version,
    of_concurrent_updates_from_one_version_exactly_one_wins,
    listing_pages_through_a_partition_in_sort_order,
    listing_honours_sort_bounds_and_cursors_outside_them,
    listing_applies_the_filter_across_pages,
    listing_uses_either_index_and_follows_moved_entries,
    aggregates_add_up_per_group_and_key,
    concurrent_commits_leave_the_exact_aggregate_sum,
    a_taken_unique_key_refuses_the_whole_change,
    a_released_unique_key_can_be_claimed_again,
    an_idempotency_key_is_used_once_while_live,
    concurrent_repeats_of_an_idempotency_key_write_once,
    sequence_claims_are_gapless_under_concurrency,
    one_activity_is_registered_once_but_another_start_time_is_another_activity,
    outbox_messages_are_written_with_their_change_or_not_at_all,
    the_outbox_gives_due_messages_and_records_each_attempt_once,
);

fn entry(partition: &str, sort: &str) -> Option<IndexEntry> {
    Some(IndexEntry {
        partition: partition.into(),
        sort: sort.into(),
    })
}

fn permit(id: &str, version: u64, body: &str) -> Document {
    Document {
        collection: Collection::Permit,
        id: id.into(),
        version,
        body: body.into(),
        gsi1: None,
        gsi2: None,
    }
}

fn delta(group: &str, key: &str, add: &[(&str, i64)]) -> AggregateDelta {
    AggregateDelta {
        group: group.into(),
        key: key.into(),
        add: add.iter().map(|(f, a)| (f.to_string(), *a)).collect(),
    }
}

fn record(key: &str, body_hash: &str, created_at: i64) -> IdempotencyRecord {
    IdempotencyRecord {
        scope: "POST /permits".into(),
        key: key.into(),
        body_hash: body_hash.into(),
        status: 201,
        location: Some(format!("/permits/{body_hash}")),
        response_body: format!("{{\"hash\":\"{body_hash}\"}}"),
        created_at,
        expires_at: created_at + 86_400,
    }
}

fn query(index: Index, partition: &str, limit: usize) -> ListQuery {
    ListQuery {
        collection: Collection::Permit,
        index,
        partition: partition.into(),
        sort_from: None,
        sort_to: None,
        after: None,
        limit,
    }
}

fn ids(page: &Page) -> Vec<&str> {
    page.items.iter().map(|d| d.id.as_str()).collect()
}

fn sums(pairs: &[(&str, &[(&str, i64)])]) -> BTreeMap<String, BTreeMap<String, i64>> {
    pairs
        .iter()
        .map(|(key, fields)| {
            (
                key.to_string(),
                fields.iter().map(|(f, v)| (f.to_string(), *v)).collect(),
            )
        })
        .collect()
}

fn everything(_: &Document) -> bool {
    true
}

mod suite {
    use super::*;
    use chrono::{DateTime, Duration, Utc};
    use loket::domain::outbox::{Delivery, Letter, OutboxMessage};
    use loket::store::outbox::outbox_documents;

    fn message(id: &str, at: DateTime<Utc>) -> OutboxMessage {
        OutboxMessage::new(
            id.into(),
            "loket.test",
            Letter {
                kind: "permit_received",
                regarding: "permit#p1".into(),
                to: "info@zomerfest.nl".into(),
                subject: "Ontvangstbevestiging EV-2017-0001".into(),
                text: "Wij hebben uw aanvraag ontvangen.".into(),
                html: "<p>Wij hebben uw aanvraag ontvangen.</p>".into(),
            },
            at,
        )
    }

    fn t0() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    pub async fn outbox_messages_are_written_with_their_change_or_not_at_all(store: SharedStore) {
        let mut change = Change::create(permit("p1", 1, "first"));
        change.also_create = outbox_documents(&[message("m1", t0()), message("m2", t0())]).unwrap();
        store.commit(change).await.unwrap();
        let facade = loket::store::Store::new(store.clone());
        let due = facade.outbox().due(t0(), 10).await.unwrap();
        assert_eq!(
            due.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["m1", "m2"]
        );
        assert_eq!(due[0], message("m1", t0()));

        // A change that fails (its version moved) writes no message either.
        let mut stale = Change::update(permit("p1", 2, "second"), 7);
        stale.also_create = outbox_documents(&[message("m3", t0())]).unwrap();
        assert!(matches!(
            store.commit(stale).await,
            Err(StoreError::VersionConflict)
        ));
        assert_eq!(facade.outbox().get("m3").await.unwrap(), None);
        assert_eq!(facade.outbox().due(t0(), 10).await.unwrap().len(), 2);
    }

    pub async fn the_outbox_gives_due_messages_and_records_each_attempt_once(store: SharedStore) {
        let facade = loket::store::Store::new(store.clone());
        let outbox = facade.outbox();
        let mut change = Change::create(permit("p1", 1, ""));
        change.also_create = outbox_documents(&[message("m1", t0()), message("m2", t0())]).unwrap();
        store.commit(change).await.unwrap();

        // m1 fails: not due again until its wait is over; m2 is sent.
        let m1 = outbox.get("m1").await.unwrap().unwrap();
        let failed = m1.failed(t0(), "connection refused");
        outbox.record(&m1, &failed).await.unwrap();
        assert!(
            outbox.record(&m1, &m1.sent(t0())).await.is_err(),
            "an attempt on a version already recorded is refused"
        );
        let m2 = outbox.get("m2").await.unwrap().unwrap();
        outbox.record(&m2, &m2.sent(t0())).await.unwrap();
        assert!(outbox.due(t0(), 10).await.unwrap().is_empty());
        let later = outbox.due(t0() + Duration::seconds(1), 10).await.unwrap();
        assert_eq!(later, std::slice::from_ref(&failed));

        let sent = outbox.get("m2").await.unwrap().unwrap();
        assert_eq!(sent.delivery, Delivery::Sent);
        assert!(
            sent.to.is_empty() && sent.text.is_empty(),
            "no personal data kept"
        );

        // Failing on and on parks it, out of the due list, into the staff's view.
        let mut current = failed;
        while current.delivery == Delivery::Pending {
            let next = current.failed(t0(), "connection refused");
            outbox.record(&current, &next).await.unwrap();
            current = next;
        }
        assert!(
            outbox
                .due(t0() + Duration::days(1), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(outbox.parked().await.unwrap(), [current]);
    }

    pub async fn a_created_document_can_be_read_back(store: SharedStore) {
        let mut doc = permit("p1", 1, r#"{"name":"Zomerfestival","naïef":"ü€"}"#);
        doc.gsi1 = entry("permit#2026", "2026-06-01#p1");
        store.commit(Change::create(doc.clone())).await.unwrap();

        assert_eq!(
            store.get(Collection::Permit, "p1").await.unwrap(),
            Some(doc)
        );
        assert_eq!(store.get(Collection::Permit, "p2").await.unwrap(), None);
        assert_eq!(
            store.get(Collection::Registration, "p1").await.unwrap(),
            None,
            "collections are separate id spaces"
        );
    }

    pub async fn creating_an_existing_document_is_a_version_conflict(store: SharedStore) {
        store
            .commit(Change::create(permit("p1", 1, "first")))
            .await
            .unwrap();
        let again = store
            .commit(Change::create(permit("p1", 1, "second")))
            .await;
        assert!(
            matches!(again, Err(StoreError::VersionConflict)),
            "{again:?}"
        );
        let stored = store.get(Collection::Permit, "p1").await.unwrap().unwrap();
        assert_eq!(stored.body, "first");
    }

    pub async fn an_update_needs_the_stored_version(store: SharedStore) {
        store
            .commit(Change::create(permit("p1", 1, "v1")))
            .await
            .unwrap();
        store
            .commit(Change::update(permit("p1", 2, "v2"), 1))
            .await
            .unwrap();
        assert_eq!(
            store.get(Collection::Permit, "p1").await.unwrap(),
            Some(permit("p1", 2, "v2"))
        );

        let stale = store
            .commit(Change::update(permit("p1", 2, "stale"), 1))
            .await;
        assert!(
            matches!(stale, Err(StoreError::VersionConflict)),
            "{stale:?}"
        );
        let missing = store
            .commit(Change::update(permit("nope", 2, "x"), 1))
            .await;
        assert!(
            matches!(missing, Err(StoreError::VersionConflict)),
            "updating a missing document: {missing:?}"
        );
        assert_eq!(store.get(Collection::Permit, "nope").await.unwrap(), None);
        assert_eq!(
            store
                .get(Collection::Permit, "p1")
                .await
                .unwrap()
                .unwrap()
                .body,
            "v2"
        );
    }

    pub async fn of_concurrent_updates_from_one_version_exactly_one_wins(store: SharedStore) {
        store
            .commit(Change::create(permit("p1", 1, "v1")))
            .await
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let store = store.clone();
            tasks.spawn(async move {
                let body = format!("writer {i}");
                let result = store
                    .commit(Change::update(permit("p1", 2, &body), 1))
                    .await;
                (body, result)
            });
        }
        let mut winners = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (body, result) = joined.unwrap();
            match result {
                Ok(()) => winners.push(body),
                Err(StoreError::VersionConflict) => {}
                Err(other) => panic!("{body}: unexpected {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "winners: {winners:?}");
        let stored = store.get(Collection::Permit, "p1").await.unwrap().unwrap();
        assert_eq!((stored.version, &stored.body), (2, &winners[0]));
    }

    /// Seven permits in one partition (created out of order), plus neighbours that
    /// must not show up: another partition, another collection in the same partition.
    async fn seed_listing(store: &SharedStore) {
        for day in [4, 1, 7, 3, 6, 2, 5] {
            let id = format!("p{day}");
            let mut doc = permit(&id, 1, if day % 2 == 0 { "even" } else { "odd" });
            doc.gsi1 = entry("permit#2026", &format!("2026-06-0{day}#{id}"));
            store.commit(Change::create(doc)).await.unwrap();
        }
        let mut other = permit("x1", 1, "even");
        other.gsi1 = entry("permit#2027", "2026-06-01#x1");
        store.commit(Change::create(other)).await.unwrap();
        let registration = Document {
            collection: Collection::Registration,
            ..permit("r1", 1, "even")
        };
        let mut registration = registration;
        registration.gsi1 = entry("permit#2026", "2026-06-02#r1");
        store.commit(Change::create(registration)).await.unwrap();
    }

    pub async fn listing_pages_through_a_partition_in_sort_order(store: SharedStore) {
        seed_listing(&store).await;
        let mut q = query(Index::Gsi1, "permit#2026", 3);
        let mut pages = Vec::new();
        loop {
            let page = store.list(&q, &everything).await.unwrap();
            pages.push(ids(&page).join(","));
            match page.next {
                Some(next) => {
                    let last = page.items.last().unwrap();
                    assert_eq!(
                        next,
                        Position {
                            sort: last.gsi1.as_ref().unwrap().sort.clone(),
                            id: last.id.clone()
                        },
                        "the cursor is the last item returned"
                    );
                    q.after = Some(next);
                }
                None => break,
            }
            assert!(pages.len() < 10, "paging does not end: {pages:?}");
        }
        assert_eq!(pages, ["p1,p2,p3", "p4,p5,p6", "p7"]);

        // A page that holds exactly the rest says there is nothing more.
        let exact = store
            .list(&query(Index::Gsi1, "permit#2026", 7), &everything)
            .await
            .unwrap();
        assert_eq!(exact.items.len(), 7);
        assert_eq!(exact.next, None);

        let nothing = store
            .list(&query(Index::Gsi1, "permit#2025", 5), &everything)
            .await
            .unwrap();
        assert_eq!(
            nothing,
            Page {
                items: vec![],
                next: None
            }
        );
    }

    pub async fn listing_honours_sort_bounds_and_cursors_outside_them(store: SharedStore) {
        seed_listing(&store).await;
        let ranged = |from: Option<&str>, to: Option<&str>, after: Option<&str>| {
            let mut q = query(Index::Gsi1, "permit#2026", 10);
            q.sort_from = from.map(str::to_string);
            q.sort_to = to.map(str::to_string);
            q.after = after.map(|day| Position {
                sort: format!("2026-06-0{day}#p{day}"),
                id: format!("p{day}"),
            });
            q
        };
        let cases: [(&str, ListQuery, &[&str]); 8] = [
            (
                "inclusive bounds",
                ranged(Some("2026-06-02#p2"), Some("2026-06-05#p5"), None),
                &["p2", "p3", "p4", "p5"],
            ),
            (
                "bounds as prefixes",
                ranged(Some("2026-06-03"), Some("2026-06-05~"), None),
                &["p3", "p4", "p5"],
            ),
            (
                "only a lower bound",
                ranged(Some("2026-06-06"), None, None),
                &["p6", "p7"],
            ),
            (
                "only an upper bound",
                ranged(None, Some("2026-06-02~"), None),
                &["p1", "p2"],
            ),
            (
                "cursor inside the bounds",
                ranged(Some("2026-06-02"), Some("2026-06-05~"), Some("3")),
                &["p4", "p5"],
            ),
            (
                "cursor before the lower bound",
                ranged(Some("2026-06-05"), None, Some("2")),
                &["p5", "p6", "p7"],
            ),
            (
                "cursor past the upper bound",
                ranged(None, Some("2026-06-03~"), Some("5")),
                &[],
            ),
            (
                "lower bound above the upper one",
                ranged(Some("2026-06-05"), Some("2026-06-02"), None),
                &[],
            ),
        ];
        for (case, q, expected) in cases {
            let page = store.list(&q, &everything).await.unwrap();
            assert_eq!(ids(&page), expected, "{case}");
            assert_eq!(page.next, None, "{case}");
        }
    }

    pub async fn listing_applies_the_filter_across_pages(store: SharedStore) {
        seed_listing(&store).await;
        let even = |d: &Document| d.body == "even";
        let mut q = query(Index::Gsi1, "permit#2026", 2);
        let first = store.list(&q, &even).await.unwrap();
        assert_eq!(ids(&first), ["p2", "p4"]);
        q.after = first.next.clone();
        assert!(q.after.is_some(), "p6 still follows");
        let second = store.list(&q, &even).await.unwrap();
        assert_eq!(ids(&second), ["p6"]);
        assert_eq!(second.next, None);

        let none = store.list(&q, &|_: &Document| false).await.unwrap();
        assert_eq!(
            none,
            Page {
                items: vec![],
                next: None
            }
        );
    }

    pub async fn listing_uses_either_index_and_follows_moved_entries(store: SharedStore) {
        // gsi1 by date, gsi2 by status in the reverse order; p4 has no gsi2 entry.
        for n in 1..=4 {
            let id = format!("p{n}");
            let mut doc = permit(&id, 1, "");
            doc.gsi1 = entry("permit#2026", &format!("2026-06-0{n}#{id}"));
            if n < 4 {
                doc.gsi2 = entry("status#submitted", &format!("{}#{id}", 9 - n));
            }
            store.commit(Change::create(doc)).await.unwrap();
        }
        let list = |index: Index, partition: &'static str| {
            let store = store.clone();
            async move {
                let page = store
                    .list(&query(index, partition, 10), &everything)
                    .await
                    .unwrap();
                ids(&page).into_iter().map(String::from).collect::<Vec<_>>()
            }
        };
        assert_eq!(
            list(Index::Gsi2, "status#submitted").await,
            ["p3", "p2", "p1"]
        );

        // p2 moves to another status and out of gsi1; p4 gains a gsi2 entry.
        let mut p2 = permit("p2", 2, "decided");
        p2.gsi2 = entry("status#granted", "1#p2");
        store.commit(Change::update(p2, 1)).await.unwrap();
        let mut p4 = permit("p4", 2, "");
        p4.gsi1 = entry("permit#2026", "2026-06-04#p4");
        p4.gsi2 = entry("status#submitted", "0#p4");
        store.commit(Change::update(p4, 1)).await.unwrap();

        assert_eq!(
            list(Index::Gsi2, "status#submitted").await,
            ["p4", "p3", "p1"]
        );
        assert_eq!(list(Index::Gsi2, "status#granted").await, ["p2"]);
        assert_eq!(list(Index::Gsi1, "permit#2026").await, ["p1", "p3", "p4"]);
        let moved = store.get(Collection::Permit, "p2").await.unwrap().unwrap();
        assert_eq!((moved.gsi1, moved.version), (None, 2));
    }

    pub async fn aggregates_add_up_per_group_and_key(store: SharedStore) {
        let mut first = Change::create(permit("p1", 1, ""));
        first.aggregates = vec![
            delta("coverage#2026", "2026-06", &[("net", 100), ("count", 1)]),
            delta("coverage#2026", "cat#B", &[("net", 100)]),
        ];
        store.commit(first).await.unwrap();

        // A field and an item that do not exist yet count as zero; two deltas to one
        // item in one change both apply.
        let mut second = Change::create(permit("p2", 1, ""));
        second.aggregates = vec![
            delta("coverage#2026", "2026-06", &[("net", -30), ("vat", 5)]),
            delta("coverage#2026", "2026-07", &[("net", 7)]),
            delta("coverage#2026", "2026-07", &[("net", 3), ("count", 1)]),
            delta("coverage#2027", "2027-01", &[("net", 1)]),
        ];
        store.commit(second).await.unwrap();

        // Updates carry aggregates too.
        let mut third = Change::update(permit("p1", 2, "withdrawn"), 1);
        third.aggregates = vec![delta("coverage#2026", "cat#B", &[("net", -100)])];
        store.commit(third).await.unwrap();

        assert_eq!(
            store.aggregates("coverage#2026").await.unwrap(),
            sums(&[
                ("2026-06", &[("count", 1), ("net", 70), ("vat", 5)]),
                ("2026-07", &[("count", 1), ("net", 10)]),
                ("cat#B", &[("net", 0)]),
            ])
        );
        assert_eq!(
            store.aggregates("coverage#2027").await.unwrap(),
            sums(&[("2027-01", &[("net", 1)])])
        );
        assert_eq!(
            store.aggregates("coverage#202").await.unwrap(),
            sums(&[]),
            "a group is matched exactly, not as a prefix"
        );
    }

    pub async fn concurrent_commits_leave_the_exact_aggregate_sum(store: SharedStore) {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 1..=20 {
            let store = store.clone();
            tasks.spawn(async move {
                let mut change = Change::create(permit(&format!("p{i}"), 1, ""));
                change.aggregates = vec![
                    delta("coverage#2026", "2026-06", &[("net", i), ("count", 1)]),
                    delta("coverage#2026", "cat#A", &[("count", 1)]),
                ];
                store.commit(change).await
            });
        }
        while let Some(joined) = tasks.join_next().await {
            joined.unwrap().unwrap();
        }
        assert_eq!(
            store.aggregates("coverage#2026").await.unwrap(),
            sums(&[
                ("2026-06", &[("count", 20), ("net", 210)]),
                ("cat#A", &[("count", 20)]),
            ])
        );
    }

    pub async fn a_taken_unique_key_refuses_the_whole_change(store: SharedStore) {
        let mut first = Change::create(permit("p1", 1, ""));
        first.claim_unique = vec!["reg#2026#kvk123".into()];
        first.aggregates = vec![delta("reg#2026", "total", &[("count", 1)])];
        store.commit(first).await.unwrap();

        let mut second = Change::create(permit("p2", 1, ""));
        second.claim_unique = vec!["reg#2026#other".into(), "reg#2026#kvk123".into()];
        second.aggregates = vec![delta("reg#2026", "total", &[("count", 1)])];
        let mut record = record("k1", "h2", 1_000);
        record.scope = "POST /registrations".into();
        second.idempotency = Some(record);
        let refused = store.commit(second).await;
        assert!(
            matches!(&refused, Err(StoreError::UniqueTaken(key)) if key == "reg#2026#kvk123"),
            "{refused:?}"
        );

        assert_eq!(store.get(Collection::Permit, "p2").await.unwrap(), None);
        assert_eq!(
            store.aggregates("reg#2026").await.unwrap(),
            sums(&[("total", &[("count", 1)])])
        );
        assert_eq!(
            store
                .idempotency("POST /registrations", "k1", 1_001)
                .await
                .unwrap(),
            None
        );
        // The free key of the refused change was not taken either.
        let mut third = Change::create(permit("p3", 1, ""));
        third.claim_unique = vec!["reg#2026#other".into()];
        store.commit(third).await.unwrap();
    }

    pub async fn a_released_unique_key_can_be_claimed_again(store: SharedStore) {
        let mut first = Change::create(permit("p1", 1, ""));
        first.claim_unique = vec!["email#a@example.nl".into()];
        store.commit(first).await.unwrap();

        // An update can claim a new key and release the old one at once.
        let mut moved = Change::update(permit("p1", 2, ""), 1);
        moved.claim_unique = vec!["email#b@example.nl".into()];
        moved.release_unique = vec!["email#a@example.nl".into()];
        store.commit(moved).await.unwrap();

        let mut takes_b = Change::create(permit("p2", 1, ""));
        takes_b.claim_unique = vec!["email#b@example.nl".into()];
        let refused = store.commit(takes_b).await;
        assert!(
            matches!(&refused, Err(StoreError::UniqueTaken(key)) if key == "email#b@example.nl"),
            "{refused:?}"
        );

        let mut takes_a = Change::create(permit("p2", 1, ""));
        takes_a.claim_unique = vec!["email#a@example.nl".into()];
        store.commit(takes_a).await.unwrap();
        assert!(store.get(Collection::Permit, "p2").await.unwrap().is_some());
    }

    pub async fn an_idempotency_key_is_used_once_while_live(store: SharedStore) {
        let first_record = record("k1", "h1", 1_000);
        let mut first = Change::create(permit("p1", 1, ""));
        first.idempotency = Some(first_record.clone());
        first.aggregates = vec![delta("coverage#2026", "2026-06", &[("count", 1)])];
        store.commit(first).await.unwrap();

        let scope = "POST /permits";
        assert_eq!(
            store.idempotency(scope, "k1", 1_001).await.unwrap(),
            Some(first_record.clone())
        );
        assert_eq!(
            store
                .idempotency(scope, "k1", first_record.expires_at - 1)
                .await
                .unwrap(),
            Some(first_record.clone()),
            "live until expires_at"
        );
        assert_eq!(
            store
                .idempotency(scope, "k1", first_record.expires_at)
                .await
                .unwrap(),
            None,
            "gone at expires_at"
        );
        assert_eq!(store.idempotency(scope, "k2", 1_001).await.unwrap(), None);
        assert_eq!(
            store
                .idempotency("POST /registrations", "k1", 1_001)
                .await
                .unwrap(),
            None
        );

        // A repeat while the record lives writes nothing of its change.
        let mut repeat = Change::create(permit("p2", 1, ""));
        repeat.idempotency = Some(record("k1", "h2", 2_000));
        repeat.aggregates = vec![delta("coverage#2026", "2026-06", &[("count", 1)])];
        let refused = store.commit(repeat).await;
        assert!(
            matches!(refused, Err(StoreError::IdempotencyKeyUsed)),
            "{refused:?}"
        );
        assert_eq!(store.get(Collection::Permit, "p2").await.unwrap(), None);
        assert_eq!(
            store.aggregates("coverage#2026").await.unwrap(),
            sums(&[("2026-06", &[("count", 1)])])
        );
        assert_eq!(
            store.idempotency(scope, "k1", 2_000).await.unwrap(),
            Some(first_record.clone())
        );

        // Once expired (even if not yet erased) the key is free again.
        let mut later_record = record("k1", "h3", first_record.expires_at);
        later_record.location = None;
        let mut later = Change::create(permit("p3", 1, ""));
        later.idempotency = Some(later_record.clone());
        store.commit(later).await.unwrap();
        assert_eq!(
            store
                .idempotency(scope, "k1", first_record.expires_at)
                .await
                .unwrap(),
            Some(later_record)
        );

        // The same key under another scope is another key.
        let mut other_scope = Change::create(permit("p4", 1, ""));
        let mut other_record = record("k1", "h4", 1_000);
        other_record.scope = "POST /registrations".into();
        other_scope.idempotency = Some(other_record);
        store.commit(other_scope).await.unwrap();
    }

    pub async fn concurrent_repeats_of_an_idempotency_key_write_once(store: SharedStore) {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..10 {
            let store = store.clone();
            tasks.spawn(async move {
                let id = format!("p{i}");
                let mut change = Change::create(permit(&id, 1, ""));
                change.idempotency = Some(record("k1", &id, 1_000 + i));
                change.aggregates = vec![delta("coverage#2026", "2026-06", &[("count", 1)])];
                (id, store.commit(change).await)
            });
        }
        let mut written = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (id, result) = joined.unwrap();
            match result {
                Ok(()) => written.push(id),
                // Refused: either after the winner (replay) or while it was writing.
                Err(StoreError::IdempotencyKeyUsed | StoreError::IdempotencyInProgress) => {
                    assert_eq!(store.get(Collection::Permit, &id).await.unwrap(), None);
                }
                Err(other) => panic!("{id}: unexpected {other:?}"),
            }
        }
        assert_eq!(written.len(), 1, "{written:?}");
        let stored = store
            .idempotency("POST /permits", "k1", 2_000)
            .await
            .unwrap()
            .expect("the winner's record");
        assert_eq!(stored.body_hash, written[0]);
        assert_eq!(
            store.aggregates("coverage#2026").await.unwrap(),
            sums(&[("2026-06", &[("count", 1)])])
        );
    }

    /// A Week van Respect registration at `starts_at`, for the duplicate claim.
    fn registration(
        id: &str,
        org: &str,
        starts_at: &str,
    ) -> loket::domain::respect_week::Registration {
        serde_json::from_value(serde_json::json!({
            "id": id, "reference": "WVR-2017-0001", "token_hash": "h", "year": 2017,
            "status": "registered",
            "organisation": {"name": org, "type": "primary_school"},
            "contact": {"name": "J. Bakker", "email": "j.bakker@regenboog.nl", "phone": "0321 654321"},
            "activity": {
                "title": "Respectles groep 7/8", "description": "Een les.",
                "date": "2017-11-08", "starts_at": starts_at, "ends_at": "15:00",
                "location": "School", "kern": "dronten", "expected_participants": 20,
                "age_min": 10, "age_max": 12, "open_to_public": false, "guest_lesson_wanted": true
            },
            "registered_at": "2017-10-01T10:00:00+02:00", "version": 1,
            "history": []
        }))
        .unwrap()
    }

    /// The duplicate rule is the store's unique claim, taken in the registration's own
    /// write: of concurrent registrations of one activity (the same name, however
    /// spelled, title, day and start) exactly one is stored; the same lesson at another
    /// start time is another activity.
    pub async fn one_activity_is_registered_once_but_another_start_time_is_another_activity(
        store: SharedStore,
    ) {
        use loket::store::registrations::registration_created;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..6 {
            let store = store.clone();
            tasks.spawn(async move {
                let id = format!("r{i}");
                let org = if i % 2 == 0 {
                    "OBS De Regenboog"
                } else {
                    "obs  de REGENBOOG"
                };
                let change = registration_created(&registration(&id, org, "09:00")).unwrap();
                (id, store.commit(change).await)
            });
        }
        let mut written = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (id, result) = joined.unwrap();
            match result {
                Ok(()) => written.push(id),
                Err(StoreError::UniqueTaken(_)) => {
                    assert_eq!(
                        store.get(Collection::Registration, &id).await.unwrap(),
                        None
                    );
                }
                Err(other) => panic!("{id}: unexpected {other:?}"),
            }
        }
        assert_eq!(written.len(), 1, "{written:?}");
        // The refused ones left no summary counts behind.
        let summary = store.aggregates("wvr-summary#2017").await.unwrap();
        assert_eq!(summary["primary_school"]["registered"], 1, "{summary:?}");

        let later =
            registration_created(&registration("later", "OBS De Regenboog", "11:30")).unwrap();
        store.commit(later).await.unwrap();
        let again =
            registration_created(&registration("again", "OBS De Regenboog", "11:30")).unwrap();
        assert!(matches!(
            store.commit(again).await,
            Err(StoreError::UniqueTaken(_))
        ));
    }

    /// Creations that claim numbers of one register at once: each ends with its own
    /// number, in one change with what it creates, and no number is skipped.
    pub async fn sequence_claims_are_gapless_under_concurrency(store: SharedStore) {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..30 {
            let store = store.clone();
            tasks.spawn(async move {
                loop {
                    let number = store.last_sequence("EV-2026").await.unwrap() + 1;
                    let mut change =
                        Change::create(permit(&format!("s{i}"), 1, &number.to_string()));
                    change.sequence = Some(SequenceClaim {
                        name: "EV-2026".into(),
                        number,
                    });
                    match store.commit(change).await {
                        Ok(()) => return number,
                        Err(StoreError::SequenceTaken) => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            });
        }
        let mut numbers = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            numbers.push(joined.unwrap());
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=30).collect::<Vec<u64>>());
        assert_eq!(store.last_sequence("EV-2026").await.unwrap(), 30);
        assert_eq!(store.last_sequence("EV-2027").await.unwrap(), 0);

        // A change that fails for another reason takes no number.
        let mut again = Change::create(permit("s0", 1, "a repeat"));
        again.sequence = Some(SequenceClaim {
            name: "EV-2026".into(),
            number: 31,
        });
        assert!(matches!(
            store.commit(again).await,
            Err(StoreError::VersionConflict)
        ));
        assert_eq!(store.last_sequence("EV-2026").await.unwrap(), 30);
        // A stale number is refused and changes nothing.
        let mut stale = Change::create(permit("s99", 1, "stale"));
        stale.sequence = Some(SequenceClaim {
            name: "EV-2026".into(),
            number: 30,
        });
        assert!(matches!(
            store.commit(stale).await,
            Err(StoreError::SequenceTaken)
        ));
        assert!(
            store
                .get(Collection::Permit, "s99")
                .await
                .unwrap()
                .is_none()
        );
    }
}

/// Runs one store call and counts the DynamoDB requests it sent.
macro_rules! requests {
    ($store:expr, $call:expr) => {{
        let before = $store.request_count();
        let value = $call.await.unwrap();
        (value, $store.request_count() - before)
    }};
}

/// Each store operation on a request path costs one DynamoDB request.
#[tokio::test]
async fn dynamo_each_operation_is_one_request() {
    let Some(store) = common_dynamo::fresh_store().await else {
        return;
    };
    let mut doc = permit("p1", 1, "v1");
    doc.gsi1 = entry("permit#2026", "2026-06-01#p1");
    let version = |version: u64| Document {
        version,
        body: format!("v{version}"),
        ..doc.clone()
    };

    let mut create = Change::create(doc.clone());
    create.aggregates = vec![
        delta("coverage#2026", "2026-06", &[("net", 100), ("count", 1)]),
        delta("coverage#2026", "cat#B", &[("net", 100)]),
    ];
    create.claim_unique = vec!["reg#x".into()];
    create.idempotency = Some(record("k1", "h1", 1_000));
    assert_eq!(requests!(store, store.commit(create)).1, 1, "create");

    let update = Change::update(version(2), 1);
    assert_eq!(requests!(store, store.commit(update)).1, 1, "update");

    let mut update = Change::update(version(3), 2);
    update.aggregates = vec![delta("coverage#2026", "2026-06", &[("net", -100)])];
    assert_eq!(
        requests!(store, store.commit(update)).1,
        1,
        "update with aggregate"
    );

    let (got, n) = requests!(store, store.get(Collection::Permit, "p1"));
    assert_eq!((got, n), (Some(version(3)), 1), "get");

    let q = query(Index::Gsi1, "permit#2026", 10);
    let (page, n) = requests!(store, store.list(&q, &everything));
    assert_eq!((page.items.len(), n), (1, 1), "list of a small partition");

    let (sums, n) = requests!(store, store.aggregates("coverage#2026"));
    assert_eq!((sums.len(), n), (2, 1), "aggregates");

    let (found, n) = requests!(store, store.idempotency("POST /permits", "k1", 1_001));
    assert_eq!((found.is_some(), n), (true, 1), "idempotency");

    let (number, n) = requests!(store, store.last_sequence("permit"));
    assert_eq!((number, n), (0, 1), "last_sequence");
}
