//! What every handler gets: the use cases' [`App`] (store, clocks, catalogue, mail)
//! and what only the HTTP edge needs (the cursor key, the staff-token verifier, the
//! hosted sign-in, the programme's snapshots), built once per process
//! (`config::build_state`) or by a test through [`AppState::builder`].

use std::ops::Deref;
use std::sync::Arc;

use crate::app::App;
use crate::clock::Clock;
use crate::domain::Catalogue;
use crate::notify::Mail;
use crate::store::Store;

use super::auth::{HostedSignIn, StaffAuth};
use super::cursors::CursorSealer;
use super::respect_week::snapshot::Snapshots;

/// Everything a handler needs.
#[derive(Clone, Debug)]
pub struct AppState {
    /// What the use cases run on.
    pub app: App,
    pub cursors: CursorSealer,
    /// Verifies staff tokens (HS256 secret or a JWKS).
    pub auth: Arc<StaffAuth>,
    /// Cognito's hosted sign-in for the staff pages, when configured
    /// (`LOKET_STAFF_SIGNIN_URL`); without it only the local sign-in exists.
    pub hosted_sign_in: Option<Arc<HostedSignIn>>,
    /// The public programme's snapshots, per edition.
    pub snapshots: Arc<Snapshots>,
}

/// A handler hands the state to a use case as the [`App`] it holds.
impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    /// A state on `store` with the system clocks, the built-in catalogue, a random
    /// cursor key and a random staff key; each can be set otherwise.
    pub fn builder(store: Store) -> AppStateBuilder {
        AppStateBuilder {
            state: AppState {
                app: App::new(store),
                cursors: CursorSealer::random(),
                auth: Arc::new(StaffAuth::random()),
                hosted_sign_in: None,
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
        self.state.app.clocks.set_business(Arc::new(clock));
        self
    }

    /// Real time: idempotency expiry, sessions, the outbox.
    pub fn real_clock(mut self, clock: impl Clock + 'static) -> AppStateBuilder {
        self.state.app.clocks.set_real(Arc::new(clock));
        self
    }

    /// The municipality's data; the e-mail takes the profile's sender and signature
    /// too (a [`Self::mail`] after this one replaces them).
    pub fn catalogue(mut self, catalogue: Catalogue) -> AppStateBuilder {
        let profile = &catalogue.municipality;
        let mail = Mail::new(&self.state.app.mail.public_url, &profile.mail.from, profile);
        self.state.app.mail = Arc::new(mail);
        self.state.app.catalogue = Arc::new(catalogue);
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
        self.state.app.mail = Arc::new(mail);
        self
    }

    pub fn build(self) -> AppState {
        self.state
    }
}
