//! The iMIS sandbox's control API under `/_sandbox` (never under the site); its routes are
//! listed in the module's documentation.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::dataset::{ActivityType, NewParty, Refusal};
use super::query::SavedQuery;
use super::{Faults, Shared};

/// How many calls the log keeps; older ones are dropped first (`total` still counts them).
const LOG_CAPACITY: usize = 100_000;

/// One call to the site as the log keeps it: never a token or a password.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedCall {
    pub method: String,
    /// The path as requested, with the virtual directory and the query string.
    pub path: String,
    pub status: u16,
}

/// The calls to the site, in the order they were answered.
#[derive(Debug, Default)]
pub struct CallLog {
    total: u64,
    calls: VecDeque<LoggedCall>,
}

impl Shared {
    pub(super) fn log_call(&self, method: &str, path: &str, status: u16) {
        let mut log = self.lock_calls();
        log.total += 1;
        if log.calls.len() == LOG_CAPACITY {
            log.calls.pop_front();
        }
        log.calls.push_back(LoggedCall {
            method: method.to_string(),
            path: path.to_string(),
            status,
        });
    }
}

type SharedState = State<Arc<Shared>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sandbox/info", get(info))
        .route("/_sandbox/parties", post(add_party))
        .route("/_sandbox/parties/{id}", get(show_party))
        .route("/_sandbox/activities", get(list_activities))
        .route("/_sandbox/events", get(list_events))
        .route("/_sandbox/queries", get(list_queries).put(put_queries))
        .route(
            "/_sandbox/activity-types",
            get(list_activity_types).put(set_activity_types),
        )
        .route("/_sandbox/faults", get(show_faults).put(set_faults))
        .route("/_sandbox/calls", get(calls).delete(clear_calls))
        .route("/_sandbox/clock", put(set_clock))
        .route("/_sandbox/reset", post(reset))
        .with_state(shared)
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

fn refusal(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Invalid(message) => refuse(StatusCode::BAD_REQUEST, message),
        Refusal::Conflict(message) => refuse(StatusCode::CONFLICT, message),
        Refusal::NotFound(message) => refuse(StatusCode::NOT_FOUND, message),
    }
}

/// Reads a JSON body, or serde's reason why it does not fit (answered as a 400).
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|error| format!("the body: {error}"))
}

async fn info(State(shared): SharedState) -> Response {
    let data = shared.read_data();
    axum::Json(json!({
        "site_url": shared.site_url(),
        "username": shared.config.username,
        "seed": shared.config.seed,
        "parties": data.party_count(),
        "activities": data.activities().count(),
        "events": data.events().count(),
        "queries": data.queries().len(),
    }))
    .into_response()
}

async fn add_party(State(shared): SharedState, bytes: Bytes) -> Response {
    let new: NewParty = match body(&bytes) {
        Ok(new) => new,
        Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
    };
    match shared.write_data().add_party(new) {
        Ok(party) => (StatusCode::CREATED, axum::Json(party)).into_response(),
        Err(refused) => refusal(refused),
    }
}

async fn show_party(State(shared): SharedState, Path(id): Path<String>) -> Response {
    match shared.read_data().party(&id) {
        Some(party) => axum::Json(party.clone()).into_response(),
        None => refuse(StatusCode::NOT_FOUND, format!("no party {id}")),
    }
}

async fn list_activities(State(shared): SharedState) -> Response {
    let shown: Vec<Value> = shared
        .read_data()
        .activities()
        .map(|activity| activity.control_json())
        .collect();
    axum::Json(shown).into_response()
}

async fn list_events(State(shared): SharedState) -> Response {
    let shown: Vec<Value> = shared
        .read_data()
        .events()
        .map(|event| event.control_json())
        .collect();
    axum::Json(shown).into_response()
}

async fn list_queries(State(shared): SharedState) -> Response {
    axum::Json(shared.read_data().queries().to_vec()).into_response()
}

async fn put_queries(State(shared): SharedState, bytes: Bytes) -> Response {
    // An array holds several queries, anything else is one.
    let several = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let read = if several {
        body::<Vec<SavedQuery>>(&bytes)
    } else {
        body::<SavedQuery>(&bytes).map(|query| vec![query])
    };
    let queries = match read {
        Ok(queries) => queries,
        Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
    };
    // All or nothing: every query is checked before any is saved.
    if let Some(reason) = queries.iter().find_map(|query| query.check().err()) {
        return refuse(StatusCode::BAD_REQUEST, reason);
    }
    let mut data = shared.write_data();
    for query in queries {
        if let Err(refused) = data.put_query(query) {
            return refusal(refused);
        }
    }
    axum::Json(data.queries().to_vec()).into_response()
}

async fn list_activity_types(State(shared): SharedState) -> Response {
    axum::Json(shared.read_data().activity_types().to_vec()).into_response()
}

async fn set_activity_types(State(shared): SharedState, bytes: Bytes) -> Response {
    let kinds: Vec<ActivityType> = match body(&bytes) {
        Ok(kinds) => kinds,
        Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
    };
    let mut data = shared.write_data();
    match data.set_activity_types(kinds) {
        Ok(()) => axum::Json(data.activity_types().to_vec()).into_response(),
        Err(refused) => refusal(refused),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultChange {
    #[serde(default)]
    expire_tokens: bool,
    next: Option<Vec<u16>>,
    retry_after_seconds: Option<u64>,
    token_lifetime_seconds: Option<u64>,
}

fn faults_json(faults: &Faults) -> Value {
    json!({
        "next": faults.next,
        "retry_after_seconds": faults.retry_after_seconds,
        "token_lifetime_seconds": faults.token_lifetime_seconds,
    })
}

async fn show_faults(State(shared): SharedState) -> Response {
    axum::Json(faults_json(&shared.lock_faults())).into_response()
}

/// Statuses a fault may answer with: throttling and the gateway's 5xx.
const FAULT_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

async fn set_faults(State(shared): SharedState, bytes: Bytes) -> Response {
    let change: FaultChange = match body(&bytes) {
        Ok(change) => change,
        Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
    };
    if let Some(bad) = change
        .next
        .iter()
        .flatten()
        .find(|status| !FAULT_STATUSES.contains(status))
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("{bad} is not a fault status (one of {FAULT_STATUSES:?})"),
        );
    }
    if change.expire_tokens {
        shared.lock_tokens().clear();
    }
    let mut faults = shared.lock_faults();
    if let Some(next) = change.next {
        faults.next = next.into();
    }
    if let Some(seconds) = change.retry_after_seconds {
        faults.retry_after_seconds = seconds;
    }
    if let Some(seconds) = change.token_lifetime_seconds {
        faults.token_lifetime_seconds = seconds;
    }
    axum::Json(faults_json(&faults)).into_response()
}

async fn calls(State(shared): SharedState) -> Response {
    let log = shared.lock_calls();
    axum::Json(json!({"total": log.total, "calls": log.calls})).into_response()
}

async fn clear_calls(State(shared): SharedState) -> StatusCode {
    *shared.lock_calls() = CallLog::default();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    now: Option<chrono::DateTime<chrono::Utc>>,
    advance_seconds: Option<i64>,
}

async fn set_clock(State(shared): SharedState, bytes: Bytes) -> Response {
    let change: ClockChange = match body(&bytes) {
        Ok(change) => change,
        Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
    };
    match (change.now, change.advance_seconds) {
        (Some(at), None) => shared.clock.set(at),
        (None, Some(seconds)) => {
            let Some(step) = chrono::Duration::try_seconds(seconds) else {
                return refuse(StatusCode::BAD_REQUEST, "advance_seconds is out of range");
            };
            shared.clock.advance(step);
        }
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "give either now or advance_seconds",
            );
        }
    }
    axum::Json(json!({"now": shared.clock.now().to_rfc3339()})).into_response()
}

async fn reset(State(shared): SharedState) -> Response {
    *shared.write_data() = Shared::seeded_data(&shared.config);
    *shared.lock_faults() = Faults::new(shared.config.token_lifetime_seconds);
    *shared.lock_calls() = CallLog::default();
    shared.clock.set(chrono::Utc::now());
    StatusCode::NO_CONTENT.into_response()
}
