//! The public programme: published activities only, as JSON pages and as an RFC 5545
//! calendar; never any contact data.

use super::edition_of;
use super::snapshot::Feed;
use super::views::{ProgrammeItem, ProgrammePage};
use std::future::Future;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use icalendar::{Calendar, Component, EventLike, Property};

use crate::domain::municipality::Municipality;
use crate::domain::respect_week::{Edition, Registration};
use crate::dutch::type_name;

use crate::api::error::{ApiError, ApiResult};
use crate::api::headers;
use crate::api::query::{ProgrammeQuery, ValidatedQuery};
use crate::api::state::AppState;
use crate::domain::text::{self, Lines};
use crate::store::Listing;

#[utoipa::path(get, path = "/respect-week/{year}/activities", tag = "respect_week",
    params(
        ("year" = i32, Path, description = "The edition's year"),
        ProgrammeQuery,
    ),
    responses(
        (status = 200, description = "Published activities only, by date and start time; no contact data", body = ProgrammePage),
        (status = 400, description = "An unknown, repeated or malformed parameter, or a tampered cursor", body = crate::api::error::Problem),
        (status = 404, description = "No edition in that year", body = crate::api::error::Problem),
    ))]
pub async fn programme(
    State(state): State<AppState>,
    Path(year): Path<String>,
    request: HeaderMap,
    RawQuery(raw): RawQuery,
    ValidatedQuery((selection, page)): ValidatedQuery<ProgrammeQuery>,
) -> ApiResult<Response> {
    let edition = edition_of(&state, &year)?;
    // The first page without parameters is what nearly everyone asks: a snapshot.
    if raw.as_deref().is_none_or(str::is_empty) {
        return snapshot(
            &state,
            &request,
            edition.year,
            Feed::Json,
            "application/json",
            || async {
                let page = state
                    .store
                    .registrations()
                    .programme(edition.year, selection, None, page.limit)
                    .await?;
                programme_json(&state, page)
            },
        )
        .await;
    }
    let page = state
        .store
        .registrations()
        .programme(edition.year, selection, page.after(&state)?, page.limit)
        .await?;
    Ok(headers::public(
        &request,
        "application/json",
        programme_json(&state, page)?,
    ))
}

fn programme_json(state: &AppState, page: Listing<Registration>) -> ApiResult<Vec<u8>> {
    let items = page.items.iter().map(ProgrammeItem::of).collect();
    serde_json::to_vec(&ProgrammePage {
        items,
        next_cursor: page.next.map(|p| state.cursors.seal(&p)),
    })
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The edition's `feed` from its snapshot, or made by `make` (and kept).
async fn snapshot<F, Fut>(
    state: &AppState,
    request: &HeaderMap,
    year: i32,
    feed: Feed,
    content_type: &'static str,
    make: F,
) -> ApiResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<Vec<u8>>>,
{
    let now = state.clocks.real();
    // Read before the programme: a write in between makes the next request look again.
    let writes = state.store.registration_writes();
    if let Some((etag, body)) = state.snapshots.get(year, feed, writes, now) {
        return Ok(headers::public_bytes(request, content_type, body, &etag));
    }
    let body = Bytes::from(make().await?);
    let etag = headers::etag_of(&body);
    state
        .snapshots
        .put(year, feed, writes, now, etag.clone(), body.clone());
    Ok(headers::public_bytes(request, content_type, body, &etag))
}

/// The programme as an RFC 5545 calendar: one VEVENT per published activity, no
/// contact data. DTSTAMP is the activity's last change, so the feed is the same
/// bytes until something changes. The UIDs' host is the profile's `calendar.domain`:
/// stable, so a subscribed calendar updates an activity instead of adding it again.
pub fn programme_calendar(
    municipality: &Municipality,
    edition: &Edition,
    published: &[Registration],
) -> String {
    let uid_domain = &municipality.calendar.domain;
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", municipality.calendar_prodid()))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .name(&format!(
            "Week van Respect {} in {}",
            edition.year, municipality.name
        ))
        .timezone("Europe/Amsterdam");
    for reg in published {
        let a = &reg.activity;
        let (starts, ends) = a.span();
        // Whatever the store holds, no control character reaches the calendar: a lone
        // CR could end a line for a lenient parser and inject an event.
        let line = |t: &str| text::printable(t, Lines::One);
        let description = format!(
            "{}\n\nOrganisatie: {} ({})\nLeeftijd: {} tot en met {} jaar\nVerwachte deelnemers: {}\nOpen voor publiek: {}",
            text::printable(&a.description, Lines::Many),
            line(&reg.organisation.name),
            type_name(reg.organisation.kind),
            a.age_min,
            a.age_max,
            a.expected_participants,
            if a.open_to_public { "ja" } else { "nee" },
        );
        let event = icalendar::Event::new()
            .uid(&format!("{}@{uid_domain}", reg.id))
            .timestamp(reg.last_changed_at())
            .summary(&line(&a.title))
            .description(&description)
            .location(&format!(
                "{}, {}",
                line(&a.location),
                municipality.kern_place(&a.kern)
            ))
            .categories([type_name(reg.organisation.kind)])
            .starts(starts)
            .ends(ends)
            .done();
        calendar.push(event);
    }
    calendar.done().to_string()
}

#[utoipa::path(get, path = "/respect-week/{year}/program.ics", tag = "respect_week",
    params(("year" = i32, Path, description = "The edition's year")),
    responses(
        (status = 200, description = "RFC 5545 calendar: one VEVENT per published activity, no contact data",
         content_type = "text/calendar", body = String),
        (status = 404, description = "No edition in that year", body = crate::api::error::Problem),
    ))]
pub async fn programme_ics(
    State(state): State<AppState>,
    Path(year): Path<String>,
    request: HeaderMap,
) -> ApiResult<Response> {
    let edition = edition_of(&state, &year)?;
    snapshot(
        &state,
        &request,
        edition.year,
        Feed::Calendar,
        "text/calendar; charset=utf-8",
        || async {
            let published = state
                .store
                .registrations()
                .programme_all(edition.year)
                .await?;
            Ok(
                programme_calendar(&state.catalogue.municipality, &edition, &published)
                    .into_bytes(),
            )
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::place::Kern;
    use crate::domain::respect_week::{
        Activity, Actor, Contact, Editions, NewRegistration, Organisation, OrganisationType,
        RegistrationAction,
    };
    use crate::domain::risk::tests::at;

    fn published(id: &str, title: &str, date: &str, start: &str, end: &str) -> Registration {
        let edition = Editions::built_in().get(2017).cloned().unwrap();
        let time = |t: &str| chrono::NaiveTime::parse_from_str(t, "%H:%M").unwrap();
        let form = NewRegistration {
            organisation: Organisation {
                name: "OBS De Regenboog".into(),
                kind: OrganisationType::PrimarySchool,
            },
            contact: Contact {
                name: "J. Bakker".into(),
                email: crate::domain::formats::Email::parse("j.bakker@regenboog.nl").unwrap(),
                phone: crate::domain::formats::Phone::parse("0321 654321").unwrap(),
            },
            activity: Activity {
                title: title.into(),
                description: "Over polarisatie".into(),
                date: date.parse().unwrap(),
                starts_at: time(start),
                ends_at: time(end),
                location: "Lijsterbeslaan 2".into(),
                kern: Kern::new("dronten"),
                expected_participants: 54,
                age_min: 10,
                age_max: 12,
                open_to_public: false,
                guest_lesson_wanted: true,
            },
        };
        let reg = Registration::register(
            id.into(),
            crate::domain::formats::Reference::parse("WVR-2017-0001").unwrap(),
            "h".into(),
            form,
            &edition,
            at("2017-10-02T10:00:00+02:00"),
        )
        .unwrap();
        reg.apply(
            &RegistrationAction::Publish { reason: None },
            Actor::Staff("s".into()),
            &edition,
            at("2017-10-03T09:30:00+02:00"),
        )
        .unwrap()
    }

    /// Hardening F2: ICS-injection payloads stored before the input rules (or by
    /// hand) cannot end a line, add a property or inject an event.
    #[test]
    fn stored_control_characters_never_reach_the_calendar() {
        let edition = Editions::built_in().get(2017).cloned().unwrap();
        let payloads = [
            "Les\rEND:VEVENT\rBEGIN:VEVENT\rSUMMARY:NEP",
            "Les\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:NEP",
            "Les\nEND:VEVENT\nBEGIN:VEVENT",
            "Les\u{0}\u{1b}[31m\u{7}\u{7f}",
            "Les\u{2028}ATTACH:http://x\u{2029}",
            "Les\u{85}END:VCALENDAR",
            "Les;X-INJECT=1:waarde,meer\\",
        ];
        for payload in payloads {
            let mut reg = published("abc", payload, "2017-11-08", "09:00", "11:30");
            reg.activity.description = payload.into();
            reg.activity.location = payload.into();
            let ics = programme_calendar(&Municipality::dronten(), &edition, &[reg]);
            let body = ics.strip_suffix("\r\n").unwrap_or(&ics);
            for line in body.split("\r\n") {
                assert!(
                    !line.chars().any(|c| c.is_control() && c != '\t'),
                    "{payload:?}: a control character in {line:?}"
                );
                assert!(
                    line.len() <= 75,
                    "{payload:?}: {} octets in {line:?}",
                    line.len()
                );
            }
            let events = body.split("\r\n").filter(|l| *l == "BEGIN:VEVENT").count();
            assert_eq!(events, 1, "{payload:?}:\n{ics}");
            assert!(
                !body.split("\r\n").any(|l| l.starts_with("SUMMARY:NEP")),
                "{payload:?}"
            );
        }
    }

    #[test]
    fn the_calendar_gives_utc_times_stable_uids_and_escaped_text() {
        let edition = Editions::built_in().get(2017).cloned().unwrap();
        let ics = programme_calendar(
            &Municipality::dronten(),
            &edition,
            &[
                published(
                    "abc",
                    "Respect; samen, niet tegen elkaar",
                    "2017-11-08",
                    "09:00",
                    "11:30",
                ),
                // After the switch to winter time: still +01:00 in November.
                published("def", "Avondles", "2017-11-12", "19:00", "21:00"),
            ],
        );
        let lines: Vec<&str> = ics.split("\r\n").collect();
        for expected in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Gemeente Dronten//loket//NL",
            "X-WR-TIMEZONE:Europe/Amsterdam",
            "UID:abc@loket.dronten.nl",
            "DTSTART:20171108T080000Z",
            "DTEND:20171108T103000Z",
            "DTSTAMP:20171003T073000Z",
            "SUMMARY:Respect\\; samen\\, niet tegen elkaar",
            "LOCATION:Lijsterbeslaan 2\\, Dronten",
            "UID:def@loket.dronten.nl",
            "DTSTART:20171112T180000Z",
            "END:VCALENDAR",
        ] {
            assert!(lines.contains(&expected), "missing {expected:?} in\n{ics}");
        }
        assert_eq!(lines.iter().filter(|l| **l == "BEGIN:VEVENT").count(), 2);
        for secret in ["J. Bakker", "j.bakker@regenboog.nl", "0321 654321"] {
            assert!(!ics.contains(secret), "{secret}");
        }
    }
}
