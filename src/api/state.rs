//! What every handler gets: the store, the clocks, the catalogue, the cursor key and
//! the staff-token verifier, built once per process (`config::build_state`) or by a
//! test through [`AppState::builder`].

use std::sync::Arc;

use crate::clock::{Clock, SharedClock, SystemClock};
use crate::domain::Catalogue;
use crate::notify::Mail;
use crate::store::Store;

use super::auth::{HostedSignIn, StaffAuth};
use super::respect_week::snapshot::Snapshots;
use super::secrets::CursorSealer;

/// Everything a handler needs.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    /// The business clock (`LOKET_NOW` fixes it).
    pub clock: SharedClock,
    /// Real time, for idempotency expiry (docs/api.md: 24 h of real time).
    pub real_clock: SharedClock,
    pub catalogue: Arc<Catalogue>,
    pub cursors: CursorSealer,
    /// Verifies staff tokens (HS256 secret or a JWKS).
    pub auth: Arc<StaffAuth>,
    /// Cognito's hosted sign-in for the staff pages, when configured
    /// (`LOKET_STAFF_SIGNIN_URL`); without it only the local sign-in exists.
    pub hosted_sign_in: Option<Arc<HostedSignIn>>,
    /// Where messages come from and where their links point.
    pub mail: Arc<Mail>,
    /// The public programme's snapshots, per edition.
    pub snapshots: Arc<Snapshots>,
}

impl AppState {
    /// A state on `store` with the system clocks, the built-in catalogue, a random
    /// cursor key and a random staff key; each can be set otherwise.
    pub fn builder(store: Store) -> AppStateBuilder {
        AppStateBuilder {
            state: AppState {
                store,
                clock: Arc::new(SystemClock),
                real_clock: Arc::new(SystemClock),
                catalogue: Arc::new(Catalogue::default()),
                cursors: CursorSealer::random(),
                auth: Arc::new(StaffAuth::random()),
                hosted_sign_in: None,
                mail: Arc::new(Mail::default()),
                snapshots: Arc::default(),
            },
        }
    }
}

/// Sets up an [`AppState`] piece by piece.
pub struct AppStateBuilder {
    state: AppState,
}

impl AppStateBuilder {
    /// The business clock.
    pub fn clock(mut self, clock: impl Clock + 'static) -> AppStateBuilder {
        self.state.clock = Arc::new(clock);
        self
    }

    /// The clock of idempotency expiry.
    pub fn real_clock(mut self, clock: impl Clock + 'static) -> AppStateBuilder {
        self.state.real_clock = Arc::new(clock);
        self
    }

    pub fn catalogue(mut self, catalogue: Catalogue) -> AppStateBuilder {
        self.state.catalogue = Arc::new(catalogue);
        self
    }

    pub fn cursor_key(mut self, key: &[u8]) -> AppStateBuilder {
        self.state.cursors = CursorSealer::new(key);
        self
    }

    pub fn auth(mut self, auth: StaffAuth) -> AppStateBuilder {
        self.state.auth = Arc::new(auth);
        self
    }

    pub fn hosted_sign_in(mut self, sign_in: HostedSignIn) -> AppStateBuilder {
        self.state.hosted_sign_in = Some(Arc::new(sign_in));
        self
    }

    pub fn mail(mut self, mail: Mail) -> AppStateBuilder {
        self.state.mail = Arc::new(mail);
        self
    }

    pub fn build(self) -> AppState {
        self.state
    }
}
