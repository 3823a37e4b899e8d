//! The Aventri sandbox's control API under `/_sandbox` (never under `/api/v2`).
//!
//! | route | effect |
//! | --- | --- |
//! | `GET /_sandbox/info` | endpoint, account id, keys, event ids, counts, settings |
//! | `GET /_sandbox/calls`, `DELETE /_sandbox/calls` | calls per function and the last calls; reset |
//! | `PUT /_sandbox/clock` `{"now": "…"}` or `{"advanceSeconds": n}` | move the sandbox clock |
//! | `GET`/`PUT /_sandbox/settings` | read or switch the unverified defaults (`Settings`) |
//! | `PUT /_sandbox/faults` `{"next": [502, 500]}` | answer the next API calls with these statuses |
//! | `POST /_sandbox/tokens/expire` | expire every issued access token |
//! | `POST /_sandbox/attendees` | add an attendee (body: fields to set over a generated one) |
//! | `PATCH /_sandbox/attendees/{id}` | merge fields into an attendee (moves `lastmodified`) |
//! | `POST /_sandbox/attendees/{id}/cancel` | set its `registrationstatus` to `Cancelled` |
//! | `DELETE /_sandbox/attendees/{id}` | delete it |
//! | `PATCH`/`DELETE /_sandbox/sessions/{id}`, `…/speakers/{id}` | change or delete them |

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::dataset::{Kind, merge};
use super::{Settings, Shared};

/// How many recent calls the log keeps.
const LOG_CAPACITY: usize = 10_000;

/// One call as the log keeps it: never the token, the key or other parameters.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedCall {
    pub method: String,
    pub route: String,
    pub status: u16,
    pub at: String,
}

/// Counts per function (`"GET /api/v2/ereg/listAttendees.json"`) and the recent calls.
#[derive(Debug, Default)]
pub struct CallLog {
    total: u64,
    by_endpoint: BTreeMap<String, u64>,
    recent: VecDeque<LoggedCall>,
}

impl Shared {
    pub(super) fn log_call(&self, method: &str, route: &str, status: u16) {
        let at = self.now_text();
        let mut log = self.lock_calls();
        log.total += 1;
        *log.by_endpoint
            .entry(format!("{method} {route}"))
            .or_default() += 1;
        if log.recent.len() == LOG_CAPACITY {
            log.recent.pop_front();
        }
        log.recent.push_back(LoggedCall {
            method: method.to_string(),
            route: route.to_string(),
            status,
            at,
        });
    }
}

type SharedState = State<Arc<Shared>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sandbox/info", get(info))
        .route("/_sandbox/calls", get(calls).delete(reset_calls))
        .route("/_sandbox/clock", put(set_clock))
        .route("/_sandbox/settings", get(get_settings).put(set_settings))
        .route("/_sandbox/faults", put(set_faults))
        .route("/_sandbox/tokens/expire", post(expire_tokens))
        .route("/_sandbox/attendees", post(add_attendee))
        .route(
            "/_sandbox/attendees/{id}",
            patch(change_attendee).delete(delete_attendee),
        )
        .route("/_sandbox/attendees/{id}/cancel", post(cancel_attendee))
        .route(
            "/_sandbox/sessions/{id}",
            patch(change_session).delete(delete_session),
        )
        .route(
            "/_sandbox/speakers/{id}",
            patch(change_speaker).delete(delete_speaker),
        )
        .with_state(shared)
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

async fn info(State(shared): SharedState) -> Response {
    let data = shared.read_data();
    let generator = data.generator();
    axum::Json(json!({
        "accountId": shared.config.account_id,
        "masterKey": shared.config.master_key,
        "limitedKey": shared.config.limited_key,
        "eventId": generator.event_id(),
        "otherEventId": generator.other_event_id(),
        "attendees": data.live_count(Kind::Attendees),
        "sessions": data.live_count(Kind::Sessions),
        "speakers": data.live_count(Kind::Speakers),
        "now": shared.now_text(),
        "settings": shared.settings(),
    }))
    .into_response()
}

async fn calls(State(shared): SharedState) -> Response {
    let log = shared.lock_calls();
    axum::Json(json!({
        "total": log.total,
        "byEndpoint": log.by_endpoint,
        "recent": log.recent,
    }))
    .into_response()
}

async fn reset_calls(State(shared): SharedState) -> StatusCode {
    *shared.lock_calls() = CallLog::default();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockChange {
    now: Option<chrono::DateTime<chrono::Utc>>,
    advance_seconds: Option<i64>,
}

async fn set_clock(
    State(shared): SharedState,
    axum::Json(change): axum::Json<ClockChange>,
) -> Response {
    match (change.now, change.advance_seconds) {
        (Some(at), None) => shared.clock.set(at),
        (None, Some(seconds)) => shared.clock.advance(chrono::Duration::seconds(seconds)),
        _ => return refuse(StatusCode::BAD_REQUEST, "give either now or advanceSeconds"),
    }
    axum::Json(json!({"now": shared.now_text()})).into_response()
}

async fn get_settings(State(shared): SharedState) -> Response {
    axum::Json(shared.settings()).into_response()
}

async fn set_settings(
    State(shared): SharedState,
    axum::Json(settings): axum::Json<Settings>,
) -> Response {
    if ![200, 400].contains(&settings.logical_error_status) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "logicalErrorStatus must be 200 or 400",
        );
    }
    *shared.settings.write().unwrap_or_else(|p| p.into_inner()) = settings.clone();
    axum::Json(settings).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultQueue {
    next: Vec<u16>,
}

async fn set_faults(
    State(shared): SharedState,
    axum::Json(faults): axum::Json<FaultQueue>,
) -> Response {
    if let Some(bad) = faults.next.iter().find(|s| !(400..=599).contains(*s)) {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("{bad} is not an error status (400–599)"),
        );
    }
    let mut queue = shared.lock_faults();
    queue.clear();
    queue.extend(faults.next);
    axum::Json(json!({"queued": queue.len()})).into_response()
}

async fn expire_tokens(State(shared): SharedState) -> StatusCode {
    shared.lock_tokens().clear();
    StatusCode::NO_CONTENT
}

async fn add_attendee(State(shared): SharedState, body: Option<axum::Json<Value>>) -> Response {
    let patch = body.map(|axum::Json(patch)| patch).unwrap_or(json!({}));
    if !patch.is_object() {
        return refuse(StatusCode::BAD_REQUEST, "the body must be a JSON object");
    }
    let now = shared.now_text();
    let record = shared.write_data().add_attendee(&now, &patch);
    (StatusCode::CREATED, axum::Json(record)).into_response()
}

/// Merges `patch` into a record and moves its `lastmodified` to now.
fn change(shared: &Shared, kind: Kind, id: &str, patch: &Value) -> Response {
    if !patch.is_object() {
        return refuse(StatusCode::BAD_REQUEST, "the body must be a JSON object");
    }
    let now = shared.now_text();
    let mut data = shared.write_data();
    let Some(mut record) = data.get(kind, id) else {
        return refuse(StatusCode::NOT_FOUND, format!("no {} {id}", kind.plural()));
    };
    merge(&mut record, patch);
    record[kind.id_field()] = Value::String(id.to_string());
    record["lastmodified"] = Value::String(now);
    data.put(kind, id, record.clone());
    axum::Json(record).into_response()
}

fn delete(shared: &Shared, kind: Kind, id: &str) -> Response {
    if shared.write_data().delete(kind, id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        refuse(StatusCode::NOT_FOUND, format!("no {} {id}", kind.plural()))
    }
}

async fn change_attendee(
    State(shared): SharedState,
    Path(id): Path<String>,
    axum::Json(patch): axum::Json<Value>,
) -> Response {
    change(&shared, Kind::Attendees, &id, &patch)
}

async fn cancel_attendee(State(shared): SharedState, Path(id): Path<String>) -> Response {
    change(
        &shared,
        Kind::Attendees,
        &id,
        &json!({"registrationstatus": "Cancelled"}),
    )
}

async fn delete_attendee(State(shared): SharedState, Path(id): Path<String>) -> Response {
    delete(&shared, Kind::Attendees, &id)
}

async fn change_session(
    State(shared): SharedState,
    Path(id): Path<String>,
    axum::Json(patch): axum::Json<Value>,
) -> Response {
    change(&shared, Kind::Sessions, &id, &patch)
}

async fn delete_session(State(shared): SharedState, Path(id): Path<String>) -> Response {
    delete(&shared, Kind::Sessions, &id)
}

async fn change_speaker(
    State(shared): SharedState,
    Path(id): Path<String>,
    axum::Json(patch): axum::Json<Value>,
) -> Response {
    change(&shared, Kind::Speakers, &id, &patch)
}

async fn delete_speaker(State(shared): SharedState, Path(id): Path<String>) -> Response {
    delete(&shared, Kind::Speakers, &id)
}
