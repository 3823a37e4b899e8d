//! The Cvent SOAP sandbox over HTTP: Login and the pod, the session header, limits with Cvent's
//! fault codes, GetUpdated windows, write calls with per-item results and the control API.

use sandboxes::cvent_soap::xml::{self, Element};
use sandboxes::cvent_soap::{CventSoapSandbox, SoapSandboxConfig};
use serde_json::json;

const API: &str = "http://api.cvent.com/2006-11";
const SCHEMA: &str = "http://schemas.cvent.com/api/2006-11";

struct Client {
    http: reqwest::Client,
    sandbox: CventSoapSandbox,
}

/// What a call answered: HTTP status and the Body's first element.
struct Answer {
    status: u16,
    body: Element,
}

impl Answer {
    fn fault_code(&self) -> Option<String> {
        (self.body.name == "Fault").then(|| {
            self.body
                .child_text("faultcode")
                .unwrap_or_default()
                .to_string()
        })
    }

    /// The result element (`<XResponse><XResult …>`).
    fn result(&self) -> &Element {
        self.body.children.first().expect("a result element")
    }
}

impl Client {
    async fn start(config: SoapSandboxConfig) -> Client {
        Client {
            http: reqwest::Client::new(),
            sandbox: CventSoapSandbox::start(config).await.expect("sandbox"),
        }
    }

    async fn call(&self, url: &str, session: Option<&str>, operation: &str, inner: &str) -> Answer {
        let header = session
            .map(|s| {
                format!(
                    "<soap:Header><CventSessionHeader xmlns=\"{API}\"><CventSessionValue>{s}</CventSessionValue></CventSessionHeader></soap:Header>"
                )
            })
            .unwrap_or_default();
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">{header}<soap:Body><{operation} xmlns=\"{API}\">{inner}</{operation}></soap:Body></soap:Envelope>"
        );
        let response = self
            .http
            .post(url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", format!("\"{API}/{operation}\""))
            .body(body)
            .send()
            .await
            .expect("sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let envelope = xml::parse(&text).expect("an XML envelope");
        let body = envelope
            .child("Body")
            .and_then(|b| b.children.first())
            .cloned()
            .expect("a body element");
        Answer { status, body }
    }

    async fn login_with(&self, account: &str, user: &str, password: &str) -> Element {
        let answer = self
            .call(
                &self.sandbox.base_url(),
                None,
                "Login",
                &format!(
                    "<AccountNumber>{account}</AccountNumber><UserName>{user}</UserName><Password>{password}</Password>"
                ),
            )
            .await;
        assert_eq!(answer.status, 200, "a refused login is not a fault");
        answer.result().clone()
    }

    /// Logs in; returns the ServerURL and the session value.
    async fn login(&self) -> (String, String) {
        let config = self.sandbox.config().clone();
        let result = self
            .login_with(&config.account_number, &config.user_name, &config.password)
            .await;
        assert_eq!(result.attribute("LoginSuccess"), Some("true"));
        assert_eq!(result.namespace.as_deref(), Some(SCHEMA));
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

    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let response = self
            .http
            .request(method, format!("{}{path}", self.sandbox.control_url()))
            .json(&body)
            .send()
            .await
            .expect("control call");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(serde_json::Value::Null)
    }
}

fn ids(answer: &Answer) -> Vec<String> {
    answer
        .result()
        .children_named("Id")
        .map(|id| id.text.clone())
        .collect()
}

fn retrieve_body(object_type: &str, ids: &[String]) -> String {
    let ids: String = ids.iter().map(|id| format!("<Id>{id}</Id>")).collect();
    format!("<ObjectType>{object_type}</ObjectType><Ids xmlns=\"{SCHEMA}\">{ids}</Ids>")
}

fn event_search(event_id: &str) -> String {
    format!(
        "<ObjectType>Registration</ObjectType><CvSearchObject SearchType=\"AndSearch\" xmlns=\"{SCHEMA}\"><Filter><Field>EventId</Field><Operator>Equals</Operator><Value>{event_id}</Value></Filter></CvSearchObject>"
    )
}

#[tokio::test]
async fn login_moves_to_the_server_url_and_every_call_needs_the_session_header() {
    let client = Client::start(SoapSandboxConfig::default()).await;
    let (server_url, session) = client.login().await;
    assert_ne!(
        server_url,
        client.sandbox.base_url(),
        "the pod differs from the login host"
    );

    let global = client
        .call(&server_url, Some(&session), "DescribeGlobal", "")
        .await;
    assert_eq!(global.status, 200);
    let result = global.result();
    assert_eq!(result.attribute("MaxBatchSize"), Some("200"));
    assert_eq!(result.attribute("MaxRecordSet"), Some("25000"));
    assert_eq!(result.attribute("MaxAPICalls"), Some("10000"));
    assert_eq!(
        result.attribute("CurrentAPICalls"),
        Some("1"),
        "Login is not counted"
    );
    let types: Vec<&str> = result
        .child("CvObjectTypes")
        .map(|t| {
            t.children_named("CvObjectType")
                .map(|c| c.text.as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        types.contains(&"Registration") && types.contains(&"Speaker"),
        "{types:?}"
    );

    let login_url = client.sandbox.base_url();
    let cases = [
        (server_url.as_str(), None, "q0:CV10107"),
        (server_url.as_str(), Some("NOT-A-SESSION"), "q0:CV10104"),
        (login_url.as_str(), Some(session.as_str()), "q0:CV10104"),
    ];
    for (url, header, expected) in cases {
        let answer = client.call(url, header, "DescribeGlobal", "").await;
        assert_eq!(answer.status, 500);
        assert_eq!(
            answer.fault_code().as_deref(),
            Some(expected),
            "{url} {header:?}"
        );
    }

    client.sandbox.expire_sessions();
    let expired = client
        .call(&server_url, Some(&session), "DescribeGlobal", "")
        .await;
    assert_eq!(expired.fault_code().as_deref(), Some("q0:CV10105"));
}

#[tokio::test]
async fn refused_logins_say_access_denied_then_lock_the_account() {
    let client = Client::start(SoapSandboxConfig::default()).await;
    let account = client.sandbox.account_number().to_string();
    let user = client.sandbox.user_name().to_string();
    for _ in 0..4 {
        let result = client.login_with(&account, &user, "wrong").await;
        assert_eq!(result.attribute("LoginSuccess"), Some("false"));
        assert_eq!(result.attribute("ErrorMessage"), Some("Access is denied."));
    }
    let fifth = client.login_with(&account, &user, "wrong").await;
    assert!(
        fifth
            .attribute("ErrorMessage")
            .unwrap_or_default()
            .contains("locked out")
    );
    let password = client.sandbox.password().to_string();
    let locked = client.login_with(&account, &user, &password).await;
    assert_eq!(
        locked.attribute("LoginSuccess"),
        Some("false"),
        "locked even with the right password"
    );

    // A caller whose IP address is not allowed hears the same as for bad credentials.
    client
        .control(reqwest::Method::PUT, "/login", json!({"ipDenied": true}))
        .await;
    let denied = client.login_with(&account, &user, &password).await;
    assert_eq!(denied.attribute("ErrorMessage"), Some("Access is denied."));
}

#[tokio::test]
async fn search_and_retrieve_keep_to_the_batch_and_record_set_limits() {
    let client = Client::start(SoapSandboxConfig {
        attendees: 450,
        max_record_set: 1_000,
        ..SoapSandboxConfig::default()
    })
    .await;
    let (url, session) = client.login().await;
    let event_id = client.sandbox.event_id();
    let found = client
        .call(&url, Some(&session), "Search", &event_search(&event_id))
        .await;
    let all = ids(&found);
    assert_eq!(all.len(), 450);

    let too_many = client
        .call(
            &url,
            Some(&session),
            "Retrieve",
            &retrieve_body("Registration", &all[..201]),
        )
        .await;
    assert_eq!(too_many.fault_code().as_deref(), Some("q0:CV20021"));
    let none = client
        .call(
            &url,
            Some(&session),
            "Retrieve",
            &retrieve_body("Registration", &[]),
        )
        .await;
    assert_eq!(none.fault_code().as_deref(), Some("q0:CV20018"));

    let batch = client
        .call(
            &url,
            Some(&session),
            "Retrieve",
            &retrieve_body("Registration", &all[..200]),
        )
        .await;
    let objects: Vec<&Element> = batch.result().children_named("CvObject").collect();
    assert_eq!(objects.len(), 200);
    let first = objects[0];
    assert_eq!(first.attribute("type"), Some("Registration"));
    assert_eq!(first.attribute("Id"), Some(all[0].as_str()));
    assert!(
        first.attribute("CancelledDate").is_some(),
        "empty values are sent as \"\""
    );
    assert!(first.children_named("OrderDetail").count() >= 1);
    let registration = client.sandbox.registration(&all[0]).expect("known");
    assert_eq!(
        first.attributes[1..],
        registration.attributes,
        "xsi:type, then the fields"
    );

    // A filter on another field, an unknown operator, and a result set over MaxRecordSet.
    let by_status = format!(
        "<ObjectType>Registration</ObjectType><CvSearchObject SearchType=\"AndSearch\" xmlns=\"{SCHEMA}\"><Filter><Field>Status</Field><Operator>Includes</Operator><ValueArray><Value>Cancelled</Value><Value>Declined</Value></ValueArray></Filter></CvSearchObject>"
    );
    let cancelled = ids(&client
        .call(&url, Some(&session), "Search", &by_status)
        .await);
    let expected = client
        .sandbox
        .registrations()
        .iter()
        .filter(|r| matches!(r.attribute("Status"), Some("Cancelled" | "Declined")))
        .count();
    assert_eq!(cancelled.len(), expected);
    let bad_operator = by_status.replace("Includes", "In");
    let answer = client
        .call(&url, Some(&session), "Search", &bad_operator)
        .await;
    assert_eq!(answer.fault_code().as_deref(), Some("q0:CV20015"));

    let small = Client::start(SoapSandboxConfig {
        attendees: 60,
        max_record_set: 50,
        ..SoapSandboxConfig::default()
    })
    .await;
    let (url, session) = small.login().await;
    let over = small
        .call(
            &url,
            Some(&session),
            "Search",
            &event_search(&small.sandbox.event_id()),
        )
        .await;
    assert_eq!(over.fault_code().as_deref(), Some("q0:CV20012"));
}

#[tokio::test]
async fn the_daily_quota_ends_in_cv30100() {
    let client = Client::start(SoapSandboxConfig {
        attendees: 10,
        ..SoapSandboxConfig::default()
    })
    .await;
    let (url, session) = client.login().await;
    client
        .control(reqwest::Method::PUT, "/usage", json!({"used": 9_999}))
        .await;
    let last = client
        .call(&url, Some(&session), "DescribeGlobal", "")
        .await;
    assert_eq!(last.result().attribute("CurrentAPICalls"), Some("10000"));
    let over = client
        .call(&url, Some(&session), "DescribeGlobal", "")
        .await;
    assert_eq!(over.fault_code().as_deref(), Some("q0:CV30100"));
    // A new GMT day resets the count.
    client
        .control(
            reqwest::Method::PUT,
            "/clock",
            json!({"advanceSeconds": 86_400}),
        )
        .await;
    // The session has expired by then.
    let (url, session) = client.login().await;
    let next_day = client
        .call(&url, Some(&session), "DescribeGlobal", "")
        .await;
    assert_eq!(next_day.result().attribute("CurrentAPICalls"), Some("1"));
}

#[tokio::test]
async fn get_updated_reports_changes_by_gmt_minute_after_the_lag() {
    let client = Client::start(SoapSandboxConfig {
        attendees: 50,
        ..SoapSandboxConfig::default()
    })
    .await;
    let (url, session) = client.login().await;
    let id = client.sandbox.registrations()[7]
        .attribute("Id")
        .unwrap_or_default()
        .to_string();
    client
        .control(
            reqwest::Method::PUT,
            "/faults",
            json!({"visibilityLagSeconds": 120}),
        )
        .await;
    client
        .control(
            reqwest::Method::PATCH,
            &format!("/registrations/{id}"),
            json!({"Status": "Cancelled"}),
        )
        .await;
    let now = chrono::Utc::now();
    let window = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        format!(
            "<ObjectType>Registration</ObjectType><StartDate>{}</StartDate><EndDate>{}</EndDate>",
            from.format("%Y-%m-%dT%H:%M:%S"),
            to.format("%Y-%m-%dT%H:%M:%S")
        )
    };
    let hour = chrono::Duration::hours(1);
    let hidden = client
        .call(
            &url,
            Some(&session),
            "GetUpdated",
            &window(now - hour, now + hour),
        )
        .await;
    assert!(ids(&hidden).is_empty(), "not visible before the lag");
    client
        .control(
            reqwest::Method::PUT,
            "/clock",
            json!({"advanceSeconds": 180}),
        )
        .await;
    let shown = client
        .call(
            &url,
            Some(&session),
            "GetUpdated",
            &window(now - hour, now + hour),
        )
        .await;
    assert_eq!(ids(&shown), [id]);

    let reversed = client
        .call(&url, Some(&session), "GetUpdated", &window(now, now - hour))
        .await;
    assert_eq!(reversed.fault_code().as_deref(), Some("q0:CV20013"));
    let too_long = client
        .call(
            &url,
            Some(&session),
            "GetUpdated",
            &window(now - chrono::Duration::days(40), now),
        )
        .await;
    assert_eq!(too_long.fault_code().as_deref(), Some("q0:CV20014"));
}

#[tokio::test]
async fn session_reg_action_answers_per_item_and_changes_the_order() {
    let client = Client::start(SoapSandboxConfig {
        attendees: 20,
        ..SoapSandboxConfig::default()
    })
    .await;
    let (url, session) = client.login().await;
    let registrations = client.sandbox.registrations();
    let first = registrations[0]
        .attribute("Id")
        .unwrap_or_default()
        .to_string();
    let second = registrations[1]
        .attribute("Id")
        .unwrap_or_default()
        .to_string();
    let product = client
        .sandbox
        .sessions()
        .into_iter()
        .find(|s| s.attribute("Status") == Some("OpenForRegistration"))
        .and_then(|s| s.attribute("ProductId").map(str::to_string))
        .expect("an open session");
    client
        .control(
            reqwest::Method::PUT,
            "/faults",
            json!({"failInvitees": [second]}),
        )
        .await;
    let body = format!(
        "<CvInvitees SessionRegActionType=\"Register\" ProductId=\"{product}\" xmlns=\"{SCHEMA}\"><CvInvitee Id=\"{first}\" MessageId=\"m1\" /><CvInvitee Id=\"{second}\" MessageId=\"m2\" /><CvInvitee Id=\"00000000-0000-4000-8000-000000000000\" MessageId=\"m3\" /></CvInvitees>"
    );
    let answer = client
        .call(&url, Some(&session), "SessionRegAction", &body)
        .await;
    assert_eq!(answer.status, 200, "a partial failure is not a fault");
    let items: Vec<(String, String)> = answer
        .result()
        .children
        .iter()
        .map(|i| {
            (
                i.attribute("ReferenceId").unwrap_or_default().to_string(),
                i.attribute("Success").unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            ("m1".to_string(), "true".to_string()),
            ("m2".to_string(), "false".to_string()),
            ("m3".to_string(), "false".to_string())
        ]
    );
    let changed = client.sandbox.registration(&first).expect("known");
    assert!(changed.children_named("OrderDetail").any(|o| {
        o.attribute("ProductId") == Some(product.as_str())
            && o.attribute("Action") == Some("Registered")
    }));
    let unregister = body.replace("\"Register\"", "\"Unregister\"");
    client
        .call(&url, Some(&session), "SessionRegAction", &unregister)
        .await;
    let changed = client.sandbox.registration(&first).expect("known");
    assert!(changed.children_named("OrderDetail").any(|o| {
        o.attribute("ProductId") == Some(product.as_str())
            && o.attribute("Action") == Some("Unregistered")
    }));

    let check_in = format!(
        "<CvObjects xmlns=\"{SCHEMA}\"><CvObject Id=\"{first}\" MessageId=\"c1\" /></CvObjects>"
    );
    let checked = client
        .call(&url, Some(&session), "CheckIn", &check_in)
        .await;
    assert_eq!(
        checked.result().children[0].attribute("Success"),
        Some("true")
    );
    assert_eq!(
        client
            .sandbox
            .registration(&first)
            .and_then(|r| r.attribute("Participant").map(str::to_string)),
        Some("true".to_string())
    );
}

#[tokio::test]
async fn injected_faults_and_the_call_log() {
    let client = Client::start(SoapSandboxConfig {
        attendees: 5,
        ..SoapSandboxConfig::default()
    })
    .await;
    let (url, session) = client.login().await;
    client
        .control(
            reqwest::Method::PUT,
            "/faults",
            json!({"next": [{"operation": "Search", "code": "CV10001", "times": 1}]}),
        )
        .await;
    let search = event_search(&client.sandbox.event_id());
    let failed = client.call(&url, Some(&session), "Search", &search).await;
    assert_eq!(failed.fault_code().as_deref(), Some("q0:CV10001"));
    assert_eq!(
        failed.body.child_text("faultstring"),
        Some("INVALID_SOAP_REQUEST")
    );
    let ok = client.call(&url, Some(&session), "Search", &search).await;
    assert_eq!(ids(&ok).len(), 5);
    let log = client
        .control(reqwest::Method::GET, "/calls", json!(null))
        .await;
    assert_eq!(log["byOperation"]["Search"], 2);
    assert_eq!(log["faults"]["CV10001"], 1);
}

#[tokio::test]
async fn the_same_seed_serves_the_same_bytes() {
    let a = Client::start(SoapSandboxConfig {
        attendees: 30,
        seed: 9,
        ..SoapSandboxConfig::default()
    })
    .await;
    let b = Client::start(SoapSandboxConfig {
        attendees: 30,
        seed: 9,
        ..SoapSandboxConfig::default()
    })
    .await;
    let mut bodies = Vec::new();
    for client in [&a, &b] {
        let (url, session) = client.login().await;
        let found = ids(&client
            .call(
                &url,
                Some(&session),
                "Search",
                &event_search(&client.sandbox.event_id()),
            )
            .await);
        let batch = client
            .call(
                &url,
                Some(&session),
                "Retrieve",
                &retrieve_body("Registration", &found),
            )
            .await;
        bodies.push(format!("{:?}", batch.body));
    }
    assert_eq!(bodies[0], bodies[1]);
}
