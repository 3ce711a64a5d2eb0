//! The colours a municipality's pages and e-mail are drawn in, checked for the
//! contrast WCAG 2.1 AA asks.

use serde::{Deserialize, Serialize};

/// `[theme]` of a profile: colours as `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// The house colour: the page header, the e-mail's banner, the charts.
    pub primary: String,
    /// Text on `primary`.
    pub on_primary: String,
    /// A light tint of `primary`: backgrounds of summaries and notes.
    pub primary_light: String,
    /// The focus ring's colour around what has the keyboard focus.
    pub focus: String,
    /// The outline drawn inside the focus ring.
    pub focus_outline: String,
}

/// Text needs 4.5:1 against its background (WCAG 2.1 SC 1.4.3).
pub const TEXT_CONTRAST: f64 = 4.5;
/// A focus indicator needs 3:1 against what is next to it (SC 1.4.11).
pub const NON_TEXT_CONTRAST: f64 = 3.0;

impl Theme {
    /// Each colour that is not `#rrggbb`, and each pair below its contrast.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let colour = |name: &str, value: &str, problems: &mut Vec<String>| {
            let rgb = rgb(value);
            if rgb.is_none() {
                problems.push(format!("theme.{name}: '{value}' is not a colour #rrggbb"));
            }
            rgb
        };
        let primary = colour("primary", &self.primary, &mut problems);
        let on_primary = colour("on_primary", &self.on_primary, &mut problems);
        colour("primary_light", &self.primary_light, &mut problems);
        let focus = colour("focus", &self.focus, &mut problems);
        let outline = colour("focus_outline", &self.focus_outline, &mut problems);
        if let (Some(a), Some(b)) = (primary, on_primary) {
            let ratio = contrast(a, b);
            if ratio < TEXT_CONTRAST {
                problems.push(format!(
                    "theme.on_primary: {ratio:.1}:1 on primary, text needs {TEXT_CONTRAST}:1"
                ));
            }
        }
        if let (Some(a), Some(b)) = (focus, outline) {
            let ratio = contrast(a, b);
            if ratio < NON_TEXT_CONTRAST {
                problems.push(format!(
                    "theme.focus_outline: {ratio:.1}:1 against focus, needs {NON_TEXT_CONTRAST}:1"
                ));
            }
        }
        problems
    }

    /// Each colour by its name, written anew from its channels as `#rrggbb`, or `None`
    /// where the profile's text is no colour: what comes out can be nothing else (the
    /// pages' stylesheet is built from it).
    pub fn colours(&self) -> [(&'static str, Option<String>); 5] {
        let hex = |value: &str| rgb(value).map(|[r, g, b]| format!("#{r:02x}{g:02x}{b:02x}"));
        [
            ("primary", hex(&self.primary)),
            ("on_primary", hex(&self.on_primary)),
            ("primary_light", hex(&self.primary_light)),
            ("focus", hex(&self.focus)),
            ("focus_outline", hex(&self.focus_outline)),
        ]
    }
}

/// `#rrggbb` as its three channels.
fn rgb(value: &str) -> Option<[u8; 3]> {
    let hex = value.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

/// The relative luminance of WCAG 2.1.
fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// The contrast ratio of two colours, 1 to 21.
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dronten() -> Theme {
        Theme {
            primary: "#00467f".into(),
            on_primary: "#ffffff".into(),
            primary_light: "#e6eef5".into(),
            focus: "#ffdd00".into(),
            focus_outline: "#000000".into(),
        }
    }

    #[test]
    fn colours_are_read_and_their_contrast_measured() {
        assert_eq!(rgb("#00467f"), Some([0x00, 0x46, 0x7f]));
        for bad in ["00467f", "#00467", "#00467fff", "#gg467f", "blue", "#ÿÿÿ"] {
            assert_eq!(rgb(bad), None, "{bad}");
        }
        // White on the Dronten blue: 9.6:1.
        let ratio = contrast([0x00, 0x46, 0x7f], [0xff, 0xff, 0xff]);
        assert!((9.6..9.7).contains(&ratio), "{ratio}");
        assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
    }

    #[test]
    fn only_colours_come_out_of_a_theme() {
        let hostile = Theme {
            primary: "#00467F".into(),
            on_primary: "#fff; } body { display: none".into(),
            primary_light: "red".into(),
            ..dronten()
        };
        assert_eq!(
            hostile.colours(),
            [
                ("primary", Some("#00467f".to_string())),
                ("on_primary", None),
                ("primary_light", None),
                ("focus", Some("#ffdd00".to_string())),
                ("focus_outline", Some("#000000".to_string())),
            ]
        );
    }

    #[test]
    fn a_theme_needs_colours_and_readable_contrast() {
        assert!(dronten().problems().is_empty());
        let pale = Theme {
            on_primary: "#e6eef5".into(),
            primary: "#5b8db8".into(),
            focus_outline: "#ffee55".into(),
            primary_light: "light".into(),
            ..dronten()
        };
        let problems = pale.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("theme.primary_light: 'light'"));
        assert!(
            problems[1].starts_with("theme.on_primary: "),
            "{problems:?}"
        );
        assert!(
            problems[2].starts_with("theme.focus_outline: "),
            "{problems:?}"
        );
    }
}
