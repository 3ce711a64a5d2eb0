//! The municipality as data (issue #20): who loket works for, its kernen, its tariff
//! tables, its Week van Respect editions, the terms its rules apply, where its mail
//! comes from and its pages live, its calendar's domain, its colours and its
//! contact line. Dronten's profile is `municipalities/dronten.toml`, embedded at
//! build time; `LOKET_CONFIG` can replace it or add another (src/config.rs).
//!
//! Pure: reading a profile is parsing text, never a file.

mod terms;
mod theme;

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

pub use terms::Terms;
pub use theme::{Theme, contrast};

use super::documents::DocumentType;
use super::formats::Email;
use super::leges::{LegacyTariffTable, TariffTable, Tariffs};
use super::place::Kern;
use super::respect_week::{Edition, Editions};

/// The profiles built into the binary, by id.
const BUILT_IN: [(&str, &str); 1] = [(
    "dronten",
    include_str!("../../../municipalities/dronten.toml"),
)];

static DRONTEN: LazyLock<Municipality> = LazyLock::new(|| {
    Municipality::from_toml(BUILT_IN[0].1)
        .unwrap_or_else(|e| panic!("municipalities/dronten.toml: {e}"))
});

/// One municipality's profile (the file format is the README's "Configuration").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Municipality {
    /// How configuration and `loket municipality show` name it: `dronten`.
    pub id: String,
    /// Its name as people write it: `Dronten`.
    pub name: String,
    /// The CBS gemeentecode, four digits: `0303`.
    pub cbs_code: String,
    /// Where the public reaches its loket (`https://host`, no path).
    pub public_url: String,
    /// The kernen (villages) and the countryside, in the order forms list them.
    pub kernen: Vec<KernEntry>,
    pub office: Office,
    pub mail: MailProfile,
    pub calendar: CalendarProfile,
    pub terms: Terms,
    pub theme: Theme,
    pub respect_week_editions: Vec<Edition>,
    pub tariffs: Vec<TariffTable>,
    /// The kinds of document an application can carry (issue #22); none if left out.
    #[serde(default)]
    pub documents: Vec<DocumentType>,
}

/// A kern: the code forms and the API send, and how a person reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernEntry {
    pub code: String,
    pub name: String,
    /// How a location there is written after its address, when not the name
    /// (`Lijsterbeslaan 2, buitengebied Dronten`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

impl KernEntry {
    pub fn place(&self) -> &str {
        self.place.as_deref().unwrap_or(&self.name)
    }
}

/// Who the public deals with: the pages' footer and the signature of every e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Office {
    /// `Gemeente Dronten`
    pub organisation: String,
    /// `team Evenementen`
    pub team: String,
    /// `De Rede 1, 8251 ER Dronten`
    pub address: String,
    /// `14 0321`
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailProfile {
    /// The sender of every e-mail (`Name <address>`), unless `LOKET_MAIL_FROM` is set.
    pub from: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarProfile {
    /// The domain of the calendar's UIDs (`<id>@loket.dronten.nl`).
    pub domain: String,
}

/// Everything wrong with a profile, each problem named by its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("municipality '{id}': {}", problems.join("; "))]
pub struct ProfileError {
    pub id: String,
    pub problems: Vec<String>,
}

impl Municipality {
    /// Dronten's profile, as `municipalities/dronten.toml` has it.
    pub fn dronten() -> Municipality {
        DRONTEN.clone()
    }

    /// Every profile built into the binary.
    pub fn built_in() -> Vec<Municipality> {
        BUILT_IN
            .iter()
            .map(|(id, text)| {
                Municipality::from_toml(text)
                    .unwrap_or_else(|e| panic!("municipalities/{id}.toml: {e}"))
            })
            .collect()
    }

    /// A profile from its TOML, checked.
    pub fn from_toml(text: &str) -> Result<Municipality, String> {
        let profile: Municipality = toml::from_str(text).map_err(|e| e.to_string())?;
        profile.validate().map_err(|e| e.to_string())?;
        Ok(profile)
    }

    /// The profile as TOML, in the format it is read in.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a profile is plain data")
    }

    /// The tariff tables and the terms, as the permit rules take them.
    pub fn tariffs(&self) -> Tariffs {
        Tariffs::new(self.tariffs.iter().cloned(), self.terms)
    }

    /// The editions, each with the profile's erasure term.
    pub fn editions(&self) -> Editions {
        Editions::new(self.terms.respect_week_erasure_days)
            .with(self.respect_week_editions.iter().cloned())
    }

    pub fn kern(&self, code: &str) -> Option<&KernEntry> {
        self.kernen.iter().find(|k| k.code == code)
    }

    /// Whether `kern` is one of this municipality's kernen.
    pub fn has_kern(&self, kern: &Kern) -> bool {
        self.kern(kern.as_str()).is_some()
    }

    /// The kernen's codes, in the order forms list them.
    pub fn kern_codes(&self) -> Vec<Kern> {
        self.kernen.iter().map(|k| Kern::new(&k.code)).collect()
    }

    /// How a location in `kern` is written after its address (`buitengebied
    /// Dronten`); a code the profile no longer has is shown as it is.
    pub fn kern_place(&self, kern: &Kern) -> String {
        self.kern(kern.as_str())
            .map_or_else(|| kern.as_str().to_string(), |k| k.place().to_string())
    }

    /// The kern's name as a person reads it (`Buitengebied`), else its code.
    pub fn kern_name(&self, kern: &Kern) -> String {
        self.kern(kern.as_str())
            .map_or_else(|| kern.as_str().to_string(), |k| k.name.clone())
    }

    /// The kernen in prose, as places: `Dronten, Biddinghuizen, Swifterbant of
    /// buitengebied Dronten`.
    pub fn kernen_text(&self, conjunction: &str) -> String {
        let names: Vec<&str> = self.kernen.iter().map(KernEntry::place).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => {
                format!("{} {conjunction} {last}", rest.join(", "))
            }
            _ => names.concat(),
        }
    }

    /// The pages' footer: `Gemeente Dronten · De Rede 1, 8251 ER Dronten · 14 0321`.
    pub fn footer_line(&self) -> String {
        let o = &self.office;
        format!("{} · {} · {}", o.organisation, o.address, o.phone)
    }

    /// The two lines under every e-mail's greeting.
    pub fn signature(&self) -> [String; 2] {
        let o = &self.office;
        [
            format!("{}, {}", o.organisation, o.team),
            format!("{}, telefoon {}", o.address, o.phone),
        ]
    }

    /// The calendar's PRODID: `-//Gemeente Dronten//loket//NL`.
    pub fn calendar_prodid(&self) -> String {
        format!("-//{}//loket//NL", self.office.organisation)
    }

    /// Adds or replaces tariff tables and editions as an old `LOKET_CONFIG` gives
    /// them: a table with named amounts takes its lines from the profile's table in
    /// force in its year (else the oldest), with its own amounts.
    pub fn amend(
        &mut self,
        tables: &[LegacyTariffTable],
        editions: &[Edition],
    ) -> Result<(), String> {
        for legacy in tables {
            let tariffs = self.tariffs();
            let template = tariffs
                .for_year(legacy.year)
                .or_else(|| tariffs.iter().next())
                .ok_or_else(|| format!("municipality '{}' has no tariff table", self.id))?;
            let table = legacy.to_lines(template)?;
            self.tariffs.retain(|t| t.year != table.year);
            self.tariffs.push(table);
        }
        self.tariffs.sort_by_key(|t| t.year);
        for edition in editions {
            self.respect_week_editions
                .retain(|e| e.year != edition.year);
            self.respect_week_editions.push(edition.clone());
        }
        self.respect_week_editions.sort_by_key(|e| e.year);
        Ok(())
    }

    /// Checks what serde cannot: codes, uniqueness, formats, ranges, contrast.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let mut problems = Vec::new();
        if !is_code(&self.id) {
            problems.push(format!(
                "id: '{}' is not lowercase letters, digits and '-'",
                self.id
            ));
        }
        one_line(&mut problems, "name", &self.name);
        if self.cbs_code.len() != 4 || !self.cbs_code.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!("cbs_code: '{}' is not four digits", self.cbs_code));
        }
        if !is_public_url(&self.public_url) {
            problems.push(format!(
                "public_url: '{}' is not https://host without a path",
                self.public_url
            ));
        }
        self.kernen_problems(&mut problems);
        let mut codes = BTreeSet::new();
        for (i, t) in self.documents.iter().enumerate() {
            let path = format!("documents[{i}]");
            unique_code(&mut problems, &mut codes, &path, &t.code);
            one_line(&mut problems, &format!("{path}.label"), &t.label);
        }
        let o = &self.office;
        for (field, value) in [
            ("organisation", &o.organisation),
            ("team", &o.team),
            ("address", &o.address),
            ("phone", &o.phone),
        ] {
            one_line(&mut problems, &format!("office.{field}"), value);
        }
        if !is_mailbox(&self.mail.from) {
            problems.push(format!(
                "mail.from: '{}' is not 'Name <address>' or an address",
                self.mail.from
            ));
        }
        if !is_domain(&self.calendar.domain) {
            problems.push(format!(
                "calendar.domain: '{}' is not a lowercase domain name",
                self.calendar.domain
            ));
        }
        problems.extend(self.terms.problems());
        problems.extend(self.theme.problems());
        let mut years = BTreeSet::new();
        for (i, e) in self.respect_week_editions.iter().enumerate() {
            if !years.insert(e.year) {
                problems.push(format!("respect_week_editions[{i}]: {} twice", e.year));
            }
        }
        if self.tariffs.is_empty() {
            problems.push("tariffs: a profile needs a tariff table".into());
        }
        let mut years = BTreeSet::new();
        for (i, t) in self.tariffs.iter().enumerate() {
            if !years.insert(t.year) {
                problems.push(format!("tariffs[{i}].year: {} twice", t.year));
            }
            problems.extend(t.problems(&format!("tariffs[{i}]")));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ProfileError {
                id: self.id.clone(),
                problems,
            })
        }
    }

    fn kernen_problems(&self, problems: &mut Vec<String>) {
        if self.kernen.is_empty() {
            problems.push("kernen: a municipality has at least one kern".into());
        }
        let (mut codes, mut names) = (BTreeSet::new(), BTreeSet::new());
        for (i, k) in self.kernen.iter().enumerate() {
            unique_code(problems, &mut codes, &format!("kernen[{i}]"), &k.code);
            one_line(problems, &format!("kernen[{i}].name"), &k.name);
            if !names.insert(k.name.to_lowercase()) {
                problems.push(format!("kernen[{i}].name: '{}' twice", k.name));
            }
            if let Some(place) = &k.place {
                one_line(problems, &format!("kernen[{i}].place"), place);
            }
        }
    }
}

/// A code (`path.code`) of lowercase letters, digits and '-', not seen before.
fn unique_code<'a>(
    problems: &mut Vec<String>,
    seen: &mut BTreeSet<&'a str>,
    path: &str,
    code: &'a str,
) {
    if !is_code(code) {
        problems.push(format!(
            "{path}.code: '{code}' is not lowercase letters, digits and '-'"
        ));
    } else if !seen.insert(code) {
        problems.push(format!("{path}.code: '{code}' twice"));
    }
}

/// Text a person reads on one line: not blank, no control characters.
fn one_line(problems: &mut Vec<String>, path: &str, value: &str) {
    if value.trim().is_empty() || value.chars().any(char::is_control) {
        problems.push(format!("{path}: blank or not one line"));
    }
}

/// `dronten`, `noordoostpolder`, `sudwest-fryslan`: 1–40 of a-z, 0-9, '-', a letter first.
fn is_code(s: &str) -> bool {
    s.len() <= 40
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `loket.dronten.nl`: two or more labels of a-z, 0-9 and inner '-'.
fn is_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// `https://loket.dronten.nl` or with a port; no path, query or trailing slash.
fn is_public_url(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("https://") else {
        return false;
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, ""));
    is_domain(host) && (port.is_empty() || port.parse::<u16>().is_ok_and(|p| p > 0))
}

/// `Gemeente Dronten <evenementen@dronten.nl>`, or just the address.
fn is_mailbox(s: &str) -> bool {
    let address = match s.strip_suffix('>').and_then(|r| r.rsplit_once('<')) {
        Some((name, address)) => {
            let name = name.trim();
            if name.is_empty()
                || name.contains(['<', '>', '"'])
                || name.chars().any(char::is_control)
            {
                return false;
            }
            address
        }
        None => s,
    };
    Email::parse(address).is_some()
}

#[cfg(test)]
mod tests;
