//! The sandbox control API under `/_sandbox` (never under `/soap`): change the data, read the
//! call log, move the clock, spend the quota, expire sessions and inject faults.
//!
//! | route | effect |
//! | --- | --- |
//! | `GET /_sandbox/info` | Login URL, account number, user name, event id and code, counts |
//! | `GET /_sandbox/calls`, `DELETE /_sandbox/calls` | calls per operation and faults per code; reset |
//! | `PUT /_sandbox/clock` `{"advanceSeconds": n}` | move the sandbox clock |
//! | `PUT /_sandbox/usage` `{"used": n}` | set today's counted calls (reach the quota quickly) |
//! | `GET`/`PUT /_sandbox/faults` | read or set the injected faults (see [`Faults`]) |
//! | `POST /_sandbox/sessions/expire` | expire every Login session |
//! | `PUT /_sandbox/login` `{"ipDenied": true}` | refuse logins as for a caller whose IP is not allowed |
//! | `POST /_sandbox/registrations` | add a registration (body: attributes set over a generated one) |
//! | `GET`/`PATCH`/`DELETE /_sandbox/registrations/{id}` | read, merge attributes into (moves `LastModifiedDate`), delete |
//! | `PATCH /_sandbox/sessions/{id}`, `PATCH /_sandbox/speakers/{id}` | merge attributes into a session product or presenter |

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::Shared;
use super::dataset::set;
use super::generate::timestamp;
use super::xml::Element;

/// One fault to answer the next calls of an operation with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InjectedFault {
    /// `Retrieve`, `Search`, … or `*` for any operation but Login.
    pub operation: String,
    /// A Cvent code such as `CV10001`.
    pub code: String,
    /// How many calls get it.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// What the sandbox does wrong on purpose.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    pub next: Vec<InjectedFault>,
    /// Invitee ids whose SessionRegAction items fail (`Success="false"`).
    pub fail_invitees: Vec<String>,
    /// How long a change takes to show in GetUpdated; Cvent says under a minute on average.
    pub visibility_lag_seconds: u64,
}

impl Faults {
    pub(super) fn take(&mut self, operation: &str) -> Option<String> {
        let position = self
            .next
            .iter()
            .position(|f| f.operation == operation || f.operation == "*")?;
        let fault = &mut self.next[position];
        let code = fault.code.clone();
        fault.times = fault.times.saturating_sub(1);
        if fault.times == 0 {
            self.next.remove(position);
        }
        Some(code)
    }

    pub(super) fn visibility_lag(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.visibility_lag_seconds)
    }
}

/// Calls per operation and faults per code.
#[derive(Debug, Default)]
pub struct CallLog {
    total: u64,
    by_operation: BTreeMap<String, u64>,
    faults: BTreeMap<String, u64>,
}

impl CallLog {
    pub(super) fn record(&mut self, operation: &str, fault: Option<&str>) {
        self.total += 1;
        *self.by_operation.entry(operation.to_string()).or_default() += 1;
        if let Some(code) = fault {
            *self.faults.entry(code.to_string()).or_default() += 1;
        }
    }

    pub(super) fn count(&self, operation: &str) -> u64 {
        self.by_operation.get(operation).copied().unwrap_or(0)
    }
}

type SharedState = State<Arc<Shared>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sandbox/info", get(info))
        .route("/_sandbox/calls", get(calls).delete(reset_calls))
        .route("/_sandbox/clock", put(set_clock))
        .route("/_sandbox/usage", put(set_usage))
        .route("/_sandbox/faults", get(get_faults).put(set_faults))
        .route("/_sandbox/sessions/expire", post(expire_sessions))
        .route("/_sandbox/login", put(set_login))
        .route("/_sandbox/registrations", post(add_registration))
        .route(
            "/_sandbox/registrations/{id}",
            get(get_registration)
                .patch(patch_registration)
                .delete(delete_registration),
        )
        .route("/_sandbox/sessions/{id}", patch(patch_session))
        .route("/_sandbox/speakers/{id}", patch(patch_speaker))
        .with_state(shared)
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

/// An element as JSON: attributes as strings, children under their names.
fn to_json(element: &Element) -> Value {
    let mut object: Map<String, Value> = element
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    for child in &element.children {
        let entry = object
            .entry(child.name.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(to_json(child));
        }
    }
    Value::Object(object)
}

/// Attribute changes from a JSON body of scalars.
fn attributes_of(body: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    body.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            _ => Err(format!("{k}: attributes are strings, numbers or booleans")),
        })
        .collect()
}

async fn info(State(shared): SharedState) -> Response {
    let data = shared.read_data();
    axum::Json(json!({
        "loginUrl": format!("http://{}{}", shared.address, super::LOGIN_PATH),
        "accountNumber": shared.config.account_number,
        "userName": shared.config.user_name,
        "eventId": data.generator.event_id,
        "eventCode": data.generator.event_code,
        "registrations": data.registration_count(),
        "usedToday": shared.used_today(),
        "maxApiCalls": shared.config.max_api_calls,
        "now": timestamp(shared.clock.now()),
    }))
    .into_response()
}

async fn calls(State(shared): SharedState) -> Response {
    let log = shared.lock_calls();
    axum::Json(json!({
        "total": log.total,
        "byOperation": log.by_operation,
        "faults": log.faults,
    }))
    .into_response()
}

async fn reset_calls(State(shared): SharedState) -> Response {
    *shared.lock_calls() = CallLog::default();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClockChange {
    advance_seconds: i64,
}

async fn set_clock(
    State(shared): SharedState,
    axum::Json(change): axum::Json<ClockChange>,
) -> Response {
    shared
        .clock
        .advance(chrono::Duration::seconds(change.advance_seconds));
    axum::Json(json!({"now": timestamp(shared.clock.now())})).into_response()
}

#[derive(Deserialize)]
struct UsageChange {
    used: u64,
}

async fn set_usage(
    State(shared): SharedState,
    axum::Json(change): axum::Json<UsageChange>,
) -> Response {
    let today = shared.clock.now().date_naive();
    let mut usage = shared.lock_usage();
    usage.day = Some(today);
    usage.used = change.used;
    axum::Json(json!({"used": usage.used})).into_response()
}

async fn get_faults(State(shared): SharedState) -> Response {
    axum::Json(shared.lock_faults().clone()).into_response()
}

async fn set_faults(
    State(shared): SharedState,
    axum::Json(faults): axum::Json<Faults>,
) -> Response {
    *shared.lock_faults() = faults.clone();
    axum::Json(faults).into_response()
}

async fn expire_sessions(State(shared): SharedState) -> Response {
    shared.expire_sessions();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginChange {
    ip_denied: bool,
}

async fn set_login(
    State(shared): SharedState,
    axum::Json(change): axum::Json<LoginChange>,
) -> Response {
    let mut logins = shared.lock_logins();
    logins.ip_denied = change.ip_denied;
    logins.failures = 0;
    logins.locked_until = None;
    StatusCode::NO_CONTENT.into_response()
}

async fn add_registration(
    State(shared): SharedState,
    axum::Json(body): axum::Json<Map<String, Value>>,
) -> Response {
    let fields = match attributes_of(&body) {
        Ok(fields) => fields,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    let now = shared.clock.now();
    let added = shared.write_data().add_registration(&fields, now);
    (StatusCode::CREATED, axum::Json(to_json(&added))).into_response()
}

async fn get_registration(State(shared): SharedState, Path(id): Path<String>) -> Response {
    match shared.read_data().registration_by_id(&id) {
        Some((_, registration)) => axum::Json(to_json(&registration)).into_response(),
        None => refuse(StatusCode::NOT_FOUND, format!("no registration {id}")),
    }
}

async fn patch_registration(
    State(shared): SharedState,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<Map<String, Value>>,
) -> Response {
    let fields = match attributes_of(&body) {
        Ok(fields) => fields,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    let now = shared.clock.now();
    let mut data = shared.write_data();
    let Some((index, mut registration)) = data.registration_by_id(&id) else {
        return refuse(StatusCode::NOT_FOUND, format!("no registration {id}"));
    };
    for (name, value) in &fields {
        set(&mut registration, name, value);
    }
    data.put_registration(index, registration.clone(), now);
    set(&mut registration, "LastModifiedDate", &timestamp(now));
    axum::Json(to_json(&registration)).into_response()
}

async fn delete_registration(State(shared): SharedState, Path(id): Path<String>) -> Response {
    let mut data = shared.write_data();
    match data.registration_by_id(&id) {
        Some((index, _)) => {
            data.delete_registration(index);
            StatusCode::NO_CONTENT.into_response()
        }
        None => refuse(StatusCode::NOT_FOUND, format!("no registration {id}")),
    }
}

async fn patch_session(
    State(shared): SharedState,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<Map<String, Value>>,
) -> Response {
    let fields = match attributes_of(&body) {
        Ok(fields) => fields,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let event = data.event_mut();
    let Some(session) = event
        .children
        .iter_mut()
        .find(|p| p.attribute("ProductId") == Some(id.as_str()))
    else {
        return refuse(StatusCode::NOT_FOUND, format!("no session {id}"));
    };
    for (name, value) in &fields {
        set(session, name, value);
    }
    let changed = to_json(session);
    // A session is part of its event: the event is what GetUpdated reports as changed.
    set(event, "LastModifiedDate", &now);
    axum::Json(changed).into_response()
}

async fn patch_speaker(
    State(shared): SharedState,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<Map<String, Value>>,
) -> Response {
    let fields = match attributes_of(&body) {
        Ok(fields) => fields,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let Some(speaker) = data
        .speakers_mut()
        .iter_mut()
        .find(|s| s.attribute("Id") == Some(id.as_str()))
    else {
        return refuse(StatusCode::NOT_FOUND, format!("no speaker {id}"));
    };
    for (name, value) in &fields {
        set(speaker, name, value);
    }
    set(speaker, "LastModifiedDate", &now);
    axum::Json(to_json(speaker)).into_response()
}
