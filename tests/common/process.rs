//! A program the test starts on a port of its own (`loket serve`, chromedriver,
//! aiosmtpd, moto, DynamoDB Local): `#[path = "common/process.rs"] mod process;` (or
//! `"../common/process.rs"` from a folder under `tests/`).
//!
//! ```ignore
//! let port = free_port();
//! let driver = Launch::new("chromedriver", "/usr/bin/chromedriver", port)
//!     .arg(format!("--port={port}"))
//!     .start();
//! ```
//!
//! [`Launch::start`] spawns the program and waits until its port accepts a connection
//! (or, with [`Ready::Http`], gives an HTTP answer), and until the listening socket is
//! the process's own, so a server that took the port first does not count. What the
//! process writes (stdout and stderr) goes to a file of its own and is quoted when it
//! exits during start-up, does not answer in time, or has died. A [`Launch`] is kept
//! for a restart on the same port. Dropping the [`Process`] kills and reaps it, also
//! when the test panics.
#![allow(dead_code)] // each test binary uses a different part

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a start may take unless [`Launch::timeout`] says otherwise.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the port is tried while waiting.
const POLL: Duration = Duration::from_millis(50);
/// How many lines of its output an error quotes.
const TAIL_LINES: usize = 30;

/// A port on 127.0.0.1 that is free now (the kernel's pick). Another process may bind
/// it before the program does: the start then fails, or (see [`Launch::start`]) does
/// not mistake that process for the program.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port()
}

/// When a started program counts as up.
#[derive(Debug, Clone, Copy)]
pub enum Ready {
    /// Its port accepts a TCP connection.
    Listening,
    /// Its port answers `GET <path>` over HTTP/1.1, with any status.
    Http(&'static str),
}

/// How to start one program on one port; [`start`](Launch::start) it as often as
/// needed (a restart keeps the port).
#[derive(Debug, Clone)]
pub struct Launch {
    name: String,
    program: OsString,
    args: Vec<OsString>,
    /// `None`: removed from the inherited environment.
    env: Vec<(OsString, Option<OsString>)>,
    port: u16,
    ready: Ready,
    timeout: Duration,
}

impl Launch {
    /// `program` (a path, or a name on PATH), called `name` in messages, which will
    /// listen on 127.0.0.1:`port` (the arguments or environment must tell it so).
    pub fn new(name: &str, program: impl AsRef<OsStr>, port: u16) -> Launch {
        Launch {
            name: name.to_string(),
            program: program.as_ref().to_os_string(),
            args: Vec::new(),
            env: Vec::new(),
            port,
            ready: Ready::Listening,
            timeout: START_TIMEOUT,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Launch {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Launch
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Launch {
        let value = Some(value.as_ref().to_os_string());
        self.env.push((key.as_ref().to_os_string(), value));
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Launch {
        self.env.push((key.as_ref().to_os_string(), None));
        self
    }

    /// When it counts as up (default: [`Ready::Listening`]).
    pub fn ready(mut self, ready: Ready) -> Launch {
        self.ready = ready;
        self
    }

    /// How long the start may take (default 20 s).
    pub fn timeout(mut self, timeout: Duration) -> Launch {
        self.timeout = timeout;
        self
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Spawns the program and waits until it is up; panics with the reason (and what
    /// the program wrote) when it is not.
    pub fn start(&self) -> Process {
        self.try_start().unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`start`](Launch::start) that returns the reason instead of panicking.
    pub fn try_start(&self) -> Result<Process, StartError> {
        let output = tempfile::NamedTempFile::new().expect("a file for a process's output");
        let handle = || output.as_file().try_clone().expect("a handle on that file");
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command
            .stdin(Stdio::null())
            .stdout(handle())
            .stderr(handle());
        let name = self.name.clone();
        let child = match command.spawn() {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(StartError::NotFound { name, error });
            }
            Err(error) => return Err(StartError::Spawn { name, error }),
        };
        let mut process = Process {
            name,
            port: self.port,
            child,
            output,
        };
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Ok(Some(status)) = process.child.try_wait() {
                return Err(StartError::Exited {
                    name: process.name.clone(),
                    status,
                    output: process.output(),
                });
            }
            if self.ready.answers(self.port) && owns_listener(process.id(), self.port) {
                return Ok(process);
            }
            if Instant::now() >= deadline {
                let _ = process.child.kill();
                let _ = process.child.wait();
                return Err(StartError::TimedOut {
                    name: process.name.clone(),
                    port: self.port,
                    after: self.timeout,
                    output: process.output(),
                });
            }
            std::thread::sleep(POLL);
        }
    }
}

/// Why a [`Launch`] gave no running process.
pub enum StartError {
    /// The program is not there (or not on PATH).
    NotFound { name: String, error: std::io::Error },
    /// It could not be spawned for another reason.
    Spawn { name: String, error: std::io::Error },
    /// It exited before it was up.
    Exited {
        name: String,
        status: ExitStatus,
        output: String,
    },
    /// It was not up in time, and was killed.
    TimedOut {
        name: String,
        port: u16,
        after: Duration,
        output: String,
    },
}

impl StartError {
    /// What the program wrote (stdout and stderr) before it failed.
    pub fn output(&self) -> &str {
        match self {
            StartError::Exited { output, .. } | StartError::TimedOut { output, .. } => output,
            StartError::NotFound { .. } | StartError::Spawn { .. } => "",
        }
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NotFound { name, error } | StartError::Spawn { name, error } => {
                write!(f, "spawning {name}: {error}")
            }
            StartError::Exited { name, status, .. } => {
                write!(f, "{name} exited during start-up ({status})")
            }
            StartError::TimedOut {
                name, port, after, ..
            } => write!(f, "{name} did not answer on port {port} within {after:?}"),
        }?;
        if !self.output().is_empty() {
            write!(f, "; its output:\n{}", tail(self.output()))?;
        }
        Ok(())
    }
}

impl fmt::Debug for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A started program, killed (SIGKILL) and reaped on drop.
pub struct Process {
    name: String,
    port: u16,
    child: Child,
    /// Its stdout and stderr.
    output: tempfile::NamedTempFile,
}

impl Process {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// [`Child::try_wait`]: its exit status once it has exited.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// `Err` (with its output) when it has exited.
    pub fn running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!(
                "{} on port {} had died ({status}); its output:\n{}",
                self.name,
                self.port,
                tail(&self.output())
            )),
            _ => Ok(()),
        }
    }

    /// SIGKILL: it dies on the spot, with whatever it had not written yet. Returns
    /// once it is reaped, so its port and files are free.
    pub fn kill(mut self) -> ExitStatus {
        let name = &self.name;
        self.child
            .kill()
            .unwrap_or_else(|e| panic!("SIGKILL to {name}: {e}"));
        self.child
            .wait()
            .unwrap_or_else(|e| panic!("reaping {name}: {e}"))
    }

    /// SIGTERM, then waits until it has exited. `Err` (after killing it) when it is
    /// still there after `within`, or when it had already died.
    pub fn terminate(mut self, within: Duration) -> Result<ExitStatus, String> {
        self.running()?;
        let term = Command::new("kill")
            .args(["-TERM", &self.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        if term.as_ref().is_ok_and(ExitStatus::success) {
            while Instant::now() < deadline {
                if let Ok(Some(status)) = self.child.try_wait() {
                    return Ok(status);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let name = &self.name;
        Err(match term {
            Ok(status) if status.success() => format!(
                "{name} on port {} ignored SIGTERM for {within:?}; killed it",
                self.port
            ),
            Ok(status) => format!("kill -TERM failed ({status}); killed {name}"),
            Err(e) => format!("running kill -TERM: {e}; killed {name}"),
        })
    }

    /// Everything it wrote so far (stdout and stderr).
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.output.path()).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a program's output.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

impl Ready {
    fn answers(self, port: u16) -> bool {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
            return false;
        };
        let Ready::Http(path) = self else {
            return true;
        };
        // Any HTTP answer (even an error for the bare request) means the server is up.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let mut head = [0u8; 5];
        stream
            .write_all(request.as_bytes())
            .and_then(|()| stream.read_exact(&mut head))
            .is_ok()
            && &head == b"HTTP/"
    }
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
