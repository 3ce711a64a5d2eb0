//! Delivery from the outbox with a transport that always fails: the message waits
//! longer each time, is parked after ten attempts, no longer tried, and shown to
//! staff on the work queue. On both stores.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Duration;
use loket::clock::{Clock, SharedClock};
use loket::domain::outbox::{Delivery, MAX_ATTEMPTS};
use loket::notify::delivery::{Transport, deliver_due};

use crate::helpers::*;
use crate::permits::{submit, zomerfestival};

struct Refusing(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl Transport for Refusing {
    async fn send(&self, _: lettre::Message) -> Result<(), String> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err("550 mailbox unavailable".into())
    }
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_parked_and_shown_to_staff() {
    let app = spawn_app().await;
    submit(&app, &zomerfestival()).await;
    let tries = Arc::new(AtomicUsize::new(0));
    let transport = Refusing(tries.clone());
    let clock: SharedClock = Arc::new(app.real_clock.clone());
    let from = app.state.mail.from.clone();

    // Due at once; then not before its wait is over; ten attempts in all.
    for attempt in 1..=MAX_ATTEMPTS as usize {
        deliver_due(&app.state.store, &transport, &from, &clock)
            .await
            .unwrap();
        assert_eq!(tries.load(Ordering::SeqCst), attempt);
        deliver_due(&app.state.store, &transport, &from, &clock)
            .await
            .unwrap();
        assert_eq!(
            tries.load(Ordering::SeqCst),
            attempt,
            "waits before trying again"
        );
        app.real_clock.advance(Duration::minutes(15));
    }
    deliver_due(&app.state.store, &transport, &from, &clock)
        .await
        .unwrap();
    assert_eq!(
        tries.load(Ordering::SeqCst),
        MAX_ATTEMPTS as usize,
        "parked: no more tries"
    );
    let parked = app.state.store.outbox().parked().await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].delivery, Delivery::Parked);
    assert_eq!(
        parked[0].last_error.as_deref(),
        Some("550 mailbox unavailable")
    );

    let token = test_staff_auth()
        .mint("j.visser", app.real_clock.now().timestamp(), 600)
        .unwrap();
    let queue = app
        .request(reqwest::Method::GET, "/medewerkers")
        .header("cookie", format!("loket_sessie={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 200);
    let page = queue.text().await.unwrap();
    assert!(
        page.contains("1 e-mail kon niet worden verstuurd"),
        "{page}"
    );
    assert!(page.contains("Ontvangstbevestiging EV-2017-0001: Zomerfestival"));
    assert!(page.contains("550 mailbox unavailable"));
}
