//! `loket municipality show|list` (issue #20): the profile in force as TOML, built in
//! or as `LOKET_CONFIG` replaces, adds or (in the old format) amends it.

use std::path::Path;
use std::process::Command;

use loket::domain::municipality::Municipality;

/// Runs `loket municipality <args>` with `LOKET_CONFIG` set to `config` (or unset):
/// (success, stdout, stderr).
fn loket(args: &[&str], config: Option<&Path>) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loket"));
    command
        .arg("municipality")
        .args(args)
        .env_remove("LOKET_CONFIG")
        .env_remove("LOKET_MUNICIPALITY")
        .env_remove("RUST_LOG");
    if let Some(path) = config {
        command.env("LOKET_CONFIG", path);
    }
    let output = command.output().expect("loket runs");
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn config_file(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("loket.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn loket_municipality_show_dronten_prints_its_profile() {
    let (ok, out, err) = loket(&["show", "dronten"], None);
    assert!(ok, "{err}");
    for expected in [
        "id = \"dronten\"\n",
        "name = \"Dronten\"\n",
        "cbs_code = \"0303\"\n",
        "from = \"Gemeente Dronten <evenementen@dronten.nl>\"\n",
        "domain = \"loket.dronten.nl\"\n",
        "withdrawal_refund_percent = 50\n",
        "primary = \"#00467f\"\n",
    ] {
        assert!(out.contains(expected), "{expected:?} in\n{out}");
    }
    let kernen: Vec<&str> = out
        .split("[[kernen]]\ncode = \"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(
        kernen,
        ["dronten", "biddinghuizen", "swifterbant", "buitengebied"]
    );
    // Three tables of seven lines each; 2017's category C and its extra day.
    assert_eq!(out.matches("[[tariffs]]").count(), 3);
    assert_eq!(out.matches("[[tariffs.lines]]").count(), 21);
    assert!(out.contains(
        "code = \"3.2.2.3\"\ntext = \"Evenementenvergunning categorie C\"\namount_cents = 120000\napplies = \"base_fee\"\ncategories = [\"C\"]\n"
    ));
    assert!(out.contains("code = \"3.2.3\"\ntext = \"Extra evenementdag\"\namount_cents = 5000\napplies = \"per_extra_day\"\n"));
    // What it prints is the profile, and reads back as one.
    assert_eq!(Municipality::from_toml(&out), Ok(Municipality::dronten()));

    let (ok, out, _) = loket(&["list"], None);
    assert!(ok);
    assert_eq!(out, "* dronten\t0303\tDronten\n");
    let (ok, _, err) = loket(&["show", "almere"], None);
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "loket: no municipality 'almere' (known: dronten)"
    );
}

#[test]
fn a_profile_printed_for_loket_config_replaces_the_built_in_one_or_adds_one() {
    let (ok, section, err) = loket(&["show", "dronten", "--as-config"], None);
    assert!(ok, "{err}");
    assert!(
        section.starts_with("[[municipality]]\nid = \"dronten\"\n"),
        "{section}"
    );
    assert!(section.contains("[[municipality.tariffs.lines]]"));
    let dir = tempfile::tempdir().unwrap();
    let edited = section.replace(
        "withdrawal_refund_percent = 50",
        "withdrawal_refund_percent = 100",
    );
    let added = section
        .replace("id = \"dronten\"", "id = \"lelystad\"")
        .replace("name = \"Dronten\"", "name = \"Lelystad\"")
        .replace("cbs_code = \"0303\"", "cbs_code = \"0995\"");
    let path = config_file(&dir, &format!("{edited}\n{added}"));
    let (ok, out, err) = loket(&["show", "dronten"], Some(&path));
    assert!(ok, "{err}");
    assert!(out.contains("withdrawal_refund_percent = 100\n"), "{out}");
    let (ok, out, err) = loket(&["show", "lelystad"], Some(&path));
    assert!(ok, "{err}");
    assert!(
        out.contains("name = \"Lelystad\"\ncbs_code = \"0995\"\n"),
        "{out}"
    );
    let (_, out, _) = loket(&["list"], Some(&path));
    assert_eq!(
        out,
        "* dronten\t0303\tDronten\n  lelystad\t0995\tLelystad\n"
    );

    let broken = section.replace("cbs_code = \"0303\"", "cbs_code = \"303\"");
    let path = config_file(&dir, &broken);
    let (ok, _, err) = loket(&["show", "dronten"], Some(&path));
    assert!(!ok);
    assert!(
        err.contains("loket.toml: municipality[0]: municipality 'dronten': cbs_code: '303' is not four digits"),
        "{err}"
    );
}

#[test]
fn an_old_loket_config_still_reads_and_amends_drontens_profile() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_file(
        &dir,
        "[[tariffs]]\nyear = 2028\ncoordination_cost_cents = 4100000\nmelding_cents = 4000\n\
         category_a_cents = 19500\ncategory_b_cents = 58500\ncategory_c_cents = 156000\n\
         extra_day_cents = 6500\nroad_closure_cents = 12400\nalcohol_exemption_cents = 15300\n\n\
         [[respect_week_editions]]\nyear = 2028\nstarts_on = 2028-11-06\nends_on = 2028-11-12\n",
    );
    let (ok, out, err) = loket(&["show", "dronten"], Some(&path));
    assert!(ok, "{err}");
    let profile = Municipality::from_toml(&out).unwrap();
    let t2028 = profile.tariffs.iter().find(|t| t.year == 2028).unwrap();
    assert_eq!(t2028.amount("3.2.1"), Some(4_000));
    assert_eq!(t2028.amount("3.2.5"), Some(15_300));
    assert_eq!(
        t2028.line("3.2.2.1").unwrap().text,
        "Evenementenvergunning categorie A"
    );
    let edition = profile
        .respect_week_editions
        .iter()
        .find(|e| e.year == 2028)
        .unwrap();
    assert_eq!(edition.registration_closes_on.to_string(), "2028-11-05");

    let path = config_file(
        &dir,
        "[[tariffs]]\nyear = 2028\ncoordination_cost_cents = 4100000\nmelding_cents = \"veertig\"\n",
    );
    let (ok, _, err) = loket(&["show", "dronten"], Some(&path));
    assert!(!ok);
    assert!(
        err.contains(
            "tariffs[0].melding_cents: invalid type: string \"veertig\", expected i64 (line 4)"
        ),
        "{err}"
    );
}
