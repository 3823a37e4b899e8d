//! The `/ea` endpoints: one gate for auth, scopes, rate limits and faults, then the handlers.

// Handlers return ready axum responses as their errors; boxing them would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Query, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use super::Shared;
use super::auth::{Grant, SENSITIVE_SCOPE, required_scope};
use super::dataset::timestamp;
use super::faults::Injection;
use super::filter::{Filter, Filterable, rules as filter_rules};
use super::limits::Refusal;
use super::listing::{
    BadListing, Collection, Page, Query as ListQuery, first_cursor, parse_instant, parse_limit,
    parse_sort, render,
};
use super::wire::{
    AIR_REQUEST_SORT, AirRequest, Attendee, CustomField, Enrollment, Event, EventQuestion,
    Exhibitor, HOTEL_REQUEST_SORT, HotelRequest, Session, SessionLocation, Speaker,
};
use crate::latency::CallKind;

type Shared_ = Arc<Shared>;

pub(super) fn router(shared: Shared_) -> Router {
    Router::new()
        .route("/ea/oauth2/token", post(token))
        .route("/ea/events", get(list_events))
        .route("/ea/events/filter", post(filter_events))
        .route("/ea/events/{id}", get(get_event))
        .route(
            "/ea/attendees",
            get(list_attendees).post(super::invitees::create_attendees),
        )
        .route("/ea/contacts", post(super::invitees::create_contacts))
        .route("/ea/attendees/filter", post(filter_attendees))
        .route("/ea/attendees/{id}", get(get_attendee).put(put_attendee))
        .route("/ea/sessions", get(list_sessions))
        .route("/ea/sessions/filter", post(filter_sessions))
        .route("/ea/speakers", get(list_speakers))
        .route("/ea/speakers/filter", post(filter_speakers))
        .route("/ea/sessions/enrollment", get(list_enrollments))
        .route("/ea/sessions/enrollment/filter", post(filter_enrollments))
        .route(
            "/ea/sessions/{id}/enrollment/{attendeeId}",
            post(enroll).delete(unenroll),
        )
        .route("/ea/events/{id}/check-in", post(check_in))
        .route(
            "/ea/events/{id}/check-in/{attendeeId}",
            delete(undo_check_in),
        )
        .route(
            "/ea/events/{id}/event-travel/air-requests",
            get(list_air_requests),
        )
        .route(
            "/ea/events/{id}/event-travel/hotel-requests",
            get(list_hotel_requests),
        )
        .route("/ea/events/{id}/session-locations", get(list_locations))
        .route(
            "/ea/events/{id}/sponsorship-levels",
            get(sponsorship_levels),
        )
        .route("/ea/events/{id}/exhibitors", get(list_exhibitors))
        .route("/ea/custom-fields", get(list_custom_fields))
        .route("/ea/event-questions", get(list_event_questions))
        .route("/ea/usage", get(usage))
        .route("/ea/usage/tier", get(usage_tier))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .layer(middleware::map_response_with_state(
            shared.clone(),
            stamp_date,
        ))
        .with_state(shared)
}

/// Every answer states the sandbox clock's time, as Cvent's state theirs.
async fn stamp_date(State(shared): State<Shared_>, mut response: Response) -> Response {
    shared.clock.stamp(&mut response);
    response
}

/// Cvent's error body.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": status.as_u16(), "message": message})),
    )
        .into_response()
}

/// A 400 with Cvent's brief message and the precise reason in `details`.
pub(crate) fn bad_request(target: &str, reason: &str) -> Response {
    let body = json!({
        "code": 400,
        "message": "Bad Request",
        "target": target,
        "details": [{"code": 400, "message": reason, "target": target}],
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn not_found_body() -> Response {
    error(StatusCode::NOT_FOUND, "Not found")
}

async fn not_found() -> Response {
    not_found_body()
}

fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Auth, scope, rate limits and injected faults for every `/ea` call, and the call log.
async fn gate(State(shared): State<Shared_>, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let target = request.uri().to_string();
    let response = admit(&shared, &method, &route, &mut request).await;
    let response = match response {
        Ok(()) => {
            // Only admitted calls take a vendor's time: Cvent's gateway refuses a throttled or
            // unauthorised call before any backend work, so a 401, 403 or 429 comes back at
            // once. No lock is held here, so concurrent calls wait side by side.
            shared.latency.wait(call_kind(&method, &route)).await;
            next.run(request).await
        }
        Err(refused) => refused,
    };
    if route.starts_with("/ea") {
        shared.log_call(method.as_str(), &route, &target, response.status().as_u16());
    }
    response
}

/// Whether a call lists a page of records, or does something smaller.
fn call_kind(method: &Method, route: &str) -> CallKind {
    if route == "/ea/oauth2/token" {
        CallKind::Token
    } else if route.ends_with("/filter")
        || (method == Method::GET && !route.ends_with('}') && !route.starts_with("/ea/usage"))
    {
        CallKind::Page
    } else {
        CallKind::Object
    }
}

async fn admit(
    shared: &Shared,
    method: &Method,
    route: &str,
    request: &mut Request,
) -> Result<(), Response> {
    let faults = shared.faults().clone();
    if faults.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
    }
    if route == "/ea/oauth2/token" {
        return Ok(());
    }
    let Some(scope) = required_scope(method.as_str(), route) else {
        return Ok(());
    };
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let grant = bearer.and_then(|token| shared.grant(token));
    let Some(grant) = grant else {
        return Err(error(StatusCode::UNAUTHORIZED, "Unauthorized"));
    };
    if !grant.has(scope) {
        return Err(error(StatusCode::FORBIDDEN, "Access Forbidden"));
    }
    let today = shared.clock.now().date_naive();
    match shared.lock_limiter().admit(today) {
        Ok(()) => {}
        Err(Refusal::Throttled) => {
            return Err(error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"));
        }
        Err(Refusal::QuotaExhausted) => {
            return Err(error(StatusCode::TOO_MANY_REQUESTS, "Limit Exceeded"));
        }
    }
    match shared.dice.roll(&faults) {
        Injection::None => {}
        Injection::ServerError(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Err(error(
                status,
                status.canonical_reason().unwrap_or("Server Error"),
            ));
        }
        Injection::DropConnection => {
            // Headers go out, then the body fails: the client sees the connection cut mid-response.
            let failing = futures_failing_body();
            return Err((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                failing,
            )
                .into_response());
        }
    }
    request.extensions_mut().insert(grant);
    Ok(())
}

fn futures_failing_body() -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"paging\":{")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped by fault injection",
        )),
    ];
    Body::from_stream(futures_util::stream::iter(chunks))
}

// ---- token -------------------------------------------------------------------------------------

async fn token(State(shared): State<Shared_>, headers: HeaderMap, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded_pairs(&body);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match shared.client.authenticate(authorization, &form) {
        Ok(scopes) => {
            let ttl = shared.config.token_ttl;
            let expires_at =
                shared.clock.now() + chrono::Duration::milliseconds(ttl.as_millis() as i64);
            let access_token = shared.lock_tokens().issue(scopes, expires_at);
            axum::Json(json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": ttl.as_secs(),
            }))
            .into_response()
        }
        Err((code, description)) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": code, "error_description": description})),
        )
            .into_response(),
    }
}

fn serde_urlencoded_pairs(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

// ---- listings ----------------------------------------------------------------------------------

type Params = Query<HashMap<String, String>>;

#[derive(serde::Deserialize, Default)]
struct FilterBody {
    filter: Option<String>,
}

fn parse_filter_body(body: &Bytes) -> Result<Option<String>, Response> {
    if body.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice::<FilterBody>(body)
        .map(|b| b.filter)
        .map_err(|e| {
            bad_request(
                "filter",
                &format!("the body must be JSON {{\"filter\": \"...\"}}: {e}"),
            )
        })
}

/// What differs between listing endpoints.
struct Listing {
    collection: Collection,
    filter_fields: &'static [&'static str],
    sort_fields: &'static [&'static str],
    /// Whether `after`/`before` are accepted.
    window: bool,
    /// The query string as sent, for the parameters that may be repeated (`expand`).
    raw_query: Option<String>,
}

fn listing<T: Filterable>(
    collection: Collection,
    sort_fields: &'static [&'static str],
    window: bool,
) -> Listing {
    Listing {
        collection,
        filter_fields: T::FILTER_FIELDS,
        sort_fields,
        window,
        raw_query: None,
    }
}

fn serve_listing(
    shared: &Shared,
    spec: Listing,
    params: &HashMap<String, String>,
    body_filter: Option<String>,
    grant: Option<&Grant>,
    event_scope: Option<&str>,
) -> Response {
    let data = shared.read_data();
    if let Some(event) = event_scope
        && data.events.find(event).is_none()
    {
        return not_found_body();
    }
    let faults = shared.faults().clone();
    // The lock on issued tokens is held only to read a cursor and to record the next one; the
    // page itself is generated without it.
    let (token, cursor) = if let Some(token) = params.get("token") {
        // A token carries its whole query and overrides every other paging parameter.
        match shared.lock_pages().cursor(token) {
            Some((token, cursor)) => (Some(token), cursor),
            None => return bad_request("token", &format!("'{token}' is not a valid page token")),
        }
    } else {
        let mut query = match build_query(&spec, params, body_filter, grant) {
            Ok(query) => query,
            Err(BadListing(reason)) => return bad_request("query", &reason),
        };
        if spec.collection == Collection::Attendees {
            query.expand_questions = match attendee_expansions(spec.raw_query.as_deref(), grant) {
                Ok(expand) => expand,
                Err(refusal) => return refusal,
            };
        }
        query.sensitive |= faults.sensitive_without_scope;
        (None, first_cursor(&data, query, event_scope))
    };
    let rendered = render(&data, cursor, &faults, event_scope);
    let Page { body } = shared.lock_pages().issue(token, rendered, &faults);
    json_bytes(StatusCode::OK, body)
}

fn build_query(
    spec: &Listing,
    params: &HashMap<String, String>,
    body_filter: Option<String>,
    grant: Option<&Grant>,
) -> Result<ListQuery, BadListing> {
    let limit = parse_limit(params.get("limit").map(String::as_str))?;
    let filter_text = body_filter.or_else(|| params.get("filter").cloned());
    let filter = match filter_text.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            if matches!(
                spec.collection,
                Collection::AirRequests | Collection::HotelRequests
            ) {
                check_travel_filter(text)?;
            }
            Some(Filter::parse(text, spec.filter_fields).map_err(|e| BadListing(e.to_string()))?)
        }
    };
    filter_rules::check(spec.collection, filter.as_ref()).map_err(|e| BadListing(e.to_string()))?;
    let (after, before) = if spec.window {
        (
            params.get("after").map(|t| parse_instant(t)).transpose()?,
            params.get("before").map(|t| parse_instant(t)).transpose()?,
        )
    } else {
        (None, None)
    };
    let sort = parse_sort(params.get("sort").map(String::as_str), spec.sort_fields)?;
    Ok(ListQuery {
        collection: spec.collection,
        filter,
        after,
        before,
        limit,
        sort,
        sensitive: grant.is_some_and(|g| g.has(SENSITIVE_SCOPE)),
        expand_questions: false,
    })
}

/// The `expand` values of an attendee request (an array, so `expand=a&expand=b`), each one of
/// the spec's enum and needing its own scope ("the respective scopes for each expansion are
/// required"); whether `answers.question` is among them. `registrationType` is accepted and
/// changes nothing: an attendee's registration type already holds its id, code and name.
fn attendee_expansions(raw_query: Option<&str>, grant: Option<&Grant>) -> Result<bool, Response> {
    let mut questions = false;
    let values = form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == "expand")
        .map(|(_, value)| value.into_owned());
    for value in values {
        let scope = match value.as_str() {
            "answers.question" => {
                questions = true;
                "event/events:read"
            }
            "registrationType" => "event/registration-types:read",
            other => {
                return Err(bad_request(
                    "expand",
                    &format!("expand must be answers.question or registrationType, got '{other}'"),
                ));
            }
        };
        if grant.is_some_and(|g| !g.has(scope)) {
            return Err(error(StatusCode::FORBIDDEN, "Access Forbidden"));
        }
    }
    Ok(questions)
}

/// Travel endpoints accept only `attendee.id eq|ne`, joined by `or`, at most 17 terms.
fn check_travel_filter(text: &str) -> Result<(), BadListing> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c.is_whitespace() || c == '(' || c == ')' => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            None => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    let lowered: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    if lowered.iter().any(|w| w == "and") {
        return Err(BadListing(
            "travel request filters can only combine terms with 'or'".into(),
        ));
    }
    if let Some(op) = lowered
        .iter()
        .find(|w| !matches!(w.as_str(), "attendee.id" | "eq" | "ne" | "or"))
    {
        return Err(BadListing(format!(
            "travel request filters only support 'attendee.id eq|ne', found '{op}'"
        )));
    }
    let terms = lowered.iter().filter(|w| *w == "attendee.id").count();
    if terms > 17 {
        return Err(BadListing(format!(
            "travel request filters allow at most 17 terms, got {terms}"
        )));
    }
    Ok(())
}

const EVENT_SORT: &[&str] = &["start"];
const ATTENDEE_SORT: &[&str] = &[
    "contact.firstName",
    "contact.lastName",
    "contact.title",
    "contact.company",
    "registeredAt",
    "checkIn",
];
/// `relevance` is the score of a `match` filter. The sandbox's `match` keeps the records holding
/// every word and scores them all alike, so sorting on it keeps the listing's own order.
const SESSION_SORT: &[&str] = &[
    "start",
    "end",
    "title",
    "includedSession",
    "category.name",
    "code",
    "relevance",
    "order",
];
const SPEAKER_SORT: &[&str] = &[
    "lastModified",
    "lastName",
    "firstName",
    "company",
    "title",
    "order",
];

macro_rules! list_handlers {
    ($get:ident, $post:ident, $record:ty, $collection:expr, $sort:expr, $window:expr) => {
        async fn $get(
            State(shared): State<Shared_>,
            grant: Option<axum::Extension<Grant>>,
            Query(params): Params,
            RawQuery(raw): RawQuery,
        ) -> Response {
            let mut spec = listing::<$record>($collection, $sort, $window);
            spec.raw_query = raw;
            serve_listing(&shared, spec, &params, None, grant.as_deref(), None)
        }

        async fn $post(
            State(shared): State<Shared_>,
            grant: Option<axum::Extension<Grant>>,
            Query(params): Params,
            RawQuery(raw): RawQuery,
            body: Bytes,
        ) -> Response {
            let body_filter = match parse_filter_body(&body) {
                Ok(filter) => filter,
                Err(response) => return response,
            };
            let mut spec = listing::<$record>($collection, $sort, $window);
            spec.raw_query = raw;
            serve_listing(&shared, spec, &params, body_filter, grant.as_deref(), None)
        }
    };
}

list_handlers!(
    list_events,
    filter_events,
    Event,
    Collection::Events,
    EVENT_SORT,
    true
);
list_handlers!(
    list_attendees,
    filter_attendees,
    Attendee,
    Collection::Attendees,
    ATTENDEE_SORT,
    true
);
list_handlers!(
    list_sessions,
    filter_sessions,
    Session,
    Collection::Sessions,
    SESSION_SORT,
    true
);
list_handlers!(
    list_speakers,
    filter_speakers,
    Speaker,
    Collection::Speakers,
    SPEAKER_SORT,
    false
);
list_handlers!(
    list_enrollments,
    filter_enrollments,
    Enrollment,
    Collection::Enrollments,
    &[],
    true
);

macro_rules! event_list_handler {
    ($name:ident, $record:ty, $collection:expr, $sort:expr, $window:expr) => {
        async fn $name(
            State(shared): State<Shared_>,
            grant: Option<axum::Extension<Grant>>,
            Path(event): Path<String>,
            Query(params): Params,
        ) -> Response {
            let spec = listing::<$record>($collection, $sort, $window);
            serve_listing(&shared, spec, &params, None, grant.as_deref(), Some(&event))
        }
    };
}

event_list_handler!(
    list_air_requests,
    AirRequest,
    Collection::AirRequests,
    AIR_REQUEST_SORT,
    true
);
event_list_handler!(
    list_hotel_requests,
    HotelRequest,
    Collection::HotelRequests,
    HOTEL_REQUEST_SORT,
    true
);
event_list_handler!(
    list_locations,
    SessionLocation,
    Collection::SessionLocations,
    &[],
    false
);
event_list_handler!(
    list_exhibitors,
    Exhibitor,
    Collection::Exhibitors,
    &[],
    true
);

async fn list_custom_fields(
    State(shared): State<Shared_>,
    grant: Option<axum::Extension<Grant>>,
    Query(params): Params,
) -> Response {
    let spec = listing::<CustomField>(Collection::CustomFields, &[], true);
    serve_listing(&shared, spec, &params, None, grant.as_deref(), None)
}

async fn list_event_questions(
    State(shared): State<Shared_>,
    grant: Option<axum::Extension<Grant>>,
    Query(params): Params,
) -> Response {
    let spec = listing::<EventQuestion>(Collection::EventQuestions, &[], true);
    serve_listing(&shared, spec, &params, None, grant.as_deref(), None)
}

// ---- single records ----------------------------------------------------------------------------

async fn get_event(State(shared): State<Shared_>, Path(id): Path<String>) -> Response {
    match shared.read_data().events.find(&id) {
        Some(event) => axum::Json(event).into_response(),
        None => not_found_body(),
    }
}

async fn get_attendee(
    State(shared): State<Shared_>,
    grant: Option<axum::Extension<Grant>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let expand_questions = match attendee_expansions(raw.as_deref(), grant.as_deref()) {
        Ok(expand) => expand,
        Err(refusal) => return refusal,
    };
    let data = shared.read_data();
    let Some((_, attendee)) = data.attendee_by_id(&id) else {
        return not_found_body();
    };
    let mut attendee = attendee.into_owned();
    if !grant.is_some_and(|g| g.has(SENSITIVE_SCOPE)) {
        attendee.contact.strip_sensitive();
    }
    if expand_questions {
        super::listing::expand_questions(&mut attendee, &super::listing::questions_by_id(&data));
    }
    axum::Json(attendee).into_response()
}

/// Status changes `PUT /attendees/{id}` allows, from the spec's description of the body.
pub(crate) fn transition_allowed(from: &str, to: &str) -> bool {
    from == to
        || matches!(
            (from, to),
            (
                "No Response",
                "Visited" | "Accepted" | "Declined" | "Pending Approval"
            ) | ("Cancelled", "Accepted" | "Pending Approval")
                | ("Visited", "Accepted" | "Pending Approval")
                | ("Declined", "Accepted" | "Pending Approval")
                | ("Accepted", "Cancelled")
                | ("Pending Approval", "Accepted" | "Denied Approval")
                | ("Denied Approval", "Pending Approval")
        )
}

/// Top-level attendee fields a PUT may set besides `status`.
const ATTENDEE_WRITABLE: &[&str] = &[
    "invitationList",
    "referenceId",
    "note",
    "administrator",
    "registrationType",
    "registrationPath",
    "admissionItem",
    "unsubscribed",
    "visibility",
    "bio",
    "websiteUrl",
    "externalReferences",
];

async fn put_attendee(
    State(shared): State<Shared_>,
    grant: Option<axum::Extension<Grant>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(update) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("body", "the body must be a JSON attendee update");
    };
    let mut data = shared.write_data();
    let Some((position, current)) = data.attendee_by_id(&id) else {
        return not_found_body();
    };
    let current = current.into_owned();
    for required in ["event", "contact", "status"] {
        if update.get(required).is_none() {
            return bad_request(required, &format!("'{required}' is required"));
        }
    }
    let event_id = update
        .pointer("/event/id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !event_id.eq_ignore_ascii_case(&current.event.id) {
        return bad_request("event.id", "event.id does not match the attendee's event");
    }
    let contact_id = update
        .pointer("/contact/id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !contact_id.eq_ignore_ascii_case(&current.contact.id) {
        return bad_request(
            "contact.id",
            "contact.id does not match the attendee's contact",
        );
    }
    let status = update
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !super::wire::ATTENDEE_STATUSES.contains(&status) || status == "Waitlisted" {
        return bad_request(
            "status",
            &format!("'{status}' is not a status an update can set"),
        );
    }
    if !transition_allowed(&current.status, status) {
        return bad_request(
            "status",
            &format!(
                "an attendee cannot move from '{}' to '{status}'",
                current.status
            ),
        );
    }
    let mut record = match serde_json::to_value(&current) {
        Ok(record) => record,
        Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    };
    if let (Some(fields), Some(target)) = (update.as_object(), record.as_object_mut()) {
        for (key, value) in fields {
            if ATTENDEE_WRITABLE.contains(&key.as_str()) {
                target.insert(key.clone(), value.clone());
            }
        }
        target.insert("status".into(), Value::String(status.to_string()));
    }
    let mut updated: Attendee = match serde_json::from_value(record) {
        Ok(updated) => updated,
        Err(e) => return bad_request("body", &format!("invalid attendee field: {e}")),
    };
    let now = timestamp(shared.clock.now());
    if status == "Cancelled" && current.status != "Cancelled" {
        updated.registration_cancelled_at = Some(now.clone());
    }
    updated.attendee_last_modified = Some(now.clone());
    updated.last_modified = now.clone();
    data.put_attendee(position, updated.clone(), &now);
    if !grant.is_some_and(|g| g.has(SENSITIVE_SCOPE)) {
        updated.contact.strip_sensitive();
    }
    axum::Json(updated).into_response()
}

// ---- session enrollment ------------------------------------------------------------------------

async fn enroll(
    State(shared): State<Shared_>,
    Path((session_id, attendee_id)): Path<(String, String)>,
) -> Response {
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let Some(session) = data.sessions.find(&session_id).cloned() else {
        return not_found_body();
    };
    let Some((position, attendee)) = data.attendee_by_id(&attendee_id) else {
        return not_found_body();
    };
    let attendee_id = attendee.id.clone();
    if session.status != "Active" {
        return bad_request(
            "session",
            &format!(
                "session '{}' is {} and open for no registrations",
                session.title, session.status
            ),
        );
    }
    let mut enrollments = data.enrollments(position).into_owned();
    let existing = enrollments
        .iter()
        .position(|e| e.session.id.eq_ignore_ascii_case(&session.id));
    if let Some(index) = existing
        && matches!(
            enrollments[index].status.as_str(),
            "Registered" | "Waitlisted"
        )
        && !enrollments[index].deleted
    {
        return StatusCode::NO_CONTENT.into_response();
    }
    let registered = data.registered_count(&session.id);
    let full = session.capacity_unlimited != Some(true)
        && session
            .capacity
            .is_some_and(|capacity| registered >= u64::from(capacity));
    let status = if !full {
        "Registered"
    } else if session.enable_waitlist == Some(true) {
        "Waitlisted"
    } else {
        return bad_request(
            "session",
            &format!(
                "session '{}' is at capacity ({registered} registered)",
                session.title
            ),
        );
    };
    let enrollment = Enrollment {
        id: format!("{}::{}", session.id, attendee_id),
        session: super::wire::IdRef {
            id: session.id.clone(),
        },
        event: super::wire::IdRef {
            id: session.event.id.clone(),
        },
        attendee: super::wire::IdRef { id: attendee_id },
        deleted: false,
        status: status.to_string(),
        created: now.clone(),
        created_by: Some("api".into()),
        last_modified: now.clone(),
        last_modified_by: Some("api".into()),
    };
    match existing {
        Some(index) => enrollments[index] = enrollment,
        None => enrollments.push(enrollment),
    }
    data.set_enrollments(position, enrollments);
    StatusCode::NO_CONTENT.into_response()
}

async fn unenroll(
    State(shared): State<Shared_>,
    Path((session_id, attendee_id)): Path<(String, String)>,
) -> Response {
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    if data.sessions.find(&session_id).is_none() {
        return not_found_body();
    }
    let Some(position) = data.attendee_position(&attendee_id) else {
        return not_found_body();
    };
    let mut enrollments = data.enrollments(position).into_owned();
    let Some(enrollment) = enrollments.iter_mut().find(|e| {
        e.session.id.eq_ignore_ascii_case(&session_id) && e.status != "Cancelled" && !e.deleted
    }) else {
        return not_found_body();
    };
    enrollment.status = "Cancelled".into();
    enrollment.last_modified = now;
    enrollment.last_modified_by = Some("api".into());
    data.set_enrollments(position, enrollments);
    StatusCode::NO_CONTENT.into_response()
}

// ---- check-in ----------------------------------------------------------------------------------

async fn check_in(
    State(shared): State<Shared_>,
    Path(event_id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(items) = serde_json::from_slice::<Vec<Value>>(&body) else {
        return bad_request(
            "body",
            "the body must be a JSON array of check-ins [{\"id\", \"checkIn\"}]",
        );
    };
    if items.is_empty() || items.len() > 100 {
        return bad_request(
            "body",
            &format!(
                "between 1 and 100 attendees can be checked in per call, got {}",
                items.len()
            ),
        );
    }
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    if data.events.find(&event_id).is_none() {
        return not_found_body();
    }
    let mut results = Vec::with_capacity(items.len());
    for item in &items {
        // Each item stands alone: whatever one holds, its answer is one element of the 207,
        // never a refusal of the whole call.
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|id| !id.is_empty());
        let check_in_at = item.get("checkIn").and_then(Value::as_str);
        let failure = |status: u16, target: &str, message: &str| {
            json!({
                "data": check_in_error(id, status, target, message),
                "status": status,
                "message": message,
                "request": {"operation": "POST", "data": item},
            })
        };
        let Some(id) = id else {
            results.push(failure(
                400,
                "id",
                "id is required: the attendee's ID as a string",
            ));
            continue;
        };
        let Some(check_in_at) = check_in_at.and_then(|t| parse_instant(t).ok()) else {
            results.push(failure(
                400,
                "checkIn",
                "checkIn is required as an ISO 8601 date-time",
            ));
            continue;
        };
        let Some((position, attendee)) = data.attendee_by_id(id) else {
            results.push(failure(404, "id", "Not found"));
            continue;
        };
        if !attendee.event.id.eq_ignore_ascii_case(&event_id) {
            results.push(failure(404, "id", "Not found"));
            continue;
        }
        if !matches!(attendee.status.as_str(), "Accepted" | "Visited") {
            let reason = format!(
                "an attendee with status '{}' cannot be checked in",
                attendee.status
            );
            results.push(failure(400, "id", &reason));
            continue;
        }
        let mut attendee = attendee.into_owned();
        attendee.checked_in = Some(true);
        attendee.check_in = Some(check_in_at);
        data.put_attendee(position, attendee.clone(), &now);
        results.push(json!({"data": {"id": attendee.id}, "status": 200, "message": "Checked in"}));
    }
    (StatusCode::MULTI_STATUS, axum::Json(results)).into_response()
}

/// A failed check-in's `data`: the spec's check-in error (`code`, `message`, `target`), naming
/// the attendee's `id` only when it is a UUID, the format the schema gives that member.
fn check_in_error(id: Option<&str>, status: u16, target: &str, message: &str) -> Value {
    let mut error = json!({"code": status, "message": message, "target": target});
    if let Some(id) = id.filter(|id| id.len() == 36 && uuid::Uuid::try_parse(id).is_ok()) {
        error["id"] = json!(id);
    }
    error
}

async fn undo_check_in(
    State(shared): State<Shared_>,
    Path((event_id, attendee_id)): Path<(String, String)>,
) -> Response {
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let Some((position, attendee)) = data.attendee_by_id(&attendee_id) else {
        return not_found_body();
    };
    if !attendee.event.id.eq_ignore_ascii_case(&event_id) || attendee.checked_in != Some(true) {
        return not_found_body();
    }
    let mut attendee = attendee.into_owned();
    attendee.checked_in = Some(false);
    attendee.check_in = None;
    data.put_attendee(position, attendee, &now);
    StatusCode::NO_CONTENT.into_response()
}

// ---- sponsors and usage ------------------------------------------------------------------------

async fn sponsorship_levels(
    State(shared): State<Shared_>,
    Path(event_id): Path<String>,
) -> Response {
    let data = shared.read_data();
    if data.events.find(&event_id).is_none() {
        return not_found_body();
    }
    let levels: Vec<_> = if event_id.eq_ignore_ascii_case(&shared.event_id) {
        data.sponsorship_levels.clone()
    } else {
        Vec::new()
    };
    axum::Json(json!({ "data": levels })).into_response()
}

async fn usage(State(shared): State<Shared_>, Query(params): Params) -> Response {
    let today = shared.clock.now().date_naive();
    let parse = |key: &str| -> Result<Option<chrono::NaiveDate>, Response> {
        params
            .get(key)
            .map(|t| {
                chrono::NaiveDate::parse_from_str(t.get(..10).unwrap_or(t), "%Y-%m-%d")
                    .map_err(|_| bad_request(key, &format!("{key} must be an ISO 8601 date")))
            })
            .transpose()
    };
    let (after, before) = match (parse("after"), parse("before")) {
        (Ok(after), Ok(before)) => (after, before),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    let last = before.unwrap_or(today).min(today);
    let first = after.unwrap_or(last - chrono::Duration::days(6));
    if (last - first).num_days() > 6 || first > last {
        return bad_request(
            "after",
            "after and before must not be more than seven days apart",
        );
    }
    let limiter = shared.lock_limiter();
    let total = limiter.tier().reported_quota().unwrap_or(u64::MAX);
    let mut data = Vec::new();
    let mut day = last;
    while day >= first {
        let used = limiter.used(day);
        data.push(json!({
            "date": day.format("%Y-%m-%d").to_string(),
            "used": used,
            "remaining": total.saturating_sub(used),
            "total": total,
        }));
        match day.pred_opt() {
            Some(previous) => day = previous,
            None => break,
        }
    }
    let token = uuid::Uuid::new_v4();
    axum::Json(json!({
        "paging": {"currentToken": token.to_string(), "limit": data.len(), "totalCount": data.len(),
                   "_links": {"self": {"href": format!("?token={token}")}}},
        "data": data,
    }))
    .into_response()
}

async fn usage_tier(State(shared): State<Shared_>) -> Response {
    let tier = shared.lock_limiter().tier();
    axum::Json(json!({
        "name": tier.plan_name(),
        "quota": tier.reported_quota(),
        "burstLimit": tier.burst(),
        "rateLimit": tier.per_second(),
    }))
    .into_response()
}
