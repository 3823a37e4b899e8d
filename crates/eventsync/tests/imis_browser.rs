//! The association's registration, end to end in a real browser: a member signed in on the
//! association's website follows the Register link it signed, lands on Cvent's registration page
//! with their iMIS details filled in and clicks Submit; Cvent's webhook reaches `eventsync
//! serve`, which makes the member's activity in iMIS, and a cancellation at Cvent removes it.
//!
//! Real parts only: the `eventsync` binary serving as a child process on a SQLite workspace, the
//! Cvent REST and iMIS sandboxes over HTTP on loopback, and headless Chromium (Debian's,
//! installed with apt when missing; the test is skipped, saying why, when it cannot be had).
//! Screenshots of each step are kept under `target/test-artifacts/imis-browser/`.

mod support;

#[path = "support/browser.rs"]
mod browser;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::Method;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use sandboxes::imis::ImisSandbox;
use serde_json::{Value, json};
use sha2::Sha256;
use support::{Process, start};

use browser::{Browser, Page};

const BINARY: &str = env!("CARGO_BIN_EXE_eventsync");
const WEBHOOK_TOKEN: &str = "imis-browser-webhook-token";
const LINK_SECRET: &str = "the association website's link secret, 41 characters";
/// The Cvent REST connection, and the iMIS site it feeds.
const SOURCE: &str = "cvent";
const SITE: &str = "association";
/// The longest a registration may take to reach iMIS before the test gives up on it.
const ACTIVITY_TIMEOUT: Duration = Duration::from_secs(10);

/// A folder with `eventsync.toml` and its SQLite workspace, beside the two sandboxes.
struct Hub {
    dir: PathBuf,
    cvent: CventRestSandbox,
    imis: ImisSandbox,
    http: reqwest::Client,
    api_token: String,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A member of the association, as the iMIS sandbox holds them.
struct Member {
    party: String,
    first_name: &'static str,
    last_name: &'static str,
    email: &'static str,
    company: &'static str,
    title: &'static str,
}

/// `eventsync serve` and the address it listens on.
struct Server {
    process: Process,
    base: String,
}

impl Hub {
    async fn start() -> Hub {
        let cvent = CventRestSandbox::start(SandboxConfig {
            attendees: 3,
            ..SandboxConfig::default()
        })
        .await
        .expect("the Cvent REST sandbox");
        let imis = ImisSandbox::start(sandboxes::imis::SandboxConfig {
            parties: 0,
            ..Default::default()
        })
        .await
        .expect("the iMIS sandbox");
        let dir =
            std::env::temp_dir().join(format!("eventsync-imis-browser-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the workspace folder");
        let config = format!(
            r#"[[connections]]
name = "{SOURCE}"
kind = "cvent-rest"
base_url = "{cvent_url}"
event_code = "{event_code}"
client_id = "{client_id}"
client_secret = "${{CVENT_SECRET}}"
data_types = ["people"]

[connections.imis]
destination = "{SITE}"
eligibility_query = "$/Events/Cvent/Eligible members"
match = ["email"]

[[connections]]
name = "{SITE}"
kind = "imis"
site_url = "{site_url}"
username = "{username}"
password = "${{IMIS_PASSWORD}}"
link_secret = "${{REGISTER_LINK_SECRET}}"
"#,
            cvent_url = cvent.base_url(),
            event_code = cvent.event_code(),
            client_id = cvent.client_id(),
            site_url = imis.base_url(),
            username = imis.username(),
        );
        std::fs::write(dir.join("eventsync.toml"), config).expect("the configuration");
        let mut hub = Hub {
            dir,
            cvent,
            imis,
            http: reqwest::Client::new(),
            api_token: String::new(),
        };
        // The first sync learns the connection's event, which registration links invite to.
        hub.eventsync(&["sync", SOURCE]).await;
        let created = hub
            .eventsync(&[
                "--json",
                "token",
                "create",
                "imis browser",
                "--scope",
                "admin",
            ])
            .await;
        let created: Value = serde_json::from_slice(&created.stdout).expect("the token's JSON");
        hub.api_token = created["token"].as_str().expect("a token").to_string();
        hub
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .current_dir(&self.dir)
            .env("CVENT_SECRET", self.cvent.client_secret())
            .env("IMIS_PASSWORD", self.imis.password())
            .env("REGISTER_LINK_SECRET", LINK_SECRET)
            .env("EVENTSYNC_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
            .env_remove("EVENTSYNC_CONFIG")
            .env_remove("EVENTSYNC_DATABASE")
            .args(args);
        command
    }

    /// Runs a short command to its end, off the runtime's threads (the sandboxes answer it).
    async fn eventsync(&self, args: &[&str]) -> Output {
        let mut command = self.command(args);
        let what = args.join(" ");
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("the command's thread")
            .expect("eventsync runs");
        assert!(
            output.status.success(),
            "eventsync {what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Starts `eventsync serve` on `listen` and points Cvent's webhooks at it.
    async fn serve(&self, listen: &str) -> Server {
        let mut command = self.command(&["--json", "serve", "--listen", listen, "--no-scheduler"]);
        let (process, info) = tokio::task::spawn_blocking(move || start(&mut command))
            .await
            .expect("the server's start");
        let base = info["listening"].as_str().expect("listening").to_string();
        self.cvent_control(
            Method::PUT,
            "/webhooks",
            json!({"url": format!("{base}/webhooks/cvent/{SOURCE}"), "token": WEBHOOK_TOKEN}),
        )
        .await;
        Server { process, base }
    }

    async fn cvent_control(&self, method: Method, path: &str, body: Value) -> Value {
        sandboxes::control(&self.http, &self.cvent.control_url(), method, path, &body)
            .await
            .expect("a Cvent control call")
    }

    async fn imis_control(&self, method: Method, path: &str, body: Value) -> Value {
        sandboxes::control(&self.http, &self.imis.control_url(), method, path, &body)
            .await
            .expect("an iMIS control call")
    }

    /// Adds a party to iMIS: a member of the association or not.
    async fn add_party(&self, member: Member, is_member: bool) -> Member {
        let party = self
            .imis_control(
                Method::POST,
                "/parties",
                json!({
                    "first_name": member.first_name,
                    "last_name": member.last_name,
                    "emails": [member.email],
                    "company": member.company,
                    "title": member.title,
                    "is_member": is_member,
                }),
            )
            .await;
        Member {
            party: party["id"].as_str().expect("the party's id").to_string(),
            ..member
        }
    }

    /// A registration link as the association's website makes it for `member` (an iMIS id or
    /// an email): signed with the link secret, valid for ten minutes, with a nonce of its own.
    fn link(&self, server: &Server, member: &str) -> String {
        let expires = (chrono::Utc::now() + chrono::Duration::minutes(10))
            .timestamp()
            .to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let signature = sign(LINK_SECRET, SOURCE, member, &expires, &nonce);
        let mut url = reqwest::Url::parse(&format!("{}/register/{SOURCE}", server.base))
            .expect("the server's address");
        url.query_pairs_mut()
            .append_pair("member", member)
            .append_pair("expires", &expires)
            .append_pair("nonce", &nonce)
            .append_pair("sig", &signature);
        url.to_string()
    }

    /// How many activities iMIS holds for the party.
    async fn activities_of(&self, party: &str) -> usize {
        let all = self
            .imis_control(Method::GET, "/activities", Value::Null)
            .await;
        all.as_array()
            .expect("activities")
            .iter()
            .filter(|activity| {
                let on = &activity["properties"]["PartyId"];
                on.as_str() == Some(party)
                    || on.as_i64().map(|id| id.to_string()).as_deref() == Some(party)
            })
            .count()
    }

    /// Waits until iMIS holds `count` activities for the party; returns when it first did.
    async fn wait_for_activities(&self, party: &str, count: usize) -> Seen {
        let started = Instant::now();
        loop {
            if self.activities_of(party).await == count {
                return Seen {
                    at: Instant::now(),
                    clock: chrono::Utc::now(),
                };
            }
            assert!(
                started.elapsed() < ACTIVITY_TIMEOUT,
                "party {party} did not have exactly {count} activities within {} s (it has {})",
                ACTIVITY_TIMEOUT.as_secs(),
                self.activities_of(party).await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How many webhooks the Cvent sandbox has delivered (answered with a 2xx).
    async fn webhooks_delivered(&self) -> u64 {
        let webhooks = self
            .cvent_control(Method::GET, "/webhooks", Value::Null)
            .await;
        webhooks["delivered"].as_u64().unwrap_or(0)
    }

    /// Every attendee of the event, as Cvent's API lists them.
    async fn cvent_attendees(&self) -> Vec<Value> {
        let base = self.cvent.base_url();
        let token: Value = self
            .http
            .post(format!("{base}/oauth2/token"))
            .basic_auth(self.cvent.client_id(), Some(self.cvent.client_secret()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("a Cvent token")
            .json()
            .await
            .expect("the token's JSON");
        let bearer = token["access_token"].as_str().expect("a token").to_string();
        let mut attendees = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let query: Vec<(&str, String)> = match &next {
                Some(token) => vec![("token", token.clone())],
                None => vec![("limit", "200".into())],
            };
            let answer = self
                .http
                .get(format!("{base}/attendees"))
                .bearer_auth(&bearer)
                .query(&query)
                .send()
                .await
                .expect("a page of attendees");
            if answer.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            assert!(answer.status().is_success(), "{answer:?}");
            let page: Value = answer.json().await.expect("the page's JSON");
            attendees.extend(page["data"].as_array().cloned().unwrap_or_default());
            next = page["paging"]["nextToken"].as_str().map(str::to_string);
            if next.is_none() {
                return attendees;
            }
        }
    }

    /// The event's attendees with this email.
    async fn invitees_with_email(&self, email: &str) -> Vec<Value> {
        self.cvent_attendees()
            .await
            .into_iter()
            .filter(|attendee| {
                attendee["contact"]["email"]
                    .as_str()
                    .is_some_and(|found| found.eq_ignore_ascii_case(email))
            })
            .collect()
    }

    async fn api(&self, server: &Server, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", server.base))
            .bearer_auth(&self.api_token)
            .send()
            .await
            .expect("an API call");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("the API's JSON")
    }

    /// The webhook deliveries the server holds, oldest first.
    async fn deliveries(&self, server: &Server) -> Vec<Value> {
        let answer = self
            .api(
                server,
                &format!("/v1/webhooks?connection={SOURCE}&limit=500"),
            )
            .await;
        answer["data"].as_array().cloned().unwrap_or_default()
    }

    /// The delivery Cvent sent when the attendee registered.
    async fn registration_delivery(&self, server: &Server, attendee: &str) -> Option<Value> {
        self.deliveries(server).await.into_iter().find(|delivery| {
            delivery["event_type"] == "InviteeOrGuestAccepted"
                && delivery["body"]["message"][0]["inviteeStub"]
                    .as_str()
                    .is_some_and(|stub| stub.eq_ignore_ascii_case(attendee))
        })
    }

    /// Sends a webhook to the server as Cvent does; returns its answer.
    async fn send_webhook(&self, server: &Server, body: &Value) -> Value {
        let response = self
            .http
            .post(format!("{}/webhooks/cvent/{SOURCE}", server.base))
            .header("authorization", WEBHOOK_TOKEN)
            .json(body)
            .send()
            .await
            .expect("a webhook");
        assert!(
            response.status().is_success(),
            "webhook: {}",
            response.status()
        );
        response.json().await.expect("the webhook's answer")
    }

    /// Waits until the server has nothing left to do for the attendee: every webhook
    /// processed, none of their outbox items waiting or being sent.
    async fn wait_until_idle(&self, server: &Server, attendee: &str) {
        let started = Instant::now();
        loop {
            let deliveries = self.deliveries(server).await;
            let webhooks_done = deliveries.iter().all(|delivery| {
                delivery["status"] != "pending" && delivery["status"] != "processing"
            });
            let mut waiting = Vec::new();
            for status in ["pending", "sending"] {
                let items = self
                    .api(server, &format!("/v1/outbox?status={status}&limit=500"))
                    .await;
                waiting.extend(
                    items["data"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|item| item["attendee_id"] == attendee)
                        .cloned(),
                );
            }
            if webhooks_done && waiting.is_empty() {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the server is still busy after 20 s: outbox items {waiting:?}, deliveries {deliveries:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// When a change was first seen: by this process's monotonic clock, and by the wall clock the
/// server's stamps are read against.
struct Seen {
    at: Instant,
    clock: chrono::DateTime<chrono::Utc>,
}

/// A link's signature as `docs/registration-links.md` has it: the lowercase hex HMAC-SHA256,
/// keyed with the link secret, of `<connection>\n<member>\n<expires>\n<nonce>`.
fn sign(secret: &str, connection: &str, member: &str, expires: &str, nonce: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{connection}\n{member}\n{expires}\n{nonce}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// When the server received the delivery, by its own clock.
fn received_at(delivery: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = delivery["received_at"].as_str()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&chrono::Utc))
}

/// The place screenshots are kept: `target/test-artifacts/imis-browser`.
fn artefacts() -> PathBuf {
    let dir = sandboxes::python::target_dir().join("test-artifacts/imis-browser");
    std::fs::create_dir_all(&dir).expect("the artefacts folder");
    dir
}

/// Takes a screenshot named after its step and remembers where it went.
async fn screenshot(page: &mut Page, shots: &mut Vec<PathBuf>, name: &str) {
    let path = artefacts().join(name);
    page.screenshot(&path).await.expect("a screenshot");
    shots.push(path);
}

/// Opens a link the way the member does and waits for one of `outcomes` to show.
async fn follow(page: &mut Page, link: &str, outcome: &str) -> String {
    page.open(link).await.expect("the link opens");
    page.wait_for(outcome).await.expect("the expected page");
    page.text().await.expect("the page's text")
}

/// Checks the registration page shows the member's details from iMIS.
async fn assert_prefilled(page: &mut Page, member: &Member) {
    for (input, expected) in [
        ("firstName", member.first_name),
        ("lastName", member.last_name),
        ("email", member.email),
        ("company", member.company),
        ("title", member.title),
    ] {
        let shown = page.input_value(input).await.expect("the form's input");
        assert_eq!(shown, expected, "the registration page's {input}");
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.3} s", duration.as_secs_f64())
}

#[test]
fn links_are_signed_as_the_website_is_told_to_sign_them() {
    // The example in docs/registration-links.md.
    assert_eq!(
        sign(
            "change-me-to-32-random-characters",
            "cvent",
            "ada@example.org",
            "1800000000",
            "q7Xk2mN9pL4vR8sT"
        ),
        "e2791511fac86eb93e7750df5120a60377e3edacc7283b46e6888a0c51c29b3a"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_registers_from_the_association_website_and_reaches_imis_once() {
    let chromium = match browser::find_or_install() {
        Ok(chromium) => chromium,
        Err(why) => {
            println!("SKIPPED: no headless browser for the registration test: {why}");
            return;
        }
    };
    let hub = Hub::start().await;
    let mut server = hub.serve("127.0.0.1:0").await;
    let ada = hub
        .add_party(
            Member {
                party: String::new(),
                first_name: "Ada",
                last_name: "Lovelace",
                email: "ada.lovelace@members.example.org",
                company: "Analytical Engines Ltd",
                title: "Countess",
            },
            true,
        )
        .await;
    let grace = hub
        .add_party(
            Member {
                party: String::new(),
                first_name: "Grace",
                last_name: "Hopper",
                email: "grace.hopper@members.example.org",
                company: "Navy Computing",
                title: "Rear Admiral",
            },
            true,
        )
        .await;
    let visitor = hub
        .add_party(
            Member {
                party: String::new(),
                first_name: "Charles",
                last_name: "Babbage",
                email: "charles.babbage@visitors.example.org",
                company: "Difference Engines",
                title: "Inventor",
            },
            false,
        )
        .await;
    // Chromium is here: failing to drive it is a failure, not a reason to skip.
    let mut browser = Browser::launch(&chromium)
        .await
        .unwrap_or_else(|why| panic!("{} could not be driven: {why}", chromium.display()));
    let page = browser.page();
    let mut shots = Vec::new();
    let mut latencies: Vec<(String, Duration)> = Vec::new();

    // The member clicks Register on the website: the link leads to Cvent's page, filled in.
    let ada_link = hub.link(&server, &ada.party);
    follow(page, &ada_link, "#submit").await;
    let cvent_origin = hub.cvent.base_url().trim_end_matches("/ea").to_string();
    let shown_at = page.url().await.expect("the address");
    assert!(
        shown_at.starts_with(&format!("{cvent_origin}/r/")),
        "the link leads to Cvent's registration page, not {shown_at}"
    );
    assert_prefilled(page, &ada).await;
    screenshot(page, &mut shots, "01-registration-page.png").await;

    let clicked = Instant::now();
    page.click("#submit").await.expect("Submit");
    let confirmation = follow_confirmation(page).await;
    assert!(
        confirmation.contains("you are registered"),
        "{confirmation}"
    );
    screenshot(page, &mut shots, "02-confirmation.png").await;
    let seen = hub.wait_for_activities(&ada.party, 1).await;
    latencies.push(("Ada: Submit → activity".into(), seen.at - clicked));
    let ada_invitees = hub.invitees_with_email(ada.email).await;
    assert_eq!(ada_invitees.len(), 1, "Ada at Cvent: {ada_invitees:?}");
    let ada_attendee = ada_invitees[0]["id"].as_str().expect("an id").to_string();
    let delivery = hub
        .registration_delivery(&server, &ada_attendee)
        .await
        .expect("the server holds Cvent's webhook for Ada's registration");
    if let Some(received) = received_at(&delivery) {
        latencies.push((
            "Ada: webhook received → activity".into(),
            (seen.clock - received).to_std().unwrap_or_default(),
        ));
    }

    // A second link for the same member finds her registration: Cvent still has one of her.
    let again = follow(page, &hub.link(&server, ada.email), "#confirmation").await;
    assert!(again.contains("You are registered."), "{again}");
    screenshot(page, &mut shots, "03-second-link.png").await;
    assert_eq!(
        hub.invitees_with_email(ada.email).await.len(),
        1,
        "two links, one invitee at Cvent"
    );

    // Not a member: the association says so, and nothing reaches Cvent.
    let refused = follow(page, &hub.link(&server, &visitor.party), "#not-eligible").await;
    assert!(refused.contains("You cannot register"), "{refused}");
    assert!(refused.contains("contact the association"), "{refused}");
    screenshot(page, &mut shots, "04-not-eligible.png").await;
    assert!(hub.invitees_with_email(visitor.email).await.is_empty());

    // A link whose member was changed by hand, and a link followed a second time.
    let tampered = hub.link(&server, &visitor.party).replace(
        &format!("member={}", visitor.party),
        &format!("member={}", grace.party),
    );
    assert!(tampered.contains(&format!("member={}", grace.party)));
    let forged = follow(page, &tampered, "#link_forged").await;
    assert!(forged.contains("This link cannot be used"), "{forged}");
    screenshot(page, &mut shots, "05-tampered-link.png").await;
    let replayed = follow(page, &ada_link, "#link_used").await;
    assert!(
        replayed.contains("This link was used already"),
        "{replayed}"
    );
    screenshot(page, &mut shots, "06-replayed-link.png").await;
    assert!(hub.invitees_with_email(grace.email).await.is_empty());
    assert_eq!(hub.activities_of(&ada.party).await, 1);
    assert_eq!(hub.activities_of(&visitor.party).await, 0);

    // Cancelled at Cvent: the webhook removes the activity.
    let cancelled = Instant::now();
    hub.cvent_control(
        Method::POST,
        &format!("/attendees/{ada_attendee}/cancel"),
        Value::Null,
    )
    .await;
    let removed = hub.wait_for_activities(&ada.party, 0).await;
    latencies.push((
        "Ada: cancellation at Cvent → activity removed".into(),
        removed.at - cancelled,
    ));

    // A second member registers, and the server is killed (SIGKILL) the moment it has
    // acknowledged Cvent's webhook; started again on the same workspace and address, it makes
    // her activity once.
    let grace_link = hub.link(&server, grace.email);
    follow(page, &grace_link, "#submit").await;
    assert_prefilled(page, &grace).await;
    screenshot(page, &mut shots, "07-second-member-registration-page.png").await;
    let listen = server.base.trim_start_matches("http://").to_string();
    let delivered_before = hub.webhooks_delivered().await;
    let clicked = Instant::now();
    page.click("#submit").await.expect("Submit");
    while hub.webhooks_delivered().await == delivered_before {
        assert!(
            clicked.elapsed() < ACTIVITY_TIMEOUT,
            "Cvent's webhook for Grace's registration never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.process.0.kill().expect("SIGKILL");
    server.process.0.wait().expect("the killed server");
    let killed = Instant::now();
    follow_confirmation(page).await;
    screenshot(page, &mut shots, "08-second-member-confirmation.png").await;
    let left_behind = left_behind(&hub.dir).await;
    eprintln!(
        "the server was killed {} after Submit; it left {left_behind}",
        seconds(killed - clicked)
    );
    server = hub.serve(&listen).await;
    let seen = hub.wait_for_activities(&grace.party, 1).await;
    latencies.push((
        "Grace: Submit → activity, across a kill -9 and a restart".into(),
        seen.at - clicked,
    ));
    let grace_invitees = hub.invitees_with_email(grace.email).await;
    assert_eq!(
        grace_invitees.len(),
        1,
        "Grace at Cvent: {grace_invitees:?}"
    );
    let grace_attendee = grace_invitees[0]["id"].as_str().expect("an id").to_string();
    hub.wait_until_idle(&server, &grace_attendee).await;
    assert_eq!(
        hub.activities_of(&grace.party).await,
        1,
        "Grace's activities after the restart"
    );

    // Cvent's webhook for her registration delivered again, twice, as sent; then once more as a
    // new delivery of the same news: still one activity.
    let delivery = hub
        .registration_delivery(&server, &grace_attendee)
        .await
        .expect("the server holds Cvent's webhook for Grace's registration");
    let sent = delivery["body"].clone();
    for _ in 0..2 {
        let answer = hub.send_webhook(&server, &sent).await;
        assert_eq!(answer["duplicate"], true, "{answer}");
    }
    let mut anew = sent.clone();
    anew["messageStub"] = json!(uuid::Uuid::new_v4().to_string().to_uppercase());
    let answer = hub.send_webhook(&server, &anew).await;
    assert_eq!(answer["duplicate"], false, "{answer}");
    hub.wait_until_idle(&server, &grace_attendee).await;
    assert_eq!(
        hub.activities_of(&grace.party).await,
        1,
        "Grace's activities after the replays"
    );
    assert_eq!(hub.activities_of(&ada.party).await, 0, "Ada's, cancelled");
    assert_eq!(hub.activities_of(&visitor.party).await, 0, "the visitor's");

    println!("latencies (target: under 2 s from the webhook):");
    for (what, took) in &latencies {
        println!("  {what}: {}", seconds(*took));
    }
    println!("screenshots:");
    for shot in &shots {
        println!("  {}", shot.display());
    }
    drop(browser);
    drop(server);
}

/// Waits for Cvent's confirmation after Submit; returns the page's text.
async fn follow_confirmation(page: &mut Page) -> String {
    page.wait_for("#confirmation")
        .await
        .expect("Cvent's confirmation");
    page.text().await.expect("the page's text")
}

/// What a killed server left for the next: its webhook deliveries and outbox items by status,
/// as its workspace holds them.
async fn left_behind(dir: &Path) -> String {
    let workspace = dir.join("eventsync.sqlite").display().to_string();
    let store = match store::Store::open(&workspace).await {
        Ok(store) => store,
        Err(error) => return format!("a workspace that could not be read: {error}"),
    };
    let mut webhooks = std::collections::BTreeMap::<String, usize>::new();
    for delivery in store
        .webhooks(Some(SOURCE), None, 500)
        .await
        .unwrap_or_default()
    {
        *webhooks
            .entry(delivery.status.as_str().to_string())
            .or_default() += 1;
    }
    let outbox = store.outbox_counts().await.unwrap_or_default();
    store.close().await;
    format!("webhooks {webhooks:?}, outbox {outbox:?}")
}
