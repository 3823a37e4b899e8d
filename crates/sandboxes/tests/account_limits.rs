//! Rate limits and quotas belong to the account, not to a connection: several HTTP clients,
//! each with its own connection and token or session, hammering one sandbox together are
//! throttled at the account's rate — for every vendor.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use sandboxes::aventri::{self, Settings};
use sandboxes::{cvent_rest, cvent_soap};
use serde_json::Value;

const CLIENTS: usize = 3;

#[tokio::test]
async fn cvent_rest_clients_together_get_the_tiers_rate() {
    let sandbox = cvent_rest::CventRestSandbox::start(cvent_rest::SandboxConfig {
        attendees: 20,
        tier: cvent_rest::Tier::Standard,
        ..cvent_rest::SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let url = format!("{}/events?limit=1", sandbox.base_url());
    let hammer = Duration::from_millis(1_500);
    let started = Instant::now();
    let counts = join_all((0..CLIENTS).map(|_| {
        let url = url.clone();
        let (base, id, secret) = (
            sandbox.base_url(),
            sandbox.client_id().to_string(),
            sandbox.client_secret().to_string(),
        );
        async move {
            // Each client its own connection pool and its own token.
            let http = reqwest::Client::new();
            let token: Value = http
                .post(format!("{base}/oauth2/token"))
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .expect("token")
                .json()
                .await
                .expect("token JSON");
            let token = token["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let (mut admitted, mut throttled) = (0_u64, 0_u64);
            while started.elapsed() < hammer {
                let status = http
                    .get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("request")
                    .status()
                    .as_u16();
                match status {
                    200 => admitted += 1,
                    429 => throttled += 1,
                    other => panic!("unexpected status {other}"),
                }
            }
            (admitted, throttled)
        }
    }))
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let admitted: u64 = counts.iter().map(|(a, _)| a).sum();
    let throttled: u64 = counts.iter().map(|(_, t)| t).sum();
    let tier = cvent_rest::Tier::Standard;
    // The bucket starts full (the burst) and refills at the per-second rate, for all clients.
    let most = u64::from(tier.burst()) + (f64::from(tier.per_second()) * elapsed).ceil() as u64;
    assert!(
        admitted <= most,
        "{admitted} admitted in {elapsed:.2} s by {CLIENTS} clients; the account allows {most}"
    );
    assert!(admitted >= u64::from(tier.burst()), "{admitted}");
    assert!(throttled > 0, "the rest are answered 429");
    assert!(
        counts.iter().all(|(a, _)| *a > 0),
        "every client gets some calls: {counts:?}"
    );
}

#[tokio::test]
async fn aventri_clients_of_one_key_share_its_requests_per_minute() {
    let per_minute = 30;
    let sandbox = aventri::AventriSandbox::start(aventri::SandboxConfig {
        attendees: 20,
        settings: Settings {
            requests_per_minute: per_minute,
            ..Settings::default()
        },
        ..aventri::SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let endpoint = sandbox.endpoint();
    let event = sandbox.event_id();
    let statuses = join_all((0..CLIENTS).map(|_| {
        let (endpoint, event) = (endpoint.clone(), event.clone());
        let (account, key) = (
            sandbox.account_id().to_string(),
            sandbox.master_key().to_string(),
        );
        async move {
            let http = reqwest::Client::new();
            let token: Value = http
                .get(format!("{endpoint}/global/authorize.json"))
                .query(&[("accountid", account), ("key", key)])
                .send()
                .await
                .expect("authorize")
                .json()
                .await
                .expect("token JSON");
            let token = token["accesstoken"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            join_all((0..20).map(|_| {
                http.get(format!("{endpoint}/ereg/listAttendees.json"))
                    .query(&[
                        ("accesstoken", token.as_str()),
                        ("eventid", event.as_str()),
                        ("limit", "1"),
                    ])
                    .send()
            }))
            .await
            .into_iter()
            .map(|response| response.expect("request").status().as_u16())
            .collect::<Vec<_>>()
        }
    }))
    .await;
    let all: Vec<u16> = statuses.into_iter().flatten().collect();
    let throttled = all.iter().filter(|s| **s == 429).count();
    // The three authorize calls count against the key too.
    let admitted = all.len() - throttled;
    assert_eq!(admitted + CLIENTS, per_minute as usize, "{all:?}");
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

#[tokio::test]
async fn cvent_soap_sessions_share_the_accounts_daily_calls() {
    let max_api_calls = 30;
    let sandbox = cvent_soap::CventSoapSandbox::start(cvent_soap::SoapSandboxConfig {
        attendees: 20,
        max_api_calls,
        ..cvent_soap::SoapSandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let config = sandbox.config().clone();
    let login = soap_envelope(
        None,
        "Login",
        &format!(
            "<AccountNumber>{}</AccountNumber><UserName>{}</UserName><Password>{}</Password>",
            config.account_number, config.user_name, config.password
        ),
    );
    let base = sandbox.base_url();
    let texts = join_all((0..CLIENTS).map(|_| {
        let (login, base) = (login.clone(), base.clone());
        async move {
            let http = reqwest::Client::new();
            let text = http
                .post(&base)
                .header("SOAPAction", format!("\"{SOAP_API}/Login\""))
                .body(login)
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
            let pod = result.attribute("ServerURL").unwrap_or_default().to_string();
            let session = result
                .attribute("CventSessionHeader")
                .unwrap_or_default()
                .to_string();
            let search = soap_envelope(
                Some(&session),
                "Search",
                "<ObjectType>Event</ObjectType><CvSearchObject SearchType=\"AndSearch\" xmlns=\"http://schemas.cvent.com/api/2006-11\"></CvSearchObject>",
            );
            join_all((0..20).map(|_| async {
                let response = http
                    .post(&pod)
                    .header("SOAPAction", format!("\"{SOAP_API}/Search\""))
                    .body(search.clone())
                    .send()
                    .await
                    .expect("search");
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }))
            .await
        }
    }))
    .await;
    let all: Vec<(u16, String)> = texts.into_iter().flatten().collect();
    let answered = all.iter().filter(|(status, _)| *status == 200).count();
    let over_quota = all
        .iter()
        .filter(|(_, text)| text.contains("CV30100"))
        .count();
    assert_eq!(answered as u64, max_api_calls);
    assert_eq!(answered + over_quota, all.len(), "the rest are CV30100");
}
