use super::*;
use crate::domain::leges::Applies;
use crate::domain::money::Cents;
use crate::domain::place::Kern;
use crate::domain::risk::Category;
use crate::domain::risk::tests::at;

#[test]
fn drontens_profile_holds_what_was_compiled_in() {
    let d = Municipality::dronten();
    assert_eq!((d.id.as_str(), d.name.as_str()), ("dronten", "Dronten"));
    assert_eq!(d.cbs_code, "0303");
    let kernen: Vec<(&str, &str, &str)> = d
        .kernen
        .iter()
        .map(|k| (k.code.as_str(), k.name.as_str(), k.place()))
        .collect();
    assert_eq!(
        kernen,
        [
            ("dronten", "Dronten", "Dronten"),
            ("biddinghuizen", "Biddinghuizen", "Biddinghuizen"),
            ("swifterbant", "Swifterbant", "Swifterbant"),
            ("buitengebied", "Buitengebied", "buitengebied Dronten"),
        ]
    );
    assert_eq!(
        d.kern_codes().iter().map(Kern::as_str).collect::<Vec<_>>(),
        ["dronten", "biddinghuizen", "swifterbant", "buitengebied"],
        "the codes stored before kernen were data"
    );
    assert_eq!(
        d.kern_place(&Kern::new("buitengebied")),
        "buitengebied Dronten"
    );
    assert_eq!(d.kern_place(&Kern::new("nergens")), "nergens");
    assert_eq!(d.mail.from, "Gemeente Dronten <evenementen@dronten.nl>");
    assert_eq!(d.public_url, "https://loket.dronten.nl");
    assert_eq!(d.calendar.domain, "loket.dronten.nl");
    assert_eq!(d.calendar_prodid(), "-//Gemeente Dronten//loket//NL");
    assert_eq!(
        d.footer_line(),
        "Gemeente Dronten · De Rede 1, 8251 ER Dronten · 14 0321"
    );
    assert_eq!(
        d.signature(),
        [
            "Gemeente Dronten, team Evenementen",
            "De Rede 1, 8251 ER Dronten, telefoon 14 0321"
        ]
    );
    assert_eq!(
        (d.theme.primary.as_str(), d.theme.focus.as_str()),
        ("#00467f", "#ffdd00")
    );
    assert_eq!(
        d.terms,
        Terms {
            melding_working_days: 15,
            category_a_weeks: 8,
            category_b_weeks: 12,
            category_c_weeks: 12,
            alcohol_sale_weeks: 12,
            withdrawal_refund_percent: 50,
            respect_week_erasure_days: 365,
        }
    );
    let years = |t: &[TariffTable]| t.iter().map(|t| t.year).collect::<Vec<_>>();
    assert_eq!(years(&d.tariffs), [2017, 2026, 2027]);
    let t2017 = &d.tariffs[0];
    let lines: Vec<(&str, Cents)> = t2017
        .lines
        .iter()
        .map(|l| (l.code.as_str(), l.amount_cents))
        .collect();
    assert_eq!(
        lines,
        [
            ("3.2.1", 3_000),
            ("3.2.2.1", 15_000),
            ("3.2.2.2", 45_000),
            ("3.2.2.3", 120_000),
            ("3.2.3", 5_000),
            ("3.2.4", 9_500),
            ("3.2.5", 11_800),
        ]
    );
    assert_eq!(t2017.coordination_cost_cents, 3_200_000);
    let editions: Vec<i32> = d.respect_week_editions.iter().map(|e| e.year).collect();
    assert_eq!(editions, [2017, 2027]);
    assert_eq!(Municipality::built_in(), [d]);
}

#[test]
fn a_profile_reads_back_what_it_prints() {
    let d = Municipality::dronten();
    let text = d.to_toml();
    assert!(text.starts_with("id = \"dronten\"\n"), "{text}");
    assert!(text.contains("[[tariffs.lines]]"), "{text}");
    assert_eq!(Municipality::from_toml(&text), Ok(d));
}

#[test]
fn the_rules_get_the_profiles_terms() {
    let mut m = Municipality::dronten();
    assert_eq!(m.tariffs().terms(), &m.terms);
    let e2017 = m.editions().get(2017).cloned().unwrap();
    assert_eq!(e2017.erasure_at(), at("2018-11-13T00:00:00+01:00"));
    m.terms.respect_week_erasure_days = 30;
    let e2017 = m.editions().get(2017).cloned().unwrap();
    assert_eq!(e2017.erasure_at(), at("2017-12-13T00:00:00+01:00"));
}

fn broken() -> Municipality {
    let mut m = Municipality::dronten();
    m.id = "Dronten".into();
    m.cbs_code = "303".into();
    m.public_url = "https://loket.dronten.nl/".into();
    m.kernen[1].code = "dronten".into();
    m.kernen[2].name = " ".into();
    m.mail.from = "Gemeente Dronten evenementen@".into();
    m.calendar.domain = "localhost".into();
    m.terms.withdrawal_refund_percent = 150;
    m.theme.on_primary = "#0000ff".into();
    let again = m.respect_week_editions[0].clone();
    m.respect_week_editions.push(again);
    let t = &mut m.tariffs[0];
    t.lines[1].code = "3.2.1".into();
    t.lines[2].categories = vec![Category::A];
    t.lines[4].amount_cents = -1;
    t.lines[5].non_profit_reduction_percent = Some(0);
    m.tariffs[2].year = 2026;
    m
}

#[test]
fn every_problem_of_a_profile_is_named_by_its_path() {
    assert_eq!(Municipality::dronten().validate(), Ok(()));
    let error = broken().validate().unwrap_err();
    let paths: Vec<&str> = error
        .problems
        .iter()
        .map(|p| p.split(':').next().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "id",
            "cbs_code",
            "public_url",
            "kernen[1].code",
            "kernen[2].name",
            "mail.from",
            "calendar.domain",
            "terms.withdrawal_refund_percent",
            "theme.on_primary",
            "respect_week_editions[2]",
            "tariffs[0].lines[1].code",
            "tariffs[0].lines[4].amount_cents",
            "tariffs[0].lines[5].non_profit_reduction_percent",
            "tariffs[0].lines",
            "tariffs[0].lines",
            "tariffs[2].year",
        ],
        "{error}"
    );
    // Category A has two base fees now, B none.
    assert!(
        error.problems[13].contains("'A' has 2 base fees"),
        "{error}"
    );
    assert!(
        error.problems[14].contains("'B' has 0 base fees"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .starts_with("municipality 'Dronten': id: ")
    );
}

#[test]
fn addresses_and_names_are_checked() {
    for (value, ok) in [
        ("Gemeente Dronten <evenementen@dronten.nl>", true),
        ("evenementen@dronten.nl", true),
        ("<evenementen@dronten.nl>", false),
        ("Gemeente \"Dronten\" <evenementen@dronten.nl>", false),
        ("Gemeente Dronten", false),
    ] {
        assert_eq!(is_mailbox(value), ok, "{value}");
    }
    for (value, ok) in [
        ("https://loket.dronten.nl", true),
        ("https://loket.dronten.nl:8443", true),
        ("http://loket.dronten.nl", false),
        ("https://loket.dronten.nl/evenementen", false),
        ("https://loket.dronten.nl:0", false),
        ("https://Loket.Dronten.nl", false),
    ] {
        assert_eq!(is_public_url(value), ok, "{value}");
    }
    for (value, ok) in [
        ("dronten", true),
        ("sudwest-fryslan", true),
        ("0303", false),
        ("", false),
    ] {
        assert_eq!(is_code(value), ok, "{value}");
    }
}

#[test]
fn an_old_config_amends_the_profile_with_lines() {
    let mut m = Municipality::dronten();
    let legacy = LegacyTariffTable {
        year: 2028,
        coordination_cost_cents: 4_100_000,
        melding_cents: 4_000,
        category_a_cents: 19_500,
        category_b_cents: 58_500,
        category_c_cents: 156_000,
        extra_day_cents: 6_500,
        road_closure_cents: 12_400,
        alcohol_exemption_cents: 15_300,
    };
    let edition: Edition =
        toml::from_str("year = 2028\nstarts_on = 2028-11-06\nends_on = 2028-11-12\n").unwrap();
    m.amend(std::slice::from_ref(&legacy), &[edition]).unwrap();
    assert_eq!(m.validate(), Ok(()));
    let t2028 = m.tariffs().for_year(2028).cloned().unwrap();
    assert_eq!(t2028.coordination_cost_cents, 4_100_000);
    let amounts: Vec<(&str, Cents)> = t2028
        .lines
        .iter()
        .map(|l| (l.code.as_str(), l.amount_cents))
        .collect();
    assert_eq!(
        amounts,
        [
            ("3.2.1", 4_000),
            ("3.2.2.1", 19_500),
            ("3.2.2.2", 58_500),
            ("3.2.2.3", 156_000),
            ("3.2.3", 6_500),
            ("3.2.4", 12_400),
            ("3.2.5", 15_300),
        ]
    );
    let t2027 = m.tariffs().for_year(2027).cloned().unwrap();
    for (old, new) in t2027.lines.iter().zip(&t2028.lines) {
        assert_eq!(
            (&old.text, old.applies, &old.categories),
            (&new.text, new.applies, &new.categories)
        );
    }
    assert_eq!(t2028.line("3.2.3").unwrap().applies, Applies::PerExtraDay);
    assert!(m.editions().get(2028).is_some());

    // A profile whose codes are not the seven of the named fields cannot take one.
    let mut other = Municipality::dronten();
    for t in &mut other.tariffs {
        t.lines[0].code = "1.1".into();
    }
    let error = other.amend(&[legacy], &[]).unwrap_err();
    assert!(error.contains("3.2.1, 3.2.2.1"), "{error}");
}
