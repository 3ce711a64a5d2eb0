//! The settings come from the environment (clap's `env` support): each bad value is
//! refused with a message naming the variable, and a blank variable counts as unset.

use std::process::Command;

/// Runs `loket token` (which reads the settings first) with `env` added.
fn loket_token(env: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_loket"))
        .args(["token", "--sub", "j.visser"])
        .env("LOKET_JWT_SECRET", "settings-test-secret-of-32-bytes-long")
        .envs(env.iter().copied())
        .output()
        .expect("loket runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

#[test]
fn bad_settings_are_named_and_blank_ones_are_unset() {
    let refused = [
        (
            ("LOKET_STORE", "mongodb"),
            "loket: LOKET_STORE must be 'embedded' or 'dynamodb', not 'mongodb'",
        ),
        (
            ("LOKET_RATE_LIMIT", "veel"),
            "loket: LOKET_RATE_LIMIT must be a whole number of requests per minute (0: off), not 'veel'",
        ),
        (
            ("LOKET_NOW", "2017-03-01"),
            "loket: LOKET_NOW '2017-03-01': premature end of input",
        ),
    ];
    for ((name, value), message) in refused {
        let (ok, stderr) = loket_token(&[(name, value)]);
        assert!(!ok, "{name}={value} is refused");
        assert_eq!(stderr, message, "{name}={value}");
    }
    for blank in [
        "LOKET_STORE",
        "LOKET_NOW",
        "LOKET_RATE_LIMIT",
        "LOKET_TABLE",
    ] {
        let (ok, stderr) = loket_token(&[(blank, " ")]);
        assert!(ok, "{blank} blank counts as unset: {stderr}");
    }
    let (ok, stderr) = loket_token(&[
        ("LOKET_STORE", "dynamodb"),
        ("LOKET_NOW", "2017-03-01T10:00:00+01:00"),
        ("LOKET_RATE_LIMIT", "0"),
    ]);
    assert!(ok, "good values are taken: {stderr}");
}
