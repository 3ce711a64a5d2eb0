//! `loket`: the local server and the operator's commands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use loket::config::{self, Settings};

#[derive(Parser)]
#[command(name = "loket", about = "Online counter of a municipality for events")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the local HTTP server (the default).
    Serve,
    /// Mint a staff token (HS256, with LOKET_JWT_SECRET) for the admin routes.
    Token {
        /// The staff member's id (the token's `sub`), recorded as the actor.
        #[arg(long)]
        sub: String,
        /// How long the token is valid.
        #[arg(long, default_value_t = 12)]
        hours: i64,
    },
    /// Print a year's leges coverage report from the aggregates; with --verify,
    /// recompute it from the applications and fail on any difference.
    Coverage {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        verify: bool,
    },
    /// Erase Week van Respect contact data that is due by the business clock
    /// (LOKET_NOW or the system clock) and expired idempotency records, once.
    Purge,
    /// Create the DynamoDB table (LOKET_TABLE; keys, GSIs, TTL) and wait until it is
    /// active; a table that exists already is left as it is.
    CreateTable,
    /// The municipalities loket knows as data: the built-in profiles and those of
    /// LOKET_CONFIG.
    Municipality {
        #[command(subcommand)]
        command: MunicipalityCommand,
    },
}

#[derive(Subcommand)]
enum MunicipalityCommand {
    /// Print a profile as TOML, as it is in force (LOKET_CONFIG applied).
    Show {
        /// The profile's id, such as `dronten`.
        id: String,
        /// Print it as a `[[municipality]]` section of LOKET_CONFIG, to edit.
        #[arg(long)]
        as_config: bool,
    },
    /// List every profile: id, CBS code and name; `*` marks LOKET_MUNICIPALITY's.
    List,
}

#[tokio::main]
async fn main() -> ExitCode {
    config::init_logging();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Token { sub, hours } => token(&sub, hours),
        Command::Coverage { year, verify } => coverage(year, verify).await,
        Command::Purge => purge().await,
        Command::CreateTable => create_table().await,
        Command::Municipality { command } => municipality(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loket: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM (what a service manager or a container sends).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::from_env()?;
    // No staff key configured: a fresh secret for this run, and a token to use it.
    let generated = settings.jwt_secret.is_none() && settings.jwt_jwks.is_none();
    if generated {
        settings.jwt_secret = Some(loket::api::auth::generate_secret());
    }
    let state = config::build_state(&settings).await?;
    if generated {
        let now = state.clocks.real().timestamp();
        let token = state
            .auth
            .mint("staff", now, 12 * 3600)
            .ok_or("cannot mint a staff token")?;
        println!("No LOKET_JWT_SECRET set; generated one for this run:");
        println!(
            "  LOKET_JWT_SECRET={}",
            settings.jwt_secret.as_deref().unwrap_or_default()
        );
        println!("Staff token (sub 'staff', valid 12 h):");
        println!("  Authorization: Bearer {token}");
    }
    let listener = loket::server::bind(&settings.bind).await?;
    let url = format!("http://{}", listener.local_addr()?);
    tracing::info!(%url, store = ?settings.store, "loket is listening");
    println!("loket is listening on {url}  (try {url}/health)");
    // Personal data goes when the clock says so: now, and then daily.
    let purge = loket::app::purge::spawn_daily(state.app.clone());
    // What the outbox holds goes out, by real time (retries wait real seconds).
    let transport = config::mail_transport(&settings)?;
    let mail = tokio::spawn(loket::notify::delivery::run(
        state.store.clone(),
        transport,
        state.mail.from.clone(),
        state.clocks.real_clock(),
    ));
    loket::server::run(
        listener,
        loket::routes::app(state.clone()),
        loket::server::Limits {
            rate_per_minute: settings.rate_limit_per_minute,
            ..loket::server::Limits::default()
        },
        stop_signal(),
    )
    .await?;
    // A clean close: the embedded store's file is marked closed, so the next start
    // need not check it (redb repairs a file that was not closed).
    purge.abort();
    mail.abort();
    let _ = purge.await;
    let _ = mail.await;
    drop(state);
    tracing::info!("loket stopped");
    Ok(())
}

/// `loket token --sub <id> [--hours N]`: a staff token signed with LOKET_JWT_SECRET.
fn token(sub: &str, hours: i64) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    let secret = settings
        .jwt_secret
        .as_deref()
        .ok_or("set LOKET_JWT_SECRET (the server's secret) to mint a staff token")?;
    if !(1..=24).contains(&hours) {
        return Err(
            "--hours must be between 1 and 24 (the longest a staff token is accepted)".into(),
        );
    }
    if !loket::api::auth::is_safe_id(sub) {
        return Err("--sub must be 1-128 of A-Z a-z 0-9 . _ @ + -".into());
    }
    let auth = loket::api::auth::StaffAuth::hs256(
        secret,
        settings.jwt_issuer.clone(),
        settings.jwt_audience.clone(),
    )?;
    let now = loket::clock::Clock::now(&loket::clock::SystemClock).timestamp();
    println!(
        "{}",
        auth.mint(sub, now, hours * 3600)
            .ok_or("cannot mint a staff token")?
    );
    Ok(())
}

/// `loket coverage --year Y [--verify]`: the report from the aggregates; with
/// `--verify` also recomputed from the applications of Y, with every difference.
async fn coverage(year: i32, verify: bool) -> Result<(), Box<dyn std::error::Error>> {
    use loket::domain::coverage;
    let settings = Settings::from_env()?;
    let store = loket::store::Store::new(config::open_store(&settings).await?);
    let catalogue = config::catalogue(&settings)?;
    let cost = catalogue
        .tariffs
        .for_year(year)
        .ok_or_else(|| format!("no tariff table is in force for {year}"))?
        .coordination_cost_cents;
    let stored = store.permits().coverage(year).await?;
    let report = |buckets: &std::collections::BTreeMap<coverage::Bucket, coverage::Sums>| {
        serde_json::to_string_pretty(&coverage::report(year, cost, buckets))
    };
    println!("aggregates:\n{}", report(&stored)?);
    if !verify {
        return Ok(());
    }
    let apps = store.permits().list_all(year).await?;
    let recomputed = coverage::recompute(year, &apps);
    println!(
        "recomputed from {} applications:\n{}",
        apps.len(),
        report(&recomputed)?
    );
    let mut differences = 0;
    for bucket in stored
        .keys()
        .chain(recomputed.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (a, b) = (
            stored.get(bucket).copied().unwrap_or_default(),
            recomputed.get(bucket).copied().unwrap_or_default(),
        );
        if a != b {
            differences += 1;
            println!(
                "DIFFERENCE {}: aggregates {a:?}, recomputed {b:?}",
                bucket.key()
            );
        }
    }
    if differences > 0 {
        return Err(format!("{differences} coverage bucket(s) differ for {year}").into());
    }
    println!("OK: the aggregates of {year} equal the recomputation");
    Ok(())
}

/// `loket purge`: one purge by the configured clock, on the configured store.
async fn purge() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    let store = config::open_store(&settings).await?;
    let catalogue = config::catalogue(&settings)?;
    let now = settings.clock().now();
    let real_now = loket::clock::Clock::now(&loket::clock::SystemClock);
    let store = loket::store::Store::new(store);
    let report = loket::app::purge::run(&store, &catalogue, now, real_now).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// `loket create-table`: the table that `template.yaml` declares, for DynamoDB Local
/// or a first manual set-up.
async fn create_table() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    let config = loket::store::dynamo::config_loader().load().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    loket::store::dynamo::create_table(&client, &settings.table).await?;
    println!("table '{}' is active (TTL on expires_at)", settings.table);
    Ok(())
}

/// `loket municipality show <id> [--as-config]` and `loket municipality list`.
fn municipality(command: MunicipalityCommand) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    let profiles = config::load_profiles(settings.config_path.as_deref())?;
    match command {
        MunicipalityCommand::Show { id, as_config } => {
            let profile = profiles.iter().find(|p| p.id == id).ok_or_else(|| {
                let known: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
                format!("no municipality '{id}' (known: {})", known.join(", "))
            })?;
            if as_config {
                print!("{}", config::profile_as_config(profile));
            } else {
                print!("{}", profile.to_toml());
            }
        }
        MunicipalityCommand::List => {
            for p in &profiles {
                let marker = if p.id == settings.municipality {
                    "*"
                } else {
                    " "
                };
                println!("{marker} {}\t{}\t{}", p.id, p.cbs_code, p.name);
            }
        }
    }
    Ok(())
}
