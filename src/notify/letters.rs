//! Which message a change causes, and what it says: a confirmation of receipt with
//! the private link, then each step an organiser or contact must hear of. Pure: the
//! records before and after in, letters out (plain text and HTML, in Dutch, no
//! images, no tracking).
//!
//! The private link's token exists only when a record is created (the store keeps
//! its hash), so only the confirmation of receipt carries it. Later messages link to
//! the record's page, which opens in the browser that used the link before, and, in
//! one click, to "Ik ben mijn link kwijt" with the reference filled in, where a new
//! link is sent to the stored address. We chose this over a token in every message:
//! keeping the token itself would let anyone who reads the store or a backup open
//! every application, and a new token in each message would kill the link the
//! organiser uses whenever staff act. A forwarded message thus opens nothing by
//! itself; only the stored address receives a working link.

use askama::Template;
use chrono::{DateTime, Utc};

use crate::domain::outbox::Letter;
use crate::domain::permit::{Application, PermitStatus};
use crate::domain::respect_week::{Registration, RegistrationStatus};
use crate::domain::risk::Kind;
use crate::domain::time::local;
use crate::dutch::{category_text, dutch_date, euro, leges_story, noun};

use super::{Mail, Signer};

#[derive(Template)]
#[template(path = "mail.txt")]
struct Text<'a> {
    signer: &'a Signer,
    greeting: &'a str,
    paragraphs: &'a [String],
    facts: &'a [(&'static str, String)],
    links: &'a [(&'static str, String)],
}

#[derive(Template)]
#[template(path = "mail.html")]
struct Html<'a> {
    signer: &'a Signer,
    subject: &'a str,
    greeting: &'a str,
    paragraphs: &'a [String],
    facts: &'a [(&'static str, String)],
    links: &'a [(&'static str, String)],
}

/// The parts of one message, rendered twice.
struct Draft {
    kind: &'static str,
    regarding: String,
    to: String,
    subject: String,
    greeting: String,
    paragraphs: Vec<String>,
    facts: Vec<(&'static str, String)>,
    /// The page's link first; a later message adds "Ik ben mijn link kwijt".
    links: Vec<(&'static str, String)>,
}

impl Draft {
    fn letter(self, mail: &Mail) -> Letter {
        let signer = &mail.signer;
        let text = Text {
            signer,
            greeting: &self.greeting,
            paragraphs: &self.paragraphs,
            facts: &self.facts,
            links: &self.links,
        }
        .render()
        .expect("the mail text renders");
        let html = Html {
            signer,
            subject: &self.subject,
            greeting: &self.greeting,
            paragraphs: &self.paragraphs,
            facts: &self.facts,
            links: &self.links,
        }
        .render()
        .expect("the mail HTML renders");
        Letter {
            kind: self.kind,
            regarding: self.regarding,
            to: self.to,
            subject: self.subject,
            text,
            html,
        }
    }
}

fn moment(at: DateTime<Utc>) -> String {
    let local = local(at);
    format!("{} om {}", dutch_date(local.date()), local.format("%H:%M"))
}

fn last_reason<S>(history: &[crate::domain::history::HistoryEntry<S>]) -> String {
    history
        .last()
        .and_then(|h| h.reason.clone())
        .unwrap_or_default()
}

/// The messages a permit application's change causes. `token`: the private link's
/// token, known only at submission.
pub fn permit_letters(
    mail: &Mail,
    before: Option<&Application>,
    after: &Application,
    token: Option<&str>,
) -> Vec<Letter> {
    if before.is_some_and(|b| b.status == after.status) {
        return Vec::new();
    }
    let page = format!("{}/evenementen/aanvraag/{}", mail.public_url, after.id);
    let what = noun(after.kind);
    let melding = after.kind == Kind::Melding;
    let name = &after.event.name;
    let reference = after.reference.to_string();
    let leges = leges_story(after, mail.withdrawal_refund_percent);
    let mut draft = Draft {
        kind: "",
        regarding: format!("permit#{}", after.id),
        to: after.organiser.email.as_str().to_string(),
        subject: String::new(),
        greeting: format!("Beste {},", after.organiser.name),
        paragraphs: Vec::new(),
        facts: vec![("Kenmerk", reference.clone()), ("Evenement", name.clone())],
        links: later_links(
            if melding {
                "Bekijk uw melding"
            } else {
                "Bekijk uw aanvraag"
            },
            page.clone(),
            &mail.public_url,
            "/evenementen/link-kwijt",
            &reference,
        ),
    };
    // The page opens only where the private link was used; the message says so.
    let open_page = format!(
        "U vindt alles op de pagina van uw {what}. Opent de pagina niet, bijvoorbeeld op een ander apparaat? Kies dan \"{LOST_LINK}\": wij sturen u een nieuwe persoonlijke link."
    );
    match (before, after.status) {
        (None, PermitStatus::Submitted) => {
            draft.kind = "permit_received";
            draft.subject = format!("Ontvangstbevestiging {reference}: {name}");
            // A melding is filed, not decided: its receipt speaks of neither an
            // aanvraag nor a besluit.
            let next = if melding {
                "Wij bekijken uw melding. Hebben wij meer informatie nodig, dan krijgt u daarover een e-mail met onze vraag. Als wij uw melding hebben afgehandeld, krijgt u ook bericht."
            } else {
                "Wij beoordelen uw aanvraag. Hebben wij meer informatie nodig, dan krijgt u daarover een e-mail met onze vraag. Als er een besluit is, krijgt u ook bericht."
            };
            draft.paragraphs = vec![
                format!(
                    "Wij hebben uw {what} voor {name} ontvangen. Hieronder staat wat u heeft {} en wat er nu gebeurt.",
                    if melding { "gemeld" } else { "aangevraagd" }
                ),
                next.into(),
                leges.clone(),
                format!(
                    "Met de persoonlijke link hieronder volgt u uw {what}, beantwoordt u vragen en trekt u haar zo nodig in. Bewaar deze e-mail: de link is alleen voor u."
                ),
            ];
            draft.facts.extend([
                ("Ontvangen op", moment(after.submitted_at)),
                ("Soort", category_text(after.category).to_string()),
                ("Leges", euro(after.leges.total_cents)),
                (
                    if melding {
                        "Uiterlijk melden op"
                    } else {
                        "Uiterlijk aanvragen op"
                    },
                    dutch_date(after.deadline.required_by),
                ),
            ]);
            if after.deadline.late {
                draft.paragraphs.insert(1, format!("Let op: uw {what} is later ingediend dan de termijn. Wij doen ons best, maar kunnen niet beloven dat wij op tijd klaar zijn."));
            }
            if let Some(token) = token {
                draft.links = vec![("Uw persoonlijke link", format!("{page}?sleutel={token}"))];
            }
        }
        (Some(_), PermitStatus::InfoRequested) => {
            draft.kind = "permit_info_requested";
            draft.subject = format!("Wij hebben een vraag over {reference}: {name}");
            draft.paragraphs = vec![
                format!("Om uw {what} te beoordelen hebben wij meer informatie nodig. Onze vraag:"),
                last_reason(&after.history),
                format!("U beantwoordt de vraag op de pagina van uw {what}."),
                open_page,
            ];
        }
        (Some(_), PermitStatus::Approved) => {
            draft.kind = "permit_approved";
            let conditions = last_reason(&after.history);
            if melding {
                draft.subject = format!("Uw melding {reference} is afgehandeld");
                draft.paragraphs = vec![format!(
                    "Wij hebben uw melding voor {name} afgehandeld. Uw evenement mag doorgaan."
                )];
            } else {
                draft.subject = format!("Besluit over {reference}: verleend");
                draft.paragraphs =
                    vec![format!("Goed nieuws: uw aanvraag voor {name} is verleend.")];
            }
            // What staff wrote with the approval are its conditions.
            if !conditions.trim().is_empty() {
                draft.paragraphs.extend([
                    "U moet zich aan deze voorwaarden houden:".to_string(),
                    conditions,
                ]);
            }
            draft.paragraphs.extend([leges, open_page]);
        }
        (Some(_), PermitStatus::Rejected) => {
            draft.kind = "permit_rejected";
            draft.subject = format!("Besluit over {reference}: geweigerd");
            draft.paragraphs = vec![
                format!("Uw {what} voor {name} is geweigerd. De reden:"),
                last_reason(&after.history),
                leges,
                "Bent u het niet eens met dit besluit, dan kunt u binnen zes weken bezwaar maken."
                    .into(),
                open_page,
            ];
        }
        (Some(_), PermitStatus::Withdrawn) => {
            draft.kind = "permit_withdrawn";
            draft.subject = format!("Intrekking bevestigd: {reference}");
            draft.paragraphs = vec![
                format!(
                    "U heeft uw {what} voor {name} ingetrokken. Wij behandelen haar niet verder."
                ),
                leges,
            ];
        }
        _ => return Vec::new(),
    }
    vec![draft.letter(mail)]
}

/// What a later message's lost-link choice is called, on the page and here.
const LOST_LINK: &str = "Ik ben mijn link kwijt";

/// A later message's links: the page, which opens in the browser that used the
/// private link before, and "Ik ben mijn link kwijt" with the reference filled in
/// (`lost`: that page's path), one click from a new link in any browser.
fn later_links(
    label: &'static str,
    page: String,
    public_url: &str,
    lost: &str,
    reference: &str,
) -> Vec<(&'static str, String)> {
    vec![
        (label, page),
        (LOST_LINK, format!("{public_url}{lost}?kenmerk={reference}")),
    ]
}

/// The messages a Week van Respect registration's change causes. `token`: the
/// private link's token, known only at registration.
pub fn registration_letters(
    mail: &Mail,
    before: Option<&Registration>,
    after: &Registration,
    token: Option<&str>,
) -> Vec<Letter> {
    if before.is_some_and(|b| b.status == after.status) {
        return Vec::new();
    }
    let Some(contact) = &after.contact else {
        return Vec::new();
    };
    let page = format!(
        "{}/week-van-respect/{}/activiteit/{}",
        mail.public_url, after.year, after.id
    );
    let title = &after.activity.title;
    let reference = after.reference.to_string();
    let mut draft = Draft {
        kind: "",
        regarding: format!("registration#{}", after.id),
        to: contact.email.as_str().to_string(),
        subject: String::new(),
        greeting: format!("Beste {},", contact.name),
        paragraphs: Vec::new(),
        facts: vec![
            ("Kenmerk", reference.clone()),
            ("Activiteit", title.clone()),
            (
                "Datum",
                format!(
                    "{}, {}–{}",
                    dutch_date(after.activity.date),
                    after.activity.starts_at.format("%H:%M"),
                    after.activity.ends_at.format("%H:%M")
                ),
            ),
        ],
        links: later_links(
            "Bekijk uw aanmelding",
            page.clone(),
            &mail.public_url,
            "/week-van-respect/link-kwijt",
            &reference,
        ),
    };
    match (before, after.status) {
        (None, RegistrationStatus::Registered) => {
            draft.kind = "registration_received";
            draft.subject = format!("Aanmelding ontvangen {reference}: {title}");
            draft.paragraphs = vec![
                format!(
                    "Wij hebben de aanmelding van {} voor de Week van Respect {} ontvangen.",
                    after.organisation.name, after.year
                ),
                "De gemeente bekijkt de aanmelding. Is zij goedgekeurd, dan komt de activiteit in het openbare programma en krijgt u bericht.".into(),
                "Met de persoonlijke link hieronder bekijkt u de aanmelding of meldt u de activiteit af. Bewaar deze e-mail: de link is alleen voor u.".into(),
            ];
            draft
                .facts
                .push(("Ontvangen op", moment(after.registered_at)));
            if let Some(token) = token {
                draft.links = vec![("Uw persoonlijke link", format!("{page}?sleutel={token}"))];
            }
        }
        (Some(_), RegistrationStatus::Published) => {
            draft.kind = "registration_published";
            draft.subject = format!("{title} staat in het programma ({reference})");
            draft.paragraphs = vec![format!(
                "Uw activiteit {title} staat nu in het openbare programma van de Week van Respect {}.",
                after.year
            )];
        }
        (Some(_), RegistrationStatus::Declined) => {
            draft.kind = "registration_declined";
            draft.subject = format!("Aanmelding niet opgenomen: {reference}");
            draft.paragraphs = vec![
                format!(
                    "Wij hebben uw activiteit {title} niet opgenomen in het programma. De reden:"
                ),
                last_reason(&after.history),
            ];
        }
        (Some(_), RegistrationStatus::Cancelled) => {
            draft.kind = "registration_cancelled";
            draft.subject = format!("Afmelding bevestigd: {reference}");
            draft.paragraphs = vec![format!(
                "U heeft de activiteit {title} afgemeld. Zij staat niet (meer) in het programma."
            )];
        }
        _ => return Vec::new(),
    }
    vec![draft.letter(mail)]
}

const NEW_LINK_PARAGRAPHS: [&str; 2] = [
    "U heeft een nieuwe persoonlijke link gevraagd. Hieronder staat hij. De link die u eerder kreeg, werkt niet meer.",
    "Heeft u niets gevraagd? Dan kunt u deze e-mail negeren: alleen wie dit e-mailadres leest, heeft de nieuwe link.",
];

/// The new private link of an application, to the stored address.
pub fn permit_new_link(mail: &Mail, app: &Application, token: &str) -> Letter {
    let page = format!("{}/evenementen/aanvraag/{}", mail.public_url, app.id);
    Draft {
        kind: "permit_new_link",
        regarding: format!("permit#{}", app.id),
        to: app.organiser.email.as_str().to_string(),
        subject: format!("Uw nieuwe persoonlijke link voor {}", app.reference),
        greeting: format!("Beste {},", app.organiser.name),
        paragraphs: NEW_LINK_PARAGRAPHS.map(String::from).to_vec(),
        facts: vec![
            ("Kenmerk", app.reference.to_string()),
            ("Evenement", app.event.name.clone()),
        ],
        links: vec![("Uw persoonlijke link", format!("{page}?sleutel={token}"))],
    }
    .letter(mail)
}

/// The new private link of a registration, to the stored address (none once the
/// contact data is erased).
pub fn registration_new_link(mail: &Mail, reg: &Registration, token: &str) -> Option<Letter> {
    let contact = reg.contact.as_ref()?;
    let page = format!(
        "{}/week-van-respect/{}/activiteit/{}",
        mail.public_url, reg.year, reg.id
    );
    Some(
        Draft {
            kind: "registration_new_link",
            regarding: format!("registration#{}", reg.id),
            to: contact.email.as_str().to_string(),
            subject: format!("Uw nieuwe persoonlijke link voor {}", reg.reference),
            greeting: format!("Beste {},", contact.name),
            paragraphs: NEW_LINK_PARAGRAPHS.map(String::from).to_vec(),
            facts: vec![
                ("Kenmerk", reg.reference.to_string()),
                ("Activiteit", reg.activity.title.clone()),
            ],
            links: vec![("Uw persoonlijke link", format!("{page}?sleutel={token}"))],
        }
        .letter(mail),
    )
}
