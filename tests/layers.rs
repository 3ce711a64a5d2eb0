//! The layers of docs/architecture.md, checked on the source: the HTTP edge speaks
//! to the store only through its repositories, in domain types; the domain knows
//! neither HTTP nor storage; no source file grows past what a reader takes in at once.

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
