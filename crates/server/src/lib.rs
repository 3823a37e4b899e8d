//! `eventsync serve`: one long-running process that serves the workspace over a REST API, sends
//! the app's writes back to the vendor through the outbox, takes vendor webhooks in, and keeps
//! every connection fresh on a schedule.
//!
//! Everything durable lives in the store (outbox, webhook inbox, tokens, auto-sync settings), so
//! the process can be killed at any moment: on restart the workers pick up what was pending, and
//! what a dead process had claimed comes back once its lease runs out.

mod access;
mod changes;
mod connections;
mod console;
pub mod error;
mod feed;
mod imis_routes;
mod input;
mod local;
pub mod mailer;
mod metrics;
mod openapi;
pub mod outbox;
mod register;
pub use register::registration_link;
mod reports;
mod resume;
mod routes;
pub mod runs;
pub mod scheduler;
pub mod security;
mod shared_budget;
pub mod time;
pub mod webhooks;
mod workbooks;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use connectors::RetryPolicy;
use engine::{Config, Secret};
use store::Store;
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub use metrics::Metrics;
pub use routes::{outbox_json, record_fields, run_json, token_json};
pub use security::{AllowList, new_token, token_hash};
pub use shared_budget::share_rate_budgets;

/// How the server behaves, beyond the configuration file.
#[derive(Debug, Clone)]
pub struct Settings {
    pub allow: AllowList,
    /// The static token Cvent sends in `Authorization` with every webhook; without it the
    /// webhook endpoints refuse every delivery.
    pub webhook_token: Option<Secret>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Where preview and sync reports are written.
    pub report_dir: PathBuf,
    pub retry: RetryPolicy,
    /// How long a worker holds a claimed outbox item or webhook delivery before another may
    /// take it over (its process presumably dead).
    pub lease: Duration,
    /// How often the workers look for due work when nothing woke them.
    pub poll: Duration,
    /// Whether the scheduler starts auto syncs.
    pub scheduler: bool,
    /// How often the scheduler looks for due streams.
    pub scheduler_tick: Duration,
    /// How often the deliveries a destination refused are mailed, together, to the subscribers
    /// of the people they are about.
    pub refusal_digest: Duration,
    /// The shortest interval the scheduler keeps between runs of a stream, whatever is stored.
    pub min_interval: Duration,
    /// How long a request may take before it is answered with a 503 (a JSON error); a
    /// report's body, once it has begun, streams on.
    pub request_timeout: Duration,
    /// The configuration file, which `/v1/connections` edits; without one they are refused.
    pub config_path: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            allow: AllowList::default(),
            webhook_token: None,
            body_limit: 1024 * 1024,
            report_dir: std::env::temp_dir().join("eventsync-reports"),
            retry: RetryPolicy::default(),
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            scheduler: true,
            scheduler_tick: scheduler::TICK,
            refusal_digest: Duration::from_secs(300),
            min_interval: Duration::from_secs(scheduler::MIN_INTERVAL_SECONDS),
            request_timeout: Duration::from_secs(30),
            config_path: None,
        }
    }
}

type Destinations = Arc<Result<Vec<destinations::Destination>, String>>;

/// What every handler and worker shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The configuration; replaced whole when a connection is edited over the API.
    config: Arc<std::sync::RwLock<Arc<Config>>>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<Metrics>,
    pub(crate) writers: Arc<outbox::Writers>,
    pub(crate) runs: Arc<runs::RunGate>,
    pub(crate) wake_outbox: Arc<Notify>,
    pub(crate) wake_webhooks: Arc<Notify>,
    pub(crate) reports: Arc<std::sync::Mutex<HashMap<i64, PathBuf>>>,
    /// Held while deciding a registration, so that two callers cannot both take the last seat.
    pub(crate) registration_lock: Arc<tokio::sync::Mutex<()>>,
    /// The systems fed from the change feed, or why they could not be set up; rebuilt with the
    /// configuration.
    destinations: Arc<std::sync::RwLock<Destinations>>,
    /// Deliveries destinations refused since the last digest was mailed.
    pub(crate) refusals: Arc<std::sync::Mutex<Vec<feed::Refusal>>>,
}

impl AppState {
    pub fn new(store: Store, config: Config, settings: Settings) -> AppState {
        let destinations = destinations::destinations(&config, settings.retry);
        AppState {
            destinations: Arc::new(std::sync::RwLock::new(Arc::new(destinations))),
            refusals: Arc::default(),
            store,
            config: Arc::new(std::sync::RwLock::new(Arc::new(config))),
            settings: Arc::new(settings),
            metrics: Arc::new(Metrics::default()),
            writers: Arc::new(outbox::Writers::default()),
            runs: Arc::new(runs::RunGate::default()),
            wake_outbox: Arc::new(Notify::new()),
            wake_webhooks: Arc::new(Notify::new()),
            reports: Arc::new(std::sync::Mutex::new(HashMap::new())),
            registration_lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The configuration as it is now. A caller keeps the snapshot it took for the whole of
    /// what it does, so one request never sees two configurations.
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Puts a new configuration in place (a connection added, edited or removed) and rebuilds
    /// the destinations fed from the change feed with it.
    pub fn replace_config(&self, config: Config) {
        let destinations = Arc::new(destinations::destinations(&config, self.settings.retry));
        *self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(config);
        *self
            .destinations
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = destinations;
    }

    pub(crate) fn destinations(&self) -> Destinations {
        self.destinations
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn connection(&self, name: &str) -> Option<engine::Connection> {
        self.config()
            .connections
            .iter()
            .find(|c| c.name == name)
            .cloned()
    }
}

/// Serves until `shutdown` resolves: the API on `listener`, and the outbox worker, the webhook
/// processor and (if enabled) the scheduler in the background.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Err(error) = std::fs::create_dir_all(&state.settings.report_dir) {
        tracing::warn!(%error, dir = %state.settings.report_dir.display(), "cannot create the report folder");
    }
    // Dropping the server (a shutdown, or the task being aborted) stops the workers with it.
    let mut workers = Workers(vec![
        tokio::spawn(outbox::work(state.clone())),
        tokio::spawn(feed::work(state.clone())),
        tokio::spawn(webhooks::process(state.clone())),
    ]);
    if state.settings.scheduler {
        workers.0.push(tokio::spawn(scheduler::run(state.clone())));
    }
    let app = app(state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    drop(workers);
    served
}

/// Every route the server answers: the API, webhooks, registration links and the console.
pub fn app(state: AppState) -> axum::Router {
    console::with_console(routes::router(state.clone()), state)
}

/// Background tasks that end when this is dropped.
struct Workers(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Workers {
    fn drop(&mut self) {
        for worker in &self.0 {
            worker.abort();
        }
    }
}
