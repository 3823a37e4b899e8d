//! Simulator of ASI iMIS's REST API (iMIS 2017, EMS and Cloud), as ASI's published Postman
//! collections and working integrations show it; where they are silent, the behaviour is a
//! documented default of this module.
//!
//! Every path below is relative to the **site URL**, which may include a virtual directory
//! (`/imis` by default, `SandboxConfig::virtual_directory`; an empty one serves the site at the
//! root). As on IIS, paths and query parameter names are matched without regard to case.
//!
//! - Auth: `POST {site}/token` with the form `grant_type=password&username=…&password=…` (key
//!   names in any case) answers the OWIN shape `{"access_token", "token_type": "bearer",
//!   "expires_in", "userName", ".issued", ".expires"}`; wrong credentials are a 400
//!   `invalid_grant`. The default credentials are user name **`manager`** (matched without
//!   regard to case) and password **`sandbox`**; tokens live 1199 seconds. Every `/api` call
//!   needs `Authorization: Bearer <token>`; without a live one it is a 401 with
//!   `WWW-Authenticate: Bearer`.
//! - Envelope: every object carries `$type` (`"<Namespace.Type>, Asi.Contracts"`), collections
//!   are `{"$type", "$values"}`, typed scalars `{"$type": "System.Int32", "$value": 42}`, dates
//!   site-local strings without an offset (`2026-03-02T09:00:00`). Every object a client sends
//!   must carry `$type` too; one without it is a 400.
//! - Lists are `PagedResult`s: `limit` (default 100, more than 500 is taken as 500) and `offset`,
//!   `HasNext` and `NextOffset` (0 on the last page). Filters are `?Property=op:value` with `eq`
//!   (also a bare value), `ne`, `startsWith`, `contains`, `gt`, `ge`, `lt`, `le`; property names
//!   and values compare without regard to case, numbers as numbers.
//! - Errors: the `ValidateResultsData` envelope (`Errors.$values[].Message`, `ResultCode`) for
//!   4xx answers, 404 for an entity missing by id; gateway faults as plain text.
//! - Entities: `Party` (also `Person`) by id and by filter (`Email`, `PartyId`, `Id`,
//!   `FirstName`, `LastName`, `Name`); `LegacyActivityType` (list and by code); `Activity`
//!   (create, list by any property, get, replace, delete by `SEQN`, with iMIS's legacy column
//!   names); `Event` (list, create, get, replace, delete, with `Functions` whose ids are
//!   `EVENTID/FUNCTIONCODE`); saved queries through the Query service (`/api/query`, flat rows)
//!   and IQA (`/api/iqa`, `GenericEntityData` rows), both reading the same saved queries.
//! - Data: `parties` seeded people (ids from `10001`, members and non-members with their
//!   `CustomerTypeCode`), the activity types `EVENT`, `MEETING` and `CALL`, no activities and no
//!   events, and three saved queries: `$/Events/Cvent/Eligible members` (members only),
//!   `$/Events/Cvent/Everyone` and `$/Events/Cvent/Not for REST` (not available through REST).
//! - Rate limits: iMIS documents none; 429 (with `Retry-After`) and 503 only come as faults.
//! - Latency: off by default; `SandboxConfig::latency` or `PUT /_sandbox/latency` makes every
//!   call take as long as a real one (see [`crate::latency`]); faults are answered at once.
//!
//! # Control API (`/_sandbox`, JSON, never under the site)
//!
//! | route | effect |
//! | --- | --- |
//! | `GET /_sandbox/info` | site URL, user name, seed, counts |
//! | `POST /_sandbox/parties` | add a party: `{"id"?, "first_name", "last_name", "emails": [..], "company"?, "title"?, "is_member"?, "member_type"?}`; 201 with the party, 409 if the id exists. The first email is the primary one; an email another party has is allowed (duplicates). `member_type` defaults to `M` for members, `NM` otherwise; `id` to the next free number |
//! | `GET /_sandbox/parties/{id}` | one party in the shape above (404 if none) |
//! | `GET /_sandbox/activities` | every activity: `[{"seqn", "properties": {NAME: value}}]`, by `SEQN` |
//! | `GET /_sandbox/events` | every event: `[{"event_id", "event_code", "name", "description", "start", "end", "status", "functions": [..]}]` |
//! | `GET`/`PUT /_sandbox/queries` | list the saved queries; add or replace one (an object) or several (an array), matched by name without regard to case: `{"name", "rest_enabled"?: true, "parameter"?: "id_or_email" \| "id" \| "email" \| "none", "condition"?: "none" \| "members_only" \| {"customer_types": ["M", ..]}, "columns"?: ["ImisId", "FirstName", "LastName", "Email", "Company", "Title", "MemberType"]}` |
//! | `GET`/`PUT /_sandbox/activity-types` | list, or replace the whole set with `[{"code", "description"}]` |
//! | `GET`/`PUT /_sandbox/faults` | `{"expire_tokens"?: true, "next"?: [503, 429, ..], "retry_after_seconds"?: n, "token_lifetime_seconds"?: n}`: expire every issued token now; answer the next `/api` calls with these statuses (429 with `Retry-After`, 5xx as plain text), replacing the queue; the lifetime of tokens issued from now on |
//! | `GET`/`DELETE /_sandbox/calls` | the calls to the site in the order they were answered, `{"total", "calls": [{"method", "path", "status"}]}` (`path` as requested, virtual directory and query included); clear it |
//! | `PUT /_sandbox/clock` | `{"advance_seconds": n}` or `{"now": "<RFC 3339>"}`: move the sandbox clock (token expiry, `Date`) |
//! | `POST /_sandbox/reset` | back to the seeded state: data, activity types, queries, faults, call log and clock; issued tokens stay valid |
//! | `GET`/`PUT /_sandbox/latency` | how long answers take (see [`crate::latency`]) |

pub mod control;
pub mod dataset;
pub mod filter;
pub mod generate;
pub mod query;
mod read;
mod routes;
pub mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::latency::{Latency, LatencyControl};
use dataset::Dataset;

/// The default lifetime of an access token, in seconds (the `expires_in` iMIS answers).
pub const TOKEN_LIFETIME_SECONDS: u64 = 1199;

/// How a sandbox site is set up.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Seeded parties (people), members and non-members.
    pub parties: u64,
    pub seed: u64,
    /// The login `POST /token` accepts, matched without regard to case.
    pub username: String,
    pub password: String,
    /// The site's virtual directory, such as `/imis`; empty serves the site at the root.
    pub virtual_directory: String,
    /// Lifetime of issued tokens until `PUT /_sandbox/faults` changes it.
    pub token_lifetime_seconds: u64,
    /// How long answers take; `None` answers at once (see `PUT /_sandbox/latency`).
    pub latency: Option<Latency>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            parties: 500,
            seed: 1,
            username: "manager".into(),
            password: "sandbox".into(),
            virtual_directory: "/imis".into(),
            token_lifetime_seconds: TOKEN_LIFETIME_SECONDS,
            latency: None,
        }
    }
}

/// The site's virtual directory as a path prefix: `""` for the root, else `/a/b`.
fn site_prefix(virtual_directory: &str) -> std::io::Result<String> {
    let trimmed = virtual_directory.trim().trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let valid = trimmed.split('/').all(|segment| {
        !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '~'))
    });
    if !valid {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "the virtual directory '{virtual_directory}' may hold letters, digits, '.', '_', \
                 '-', '~' and '/' only"
            ),
        ));
    }
    Ok(format!("/{trimmed}"))
}

/// What the fault control has set up.
#[derive(Debug, Clone)]
pub(crate) struct Faults {
    /// Statuses to answer the next `/api` calls with, one each.
    next: std::collections::VecDeque<u16>,
    retry_after_seconds: u64,
    token_lifetime_seconds: u64,
}

impl Faults {
    fn new(token_lifetime_seconds: u64) -> Faults {
        Faults {
            next: std::collections::VecDeque::new(),
            retry_after_seconds: 1,
            token_lifetime_seconds,
        }
    }
}

/// The site's state, shared by every request.
pub(crate) struct Shared {
    config: SandboxConfig,
    address: SocketAddr,
    /// The virtual directory as a path prefix (`""` at the root).
    prefix: String,
    clock: Clock,
    data: RwLock<Dataset>,
    /// Issued tokens and when each expires.
    tokens: Mutex<HashMap<String, DateTime<Utc>>>,
    faults: Mutex<Faults>,
    calls: Mutex<control::CallLog>,
    token_counter: std::sync::atomic::AtomicU64,
    latency: Arc<LatencyControl>,
}

// Locks are never held across an await; a panic while holding one is a sandbox bug, so recover
// the data rather than poisoning every later request.
impl Shared {
    fn read_data(&self) -> RwLockReadGuard<'_, Dataset> {
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }
    fn write_data(&self) -> RwLockWriteGuard<'_, Dataset> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_tokens(&self) -> MutexGuard<'_, HashMap<String, DateTime<Utc>>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_calls(&self) -> MutexGuard<'_, control::CallLog> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn site_url(&self) -> String {
        format!("http://{}{}", self.address, self.prefix)
    }

    /// The seeded state the site starts from and `POST /_sandbox/reset` returns to.
    fn seeded_data(config: &SandboxConfig) -> Dataset {
        Dataset::seeded(config.seed, config.parties)
    }
}

/// A running iMIS sandbox; dropping it stops the server.
pub struct ImisSandbox {
    address: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ImisSandbox {
    /// Starts a sandbox on 127.0.0.1 with an ephemeral port.
    pub async fn start(config: SandboxConfig) -> std::io::Result<ImisSandbox> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a sandbox on the given address (port 0 picks a free one). A virtual directory
    /// with other characters than letters, digits, `.`, `_`, `-`, `~` and `/` is refused.
    pub async fn start_on(config: SandboxConfig, bind: SocketAddr) -> std::io::Result<ImisSandbox> {
        let prefix = site_prefix(&config.virtual_directory)?;
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            address,
            prefix,
            clock: Clock::default(),
            data: RwLock::new(Shared::seeded_data(&config)),
            tokens: Mutex::new(HashMap::new()),
            faults: Mutex::new(Faults::new(config.token_lifetime_seconds)),
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
                tracing::error!(%error, "iMIS sandbox server stopped");
            }
        });
        Ok(ImisSandbox {
            address,
            shared,
            shutdown: Some(shutdown),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The site URL a connection names, with the virtual directory (`http://127.0.0.1:port/imis`)
    /// and no trailing slash; `/token` and `/api/…` follow it.
    pub fn base_url(&self) -> String {
        self.shared.site_url()
    }

    /// The control API base (`/_sandbox`), always at the root.
    pub fn control_url(&self) -> String {
        format!("http://{}/_sandbox", self.address)
    }

    pub fn username(&self) -> &str {
        &self.shared.config.username
    }

    pub fn password(&self) -> &str {
        &self.shared.config.password
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// The ids of the seeded and added parties, in id order.
    pub fn party_ids(&self) -> Vec<String> {
        self.shared
            .read_data()
            .parties()
            .map(|party| party.id.clone())
            .collect()
    }

    /// Expires every issued token (in-process; `PUT /_sandbox/faults` over HTTP).
    pub fn expire_tokens(&self) {
        self.shared.lock_tokens().clear();
    }

    /// Sets how long answers take from now on (`None`: at once; see `PUT /_sandbox/latency`).
    pub fn set_latency(&self, latency: Option<Latency>) {
        self.shared.latency.set(latency);
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for ImisSandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::site_prefix;

    #[test]
    fn virtual_directories_become_prefixes() {
        assert_eq!(site_prefix("/imis").ok().as_deref(), Some("/imis"));
        assert_eq!(site_prefix("imis/").ok().as_deref(), Some("/imis"));
        assert_eq!(
            site_prefix("/Asi.Scheduler_SDKDemo").ok().as_deref(),
            Some("/Asi.Scheduler_SDKDemo")
        );
        assert_eq!(site_prefix("").ok().as_deref(), Some(""));
        assert_eq!(site_prefix("/").ok().as_deref(), Some(""));
        assert!(site_prefix("/a b").is_err());
        assert!(site_prefix("/a//b").is_err());
        assert!(site_prefix("/{id}").is_err());
    }
}
