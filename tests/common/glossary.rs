//! The codes of docs/glossary.md, and the check that a text meant for people (a page,
//! an e-mail, the Excel export) shows none of them as a word of its own: where a
//! person reads, the glossary's Dutch stands instead.

use std::path::Path;

/// Codes that are Dutch words themselves, or too short to tell from ordinary text.
fn is_looked_for(code: &str) -> bool {
    // "buitengebied Dronten" is how a place in the countryside is written.
    code.chars().count() > 1 && !matches!(code, "melding" | "vergunning" | "buitengebied")
}

/// Every code in the first column of the glossary's tables.
pub fn codes() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/glossary.md");
    let text = std::fs::read_to_string(&path).expect("docs/glossary.md");
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`').map(|(code, _)| code.to_string()))
        .collect()
}

/// The glossary's codes that `text` shows as words. E-mail addresses and web
/// addresses are skipped (`evenementen@dronten.nl` is not the kern `dronten`).
pub fn raw_codes_in(text: &str) -> Vec<String> {
    let codes: Vec<String> = codes().into_iter().filter(|c| is_looked_for(c)).collect();
    let mut found = Vec::new();
    for token in text.split_whitespace() {
        let address = token.contains('@')
            || token.contains("://")
            || token.contains(".nl")
            || token.starts_with('/');
        if address {
            continue;
        }
        for word in token.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if codes.iter().any(|code| code == word) && !found.iter().any(|f| f == word) {
                found.push(word.to_string());
            }
        }
    }
    found
}

/// Fails, naming the codes, when `text` (what `what` shows) holds any.
pub fn assert_no_raw_codes(what: &str, text: &str) {
    let found = raw_codes_in(text);
    assert!(
        found.is_empty(),
        "{what} shows the code(s) {found:?} where docs/glossary.md gives Dutch:\n{text}"
    );
}

#[test]
fn the_glossary_check_finds_codes_and_passes_dutch() {
    assert!(codes().len() > 30, "{:?}", codes());
    assert_eq!(
        raw_codes_in("Kern: biddinghuizen, alcohol: sale (in_review)"),
        ["biddinghuizen", "sale", "in_review"]
    );
    assert!(
        raw_codes_in(
            "Biddinghuizen. Alcohol wordt verkocht. Uw melding is in behandeling; \
             mail evenementen@dronten.nl of kijk op https://loket.dronten.nl/x. Categorie B."
        )
        .is_empty()
    );
}
