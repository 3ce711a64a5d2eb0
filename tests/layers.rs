//! The layers of docs/architecture.md, checked on the source, one test per arrow:
//!
//! - `api` (JSON) and `web` (pages) are siblings: the API never names the pages, and
//!   the pages reach the store only through the use cases;
//! - `notify` knows neither adapter;
//! - the use cases (`app`) name no HTTP type;
//! - the domain does no I/O and knows neither HTTP nor storage;
//! - the HTTP edge speaks to the store only through its repositories;
//! - no source file grows past what a reader takes in at once.
//!
//! Each check is a whole-identifier search of the source text, comments included (a
//! comment naming another layer's type is a sign of a leak too).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every line of `dir`'s sources that names one of `words` as a whole identifier
/// (comments included: a comment naming the engine is a sign of a leak too).
fn mentions(dir: &str, words: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for word in words {
                let hit = line.match_indices(word).any(|(at, _)| {
                    let before = line[..at].chars().next_back();
                    let after = line[at + word.len()..].chars().next();
                    !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
                });
                if hit {
                    found.push(format!(
                        "{}:{}: {word}: {}",
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn the_http_edge_never_touches_the_document_layer() {
    let leaks = mentions(
        "src/api",
        &[
            "Document",
            "DocumentStore",
            "Index",
            "IndexEntry",
            "ListQuery",
            "Change",
            "Collection",
            "SequenceClaim",
            "AggregateDelta",
            "SharedStore",
        ],
    );
    assert!(
        leaks.is_empty(),
        "src/api uses the engine:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn the_api_never_names_the_pages() {
    let leaks = mentions("src/api", &["crate::web", "web::"]);
    assert!(
        leaks.is_empty(),
        "src/api uses src/web:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn notifications_know_neither_the_api_nor_the_pages() {
    let leaks = mentions(
        "src/notify",
        &["crate::web", "crate::api", "web::", "api::"],
    );
    assert!(
        leaks.is_empty(),
        "src/notify uses an HTTP adapter:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn the_pages_reach_the_store_only_through_the_use_cases() {
    let leaks = mentions(
        "src/web",
        &["crate::store", "store::", "StoreError", "Store", "Listing"],
    );
    assert!(
        leaks.is_empty(),
        "src/web uses the store:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn the_use_cases_name_no_http_type() {
    let leaks = mentions(
        "src/app",
        &[
            "axum",
            "http",
            "hyper",
            "lambda_http",
            "tower",
            "StatusCode",
            "HeaderMap",
            "HeaderValue",
            "IntoResponse",
            "Response",
            "Json",
            "crate::api",
            "crate::web",
            "ApiError",
        ],
    );
    assert!(
        leaks.is_empty(),
        "src/app speaks HTTP:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn the_domain_does_no_io() {
    let leaks = mentions(
        "src/domain",
        &[
            "std::fs",
            "std::net",
            "std::env",
            "std::io",
            "std::process",
            "tokio",
            "async",
            "await",
            "reqwest",
            "Utc::now",
            "Local::now",
            "SystemTime",
            "Instant",
            "OsRng",
            "thread_rng",
            "println",
            "eprintln",
        ],
    );
    assert!(
        leaks.is_empty(),
        "src/domain does I/O:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn the_domain_knows_neither_http_nor_storage() {
    let leaks = mentions(
        "src/domain",
        &[
            "axum",
            "crate::store",
            "StoreError",
            "lambda_http",
            "aws_sdk_dynamodb",
            "redb",
        ],
    );
    assert!(
        leaks.is_empty(),
        "src/domain reaches out:\n{}",
        leaks.join("\n")
    );
}
#[test]
fn no_source_file_is_over_about_six_hundred_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let long: Vec<String> = rust_files(&root)
        .into_iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            (lines > 650).then(|| format!("{}: {lines} lines", file.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by concept:\n{}",
        long.join("\n")
    );
}
