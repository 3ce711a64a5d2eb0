//! Week van Respect (DOMAIN.md §7): editions as data, the rules of a registration,
//! its lifecycle, the duplicate rule, the staff summary and the erasure of contact
//! data (AVG) a year after the edition.
//!
//! Everything here is pure: "now" is a parameter, nothing is read or written.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::formats::{Email, Phone, Reference};
use super::permit::Kern;
use super::time::{local_date, local_rfc3339, start_of_day, to_utc};

// ---------------------------------------------------------------------------------
// Editions

/// One edition of the week: its days and the last day on which registration is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EditionSpec")]
pub struct Edition {
    pub year: i32,
    /// First day of the week (local).
    pub starts_on: NaiveDate,
    /// Last day of the week (local).
    pub ends_on: NaiveDate,
    /// The last local day on which one may register: open until 23:59:59 of this day,
    /// inclusive.
    pub registration_closes_on: NaiveDate,
}

/// The longest edition this service accepts from configuration.
pub const MAX_EDITION_DAYS: u64 = 31;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditionError {
    #[error("edition {year}: starts_on {starts_on} is not in {year}")]
    YearMismatch { year: i32, starts_on: NaiveDate },
    #[error("edition {0}: ends_on lies before starts_on")]
    EndsBeforeStart(i32),
    #[error("edition {0}: longer than {MAX_EDITION_DAYS} days")]
    TooLong(i32),
    #[error("edition {0}: registration closes after the edition's last day")]
    ClosesAfterEnd(i32),
}

impl Edition {
    /// An edition, checked: `starts_on` in `year`, `ends_on` not before it, at most
    /// [`MAX_EDITION_DAYS`] long, registration closing no later than the last day.
    pub fn new(
        year: i32,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        registration_closes_on: NaiveDate,
    ) -> Result<Edition, EditionError> {
        if starts_on.year() != year {
            return Err(EditionError::YearMismatch { year, starts_on });
        }
        if ends_on < starts_on {
            return Err(EditionError::EndsBeforeStart(year));
        }
        if (ends_on - starts_on).num_days() >= MAX_EDITION_DAYS as i64 {
            return Err(EditionError::TooLong(year));
        }
        if registration_closes_on > ends_on {
            return Err(EditionError::ClosesAfterEnd(year));
        }
        Ok(Edition {
            year,
            starts_on,
            ends_on,
            registration_closes_on,
        })
    }

    /// 2017 (6–12 November, open until Sunday 5 November) and 2027 (8–14 November,
    /// open until Sunday 7 November).
    pub fn built_in() -> Vec<Edition> {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a valid built-in date");
        vec![
            Edition::new(2017, d(2017, 11, 6), d(2017, 11, 12), d(2017, 11, 5)).expect("valid"),
            Edition::new(2027, d(2027, 11, 8), d(2027, 11, 14), d(2027, 11, 7)).expect("valid"),
        ]
    }

    /// Whether a local date is one of the week's days.
    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.starts_on..=self.ends_on).contains(&date)
    }

    /// The last moment registration is open: 23:59:59 local of the closing day.
    pub fn registration_closes_at(&self) -> DateTime<Utc> {
        to_utc(
            self.registration_closes_on,
            NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time"),
        )
    }

    /// Open through the whole closing day (its 23:59:59 included), closed from the
    /// next local midnight on.
    pub fn accepts_registrations_at(&self, now: DateTime<Utc>) -> bool {
        local_date(now) <= self.registration_closes_on
    }

    /// 00:00 local of the first day.
    pub fn starts_at(&self) -> DateTime<Utc> {
        start_of_day(self.starts_on)
    }

    pub fn has_started(&self, now: DateTime<Utc>) -> bool {
        now >= self.starts_at()
    }

    /// When contact data must be gone: 00:00 local, 365 days after the edition's last
    /// day has ended (2017: last day 2017-11-12, ended 2017-11-13 00:00, erased from
    /// 2018-11-13 00:00 local).
    pub fn erasure_at(&self) -> DateTime<Utc> {
        let end_of_last_day = self.ends_on + Days::new(1);
        start_of_day(end_of_last_day + Days::new(365))
    }

    pub fn erasure_due(&self, now: DateTime<Utc>) -> bool {
        now >= self.erasure_at()
    }
}

/// How an edition is written in `LOKET_CONFIG`: dates as TOML dates
/// (`starts_on = 2028-11-06`) or strings (`"2028-11-06"`); the closing day defaults
/// to the day before the week.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditionSpec {
    year: i32,
    #[serde(deserialize_with = "config_date")]
    starts_on: NaiveDate,
    #[serde(deserialize_with = "config_date")]
    ends_on: NaiveDate,
    #[serde(default, deserialize_with = "opt_config_date")]
    registration_closes_on: Option<NaiveDate>,
}

impl TryFrom<EditionSpec> for Edition {
    type Error = EditionError;

    fn try_from(spec: EditionSpec) -> Result<Edition, EditionError> {
        let closes = spec
            .registration_closes_on
            .unwrap_or_else(|| spec.starts_on - Days::new(1));
        Edition::new(spec.year, spec.starts_on, spec.ends_on, closes)
    }
}

/// A date as text, or as a TOML date literal (which the TOML deserializer hands over
/// as a one-entry map holding its text).
#[derive(Deserialize)]
#[serde(untagged)]
enum DateInput {
    Text(String),
    TomlDate {
        #[serde(rename = "$__toml_private_datetime")]
        text: String,
    },
}

fn config_date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let text = match DateInput::deserialize(d)? {
        DateInput::Text(t) | DateInput::TomlDate { text: t } => t,
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|e| serde::de::Error::custom(format!("'{text}' is not a date YYYY-MM-DD: {e}")))
}

fn opt_config_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    config_date(d).map(Some)
}

/// Every known edition, by year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editions(BTreeMap<i32, Edition>);

impl Default for Editions {
    fn default() -> Self {
        Editions::built_in()
    }
}

impl Editions {
    pub fn built_in() -> Editions {
        Editions::empty().with(Edition::built_in())
    }

    pub fn empty() -> Editions {
        Editions(BTreeMap::new())
    }

    /// Adds editions, or replaces those of the same year (from configuration).
    pub fn with(mut self, editions: impl IntoIterator<Item = Edition>) -> Editions {
        for e in editions {
            self.0.insert(e.year, e);
        }
        self
    }

    pub fn get(&self, year: i32) -> Option<&Edition> {
        self.0.get(&year)
    }

    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Edition> {
        self.0.values()
    }
}

// ---------------------------------------------------------------------------------
// A registration

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationType {
    PrimarySchool,
    SecondarySchool,
    VocationalSchool,
    SportClub,
    Other,
}

impl OrganisationType {
    pub const ALL: [OrganisationType; 5] = [
        OrganisationType::PrimarySchool,
        OrganisationType::SecondarySchool,
        OrganisationType::VocationalSchool,
        OrganisationType::SportClub,
        OrganisationType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationType::PrimarySchool => "primary_school",
            OrganisationType::SecondarySchool => "secondary_school",
            OrganisationType::VocationalSchool => "vocational_school",
            OrganisationType::SportClub => "sport_club",
            OrganisationType::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<OrganisationType> {
        OrganisationType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Organisation {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: OrganisationType,
}

/// The contact person: personal data, erased a year after the edition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub name: String,
    pub email: Email,
    pub phone: Phone,
}

/// `HH:MM` on the wire and in storage.
pub mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        NaiveTime::parse_from_str(&text, "%H:%M").map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    pub title: String,
    pub description: String,
    /// A day of the edition.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// `HH:MM`, local.
    #[schema(value_type = String, example = "09:00")]
    #[serde(with = "hhmm")]
    pub starts_at: NaiveTime,
    /// `HH:MM`, local, after `starts_at` on the same day.
    #[schema(value_type = String, example = "11:30")]
    #[serde(with = "hhmm")]
    pub ends_at: NaiveTime,
    pub location: String,
    pub kern: Kern,
    pub expected_participants: u32,
    pub age_min: u32,
    pub age_max: u32,
    pub open_to_public: bool,
    pub guest_lesson_wanted: bool,
}

impl Activity {
    /// The activity's start and end as moments.
    pub fn span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            to_utc(self.date, self.starts_at),
            to_utc(self.date, self.ends_at),
        )
    }
}

/// Expected participants: 1–5,000.
pub const PARTICIPANTS: (u32, u32) = (1, 5_000);
/// A sane age range for participants (years).
pub const AGES: (u32, u32) = (0, 120);

/// A rule a registration breaks. [`Violation::field`] names the request field,
/// [`Violation::code`] is the stable API code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// After 23:59:59 local of the closing day.
    RegistrationClosed,
    /// The date is not one of the week's days.
    OutsideEdition,
    /// `ends_at` is not after `starts_at`.
    EndNotAfterStart,
    ParticipantsOutOfRange,
    AgeMinOutOfRange,
    AgeMaxOutOfRange,
    /// `age_min` > `age_max`.
    AgesInverted,
}

impl Violation {
    pub fn field(self) -> &'static str {
        match self {
            Violation::RegistrationClosed => "edition",
            Violation::OutsideEdition => "activity.date",
            Violation::EndNotAfterStart => "activity.ends_at",
            Violation::ParticipantsOutOfRange => "activity.expected_participants",
            Violation::AgeMinOutOfRange => "activity.age_min",
            Violation::AgeMaxOutOfRange | Violation::AgesInverted => "activity.age_max",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Violation::RegistrationClosed => "registration_closed",
            Violation::OutsideEdition => "outside_edition",
            Violation::EndNotAfterStart => "order",
            Violation::ParticipantsOutOfRange
            | Violation::AgeMinOutOfRange
            | Violation::AgeMaxOutOfRange => "range",
            Violation::AgesInverted => "order",
        }
    }
}

fn within(value: u32, (min, max): (u32, u32)) -> bool {
    (min..=max).contains(&value)
}

/// Every rule of §7 that an activity breaks, in field order. The HTTP edge checks the
/// same rules field by field (with these predicates) before an activity exists;
/// this is the domain's own guard.
pub fn check(edition: &Edition, now: DateTime<Utc>, a: &Activity) -> Vec<Violation> {
    let mut found = Vec::new();
    if !edition.accepts_registrations_at(now) {
        found.push(Violation::RegistrationClosed);
    }
    if !edition.contains(a.date) {
        found.push(Violation::OutsideEdition);
    }
    if a.ends_at <= a.starts_at {
        found.push(Violation::EndNotAfterStart);
    }
    if !within(a.expected_participants, PARTICIPANTS) {
        found.push(Violation::ParticipantsOutOfRange);
    }
    let min_ok = within(a.age_min, AGES);
    let max_ok = within(a.age_max, AGES);
    if !min_ok {
        found.push(Violation::AgeMinOutOfRange);
    }
    if !max_ok {
        found.push(Violation::AgeMaxOutOfRange);
    }
    if min_ok && max_ok && a.age_min > a.age_max {
        found.push(Violation::AgesInverted);
    }
    found
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    Registered,
    Published,
    Declined,
    Cancelled,
}

impl RegistrationStatus {
    pub const ALL: [RegistrationStatus; 4] = [
        RegistrationStatus::Registered,
        RegistrationStatus::Published,
        RegistrationStatus::Declined,
        RegistrationStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Registered => "registered",
            RegistrationStatus::Published => "published",
            RegistrationStatus::Declined => "declined",
            RegistrationStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RegistrationStatus> {
        RegistrationStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
    }

    /// A registration in this status keeps others from registering the same
    /// activity; a cancelled or declined one does not.
    pub fn blocks_duplicates(self) -> bool {
        matches!(
            self,
            RegistrationStatus::Registered | RegistrationStatus::Published
        )
    }
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", content = "id", rename_all = "lowercase")]
pub enum Actor {
    /// The holder of the access token.
    Registrant,
    Staff(String),
    /// The service itself (the erasure of contact data).
    System,
}

impl Actor {
    /// `registrant`, `system`, or the staff member's id.
    pub fn label(&self) -> &str {
        match self {
            Actor::Registrant => "registrant",
            Actor::Staff(id) => id,
            Actor::System => "system",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(with = "local_rfc3339")]
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub from: Option<RegistrationStatus>,
    pub to: RegistrationStatus,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: String,
    /// `WVR-{edition year}-NNNN`.
    pub reference: Reference,
    /// SHA-256 of the registrant's access token; the token itself is never stored.
    pub token_hash: String,
    /// The edition's year.
    pub year: i32,
    pub status: RegistrationStatus,
    pub organisation: Organisation,
    /// `None` once erased.
    pub contact: Option<Contact>,
    pub activity: Activity,
    #[serde(with = "local_rfc3339")]
    pub registered_at: DateTime<Utc>,
    /// When the contact data was erased.
    #[serde(
        default,
        with = "opt_local_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub erased_at: Option<DateTime<Utc>>,
    pub version: u64,
    pub history: Vec<HistoryEntry>,
}

/// `Option<DateTime>` as local RFC 3339.
pub mod opt_local_rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_some(&super::local_rfc3339::format(at)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                DateTime::parse_from_rfc3339(&text)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}

/// What a registrant sends, validated field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    pub organisation: Organisation,
    pub contact: Contact,
    pub activity: Activity,
}

/// Compares names and titles as people mean them: case and white space do not count
/// (`"OBS  de Regenboog"` = `"obs deregenboog"`).
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What makes two registrations "the same activity": the edition, the organisation
/// name and the title (both [`normalise`]d) and the date.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DuplicateKey {
    pub year: i32,
    pub organisation: String,
    pub title: String,
    pub date: NaiveDate,
}

/// Something a person asks of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationAction {
    Publish { reason: Option<String> },
    Decline { reason: String },
    Cancel,
}

impl RegistrationAction {
    pub fn name(&self) -> &'static str {
        match self {
            RegistrationAction::Publish { .. } => "publish",
            RegistrationAction::Decline { .. } => "decline",
            RegistrationAction::Cancel => "cancel",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("'{action}' is not allowed while the registration is {status}")]
    NotAllowed {
        action: &'static str,
        status: &'static str,
    },
    #[error("'{0}' needs a reason")]
    ReasonRequired(&'static str),
    /// A registrant cannot cancel once the week has begun.
    #[error("the edition has started")]
    EditionStarted,
}

impl Registration {
    /// A new registration, or every rule it breaks.
    pub fn register(
        id: String,
        reference: Reference,
        token_hash: String,
        form: NewRegistration,
        edition: &Edition,
        now: DateTime<Utc>,
    ) -> Result<Registration, Vec<Violation>> {
        let violations = check(edition, now, &form.activity);
        if !violations.is_empty() {
            return Err(violations);
        }
        Ok(Registration {
            id,
            reference,
            token_hash,
            year: edition.year,
            status: RegistrationStatus::Registered,
            organisation: form.organisation,
            contact: Some(form.contact),
            activity: form.activity,
            registered_at: now,
            erased_at: None,
            version: 1,
            history: vec![HistoryEntry {
                at: now,
                actor: Actor::Registrant,
                action: "register".into(),
                from: None,
                to: RegistrationStatus::Registered,
                reason: None,
            }],
        })
    }

    pub fn duplicate_key(&self) -> DuplicateKey {
        DuplicateKey {
            year: self.year,
            organisation: normalise(&self.organisation.name),
            title: normalise(&self.activity.title),
            date: self.activity.date,
        }
    }

    /// When this registration last changed.
    pub fn last_changed_at(&self) -> DateTime<Utc> {
        self.history.last().map_or(self.registered_at, |h| h.at)
    }

    /// The registration after `action`, with one more history entry and the next
    /// version; `self` is left as it was.
    pub fn apply(
        &self,
        action: &RegistrationAction,
        actor: Actor,
        edition: &Edition,
        now: DateTime<Utc>,
    ) -> Result<Registration, TransitionError> {
        use RegistrationStatus::*;
        let refuse = || TransitionError::NotAllowed {
            action: action.name(),
            status: self.status.as_str(),
        };
        let (to, reason) = match action {
            RegistrationAction::Publish { reason } => match self.status {
                Registered => (Published, reason.clone().filter(|r| !r.trim().is_empty())),
                _ => return Err(refuse()),
            },
            RegistrationAction::Decline { reason } => match self.status {
                Registered if reason.trim().is_empty() => {
                    return Err(TransitionError::ReasonRequired(action.name()));
                }
                Registered => (Declined, Some(reason.clone())),
                _ => return Err(refuse()),
            },
            RegistrationAction::Cancel => match self.status {
                Registered | Published if edition.has_started(now) => {
                    return Err(TransitionError::EditionStarted);
                }
                Registered | Published => (Cancelled, None),
                _ => return Err(refuse()),
            },
        };
        Ok(self.next(now, actor, action.name(), to, reason))
    }

    fn next(
        &self,
        at: DateTime<Utc>,
        actor: Actor,
        action: &str,
        to: RegistrationStatus,
        reason: Option<String>,
    ) -> Registration {
        let mut next = self.clone();
        next.status = to;
        next.version = self.version + 1;
        next.history.push(HistoryEntry {
            at,
            actor,
            action: action.into(),
            from: Some(self.status),
            to,
            reason,
        });
        next
    }

    /// The registration without its contact data when the erasure moment of its
    /// edition has come and the data is still there; `None` when there is nothing to
    /// do. The activity, the organisation and the status stay (statistics); the
    /// history records the erasure.
    pub fn erase_contact(&self, edition: &Edition, now: DateTime<Utc>) -> Option<Registration> {
        if self.contact.is_none() || !edition.erasure_due(now) {
            return None;
        }
        let mut next = self.next(now, Actor::System, "erase_contact", self.status, None);
        next.contact = None;
        next.erased_at = Some(now);
        Some(next)
    }
}

// ---------------------------------------------------------------------------------
// The staff summary

/// Counts per status for one organisation type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusCounts {
    pub registered: i64,
    pub published: i64,
    pub declined: i64,
    pub cancelled: i64,
}

impl StatusCounts {
    pub fn get_mut(&mut self, status: RegistrationStatus) -> &mut i64 {
        match status {
            RegistrationStatus::Registered => &mut self.registered,
            RegistrationStatus::Published => &mut self.published,
            RegistrationStatus::Declined => &mut self.declined,
            RegistrationStatus::Cancelled => &mut self.cancelled,
        }
    }
}

/// The field a summary bucket keeps the participants of published activities in.
pub const PUBLISHED_PARTICIPANTS: &str = "published_participants";

/// What one registration adds to its edition's bucket of its organisation type:
/// one in its status, and its participants while it is published.
fn contribution(reg: &Registration) -> (OrganisationType, BTreeMap<&'static str, i64>) {
    let mut fields = BTreeMap::from([(reg.status.as_str(), 1)]);
    if reg.status == RegistrationStatus::Published {
        fields.insert(
            PUBLISHED_PARTICIPANTS,
            reg.activity.expected_participants.into(),
        );
    }
    (reg.organisation.kind, fields)
}

/// The signed changes that take an edition's summary from `before` to `after`
/// (`None`: a new registration), per organisation type; zero fields left out.
pub fn summary_deltas(
    before: Option<&Registration>,
    after: &Registration,
) -> Vec<(OrganisationType, BTreeMap<&'static str, i64>)> {
    let mut by_type: BTreeMap<OrganisationType, BTreeMap<&'static str, i64>> = BTreeMap::new();
    let (kind, fields) = contribution(after);
    for (f, v) in fields {
        *by_type.entry(kind).or_default().entry(f).or_default() += v;
    }
    if let Some(before) = before {
        let (kind, fields) = contribution(before);
        for (f, v) in fields {
            *by_type.entry(kind).or_default().entry(f).or_default() -= v;
        }
    }
    by_type
        .into_iter()
        .map(|(kind, mut fields)| {
            fields.retain(|_, v| *v != 0);
            (kind, fields)
        })
        .filter(|(_, fields)| !fields.is_empty())
        .collect()
}

/// `GET /admin/respect-week/{year}/summary`: every type and status, zeros included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RespectWeekSummary {
    pub year: i32,
    pub by_type: BTreeMap<OrganisationType, StatusCounts>,
    /// Expected participants of the published activities.
    pub published_participants: i64,
}

/// The summary from the stored buckets (type → field → sum).
pub fn summary(
    year: i32,
    buckets: &BTreeMap<OrganisationType, BTreeMap<String, i64>>,
) -> RespectWeekSummary {
    let mut by_type: BTreeMap<OrganisationType, StatusCounts> = OrganisationType::ALL
        .into_iter()
        .map(|t| (t, StatusCounts::default()))
        .collect();
    let mut published_participants = 0;
    for (kind, fields) in buckets {
        let counts = by_type.entry(*kind).or_default();
        for status in RegistrationStatus::ALL {
            *counts.get_mut(status) += fields.get(status.as_str()).copied().unwrap_or(0);
        }
        published_participants += fields.get(PUBLISHED_PARTICIPANTS).copied().unwrap_or(0);
    }
    RespectWeekSummary {
        year,
        by_type,
        published_participants,
    }
}

/// The summary counted from the registrations themselves: what the buckets must
/// always equal.
pub fn recompute<'a>(
    year: i32,
    regs: impl IntoIterator<Item = &'a Registration>,
) -> RespectWeekSummary {
    let mut buckets: BTreeMap<OrganisationType, BTreeMap<String, i64>> = BTreeMap::new();
    for reg in regs.into_iter().filter(|r| r.year == year) {
        let (kind, fields) = contribution(reg);
        for (f, v) in fields {
            *buckets
                .entry(kind)
                .or_default()
                .entry(f.to_string())
                .or_default() += v;
        }
    }
    summary(year, &buckets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::risk::tests::at;

    /// (field, code) pairs.
    type FieldCodes<'a> = Vec<(&'a str, &'a str)>;
    /// (organisation type, [(field, amount)]) per type.
    type TypeDeltas<'a> = Vec<(OrganisationType, Vec<(&'a str, i64)>)>;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn e2017() -> Edition {
        Editions::built_in().get(2017).cloned().unwrap()
    }

    fn form() -> NewRegistration {
        NewRegistration {
            organisation: Organisation {
                name: "OBS De Regenboog".into(),
                kind: OrganisationType::PrimarySchool,
            },
            contact: Contact {
                name: "J. Bakker".into(),
                email: Email::parse("j.bakker@regenboog.nl").unwrap(),
                phone: Phone::parse("0321 654321").unwrap(),
            },
            activity: Activity {
                title: "Respectles groep 7/8".into(),
                description: "Over polarisatie".into(),
                date: date("2017-11-08"),
                starts_at: time("09:00"),
                ends_at: time("11:30"),
                location: "Lijsterbeslaan 2".into(),
                kern: Kern::Dronten,
                expected_participants: 54,
                age_min: 10,
                age_max: 12,
                open_to_public: false,
                guest_lesson_wanted: true,
            },
        }
    }

    fn registered() -> Registration {
        Registration::register(
            "id-1".into(),
            Reference::parse("WVR-2017-0001").unwrap(),
            "hash".into(),
            form(),
            &e2017(),
            at("2017-10-01T10:00:00+02:00"),
        )
        .expect("a valid registration")
    }

    fn in_status(status: RegistrationStatus) -> Registration {
        let mut reg = registered();
        reg.status = status;
        reg
    }

    #[test]
    fn the_built_in_editions_are_those_of_domain_md() {
        let editions = Editions::built_in();
        let years: Vec<i32> = editions.iter().map(|e| e.year).collect();
        assert_eq!(years, [2017, 2027]);
        for (year, starts, ends, closes_at) in [
            (
                2017,
                "2017-11-06",
                "2017-11-12",
                "2017-11-05T23:59:59+01:00",
            ),
            (
                2027,
                "2027-11-08",
                "2027-11-14",
                "2027-11-07T23:59:59+01:00",
            ),
        ] {
            let e = editions.get(year).unwrap();
            assert_eq!(
                (e.starts_on, e.ends_on),
                (date(starts), date(ends)),
                "{year}"
            );
            assert_eq!(e.registration_closes_at(), at(closes_at), "{year}");
        }
        assert!(editions.get(2018).is_none());
    }

    #[test]
    fn registration_is_open_until_the_closing_second_inclusive() {
        let e = e2017();
        for (now, open) in [
            ("2017-01-01T00:00:00+01:00", true),
            ("2017-11-05T23:59:59+01:00", true),
            ("2017-11-05T23:59:59.999+01:00", true),
            ("2017-11-06T00:00:00+01:00", false),
            ("2017-11-05T23:30:00Z", false), // 00:30 local on the 6th
            ("2017-11-05T22:59:59Z", true),  // 23:59:59 local
            ("2018-01-01T12:00:00+01:00", false),
        ] {
            assert_eq!(e.accepts_registrations_at(at(now)), open, "{now}");
        }
    }

    #[test]
    fn only_the_days_of_the_week_are_inside_the_edition() {
        let e = e2017();
        for (d, inside) in [
            ("2017-11-05", false),
            ("2017-11-06", true),
            ("2017-11-09", true),
            ("2017-11-12", true),
            ("2017-11-13", false),
            ("2027-11-08", false),
        ] {
            assert_eq!(e.contains(date(d)), inside, "{d}");
        }
    }

    #[test]
    fn contact_data_is_erased_at_midnight_365_days_after_the_last_day() {
        assert_eq!(e2017().erasure_at(), at("2018-11-13T00:00:00+01:00"));
        // 2028 is a leap year: 365 days, not "the same date a year later".
        assert_eq!(
            Editions::built_in().get(2027).unwrap().erasure_at(),
            at("2028-11-14T00:00:00+01:00")
        );
        let reg = registered();
        for (now, erased) in [
            ("2018-11-12T23:59:59+01:00", false),
            ("2018-11-13T00:00:00+01:00", true),
            ("2019-06-01T12:00:00+02:00", true),
        ] {
            let result = reg.erase_contact(&e2017(), at(now));
            assert_eq!(result.is_some(), erased, "{now}");
            if let Some(next) = result {
                assert_eq!(next.contact, None);
                assert_eq!(next.erased_at, Some(at(now)));
                assert_eq!(next.activity, reg.activity, "the activity stays");
                assert_eq!(next.organisation, reg.organisation);
                assert_eq!(next.status, reg.status);
                assert_eq!(next.version, reg.version + 1);
                let entry = next.history.last().unwrap();
                assert_eq!(
                    (entry.action.as_str(), &entry.actor),
                    ("erase_contact", &Actor::System)
                );
                assert!(
                    next.erase_contact(&e2017(), at(now)).is_none(),
                    "erasing twice does nothing"
                );
            }
        }
    }

    #[test]
    fn every_broken_rule_is_reported_with_its_field_and_code() {
        let e = e2017();
        let open = at("2017-10-01T10:00:00+02:00");
        let valid = form().activity;
        let cases: Vec<(&str, DateTime<Utc>, Activity, FieldCodes)> = vec![
            ("a valid activity", open, valid.clone(), vec![]),
            (
                "after the closing moment",
                at("2017-11-06T00:00:00+01:00"),
                valid.clone(),
                vec![("edition", "registration_closed")],
            ),
            (
                "the Sunday before the week",
                open,
                Activity {
                    date: date("2017-11-05"),
                    ..valid.clone()
                },
                vec![("activity.date", "outside_edition")],
            ),
            (
                "the Monday after the week",
                open,
                Activity {
                    date: date("2017-11-13"),
                    ..valid.clone()
                },
                vec![("activity.date", "outside_edition")],
            ),
            (
                "the last day of the week",
                open,
                Activity {
                    date: date("2017-11-12"),
                    ..valid.clone()
                },
                vec![],
            ),
            (
                "an end equal to the start",
                open,
                Activity {
                    ends_at: time("09:00"),
                    ..valid.clone()
                },
                vec![("activity.ends_at", "order")],
            ),
            (
                "an end before the start",
                open,
                Activity {
                    ends_at: time("08:59"),
                    ..valid.clone()
                },
                vec![("activity.ends_at", "order")],
            ),
            (
                "no participants",
                open,
                Activity {
                    expected_participants: 0,
                    ..valid.clone()
                },
                vec![("activity.expected_participants", "range")],
            ),
            (
                "one participant",
                open,
                Activity {
                    expected_participants: 1,
                    ..valid.clone()
                },
                vec![],
            ),
            (
                "5,000 participants",
                open,
                Activity {
                    expected_participants: 5_000,
                    ..valid.clone()
                },
                vec![],
            ),
            (
                "5,001 participants",
                open,
                Activity {
                    expected_participants: 5_001,
                    ..valid.clone()
                },
                vec![("activity.expected_participants", "range")],
            ),
            (
                "an age of 121",
                open,
                Activity {
                    age_max: 121,
                    ..valid.clone()
                },
                vec![("activity.age_max", "range")],
            ),
            (
                "one age for all",
                open,
                Activity {
                    age_min: 12,
                    age_max: 12,
                    ..valid.clone()
                },
                vec![],
            ),
            (
                "a minimum above the maximum",
                open,
                Activity {
                    age_min: 13,
                    age_max: 12,
                    ..valid.clone()
                },
                vec![("activity.age_max", "order")],
            ),
            (
                "everything wrong at once",
                at("2017-12-01T10:00:00+01:00"),
                Activity {
                    date: date("2017-12-01"),
                    starts_at: time("12:00"),
                    ends_at: time("11:00"),
                    expected_participants: 9_999,
                    age_min: 15,
                    age_max: 10,
                    ..valid.clone()
                },
                vec![
                    ("edition", "registration_closed"),
                    ("activity.date", "outside_edition"),
                    ("activity.ends_at", "order"),
                    ("activity.expected_participants", "range"),
                    ("activity.age_max", "order"),
                ],
            ),
        ];
        for (case, now, activity, expected) in cases {
            let got: Vec<(&str, &str)> = check(&e, now, &activity)
                .into_iter()
                .map(|v| (v.field(), v.code()))
                .collect();
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn a_registration_starts_registered_with_one_history_entry() {
        let reg = registered();
        assert_eq!(reg.status, RegistrationStatus::Registered);
        assert_eq!((reg.year, reg.version), (2017, 1));
        assert_eq!(reg.contact.as_ref().unwrap().name, "J. Bakker");
        let entry = &reg.history[0];
        assert_eq!(
            (entry.action.as_str(), entry.from, entry.to),
            ("register", None, RegistrationStatus::Registered)
        );
        assert_eq!(entry.actor, Actor::Registrant);
    }

    #[test]
    fn a_form_that_breaks_a_rule_is_not_registered() {
        let mut f = form();
        f.activity.date = date("2017-11-20");
        let result = Registration::register(
            "x".into(),
            Reference::parse("WVR-2017-0009").unwrap(),
            "h".into(),
            f,
            &e2017(),
            at("2017-10-01T10:00:00+02:00"),
        );
        assert_eq!(result, Err(vec![Violation::OutsideEdition]));
    }

    #[test]
    fn every_transition_is_allowed_or_refused_as_the_lifecycle_says() {
        use RegistrationStatus::*;
        let before_start = at("2017-11-05T23:59:59+01:00");
        let actions = [
            RegistrationAction::Publish { reason: None },
            RegistrationAction::Decline {
                reason: "Geen activiteit voor de doelgroep".into(),
            },
            RegistrationAction::Cancel,
        ];
        for from in RegistrationStatus::ALL {
            for action in &actions {
                let expected = match (from, action.name()) {
                    (Registered, "publish") => Some(Published),
                    (Registered, "decline") => Some(Declined),
                    (Registered | Published, "cancel") => Some(Cancelled),
                    _ => None,
                };
                let reg = in_status(from);
                let actor = if action.name() == "cancel" {
                    Actor::Registrant
                } else {
                    Actor::Staff("s-1".into())
                };
                let result = reg.apply(action, actor.clone(), &e2017(), before_start);
                match expected {
                    Some(to) => {
                        let next =
                            result.unwrap_or_else(|e| panic!("{from:?} + {}: {e}", action.name()));
                        assert_eq!(next.status, to, "{from:?} + {}", action.name());
                        assert_eq!(next.version, reg.version + 1);
                        let entry = next.history.last().unwrap();
                        assert_eq!((entry.from, entry.to), (Some(from), to));
                        assert_eq!(
                            (entry.action.as_str(), &entry.actor, entry.at),
                            (action.name(), &actor, before_start)
                        );
                        assert_eq!(next.history.len(), reg.history.len() + 1);
                    }
                    None => assert!(
                        matches!(result, Err(TransitionError::NotAllowed { .. })),
                        "{from:?} + {} must be refused",
                        action.name()
                    ),
                }
            }
        }
    }

    #[test]
    fn declining_needs_a_reason_and_records_it() {
        let reg = registered();
        let staff = Actor::Staff("s-1".into());
        let now = at("2017-11-01T10:00:00+01:00");
        for reason in ["", "   "] {
            assert_eq!(
                reg.apply(
                    &RegistrationAction::Decline {
                        reason: reason.into()
                    },
                    staff.clone(),
                    &e2017(),
                    now
                ),
                Err(TransitionError::ReasonRequired("decline"))
            );
        }
        let next = reg
            .apply(
                &RegistrationAction::Decline {
                    reason: "Dubbel".into(),
                },
                staff,
                &e2017(),
                now,
            )
            .unwrap();
        assert_eq!(
            next.history.last().unwrap().reason.as_deref(),
            Some("Dubbel")
        );
    }

    #[test]
    fn a_registrant_can_cancel_until_the_edition_starts() {
        for status in [
            RegistrationStatus::Registered,
            RegistrationStatus::Published,
        ] {
            let reg = in_status(status);
            for (now, allowed) in [
                ("2017-11-05T23:59:59+01:00", true),
                ("2017-11-06T00:00:00+01:00", false),
                ("2017-11-10T12:00:00+01:00", false),
            ] {
                let result = reg.apply(
                    &RegistrationAction::Cancel,
                    Actor::Registrant,
                    &e2017(),
                    at(now),
                );
                if allowed {
                    assert_eq!(
                        result.unwrap().status,
                        RegistrationStatus::Cancelled,
                        "{status:?} at {now}"
                    );
                } else {
                    assert_eq!(
                        result,
                        Err(TransitionError::EditionStarted),
                        "{status:?} at {now}"
                    );
                }
            }
        }
    }

    #[test]
    fn names_and_titles_compare_without_case_or_white_space() {
        for (a, b, same) in [
            ("OBS De Regenboog", "obs de regenboog", true),
            ("OBS De Regenboog", "OBS  De   Regenboog ", true),
            ("OBS De Regenboog", "OBSDeRegenboog", true),
            ("OBS De Regenboog", "\tobs\u{a0}de regenboog\n", true),
            ("VV Dronten", "V.V. Dronten", false),
            ("Café Één", "CAFÉ ÉÉN", true),
        ] {
            assert_eq!(normalise(a) == normalise(b), same, "{a:?} vs {b:?}");
        }
        let mut other = form();
        other.organisation.name = "obs  DE regenboog".into();
        other.activity.title = "RESPECTLES groep 7/8".into();
        let twin = Registration::register(
            "id-2".into(),
            Reference::parse("WVR-2017-0009").unwrap(),
            "h".into(),
            other,
            &e2017(),
            at("2017-10-01T10:00:00+02:00"),
        )
        .unwrap();
        assert_eq!(twin.duplicate_key(), registered().duplicate_key());
    }

    #[test]
    fn only_registered_and_published_block_duplicates() {
        use RegistrationStatus::*;
        for (status, blocks) in [
            (Registered, true),
            (Published, true),
            (Declined, false),
            (Cancelled, false),
        ] {
            assert_eq!(status.blocks_duplicates(), blocks, "{status:?}");
        }
    }

    #[test]
    fn summary_deltas_move_counts_and_published_participants() {
        let new = registered();
        let published = new
            .apply(
                &RegistrationAction::Publish { reason: None },
                Actor::Staff("s".into()),
                &e2017(),
                at("2017-10-02T10:00:00+02:00"),
            )
            .unwrap();
        let cancelled = published
            .apply(
                &RegistrationAction::Cancel,
                Actor::Registrant,
                &e2017(),
                at("2017-10-03T10:00:00+02:00"),
            )
            .unwrap();
        let erased = cancelled
            .erase_contact(&e2017(), at("2019-01-01T00:00:00+01:00"))
            .unwrap();
        let t = OrganisationType::PrimarySchool;
        let cases: Vec<(&str, Option<&Registration>, &Registration, TypeDeltas)> = vec![
            (
                "a new registration",
                None,
                &new,
                vec![(t, vec![("registered", 1)])],
            ),
            (
                "publishing",
                Some(&new),
                &published,
                vec![(
                    t,
                    vec![
                        ("published", 1),
                        ("published_participants", 54),
                        ("registered", -1),
                    ],
                )],
            ),
            (
                "cancelling a published one",
                Some(&published),
                &cancelled,
                vec![(
                    t,
                    vec![
                        ("cancelled", 1),
                        ("published", -1),
                        ("published_participants", -54),
                    ],
                )],
            ),
            ("erasing contact data", Some(&cancelled), &erased, vec![]),
        ];
        for (case, before, after, expected) in cases {
            let got: Vec<(OrganisationType, Vec<(&str, i64)>)> = summary_deltas(before, after)
                .into_iter()
                .map(|(k, f)| (k, f.into_iter().collect()))
                .collect();
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn the_summary_names_every_type_and_status_and_equals_a_recount() {
        let a = registered();
        let mut b = registered();
        b.organisation.kind = OrganisationType::SportClub;
        b.status = RegistrationStatus::Published;
        b.activity.expected_participants = 108;
        let mut c = b.clone();
        c.status = RegistrationStatus::Published;
        c.activity.expected_participants = 54;
        let mut other_year = b.clone();
        other_year.year = 2027;

        let mut buckets: BTreeMap<OrganisationType, BTreeMap<String, i64>> = BTreeMap::new();
        for reg in [&a, &b, &c] {
            for (kind, fields) in summary_deltas(None, reg) {
                for (f, v) in fields {
                    *buckets
                        .entry(kind)
                        .or_default()
                        .entry(f.to_string())
                        .or_default() += v;
                }
            }
        }
        let s = summary(2017, &buckets);
        assert_eq!(s, recompute(2017, [&a, &b, &c, &other_year]));
        assert_eq!(s.by_type.len(), 5, "every type, zeros included");
        assert_eq!(
            s.by_type[&OrganisationType::PrimarySchool],
            StatusCounts {
                registered: 1,
                ..Default::default()
            }
        );
        assert_eq!(
            s.by_type[&OrganisationType::SportClub],
            StatusCounts {
                published: 2,
                ..Default::default()
            }
        );
        assert_eq!(s.by_type[&OrganisationType::Other], StatusCounts::default());
        assert_eq!(s.published_participants, 162);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["by_type"]["vocational_school"]["cancelled"], 0);
        assert_eq!(json["by_type"]["sport_club"]["published"], 2);
    }

    #[test]
    fn editions_from_configuration_are_checked() {
        #[derive(Deserialize)]
        struct Wrapper {
            respect_week_editions: Vec<Edition>,
        }
        let ok: Wrapper = toml::from_str(
            r#"
            [[respect_week_editions]]
            year = 2028
            starts_on = 2028-11-06
            ends_on = "2028-11-12"

            [[respect_week_editions]]
            year = 2029
            starts_on = "2029-11-05"
            ends_on = 2029-11-11
            registration_closes_on = 2029-10-31
            "#,
        )
        .expect("TOML dates and strings both work");
        let editions = Editions::built_in().with(ok.respect_week_editions);
        let e2028 = editions.get(2028).unwrap();
        assert_eq!(
            e2028.registration_closes_on,
            date("2028-11-05"),
            "defaults to the day before"
        );
        assert_eq!(
            editions.get(2029).unwrap().registration_closes_on,
            date("2029-10-31")
        );
        assert!(editions.get(2017).is_some(), "built-in editions stay");

        for (case, text) in [
            (
                "starts in another year",
                "year = 2030\nstarts_on = 2031-01-01\nends_on = 2031-01-02",
            ),
            (
                "ends before it starts",
                "year = 2030\nstarts_on = 2030-11-10\nends_on = 2030-11-09",
            ),
            (
                "far too long",
                "year = 2030\nstarts_on = 2030-01-01\nends_on = 2030-12-31",
            ),
            (
                "closes after the end",
                "year = 2030\nstarts_on = 2030-11-04\nends_on = 2030-11-10\nregistration_closes_on = 2030-11-11",
            ),
            (
                "not a date",
                "year = 2030\nstarts_on = \"4 november\"\nends_on = 2030-11-10",
            ),
            (
                "an unknown field",
                "year = 2030\nstarts_on = 2030-11-04\nends_on = 2030-11-10\ntheme = \"x\"",
            ),
        ] {
            let text = format!("[[respect_week_editions]]\n{text}\n");
            assert!(toml::from_str::<Wrapper>(&text).is_err(), "{case}");
        }
    }
}
