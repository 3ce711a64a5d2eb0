//! docs/ and the code stay true together: every test a document cites exists where it
//! says, and every link in the README and docs/ points at a file of this repository.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn documents() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.push(root().join("README.md"));
    docs
}

/// `` `src/x.rs::name` `` citations: (file, function).
fn citations(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for piece in text.split('`').skip(1).step_by(2) {
        if let Some((file, name)) = piece.split_once("::")
            && (file.starts_with("src/") || file.starts_with("tests/"))
            && file.ends_with(".rs")
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            out.push((file.to_string(), name.to_string()));
        }
    }
    out
}

/// Relative link targets of `[text](target)`, without their `#anchor`.
fn links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target))
        .filter(|t| !t.starts_with("http://") && !t.starts_with("https://") && !t.starts_with('#'))
        .map(|t| t.split('#').next().unwrap_or(t).to_string())
        .collect()
}

#[test]
fn every_cited_test_exists_where_the_docs_say() {
    let mut missing = Vec::new();
    let mut count = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        for (file, name) in citations(&text) {
            count += 1;
            let source = std::fs::read_to_string(root().join(&file)).unwrap_or_default();
            if !source.contains(&format!("fn {name}(")) {
                missing.push(format!("{}: {file}::{name}", doc.display()));
            }
        }
    }
    assert!(count > 20, "the docs cite their tests ({count} found)");
    assert!(
        missing.is_empty(),
        "cited but not found:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_link_points_into_the_repository() {
    let mut broken = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let dir = doc.parent().unwrap();
        for target in links(&text) {
            let resolved = dir.join(&target);
            let inside = resolved
                .canonicalize()
                .is_ok_and(|p| p.starts_with(root().canonicalize().unwrap()));
            if !inside {
                broken.push(format!("{}: {target}", doc.display()));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links outside the repository or to nothing:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_architecture_names_only_modules_that_exist() {
    let text = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let named: Vec<&str> = text
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|p| p.starts_with("src/") && !p.contains("::") && !p.contains(' '))
        .collect();
    assert!(named.len() > 10, "the architecture names its modules");
    for path in named {
        assert!(
            Path::new(&root().join(path)).exists(),
            "docs/architecture.md: {path}"
        );
    }
}

/// Every folder under `src/`, as `src/name/`.
fn source_folders(dir: &Path, into: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let relative = path.strip_prefix(root()).unwrap().display().to_string();
            into.push(format!("{relative}/"));
            source_folders(&path, into);
        }
    }
}

#[test]
fn the_architecture_and_the_readme_name_every_source_folder() {
    let architecture = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut folders = Vec::new();
    source_folders(&root().join("src"), &mut folders);
    assert!(folders.len() > 5, "src/ has its folders");
    for folder in folders {
        assert!(
            architecture.contains(&format!("`{folder}`")),
            "docs/architecture.md does not name `{folder}`"
        );
        // The layout names a subfolder under its parent, by its last name.
        let last = folder
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        assert!(
            readme.contains(&folder) || readme.contains(&format!(" {last}/")),
            "README.md's layout does not name {folder}"
        );
    }
}

/// One form of address everywhere (#21): the pages and the e-mails say "u" and
/// "u heeft", never "je", "jouw" or "u hebt".
#[test]
fn pages_and_mail_address_the_reader_as_u_heeft() {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(root().join("templates"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    sources.push(root().join("src/notify/letters.rs"));
    sources.push(root().join("src/app/messages.rs"));
    let mut found = Vec::new();
    for path in &sources {
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let lower = line.to_lowercase();
            let words: Vec<&str> = lower
                .split(|c: char| !c.is_alphabetic())
                .filter(|w| !w.is_empty())
                .collect();
            let informal = words.iter().any(|w| matches!(*w, "je" | "jouw" | "jij"));
            let hebt = words
                .windows(2)
                .any(|w| w == ["u", "hebt"] || w == ["hebt", "u"]);
            if informal || hebt {
                found.push(format!("{}:{}: {line}", path.display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
