//! `loket`: the local server and the operator's commands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use loket::config::{self, Settings};

#[derive(Parser)]
#[command(name = "loket", about = "Online counter of the municipality of Dronten for events")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the local HTTP server (the default).
    Serve,
}

#[tokio::main]
async fn main() -> ExitCode {
    config::init_logging();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loket: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    let state = config::build_state(&settings).await?;
    let listener = tokio::net::TcpListener::bind(&settings.bind).await?;
    let url = format!("http://{}", listener.local_addr()?);
    tracing::info!(%url, store = ?settings.store, "loket is listening");
    println!("loket is listening on {url}  (try {url}/health)");
    axum::serve(listener, loket::api::app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
