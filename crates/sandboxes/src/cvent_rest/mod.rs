//! Simulator of Cvent's REST "Platform API" (`/ea`), faithful to Cvent's official OpenAPI spec.
//!
//! - Auth: OAuth2 client credentials at `POST /ea/oauth2/token` (HTTP Basic, form
//!   `grant_type=client_credentials`, optional space-separated `scope`), bearer tokens valid for
//!   `expires_in` seconds; 401 for unknown or expired tokens, 403 when a token lacks the route's
//!   scope. Token requests themselves are not metered.
//! - Paging: `limit` 1–200 (default 100), UUIDv4 `token`s bound to the original query,
//!   `paging.nextToken` absent on the last page, `totalCount`.
//! - Filters: Cvent's `filter` grammar over each endpoint's documented fields (see `filter`).
//! - Rate limits: per account, by tier (see `limits`), answered with the two 429 bodies.
//! - Latency: off by default; `SandboxConfig::latency` or `PUT /_sandbox/latency` makes every
//!   admitted call take as long as a real one (see [`crate::latency`]).
//! - Data: generated lazily from a seed (see `generate`), changed through the `/_sandbox` control
//!   API or the write endpoints; faults injected through the same control API.
//! - Invitees: `POST /ea/attendees` invites or registers address-book contacts, which
//!   `POST /ea/contacts` creates (see `invitees`); an attendee created so carries `webLinks` to
//!   the sandbox's own registration page, `/r/{event code}?i=…`, outside `/ea` (see
//!   `registration`).
//! - Sensitive contact fields: the spec defines date of birth, passport, social security and
//!   national ids on the Contacts API's contact, behind `event/contacts:read-sensitive`. The
//!   sandbox also puts them on attendees' embedded contacts (for tokens holding that scope), on
//!   purpose: so eventsync can prove it never imports them even when a vendor sends them.

pub mod auth;
pub mod control;
pub mod dataset;
pub mod faults;
pub mod filter;
pub mod generate;
mod invitees;
pub mod limits;
pub mod listing;
pub mod registration;
mod routes;
pub mod webhooks;
pub mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::clock::Clock;
use crate::latency::{Latency, LatencyControl};
use auth::{ALL_SCOPES, Client, Tokens};
use dataset::Dataset;
use faults::{FaultDice, Faults};
use limits::RateLimiter;
pub use limits::Tier;
use listing::Pages;

/// How a sandbox account is set up.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Attendees generated for the main event.
    pub attendees: u64,
    /// Further live events of the same account, each with its own generated attendees,
    /// sessions and speakers, after the main event.
    pub more_events: Vec<EventPlan>,
    pub seed: u64,
    pub tier: Tier,
    /// Lifetime of issued tokens; Cvent's is 3600 seconds.
    pub token_ttl: Duration,
    pub client_id: String,
    pub client_secret: String,
    /// Scopes associated with the API client.
    pub scopes: Vec<String>,
    /// How long answers take; `None` answers at once (see `PUT /_sandbox/latency`).
    pub latency: Option<Latency>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            attendees: 1_000,
            more_events: Vec::new(),
            seed: 1,
            tier: Tier::Premium,
            token_ttl: Duration::from_secs(3600),
            client_id: "sandbox-client".into(),
            client_secret: "sandbox-secret".into(),
            scopes: ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
            latency: None,
        }
    }
}

/// A further live event of the account: its size and when it takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPlan {
    /// Attendees generated for it.
    pub attendees: u64,
    /// Its first day, in days from the sandbox clock's date at start (negative: already begun).
    pub starts_in_days: i64,
    /// How many days it lasts (at least one).
    pub length_days: i64,
}

impl EventPlan {
    /// `count` further events with sizes between a quarter of `attendees` and all of them, and
    /// schedules from two days ago to two months ahead, lasting one to three days: varied, but
    /// the same for the same seed.
    pub fn varied(count: usize, attendees: u64, seed: u64) -> Vec<EventPlan> {
        let smallest = attendees / 4;
        (1..=count as u64)
            .map(|number| {
                let roll = crate::seeded::draw(seed, number, 0xE7E7_5123);
                EventPlan {
                    attendees: smallest + roll % (attendees - smallest + 1),
                    starts_in_days: ((roll >> 20) % 63) as i64 - 2,
                    length_days: 1 + ((roll >> 40) % 3) as i64,
                }
            })
            .collect()
    }
}

/// The account's state, shared by every request.
pub(crate) struct Shared {
    config: SandboxConfig,
    client: Client,
    clock: Clock,
    data: RwLock<Dataset>,
    tokens: Mutex<Tokens>,
    pages: Mutex<Pages>,
    limiter: Mutex<RateLimiter>,
    faults: RwLock<Faults>,
    dice: FaultDice,
    calls: Mutex<control::CallLog>,
    webhooks: Arc<webhooks::Webhooks>,
    latency: Arc<LatencyControl>,
    event_id: String,
    event_code: String,
    /// Every live event with attendees, `(id, code)`, the main one first.
    live_events: Vec<(String, String)>,
    /// Where the sandbox's own pages are (`http://host:port`), which registration links name.
    origin: String,
}

/// A running sandbox; dropping it stops the server.
pub struct CventRestSandbox {
    address: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl CventRestSandbox {
    /// Starts a sandbox on 127.0.0.1 with an ephemeral port.
    pub async fn start(config: SandboxConfig) -> std::io::Result<CventRestSandbox> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a sandbox on the given address (port 0 picks a free one).
    pub async fn start_on(
        config: SandboxConfig,
        bind: SocketAddr,
    ) -> std::io::Result<CventRestSandbox> {
        let generator = generate::Generator::new(config.seed, config.attendees);
        let event = generator.event();
        let clock = Clock::default();
        let today_ms = clock
            .now()
            .date_naive()
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis();
        const DAY_MS: i64 = 24 * 60 * 60 * 1_000;
        let further: Vec<generate::Generator> = config
            .more_events
            .iter()
            .zip(1..)
            .map(|(plan, number)| {
                let schedule = generate::Schedule {
                    first_day_ms: today_ms
                        .saturating_add(plan.starts_in_days.saturating_mul(DAY_MS)),
                    days: plan.length_days,
                };
                generator.further_event(number, plan.attendees, schedule)
            })
            .collect();
        let live_events = std::iter::once(&generator)
            .chain(&further)
            .map(|generator| {
                let event = generator.event();
                (event.id, event.code)
            })
            .collect();
        let dataset = Dataset::new(generator, further);
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            client: Client {
                client_id: config.client_id.clone(),
                client_secret: config.client_secret.clone(),
                scopes: config.scopes.clone(),
            },
            clock,
            data: RwLock::new(dataset),
            tokens: Mutex::new(Tokens::default()),
            pages: Mutex::new(Pages::default()),
            limiter: Mutex::new(RateLimiter::new(config.tier)),
            faults: RwLock::new(Faults::default()),
            dice: FaultDice::default(),
            calls: Mutex::new(control::CallLog::default()),
            webhooks: Arc::new(webhooks::Webhooks::default()),
            latency: Arc::new(LatencyControl::new(config.latency)),
            event_id: event.id.clone(),
            event_code: event.code.clone(),
            live_events,
            origin: registration::origin(address),
            config,
        });
        let app = routes::router(shared.clone())
            .merge(control::router(shared.clone()))
            .merge(registration::router(shared.clone()))
            .merge(crate::latency::router(shared.latency.clone()));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "Cvent sandbox server stopped");
            }
        });
        Ok(CventRestSandbox {
            address,
            shared,
            shutdown: Some(shutdown),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The API base, ending in `/ea`, as a client configures it.
    pub fn base_url(&self) -> String {
        format!("http://{}/ea", self.address)
    }

    /// The control API base (`/_sandbox`).
    pub fn control_url(&self) -> String {
        format!("http://{}/_sandbox", self.address)
    }

    pub fn client_id(&self) -> &str {
        &self.shared.config.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.shared.config.client_secret
    }

    pub fn event_code(&self) -> &str {
        &self.shared.event_code
    }

    pub fn event_id(&self) -> &str {
        &self.shared.event_id
    }

    /// The codes of every live event with attendees, the main event's first, then those of
    /// `SandboxConfig::more_events` in order.
    pub fn event_codes(&self) -> Vec<String> {
        self.shared
            .live_events
            .iter()
            .map(|(_, code)| code.clone())
            .collect()
    }

    /// The ids of the same events, in the same order.
    pub fn event_ids(&self) -> Vec<String> {
        self.shared
            .live_events
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// Expires every issued token at once, as an hour passing would (for in-process tests; the
    /// control API's `POST /_sandbox/tokens/expire` does the same over HTTP).
    pub fn expire_tokens(&self) {
        self.shared.lock_tokens().expire_all();
    }

    /// Sets how long answers take from now on (`None`: at once; see `PUT /_sandbox/latency`).
    pub fn set_latency(&self, latency: Option<Latency>) {
        self.shared.latency.set(latency);
    }

    /// Switches the account's tier at once (for in-process tests; see `PUT /_sandbox/tier`).
    pub fn set_tier(&self, tier: Tier) {
        self.shared.lock_limiter().set_tier(tier);
    }

    /// Waits until the server is stopped by a signal (for `eventsync simulate`).
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for CventRestSandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
