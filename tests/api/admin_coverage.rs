//! The live leges coverage: example 6 through the API, other years, and a model-based
//! property test that the coverage aggregates always equal the recomputation.

use serde_json::json;

use crate::admin_helpers::withdraw;
use crate::helpers::*;
use crate::permits::{buurtbarbecue, jeugdtoernooi, submit, zomerfestival};

#[tokio::test]
async fn example_6_through_the_api_covers_478_basis_points() {
    let app = spawn_app().await;
    submit(&app, &buurtbarbecue()).await;
    submit(&app, &zomerfestival()).await;
    let toernooi = submit(&app, &jeugdtoernooi()).await;
    let withdrawn = withdraw(&app, &toernooi).await;
    assert_eq!(withdrawn["leges"]["refunded_cents"], 3_750);

    let report = app.coverage_report(2017).await;
    assert_eq!(
        report,
        json!({
            "year": 2017, "cost_cents": 3_200_000,
            "imposed_cents": 156_800, "refunded_cents": 3_750, "net_cents": 153_050,
            "coverage_bp": 478, "open_cents": 149_300, "over_recovery": false,
            "by_category": {
                "0": {"count": 1, "net_cents": 3_000},
                "A": {"count": 1, "net_cents": 3_750},
                "B": {"count": 0, "net_cents": 0},
                "C": {"count": 1, "net_cents": 146_300},
            },
            "by_month": {"2017-03": {"count": 3, "net_cents": 153_050}},
        })
    );
    // Without ?year= the current local year of the business clock.
    let token = staff_token(&app, "controller");
    let default = expect_status(app.admin_get("/admin/leges/coverage", &token).await, 200).await;
    assert_eq!(default, report);
    // Decisions move only the open leges.
    let festival_id = {
        let list = expect_status(
            app.admin_get("/admin/permits?status=submitted", &token)
                .await,
            200,
        )
        .await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["category"] == "C")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    app.permit_decide(&festival_id, &token, json!({"action": "start_review"}))
        .await;
    app.permit_decide(&festival_id, &token, json!({"action": "approve"}))
        .await;
    let after = app.coverage_report(2017).await;
    assert_eq!(
        (after["net_cents"].clone(), after["open_cents"].clone()),
        (json!(153_050), json!(3_000))
    );
}

#[tokio::test]
async fn the_coverage_of_another_year_is_its_own_and_bad_years_are_refused() {
    let app = spawn_app().await;
    submit(&app, &zomerfestival()).await;
    let token = staff_token(&app, "controller");
    let empty = expect_status(
        app.admin_get("/admin/leges/coverage?year=2026", &token)
            .await,
        200,
    )
    .await;
    assert_eq!(
        empty["cost_cents"], 3_840_000,
        "the 2026 table's coordination cost"
    );
    assert_eq!(
        (empty["net_cents"].clone(), empty["coverage_bp"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(empty["by_month"], json!({}));
    let later = expect_status(
        app.admin_get("/admin/leges/coverage?year=2030", &token)
            .await,
        200,
    )
    .await;
    assert_eq!(
        later["cost_cents"], 4_000_000,
        "a table stays in force until a later one exists"
    );
    for (query, code) in [
        ("year=1999", "no_tariff"),
        ("year=twenty", "invalid_query"),
        ("year=2017&year=2018", "invalid_query"),
        ("yaer=2017", "invalid_query"),
    ] {
        let problem = expect_status(
            app.admin_get(&format!("/admin/leges/coverage?{query}"), &token)
                .await,
            400,
        )
        .await;
        assert_eq!(problem["type"], format!("/problems/{code}"), "{query}");
    }
}
// ---------------------------------------------------------------------------------
// Property: the aggregates always equal the recomputation

mod model {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Utc};
    use loket::domain::coverage::{self, Bucket, Sums};
    use loket::domain::leges::Tariffs;
    use loket::domain::permit::{self, Actor, Application, Event, Kern, Organiser, PermitAction};
    use loket::domain::risk::{Alcohol, Category};
    use loket::store::permits as records;
    use loket::store::{Change, DocumentStore};
    use proptest::prelude::*;

    use crate::helpers::{at, new_store};

    /// Submission moments around the turn of the year (local 2017 and 2018).
    const MOMENTS: [&str; 4] = [
        "2017-03-01T10:00:00+01:00",
        "2017-12-31T23:30:00+01:00",
        "2017-12-31T23:30:00Z",
        "2018-02-10T09:00:00+01:00",
    ];
    const YEARS: [i32; 2] = [2017, 2018];

    #[derive(Debug, Clone)]
    pub enum Op {
        Submit { template: usize, moment: usize },
        Reclassify { app: usize, category: Category },
        Withdraw(usize),
        StartReview(usize),
        RequestInfo(usize),
        AnswerInfo(usize),
        Approve(usize),
        Reject(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        let app = 0usize..4;
        prop_oneof![
            3 => (0usize..3, 0usize..MOMENTS.len()).prop_map(|(template, moment)| Op::Submit { template, moment }),
            2 => (app.clone(), prop::sample::select(Category::ALL.to_vec()))
                .prop_map(|(app, category)| Op::Reclassify { app, category }),
            1 => app.clone().prop_map(Op::Withdraw),
            2 => app.clone().prop_map(Op::StartReview),
            1 => app.clone().prop_map(Op::RequestInfo),
            1 => app.clone().prop_map(Op::AnswerInfo),
            1 => app.clone().prop_map(Op::Approve),
            1 => app.prop_map(Op::Reject),
        ]
    }

    /// Three events in September 2018 (after every submission moment): a melding, a
    /// reduced category A and a category C with every extra line.
    fn event(template: usize) -> Event {
        let big = template == 2;
        Event {
            name: format!("Evenement {template}"),
            description: "Eigenschapstest".into(),
            kern: Kern::new("dronten"),
            address: "Markt 1".into(),
            starts_at: at("2018-09-08T14:00:00+02:00"),
            ends_at: at(if big {
                "2018-09-09T20:00:00+02:00"
            } else {
                "2018-09-08T20:00:00+02:00"
            }),
            expected_visitors: [80, 600, 6000][template],
            amplified_music: template > 0,
            max_sound_dba: Some(65),
            road_closure: big,
            alcohol: if big { Alcohol::Sale } else { Alcohol::None },
            largest_structure_m2: if big { 200 } else { 0 },
            on_water: false,
            fireworks: big,
            commercial: big,
            non_profit: template == 1,
        }
    }

    fn organiser() -> Organiser {
        Organiser {
            name: "Eigenschap".into(),
            organisation: None,
            kvk_number: None,
            email: loket::domain::formats::Email::parse("e@example.nl").unwrap(),
            phone: loket::domain::formats::Phone::parse("0321 123456").unwrap(),
        }
    }

    async fn check(
        store: &dyn DocumentStore,
        apps: &[Application],
        step: usize,
    ) -> Result<(), TestCaseError> {
        for year in YEARS {
            let stored = records::Permits::new(store)
                .coverage(year)
                .await
                .expect("read aggregates");
            let recomputed: BTreeMap<Bucket, Sums> = coverage::recompute(year, apps);
            prop_assert_eq!(&stored, &recomputed, "year {} after step {}", year, step);
        }
        Ok(())
    }

    async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = new_store(Some(&dir)).await;
        let store = store.as_ref();
        let tariffs = Tariffs::built_in();
        let mut apps: Vec<Application> = Vec::new();
        let mut now: DateTime<Utc> = at(MOMENTS[0]);
        let staff = || Actor::Staff("prop".into());
        for (step, op) in ops.into_iter().enumerate() {
            let action = match op {
                Op::Submit { template, moment } => {
                    now = now.max(at(MOMENTS[moment]));
                    let quote = permit::quote(&event(template), now, &tariffs).expect("quotable");
                    let app = Application::submit(
                        format!("app-{step}"),
                        loket::domain::formats::Reference::new(
                            loket::domain::formats::Register::Permits,
                            2017,
                            step as u64,
                        ),
                        "hash".into(),
                        organiser(),
                        event(template),
                        quote,
                        now,
                    );
                    let mut change =
                        Change::create(records::permit_document(&app).expect("document"));
                    change.aggregates = records::coverage_aggregates(&coverage::deltas(None, &app));
                    store.commit(change).await.expect("submit");
                    apps.push(app);
                    check(store, &apps, step).await?;
                    continue;
                }
                Op::Reclassify { app, category } => (
                    app,
                    PermitAction::Reclassify {
                        category,
                        reason: None,
                    },
                    staff(),
                ),
                Op::Withdraw(app) => (app, PermitAction::Withdraw, Actor::Organiser),
                Op::StartReview(app) => (app, PermitAction::StartReview, staff()),
                Op::RequestInfo(app) => (
                    app,
                    PermitAction::RequestInfo {
                        reason: "Waarom?".into(),
                    },
                    staff(),
                ),
                Op::AnswerInfo(app) => (
                    app,
                    PermitAction::AnswerInfo {
                        message: "Daarom.".into(),
                    },
                    Actor::Organiser,
                ),
                Op::Approve(app) => (app, PermitAction::Approve { reason: None }, staff()),
                Op::Reject(app) => (
                    app,
                    PermitAction::Reject {
                        reason: "Nee".into(),
                    },
                    staff(),
                ),
            };
            let (index, action, actor) = action;
            if apps.is_empty() {
                continue;
            }
            let index = index % apps.len();
            let before = apps[index].clone();
            // Refused transitions change nothing (the domain decides; not our concern).
            if let Ok(after) = before.apply(&action, actor, now, &tariffs) {
                records::Permits::new(store)
                    .transition(&before, &after, &[])
                    .await
                    .expect("save");
                apps[index] = after;
            }
            check(store, &apps, step).await?;
        }
        // What the store lists per year is exactly the model's applications.
        for year in YEARS {
            let listed = records::Permits::new(store)
                .list_all(year)
                .await
                .expect("list");
            let mut wanted: Vec<&Application> = apps
                .iter()
                .filter(|a| a.submission_year() == year)
                .collect();
            wanted.sort_by_key(|a| (a.submitted_at, a.id.clone()));
            prop_assert_eq!(listed.iter().collect::<Vec<_>>(), wanted, "year {}", year);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn random_submissions_reclassifications_withdrawals_and_decisions_keep_the_aggregates_exact(
            ops in prop::collection::vec(op(), 1..25)
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(run(ops))?;
        }
    }
}
