//! Sandbox latency over real HTTP: with a fixed latency, concurrent calls wait side by side
//! (ten at once take about one latency, not ten), throttled calls are refused without waiting,
//! latency off delays nothing, and `/_sandbox/latency` reads and switches it — for every vendor.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use sandboxes::latency::Latency;
use sandboxes::{aventri, cvent_rest, cvent_soap};
use serde_json::{Value, json};

const LATENCY: Duration = Duration::from_millis(200);
/// Loose on purpose: ten calls one after another would take 2 s; side by side about 0.2 s.
const TEN_AT_ONCE_WITHIN: Duration = Duration::from_secs(1);

async fn cvent_token(http: &reqwest::Client, sandbox: &cvent_rest::CventRestSandbox) -> String {
    let response = http
        .post(format!("{}/oauth2/token", sandbox.base_url()))
        .basic_auth(sandbox.client_id(), Some(sandbox.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request");
    let body: Value = response.json().await.expect("token JSON");
    body["access_token"].as_str().expect("a token").to_string()
}

/// Sends `count` requests at once; returns their statuses and how long all of them took.
async fn at_once(count: usize, send: impl Fn() -> reqwest::RequestBuilder) -> (Vec<u16>, Duration) {
    let started = Instant::now();
    let statuses = join_all((0..count).map(|_| {
        let request = send();
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let _ = response.bytes().await;
            status
        }
    }))
    .await;
    (statuses, started.elapsed())
}

#[tokio::test]
async fn cvent_rest_pages_wait_side_by_side_and_only_when_latency_is_on() {
    let sandbox = cvent_rest::CventRestSandbox::start(cvent_rest::SandboxConfig {
        attendees: 300,
        tier: cvent_rest::Tier::Unlimited,
        latency: Some(Latency::fixed(LATENCY)),
        ..cvent_rest::SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let http = reqwest::Client::new();
    let token = cvent_token(&http, &sandbox).await;
    let page = || {
        http.get(format!("{}/attendees?limit=5", sandbox.base_url()))
            .bearer_auth(&token)
    };

    let (statuses, took) = at_once(10, page).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(took >= LATENCY, "each page takes the latency: {took:?}");
    assert!(took < TEN_AT_ONCE_WITHIN, "ten pages at once took {took:?}");

    let shown = sandboxes::control(
        &http,
        &sandbox.control_url(),
        Method::GET,
        "/latency",
        &json!(null),
    )
    .await
    .expect("GET /_sandbox/latency");
    assert_eq!(
        shown,
        json!({"page_ms": [200, 200], "object_ms": [200, 200]})
    );
    let off = sandboxes::control(
        &http,
        &sandbox.control_url(),
        Method::PUT,
        "/latency",
        &json!({"off": true}),
    )
    .await
    .expect("PUT /_sandbox/latency");
    assert_eq!(off, json!({"off": true}));
    let (statuses, took) = at_once(10, page).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(took < LATENCY, "latency off delays nothing: {took:?}");

    let refused = sandboxes::control(
        &http,
        &sandbox.control_url(),
        Method::PUT,
        "/latency",
        &json!({"page_ms": 300}),
    )
    .await;
    assert!(refused.is_err_and(|e| e.contains("400")));
}

#[tokio::test]
async fn cvent_rest_throttled_calls_are_refused_without_waiting() {
    let latency = Duration::from_millis(600);
    let sandbox = cvent_rest::CventRestSandbox::start(cvent_rest::SandboxConfig {
        attendees: 50,
        tier: cvent_rest::Tier::Free,
        latency: Some(Latency::fixed(latency)),
        ..cvent_rest::SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let http = reqwest::Client::new();
    let token = cvent_token(&http, &sandbox).await;
    // The Free tier's burst is one call: the first is admitted and waits, the rest are refused.
    let started = Instant::now();
    let first = http
        .get(format!("{}/attendees", sandbox.base_url()))
        .bearer_auth(&token)
        .send();
    let second = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let response = http
            .get(format!("{}/attendees", sandbox.base_url()))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        (response.status(), started.elapsed())
    };
    let (first, (second_status, second_took)) = tokio::join!(first, second);
    assert_eq!(first.expect("request").status(), StatusCode::OK);
    assert!(started.elapsed() >= latency);
    assert_eq!(second_status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        second_took < latency,
        "a throttled call does not wait: {second_took:?}"
    );
}

#[tokio::test]
async fn aventri_listings_wait_side_by_side() {
    let sandbox = aventri::AventriSandbox::start(aventri::SandboxConfig {
        attendees: 300,
        latency: Some(Latency::fixed(LATENCY)),
        ..aventri::SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let http = reqwest::Client::new();
    let started = Instant::now();
    let token: Value = http
        .get(format!("{}/global/authorize.json", sandbox.endpoint()))
        .query(&[
            ("accountid", sandbox.account_id()),
            ("key", sandbox.master_key()),
        ])
        .send()
        .await
        .expect("authorize")
        .json()
        .await
        .expect("token JSON");
    assert!(started.elapsed() < LATENCY, "token calls are quick");
    let token = token["accesstoken"].as_str().expect("a token").to_string();
    let event = sandbox.event_id();
    let page = || {
        http.get(format!("{}/ereg/listAttendees.json", sandbox.endpoint()))
            .query(&[
                ("accesstoken", token.as_str()),
                ("eventid", event.as_str()),
                ("limit", "5"),
            ])
    };
    let (statuses, took) = at_once(10, page).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(took >= LATENCY, "{took:?}");
    assert!(took < TEN_AT_ONCE_WITHIN, "ten pages at once took {took:?}");

    sandbox.set_latency(None);
    let (_, took) = at_once(10, page).await;
    assert!(took < LATENCY, "latency off delays nothing: {took:?}");
}

const SOAP_API: &str = "http://api.cvent.com/2006-11";

fn soap_envelope(session: Option<&str>, operation: &str, inner: &str) -> String {
    let header = session
        .map(|s| {
            format!(
                "<soap:Header><CventSessionHeader xmlns=\"{SOAP_API}\"><CventSessionValue>{s}</CventSessionValue></CventSessionHeader></soap:Header>"
            )
        })
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">{header}<soap:Body><{operation} xmlns=\"{SOAP_API}\">{inner}</{operation}></soap:Body></soap:Envelope>"
    )
}

/// Logs in to a SOAP sandbox; the pod URL and the session value.
pub async fn soap_login(
    http: &reqwest::Client,
    sandbox: &cvent_soap::CventSoapSandbox,
) -> (String, String) {
    let config = sandbox.config();
    let body = soap_envelope(
        None,
        "Login",
        &format!(
            "<AccountNumber>{}</AccountNumber><UserName>{}</UserName><Password>{}</Password>",
            config.account_number, config.user_name, config.password
        ),
    );
    let text = http
        .post(sandbox.base_url())
        .header("SOAPAction", format!("\"{SOAP_API}/Login\""))
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("login body");
    let envelope = cvent_soap::xml::parse(&text).expect("an envelope");
    let result = envelope
        .child("Body")
        .and_then(|b| b.children.first())
        .and_then(|r| r.children.first())
        .cloned()
        .expect("a LoginResult");
    (
        result
            .attribute("ServerURL")
            .unwrap_or_default()
            .to_string(),
        result
            .attribute("CventSessionHeader")
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn cvent_soap_searches_wait_side_by_side() {
    let sandbox = cvent_soap::CventSoapSandbox::start(cvent_soap::SoapSandboxConfig {
        attendees: 200,
        latency: Some(Latency::fixed(LATENCY)),
        ..cvent_soap::SoapSandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let http = reqwest::Client::new();
    let started = Instant::now();
    let (pod, session) = soap_login(&http, &sandbox).await;
    assert!(started.elapsed() < LATENCY, "Login is quick");
    let search = soap_envelope(
        Some(&session),
        "Search",
        "<ObjectType>Event</ObjectType><CvSearchObject SearchType=\"AndSearch\" xmlns=\"http://schemas.cvent.com/api/2006-11\"></CvSearchObject>",
    );
    let call = || {
        http.post(&pod)
            .header("SOAPAction", format!("\"{SOAP_API}/Search\""))
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(search.clone())
    };
    let (statuses, took) = at_once(10, call).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(took >= LATENCY, "{took:?}");
    assert!(
        took < TEN_AT_ONCE_WITHIN,
        "ten searches at once took {took:?}"
    );

    sandbox.set_latency(None);
    let (_, took) = at_once(10, call).await;
    assert!(took < LATENCY, "latency off delays nothing: {took:?}");
}
