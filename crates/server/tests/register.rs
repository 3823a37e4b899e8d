//! Registration from the association's website, over HTTP on loopback: the server with a fresh
//! workspace, the iMIS sandbox as the association's site and the Cvent REST sandbox as the
//! event. Links are signed here as a website would sign them (docs/registration-links.md), with
//! the HMAC computed independently of the server's code.

mod support;

use std::path::Path;
use std::time::Duration;

use connectors::RetryPolicy;
use engine::Config;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode, header};
use sandboxes::cvent_rest::{self, CventRestSandbox};
use sandboxes::imis::{self, ImisSandbox};
use serde_json::{Value, json};
use server::{AppState, Settings};
use sha2::Sha256;
use store::Store;

const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(10),
    max: Duration::from_millis(80),
    attempts: 4,
};

const LINK_SECRET: &str = "the-association-website-shares-this";
const ELIGIBLE_MEMBERS: &str = "$/Events/Cvent/Eligible members";

/// A member, a non-member, and two records sharing one email.
const ADA: &str = "ada.lovelace@example.org";
const BOB: &str = "bob.babbage@example.org";
const SHARED: &str = "the.twins@example.org";

struct World {
    cvent: CventRestSandbox,
    imis: ImisSandbox,
    store: Store,
    dir: std::path::PathBuf,
    base: String,
    /// Follows no redirect: the test reads each one.
    http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    ada_id: String,
    bob_id: String,
}

/// The configuration: `cvent` asks the eligibility query, `open` lets every known party
/// register, `plain` has no `[connections.imis]`, `soap` is a Cvent SOAP event.
fn config(cvent: &CventRestSandbox, imis: &ImisSandbox) -> Config {
    let rest = |name: &str, feed: &str| {
        format!(
            "[[connections]]\nname = \"{name}\"\nkind = \"cvent-rest\"\nbase_url = \"{}\"\nevent_code = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"${{CVENT_SECRET}}\"\ndata_types = [\"people\"]\n{feed}",
            cvent.base_url(),
            cvent.event_code(),
            cvent.client_id(),
        )
    };
    let text = [
        format!(
            "[[connections]]\nname = \"association\"\nkind = \"imis\"\nsite_url = \"{}\"\nusername = \"{}\"\npassword = \"${{IMIS_PASSWORD}}\"\nlink_secret = \"${{LINK_SECRET}}\"\n",
            imis.base_url(),
            imis.username()
        ),
        rest(
            "cvent",
            &format!(
                "[connections.imis]\ndestination = \"association\"\nmatch = [\"email\"]\neligibility_query = \"{ELIGIBLE_MEMBERS}\"\n"
            ),
        ),
        rest(
            "open",
            "[connections.imis]\ndestination = \"association\"\nmatch = [\"email\"]\n",
        ),
        rest("plain", ""),
        "[[connections]]\nname = \"soap\"\nkind = \"cvent-soap\"\nbase_url = \"http://127.0.0.1:9/soap/V200611.ASMX\"\naccount_number = \"ACME01\"\nuser_name = \"api\"\npassword = \"p\"\nevent_code = \"CONF27\"\n[connections.imis]\ndestination = \"association\"\nmatch = [\"email\"]\n".to_string(),
    ]
    .join("\n");
    let secrets = [
        ("CVENT_SECRET", cvent.client_secret().to_string()),
        ("IMIS_PASSWORD", imis.password().to_string()),
        ("LINK_SECRET", LINK_SECRET.to_string()),
    ];
    Config::parse(&text, Path::new("eventsync.toml"), &move |name| {
        secrets
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("config")
}

impl World {
    async fn start() -> World {
        World::start_in(None).await
    }

    /// A world whose workspace is the PostgreSQL schema `postgres` names, or a SQLite file.
    async fn start_in(postgres: Option<&(String, String)>) -> World {
        let cvent = CventRestSandbox::start(cvent_rest::SandboxConfig {
            attendees: 40,
            ..cvent_rest::SandboxConfig::default()
        })
        .await
        .expect("Cvent sandbox");
        let imis = ImisSandbox::start(imis::SandboxConfig {
            parties: 20,
            ..imis::SandboxConfig::default()
        })
        .await
        .expect("iMIS sandbox");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let party = |body: Value| {
            let http = http.clone();
            let url = imis.control_url();
            async move {
                sandboxes::control(&http, &url, Method::POST, "/parties", &body)
                    .await
                    .expect("party added")["id"]
                    .as_str()
                    .expect("party id")
                    .to_string()
            }
        };
        let ada_id = party(json!({
            "first_name": "Ada", "last_name": "Lovelace", "emails": [ADA],
            "company": "Analytical Engines", "title": "Countess", "is_member": true
        }))
        .await;
        let bob_id = party(json!({
            "first_name": "Bob", "last_name": "Babbage", "emails": [BOB], "is_member": false
        }))
        .await;
        for first_name in ["Castor", "Pollux"] {
            party(json!({
                "first_name": first_name, "last_name": "Gemini", "emails": [SHARED], "is_member": true
            }))
            .await;
        }

        let dir = std::env::temp_dir().join(format!(
            "eventsync-register-{}-{}",
            std::process::id(),
            cvent.address().port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = match postgres {
            Some((url, schema)) => Store::open_in_schema(url, schema).await,
            None => Store::open(&dir.join("workspace.sqlite").display().to_string()).await,
        }
        .expect("store");
        let settings = Settings {
            report_dir: dir.join("reports"),
            retry: FAST_RETRY,
            poll: Duration::from_millis(50),
            scheduler: false,
            ..Settings::default()
        };
        let state = AppState::new(store.clone(), config(&cvent, &imis), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("listener");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            server::serve(state, listener, std::future::pending())
                .await
                .expect("serve");
        });
        World {
            cvent,
            imis,
            store,
            dir,
            base,
            http,
            server,
            ada_id,
            bob_id,
        }
    }

    async fn finish(self) {
        self.server.abort();
        self.store.close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.expect("request")
    }

    /// Follows a link; its status, `Location` and body.
    async fn follow(&self, url: &str) -> (StatusCode, Option<String>, String) {
        let response = self.get(url).await;
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        (status, location, response.text().await.expect("body"))
    }

    /// The event's attendees with `email`, asked of Cvent's own API.
    async fn cvent_attendees(&self, email: &str) -> Vec<Value> {
        let token: Value = self
            .http
            .post(format!("{}/oauth2/token", self.cvent.base_url()))
            .basic_auth(self.cvent.client_id(), Some(self.cvent.client_secret()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token JSON");
        let filter = format!(
            "event.id eq '{}' and contact.email eq '{email}'",
            self.cvent.event_id()
        );
        let page: Value = self
            .http
            .post(format!("{}/attendees/filter", self.cvent.base_url()))
            .bearer_auth(token["access_token"].as_str().expect("access token"))
            .json(&json!({ "filter": filter }))
            .send()
            .await
            .expect("filter")
            .json()
            .await
            .expect("filter JSON");
        page["data"].as_array().cloned().unwrap_or_default()
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn random_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A link's query as the website makes it: `expires_in` seconds from now.
fn signed_query(connection: &str, member: &str, expires_in: i64, nonce: &str) -> String {
    let expires = (unix_now() + expires_in).to_string();
    let text = format!("{connection}\n{member}\n{expires}\n{nonce}");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(LINK_SECRET.as_bytes()).expect("key");
    mac.update(text.as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    let member = member.replace('@', "%40").replace('+', "%2B");
    format!("member={member}&expires={expires}&nonce={nonce}&sig={sig}")
}

impl World {
    fn link(&self, connection: &str, member: &str) -> String {
        self.link_with(connection, member, 600, &random_nonce())
    }

    fn link_with(&self, connection: &str, member: &str, expires_in: i64, nonce: &str) -> String {
        format!(
            "{}/register/{connection}?{}",
            self.base,
            signed_query(connection, member, expires_in, nonce)
        )
    }

    fn eligibility(&self, connection: &str, member: &str) -> String {
        format!(
            "{}/register/{connection}/eligibility?{}",
            self.base,
            signed_query(connection, member, 600, &random_nonce())
        )
    }
}

fn assert_page(body: &str, id: &str, says: &str) {
    assert!(body.contains(&format!("id=\"{id}\"")), "no #{id}: {body}");
    assert!(
        body.contains(says),
        "the page does not say '{says}': {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eligible_member_lands_on_their_prefilled_cvent_page_and_is_invited_once() {
    let world = World::start().await;

    let (status, location, body) = world.follow(&world.link("cvent", ADA)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let accept_link = location.expect("a Location");
    let cvent_page = format!(
        "http://{}/r/{}?i=",
        world.cvent.address(),
        world.cvent.event_code()
    );
    assert!(accept_link.starts_with(&cvent_page), "{accept_link}");

    // Cvent's page shows what iMIS holds: the member only clicks Submit.
    let form = world.get(&accept_link).await;
    assert_eq!(form.status(), StatusCode::OK);
    let form = form.text().await.expect("form");
    for value in ["Ada", "Lovelace", ADA, "Analytical Engines", "Countess"] {
        assert!(form.contains(value), "{value} not prefilled: {form}");
    }
    assert!(form.contains("id=\"submit\""), "{form}");

    // Another link for her, by iMIS id this time: Cvent finds her, nobody new is invited.
    let (status, again, _) = world.follow(&world.link("cvent", &world.ada_id)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(again.as_deref(), Some(accept_link.as_str()));
    let held = world.cvent_attendees(ADA).await;
    assert_eq!(held.len(), 1, "one invitee for her: {held:?}");
    assert_eq!(held[0]["contact"]["firstName"], "Ada");
    assert_eq!(held[0]["contact"]["company"], "Analytical Engines");

    // Registered, she is sent to the same page, which shows her registration.
    let submitted = world
        .http
        .post(&accept_link)
        .form(&[("firstName", "Ada")])
        .send()
        .await
        .expect("submit");
    assert_eq!(submitted.status(), StatusCode::OK);
    assert_eq!(world.cvent_attendees(ADA).await[0]["status"], "Accepted");
    let (status, registered, _) = world.follow(&world.link("cvent", ADA)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(registered.as_deref(), Some(accept_link.as_str()));
    let page = world.get(&accept_link).await.text().await.expect("page");
    assert!(page.contains("You are registered"), "{page}");
    assert_eq!(world.cvent_attendees(ADA).await.len(), 1);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_the_query_leaves_out_is_told_so_and_never_invited() {
    let world = World::start().await;
    for member in [BOB.to_string(), world.bob_id.clone()] {
        let (status, location, body) = world.follow(&world.link("cvent", &member)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(location, None);
        assert_page(&body, "not-eligible", "does not include you");
        assert!(!body.contains(BOB), "no member data on the page: {body}");
        assert!(!body.contains("<script"), "{body}");
    }
    assert!(world.cvent_attendees(BOB).await.is_empty());
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_expired_replayed_and_overlong_links_are_refused_in_that_order() {
    let world = World::start().await;
    let nonce = random_nonce();
    let good = world.link_with("cvent", ADA, 600, &nonce);

    // A tampered signature, or none, spends nothing: the genuine link still works after.
    let last = good.chars().last().expect("a signature");
    let flipped = if last == '0' { '1' } else { '0' };
    let tampered = format!("{}{flipped}", &good[..good.len() - 1]);
    let unsigned = good.split("&sig=").next().expect("query").to_string();
    let other_member = good.replace("ada.lovelace", "eve.lovelace");
    for forged in [&tampered, &unsigned, &other_member] {
        let (status, _, body) = world.follow(forged).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{forged}: {body}");
        assert_page(
            &body,
            "link_forged",
            "was not made by the association&#39;s website",
        );
    }
    let (status, _, body) = world.follow(&good).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");

    // Used once, the same link is refused.
    let (status, _, body) = world.follow(&good).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_page(&body, "link_used", "used already");

    let expired = world.link_with("cvent", ADA, -5, &random_nonce());
    let (status, _, body) = world.follow(&expired).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_page(
        &body,
        "link_expired",
        "has expired; go back and click Register again",
    );
    // An expired link with a wrong signature is a forgery first.
    let (status, _, _) = world.follow(&expired.replace("ada.", "eve.")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let overlong = world.link_with("cvent", ADA, 2 * 3600, &random_nonce());
    let (status, _, body) = world.follow(&overlong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_page(&body, "link_too_long", "within 60 minutes");

    let short_nonce = world.link_with("cvent", ADA, 600, "short");
    let (status, _, body) = world.follow(&short_nonce).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_page(&body, "link_damaged", "nonce");

    // Nowhere to register: no such connection, or one that feeds no iMIS site; the same page.
    let (status, _, missing) = world.follow(&world.link("nowhere", ADA)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, plain) = world.follow(&world.link("plain", ADA)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing, plain, "a visitor learns nothing more");
    assert_page(&plain, "not-found", "no registration");

    let (status, _, body) = world.follow(&world.link("soap", ADA)).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{body}");
    assert_page(
        &body,
        "needs-cvent-rest",
        "Registration links need Cvent REST",
    );
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_query_every_known_party_may_register_and_nobody_is_guessed() {
    let world = World::start().await;
    // Bob is no member, but the open connection asks no query.
    let (status, location, body) = world.follow(&world.link("open", &world.bob_id)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(location.is_some());
    let held = world.cvent_attendees(BOB).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["contact"]["lastName"], "Babbage");

    let (status, _, body) = world
        .follow(&world.link("open", "nobody@example.org"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_page(&body, "not-eligible", "not known to the association");
    let (status, _, body) = world.follow(&world.link("open", "99999999")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_page(&body, "not-eligible", "not known to the association");

    let (status, location, body) = world.follow(&world.link("open", SHARED)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(location, None);
    assert_page(&body, "cannot-register", "more than one record for you");
    assert!(world.cvent_attendees(SHARED).await.is_empty());
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eligibility_check_answers_any_origin_without_using_the_link() {
    let world = World::start().await;
    let query = signed_query("cvent", ADA, 600, &random_nonce());
    let check = format!("{}/register/cvent/eligibility?{query}", world.base);
    for _ in 0..2 {
        let response = world.get(&check).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let answer: Value = response.json().await.expect("JSON");
        assert_eq!(answer, json!({"eligible": true}));
    }
    // The check spent nothing: the link itself still works, once.
    let link = format!("{}/register/cvent?{query}", world.base);
    let (status, _, body) = world.follow(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");

    let response = world.get(&world.eligibility("cvent", BOB)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer["eligible"], false);
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not include you")),
        "{answer}"
    );
    let response = world.get(&world.eligibility("open", SHARED)).await;
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer["eligible"], false, "{answer}");

    let forged = world.eligibility("cvent", ADA).replace("ada.", "eve.");
    let response = world.get(&forged).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer["error"]["code"], "link_forged");
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_is_a_cacheable_script_for_connections_that_take_links() {
    let world = World::start().await;
    let response = world
        .get(&format!("{}/register/cvent/widget.js", world.base))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("text");
    assert!(
        content_type.starts_with("text/javascript"),
        "{content_type}"
    );
    let cache = response.headers()[header::CACHE_CONTROL]
        .to_str()
        .expect("text");
    assert!(cache.contains("public"), "{cache}");
    let script = response.text().await.expect("script");
    assert!(script.contains("eventsync-register"), "{script}");
    assert!(script.contains("/eligibility"), "{script}");

    let response = world
        .get(&format!("{}/register/plain/widget.js", world.base))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The document lists the three routes.
    let document: Value = world
        .get(&format!("{}/openapi.json", world.base))
        .await
        .json()
        .await
        .expect("document");
    for path in [
        "/register/{connection}",
        "/register/{connection}/eligibility",
        "/register/{connection}/widget.js",
    ] {
        assert!(document["paths"][path]["get"].is_object(), "{path}");
    }
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefetch_or_a_head_request_leaves_the_link_for_the_click() {
    let world = World::start().await;
    let link = world.link("cvent", ADA);
    for (name, value) in [("Sec-Purpose", "prefetch"), ("Purpose", "prefetch")] {
        let response = world
            .http
            .get(&link)
            .header(name, value)
            .send()
            .await
            .expect("prefetch");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{name}");
    }
    let response = world.http.head(&link).send().await.expect("HEAD");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        world.cvent_attendees(ADA).await.is_empty(),
        "nobody invited"
    );
    let (status, location, body) = world.follow(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(location.is_some());
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_that_does_not_answer_is_a_502_page_without_its_details() {
    let world = World::start().await;
    sandboxes::control(
        &world.http,
        &world.imis.control_url(),
        Method::PUT,
        "/faults",
        &json!({"next": [503, 503, 503, 503, 503, 503, 503, 503]}),
    )
    .await
    .expect("faults");
    let (status, _, body) = world.follow(&world.link("cvent", ADA)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_page(&body, "unavailable", "did not answer");
    assert!(
        !body.contains("503"),
        "no vendor detail on the page: {body}"
    );
    assert!(world.cvent_attendees(ADA).await.is_empty());
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_is_used_once_on_postgresql_too() {
    let Some(postgres) = support::postgres_schema("serve_register").await else {
        return;
    };
    let world = World::start_in(Some(&postgres)).await;
    let link = world.link("cvent", ADA);
    let outcome = tokio::spawn(async move {
        let (first, _, body) = world.follow(&link).await;
        assert_eq!(first, StatusCode::SEE_OTHER, "{body}");
        let (second, _, _) = world.follow(&link).await;
        assert_eq!(second, StatusCode::CONFLICT);
        world.finish().await;
    })
    .await;
    support::drop_schema(&postgres.0, &postgres.1).await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}
