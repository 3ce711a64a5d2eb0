//! Settings from the environment (DESIGN.md "Configuration"), and the wiring of the
//! app state from them. Reading the environment happens here and nowhere else.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;

use crate::api::AppState;
use crate::api::auth::StaffAuth;
use crate::api::secrets::CursorSealer;
use crate::clock::{ManualClock, SharedClock, SystemClock};
use crate::domain::Catalogue;
use crate::domain::leges::TariffTable;
use crate::domain::respect_week::Edition;
use crate::store::dynamo::DynamoStore;
use crate::store::embedded::EmbeddedStore;
use crate::store::{SharedStore, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Embedded,
    DynamoDb,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub store: StoreKind,
    pub data_dir: PathBuf,
    pub table: String,
    pub bind: String,
    /// `LOKET_NOW`: a fixed business clock.
    pub now: Option<DateTime<Utc>>,
    pub jwt_secret: Option<String>,
    pub jwt_jwks: Option<String>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub config_path: Option<PathBuf>,
    /// `LOKET_CURSOR_KEY`: signs list cursors; must be the same on every instance.
    pub cursor_key: Option<String>,
    /// `LOKET_RATE_LIMIT`: anonymous writes and quotes per minute per client on the
    /// local server; 0 turns the limit off (load tests).
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

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Anonymous writes and quotes a client may send per minute, unless configured.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 60;

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        let store = match var("LOKET_STORE").as_deref() {
            None | Some("embedded") => StoreKind::Embedded,
            Some("dynamodb") => StoreKind::DynamoDb,
            Some(other) => {
                return Err(ConfigError::Invalid(format!(
                    "LOKET_STORE must be 'embedded' or 'dynamodb', not '{other}'"
                )));
            }
        };
        let now = var("LOKET_NOW")
            .map(|v| {
                DateTime::<FixedOffset>::parse_from_rfc3339(&v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| ConfigError::Invalid(format!("LOKET_NOW '{v}': {e}")))
            })
            .transpose()?;
        let rate_limit_per_minute = match var("LOKET_RATE_LIMIT") {
            None => DEFAULT_RATE_LIMIT_PER_MINUTE,
            Some(v) => v.parse().map_err(|_| {
                ConfigError::Invalid(format!(
                    "LOKET_RATE_LIMIT must be a whole number of requests per minute (0: off), not '{v}'"
                ))
            })?,
        };
        Ok(Settings {
            rate_limit_per_minute,
            store,
            data_dir: var("LOKET_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| "./data".into()),
            table: var("LOKET_TABLE").unwrap_or_else(|| "loket".into()),
            bind: var("LOKET_BIND").unwrap_or_else(|| "127.0.0.1:3000".into()),
            now,
            jwt_secret: var("LOKET_JWT_SECRET"),
            jwt_jwks: var("LOKET_JWT_JWKS"),
            jwt_issuer: var("LOKET_JWT_ISSUER"),
            jwt_audience: var("LOKET_JWT_AUDIENCE"),
            config_path: var("LOKET_CONFIG").map(PathBuf::from),
            cursor_key: var("LOKET_CURSOR_KEY"),
        })
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

/// Extra data from `LOKET_CONFIG` (TOML): tariff tables and Week van Respect editions
/// for more years.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraData {
    #[serde(default)]
    pub tariffs: Vec<TariffTable>,
    /// `[[respect_week_editions]]`: `year`, `starts_on`, `ends_on` and optionally
    /// `registration_closes_on` (default: the day before the week); checked on load.
    #[serde(default, rename = "respect_week_editions")]
    pub editions: Vec<Edition>,
}

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

pub fn load_catalogue(path: Option<&Path>) -> Result<Catalogue, ConfigError> {
    let mut catalogue = Catalogue::default();
    let Some(path) = path else {
        return Ok(catalogue);
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let extra =
        parse_extra(&text).map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))?;
    catalogue.tariffs = catalogue.tariffs.with(extra.tariffs);
    catalogue.editions = catalogue.editions.with(extra.editions);
    Ok(catalogue)
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
    Ok(AppState {
        store: Store::new(open_store(settings).await?),
        clock: settings.clock(),
        real_clock: Arc::new(SystemClock),
        catalogue: Arc::new(load_catalogue(settings.config_path.as_deref())?),
        cursors,
        auth: Arc::new(staff_auth(settings)?),
    })
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
}
