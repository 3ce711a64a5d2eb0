//! Time is injected: every rule that depends on "now" asks a [`Clock`].
//!
//! `LOKET_NOW` fixes the business clock (demos and tests replay 2017). Idempotency
//! records expire by real time (docs/api.md), so the app state carries a second clock for
//! that, which tests can also move.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that shows a set moment until it is moved: `LOKET_NOW`, and tests that
/// need time to pass (an edition that starts, a purge a year later).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = at;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().expect("clock lock");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// The service's two clocks, chosen once (`config::build_state`, or a test's
/// [`crate::api::AppState::builder`]): the business clock that the rules run on
/// (`LOKET_NOW` fixes it) and real time, for what must expire in real time
/// (idempotency records, the staff session, the pause between two lost-link
/// e-mails, the outbox). A use case reads both once, as [`Now`].
#[derive(Debug, Clone)]
pub struct Clocks {
    business: SharedClock,
    real: SharedClock,
}

/// One reading of both clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// The rules' "now": deadlines, editions, decisions, erasure.
    pub business: DateTime<Utc>,
    /// Real time: expiry of idempotency records and sessions, the outbox.
    pub real: DateTime<Utc>,
}

impl Default for Clocks {
    fn default() -> Clocks {
        Clocks::new(Arc::new(SystemClock), Arc::new(SystemClock))
    }
}

impl Clocks {
    pub fn new(business: SharedClock, real: SharedClock) -> Clocks {
        Clocks { business, real }
    }

    /// Both clocks, read once.
    pub fn now(&self) -> Now {
        Now {
            business: self.business.now(),
            real: self.real.now(),
        }
    }

    /// The business clock alone (a page that shows what is open now).
    pub fn business(&self) -> DateTime<Utc> {
        self.business.now()
    }

    /// Real time alone (a staff token's expiry).
    pub fn real(&self) -> DateTime<Utc> {
        self.real.now()
    }

    /// The real-time clock itself, for a loop that reads it again and again (the
    /// outbox's delivery).
    pub fn real_clock(&self) -> SharedClock {
        self.real.clone()
    }

    pub fn set_business(&mut self, clock: SharedClock) {
        self.business = clock;
    }

    pub fn set_real(&mut self, clock: SharedClock) {
        self.real = clock;
    }
}
