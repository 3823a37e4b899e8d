//! Simulator of Cvent's legacy SOAP API, V200611, as the public research notes describe it.
//!
//! - Transport: SOAP 1.1 (`text/xml`, `SOAPAction: "http://api.cvent.com/2006-11/<Operation>"`)
//!   at `POST /soap/V200611.ASMX`. Operations and the session header are in
//!   `http://api.cvent.com/2006-11`; results, ids, search objects and Cvent objects in
//!   `http://schemas.cvent.com/api/2006-11`.
//! - Login: account number, user name and password; the answer is attributes on `LoginResult`
//!   (`LoginSuccess`, `ServerURL`, `CventSessionHeader`, `ErrorMessage`). A refused login is not a
//!   fault but `LoginSuccess="false"` with "Access is denied."; after `lockout_after` failures in a
//!   row the account is locked for `lockout_for` with Cvent's lockout message. Every later call
//!   goes to `ServerURL` (a different path here, `/soap/pod1/V200611.ASMX`) with the
//!   `CventSessionHeader`; sessions expire `session_ttl` after creation (fault CV10105).
//! - Operations: Login, DescribeGlobal, DescribeCvObject, Search, Retrieve, GetUpdated,
//!   SessionRegAction, CheckIn. Scalars are attributes, `*Detail` collections repeated children.
//! - Limits: Retrieve takes at most `MaxBatchSize` ids (CV20021), Search returns at most
//!   `MaxRecordSet` (CV20012), the account makes `MaxAPICalls` calls a day (CV30100; Login is not
//!   counted unless `count_login`), GetUpdated windows are GMT, minute-granular, at most
//!   `max_window_days` long (CV20014), and changes show there only after the visibility lag.
//! - Where the public material is unverified (the `Speaker` object type for presenters, the
//!   `Action` values `Registered`/`Unregistered` of session orders, fault tokens other than
//!   CV10000/CV10001, the header-fault codes, quota reset at midnight GMT) the behaviour is a
//!   documented default of this module.
//!
//! Latency is off by default; `SoapSandboxConfig::latency` or `PUT /_sandbox/latency` makes every
//! call take as long as a real one (see [`crate::latency`]). Sandbox-only controls live under
//! `/_sandbox` (see `control`).

pub mod control;
pub mod dataset;
pub mod generate;
mod service;
/// The element tree the service reads requests into (shared with the connector).
pub use soap_xml as xml;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use chrono::{DateTime, NaiveDate, Utc};

use crate::clock::Clock;
use crate::latency::{Latency, LatencyControl};
use dataset::Dataset;
pub use service::{ACCESS_DENIED, LOCKOUT_MESSAGE, LOGIN_PATH, POD_PATH};
pub use xml::Element;

/// How a sandbox account is set up; the defaults follow the research notes' simulator checklist.
#[derive(Debug, Clone)]
pub struct SoapSandboxConfig {
    /// Registrations generated for the event.
    pub attendees: u64,
    pub seed: u64,
    pub account_number: String,
    pub user_name: String,
    pub password: String,
    pub session_ttl: Duration,
    pub max_batch_size: u64,
    pub max_record_set: u64,
    pub max_api_calls: u64,
    /// Whether Login counts against `MaxAPICalls` (unknown for the real service).
    pub count_login: bool,
    pub lockout_after: u32,
    pub lockout_for: Duration,
    pub max_window_days: i64,
    /// How long answers take; `None` answers at once (see `PUT /_sandbox/latency`).
    pub latency: Option<Latency>,
}

impl Default for SoapSandboxConfig {
    fn default() -> Self {
        SoapSandboxConfig {
            attendees: 1_000,
            seed: 1,
            account_number: "SANDBOX01".into(),
            user_name: "api.integration".into(),
            password: "sandbox-password".into(),
            session_ttl: Duration::from_secs(3600),
            max_batch_size: 200,
            max_record_set: 25_000,
            max_api_calls: 10_000,
            count_login: false,
            lockout_after: 5,
            lockout_for: Duration::from_secs(30 * 60),
            max_window_days: 31,
            latency: None,
        }
    }
}

#[derive(Debug, Default)]
struct Logins {
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
    /// The sandbox's stand-in for a caller whose IP address is not allowed: same answer as bad
    /// credentials, as Cvent gives.
    ip_denied: bool,
}

#[derive(Debug, Default)]
struct Usage {
    day: Option<NaiveDate>,
    used: u64,
}

/// The account's state, shared by every request.
pub(crate) struct Shared {
    config: SoapSandboxConfig,
    address: SocketAddr,
    clock: Clock,
    data: RwLock<Dataset>,
    sessions: Mutex<HashMap<String, DateTime<Utc>>>,
    logins: Mutex<Logins>,
    usage: Mutex<Usage>,
    faults: Mutex<control::Faults>,
    calls: Mutex<control::CallLog>,
    latency: Arc<LatencyControl>,
}

// Locks are never held across an await, and a panic while holding one is a sandbox bug; recover
// the data rather than poisoning every later request.
impl Shared {
    fn read_data(&self) -> RwLockReadGuard<'_, Dataset> {
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }
    fn write_data(&self) -> RwLockWriteGuard<'_, Dataset> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_sessions(&self) -> MutexGuard<'_, HashMap<String, DateTime<Utc>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_logins(&self) -> MutexGuard<'_, Logins> {
        self.logins.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_usage(&self) -> MutexGuard<'_, Usage> {
        self.usage.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_faults(&self) -> MutexGuard<'_, control::Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_calls(&self) -> MutexGuard<'_, control::CallLog> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ages every session past its lifetime, so the next call with one faults CV10105.
    fn expire_sessions(&self) {
        let ttl = chrono::Duration::from_std(self.config.session_ttl).unwrap_or_default();
        let expired = self.clock.now() - ttl - chrono::Duration::seconds(1);
        for created in self.lock_sessions().values_mut() {
            *created = expired;
        }
    }

    fn server_url(&self) -> String {
        format!("http://{}{POD_PATH}", self.address)
    }

    fn session_created(&self, value: &str) -> Option<DateTime<Utc>> {
        self.lock_sessions().get(value).copied()
    }

    /// Today's calls (GMT day of the sandbox clock).
    fn used_today(&self) -> u64 {
        let today = self.clock.now().date_naive();
        let usage = self.lock_usage();
        if usage.day == Some(today) {
            usage.used
        } else {
            0
        }
    }

    /// Counts a call, or refuses it with CV30100 once today's calls reach `MaxAPICalls`.
    fn count_call(&self) -> Result<(), &'static str> {
        let today = self.clock.now().date_naive();
        let mut usage = self.lock_usage();
        if usage.day != Some(today) {
            usage.day = Some(today);
            usage.used = 0;
        }
        if usage.used >= self.config.max_api_calls {
            return Err("CV30100");
        }
        usage.used += 1;
        Ok(())
    }

    fn take_injected(&self, operation: &str) -> Option<String> {
        self.lock_faults().take(operation)
    }

    fn log_call(&self, operation: &str, fault: Option<&str>) {
        self.lock_calls().record(operation, fault);
    }
}

/// A running sandbox; dropping it stops the server.
pub struct CventSoapSandbox {
    address: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Every answer states the sandbox clock's time, as Cvent's servers state theirs.
async fn stamp_date(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    shared.clock.stamp(&mut response);
    response
}

impl CventSoapSandbox {
    /// Starts a sandbox on 127.0.0.1 with an ephemeral port.
    pub async fn start(config: SoapSandboxConfig) -> std::io::Result<CventSoapSandbox> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a sandbox on the given address (port 0 picks a free one).
    pub async fn start_on(
        config: SoapSandboxConfig,
        bind: SocketAddr,
    ) -> std::io::Result<CventSoapSandbox> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let address = listener.local_addr()?;
        let generator = generate::Generator::new(config.seed, config.attendees);
        let shared = Arc::new(Shared {
            address,
            clock: Clock::default(),
            data: RwLock::new(Dataset::new(generator)),
            sessions: Mutex::new(HashMap::new()),
            logins: Mutex::new(Logins::default()),
            usage: Mutex::new(Usage::default()),
            faults: Mutex::new(control::Faults::default()),
            calls: Mutex::new(control::CallLog::default()),
            latency: Arc::new(LatencyControl::new(config.latency)),
            config,
        });
        let soap = Router::new()
            .route(LOGIN_PATH, post(service::login_endpoint))
            .route(&LOGIN_PATH.to_lowercase(), post(service::login_endpoint))
            .route(POD_PATH, post(service::pod_endpoint))
            .layer(axum::middleware::map_response_with_state(
                shared.clone(),
                stamp_date,
            ))
            .with_state(shared.clone());
        let app = soap
            .merge(control::router(shared.clone()))
            .merge(crate::latency::router(shared.latency.clone()));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "Cvent SOAP sandbox server stopped");
            }
        });
        Ok(CventSoapSandbox {
            address,
            shared,
            shutdown: Some(shutdown),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The URL Login is sent to, as a client configures it.
    pub fn base_url(&self) -> String {
        format!("http://{}{LOGIN_PATH}", self.address)
    }

    /// The control API base (`/_sandbox`).
    pub fn control_url(&self) -> String {
        format!("http://{}/_sandbox", self.address)
    }

    pub fn config(&self) -> &SoapSandboxConfig {
        &self.shared.config
    }

    pub fn account_number(&self) -> &str {
        &self.shared.config.account_number
    }

    pub fn user_name(&self) -> &str {
        &self.shared.config.user_name
    }

    pub fn password(&self) -> &str {
        &self.shared.config.password
    }

    pub fn event_code(&self) -> String {
        self.shared.read_data().generator.event_code.clone()
    }

    pub fn event_id(&self) -> String {
        self.shared.read_data().generator.event_id.clone()
    }

    /// Every registration of the event as it stands, in position order (for in-process tests).
    pub fn registrations(&self) -> Vec<Element> {
        let data = self.shared.read_data();
        (0..data.registration_count())
            .filter_map(|i| data.registration(i))
            .collect()
    }

    pub fn registration(&self, id: &str) -> Option<Element> {
        self.shared
            .read_data()
            .registration_by_id(id)
            .map(|(_, r)| r)
    }

    /// The event's session products.
    pub fn sessions(&self) -> Vec<Element> {
        self.shared.read_data().event().children.clone()
    }

    /// Sets how long answers take from now on (`None`: at once; see `PUT /_sandbox/latency`).
    pub fn set_latency(&self, latency: Option<Latency>) {
        self.shared.latency.set(latency);
    }

    /// Expires every Login session at once (see `POST /_sandbox/sessions/expire`).
    pub fn expire_sessions(&self) {
        self.shared.expire_sessions();
    }

    /// Operations served so far, by name (see `GET /_sandbox/calls`).
    pub fn calls(&self, operation: &str) -> u64 {
        self.shared.lock_calls().count(operation)
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for CventSoapSandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
