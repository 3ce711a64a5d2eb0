//! Settings from the environment (the README's "Configuration"), and the wiring of the
//! app state from them. Reading the environment happens here and nowhere else.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;

use crate::api::AppState;
use crate::api::auth::{HostedSignIn, StaffAuth};
use crate::api::cursors::CursorSealer;
use crate::app::App;
use crate::clock::{Clocks, ManualClock, SharedClock, SystemClock};
use crate::domain::Catalogue;
use crate::domain::leges::LegacyTariffTable;
use crate::domain::municipality::Municipality;
use crate::domain::respect_week::Edition;
use crate::notify::Mail;
use crate::store::dynamo::DynamoStore;
use crate::store::embedded::EmbeddedStore;
use crate::store::{SharedStore, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Embedded,
    DynamoDb,
}

/// The settings, read from the environment only (by clap's `env` support; the flags
/// exist for clap, nobody passes them). A blank variable counts as unset.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "loket settings", no_binary_name = true)]
pub struct Settings {
    /// `LOKET_STORE`: `embedded` or `dynamodb`.
    #[arg(long, env = "LOKET_STORE", default_value = "embedded", value_parser = store_kind)]
    pub store: StoreKind,
    /// `LOKET_DATA_DIR`: the embedded store's folder.
    #[arg(long, env = "LOKET_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// `LOKET_TABLE`: the DynamoDB table.
    #[arg(long, env = "LOKET_TABLE", default_value = "loket")]
    pub table: String,
    /// `LOKET_BIND`: where the local server listens.
    #[arg(long, env = "LOKET_BIND", default_value = "127.0.0.1:3000")]
    pub bind: String,
    /// `LOKET_NOW`: a fixed business clock.
    #[arg(long, env = "LOKET_NOW", value_parser = fixed_now)]
    pub now: Option<DateTime<Utc>>,
    #[arg(long, env = "LOKET_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    #[arg(long, env = "LOKET_JWT_JWKS")]
    pub jwt_jwks: Option<String>,
    #[arg(long, env = "LOKET_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    #[arg(long, env = "LOKET_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Cognito's domain for the staff pages' hosted sign-in; the client id is
    /// `LOKET_JWT_AUDIENCE`.
    #[arg(long, env = "LOKET_STAFF_SIGNIN_URL")]
    pub staff_signin_url: Option<String>,
    /// Where Cognito sends the browser back with the code (`/medewerkers/inloggen/terug`).
    #[arg(long, env = "LOKET_STAFF_CALLBACK_URL")]
    pub staff_callback_url: Option<String>,
    /// The address the public reaches loket at, for the links in e-mail; default
    /// `http://{LOKET_BIND}`.
    #[arg(long, env = "LOKET_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// `From:` of every e-mail; default: the profile's `mail.from`.
    #[arg(long, env = "LOKET_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// An SMTP server for e-mail (`smtp://host:25`, `smtps://…`); without it the
    /// local server writes `.eml` files to `{LOKET_DATA_DIR}/mail`.
    #[arg(long, env = "LOKET_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The SES configuration set the notify function sends in (AWS).
    #[arg(long, env = "LOKET_SES_CONFIGURATION_SET")]
    pub ses_configuration_set: Option<String>,
    /// Where Cognito's logout sends the browser (`/medewerkers/uitgelogd`).
    #[arg(long, env = "LOKET_STAFF_SIGNED_OUT_URL")]
    pub staff_signed_out_url: Option<String>,
    /// `LOKET_CONFIG`: municipality profiles that replace or add to the built-in
    /// ones, and (the old format) extra tariff tables and editions for Dronten (TOML).
    #[arg(long, env = "LOKET_CONFIG")]
    pub config_path: Option<PathBuf>,
    /// `LOKET_MUNICIPALITY`: the id of the profile this service works for.
    #[arg(long, env = "LOKET_MUNICIPALITY", default_value = "dronten")]
    pub municipality: String,
    /// `LOKET_CURSOR_KEY`: signs list cursors; must be the same on every instance.
    #[arg(long, env = "LOKET_CURSOR_KEY", hide_env_values = true)]
    pub cursor_key: Option<String>,
    /// `LOKET_RATE_LIMIT`: anonymous writes and quotes per minute per client on the
    /// local server; 0 turns the limit off (load tests).
    #[arg(long, env = "LOKET_RATE_LIMIT", default_value_t = DEFAULT_RATE_LIMIT_PER_MINUTE, value_parser = rate_limit)]
    pub rate_limit_per_minute: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// Anonymous writes and quotes a client may send per minute, unless configured.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 60;

fn store_kind(value: &str) -> Result<StoreKind, String> {
    match value {
        "embedded" => Ok(StoreKind::Embedded),
        "dynamodb" => Ok(StoreKind::DynamoDb),
        other => Err(format!(
            "LOKET_STORE must be 'embedded' or 'dynamodb', not '{other}'"
        )),
    }
}

fn fixed_now(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::<FixedOffset>::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("LOKET_NOW '{value}': {e}"))
}

fn rate_limit(value: &str) -> Result<u32, String> {
    value.parse().map_err(|_| {
        format!(
            "LOKET_RATE_LIMIT must be a whole number of requests per minute (0: off), not '{value}'"
        )
    })
}

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        use clap::{CommandFactory, FromArgMatches};
        let command = Settings::command().mut_args(|arg| {
            let blank = arg
                .get_env()
                .and_then(std::env::var_os)
                .is_some_and(|v| v.to_string_lossy().trim().is_empty());
            if blank { arg.env(None::<&str>) } else { arg }
        });
        let matches = command
            .try_get_matches_from(std::iter::empty::<String>())
            .map_err(invalid_setting)?;
        Settings::from_arg_matches(&matches).map_err(invalid_setting)
    }

    /// The business clock: fixed by `LOKET_NOW`, else the system clock.
    pub fn clock(&self) -> SharedClock {
        match self.now {
            Some(at) => {
                tracing::warn!(now = %at, "LOKET_NOW is set: the business clock is FIXED at this moment");
                Arc::new(ManualClock::new(at))
            }
            None => Arc::new(SystemClock),
        }
    }
}

/// The message of a bad setting as our own parser wrote it, without clap's frame.
fn invalid_setting(e: clap::Error) -> ConfigError {
    let message = std::error::Error::source(&e)
        .map(|source| source.to_string())
        .unwrap_or_else(|| e.to_string());
    ConfigError::Invalid(message)
}

/// What `LOKET_CONFIG` (TOML) holds: whole municipality profiles (`[[municipality]]`,
/// each replacing the built-in profile of its id or adding one) and, as before there
/// were profiles, tariff tables with named amounts (`[[tariffs]]`) and Week van
/// Respect editions (`[[respect_week_editions]]`), which amend Dronten's profile.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraData {
    #[serde(default)]
    pub municipality: Vec<Municipality>,
    /// `[[tariffs]]`: `year`, `coordination_cost_cents` and one `…_cents` per tariff;
    /// they take their lines from Dronten's table in force in their year.
    #[serde(default)]
    pub tariffs: Vec<LegacyTariffTable>,
    /// `[[respect_week_editions]]`: `year`, `starts_on`, `ends_on` and optionally
    /// `registration_closes_on` (default: the day before the week); checked on load.
    #[serde(default, rename = "respect_week_editions")]
    pub editions: Vec<Edition>,
}

/// The profile the old sections of `LOKET_CONFIG` amend.
pub const LEGACY_MUNICIPALITY: &str = "dronten";

/// Reads `LOKET_CONFIG`'s TOML; an error names the path of the bad value
/// (`tariffs[1].melding_cents: invalid type …`).
pub fn parse_extra(text: &str) -> Result<ExtraData, String> {
    let deserializer = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // toml's own message names the line; the path names the value.
        let message = inner.message().to_string();
        match inner.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].lines().count().max(1);
                format!("{path}: {message} (line {line})")
            }
            None => format!("{path}: {message}"),
        }
    })
}

/// Every profile: the built-in ones, then `LOKET_CONFIG`'s (a profile of the same id
/// replaces the built-in one, its old sections amend Dronten's), each checked.
pub fn load_profiles(path: Option<&Path>) -> Result<Vec<Municipality>, ConfigError> {
    let Some(path) = path else {
        return Ok(Municipality::built_in());
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_extra(&text)
        .and_then(profiles_with)
        .map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))
}

/// The built-in profiles with what `LOKET_CONFIG` holds applied.
pub fn profiles_with(extra: ExtraData) -> Result<Vec<Municipality>, String> {
    let mut profiles = Municipality::built_in();
    let mut configured = std::collections::BTreeSet::new();
    for (i, profile) in extra.municipality.into_iter().enumerate() {
        profile
            .validate()
            .map_err(|e| format!("municipality[{i}]: {e}"))?;
        if !configured.insert(profile.id.clone()) {
            return Err(format!(
                "municipality[{i}]: '{}' is configured twice",
                profile.id
            ));
        }
        match profiles.iter_mut().find(|p| p.id == profile.id) {
            Some(existing) => *existing = profile,
            None => profiles.push(profile),
        }
    }
    if !extra.tariffs.is_empty() || !extra.editions.is_empty() {
        let dronten = profiles
            .iter_mut()
            .find(|p| p.id == LEGACY_MUNICIPALITY)
            .expect("Dronten's profile is built in");
        dronten.amend(&extra.tariffs, &extra.editions)?;
        dronten.validate().map_err(|e| {
            format!("[[tariffs]] and [[respect_week_editions]] make an invalid {e}")
        })?;
    }
    Ok(profiles)
}

/// The catalogue of the profile `id` among `profiles`.
pub fn catalogue_of(profiles: Vec<Municipality>, id: &str) -> Result<Catalogue, ConfigError> {
    let known: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
    let profile = profiles.into_iter().find(|p| p.id == id).ok_or_else(|| {
        ConfigError::Invalid(format!(
            "LOKET_MUNICIPALITY '{id}': no such profile (known: {})",
            known.join(", ")
        ))
    })?;
    Ok(Catalogue::of(profile))
}

/// The catalogue this service runs on: `LOKET_MUNICIPALITY`'s profile, from the
/// built-in profiles and `LOKET_CONFIG`.
pub fn catalogue(settings: &Settings) -> Result<Catalogue, ConfigError> {
    let profiles = load_profiles(settings.config_path.as_deref())?;
    catalogue_of(profiles, &settings.municipality)
}

/// Dronten's catalogue with the `LOKET_CONFIG` at `path` applied.
pub fn load_catalogue(path: Option<&Path>) -> Result<Catalogue, ConfigError> {
    catalogue_of(load_profiles(path)?, LEGACY_MUNICIPALITY)
}

/// A profile as the `[[municipality]]` section of a `LOKET_CONFIG`.
pub fn profile_as_config(profile: &Municipality) -> String {
    #[derive(serde::Serialize)]
    struct Config<'a> {
        municipality: [&'a Municipality; 1],
    }
    toml::to_string(&Config {
        municipality: [profile],
    })
    .expect("a profile is plain data")
}

/// Opens the configured store. The DynamoDB client is built here, once per process,
/// without sending a request.
pub async fn open_store(settings: &Settings) -> Result<SharedStore, ConfigError> {
    Ok(match settings.store {
        StoreKind::Embedded => Arc::new(EmbeddedStore::open(&settings.data_dir)?),
        StoreKind::DynamoDb => Arc::new(DynamoStore::from_env(settings.table.clone()).await),
    })
}

pub async fn build_state(settings: &Settings) -> Result<AppState, ConfigError> {
    let cursors = match &settings.cursor_key {
        Some(key) => CursorSealer::new(key.as_bytes()),
        None => CursorSealer::random(),
    };
    let catalogue = catalogue(settings)?;
    Ok(AppState {
        app: App {
            store: Store::new(open_store(settings).await?),
            // The one place the two clocks are chosen.
            clocks: Clocks::new(settings.clock(), Arc::new(SystemClock)),
            mail: Arc::new(mail(settings, &catalogue.municipality)?),
            catalogue: Arc::new(catalogue),
        },
        cursors,
        auth: Arc::new(staff_auth(settings)?),
        hosted_sign_in: hosted_sign_in(settings)?.map(Arc::new),
        snapshots: Arc::default(),
    })
}

/// Where e-mail comes from (`LOKET_MAIL_FROM`, else the profile's sender) and where
/// its links point.
pub fn mail(settings: &Settings, profile: &Municipality) -> Result<Mail, ConfigError> {
    let public_url = match &settings.public_url {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => url.clone(),
        Some(url) => {
            return Err(ConfigError::Invalid(format!(
                "LOKET_PUBLIC_URL must start with https:// or http://, not '{url}'"
            )));
        }
        None => format!("http://{}", settings.bind),
    };
    let (from, source) = match &settings.mail_from {
        Some(from) => (from, "LOKET_MAIL_FROM"),
        None => (
            &profile.mail.from,
            "mail.from of the municipality's profile",
        ),
    };
    from.parse::<lettre::message::Mailbox>()
        .map_err(|e| ConfigError::Invalid(format!("{source}: {e}")))?;
    Ok(Mail::new(&public_url, from, profile))
}

/// The local server's mail transport: SMTP, or `.eml` files in the data folder.
pub fn mail_transport(
    settings: &Settings,
) -> Result<Box<dyn crate::notify::delivery::Transport>, ConfigError> {
    use crate::notify::delivery::{Files, Smtp};
    Ok(match &settings.smtp_url {
        Some(url) => Box::new(Smtp::new(url).map_err(ConfigError::Invalid)?),
        None => Box::new(Files(settings.data_dir.join("mail"))),
    })
}

/// The staff pages' hosted sign-in from `LOKET_STAFF_*`: all three or none.
pub fn hosted_sign_in(settings: &Settings) -> Result<Option<HostedSignIn>, ConfigError> {
    let (Some(domain), Some(callback), Some(signed_out)) = (
        &settings.staff_signin_url,
        &settings.staff_callback_url,
        &settings.staff_signed_out_url,
    ) else {
        if settings.staff_signin_url.is_some()
            || settings.staff_callback_url.is_some()
            || settings.staff_signed_out_url.is_some()
        {
            return Err(ConfigError::Invalid(
                "set LOKET_STAFF_SIGNIN_URL, LOKET_STAFF_CALLBACK_URL and LOKET_STAFF_SIGNED_OUT_URL together".into(),
            ));
        }
        return Ok(None);
    };
    let client_id = settings.jwt_audience.as_deref().unwrap_or("");
    HostedSignIn::new(domain, client_id, callback, signed_out)
        .map(Some)
        .map_err(ConfigError::Invalid)
}

/// Staff token verification from `LOKET_JWT_*` (a JWKS URL is not fetched here).
pub fn staff_auth(settings: &Settings) -> Result<StaffAuth, ConfigError> {
    StaffAuth::configure(
        settings.jwt_secret.as_deref(),
        settings.jwt_jwks.as_deref(),
        settings.jwt_issuer.clone(),
        settings.jwt_audience.clone(),
    )
    .map_err(ConfigError::Invalid)
}

/// Readable logs locally, JSON lines in Lambda (CloudWatch).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        builder.json().without_time().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests) is harmless.
    let _ = result;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_config_value_is_named_by_its_path() {
        let text = "[[tariffs]]\nyear = 2028\ncoordination_cost_cents = 4100000\nmelding_cents = \"veertig\"\n";
        let error = parse_extra(text).unwrap_err();
        assert!(error.starts_with("tariffs[0].melding_cents: "), "{error}");
        assert!(error.contains("line 4"), "{error}");
        let unknown =
            parse_extra("[[respect_week_editions]]\nyear = 2028\nstart = 1\n").unwrap_err();
        assert!(unknown.starts_with("respect_week_editions[0]"), "{unknown}");
    }

    /// The README's example of the old format: named amounts and an edition.
    const OLD_FORMAT: &str = r#"
[[tariffs]]
year = 2028
coordination_cost_cents = 4100000
melding_cents = 4000
category_a_cents = 19500
category_b_cents = 58500
category_c_cents = 156000
extra_day_cents = 6500
road_closure_cents = 12400
alcohol_exemption_cents = 15300

[[respect_week_editions]]
year = 2028
starts_on = 2028-11-06
ends_on = 2028-11-12
"#;

    fn profiles(text: &str) -> Result<Vec<Municipality>, String> {
        parse_extra(text).and_then(profiles_with)
    }

    #[test]
    fn an_old_config_still_reads_and_amends_drontens_profile() {
        let catalogue = catalogue_of(profiles(OLD_FORMAT).unwrap(), "dronten").unwrap();
        let t = catalogue.tariffs.for_year(2029).unwrap();
        assert_eq!(t.year, 2028);
        assert_eq!(t.coordination_cost_cents, 4_100_000);
        let amounts: Vec<i64> = t.lines.iter().map(|l| l.amount_cents).collect();
        assert_eq!(
            amounts,
            [4_000, 19_500, 58_500, 156_000, 6_500, 12_400, 15_300]
        );
        assert_eq!(catalogue.tariffs.for_year(2027).unwrap().year, 2027);
        let years: Vec<i32> = catalogue.editions.iter().map(|e| e.year).collect();
        assert_eq!(years, [2017, 2027, 2028]);
        let in_profile: Vec<i32> = catalogue
            .municipality
            .tariffs
            .iter()
            .map(|t| t.year)
            .collect();
        assert_eq!(
            in_profile,
            [2017, 2026, 2027, 2028],
            "the profile shows them too"
        );
        assert!(Catalogue::default().tariffs.for_year(2028).unwrap().year == 2027);
    }

    #[test]
    fn a_profile_in_the_config_replaces_its_namesake_or_is_added() {
        let mut dronten = Municipality::dronten();
        dronten.terms.withdrawal_refund_percent = 100;
        dronten.mail.from = "Evenementen Dronten <evenementen@dronten.nl>".into();
        let mut other = Municipality::dronten();
        other.id = "lelystad".into();
        other.name = "Lelystad".into();
        other.cbs_code = "0995".into();
        let text = profile_as_config(&dronten) + &profile_as_config(&other) + OLD_FORMAT;
        let all = profiles(&text).unwrap();
        let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["dronten", "lelystad"]);

        let catalogue = catalogue_of(all.clone(), "dronten").unwrap();
        assert_eq!(catalogue.tariffs.terms().withdrawal_refund_percent, 100);
        assert!(
            catalogue.tariffs.for_year(2028).unwrap().year == 2028,
            "the old sections amend the replacement"
        );
        use clap::Parser;
        let settings = Settings::try_parse_from(std::iter::empty::<&str>()).unwrap();
        let mail = mail(&settings, &catalogue.municipality).unwrap();
        assert_eq!(mail.from, "Evenementen Dronten <evenementen@dronten.nl>");
        let settings = Settings::try_parse_from(["--mail-from=Loket <loket@dronten.nl>"]).unwrap();
        let mail = super::mail(&settings, &catalogue.municipality).unwrap();
        assert_eq!(
            mail.from, "Loket <loket@dronten.nl>",
            "LOKET_MAIL_FROM wins"
        );

        let lelystad = catalogue_of(all.clone(), "lelystad").unwrap();
        assert_eq!(lelystad.municipality.name, "Lelystad");
        assert!(lelystad.tariffs.for_year(2028).unwrap().year == 2027);
        let unknown = catalogue_of(all, "almere").unwrap_err().to_string();
        assert_eq!(
            unknown,
            "LOKET_MUNICIPALITY 'almere': no such profile (known: dronten, lelystad)"
        );

        other.kernen.pop();
        let all = profiles(&profile_as_config(&other)).unwrap();
        let lelystad = catalogue_of(all, "lelystad").unwrap();
        assert_eq!(
            lelystad.municipality.kernen.len(),
            3,
            "kernen are data: a profile may have other kernen"
        );
    }

    #[test]
    fn a_bad_profile_in_the_config_is_named() {
        let mut bad = Municipality::dronten();
        bad.cbs_code = "303".into();
        let error = profiles(&profile_as_config(&bad)).unwrap_err();
        assert!(
            error.starts_with("municipality[0]: municipality 'dronten': cbs_code: '303'"),
            "{error}"
        );
        let twice = profile_as_config(&Municipality::dronten()).repeat(2);
        let error = profiles(&twice).unwrap_err();
        assert_eq!(error, "municipality[1]: 'dronten' is configured twice");
        let text = profile_as_config(&Municipality::dronten())
            .replace("amount_cents = 3000", "amount_cents = \"dertig\"");
        let error = profiles(&text).unwrap_err();
        assert!(
            error.starts_with("municipality[0].tariffs[0].lines[0].amount_cents: "),
            "{error}"
        );
    }

    fn hosted(args: &[&str]) -> Result<bool, String> {
        use clap::Parser;
        let settings = Settings::try_parse_from(args.iter().copied()).unwrap();
        hosted_sign_in(&settings)
            .map(|h| h.is_some())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_hosted_sign_in_takes_all_three_addresses_and_the_client_or_none() {
        let all = [
            "--staff-signin-url=https://loket.auth.eu-west-1.amazoncognito.com",
            "--staff-callback-url=https://loket.example/medewerkers/inloggen/terug",
            "--staff-signed-out-url=https://loket.example/medewerkers/uitgelogd",
        ];
        assert_eq!(hosted(&[]), Ok(false));
        let mut with_client = all.to_vec();
        with_client.push("--jwt-audience=client-1");
        assert_eq!(hosted(&with_client), Ok(true));
        let error = hosted(&all).unwrap_err();
        assert!(error.contains("LOKET_JWT_AUDIENCE"), "{error}");
        let error = hosted(&all[..2]).unwrap_err();
        assert!(error.contains("together"), "{error}");
        let mut plain = with_client.clone();
        plain[0] = "--staff-signin-url=http://loket.auth.example";
        assert!(hosted(&plain).unwrap_err().contains("https://"));
    }
}
