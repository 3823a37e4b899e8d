//! The sandbox control API under `/_sandbox` (never under `/ea`): change the data, read the call
//! log, move the clock, switch the tier, expire tokens and inject faults.
//!
//! | route | effect |
//! | --- | --- |
//! | `GET /_sandbox/info` | base URL pieces, main event id and code, every live event, tier, counts |
//! | `GET /_sandbox/calls`, `DELETE /_sandbox/calls` | calls per endpoint and the last calls; reset |
//! | `PUT /_sandbox/clock` `{"now": "…"}` or `{"advanceSeconds": n}` | move the sandbox clock |
//! | `PUT /_sandbox/tier` `{"tier": "free"}` | switch the account's tier |
//! | `PUT /_sandbox/usage` `{"used": n}` | set today's used calls (reach the quota quickly) |
//! | `GET`/`PUT /_sandbox/faults` | read or set the injected faults (see `faults::Faults`) |
//! | `GET`/`PUT /_sandbox/latency` `{"page_ms":[300,800],"object_ms":[80,250]}` or `{"off":true}` | how long admitted calls take (see `crate::latency`) |
//! | `POST /_sandbox/tokens/expire` | expire every issued token |
//! | `POST /_sandbox/attendees?event=<code>` | add an attendee to a live event, the main one by default (body: fields to set over a generated one), with `webLinks` to the registration page |
//! | `PATCH /_sandbox/attendees/{id}` | merge fields into an attendee (moves `lastModified`) |
//! | `POST /_sandbox/attendees/{id}/cancel` | set its status to `Cancelled` |
//! | `DELETE /_sandbox/attendees/{id}` | delete it |
//! | `PATCH`/`DELETE /_sandbox/sessions/{id}`, `…/speakers/{id}` | change or delete them |
//! | `PATCH /_sandbox/events/{id}` | merge fields into an event, e.g. move its `end` (moves `lastModified`) |
//! | `PUT /_sandbox/webhooks` `{"url", "token"}` | send Cvent webhooks there (after a validation `GET`) for every change above, and for registrations through `POST /ea/attendees` or the registration page |
//! | `GET`/`DELETE /_sandbox/webhooks` | the webhook target (never its token) and deliveries; stop sending |
//!
//! Not control routes, but also outside `/ea`: the registration page of `registration`
//! (`/r/{event code}?i=…`), which an attendee's `webLinks` lead to. Tests read the attendees and
//! contacts created through `/ea` with `/ea` itself (`GET /ea/attendees/{id}`, listings).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, MutexGuard, RwLockReadGuard, RwLockWriteGuard};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;
use super::auth::{Grant, Tokens};
use super::dataset::{Dataset, Modified, timestamp};
use super::faults::Faults;
use super::limits::{RateLimiter, Tier};
use super::listing::Pages;

/// How many recent calls the log keeps.
const LOG_CAPACITY: usize = 10_000;

/// One call as the log keeps it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedCall {
    pub method: String,
    pub route: String,
    pub target: String,
    pub status: u16,
    pub at: String,
}

/// Counts per endpoint (`"GET /ea/attendees"`) and the recent calls.
#[derive(Debug, Default)]
pub struct CallLog {
    total: u64,
    by_endpoint: BTreeMap<String, u64>,
    recent: VecDeque<LoggedCall>,
}

// Locks are never held across an await, and a panic while holding one is a sandbox bug; recover
// the data rather than poisoning every later request.
impl Shared {
    pub(crate) fn read_data(&self) -> RwLockReadGuard<'_, Dataset> {
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }
    pub(crate) fn write_data(&self) -> RwLockWriteGuard<'_, Dataset> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }
    pub(crate) fn lock_tokens(&self) -> MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub(crate) fn lock_pages(&self) -> MutexGuard<'_, Pages> {
        self.pages.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub(crate) fn lock_limiter(&self) -> MutexGuard<'_, RateLimiter> {
        self.limiter.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub(crate) fn faults(&self) -> RwLockReadGuard<'_, Faults> {
        self.faults.read().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_calls(&self) -> MutexGuard<'_, CallLog> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn grant(&self, token: &str) -> Option<Grant> {
        self.lock_tokens().grant(token, self.clock.now()).cloned()
    }

    pub(crate) fn log_call(&self, method: &str, route: &str, target: &str, status: u16) {
        let at = timestamp(self.clock.now());
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
            target: target.to_string(),
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
        .route("/_sandbox/tier", put(set_tier))
        .route("/_sandbox/usage", put(set_usage))
        .route("/_sandbox/faults", get(get_faults).put(set_faults))
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
        .route("/_sandbox/events/{id}", patch(change_event))
        .route(
            "/_sandbox/webhooks",
            get(webhook_target)
                .put(set_webhook_target)
                .delete(stop_webhooks),
        )
        .with_state(shared)
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": message.into()}))).into_response()
}

async fn info(State(shared): SharedState) -> Response {
    let data = shared.read_data();
    axum::Json(json!({
        "eventId": shared.event_id,
        "eventCode": shared.event_code,
        "clientId": shared.config.client_id,
        "seed": shared.config.seed,
        "tier": shared.lock_limiter().tier(),
        "attendees": data.live_attendee_count(),
        "events": shared
            .live_events
            .iter()
            .enumerate()
            .map(|(part, (id, code))| {
                json!({"id": id, "code": code, "attendees": data.live_attendees_of(part)})
            })
            .collect::<Vec<_>>(),
        "sessions": data.sessions.live().count(),
        "speakers": data.speakers.live().count(),
        "now": timestamp(shared.clock.now()),
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
#[serde(rename_all = "camelCase")]
struct ClockChange {
    now: Option<String>,
    advance_seconds: Option<i64>,
}

async fn set_clock(
    State(shared): SharedState,
    axum::Json(change): axum::Json<ClockChange>,
) -> Response {
    if let Some(now) = change.now {
        match chrono::DateTime::parse_from_rfc3339(&now) {
            Ok(at) => shared.clock.set(at.with_timezone(&chrono::Utc)),
            Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("now: {e}")),
        }
    }
    if let Some(seconds) = change.advance_seconds {
        shared.clock.advance(chrono::Duration::seconds(seconds));
    }
    axum::Json(json!({"now": timestamp(shared.clock.now())})).into_response()
}

#[derive(Deserialize)]
struct TierChange {
    tier: String,
}

async fn set_tier(
    State(shared): SharedState,
    axum::Json(change): axum::Json<TierChange>,
) -> Response {
    match Tier::parse(&change.tier) {
        Some(tier) => {
            shared.lock_limiter().set_tier(tier);
            StatusCode::NO_CONTENT.into_response()
        }
        None => refuse(
            StatusCode::BAD_REQUEST,
            "tier must be free, standard, premium or unlimited",
        ),
    }
}

#[derive(Deserialize)]
struct UsageChange {
    used: u64,
}

async fn set_usage(
    State(shared): SharedState,
    axum::Json(change): axum::Json<UsageChange>,
) -> StatusCode {
    let today = shared.clock.now().date_naive();
    shared.lock_limiter().set_used(today, change.used);
    StatusCode::NO_CONTENT
}

async fn get_faults(State(shared): SharedState) -> Response {
    axum::Json(shared.faults().clone()).into_response()
}

async fn set_faults(
    State(shared): SharedState,
    axum::Json(faults): axum::Json<Faults>,
) -> Response {
    *shared.faults.write().unwrap_or_else(|p| p.into_inner()) = faults.clone();
    axum::Json(faults).into_response()
}

async fn expire_tokens(State(shared): SharedState) -> StatusCode {
    shared.lock_tokens().expire_all();
    StatusCode::NO_CONTENT
}

/// Merges `patch` (a JSON object) into `record`, keeping `id` as it is.
fn merge<T: Serialize + serde::de::DeserializeOwned>(
    record: &T,
    patch: &Value,
) -> Result<T, String> {
    let mut value = serde_json::to_value(record).map_err(|e| e.to_string())?;
    merge_values(&mut value, patch);
    serde_json::from_value(value).map_err(|e| format!("the change does not fit the record: {e}"))
}

fn merge_values(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if key == "id" {
                    continue;
                }
                match target.get_mut(key) {
                    Some(existing) if value.is_object() => merge_values(existing, value),
                    _ if value.is_null() => {
                        target.remove(key);
                    }
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// Which live event a change is for: `?event=<code or id>`, the main event when absent.
#[derive(Deserialize, Default)]
struct EventChoice {
    event: Option<String>,
}

impl Shared {
    /// The attendee part of the live event a control call names; `None` for an unknown event.
    fn chosen_part(&self, choice: &EventChoice) -> Option<usize> {
        let Some(wanted) = choice.event.as_deref() else {
            return Some(0);
        };
        self.live_events.iter().position(|(id, code)| {
            id.eq_ignore_ascii_case(wanted) || code.eq_ignore_ascii_case(wanted)
        })
    }
}

async fn add_attendee(
    State(shared): SharedState,
    Query(choice): Query<EventChoice>,
    body: Option<axum::Json<Value>>,
) -> Response {
    let Some(part) = shared.chosen_part(&choice) else {
        let wanted = choice.event.unwrap_or_default();
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no live event with code or id '{wanted}'"),
        );
    };
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let position = data.part_end(part);
    let Some(mut attendee) = data.template_attendee(position) else {
        return refuse(StatusCode::NOT_FOUND, "no such event");
    };
    let (token, web_links) = super::registration::new_links(&shared, part);
    attendee.web_links = Some(web_links);
    if let Some(axum::Json(patch)) = body {
        attendee = match merge(&attendee, &patch) {
            Ok(attendee) => attendee,
            Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
        };
    }
    attendee.created = now.clone();
    if let Some(position) = data.add_attendee(part, attendee.clone(), &now) {
        data.link_registration(token, position);
    }
    attendee.touch(&now);
    drop(data);
    emit_attendee(&shared, &attendee, &now);
    (StatusCode::CREATED, axum::Json(attendee)).into_response()
}

async fn change_attendee(
    State(shared): SharedState,
    Path(id): Path<String>,
    axum::Json(patch): axum::Json<Value>,
) -> Response {
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let Some((position, current)) = data.attendee_by_id(&id) else {
        return refuse(StatusCode::NOT_FOUND, format!("no attendee {id}"));
    };
    let mut changed = match merge(current.as_ref(), &patch) {
        Ok(changed) => changed,
        Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
    };
    changed.touch(&now);
    data.put_attendee(position, changed.clone(), &now);
    drop(data);
    emit_attendee(&shared, &changed, &now);
    axum::Json(changed).into_response()
}

async fn cancel_attendee(State(shared): SharedState, Path(id): Path<String>) -> Response {
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let Some((position, current)) = data.attendee_by_id(&id) else {
        return refuse(StatusCode::NOT_FOUND, format!("no attendee {id}"));
    };
    let mut cancelled = current.into_owned();
    cancelled.status = "Cancelled".into();
    cancelled.registration_cancelled_at = Some(now.clone());
    data.put_attendee(position, cancelled.clone(), &now);
    cancelled.touch(&now);
    drop(data);
    emit_attendee(&shared, &cancelled, &now);
    axum::Json(cancelled).into_response()
}

async fn delete_attendee(State(shared): SharedState, Path(id): Path<String>) -> Response {
    let mut data = shared.write_data();
    let Some(position) = data.attendee_position(&id) else {
        return refuse(StatusCode::NOT_FOUND, format!("no attendee {id}"));
    };
    data.delete_attendee(position);
    StatusCode::NO_CONTENT.into_response()
}

macro_rules! held_changes {
    ($change:ident, $delete:ident, $field:ident, $what:literal, $updated:literal, $deleted:literal, $message:path) => {
        async fn $change(
            State(shared): SharedState,
            Path(id): Path<String>,
            axum::Json(patch): axum::Json<Value>,
        ) -> Response {
            let now = timestamp(shared.clock.now());
            let mut data = shared.write_data();
            let Some(position) = data.$field.position_of(&id) else {
                return refuse(
                    StatusCode::NOT_FOUND,
                    format!(concat!("no ", $what, " {}"), id),
                );
            };
            let Some(current) = data.$field.get(position) else {
                return refuse(
                    StatusCode::NOT_FOUND,
                    format!(concat!("no ", $what, " {}"), id),
                );
            };
            let mut changed = match merge(current, &patch) {
                Ok(changed) => changed,
                Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
            };
            changed.touch(&now);
            data.$field.replace(position, changed.clone());
            drop(data);
            let shown = serde_json::to_value(&changed).unwrap_or_default();
            super::webhooks::emit(&shared.webhooks, $updated, &now, $message(&shown));
            axum::Json(changed).into_response()
        }

        async fn $delete(State(shared): SharedState, Path(id): Path<String>) -> Response {
            let now = timestamp(shared.clock.now());
            let mut data = shared.write_data();
            match data.$field.position_of(&id) {
                Some(position) => {
                    let shown = data
                        .$field
                        .get(position)
                        .and_then(|record| serde_json::to_value(record).ok())
                        .unwrap_or_default();
                    data.$field.delete(position);
                    drop(data);
                    super::webhooks::emit(&shared.webhooks, $deleted, &now, $message(&shown));
                    StatusCode::NO_CONTENT.into_response()
                }
                None => refuse(
                    StatusCode::NOT_FOUND,
                    format!(concat!("no ", $what, " {}"), id),
                ),
            }
        }
    };
}

held_changes!(
    change_session,
    delete_session,
    sessions,
    "session",
    "SessionUpdated",
    "SessionDeleted",
    super::webhooks::session_message
);
held_changes!(
    change_speaker,
    delete_speaker,
    speakers,
    "speaker",
    "SpeakerUpdated",
    "SpeakerDeleted",
    super::webhooks::speaker_message
);

/// Reschedules or renames an event. Cvent sends no webhook for event changes.
async fn change_event(
    State(shared): SharedState,
    Path(id): Path<String>,
    axum::Json(patch): axum::Json<Value>,
) -> Response {
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let Some((position, current)) = data
        .events
        .position_of(&id)
        .and_then(|position| data.events.get(position).map(|event| (position, event)))
    else {
        return refuse(StatusCode::NOT_FOUND, format!("no event {id}"));
    };
    let mut changed = match merge(current, &patch) {
        Ok(changed) => changed,
        Err(reason) => return refuse(StatusCode::BAD_REQUEST, reason),
    };
    changed.touch(&now);
    data.events.replace(position, changed.clone());
    axum::Json(changed).into_response()
}

/// The webhook an attendee's status calls for: accepted and cancelled registrations only. Every
/// change to an attendee, whoever makes it (this API, a registration through `/ea`, the
/// registration page), sends it the same way.
pub(super) fn emit_attendee<T: Serialize>(shared: &Shared, attendee: &T, now: &str) {
    let shown = serde_json::to_value(attendee).unwrap_or_default();
    let event_type = match shown["status"].as_str() {
        Some("Accepted") => "InviteeOrGuestAccepted",
        Some("Cancelled") => "InviteeOrGuestCancelled",
        _ => return,
    };
    super::webhooks::emit(
        &shared.webhooks,
        event_type,
        now,
        super::webhooks::invitee_message(&shown),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookTarget {
    url: String,
    token: String,
}

async fn set_webhook_target(
    State(shared): SharedState,
    axum::Json(body): axum::Json<WebhookTarget>,
) -> Response {
    let target = super::webhooks::Target {
        url: body.url,
        token: body.token,
    };
    if let Err(reason) = shared.webhooks.validate(&target).await {
        return refuse(StatusCode::BAD_REQUEST, reason);
    }
    let url = target.url.clone();
    shared.webhooks.set_target(Some(target));
    axum::Json(json!({"url": url})).into_response()
}

async fn webhook_target(State(shared): SharedState) -> Response {
    axum::Json(json!({
        "url": shared.webhooks.target().map(|target| target.url),
        "delivered": shared.webhooks.delivered(),
        "failed": shared.webhooks.failed(),
    }))
    .into_response()
}

async fn stop_webhooks(State(shared): SharedState) -> StatusCode {
    shared.webhooks.set_target(None);
    StatusCode::NO_CONTENT
}
