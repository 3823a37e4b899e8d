//! Simulator of Aventri's API v2 (`/api/v2`, the `global` and `ereg` modules), as far as public
//! material describes it; where it does not, the behaviour is a documented default that the
//! control API can switch ([`Settings`]).
//!
//! - Auth: `GET|POST /api/v2/global/authorize.json` with `accountid` and `key` answers
//!   `{"accesstoken": "…"}`; every other call carries `accesstoken` as a query parameter. Tokens
//!   live `tokenTtlSeconds` (default 600: the ten minutes one client library documents).
//!   Keys are a master key (every event) or a non-master key limited to some events
//!   (developer.aventri.com, "Setup").
//! - Answers: arrays on success for list calls, objects for single records, and
//!   `{"error": {"<param>": "<message>"}}` otherwise — including past the end of a listing
//!   (`{"error": {"data": "No attendees found"}}`), which is how clients learn a listing is over.
//!   Logical errors come with HTTP 200 by default (clients check the body), switchable to 400.
//! - Paging: `offset` and `limit` (the APIv2 page-size parameter per developer.aventri.com);
//!   default `limit` 1000 [unverified].
//! - Incremental: `lastmodified-gt`, `lastmodified-lt` and the legacy `modifiedfrom` on
//!   `listAttendees`, as `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` [unverified names].
//! - `listAttendees` answers summaries (`attendeeid`, `name`, `email`, `registrationstatus`,
//!   `lastmodified`) unless `fields=a,b,…` names the columns [`fields` unverified; switchable],
//!   with `fname` and `lname` too when `summaryNames` is on.
//! - Limits: 400 requests per minute per requester (developer.aventri.com, "Rate Limits"),
//!   answered with 429 and an error object; responses over `maxResponseBytes` (10 MB, the API
//!   gateway's limit) are answered 502 instead, so clients must lower `limit`.
//! - Files: uploaded profile pictures under `/files/uploads/{attendeeid}.jpg` and presenter
//!   photos under `/files/speakers/{speakerid}.jpg` (the photo endpoints a connection names).
//! - Latency: off by default; `SandboxConfig::latency` or `PUT /_sandbox/latency` makes every
//!   admitted call take as long as a real one (see [`crate::latency`]).
//! - Control API under `/_sandbox` (see `control`): change data, move the clock, switch the
//!   defaults, expire tokens, queue faults, read the call log.

pub mod control;
pub mod dataset;
pub mod generate;
mod routes;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::latency::{Latency, LatencyControl};
use dataset::Dataset;
use generate::Generator;

/// The defaults where Aventri's public material is silent or contradicts itself; each can be
/// switched through `PUT /_sandbox/settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Settings {
    /// Token lifetime: one client library says ten minutes, another assumes an hour.
    pub token_ttl_seconds: u64,
    /// Requests per minute per requester (400 is documented).
    pub requests_per_minute: u32,
    /// Responses larger than this are answered 502 by the gateway (10 MB is documented).
    pub max_response_bytes: usize,
    /// The HTTP status of error objects other than throttling: 200 (default) or 400.
    pub logical_error_status: u16,
    /// Whether `listAttendees` honours `fields`; when off it always answers summaries.
    pub fields_parameter: bool,
    /// Whether those summaries carry first and last names (`fname`, `lname`) besides `name`,
    /// as some accounts answer — still without `category` and the other columns.
    pub summary_names: bool,
    /// The default `limit` of list calls.
    pub default_limit: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_ttl_seconds: 600,
            requests_per_minute: 400,
            max_response_bytes: 10 * 1024 * 1024,
            logical_error_status: 200,
            fields_parameter: true,
            summary_names: false,
            default_limit: 1000,
        }
    }
}

/// How a sandbox account is set up.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Attendees generated for the account's event.
    pub attendees: u64,
    pub seed: u64,
    pub account_id: String,
    /// The account's master key: every event.
    pub master_key: String,
    /// A non-master key limited to the account's other event.
    pub limited_key: String,
    pub settings: Settings,
    /// How long answers take; `None` answers at once (see `PUT /_sandbox/latency`).
    pub latency: Option<Latency>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            attendees: 1_000,
            seed: 1,
            account_id: "4321".into(),
            master_key: "sandbox-master-key".into(),
            limited_key: "sandbox-limited-key".into(),
            settings: Settings::default(),
            latency: None,
        }
    }
}

/// An issued access token.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// The key it was issued for; the requester the rate limit counts against.
    key: String,
    /// `None` for a master key.
    events: Option<Vec<String>>,
    expires_at: DateTime<Utc>,
}

/// The account's state, shared by every request.
pub(crate) struct Shared {
    config: SandboxConfig,
    clock: Clock,
    settings: RwLock<Settings>,
    data: RwLock<Dataset>,
    tokens: Mutex<HashMap<String, Grant>>,
    /// Per requester (key), when its calls of the last minute were made.
    windows: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
    /// Statuses to answer the next API calls with, one each.
    faults: Mutex<VecDeque<u16>>,
    calls: Mutex<control::CallLog>,
    token_counter: std::sync::atomic::AtomicU64,
    latency: Arc<LatencyControl>,
}

// Locks are never held across an await; a panic while holding one is a sandbox bug, so recover
// the data rather than poisoning every later request.
impl Shared {
    fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    fn read_data(&self) -> RwLockReadGuard<'_, Dataset> {
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }
    fn write_data(&self) -> RwLockWriteGuard<'_, Dataset> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_tokens(&self) -> MutexGuard<'_, HashMap<String, Grant>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_windows(&self) -> MutexGuard<'_, HashMap<String, VecDeque<DateTime<Utc>>>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_faults(&self) -> MutexGuard<'_, VecDeque<u16>> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_calls(&self) -> MutexGuard<'_, control::CallLog> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sandbox clock as Aventri writes times.
    fn now_text(&self) -> String {
        self.clock
            .now()
            .naive_utc()
            .format(generate::DATETIME_FORMAT)
            .to_string()
    }
}

/// A running sandbox; dropping it stops the server.
pub struct AventriSandbox {
    address: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl AventriSandbox {
    /// Starts a sandbox on 127.0.0.1 with an ephemeral port.
    pub async fn start(config: SandboxConfig) -> std::io::Result<AventriSandbox> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a sandbox on the given address (port 0 picks a free one).
    pub async fn start_on(
        config: SandboxConfig,
        bind: SocketAddr,
    ) -> std::io::Result<AventriSandbox> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let address = listener.local_addr()?;
        let generator = Generator::new(config.seed, config.attendees);
        let dataset = Dataset::new(generator, format!("http://{address}"));
        let shared = Arc::new(Shared {
            clock: Clock::default(),
            settings: RwLock::new(config.settings.clone()),
            data: RwLock::new(dataset),
            tokens: Mutex::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
            faults: Mutex::new(VecDeque::new()),
            calls: Mutex::new(control::CallLog::default()),
            token_counter: std::sync::atomic::AtomicU64::new(0),
            latency: Arc::new(LatencyControl::new(config.latency)),
            config,
        });
        let app = routes::router(shared.clone())
            .merge(control::router(shared.clone()))
            .merge(crate::latency::router(shared.latency.clone()));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "Aventri sandbox server stopped");
            }
        });
        Ok(AventriSandbox {
            address,
            shared,
            shutdown: Some(shutdown),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The API base, ending in `/api/v2`, as a connection's endpoint names it.
    pub fn endpoint(&self) -> String {
        format!("http://{}/api/v2", self.address)
    }

    /// The control API base (`/_sandbox`).
    pub fn control_url(&self) -> String {
        format!("http://{}/_sandbox", self.address)
    }

    /// The presenter photo endpoint, with `{speakerid}` where the id goes.
    pub fn presenter_photo_endpoint(&self) -> String {
        format!("http://{}/files/speakers/{{speakerid}}.jpg", self.address)
    }

    pub fn account_id(&self) -> &str {
        &self.shared.config.account_id
    }

    pub fn master_key(&self) -> &str {
        &self.shared.config.master_key
    }

    pub fn limited_key(&self) -> &str {
        &self.shared.config.limited_key
    }

    pub fn event_id(&self) -> String {
        self.shared.read_data().generator().event_id()
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// Expires every issued token (in-process; `POST /_sandbox/tokens/expire` over HTTP).
    pub fn expire_tokens(&self) {
        self.shared.lock_tokens().clear();
    }

    /// Sets how long answers take from now on (`None`: at once; see `PUT /_sandbox/latency`).
    pub fn set_latency(&self, latency: Option<Latency>) {
        self.shared.latency.set(latency);
    }

    /// Switches the defaults (in-process; `PUT /_sandbox/settings` over HTTP).
    pub fn set_settings(&self, settings: Settings) {
        *self
            .shared
            .settings
            .write()
            .unwrap_or_else(|p| p.into_inner()) = settings;
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for AventriSandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
