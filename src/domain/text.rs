//! What free text (names, titles, addresses, descriptions) may hold.
//!
//! Letters, marks, digits, punctuation, symbols and spaces; line breaks only where a
//! field is multi-line. Refused: control characters (NUL, CR, ESC, BEL, DEL, …),
//! format characters (zero-width space, U+202E right-to-left override, the BOM, …),
//! private-use and surrogate code points, the Unicode line and paragraph separators,
//! and noncharacters. These can forge log lines, break CSV and iCalendar output, or
//! make a name look like something else. Unassigned code points are allowed, so that
//! characters of a newer Unicode version (a new emoji) are not refused.
//!
//! Text must also show something: a value of spaces only is no value. Accepted text is
//! stored trimmed and NFC-normalised, so one name is always one string.
//!
//! The same predicate generates the `pattern` of the OpenAPI document
//! ([`pattern`]), so the published contract and the check cannot drift apart.

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

/// Single line (names, titles) or multi-line (descriptions, reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// Only spaces (or nothing): the field is effectively missing.
    Blank,
    /// A character that is not allowed in this field.
    Character,
}

/// A character no text field may hold (line breaks are decided by [`Lines`]).
fn forbidden(c: char) -> bool {
    let noncharacter = matches!(c as u32, 0xFDD0..=0xFDEF) || (c as u32 & 0xFFFE) == 0xFFFE;
    noncharacter
        || matches!(
            get_general_category(c),
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::PrivateUse
                | GeneralCategory::Surrogate
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// White space that does not count as "something visible".
fn blank(c: char) -> bool {
    c == '\n' || get_general_category(c) == GeneralCategory::SpaceSeparator
}

fn allowed(c: char, lines: Lines) -> bool {
    (c == '\n' && lines == Lines::Many) || !forbidden(c)
}

/// Checks `text` as sent.
pub fn check(text: &str, lines: Lines) -> Result<(), TextError> {
    if !text.chars().all(|c| allowed(c, lines)) {
        Err(TextError::Character)
    } else if text.chars().all(blank) {
        Err(TextError::Blank)
    } else {
        Ok(())
    }
}

/// The stored form of accepted text: trimmed, NFC.
pub fn normalise(text: &str) -> String {
    text.trim().nfc().collect()
}

/// `text` without the characters a field of this kind may not hold: for output that
/// must not break whatever the store holds (data written before these rules, or by
/// hand). A line break in single-line text becomes a space.
pub fn printable(text: &str, lines: Lines) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\n' if lines == Lines::One => Some(' '),
            c if allowed(c, lines) => Some(c),
            _ => None,
        })
        .collect()
}

/// Whether a text is blank (only spaces): an optional field sent blank is absent.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(blank)
}

/// A regex character-class body built run by run, with the characters themselves
/// (not escapes), which both ECMA-262 with the `u` flag and Python's `re` read as
/// code points.
#[derive(Default)]
struct Class {
    body: String,
    run: Option<(char, char)>,
}

impl Class {
    fn push(&mut self, c: char) {
        self.run = Some(match self.run {
            Some((from, to)) if to as u32 + 1 == c as u32 => (from, c),
            Some(done) => {
                self.flush(done);
                (c, c)
            }
            None => (c, c),
        });
    }

    fn flush(&mut self, (from, to): (char, char)) {
        self.put(from);
        if from != to {
            self.body.push('-'); // the range itself, not a literal dash
            self.put(to);
        }
    }

    /// A character of the class: printable ASCII as itself (escaped where the class
    /// syntax needs it), the rest of the first 65,536 code points as `\uXXXX`, which
    /// ECMA-262, Python's `re` and Rust's `regex` all read, and which keeps control
    /// characters out of the document's text (YAML readers of JSON refuse them). Above
    /// that there is no escape all three share: those stay literal (and printable).
    fn put(&mut self, c: char) {
        use std::fmt::Write;
        match c {
            '\\' | ']' | '[' | '^' | '-' => {
                self.body.push('\\');
                self.body.push(c);
            }
            ' '..='~' => self.body.push(c),
            '\u{80}'..='\u{ffff}' | '\0'..='\u{7f}' => {
                let _ = write!(self.body, "\\u{:04X}", c as u32);
            }
            _ => self.body.push(c),
        }
    }

    fn finish(mut self) -> String {
        if let Some(done) = self.run.take() {
            self.flush(done);
        }
        self.body
    }
}

/// The code points [`check`] refuses that the published [`pattern`] leaves to the
/// check: planes 15 and 16, all private use or noncharacters. Generators such as
/// Hypothesis expand a class range code point by code point, and this one range of
/// 131,072 made every generated text cost over a second; without it, a tenth of
/// that. A text holding one of them is still refused (422 `character`).
pub const UNPUBLISHED: std::ops::RangeInclusive<char> = '\u{F0000}'..='\u{10FFFF}';

/// The JSON Schema `pattern` of a text field: only allowed characters, and (when
/// `required`) at least one that is not a space. An optional field may be sent blank.
/// Exactly [`check`], but for [`UNPUBLISHED`]. Built once per process, in one walk
/// over every code point.
pub fn pattern(lines: Lines, required: bool) -> String {
    use std::sync::OnceLock;
    static PATTERNS: OnceLock<[String; 4]> = OnceLock::new();
    let all = PATTERNS.get_or_init(|| {
        // Refused, and refused or blank, for single- and multi-line text.
        let mut classes: [Class; 4] = Default::default();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            if UNPUBLISHED.contains(&c) {
                continue;
            }
            let is_blank = blank(c);
            for (i, lines) in [Lines::One, Lines::Many].into_iter().enumerate() {
                let refused = !allowed(c, lines);
                if refused {
                    classes[i * 2].push(c);
                }
                if refused || is_blank {
                    classes[i * 2 + 1].push(c);
                }
            }
        }
        let [one, one_or_blank, many, many_or_blank] = classes.map(Class::finish);
        [
            format!("^[^{one}]*$"),
            format!("^[^{one}]*[^{one_or_blank}][^{one}]*$"),
            format!("^[^{many}]*$"),
            format!("^[^{many}]*[^{many_or_blank}][^{many}]*$"),
        ]
    });
    all[usize::from(lines == Lines::Many) * 2 + usize::from(required)].clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_text_may_hold() {
        use Lines::{Many, One};
        let cases: &[(&str, &str, Lines, Result<(), TextError>)] = &[
            ("a plain name", "A. de Vries", One, Ok(())),
            (
                "accents and punctuation",
                "Café 't Hoekje & Zn.",
                One,
                Ok(()),
            ),
            ("symbols and emoji", "Zomerfest ☀️ €5", One, Ok(())),
            ("other scripts", "Фестиваль 夏祭り", One, Ok(())),
            (
                "a line break in a description",
                "Regel 1\nRegel 2",
                Many,
                Ok(()),
            ),
            (
                "a line break in a name",
                "Regel 1\nRegel 2",
                One,
                Err(TextError::Character),
            ),
            ("NUL", "a\u{0}b", One, Err(TextError::Character)),
            (
                "a lone CR",
                "Les\rEND:VEVENT",
                Many,
                Err(TextError::Character),
            ),
            (
                "ESC (ANSI colours)",
                "\u{1b}[31mrood",
                One,
                Err(TextError::Character),
            ),
            ("BEL", "ding\u{7}", One, Err(TextError::Character)),
            ("DEL", "x\u{7f}", One, Err(TextError::Character)),
            ("a tab", "a\tb", Many, Err(TextError::Character)),
            (
                "U+2028 line separator",
                "a\u{2028}b",
                Many,
                Err(TextError::Character),
            ),
            (
                "U+202E right-to-left override",
                "gpj.\u{202e}exe",
                One,
                Err(TextError::Character),
            ),
            ("a BOM", "\u{feff}=1+1", One, Err(TextError::Character)),
            (
                "private use",
                "logo \u{e000}",
                One,
                Err(TextError::Character),
            ),
            (
                "private use, plane 15",
                "x\u{f0000}",
                One,
                Err(TextError::Character),
            ),
            (
                "a noncharacter",
                "x\u{fffe}",
                One,
                Err(TextError::Character),
            ),
            (
                "only a zero-width space",
                "\u{200b}",
                One,
                Err(TextError::Character),
            ),
            ("empty", "", One, Err(TextError::Blank)),
            (
                "spaces only",
                "  \u{a0}\u{3000} ",
                One,
                Err(TextError::Blank),
            ),
            ("line breaks only", "\n\n", Many, Err(TextError::Blank)),
        ];
        for (case, text, lines, expected) in cases {
            assert_eq!(check(text, *lines), *expected, "{case}");
        }
    }

    #[test]
    fn printable_drops_what_may_not_be_shown() {
        assert_eq!(
            printable("Les\rEND:VEVENT\u{0}x", Lines::One),
            "LesEND:VEVENTx"
        );
        assert_eq!(printable("a\nb\u{202e}c", Lines::One), "a bc");
        assert_eq!(printable("a\nb\u{1b}[31m", Lines::Many), "a\nb[31m");
    }

    #[test]
    fn stored_text_is_trimmed_and_nfc() {
        // "é" as e + combining acute becomes the one code point U+00E9.
        assert_eq!(normalise("  Cafe\u{301} "), "Caf\u{e9}");
        assert!(is_blank(" \u{a0}"));
        assert!(!is_blank(" a"));
    }

    #[test]
    fn the_published_pattern_accepts_exactly_what_the_check_accepts() {
        let samples = [
            "A. de Vries",
            "Zomerfest \u{2600}\u{fe0f}",
            " a ",
            "",
            " ",
            "\u{a0}",
            "a\nb",
            "\n",
            "a\u{0}",
            "a\rb",
            "\u{1b}[31m",
            "a\u{7f}",
            "a\tb",
            "a\u{2028}",
            "\u{202e}x",
            "\u{feff}=1",
            "\u{e000}",
            "x\u{f0000}",
            "x\u{10fffd}",
            "x\u{fffe}",
            "\u{200b}",
            "Caf\u{e9}",
            "\u{5d}\u{5c}^-[",
            "\u{10ffff}",
        ];
        for lines in [Lines::One, Lines::Many] {
            let required = regex::Regex::new(&pattern(lines, true)).expect("pattern compiles");
            let optional = regex::Regex::new(&pattern(lines, false)).expect("pattern compiles");
            for text in samples {
                let verdict = check(text, lines);
                let unpublished = text.chars().any(|c| UNPUBLISHED.contains(&c));
                // The pattern leaves those code points to the check: to the pattern
                // they are any visible character, and the check refuses them.
                if unpublished {
                    assert_eq!(verdict, Err(TextError::Character), "{text:?}");
                    let visible: String = text
                        .chars()
                        .map(|c| if UNPUBLISHED.contains(&c) { 'x' } else { c })
                        .collect();
                    assert_eq!(
                        required.is_match(text),
                        check(&visible, lines).is_ok(),
                        "{text:?}"
                    );
                    continue;
                }
                assert_eq!(
                    required.is_match(text),
                    verdict.is_ok(),
                    "{lines:?} {text:?}"
                );
                assert_eq!(
                    optional.is_match(text),
                    verdict != Err(TextError::Character),
                    "{lines:?} optional {text:?}"
                );
            }
        }
    }
}
