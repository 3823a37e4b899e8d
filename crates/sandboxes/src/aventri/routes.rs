//! The `/api/v2` functions behind one gate (queued faults → rate limit → access token → event
//! access → function → gateway size limit → call log), and the file host for photos.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use super::dataset::{Kind, ModifiedWindow};
use super::generate::{DATETIME_FORMAT, Generator};
use super::{Grant, Shared};
use crate::latency::CallKind;

type SharedState = State<Arc<Shared>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v2/{module}/{function}", any(api))
        .route("/files/uploads/{file}", get(upload))
        .route("/files/speakers/{file}", get(speaker_photo))
        .layer(axum::middleware::map_response_with_state(
            shared.clone(),
            stamp_date,
        ))
        .with_state(shared)
}

/// Every answer states the sandbox clock's time, as a server states its own.
async fn stamp_date(State(shared): SharedState, mut response: Response) -> Response {
    shared.clock.stamp(&mut response);
    response
}

/// What a function answers before the gateway looks at its size.
enum Answer {
    Ok(Value),
    /// An Aventri error object: `{"error": {field: message}}`.
    Error(&'static str, String),
    /// An error object with a fixed HTTP status (throttling).
    Status(StatusCode, Value),
}

fn error(field: &'static str, message: impl Into<String>) -> Answer {
    Answer::Error(field, message.into())
}

/// Query parameters, and for POST the form body's too (the query wins on a clash).
fn parameters(query: Option<&str>, body: &[u8]) -> HashMap<String, String> {
    let mut found: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    if let Some(query) = query {
        found.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
    }
    found
}

async fn api(
    State(shared): SharedState,
    Path((module, function)): Path<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let route = format!("/api/v2/{module}/{function}");
    let params = parameters(query.as_deref(), &body);
    let answer = answer(&shared, &module, &function, &params);
    // Throttled calls are refused at once, as a gateway refuses them before the backend works;
    // every other answer takes the vendor's time, waited with no lock held, so concurrent
    // calls wait side by side.
    if !matches!(answer, Answer::Status(StatusCode::TOO_MANY_REQUESTS, _)) {
        let kind = if module == "global" && function == "authorize.json" {
            CallKind::Token
        } else if function.starts_with("list") {
            CallKind::Page
        } else {
            CallKind::Object
        };
        shared.latency.wait(kind).await;
    }
    let settings = shared.settings();
    let response = match answer {
        Answer::Ok(value) => {
            let text = value.to_string();
            if text.len() > settings.max_response_bytes {
                // The API gateway's answer to an oversized payload.
                (
                    StatusCode::BAD_GATEWAY,
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"message": "Bad Gateway"}"#.to_string(),
                )
                    .into_response()
            } else {
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    text,
                )
                    .into_response()
            }
        }
        Answer::Error(field, message) => {
            let status =
                StatusCode::from_u16(settings.logical_error_status).unwrap_or(StatusCode::OK);
            (status, axum::Json(json!({"error": {field: message}}))).into_response()
        }
        Answer::Status(status, body) => (status, axum::Json(body)).into_response(),
    };
    // The log never keeps the token or the key.
    shared.log_call(method.as_str(), &route, response.status().as_u16());
    response
}

fn answer(
    shared: &Shared,
    module: &str,
    function: &str,
    params: &HashMap<String, String>,
) -> Answer {
    if let Some(status) = shared.lock_faults().pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Answer::Status(
            status,
            json!({"message": status.canonical_reason().unwrap_or("error")}),
        );
    }
    let is_authorize = module == "global" && function == "authorize.json";
    let grant = if is_authorize {
        None
    } else {
        params
            .get("accesstoken")
            .and_then(|token| shared.lock_tokens().get(token).cloned())
            .filter(|grant| grant.expires_at > shared.clock.now())
    };
    // The requester the limit counts against: the key, or the token presented.
    let requester = match (&grant, is_authorize) {
        (Some(grant), _) => grant.key.clone(),
        (None, true) => params.get("key").cloned().unwrap_or_default(),
        (None, false) => params.get("accesstoken").cloned().unwrap_or_default(),
    };
    if !shared.admit(&requester) {
        return Answer::Status(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": {"data": format!(
                "Too many requests: the limit is {} requests per minute",
                shared.settings().requests_per_minute
            )}}),
        );
    }
    if is_authorize {
        return authorize(shared, params);
    }
    let Some(grant) = grant else {
        return error("accesstoken", "Invalid or expired accesstoken");
    };
    match (module, function) {
        ("ereg", "getEvent.json") => with_event(shared, &grant, params, |_, generator| {
            Answer::Ok(generator.event())
        }),
        ("ereg", "listAttendees.json") => with_event(shared, &grant, params, |main, _| {
            list_attendees(shared, main, params)
        }),
        ("ereg", "getAttendee.json") => with_event(shared, &grant, params, |main, _| {
            get_one(shared, main, Kind::Attendees, params.get("attendeeid"))
        }),
        ("ereg", "listSessions.json") => with_event(shared, &grant, params, |main, _| {
            list(shared, main, Kind::Sessions, params)
        }),
        ("ereg", "getSession.json") => with_event(shared, &grant, params, |main, _| {
            let answer = get_one(shared, main, Kind::Sessions, params.get("sessionid"));
            match answer {
                // Sessions are looked up by id and key together.
                Answer::Ok(session)
                    if params.get("sessionkey").map(String::as_str)
                        != session["sessionkey"].as_str() =>
                {
                    error("sessionkey", "Invalid sessionkey")
                }
                other => other,
            }
        }),
        ("ereg", "listSpeakers.json") => with_event(shared, &grant, params, |main, _| {
            list(shared, main, Kind::Speakers, params)
        }),
        ("ereg", "getSpeaker.json") => with_event(shared, &grant, params, |main, _| {
            get_one(shared, main, Kind::Speakers, params.get("speakerid"))
        }),
        ("ereg", "listCategories.json") => with_event(shared, &grant, params, |main, generator| {
            if main {
                Answer::Ok(generator.categories())
            } else {
                error("data", "No categories found")
            }
        }),
        _ => error("data", format!("Unknown function {module}/{function}")),
    }
}

fn authorize(shared: &Shared, params: &HashMap<String, String>) -> Answer {
    let config = &shared.config;
    let account_ok = params.get("accountid") == Some(&config.account_id);
    let key = params.get("key").cloned().unwrap_or_default();
    let events = if key == config.master_key {
        None
    } else if key == config.limited_key {
        Some(vec![shared.read_data().generator().other_event_id()])
    } else {
        return error("key", "Invalid accountid or key");
    };
    if !account_ok {
        return error("accountid", "Invalid accountid or key");
    }
    let counter = shared
        .token_counter
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let token = crate::seeded::uuid_v4(
        crate::seeded::draw(config.seed, counter, 0xA77),
        crate::seeded::mix(shared.clock.now().timestamp_nanos_opt().unwrap_or_default() as u64),
    )
    .simple()
    .to_string();
    let ttl = chrono::Duration::seconds(shared.settings().token_ttl_seconds as i64);
    shared.lock_tokens().insert(
        token.clone(),
        Grant {
            key,
            events,
            expires_at: shared.clock.now() + ttl,
        },
    );
    Answer::Ok(json!({"accesstoken": token}))
}

/// Checks `eventid` against the account and the key, then runs `then(is_main_event, generator)`.
fn with_event(
    shared: &Shared,
    grant: &Grant,
    params: &HashMap<String, String>,
    then: impl FnOnce(bool, &Generator) -> Answer,
) -> Answer {
    let Some(event_id) = params.get("eventid") else {
        return error("eventid", "Missing required parameter eventid");
    };
    let generator = shared.read_data().generator().clone();
    let main = *event_id == generator.event_id();
    if !main && *event_id != generator.other_event_id() {
        return error("eventid", "Invalid eventid");
    }
    if let Some(allowed) = &grant.events
        && !allowed.contains(event_id)
    {
        return error("eventid", "This API key does not have access to this event");
    }
    then(main, &generator)
}

/// `offset` and `limit`, or the error object naming the bad one.
fn paging(shared: &Shared, params: &HashMap<String, String>) -> Result<(u64, u64), Answer> {
    let number = |name: &'static str, default: u64| match params.get(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|_| error(name, format!("Invalid {name}: expected a whole number"))),
    };
    let offset = number("offset", 0)?;
    let limit = number("limit", shared.settings().default_limit)?;
    if limit == 0 {
        return Err(error("limit", "Invalid limit: must be at least 1"));
    }
    Ok((offset, limit))
}

/// A `lastmodified` bound as `YYYY-MM-DD HH:MM:SS`, accepting a bare date.
fn bound(params: &HashMap<String, String>, name: &'static str) -> Result<Option<String>, Answer> {
    let Some(text) = params.get(name) else {
        return Ok(None);
    };
    let text = text.trim();
    if chrono::NaiveDateTime::parse_from_str(text, DATETIME_FORMAT).is_ok() {
        return Ok(Some(text.to_string()));
    }
    if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() {
        return Ok(Some(format!("{text} 00:00:00")));
    }
    Err(error(
        name,
        format!("Invalid date {text}: expected YYYY-MM-DD HH:MM:SS"),
    ))
}

fn window(params: &HashMap<String, String>) -> Result<ModifiedWindow, Answer> {
    Ok(ModifiedWindow {
        after: bound(params, "lastmodified-gt")?,
        from: bound(params, "modifiedfrom")?,
        before: bound(params, "lastmodified-lt")?,
    })
}

fn none_found(kind: Kind) -> Answer {
    error("data", format!("No {} found", kind.plural()))
}

fn list(shared: &Shared, main: bool, kind: Kind, params: &HashMap<String, String>) -> Answer {
    let (offset, limit) = match paging(shared, params) {
        Ok(paging) => paging,
        Err(answer) => return answer,
    };
    let window = match window(params) {
        Ok(window) => window,
        Err(answer) => return answer,
    };
    if !main {
        return none_found(kind);
    }
    let records = shared.read_data().list(kind, &window, offset, limit);
    if records.is_empty() {
        return none_found(kind);
    }
    Answer::Ok(Value::Array(records))
}

/// The columns `listAttendees` answers without `fields`.
const SUMMARY: [&str; 5] = [
    "attendeeid",
    "name",
    "email",
    "registrationstatus",
    "lastmodified",
];

/// The columns summaries add when the `summaryNames` setting is on.
const SUMMARY_NAMES: [&str; 2] = ["fname", "lname"];

fn list_attendees(shared: &Shared, main: bool, params: &HashMap<String, String>) -> Answer {
    let records = match list(shared, main, Kind::Attendees, params) {
        Answer::Ok(Value::Array(records)) => records,
        other => return other,
    };
    let requested: Option<Vec<String>> = params
        .get("fields")
        .filter(|_| shared.settings().fields_parameter)
        .map(|fields| {
            fields
                .split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect()
        });
    let columns: Vec<String> = match requested {
        Some(mut columns) => {
            if !columns.iter().any(|c| c == "attendeeid") {
                columns.insert(0, "attendeeid".to_string());
            }
            columns
        }
        None => {
            let names: &[&str] = if shared.settings().summary_names {
                &SUMMARY_NAMES
            } else {
                &[]
            };
            SUMMARY.iter().chain(names).map(|c| c.to_string()).collect()
        }
    };
    let projected = records
        .into_iter()
        .map(|record| {
            let mut row = serde_json::Map::new();
            for column in &columns {
                if let Some(value) = record.get(column) {
                    row.insert(column.clone(), value.clone());
                }
            }
            Value::Object(row)
        })
        .collect();
    Answer::Ok(Value::Array(projected))
}

fn get_one(shared: &Shared, main: bool, kind: Kind, id: Option<&String>) -> Answer {
    let field = kind.id_field();
    let Some(id) = id else {
        return error(field, format!("Missing required parameter {field}"));
    };
    let found = if main {
        shared.read_data().get(kind, id)
    } else {
        None
    };
    match found {
        Some(record) => Answer::Ok(record),
        None => error(field, format!("Invalid {field}")),
    }
}

/// A few bytes that begin like a JPEG: enough for a client to check type and size.
fn photo_bytes(id: &str) -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    bytes.extend(id.bytes());
    bytes.extend([0xFF, 0xD9]);
    bytes
}

fn photo(shared: &Shared, file: &str, exists: impl Fn(&str) -> bool) -> Response {
    let id = file.strip_suffix(".jpg").unwrap_or(file);
    let status = if exists(id) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    shared.log_call("GET", "/files", status.as_u16());
    if status != StatusCode::OK {
        return (status, "Not Found").into_response();
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("image/jpeg"),
    );
    (StatusCode::OK, headers, photo_bytes(id)).into_response()
}

async fn upload(State(shared): SharedState, Path(file): Path<String>) -> Response {
    photo(&shared, &file, |id| {
        shared
            .read_data()
            .get(Kind::Attendees, id)
            .is_some_and(|a| {
                a["responses"][super::generate::PHOTO_QUESTION_ID]["response"]
                    .as_str()
                    .is_some_and(|url| !url.is_empty())
            })
    })
}

async fn speaker_photo(State(shared): SharedState, Path(file): Path<String>) -> Response {
    photo(&shared, &file, |id| {
        shared.read_data().get(Kind::Speakers, id).is_some()
    })
}

impl Shared {
    /// Counts a call against the requester's minute; `false` when it is over the limit.
    fn admit(&self, requester: &str) -> bool {
        let now = self.clock.now();
        let limit = self.settings().requests_per_minute as usize;
        let mut windows = self.lock_windows();
        let window = windows.entry(requester.to_string()).or_default();
        while window
            .front()
            .is_some_and(|at| now - *at >= chrono::Duration::minutes(1))
        {
            window.pop_front();
        }
        if window.len() >= limit {
            return false;
        }
        window.push_back(now);
        true
    }
}
