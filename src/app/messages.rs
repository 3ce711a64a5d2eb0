//! The one catalogue of field-error codes and their Dutch messages (plain language,
//! B1). A code is stable API (clients switch on it); the message is for people and
//! may be improved at any time.

use validator::ValidationError;

/// Every field-error code the service uses, with its message. `{max}`, `{min}` and
/// other `{name}`s are filled from the error's parameters.
const CATALOGUE: &[(&str, &str)] = &[
    ("required", "Dit veld is verplicht."),
    ("type", "Dit veld heeft niet het goede type."),
    ("too_long", "Maximaal {max} tekens."),
    ("range", "Vul een getal in van {min} tot en met {max}."),
    ("one_of", "Kies een van de mogelijke waarden."),
    (
        "character",
        "Dit veld bevat een teken dat niet is toegestaan, zoals een stuurteken of een onzichtbaar teken.",
    ),
    ("email", "Vul een geldig e-mailadres in."),
    (
        "phone",
        "Vul een geldig telefoonnummer in (10 tot 15 cijfers).",
    ),
    ("kvk_number", "Een KvK-nummer heeft 8 cijfers."),
    (
        "reference",
        "Vul het kenmerk in zoals het in uw bevestiging staat, bijvoorbeeld EV-2017-0001.",
    ),
    (
        "timestamp",
        "Verwacht een tijdstip als 2017-08-18T12:00:00+02:00.",
    ),
    ("date", "Verwacht een datum als 2017-11-08."),
    ("time", "Verwacht een tijd als 09:30."),
    ("order", "De volgorde klopt niet."),
    ("unknown_field", "Dit veld kennen we niet."),
    ("repeated", "Meer dan één keer opgegeven."),
    ("year", "Verwacht een jaartal van 1970 tot en met 2099."),
    ("limit", "Verwacht een getal van 1 tot en met 100."),
    ("flag", "Verwacht true of false."),
    (
        "horizon",
        "Een evenement kan tot en met {last_year} worden aangevraagd.",
    ),
    (
        "in_past",
        "Het evenement begint vóór het moment van aanvragen.",
    ),
    (
        "no_tariff",
        "Voor {year} is geen tarieventabel vastgesteld.",
    ),
    (
        "registration_closed",
        "Aanmelden voor de Week van Respect {year} kon tot en met {closes_on} 23:59.",
    ),
    (
        "outside_edition",
        "Kies een dag van de Week van Respect: {starts_on} tot en met {ends_on}.",
    ),
    ("not_applicable", "Dit veld hoort niet bij deze actie."),
    (
        "idempotency_key_invalid",
        "Gebruik 1 tot 64 tekens: letters, cijfers, _ of -.",
    ),
    (
        "idempotency_key_reused",
        "Deze Idempotency-Key is al gebruikt voor een ander verzoek.",
    ),
];

/// Messages of cross-field rules, by the `rule` parameter of their error: one code
/// (`order`, `range`) can stand for several rules.
const RULES: &[(&str, &str)] = &[
    ("ends_after_start", "Het einde moet na het begin liggen."),
    ("at_most_a_year", "Een evenement duurt hoogstens een jaar."),
    (
        "end_time_after_start_time",
        "De eindtijd moet na de begintijd liggen.",
    ),
    (
        "a_number",
        "Vul een getal in, in cijfers, bijvoorbeeld 4000.",
    ),
    ("yes_or_no", "Kies ja of nee."),
    (
        "ages_in_order",
        "De maximumleeftijd mag niet lager zijn dan de minimumleeftijd.",
    ),
];

/// The 400 for a JSON key sent twice.
pub const DUPLICATE_KEY: &str = "Een veld staat twee keer in de gegevens. Stuur elk veld één keer.";

/// The code as a `'static` entry of the catalogue; an unknown one is `invalid`.
pub fn known_code(code: &str) -> &'static str {
    CATALOGUE
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("invalid", |(c, _)| c)
}

/// The Dutch message of `code`, filled from the parameters of `error`.
pub fn field(code: &str, error: Option<&ValidationError>) -> String {
    let rule = error
        .and_then(|e| e.params.get("rule"))
        .and_then(|r| r.as_str())
        .and_then(|r| RULES.iter().find(|(name, _)| *name == r));
    if let Some((_, message)) = rule {
        return message.to_string();
    }
    let Some((_, template)) = CATALOGUE.iter().find(|(c, _)| *c == code) else {
        return "Dit veld is niet goed ingevuld.".into();
    };
    let mut message = template.to_string();
    if let Some(error) = error {
        for (name, value) in &error.params {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                // `1.000.000`, as a Dutch reader writes it.
                serde_json::Value::Number(n) if n.is_i64() => {
                    crate::dutch::grouped(n.as_i64().unwrap_or_default())
                }
                other => other.to_string(),
            };
            message = message.replace(&format!("{{{name}}}"), &text);
        }
    }
    message
}

/// The Dutch message of `code` with the given parameters (rules checked outside
/// `validator`, such as the domain's).
pub fn filled(code: &str, params: &[(&'static str, String)]) -> String {
    let mut e = ValidationError::new("");
    for (name, value) in params {
        e.add_param(std::borrow::Cow::Borrowed(name), value);
    }
    field(code, Some(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn every_message_is_filled_and_every_code_is_listed_once() {
        let mut e = ValidationError::new("range");
        e.add_param(Cow::Borrowed("min"), &1);
        e.add_param(Cow::Borrowed("max"), &5_000);
        assert_eq!(
            field("range", Some(&e)),
            "Vul een getal in van 1 tot en met 5.000."
        );
        // A wrong type says what to type where it can (#21: "vierduizend").
        let mut number = ValidationError::new("type");
        number.add_param(Cow::Borrowed("rule"), &"a_number");
        assert_eq!(
            field("type", Some(&number)),
            "Vul een getal in, in cijfers, bijvoorbeeld 4000."
        );
        assert_eq!(field("type", None), "Dit veld heeft niet het goede type.");
        assert_eq!(known_code("range"), "range");
        assert_eq!(known_code("no such code"), "invalid");
        let mut codes: Vec<&str> = CATALOGUE.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), CATALOGUE.len(), "a code is listed twice");
    }
}
