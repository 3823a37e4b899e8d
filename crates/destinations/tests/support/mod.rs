//! What the destinations' test files share: the Cvent REST and iMIS sandboxes on loopback, a
//! configuration joining them, a sync, and the sandboxes' control APIs.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use connectors::RetryPolicy;
use engine::config::Config;
use engine::{RunKind, RunOptions};
use pipeline::DataType;
use reqwest::Method;
use sandboxes::cvent_rest::{CventRestSandbox, SandboxConfig};
use sandboxes::imis::ImisSandbox;
use serde_json::Value;
use store::Store;

/// Retries short enough that injected faults cost milliseconds.
pub const FAST_RETRY: RetryPolicy = RetryPolicy {
    initial: Duration::from_millis(10),
    max: Duration::from_millis(80),
    attempts: 6,
};

/// A Cvent event of `attendees` and an iMIS site with no parties.
pub struct Sandboxes {
    pub cvent: CventRestSandbox,
    pub imis: ImisSandbox,
    pub http: reqwest::Client,
}

impl Sandboxes {
    pub async fn start(attendees: u64) -> Sandboxes {
        let cvent = CventRestSandbox::start(SandboxConfig {
            attendees,
            ..SandboxConfig::default()
        })
        .await
        .expect("cvent sandbox");
        let imis = ImisSandbox::start(sandboxes::imis::SandboxConfig {
            parties: 0,
            ..Default::default()
        })
        .await
        .expect("imis sandbox");
        Sandboxes {
            cvent,
            imis,
            http: reqwest::Client::new(),
        }
    }

    /// The connections `cvent` (syncing `data_types`, a TOML list) and `association` (the iMIS
    /// site), with `feed` as more lines of cvent's `[connections.imis]`.
    pub fn config(&self, data_types: &str, feed: &str) -> Config {
        let text = format!(
            r#"
[[connections]]
name = "cvent"
kind = "cvent-rest"
base_url = "{cvent_url}"
event_code = "{event_code}"
client_id = "{client_id}"
client_secret = "${{SECRET}}"
data_types = {data_types}

[connections.imis]
destination = "association"
match = ["email"]
{feed}

[[connections]]
name = "association"
kind = "imis"
site_url = "{site}"
username = "{user}"
password = "${{IMIS_PASSWORD}}"
"#,
            cvent_url = self.cvent.base_url(),
            event_code = self.cvent.event_code(),
            client_id = self.cvent.client_id(),
            site = self.imis.base_url(),
            user = self.imis.username(),
        );
        let secret = self.cvent.client_secret().to_string();
        let password = self.imis.password().to_string();
        Config::parse(
            &text,
            Path::new("eventsync.toml"),
            &move |name| match name {
                "SECRET" => Some(secret.clone()),
                "IMIS_PASSWORD" => Some(password.clone()),
                _ => None,
            },
        )
        .expect("config")
    }

    /// A sync of the `cvent` connection's `data_types`, which must end without errors.
    pub async fn sync(&self, store: &Store, config: &Config, data_types: &[DataType]) {
        let report = engine::run(
            store,
            config.connection("cvent").expect("connection"),
            &RunOptions {
                kind: RunKind::Sync,
                data_types: data_types.to_vec(),
                full: false,
                report: None,
                retry: FAST_RETRY,
            },
            &|_| {},
        )
        .await
        .expect("sync");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    pub async fn cvent_control(&self, method: Method, path: &str, body: Value) -> Value {
        sandboxes::control(&self.http, &self.cvent.control_url(), method, path, &body)
            .await
            .expect("Cvent control call")
    }

    pub async fn imis_control(&self, method: Method, path: &str, body: Value) -> Value {
        sandboxes::control(&self.http, &self.imis.control_url(), method, path, &body)
            .await
            .expect("iMIS control call")
    }
}
