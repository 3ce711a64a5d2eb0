//! E-mail end to end: loket as it runs (`loket serve`, a process of its own) sends to
//! a real SMTP server, aiosmtpd from `.venv` (infra/tools.sh), which files each
//! message in a Maildir that the tests read back. Every step an organiser must hear
//! of; a `kill -9` in the middle of a send; an SMTP server that is away for a while.
//!
//! Without aiosmtpd the tests print a notice and pass, unless
//! `LOKET_TEST_SMTP=required` (the test command), which makes them fail.

#[path = "common/glossary.rs"]
mod glossary;
#[path = "common/process.rs"]
mod process;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use process::{Launch, Process, free_port};
use serde_json::{Value, json};

const SECRET: &str = "mail-test-secret-of-at-least-32-bytes";
const NOW: &str = "2017-03-01T10:00:00+01:00";

fn aiosmtpd() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/aiosmtpd");
    if path.exists() {
        return Some(path);
    }
    if std::env::var("LOKET_TEST_SMTP").as_deref() == Ok("required") {
        panic!(
            "LOKET_TEST_SMTP=required but {} is missing (infra/tools.sh install)",
            path.display()
        );
    }
    eprintln!("skipping e-mail test: run infra/tools.sh install for aiosmtpd");
    None
}

/// aiosmtpd on a port of its own, filing messages into a Maildir.
struct SmtpServer {
    /// aiosmtpd on its port: what a restart starts again.
    launch: Launch,
    maildir: tempfile::TempDir,
    process: Option<Process>,
}

impl SmtpServer {
    fn new(program: PathBuf) -> SmtpServer {
        let maildir = tempfile::tempdir().unwrap();
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(maildir.path().join(sub)).unwrap();
        }
        let port = free_port();
        let launch = Launch::new("aiosmtpd", program, port)
            .args(["-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path());
        SmtpServer {
            launch,
            maildir,
            process: None,
        }
    }

    fn start(&mut self) {
        self.process = Some(self.launch.start());
    }

    fn stop(&mut self) {
        // Dropping it kills and reaps it.
        self.process = None;
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.launch.port())
    }

    /// Every message received so far, oldest first.
    fn received(&self) -> Vec<Received> {
        let mut files: Vec<_> = std::fs::read_dir(self.maildir.path().join("new"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
        files
            .iter()
            .map(|p| Received::parse(&std::fs::read(p).unwrap()))
            .collect()
    }

    /// Waits until `count` messages have arrived; all of them.
    fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let received = self.received();
            if received.len() >= count {
                // Every e-mail speaks the glossary's Dutch, never its codes.
                for message in &received {
                    let what = format!("the e-mail {:?}", message.subject);
                    glossary::assert_no_raw_codes(&what, &message.subject);
                    glossary::assert_no_raw_codes(&what, &message.text);
                }
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} messages arrived",
                received.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One received message, decoded.
#[derive(Debug)]
struct Received {
    to: String,
    subject: String,
    message_id: String,
    text: String,
    html: String,
}

impl Received {
    fn parse(raw: &[u8]) -> Received {
        let message = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("a MIME message");
        Received {
            to: message
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string(),
            subject: message.subject().unwrap_or_default().to_string(),
            message_id: message.message_id().unwrap_or_default().to_string(),
            text: message.body_text(0).unwrap_or_default().to_string(),
            html: message.body_html(0).unwrap_or_default().to_string(),
        }
    }

    /// The first link in the text that starts with `prefix`.
    fn link(&self, prefix: &str) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with(prefix))
            .unwrap_or_else(|| panic!("no link {prefix} in\n{}", self.text))
            .to_string()
    }
}

/// `loket serve` on the embedded store in a folder that outlives restarts.
struct Loket {
    port: u16,
    data: tempfile::TempDir,
    process: Option<Process>,
}

impl Loket {
    fn new() -> Loket {
        Loket {
            port: free_port(),
            data: tempfile::tempdir().unwrap(),
            process: None,
        }
    }

    fn start(&mut self, smtp_url: &str) {
        let process = Launch::new("loket", env!("CARGO_BIN_EXE_loket"), self.port)
            .arg("serve")
            .env("LOKET_BIND", format!("127.0.0.1:{}", self.port))
            .env("LOKET_DATA_DIR", self.data.path())
            .env("LOKET_NOW", NOW)
            .env("LOKET_JWT_SECRET", SECRET)
            .env("LOKET_RATE_LIMIT", "0")
            .env("LOKET_SMTP_URL", smtp_url)
            .env("LOKET_STORE", "embedded")
            .env("RUST_LOG", "warn")
            .start();
        self.process = Some(process);
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(&mut self) {
        if let Some(process) = self.process.take() {
            process.kill();
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn post(&self, path: &str, body: Value, bearer: Option<&str>) -> reqwest::Response {
        let mut request = reqwest::Client::new().post(self.url(path)).json(&body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// Files an application; its id and private token.
    async fn file(&self, body: Value) -> (String, String) {
        let created = self.post("/permits", body, None).await;
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        (
            created["id"].as_str().unwrap().to_string(),
            created["access_token"].as_str().unwrap().to_string(),
        )
    }

    /// A staff decision on the current version of an application.
    async fn decide(&self, id: &str, decision: Value) {
        self.review(&format!("/admin/permits/{id}"), decision).await;
    }

    /// A staff review of `path` on its current version.
    async fn review(&self, path: &str, decision: Value) {
        let staff = loket::api::auth::StaffAuth::hs256(SECRET, None, None)
            .unwrap()
            .mint("j.visser", chrono::Utc::now().timestamp(), 600)
            .unwrap();
        let current = reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap();
        let etag = current.headers()["etag"].to_str().unwrap().to_string();
        let decided = reqwest::Client::new()
            .post(self.url(&format!("{path}/review")))
            .bearer_auth(&staff)
            .header("if-match", etag)
            .json(&decision)
            .send()
            .await
            .unwrap();
        assert_eq!(decided.status(), 200, "{decision}");
    }
}

impl Drop for Loket {
    fn drop(&mut self) {
        self.kill();
    }
}

fn zomerfestival() -> Value {
    serde_json::from_str(include_str!("fixtures/zomerfestival.json")).unwrap()
}

fn buurtbarbecue() -> Value {
    json!({"organiser": {"name": "B. Jansen", "email": "b.jansen@example.nl", "phone": "0321 222222"},
        "event": {"name": "Buurtbarbecue", "description": "Barbecue voor de buurt",
        "kern": "swifterbant", "address": "De Poort 1", "starts_at": "2017-06-17T14:00:00+02:00",
        "ends_at": "2017-06-17T22:00:00+02:00", "expected_visitors": 80,
        "amplified_music": false, "road_closure": false, "alcohol": "none",
        "largest_structure_m2": 0, "on_water": false, "fireworks": false,
        "commercial": false, "non_profit": false}})
}

/// The page at `page_link`, opened with the cookie that `private_link`'s token is
/// traded for.
async fn opened(private_link: &str, page_link: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let traded = client.get(private_link).send().await.unwrap();
    assert_eq!(traded.status(), 303, "{private_link}");
    let cookie = traded.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = client
        .get(page_link)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "{page_link}");
    page.text().await.unwrap()
}

/// A link from a message works: the private link trades its token for a cookie and
/// shows the application; the page link opens with that cookie.
async fn opens(private_link: &str, page_link: &str, reference: &str) {
    assert!(opened(private_link, page_link).await.contains(reference));
}

/// What the withdrawal page says the leges will be, opened with the private link.
async fn withdraw_page_leges(loket: &Loket, id: &str, token: &str) -> String {
    let page = loket.url(&format!("/evenementen/aanvraag/{id}"));
    let html = opened(
        &format!("{page}?sleutel={token}"),
        &format!("{page}/intrekken"),
    )
    .await;
    let marker = "data-testid=\"leges-uitleg\">";
    let start = html.find(marker).expect("the leges sentence") + marker.len();
    html[start..][..html[start..].find('<').unwrap()].to_string()
}

#[tokio::test]
async fn every_step_reaches_the_organiser_by_smtp_with_a_working_link() {
    let Some(program) = aiosmtpd() else {
        return;
    };
    let mut smtp = SmtpServer::new(program);
    smtp.start();
    let mut loket = Loket::new();
    loket.start(&smtp.url());

    let (id, token) = loket.file(zomerfestival()).await;
    let receipt = &smtp.wait_for(1)[0];
    assert_eq!(receipt.to, "info@zomerfest.nl");
    assert_eq!(
        receipt.subject,
        "Ontvangstbevestiging EV-2017-0001: Zomerfestival"
    );
    let page = loket.url(&format!("/evenementen/aanvraag/{id}"));
    let private = receipt.link(&page);
    assert_eq!(private, format!("{page}?sleutel={token}"));
    for fact in [
        "Ontvangen op: woensdag 1 maart 2017 om 10:00",
        "Soort: Vergunning, categorie C",
        "Leges: EUR 1.463,00",
        "Uiterlijk aanvragen op: vrijdag 26 mei 2017",
    ] {
        assert!(receipt.text.contains(fact), "{fact} in\n{}", receipt.text);
    }
    assert!(
        receipt.html.contains("EUR 1.463,00")
            && receipt
                .html
                .contains(&format!("href=\"{page}?sleutel={token}\""))
    );
    assert!(
        receipt.message_id.ends_with("@127.0.0.1"),
        "{}",
        receipt.message_id
    );
    opens(&private, &page, "EV-2017-0001").await;

    loket.decide(&id, json!({"action": "start_review"})).await;
    loket
        .decide(
            &id,
            json!({"action": "request_info", "reason": "Hoeveel toiletten plaatst u?"}),
        )
        .await;
    let question = &smtp.wait_for(2)[1];
    assert_eq!(question.to, "info@zomerfest.nl");
    assert_eq!(
        question.subject,
        "Wij hebben een vraag over EV-2017-0001: Zomerfestival"
    );
    assert!(question.text.contains("Hoeveel toiletten plaatst u?"));
    assert_eq!(question.link(&page), page);
    opens(&private, &question.link(&page), "EV-2017-0001").await;
    // Another browser has no cookie for the page: one click leads to "Ik ben mijn
    // link kwijt" with the reference filled in (the token is only stored hashed).
    let lost = question.link(&loket.url("/evenementen/link-kwijt"));
    assert_eq!(
        lost,
        loket.url("/evenementen/link-kwijt?kenmerk=EV-2017-0001")
    );
    assert!(question.html.contains(&format!("href=\"{lost}\"")));
    let form = reqwest::get(&lost).await.unwrap();
    assert_eq!(form.status(), 200);
    assert!(
        form.text()
            .await
            .unwrap()
            .contains("value=\"EV-2017-0001\""),
        "the reference is filled in"
    );

    let answered = loket
        .post(
            &format!("/permits/{id}/info"),
            json!({"message": "Twintig."}),
            Some(&token),
        )
        .await;
    assert_eq!(answered.status(), 200);
    let conditions = "Plaats twintig toiletten. De muziek stopt om 00.30 uur.";
    loket
        .decide(&id, json!({"action": "approve", "reason": conditions}))
        .await;
    let decision = &smtp.wait_for(3)[2];
    assert_eq!(decision.subject, "Besluit over EV-2017-0001: verleend");
    for said in [
        conditions,
        "U krijgt een rekening voor de leges van EUR 1.463,00.",
    ] {
        assert!(decision.text.contains(said), "{said} in\n{}", decision.text);
        assert!(decision.html.contains(said), "{said} in\n{}", decision.html);
    }
    assert!(
        decision
            .text
            .contains("/evenementen/link-kwijt?kenmerk=EV-2017-0001")
    );

    // A melding, withdrawn: its receipt, then what it costs now, in the words the
    // withdrawal page used.
    let (barbecue, barbecue_token) = loket.file(buurtbarbecue()).await;
    let preview = withdraw_page_leges(&loket, &barbecue, &barbecue_token).await;
    assert_eq!(
        preview,
        "Na intrekking betaalt u EUR 15,00 aan leges in plaats van EUR 30,00. \
         U krijgt daarvoor een rekening."
    );
    let withdrawn = loket
        .post(
            &format!("/permits/{barbecue}/withdraw"),
            json!({}),
            Some(&barbecue_token),
        )
        .await;
    assert_eq!(withdrawn.status(), 200);
    let all = smtp.wait_for(5);
    assert_eq!(
        all[3].subject,
        "Ontvangstbevestiging EV-2017-0002: Buurtbarbecue"
    );
    assert_eq!(all[4].to, "b.jansen@example.nl");
    assert_eq!(all[4].subject, "Intrekking bevestigd: EV-2017-0002");
    // A melding is filed, not decided; nothing was paid, so nothing comes back.
    let words: String = all[3]
        .text
        .split_whitespace()
        .filter(|w| !w.starts_with("http"))
        .collect::<Vec<_>>()
        .join(" ");
    for word in ["aanvraag", "aangevraagd", "besluit", "terug"] {
        assert!(!words.contains(word), "{word} in\n{}", all[3].text);
    }
    assert!(
        words.contains("Wij hebben uw melding voor Buurtbarbecue ontvangen."),
        "{words}"
    );
    assert!(all[4].text.contains(&preview), "{}", all[4].text);
    assert!(!all[4].text.contains("terug"), "{}", all[4].text);
    // Starting the review and the organiser's answer send nothing; each message once.
    std::thread::sleep(Duration::from_millis(1500));
    let all = smtp.received();
    assert_eq!(all.len(), 5);
    let mut ids: Vec<_> = all.iter().map(|m| m.message_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "five different Message-IDs");
}

/// `kill -9` while loket is in the middle of handing a message to an SMTP server that
/// never answers: after the restart it is delivered, once, with its Message-ID.
#[tokio::test]
async fn a_message_caught_in_a_crash_is_delivered_once_after_the_restart() {
    let Some(program) = aiosmtpd() else {
        return;
    };
    // An "SMTP server" that accepts the connection and then says nothing.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("smtp://{}", silent.local_addr().unwrap());
    let mut loket = Loket::new();
    loket.start(&silent_url);
    loket.file(zomerfestival()).await;
    silent.set_nonblocking(false).unwrap();
    let (_held, _) = silent.accept().expect("loket connects to send");
    loket.kill();

    let mut smtp = SmtpServer::new(program);
    smtp.start();
    loket.start(&smtp.url());
    let received = smtp.wait_for(1);
    assert_eq!(
        received[0].subject,
        "Ontvangstbevestiging EV-2017-0001: Zomerfestival"
    );
    assert!(received[0].message_id.ends_with("@127.0.0.1"));
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(smtp.received().len(), 1, "once");
}

/// The SMTP server is away while two applications come in: nothing is lost, and
/// both go out once it is back.
#[tokio::test]
async fn nothing_is_lost_while_the_smtp_server_is_away() {
    let Some(program) = aiosmtpd() else {
        return;
    };
    let mut smtp = SmtpServer::new(program);
    smtp.start();
    let mut loket = Loket::new();
    loket.start(&smtp.url());
    smtp.stop();
    loket.file(zomerfestival()).await;
    loket.file(buurtbarbecue()).await;
    std::thread::sleep(Duration::from_secs(3));
    assert!(smtp.received().is_empty());

    smtp.start();
    let received = smtp.wait_for(2);
    let mut subjects: Vec<_> = received.iter().map(|m| m.subject.as_str()).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "Ontvangstbevestiging EV-2017-0001: Zomerfestival",
            "Ontvangstbevestiging EV-2017-0002: Buurtbarbecue"
        ]
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(smtp.received().len(), 2, "each once");
}

/// A school's registration: received (with its private link), published, cancelled.
#[tokio::test]
async fn a_week_van_respect_contact_hears_of_receipt_publication_and_cancellation() {
    let Some(program) = aiosmtpd() else {
        return;
    };
    let mut smtp = SmtpServer::new(program);
    smtp.start();
    let mut loket = Loket::new();
    loket.start(&smtp.url());
    let created = loket
        .post(
            "/respect-week/2017/activities",
            json!({
                "organisation": {"name": "OBS De Regenboog", "type": "primary_school"},
                "contact": {"name": "J. Bakker", "email": "j.bakker@regenboog.nl", "phone": "0321 654321"},
                "activity": {
                    "title": "Gastles over pesten", "description": "Voor groep 7 en 8",
                    "date": "2017-11-08", "starts_at": "09:00", "ends_at": "11:30",
                    "location": "De Regenboog", "kern": "dronten", "expected_participants": 54,
                    "age_min": 10, "age_max": 12, "open_to_public": false, "guest_lesson_wanted": true
                }
            }),
            None,
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let token = created["access_token"].as_str().unwrap();

    let receipt = &smtp.wait_for(1)[0];
    assert_eq!(receipt.to, "j.bakker@regenboog.nl");
    assert_eq!(
        receipt.subject,
        "Aanmelding ontvangen WVR-2017-0001: Gastles over pesten"
    );
    let page = loket.url(&format!("/week-van-respect/2017/activiteit/{id}"));
    let private = receipt.link(&page);
    assert_eq!(private, format!("{page}?sleutel={token}"));
    assert!(
        receipt
            .text
            .contains("Datum: woensdag 8 november 2017, 09:00–11:30"),
        "{}",
        receipt.text
    );
    opens(&private, &page, "WVR-2017-0001").await;

    loket
        .review(
            &format!("/admin/respect-week/2017/activities/{id}"),
            json!({"action": "publish"}),
        )
        .await;
    let published = &smtp.wait_for(2)[1];
    assert_eq!(
        published.subject,
        "Gastles over pesten staat in het programma (WVR-2017-0001)"
    );
    // Without the token, one click to a new link with the reference filled in.
    let lost = published.link(&loket.url("/week-van-respect/link-kwijt"));
    assert_eq!(
        lost,
        loket.url("/week-van-respect/link-kwijt?kenmerk=WVR-2017-0001")
    );
    let form = reqwest::get(&lost).await.unwrap().text().await.unwrap();
    assert!(form.contains("value=\"WVR-2017-0001\""), "{form}");
    let cancelled = loket
        .post(
            &format!("/respect-week/2017/activities/{id}/cancel"),
            json!({}),
            Some(token),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    let all = smtp.wait_for(3);
    assert_eq!(all[2].subject, "Afmelding bevestigd: WVR-2017-0001");
    assert_eq!(all[2].to, "j.bakker@regenboog.nl");
}

/// "Ik ben mijn link kwijt" by e-mail: a wrong address gets the same answer and no
/// message; the right one gets a new link that works, and the old link is dead.
#[tokio::test]
async fn a_lost_link_reaches_the_stored_address_and_the_old_one_stops_working() {
    let Some(program) = aiosmtpd() else {
        return;
    };
    let mut smtp = SmtpServer::new(program);
    smtp.start();
    let mut loket = Loket::new();
    loket.start(&smtp.url());
    let (id, old_token) = loket.file(zomerfestival()).await;
    smtp.wait_for(1);

    let ask = |email: &'static str| {
        loket.post(
            "/permits/lost-link",
            json!({"reference": "EV-2017-0001", "email": email}),
            None,
        )
    };
    let wrong = ask("iemand@anders.nl").await;
    assert_eq!(wrong.status(), 202);
    let wrong: Value = wrong.json().await.unwrap();
    let right = ask("info@zomerfest.nl").await;
    assert_eq!(right.status(), 202);
    assert_eq!(right.json::<Value>().await.unwrap(), wrong, "one answer");
    let received = smtp.wait_for(2);
    let renewed = &received[1];
    assert_eq!(renewed.to, "info@zomerfest.nl");
    assert_eq!(
        renewed.subject,
        "Uw nieuwe persoonlijke link voor EV-2017-0001"
    );
    let page = loket.url(&format!("/evenementen/aanvraag/{id}"));
    let link = renewed.link(&page);
    assert!(!link.contains(&old_token));
    opens(&link, &page, "EV-2017-0001").await;
    let old = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{page}?sleutel={old_token}"))
        .send()
        .await
        .unwrap();
    let cookie = old.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let old_page = reqwest::Client::new()
        .get(&page)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(old_page.status(), 404, "the old link opens nothing");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(smtp.received().len(), 2, "nothing for the wrong address");
}
