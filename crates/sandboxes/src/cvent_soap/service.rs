//! The SOAP endpoint: envelope checks, the session header, the daily call quota, injected faults
//! and the V200611 operations the sandbox serves.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Timelike, Utc};

use super::Shared;
use super::dataset::{Dataset, OBJECT_TYPES, set};
use super::generate::{parse_timestamp, timestamp};
use super::xml::{self, API_NS, Element, SCHEMA_NS, SOAP_NS, escape};
use crate::latency::CallKind;

/// Where Login is sent; the session's calls go to the `ServerURL` Login returns.
pub const LOGIN_PATH: &str = "/soap/V200611.ASMX";
/// The "pod" the sandbox's `ServerURL` points at, a different path so a client that ignores
/// `ServerURL` is caught.
pub const POD_PATH: &str = "/soap/pod1/V200611.ASMX";

pub const LOCKOUT_MESSAGE: &str =
    "Your account has been locked out. Please contact Customer care or wait for 30 minutes";
pub const ACCESS_DENIED: &str = "Access is denied.";

/// A SOAP fault with Cvent's code and token.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub code: String,
    pub token: &'static str,
}

impl Fault {
    pub fn new(code: &str) -> Fault {
        Fault {
            code: code.to_string(),
            token: token_of(code),
        }
    }
}

/// The faultstring of a code. Cvent's documented ones are CV10000 and CV10001; the others are
/// the sandbox's spelling of the error table's names.
pub fn token_of(code: &str) -> &'static str {
    match code {
        "CV10000" => "UNKNOWN_EXCEPTION",
        "CV10001" => "INVALID_SOAP_REQUEST",
        "CV10100" => "ACCOUNT_LOCKOUT",
        "CV10104" => "INVALID_CVENT_HEADER_VALUE",
        "CV10105" => "SESSION_EXPIRED",
        "CV10107" => "UNKNOWN_HEADER_VALUE",
        "CV20001" => "MALFORMED_ID",
        "CV20010" => "INVALID_SEARCH_FILTER",
        "CV20011" => "UNKNOWN_SEARCH_EXCEPTION",
        "CV20012" => "TOO_MANY_IDS_RETURNED",
        "CV20013" | "CV20014" => "INVALID_DATE_RANGE",
        "CV20015" => "INVALID_SEARCH_OPERATOR",
        "CV20018" => "NO_ID_PROVIDED",
        "CV20021" => "TOO_MANY_IDS_PROVIDED",
        "CV30100" => "EXCEED_API_CALL_LIMIT",
        "CV30104" => "EXCEED_CHECKIN_LIMIT",
        _ => "UNKNOWN_EXCEPTION",
    }
}

const OPERATIONS: &[&str] = &[
    "Login",
    "DescribeGlobal",
    "DescribeCvObject",
    "Search",
    "Retrieve",
    "GetUpdated",
    "SessionRegAction",
    "CheckIn",
];

/// The operators of `CvSearchOperatorType`, spelled exactly.
const OPERATORS: &[&str] = &[
    "Equals",
    "Not Equal to",
    "Less than",
    "Greater than",
    "Less than or Equal to",
    "Greater than or Equal to",
    "Contains",
    "Does not Contain",
    "Starts with",
    "Includes",
    "Excludes",
];

pub(super) async fn login_endpoint(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (response, kind) = handle(&shared, &headers, &body, false);
    shared.latency.wait(kind).await;
    response
}

pub(super) async fn pod_endpoint(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (response, kind) = handle(&shared, &headers, &body, true);
    // Waited after every lock is released, so concurrent calls wait side by side.
    shared.latency.wait(kind).await;
    response
}

/// How long an operation's answer takes: Search, Retrieve and GetUpdated return record sets,
/// Login is quick, and a call refused for the day's quota is refused at once, before any work.
fn call_kind(operation: &str, fault: Option<&str>) -> CallKind {
    match (operation, fault) {
        (_, Some("CV30100")) | ("Login", _) => CallKind::Token,
        ("Search" | "Retrieve" | "GetUpdated", _) => CallKind::Page,
        _ => CallKind::Object,
    }
}

fn handle(shared: &Shared, headers: &HeaderMap, body: &[u8], on_pod: bool) -> (Response, CallKind) {
    let (operation, outcome) = match serve(shared, headers, body, on_pod) {
        Ok((operation, body)) => (operation, Ok(body)),
        Err((operation, fault)) => (operation, Err(fault)),
    };
    let fault = outcome.as_ref().err().map(|f| f.code.as_str());
    shared.log_call(&operation, fault);
    let kind = call_kind(&operation, fault);
    let response = match outcome {
        Ok(body) => envelope(StatusCode::OK, &body),
        Err(fault) => envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!(
                "<soap:Fault><faultcode xmlns:q0=\"{SCHEMA_NS}\">q0:{}</faultcode><faultstring>{}</faultstring><faultactor>http://api.cvent.com/soap/V200611.ASMX</faultactor><detail><Main-Exception xmlns=\"{SCHEMA_NS}\"><Exception-Detail /></Main-Exception></detail></soap:Fault>",
                fault.code, fault.token
            ),
        ),
    };
    (response, kind)
}

fn envelope(status: StatusCode, body: &str) -> Response {
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"{SOAP_NS}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><soap:Body>{body}</soap:Body></soap:Envelope>"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        text,
    )
        .into_response()
}

type Served = Result<(String, String), (String, Fault)>;

fn serve(shared: &Shared, headers: &HeaderMap, body: &[u8], on_pod: bool) -> Served {
    let bad = |operation: &str| (operation.to_string(), Fault::new("CV10001"));
    let text = std::str::from_utf8(body).map_err(|_| bad("?"))?;
    let root = xml::parse(text).map_err(|_| bad("?"))?;
    if root.name != "Envelope" || root.namespace.as_deref() != Some(SOAP_NS) {
        return Err(bad("?"));
    }
    let request = root
        .child("Body")
        .and_then(|b| b.children.first())
        .ok_or_else(|| bad("?"))?;
    let operation = request.name.clone();
    if request.namespace.as_deref() != Some(API_NS) || !OPERATIONS.contains(&operation.as_str()) {
        return Err(bad(&operation));
    }
    // SOAP 1.1 names the operation twice; ASP.NET refuses a request whose SOAPAction disagrees.
    let action = headers
        .get("SOAPAction")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_matches('"').to_string());
    if action.as_deref() != Some(&format!("{API_NS}/{operation}")) {
        return Err(bad(&operation));
    }
    let fail = |code: &str| (operation.clone(), Fault::new(code));
    if operation == "Login" {
        if shared.config.count_login {
            shared.count_call().map_err(&fail)?;
        }
        return Ok((operation.clone(), login(shared, request)));
    }
    // Sessions live on the pod Login named; the login host knows none of them.
    let header = root
        .child("Header")
        .and_then(|h| h.child("CventSessionHeader"));
    let Some(header) = header else {
        return Err(fail("CV10107"));
    };
    if header.namespace.as_deref() != Some(API_NS) {
        return Err(fail("CV10104"));
    }
    let value = header.child_text("CventSessionValue").unwrap_or_default();
    let now = shared.clock.now();
    match shared.session_created(value) {
        None => return Err(fail("CV10104")),
        Some(_) if !on_pod => return Err(fail("CV10104")),
        Some(created)
            if now - created
                >= Duration::from_std(shared.config.session_ttl).unwrap_or(Duration::hours(1)) =>
        {
            return Err(fail("CV10105"));
        }
        Some(_) => {}
    }
    shared.count_call().map_err(&fail)?;
    if let Some(code) = shared.take_injected(&operation) {
        return Err(fail(&code));
    }
    let result = match operation.as_str() {
        "DescribeGlobal" => Ok(describe_global(shared)),
        "DescribeCvObject" => Ok(describe_cv_object(shared, request)),
        "Search" => search(shared, request),
        "Retrieve" => retrieve(shared, request),
        "GetUpdated" => get_updated(shared, request),
        "SessionRegAction" => session_reg_action(shared, request),
        "CheckIn" => check_in(shared, request),
        _ => Err("CV10001".to_string()),
    };
    match result {
        Ok(body) => Ok((operation, body)),
        Err(code) => Err(fail(&code)),
    }
}

fn login(shared: &Shared, request: &Element) -> String {
    let account = request.child_text("AccountNumber").unwrap_or_default();
    let user = request.child_text("UserName").unwrap_or_default();
    let password = request.child_text("Password").unwrap_or_default();
    let now = shared.clock.now();
    let config = &shared.config;
    let outcome = {
        let mut logins = shared.lock_logins();
        if logins.locked_until.is_some_and(|until| until > now) {
            Err(LOCKOUT_MESSAGE)
        } else if account == config.account_number
            && user == config.user_name
            && password == config.password
            && !logins.ip_denied
        {
            logins.failures = 0;
            logins.locked_until = None;
            Ok(())
        } else {
            logins.failures += 1;
            if logins.failures >= config.lockout_after {
                logins.locked_until = Some(
                    now + Duration::from_std(config.lockout_for).unwrap_or(Duration::minutes(30)),
                );
                Err(LOCKOUT_MESSAGE)
            } else {
                Err(ACCESS_DENIED)
            }
        }
    };
    let result = match outcome {
        Ok(()) => {
            let session = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
            shared.lock_sessions().insert(session.clone(), now);
            format!(
                "<LoginResult LoginSuccess=\"true\" ServerURL=\"{}\" CventSessionHeader=\"{session}\" ErrorMessage=\"\" xmlns=\"{SCHEMA_NS}\" />",
                escape(&shared.server_url())
            )
        }
        Err(message) => format!(
            "<LoginResult LoginSuccess=\"false\" ServerURL=\"\" CventSessionHeader=\"\" ErrorMessage=\"{}\" xmlns=\"{SCHEMA_NS}\" />",
            escape(message)
        ),
    };
    format!("<LoginResponse xmlns=\"{API_NS}\">{result}</LoginResponse>")
}

fn describe_global(shared: &Shared) -> String {
    let config = &shared.config;
    let mut types = String::new();
    for name in OBJECT_TYPES {
        let _ = write!(types, "<CvObjectType>{name}</CvObjectType>");
    }
    format!(
        "<DescribeGlobalResponse xmlns=\"{API_NS}\"><DescribeGlobalResult MaxAPICalls=\"{}\" CurrentAPICalls=\"{}\" MaxBatchSize=\"{}\" MaxRecordSet=\"{}\" xmlns=\"{SCHEMA_NS}\"><CvObjectTypes>{types}</CvObjectTypes><LookUps><LookUp Id=\"1\" Name=\"Accepted\" Code=\"ACC\" Type=\"InviteeStatus\" /></LookUps></DescribeGlobalResult></DescribeGlobalResponse>",
        config.max_api_calls,
        shared.used_today(),
        config.max_batch_size,
        config.max_record_set
    )
}

/// A sample record of each type, whose attributes are the type's fields.
fn sample(data: &Dataset, object_type: &str) -> Option<Element> {
    match object_type {
        "Event" => Some(data.event().clone()),
        "Registration" => Some(data.generator.registration(0)),
        "Contact" => Some(data.generator.contact(0)),
        "Speaker" => data.speakers().first().cloned(),
        _ => None,
    }
}

fn describe_cv_object(shared: &Shared, request: &Element) -> String {
    let data = shared.read_data();
    let mut out = format!("<DescribeCvObjectResponse xmlns=\"{API_NS}\">");
    let types: Vec<String> = request
        .child("ObjectTypes")
        .map(|t| {
            t.children_named("CvObjectType")
                .map(|c| c.text.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    for object_type in types {
        let Some(sample) = sample(&data, &object_type) else {
            continue;
        };
        let _ = write!(
            out,
            "<DescribeCvObjectResult Name=\"{}\" Creatable=\"false\" Updateable=\"false\" Deletable=\"false\" Replicateable=\"true\" Retrieveable=\"true\" Searchable=\"true\" xmlns=\"{SCHEMA_NS}\">",
            escape(&object_type)
        );
        for (name, value) in &sample.attributes {
            let data_type = if name.ends_with("Id") {
                "Id"
            } else if name.ends_with("Date") || name.ends_with("Time") {
                "DateTime"
            } else if value == "true" || value == "false" {
                "Boolean"
            } else {
                "String"
            };
            let _ = write!(
                out,
                "<Field Name=\"{name}\" ObjectLocation=\"{object_type}\" DataType=\"{data_type}\" MaxLength=\"\" Searchable=\"true\" Required=\"false\" ReadOnly=\"true\" DefaultValue=\"\" DefaultSearchValue=\"\" />"
            );
        }
        out.push_str("</DescribeCvObjectResult>");
    }
    out.push_str("</DescribeCvObjectResponse>");
    out
}

/// One search condition.
struct Condition {
    field: String,
    operator: String,
    values: Vec<String>,
}

impl Condition {
    fn matches(&self, element: &Element) -> bool {
        let actual = element.attribute(&self.field).unwrap_or_default();
        let first = self.values.first().map(String::as_str).unwrap_or_default();
        let ordering = || match (parse_timestamp(actual), parse_timestamp(first)) {
            (Some(a), Some(b)) if actual.contains('-') || actual.contains('/') => a.cmp(&b),
            _ => match (actual.parse::<f64>(), first.parse::<f64>()) {
                (Ok(a), Ok(b)) => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
                _ => actual.to_lowercase().cmp(&first.to_lowercase()),
            },
        };
        let lower = actual.to_lowercase();
        match self.operator.as_str() {
            "Equals" => lower == first.to_lowercase(),
            "Not Equal to" => lower != first.to_lowercase(),
            "Less than" => ordering().is_lt(),
            "Greater than" => ordering().is_gt(),
            "Less than or Equal to" => ordering().is_le(),
            "Greater than or Equal to" => ordering().is_ge(),
            "Contains" => lower.contains(&first.to_lowercase()),
            "Does not Contain" => !lower.contains(&first.to_lowercase()),
            "Starts with" => lower.starts_with(&first.to_lowercase()),
            "Includes" => self.values.iter().any(|v| v.eq_ignore_ascii_case(actual)),
            "Excludes" => !self.values.iter().any(|v| v.eq_ignore_ascii_case(actual)),
            _ => false,
        }
    }
}

fn search(shared: &Shared, request: &Element) -> Result<String, String> {
    let object_type = request
        .child_text("ObjectType")
        .unwrap_or_default()
        .to_string();
    let search = request.child("CvSearchObject");
    let or = search.and_then(|s| s.attribute("SearchType")) == Some("OrSearch");
    let mut conditions = Vec::new();
    for filter in search.iter().flat_map(|s| s.children_named("Filter")) {
        let field = filter.child_text("Field").unwrap_or_default().to_string();
        let operator = filter
            .child_text("Operator")
            .unwrap_or_default()
            .to_string();
        if !OPERATORS.contains(&operator.as_str()) {
            return Err("CV20015".into());
        }
        let mut values: Vec<String> = filter
            .child("ValueArray")
            .map(|a| {
                a.children_named("Value")
                    .map(|v| v.text.trim().to_string())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(value) = filter.child_text("Value") {
            values.insert(0, value.to_string());
        }
        if field.is_empty() || values.is_empty() {
            return Err("CV20010".into());
        }
        conditions.push(Condition {
            field,
            operator,
            values,
        });
    }
    let data = shared.read_data();
    let Some(sample) = sample(&data, &object_type) else {
        return Err("CV20011".into());
    };
    if let Some(unknown) = conditions
        .iter()
        .find(|c| sample.attribute(&c.field).is_none())
    {
        tracing::debug!(field = %unknown.field, "search on a field the type does not have");
        return Err("CV20010".into());
    }
    let matches = |element: &Element| {
        conditions.is_empty()
            || if or {
                conditions.iter().any(|c| c.matches(element))
            } else {
                conditions.iter().all(|c| c.matches(element))
            }
    };
    let limit = shared.config.max_record_set;
    let mut ids = Vec::new();
    match object_type.as_str() {
        "Registration" | "Contact" => {
            // Every registration belongs to the one event: skip building them for that filter.
            let only_event = !or
                && conditions.iter().all(|c| {
                    c.field == "EventId"
                        && c.operator == "Equals"
                        && c.values[0].eq_ignore_ascii_case(&data.generator.event_id)
                });
            for index in 0..data.registration_count() {
                let element = if object_type == "Contact" {
                    if !data.exists(index) {
                        continue;
                    }
                    data.contact(index)
                } else if only_event && !conditions.is_empty() || conditions.is_empty() {
                    if !data.exists(index) {
                        continue;
                    }
                    ids.push(data.generator.registration_id(index));
                    if ids.len() as u64 > limit {
                        return Err("CV20012".into());
                    }
                    continue;
                } else {
                    data.registration(index)
                };
                if let Some(element) = element.filter(|e| matches(e)) {
                    ids.push(element.attribute("Id").unwrap_or_default().to_string());
                    if ids.len() as u64 > limit {
                        return Err("CV20012".into());
                    }
                }
            }
        }
        "Event" => {
            if matches(data.event()) {
                ids.push(data.generator.event_id.clone());
            }
        }
        "Speaker" => {
            for speaker in data.speakers().iter().filter(|s| matches(s)) {
                ids.push(speaker.attribute("Id").unwrap_or_default().to_string());
            }
        }
        _ => return Err("CV20011".into()),
    }
    let mut out =
        format!("<SearchResponse xmlns=\"{API_NS}\"><SearchResult xmlns=\"{SCHEMA_NS}\">");
    for id in ids {
        let _ = write!(out, "<Id>{id}</Id>");
    }
    out.push_str("</SearchResult></SearchResponse>");
    Ok(out)
}

fn retrieve(shared: &Shared, request: &Element) -> Result<String, String> {
    let object_type = request
        .child_text("ObjectType")
        .unwrap_or_default()
        .to_string();
    let ids: Vec<String> = request
        .child("Ids")
        .map(|i| {
            i.children_named("Id")
                .map(|id| id.text.trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err("CV20018".into());
    }
    if ids.len() as u64 > shared.config.max_batch_size {
        return Err("CV20021".into());
    }
    if ids.iter().any(|id| uuid::Uuid::parse_str(id).is_err()) {
        return Err("CV20001".into());
    }
    let data = shared.read_data();
    let mut out =
        format!("<RetrieveResponse xmlns=\"{API_NS}\"><RetrieveResult xmlns=\"{SCHEMA_NS}\">");
    for id in &ids {
        let found = match object_type.as_str() {
            "Registration" => data.registration_by_id(id).map(|(_, r)| r),
            "Contact" => data.contact_by_id(id),
            "Event" => {
                (id.eq_ignore_ascii_case(&data.generator.event_id)).then(|| data.event().clone())
            }
            "Speaker" => data
                .speakers()
                .iter()
                .find(|s| {
                    s.attribute("Id")
                        .is_some_and(|v| v.eq_ignore_ascii_case(id))
                })
                .cloned(),
            _ => return Err("CV20011".into()),
        };
        // Unknown ids are left out, not faulted.
        if let Some(found) = found {
            write_object(&mut out, &found);
        }
    }
    out.push_str("</RetrieveResult></RetrieveResponse>");
    Ok(out)
}

/// `<CvObject xsi:type="Registration" …>` with its details as children.
fn write_object(out: &mut String, object: &Element) {
    let _ = write!(out, "<CvObject xsi:type=\"{}\"", object.name);
    write_attributes(out, object);
    if object.children.is_empty() {
        out.push_str(" />");
        return;
    }
    out.push('>');
    for child in &object.children {
        write_element(out, child);
    }
    out.push_str("</CvObject>");
}

fn write_attributes(out: &mut String, element: &Element) {
    for (name, value) in &element.attributes {
        let _ = write!(out, " {name}=\"{}\"", escape(value));
    }
}

fn write_element(out: &mut String, element: &Element) {
    let _ = write!(out, "<{}", element.name);
    write_attributes(out, element);
    if element.children.is_empty() {
        out.push_str(" />");
        return;
    }
    out.push('>');
    for child in &element.children {
        write_element(out, child);
    }
    let _ = write!(out, "</{}>", element.name);
}

/// A GetUpdated date: GMT, with seconds ignored.
fn minute_of(text: &str) -> Option<DateTime<Utc>> {
    let at = parse_timestamp(text)?;
    at.with_second(0).and_then(|t| t.with_nanosecond(0))
}

fn get_updated(shared: &Shared, request: &Element) -> Result<String, String> {
    let object_type = request
        .child_text("ObjectType")
        .unwrap_or_default()
        .to_string();
    let start = request
        .child_text("StartDate")
        .and_then(minute_of)
        .ok_or("CV20013")?;
    let end = request
        .child_text("EndDate")
        .and_then(minute_of)
        .ok_or("CV20013")?;
    if end < start {
        return Err("CV20013".into());
    }
    if end - start > Duration::days(shared.config.max_window_days) {
        return Err("CV20014".into());
    }
    let now = shared.clock.now();
    // Changes become visible to GetUpdated only after the lag; the window's last minute counts whole.
    let visible_until =
        now - Duration::from_std(shared.lock_faults().visibility_lag()).unwrap_or(Duration::zero());
    let until = (end + Duration::minutes(1)).min(visible_until);
    let data = shared.read_data();
    let ids: Vec<String> = match object_type.as_str() {
        "Registration" => data
            .registrations_updated(start, until)
            .into_iter()
            .map(|i| data.generator.registration_id(i))
            .collect(),
        "Event" | "Speaker" => {
            let candidates: Vec<&Element> = if object_type == "Event" {
                vec![data.event()]
            } else {
                data.speakers().iter().collect()
            };
            candidates
                .into_iter()
                .filter(|e| {
                    e.attribute("LastModifiedDate")
                        .and_then(parse_timestamp)
                        .is_some_and(|at| at >= start && at < until)
                })
                .map(|e| e.attribute("Id").unwrap_or_default().to_string())
                .collect()
        }
        _ => return Err("CV20011".into()),
    };
    let mut out =
        format!("<GetUpdatedResponse xmlns=\"{API_NS}\"><GetUpdatedResult xmlns=\"{SCHEMA_NS}\">");
    for id in ids {
        let _ = write!(out, "<Id>{id}</Id>");
    }
    out.push_str("</GetUpdatedResult></GetUpdatedResponse>");
    Ok(out)
}

/// One per-item outcome of a write call.
fn item_result(
    out: &mut String,
    tag: &str,
    id: &str,
    reference: &str,
    error: Option<(&str, &str)>,
) {
    let _ = write!(
        out,
        "<{tag} Id=\"{}\" ReferenceId=\"{}\" Success=\"{}\"",
        escape(id),
        escape(reference),
        error.is_none()
    );
    match error {
        None => out.push_str(" />"),
        Some((code, description)) => {
            let _ = write!(
                out,
                "><Errors><Error Code=\"{code}\" Description=\"{}\" /></Errors></{tag}>",
                escape(description)
            );
        }
    }
}

fn session_reg_action(shared: &Shared, request: &Element) -> Result<String, String> {
    let invitees = request.child("CvInvitees").ok_or("CV10001")?;
    let action = invitees
        .attribute("SessionRegActionType")
        .unwrap_or_default();
    let product_id = invitees
        .attribute("ProductId")
        .unwrap_or_default()
        .to_string();
    let register = match action {
        "Register" => true,
        "Unregister" => false,
        _ => return Err("CV10001".into()),
    };
    let items: Vec<&Element> = invitees.children_named("CvInvitee").collect();
    if items.is_empty() {
        return Err("CV20018".into());
    }
    if items.len() as u64 > shared.config.max_batch_size {
        return Err("CV20021".into());
    }
    let now = shared.clock.now();
    let failing = shared.lock_faults().fail_invitees.clone();
    let mut data = shared.write_data();
    let session = data.session(&product_id).cloned();
    let session_index = data.session_index(&product_id);
    let mut out = format!(
        "<SessionRegActionResponse xmlns=\"{API_NS}\"><SessionRegActionResult xmlns=\"{SCHEMA_NS}\">"
    );
    for item in items {
        let id = item.attribute("Id").unwrap_or_default().to_string();
        let reference = item.attribute("MessageId").unwrap_or_default().to_string();
        let error = if failing.iter().any(|f| f.eq_ignore_ascii_case(&id)) {
            Some(("CV10000", "Injected failure"))
        } else if session.is_none() || session_index.is_none() {
            Some(("CV20001", "The ProductId is not a session of this event"))
        } else if session
            .as_ref()
            .and_then(|s| s.attribute("Status"))
            .is_some_and(|s| s == "Cancelled" && register)
        {
            Some(("CV40201", "The session is cancelled"))
        } else {
            match data.registration_by_id(&id) {
                None => Some(("CV20001", "No invitee with this Id")),
                Some((index, mut registration)) => {
                    let action = if register {
                        "Registered"
                    } else {
                        "Unregistered"
                    };
                    let existing = registration.children.iter_mut().find(|c| {
                        c.name == "OrderDetail" && c.attribute("ProductId") == Some(&product_id)
                    });
                    match existing {
                        Some(order) => {
                            set(order, "Action", action);
                            set(order, "ActionDate", &timestamp(now));
                        }
                        None if register => {
                            let order = data.generator.session_order(
                                index,
                                session_index.unwrap_or_default(),
                                action,
                                now,
                            );
                            registration.children.push(order);
                        }
                        None => {}
                    }
                    data.put_registration(index, registration, now);
                    None
                }
            }
        };
        item_result(&mut out, "SessionRegActionResult", &id, &reference, error);
    }
    out.push_str("</SessionRegActionResult></SessionRegActionResponse>");
    Ok(out)
}

fn check_in(shared: &Shared, request: &Element) -> Result<String, String> {
    let objects: Vec<&Element> = request
        .child("CvObjects")
        .map(|o| o.children_named("CvObject").collect())
        .unwrap_or_default();
    if objects.is_empty() {
        return Err("CV20018".into());
    }
    if objects.len() as u64 > shared.config.max_batch_size {
        return Err("CV20021".into());
    }
    let product_id = request
        .child_text("ProductId")
        .unwrap_or_default()
        .to_string();
    let now = shared.clock.now();
    let mut data = shared.write_data();
    let mut out =
        format!("<CheckInResponse xmlns=\"{API_NS}\"><CheckInResult xmlns=\"{SCHEMA_NS}\">");
    for object in objects {
        let id = object.attribute("Id").unwrap_or_default().to_string();
        let reference = object
            .attribute("MessageId")
            .unwrap_or_default()
            .to_string();
        let error = match data.registration_by_id(&id) {
            None => Some(("CV20001", "No invitee with this Id")),
            Some((index, mut registration)) => {
                if product_id.is_empty()
                    || product_id.eq_ignore_ascii_case(&data.generator.event_id)
                {
                    set(&mut registration, "Participant", "true");
                } else if let Some(order) = registration.children.iter_mut().find(|c| {
                    c.name == "OrderDetail" && c.attribute("ProductId") == Some(&product_id)
                }) {
                    set(order, "Participant", "true");
                } else {
                    item_result(
                        &mut out,
                        "CheckInResult",
                        &id,
                        &reference,
                        Some(("CV20001", "The invitee is not registered for this session")),
                    );
                    continue;
                }
                data.put_registration(index, registration, now);
                None
            }
        };
        item_result(&mut out, "CheckInResult", &id, &reference, error);
    }
    out.push_str("</CheckInResult></CheckInResponse>");
    Ok(out)
}
