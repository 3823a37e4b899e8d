//! The site: `/token` and the `/api` entities under the virtual directory, behind one gate
//! (queued faults → bearer token → entity → call log). Paths, entity names and query parameter
//! names match without regard to case, as IIS and ASP.NET match them.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::dataset::{
    ACTIVITY_PROPERTIES, ACTIVITY_TYPE, Activity, ActivityType, Dataset, Event, PARTY_ID, Party,
    PropertyKind, PropertyValue, Refusal, activity_property,
};
use super::filter::{Condition, Paging, Params, read_filters};
use super::query::ParameterKind;
use super::read::{self, Invalid};
use super::{Shared, wire};
use crate::latency::CallKind;

type SharedState = State<Arc<Shared>>;

/// Parameters that page a listing rather than filter it.
const PAGING: [&str; 2] = ["limit", "offset"];

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(site).with_state(shared)
}

/// What a call answers, before it becomes a response.
enum Answer {
    Json(StatusCode, Value),
    /// A success without a body (a delete).
    Empty(StatusCode),
    /// A gateway's plain-text answer.
    Plain(StatusCode, &'static str),
    Throttled {
        retry_after_seconds: u64,
    },
    Unauthorized,
}

impl Answer {
    /// Injected faults are the gateway's and take no time at the site.
    fn is_fault(&self) -> bool {
        matches!(self, Answer::Plain(..) | Answer::Throttled { .. })
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let json_type = [(header::CONTENT_TYPE, "application/json; charset=utf-8")];
        match self {
            Answer::Json(status, body) => (status, json_type, body.to_string()).into_response(),
            Answer::Empty(status) => status.into_response(),
            Answer::Plain(status, text) => (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                text,
            )
                .into_response(),
            Answer::Throttled {
                retry_after_seconds,
            } => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "Too Many Requests",
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
                response
            }
            Answer::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                [
                    (header::WWW_AUTHENTICATE, "Bearer"),
                    (header::CONTENT_TYPE, "application/json; charset=utf-8"),
                ],
                json!({"Message": "Authorization has been denied for this request."}).to_string(),
            )
                .into_response(),
        }
    }
}

/// A handler's answer either way: `Err` is a refusal, answered the same.
type Outcome = Result<Answer, Answer>;

fn refused(status: StatusCode, message: &str, result_code: &str) -> Answer {
    Answer::Json(status, wire::errors(message, result_code))
}

fn bad_request(message: impl AsRef<str>) -> Answer {
    refused(StatusCode::BAD_REQUEST, message.as_ref(), "Invalid")
}

fn not_found(message: impl AsRef<str>) -> Answer {
    refused(StatusCode::NOT_FOUND, message.as_ref(), "NotFound")
}

fn invalid(invalid: Invalid) -> Answer {
    refused(
        StatusCode::BAD_REQUEST,
        &invalid.message,
        invalid.result_code,
    )
}

fn refusal(refusal: Refusal) -> Answer {
    match refusal {
        Refusal::Invalid(message) => bad_request(message),
        Refusal::Conflict(message) => refused(StatusCode::BAD_REQUEST, &message, "Duplicate"),
        Refusal::NotFound(message) => not_found(message),
    }
}

/// ASP.NET's answer to a method a resource does not take.
fn method_not_allowed(method: &Method) -> Answer {
    Answer::Json(
        StatusCode::METHOD_NOT_ALLOWED,
        json!({"Message": format!("The requested resource does not support http method '{method}'.")}),
    )
}

/// Every request outside the control API comes here.
async fn site(
    State(shared): SharedState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path().starts_with("/_sandbox") {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    let (answer, kind) = respond(&shared, &method, &uri, &headers, &body);
    // The vendor's time, waited with no lock held, so concurrent calls wait side by side.
    if !answer.is_fault() {
        shared.latency.wait(kind).await;
    }
    let mut response = answer.into_response();
    shared.clock.stamp(&mut response);
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |path| path.as_str().to_string());
    shared.log_call(method.as_str(), &path, response.status().as_u16());
    response
}

/// Decodes `%XX` escapes in one path segment (a `+` stays a `+` in a path).
fn decode_segment(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut position = 0;
    while position < bytes.len() {
        let escaped = (bytes[position] == b'%')
            .then(|| segment.get(position + 1..position + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                position += 3;
            }
            None => {
                decoded.push(bytes[position]);
                position += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

impl Shared {
    /// The path under the site, or `None` for a path outside the virtual directory.
    fn path_in_site<'a>(&self, path: &'a str) -> Option<&'a str> {
        if self.prefix.is_empty() {
            return Some(path);
        }
        let head = path.get(..self.prefix.len())?;
        let rest = &path[self.prefix.len()..];
        (head.eq_ignore_ascii_case(&self.prefix) && (rest.is_empty() || rest.starts_with('/')))
            .then_some(rest)
    }
}

fn respond(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (Answer, CallKind) {
    let Some(rest) = shared.path_in_site(uri.path()) else {
        return (
            Answer::Plain(StatusCode::NOT_FOUND, "Not Found"),
            CallKind::Object,
        );
    };
    let segments: Vec<String> = rest
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(decode_segment)
        .collect();
    match segments.as_slice() {
        [token] if token.eq_ignore_ascii_case("token") => {
            (issue_token(shared, method, body), CallKind::Token)
        }
        [api, entity, rest @ ..] if api.eq_ignore_ascii_case("api") => {
            if let Some(fault) = next_fault(shared) {
                return (fault, CallKind::Object);
            }
            if !authorized(shared, headers) {
                return (Answer::Unauthorized, CallKind::Object);
            }
            let params = Params::parse(uri.query());
            let id = match rest {
                [] => None,
                [id] => Some(id.as_str()),
                _ => {
                    return (
                        not_found(format!("No resource was found at '{}'.", uri.path())),
                        CallKind::Object,
                    );
                }
            };
            let kind = if id.is_none() && method == Method::GET {
                CallKind::Page
            } else {
                CallKind::Object
            };
            let outcome = entity_call(shared, method, entity, id, &params, body);
            (outcome.unwrap_or_else(|refusal| refusal), kind)
        }
        _ => (
            Answer::Plain(StatusCode::NOT_FOUND, "Not Found"),
            CallKind::Object,
        ),
    }
}

/// The next queued fault, if any: 429 with `Retry-After`, anything else as plain text.
fn next_fault(shared: &Shared) -> Option<Answer> {
    let mut faults = shared.lock_faults();
    let status = faults.next.pop_front()?;
    Some(if status == 429 {
        Answer::Throttled {
            retry_after_seconds: faults.retry_after_seconds,
        }
    } else {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        Answer::Plain(status, status.canonical_reason().unwrap_or("Error"))
    })
}

/// Whether the call carries `Authorization: Bearer <a live token>`.
fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let now = shared.clock.now();
    shared
        .lock_tokens()
        .get(token.trim())
        .is_some_and(|expires| *expires > now)
}

/// Times as OWIN writes `.issued` and `.expires` (RFC 1123).
fn rfc1123(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// `POST /token`: the resource owner password grant, keys in any case.
fn issue_token(shared: &Shared, method: &Method, body: &[u8]) -> Answer {
    if method != Method::POST {
        return method_not_allowed(method);
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    if !field("grant_type").is_some_and(|grant| grant.eq_ignore_ascii_case("password")) {
        return Answer::Json(
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type"}),
        );
    }
    let username = field("username").unwrap_or("");
    let password = field("password").unwrap_or("");
    let config = &shared.config;
    if !username.eq_ignore_ascii_case(&config.username) || password != config.password {
        return Answer::Json(
            StatusCode::BAD_REQUEST,
            json!({
                "error": "invalid_grant",
                "error_description": "The user name or password is incorrect.",
            }),
        );
    }
    let lifetime = shared.lock_faults().token_lifetime_seconds;
    let issued = shared.clock.now();
    let expires =
        issued + chrono::Duration::seconds(i64::try_from(lifetime).unwrap_or(i64::MAX / 1000));
    let counter = shared
        .token_counter
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = issued.timestamp_nanos_opt().unwrap_or_default() as u64;
    let token = format!(
        "{}{}",
        crate::seeded::uuid_v4(
            crate::seeded::draw(config.seed, counter, 0x1315),
            crate::seeded::mix(nanos)
        )
        .simple(),
        crate::seeded::uuid_v4(
            crate::seeded::mix(nanos ^ counter),
            crate::seeded::draw(config.seed, counter, 0x1316)
        )
        .simple(),
    );
    let mut tokens = shared.lock_tokens();
    tokens.retain(|_, expires| *expires > issued);
    tokens.insert(token.clone(), expires);
    drop(tokens);
    Answer::Json(
        StatusCode::OK,
        json!({
            "access_token": token,
            "token_type": "bearer",
            "expires_in": lifetime,
            "userName": username,
            ".issued": rfc1123(issued),
            ".expires": rfc1123(expires),
        }),
    )
}

/// One `/api/{entity}[/{id}]` call.
fn entity_call(
    shared: &Shared,
    method: &Method,
    entity: &str,
    id: Option<&str>,
    params: &Params,
    body: &[u8],
) -> Outcome {
    let entity_key = entity.to_ascii_lowercase();
    match (entity_key.as_str(), id, method.as_str()) {
        ("party" | "person", None, "GET") => list_parties(&shared.read_data(), params),
        ("party" | "person", Some(id), "GET") => get_party(&shared.read_data(), id),
        ("legacyactivitytype", None, "GET") => list_activity_types(&shared.read_data(), params),
        ("legacyactivitytype", Some(code), "GET") => get_activity_type(&shared.read_data(), code),
        ("activity", None, "GET") => list_activities(&shared.read_data(), params),
        ("activity", None, "POST") => create_activity(shared, body),
        ("activity", Some(seqn), "GET") => get_activity(&shared.read_data(), seqn),
        ("activity", Some(seqn), "PUT") => replace_activity(shared, seqn, body),
        ("activity", Some(seqn), "DELETE") => delete_activity(shared, seqn),
        ("event", None, "GET") => list_events(&shared.read_data(), params),
        ("event", None, "POST") => create_event(shared, body),
        ("event", Some(id), "GET") => get_event(&shared.read_data(), id),
        ("event", Some(id), "PUT") => replace_event(shared, id, body),
        ("event", Some(id), "DELETE") => delete_event(shared, id),
        ("query", None, "GET") => run_query(&shared.read_data(), params, RowShape::Flat),
        ("iqa", None, "GET") => run_query(&shared.read_data(), params, RowShape::Entity),
        (
            "party" | "person" | "legacyactivitytype" | "activity" | "event" | "query" | "iqa",
            ..,
        ) => Err(method_not_allowed(method)),
        _ => Err(not_found(format!(
            "The business object '{entity}' was not found."
        ))),
    }
}

/// Keeps the items every filter passes.
fn select<'a, T, K: Copy>(
    items: impl Iterator<Item = &'a T>,
    filters: &[(K, Condition)],
    values: impl Fn(&T, K) -> Vec<String>,
) -> Vec<&'a T>
where
    T: 'a,
{
    items
        .filter(|item| {
            filters
                .iter()
                .all(|(key, condition)| condition.matches_any(&values(item, *key)))
        })
        .collect()
}

/// One page of `found` as a `PagedResult` of `element`.
fn page_of<T>(element: &str, found: &[&T], paging: Paging, write: impl Fn(&T) -> Value) -> Answer {
    let items = paging.slice(found).iter().map(|item| write(item)).collect();
    Answer::Json(
        StatusCode::OK,
        wire::paged(element, items, paging, found.len()),
    )
}

#[derive(Clone, Copy)]
enum PartyField {
    Id,
    Email,
    FirstName,
    LastName,
    Name,
}

fn party_field(name: &str) -> Option<PartyField> {
    match name.to_ascii_lowercase().as_str() {
        "partyid" | "id" => Some(PartyField::Id),
        "email" => Some(PartyField::Email),
        "firstname" => Some(PartyField::FirstName),
        "lastname" => Some(PartyField::LastName),
        "name" | "fullname" => Some(PartyField::Name),
        _ => None,
    }
}

fn party_values(party: &Party, field: PartyField) -> Vec<String> {
    match field {
        PartyField::Id => vec![party.id.clone()],
        PartyField::Email => party.emails.clone(),
        PartyField::FirstName => vec![party.first_name.clone()],
        PartyField::LastName => vec![party.last_name.clone()],
        PartyField::Name => vec![party.full_name()],
    }
}

fn list_parties(data: &Dataset, params: &Params) -> Outcome {
    let paging = Paging::read(params).map_err(bad_request)?;
    let filters = read_filters(params, &PAGING, "Party", party_field).map_err(bad_request)?;
    let found = select(data.parties(), &filters, party_values);
    Ok(page_of(wire::PARTY, &found, paging, wire::person))
}

fn get_party(data: &Dataset, id: &str) -> Outcome {
    data.party(id)
        .map(|party| Answer::Json(StatusCode::OK, wire::person(party)))
        .ok_or_else(|| not_found(format!("Party '{id}' was not found.")))
}

fn activity_type_field(name: &str) -> Option<bool> {
    match name.to_ascii_lowercase().as_str() {
        "code" => Some(true),
        "description" => Some(false),
        _ => None,
    }
}

fn list_activity_types(data: &Dataset, params: &Params) -> Outcome {
    let paging = Paging::read(params).map_err(bad_request)?;
    let filters = read_filters(params, &PAGING, "LegacyActivityType", activity_type_field)
        .map_err(bad_request)?;
    let found = select(
        data.activity_types().iter(),
        &filters,
        |kind: &ActivityType, is_code| {
            vec![if is_code {
                kind.code.clone()
            } else {
                kind.description.clone()
            }]
        },
    );
    Ok(page_of(
        wire::GENERIC_ENTITY,
        &found,
        paging,
        wire::activity_type,
    ))
}

fn get_activity_type(data: &Dataset, code: &str) -> Outcome {
    data.activity_type(code)
        .map(|kind| Answer::Json(StatusCode::OK, wire::activity_type(kind)))
        .ok_or_else(|| not_found(format!("LegacyActivityType '{code}' was not found.")))
}

fn list_activities(data: &Dataset, params: &Params) -> Outcome {
    let paging = Paging::read(params).map_err(bad_request)?;
    let mut filters =
        read_filters(params, &PAGING, "Activity", activity_property).map_err(bad_request)?;
    // A date filter compares with dates as they are written, whatever spelling it came in.
    for (position, condition) in &mut filters {
        if ACTIVITY_PROPERTIES[*position].kind == PropertyKind::Date
            && let Some(at) = wire::parse_date(&condition.value)
        {
            condition.value = wire::date(&at);
        }
    }
    let found = select(
        data.activities(),
        &filters,
        |activity: &Activity, position| activity.value_text(position).into_iter().collect(),
    );
    Ok(page_of(
        wire::GENERIC_ENTITY,
        &found,
        paging,
        wire::activity,
    ))
}

fn sequence_number(text: &str) -> Result<u64, Answer> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| not_found(format!("Activity '{text}' was not found.")))
}

fn get_activity(data: &Dataset, seqn: &str) -> Outcome {
    let number = sequence_number(seqn)?;
    data.activity(number)
        .map(|activity| Answer::Json(StatusCode::OK, wire::activity(activity)))
        .ok_or_else(|| not_found(format!("Activity '{seqn}' was not found.")))
}

/// Checks an activity's type and party against the site, and writes both as the site has them.
fn resolve_references(
    data: &Dataset,
    values: &mut BTreeMap<usize, PropertyValue>,
) -> Result<(), Answer> {
    let code = values
        .get(&ACTIVITY_TYPE)
        .map(PropertyValue::text)
        .unwrap_or_default();
    let kind = data
        .activity_type(&code)
        .ok_or_else(|| bad_request(format!("Activity type '{code}' is not valid.")))?;
    values.insert(ACTIVITY_TYPE, PropertyValue::Text(kind.code.clone()));
    let party_id = values
        .get(&PARTY_ID)
        .map(PropertyValue::text)
        .unwrap_or_default();
    let party = data
        .party(&party_id)
        .ok_or_else(|| bad_request(format!("Party '{party_id}' was not found.")))?;
    values.insert(PARTY_ID, PropertyValue::Text(party.id.clone()));
    Ok(())
}

fn create_activity(shared: &Shared, body: &[u8]) -> Outcome {
    let body = read::typed_json(body).map_err(invalid)?;
    let mut values = read::activity(&body).map_err(invalid)?;
    let mut data = shared.write_data();
    resolve_references(&data, &mut values)?;
    let activity = data.insert_activity(values);
    Ok(Answer::Json(StatusCode::CREATED, wire::activity(&activity)))
}

fn replace_activity(shared: &Shared, seqn: &str, body: &[u8]) -> Outcome {
    let number = sequence_number(seqn)?;
    let body = read::typed_json(body).map_err(invalid)?;
    let mut values = read::activity(&body).map_err(invalid)?;
    let mut data = shared.write_data();
    if data.activity(number).is_none() {
        return Err(not_found(format!("Activity '{seqn}' was not found.")));
    }
    resolve_references(&data, &mut values)?;
    let activity = data
        .replace_activity(number, values)
        .ok_or_else(|| not_found(format!("Activity '{seqn}' was not found.")))?;
    Ok(Answer::Json(StatusCode::OK, wire::activity(&activity)))
}

fn delete_activity(shared: &Shared, seqn: &str) -> Outcome {
    let number = sequence_number(seqn)?;
    if shared.write_data().remove_activity(number) {
        Ok(Answer::Empty(StatusCode::OK))
    } else {
        Err(not_found(format!("Activity '{seqn}' was not found.")))
    }
}

#[derive(Clone, Copy)]
enum EventField {
    Id,
    Code,
    Name,
    Status,
}

fn event_field(name: &str) -> Option<EventField> {
    match name.to_ascii_lowercase().as_str() {
        "eventid" | "id" => Some(EventField::Id),
        "eventcode" => Some(EventField::Code),
        "name" => Some(EventField::Name),
        "status" => Some(EventField::Status),
        _ => None,
    }
}

fn list_events(data: &Dataset, params: &Params) -> Outcome {
    let paging = Paging::read(params).map_err(bad_request)?;
    let filters = read_filters(params, &PAGING, "Event", event_field).map_err(bad_request)?;
    let found = select(data.events(), &filters, |event: &Event, field| {
        vec![match field {
            EventField::Id => event.event_id.clone(),
            EventField::Code => event.event_code.clone(),
            EventField::Name => event.name.clone(),
            EventField::Status => event.status.clone(),
        }]
    });
    Ok(page_of(wire::EVENT, &found, paging, wire::event))
}

fn get_event(data: &Dataset, id: &str) -> Outcome {
    data.event(id)
        .map(|event| Answer::Json(StatusCode::OK, wire::event(event)))
        .ok_or_else(|| not_found(format!("Event '{id}' was not found.")))
}

fn create_event(shared: &Shared, body: &[u8]) -> Outcome {
    let body = read::typed_json(body).map_err(invalid)?;
    let event = read::event(&body).map_err(invalid)?;
    shared
        .write_data()
        .insert_event(event.clone())
        .map_err(refusal)?;
    Ok(Answer::Json(StatusCode::CREATED, wire::event(&event)))
}

/// `PUT /api/Event/{id}`: the body replaces the event; without an `EventId` it takes the one in
/// the path, and with another one it is refused.
fn replace_event(shared: &Shared, id: &str, body: &[u8]) -> Outcome {
    let mut body = read::typed_json(body).map_err(invalid)?;
    if let Some(object) = body.as_object_mut()
        && object.get("EventId").is_none_or(Value::is_null)
    {
        object.insert("EventId".into(), json!(id));
    }
    let event = read::event(&body).map_err(invalid)?;
    if !event.event_id.eq_ignore_ascii_case(id.trim()) {
        return Err(bad_request(format!(
            "EventId '{}' differs from the event '{id}' being replaced.",
            event.event_id
        )));
    }
    shared
        .write_data()
        .replace_event(event.clone())
        .map_err(refusal)?;
    Ok(Answer::Json(StatusCode::OK, wire::event(&event)))
}

fn delete_event(shared: &Shared, id: &str) -> Outcome {
    if shared.write_data().remove_event(id) {
        Ok(Answer::Empty(StatusCode::OK))
    } else {
        Err(not_found(format!("Event '{id}' was not found.")))
    }
}

/// How a saved query's rows are written.
#[derive(Clone, Copy)]
enum RowShape {
    /// The Query service's flat rows (`/api/query`).
    Flat,
    /// IQA's `GenericEntityData` rows (`/api/iqa`).
    Entity,
}

fn run_query(data: &Dataset, params: &Params, shape: RowShape) -> Outcome {
    let name = params
        .get("QueryName")
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| {
            refused(
                StatusCode::BAD_REQUEST,
                "QueryName is required.",
                "Required",
            )
        })?;
    let paging = Paging::read(params).map_err(bad_request)?;
    let query = data
        .query(name)
        .ok_or_else(|| not_found(format!("The query '{name}' was not found.")))?;
    if !query.rest_enabled {
        return Err(refused(
            StatusCode::FORBIDDEN,
            &format!("The query '{name}' is not available through the REST API."),
            "Forbidden",
        ));
    }
    let prompt = params
        .get("parameter")
        .map(Condition::parse)
        .transpose()
        .map_err(bad_request)?
        .filter(|prompt| !prompt.value.trim().is_empty());
    if prompt.is_none() && query.parameter != ParameterKind::None {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            &format!("The query '{name}' requires a parameter."),
            "Required",
        ));
    }
    let found = query.run(data.parties(), prompt.as_ref());
    let page = paging.slice(&found);
    let result = match shape {
        RowShape::Flat => wire::paged_as(
            wire::UNTYPED_PAGED_RESULT,
            wire::OBJECT_LIST,
            page.iter()
                .map(|party| wire::query_row(query, party))
                .collect(),
            paging,
            found.len(),
        ),
        RowShape::Entity => wire::paged(
            wire::GENERIC_ENTITY,
            page.iter()
                .enumerate()
                .map(|(position, party)| wire::iqa_row(query, party, paging.offset + position + 1))
                .collect(),
            paging,
            found.len(),
        ),
    };
    Ok(Answer::Json(StatusCode::OK, result))
}

#[cfg(test)]
mod tests {
    use super::decode_segment;

    #[test]
    fn path_segments_decode_escapes_only() {
        assert_eq!(decode_segment("ANNCONF"), "ANNCONF");
        assert_eq!(decode_segment("a%20b"), "a b");
        assert_eq!(decode_segment("a+b"), "a+b");
        assert_eq!(decode_segment("100%"), "100%");
        assert_eq!(decode_segment("%zz"), "%zz");
        assert_eq!(decode_segment("%C3%A9"), "é");
    }
}
