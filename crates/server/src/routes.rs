//! The HTTP routes: the API under `/v1` (bearer token), Cvent webhooks under `/webhooks`, and
//! `/healthz`, `/metrics`, `/openapi.json`. Every route sits behind the IP allow-list, every
//! error is JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use engine::RunKind;
use pipeline::DataType;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use store::{NewOutboxItem, OutboxItem, OutboxOperation, OutboxQuery, OutboxStatus, StoredRecord};

use crate::error::{ApiError, ApiResult};
use crate::runs::RunRequest;
use crate::scheduler::{self, Account};
use crate::{AppState, input, openapi, security, webhooks};

/// Records one list call returns at most.
const MAX_LIMIT: u32 = 500;
const DEFAULT_LIMIT: u32 = 100;

/// Records one list call looks at at most while filtering; the cursor lets the caller go on.
const MAX_SCANNED: usize = 20_000;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/connections", get(list_connections))
        .route("/v1/connections/{connection}/check", post(check_connection))
        .route(
            "/v1/connections/{connection}/imis/import-event",
            post(crate::imis_routes::import_event),
        )
        .route("/v1/connections/{connection}/data-types", get(data_types))
        .route(
            "/v1/connections/{connection}/data-types/{data_type}/auto-sync",
            put(set_auto_sync),
        )
        .route("/v1/runs", get(list_runs).post(start_run))
        .route("/v1/runs/{id}", get(get_run))
        .route("/v1/runs/{id}/report", get(run_report))
        .route("/v1/events", get(list_events))
        .route("/v1/people", get(list_people))
        .route("/v1/people/{id}/sessions", get(person_sessions))
        .route("/v1/speakers", get(list_speakers))
        .route(
            "/v1/sessions",
            get(list_sessions).post(crate::local::create_session),
        )
        .route(
            "/v1/sessions/{id}/registrations",
            get(session_registrations).post(register),
        )
        .route(
            "/v1/sessions/{id}/registrations/{person_id}",
            axum::routing::delete(unregister),
        )
        .route("/v1/session-registrations", get(list_registrations))
        .route("/v1/check-ins", get(list_check_ins).post(check_in))
        .route("/v1/outbox", get(list_outbox))
        .route("/v1/outbox/{id}", get(get_outbox_item))
        .route("/v1/webhooks", get(list_webhooks))
        .route("/v1/changes", get(crate::changes::list_changes))
        // Inside the token check: only a caller let in learns what is wrong with its input.
        .route_layer(middleware::from_fn(input::check_request))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            security::bearer,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_document))
        .route(
            "/webhooks/cvent/{connection}",
            get(webhooks::validate)
                .post(webhooks::receive)
                .route_layer(middleware::from_fn(input::check_request)),
        )
        .merge(api)
        .merge(crate::register::router())
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(state.settings.body_limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::allow_list,
        ))
        .with_state(state)
}

async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_string(), |path| path.as_str().to_string());
    let response = next.run(request).await;
    state
        .metrics
        .count_request(&route, response.status().as_u16());
    response
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("no such route: /openapi.json lists them")
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method: /openapi.json lists them",
    )
}

/// A JSON body, with errors that say what to fix.
pub(crate) fn json_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> ApiResult<T> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "too_large",
                "the request body is larger than this server accepts",
            )
        } else {
            ApiError::new(status, "invalid_request", rejection.body_text())
        }
    })?;
    // Checked as plain JSON first, so a refusal names the field whatever the route's type.
    if let Ok(value) = serde_json::from_slice::<Value>(&body) {
        input::check_body(&value)?;
    }
    serde_json::from_slice(&body).map_err(|error| {
        ApiError::invalid(format!("the body is not what this route takes: {error}"))
    })
}

// ---- infrastructure ---------------------------------------------------------------------------

async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.store.schema_version().await?;
    Ok(Json(json!({"status": "ok"})))
}

async fn openapi_document() -> Json<Value> {
    Json(openapi::document())
}

async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    use std::fmt::Write as _;
    let mut out = String::new();
    state.metrics.render_counters(&mut out);
    let gauges = [
        (
            "eventsync_outbox_items",
            "Outbox items by status.",
            state.store.outbox_counts().await?,
        ),
        (
            "eventsync_webhook_deliveries",
            "Webhook deliveries by status.",
            state.store.webhook_counts().await?,
        ),
    ];
    for (name, help, counts) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (status, count) in counts {
            let _ = writeln!(
                out,
                "{name}{{status=\"{}\"}} {count}",
                crate::metrics::escape(&status)
            );
        }
    }
    let runs = state.store.runs(None, 1000).await?;
    let mut by_status: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut records: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let mut calls: BTreeMap<String, u64> = BTreeMap::new();
    for run in &runs {
        *by_status
            .entry((run.connection.clone(), run.status.clone()))
            .or_default() += 1;
        *calls.entry(run.connection.clone()).or_default() += run.api_calls;
        for (data_type, actions) in &run.counts {
            for (action, count) in actions {
                *records
                    .entry((run.connection.clone(), data_type.clone(), action.clone()))
                    .or_default() += count;
            }
        }
    }
    let name = "eventsync_runs";
    let _ = writeln!(
        out,
        "# HELP {name} Runs among the last 1000, by connection and status.\n# TYPE {name} gauge"
    );
    for ((connection, status), count) in by_status {
        let _ = writeln!(
            out,
            "{name}{{connection=\"{}\",status=\"{}\"}} {count}",
            crate::metrics::escape(&connection),
            crate::metrics::escape(&status)
        );
    }
    let name = "eventsync_run_records";
    let _ = writeln!(
        out,
        "# HELP {name} Records per action in the last 1000 runs.\n# TYPE {name} gauge"
    );
    for ((connection, data_type, action), count) in records {
        let _ = writeln!(
            out,
            "{name}{{connection=\"{}\",data_type=\"{}\",action=\"{}\"}} {count}",
            crate::metrics::escape(&connection),
            crate::metrics::escape(&data_type),
            crate::metrics::escape(&action)
        );
    }
    let name = "eventsync_run_api_calls";
    let _ = writeln!(
        out,
        "# HELP {name} Vendor API calls made by the last 1000 runs.\n# TYPE {name} gauge"
    );
    for (connection, count) in calls {
        let _ = writeln!(
            out,
            "{name}{{connection=\"{}\"}} {count}",
            crate::metrics::escape(&connection)
        );
    }
    let name = "eventsync_quota_left";
    let _ = writeln!(
        out,
        "# HELP {name} Vendor calls left today per connection's account (absent: no quota known).\n# TYPE {name} gauge"
    );
    for connection in &state.config.connections {
        if let Ok(writer) = state.writers.get(&state, &connection.name).await {
            let budget = writer.budget();
            if let Some(quota) = budget.limits().daily_quota {
                let left = quota.saturating_sub(budget.used_today());
                let _ = writeln!(
                    out,
                    "{name}{{connection=\"{}\"}} {left}",
                    crate::metrics::escape(&connection.name)
                );
            }
        }
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

// ---- connections and runs ---------------------------------------------------------------------

fn connection_of<'a>(state: &'a AppState, name: &str) -> ApiResult<&'a engine::Connection> {
    state
        .connection(name)
        .ok_or_else(|| ApiError::not_found(format!("no connection named '{name}'")))
}

async fn list_connections(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let mut data = Vec::new();
    for connection in &state.config.connections {
        let facts = state.store.connection_facts(&connection.name).await?;
        data.push(json!({
            "name": connection.name,
            "kind": connection.kind(),
            "data_types": connection.data_types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            "event_id": facts.as_ref().and_then(|f| f["event_id"].as_str()),
            "event_title": facts.as_ref().and_then(|f| f["event_title"].as_str()),
        }));
    }
    Ok(Json(json!({"data": data})))
}

async fn check_connection(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let connection = connection_of(&state, &name)?;
    let facts = state
        .store
        .connection_facts(&name)
        .await?
        .unwrap_or(Value::Null);
    let report =
        destinations::check_connection(&state.config, connection, facts, state.settings.retry)
            .await
            .map_err(ApiError::invalid)?;
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| json!({"ok": f.ok, "subject": f.subject, "detail": f.detail}))
        .collect();
    Ok(Json(json!({"ok": report.ok(), "findings": findings})))
}

async fn data_types(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let connection = connection_of(&state, &name)?;
    let settings = state.store.auto_sync(Some(&name)).await?;
    let facts = state
        .store
        .connection_facts(&name)
        .await?
        .unwrap_or(Value::Null);
    let people = state.store.count(&name, DataType::People.as_str()).await?;
    let recommendation = scheduler::recommend(&Account {
        attendees: people,
        data_types: connection.data_types.len() as u64,
        daily_quota: facts["daily_quota"].as_u64(),
        per_second: facts["per_second"].as_f64().unwrap_or(2.0),
        daily_change_rate: 0.05,
    });
    let plan = account_plan_of(&state, connection).await?;
    let planned_interval = plan
        .as_ref()
        .and_then(|plan| plan.interval_of(&name))
        .unwrap_or(recommendation.interval_seconds);
    let mut data = Vec::new();
    for data_type in &connection.data_types {
        let stream = state.store.state(&name, data_type.as_str()).await?;
        let setting = settings.iter().find(|s| s.data_type == data_type.as_str());
        let explicit = setting
            .map(|s| s.interval_seconds)
            .filter(|interval| *interval != scheduler::PLANNED);
        data.push(json!({
            "data_type": data_type.as_str(),
            "records": state.store.count(&name, data_type.as_str()).await?,
            "last_synced_at": stream.as_ref().and_then(|s| s.last_success_at.clone()),
            "totals": engine::totals::of(&state.store, &name, data_type.as_str()).await?,
            "auto_sync": {
                "enabled": setting.is_some_and(|s| s.enabled),
                "interval_seconds": explicit.map_or(planned_interval, u64::from),
                "planned": explicit.is_none(),
            },
        }));
    }
    Ok(Json(json!({
        "data": data,
        "auto_sync_end": scheduler::auto_sync_end(&facts, chrono::Utc::now()),
        "recommended_interval": {
            "interval_seconds": recommendation.interval_seconds,
            "steps": recommendation.steps,
        },
        "account_plan": plan,
    })))
}

/// The plan of the vendor account `connection` uses, `None` while none of the account's
/// connections has auto sync on.
async fn account_plan_of(
    state: &AppState,
    connection: &engine::Connection,
) -> ApiResult<Option<scheduler::AccountPlan>> {
    let account = engine::account_key(connection);
    let plans = scheduler::account_plans(
        &state.store,
        &state.config.connections,
        chrono::Utc::now(),
        &scheduler::real_time,
    )
    .await?;
    Ok(plans.into_iter().find(|plan| plan.account == account))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AutoSyncBody {
    enabled: bool,
    /// `None` (null or left out): the account plan sets the interval.
    #[serde(default)]
    interval_seconds: Option<u32>,
}

async fn set_auto_sync(
    State(state): State<AppState>,
    Path((name, data_type)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let connection = connection_of(&state, &name)?;
    let body: AutoSyncBody = json_body(body)?;
    let parsed: DataType = data_type
        .parse()
        .map_err(|error: pipeline::UnknownDataType| ApiError::invalid(error.to_string()))?;
    if !connection.data_types.contains(&parsed) {
        return Err(ApiError::invalid(format!(
            "connection '{name}' does not sync {data_type}"
        )));
    }
    if body
        .interval_seconds
        .is_some_and(|seconds| u64::from(seconds) < scheduler::MIN_INTERVAL_SECONDS)
    {
        return Err(ApiError::invalid(format!(
            "interval_seconds must be at least {}, or null for the account plan's interval",
            scheduler::MIN_INTERVAL_SECONDS
        )));
    }
    let stored = state
        .store
        .set_auto_sync(&store::AutoSync {
            connection: name,
            data_type,
            enabled: body.enabled,
            interval_seconds: body.interval_seconds.unwrap_or(scheduler::PLANNED),
            updated_at: String::new(),
        })
        .await?;
    // Intervals set by hand win over the plan, which says when together they pass the quota.
    let warnings = account_plan_of(&state, connection)
        .await?
        .map(|plan| plan.warnings)
        .unwrap_or_default();
    let mut answer = json!(stored);
    answer["planned"] = json!(stored.interval_seconds == scheduler::PLANNED);
    answer["plan_warnings"] = json!(warnings);
    Ok(Json(answer))
}

#[derive(Deserialize)]
struct RunsQuery {
    connection: Option<String>,
    limit: Option<u32>,
}

async fn list_runs(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query: RunsQuery = query_params(query)?;
    let limit = page_limit(query.limit)?;
    let runs = state.store.runs(query.connection.as_deref(), limit).await?;
    Ok(Json(json!({"data": runs})))
}

async fn get_run(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, "run")?;
    let run = state
        .store
        .run(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run {id}")))?;
    Ok(Json(json!(run)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRunBody {
    connection: String,
    kind: String,
    data_types: Option<Vec<String>>,
    #[serde(default)]
    full: bool,
}

async fn start_run(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body: StartRunBody = json_body(body)?;
    let connection = connection_of(&state, &body.connection)?;
    let kind = match body.kind.as_str() {
        "preview" => RunKind::Preview,
        "sync" => RunKind::Sync,
        other => {
            return Err(ApiError::invalid(format!(
                "kind '{other}' is neither 'preview' nor 'sync'"
            )));
        }
    };
    let data_types = match &body.data_types {
        None => connection.data_types.clone(),
        Some(names) => {
            let mut wanted = BTreeSet::new();
            for name in names {
                let data_type: DataType =
                    name.parse().map_err(|error: pipeline::UnknownDataType| {
                        ApiError::invalid(error.to_string())
                    })?;
                if !connection.data_types.contains(&data_type) {
                    return Err(ApiError::invalid(format!(
                        "connection '{}' does not sync {name}",
                        connection.name
                    )));
                }
                wanted.insert(data_type);
            }
            connection
                .data_types
                .iter()
                .copied()
                .filter(|t| wanted.contains(t))
                .collect()
        }
    };
    let request = RunRequest {
        connection: body.connection.clone(),
        kind,
        data_types,
        full: body.full,
        notify: true,
    };
    match crate::runs::start(&state, request).await {
        Ok(crate::runs::Started::Run(run_id)) => Ok((
            StatusCode::ACCEPTED,
            [(header::LOCATION, format!("/v1/runs/{run_id}"))],
            Json(json!({"run_id": run_id})),
        )
            .into_response()),
        Ok(crate::runs::Started::Busy(message)) => {
            Err(ApiError::conflict("run_in_progress", message))
        }
        Err(reason) => Err(ApiError::internal("starting the run", reason)),
    }
}

async fn run_report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let id = parse_id(&id, "run")?;
    crate::reports::run_report(
        &state,
        id,
        query.get("format").map(String::as_str),
        &headers,
    )
    .await
}

// ---- the workspace ----------------------------------------------------------------------------

/// Turns query parameters into a typed query, refusing unknown ones.
pub(crate) fn query_params<T: DeserializeOwned>(params: HashMap<String, String>) -> ApiResult<T> {
    let object: Map<String, Value> = params
        .into_iter()
        .map(|(key, value)| {
            let value = value
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or(Value::String(value));
            (key, value)
        })
        .collect();
    serde_json::from_value(Value::Object(object))
        .map_err(|error| ApiError::invalid(format!("query parameters: {error}")))
}

/// A list's page size: the default when absent, refused outside 1 to [`MAX_LIMIT`].
fn page_limit(limit: Option<u32>) -> ApiResult<u32> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid(format!(
            "limit must be a number from 1 to {MAX_LIMIT}"
        )))
    }
}

fn parse_id(text: &str, what: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            ApiError::invalid(format!("'{text}' is not a {what} id (a positive number)"))
        })
}

/// The connection a workspace call is about: the one named, or the only one configured.
pub(crate) fn workspace_connection(state: &AppState, named: Option<&str>) -> ApiResult<String> {
    match named {
        Some(name) => connection_of(state, name).map(|c| c.name.clone()),
        None => match state.config.connections.as_slice() {
            [only] => Ok(only.name.clone()),
            [] => Err(ApiError::invalid("the configuration has no connections")),
            _ => Err(ApiError::invalid(
                "several connections are configured: name one with ?connection=",
            )),
        },
    }
}

/// A record as the API shows it.
pub(crate) fn record_json(connection: &str, record: &StoredRecord) -> Value {
    let mut fields = engine::run::export_fields(record);
    fields.insert("connection".into(), Value::String(connection.to_string()));
    Value::Object(fields)
}

fn plain_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// One page of a filtered list.
struct Listing {
    data: Vec<Value>,
    next: Option<String>,
}

/// Lists `data_type` records of a connection matching every `filters` field exactly, in
/// external-id order, from after `after`.
async fn list_records(
    state: &AppState,
    connection: &str,
    data_type: DataType,
    filters: &BTreeMap<String, String>,
    after: Option<String>,
    limit: u32,
    keep: &(dyn Fn(&Value) -> bool + Sync),
) -> ApiResult<Listing> {
    let mut data = Vec::new();
    let mut cursor = after;
    let mut scanned = 0;
    let page_size = limit.max(200);
    loop {
        let page = state
            .store
            .export_page(
                Some(connection),
                data_type.as_str(),
                cursor.as_deref(),
                page_size,
            )
            .await?;
        let exhausted = page.len() < page_size as usize;
        for record in &page {
            scanned += 1;
            cursor = Some(record.external_id.clone());
            let shown = record_json(connection, record);
            let matches = filters
                .iter()
                .all(|(field, wanted)| plain_text(&shown[field]).as_deref() == Some(wanted));
            if matches && keep(&shown) {
                data.push(shown);
                if data.len() == limit as usize {
                    return Ok(Listing { data, next: cursor });
                }
            }
        }
        if exhausted {
            return Ok(Listing { data, next: None });
        }
        if scanned >= MAX_SCANNED {
            return Ok(Listing { data, next: cursor });
        }
    }
}

/// Splits list parameters into paging, the connection, flags and field filters.
struct ListParams {
    connection: Option<String>,
    after: Option<String>,
    limit: u32,
    flags: BTreeMap<String, String>,
    filters: BTreeMap<String, String>,
}

fn list_params(
    data_type: DataType,
    params: HashMap<String, String>,
    flags: &[&str],
) -> ApiResult<ListParams> {
    let mut list = ListParams {
        connection: None,
        after: None,
        limit: DEFAULT_LIMIT,
        flags: BTreeMap::new(),
        filters: BTreeMap::new(),
    };
    for (key, value) in params {
        match key.as_str() {
            "connection" => list.connection = Some(value),
            "after" => list.after = Some(value).filter(|v| !v.is_empty()),
            "limit" => {
                list.limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        ApiError::invalid(format!("limit must be a number from 1 to {MAX_LIMIT}"))
                    })?;
            }
            flag if flags.contains(&flag) => {
                list.flags.insert(key, value);
            }
            field
                if field == "external_id"
                    || data_type.field(field).is_some()
                    || field.starts_with("custom.") =>
            {
                list.filters.insert(key, value);
            }
            _ => {
                return Err(ApiError::invalid(format!(
                    "'{key}' is neither a paging parameter (connection, after, limit) nor a field of {data_type}"
                )));
            }
        }
    }
    Ok(list)
}

fn listing_json(listing: Listing) -> Json<Value> {
    Json(json!({"data": listing.data, "next": listing.next}))
}

async fn list_of(
    state: &AppState,
    data_type: DataType,
    params: HashMap<String, String>,
) -> ApiResult<Json<Value>> {
    let params = list_params(data_type, params, &[])?;
    let connection = workspace_connection(state, params.connection.as_deref())?;
    let listing = list_records(
        state,
        &connection,
        data_type,
        &params.filters,
        params.after,
        params.limit,
        &|_| true,
    )
    .await?;
    Ok(listing_json(listing))
}

async fn list_people(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    list_of(&state, DataType::People, params).await
}

async fn list_speakers(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    list_of(&state, DataType::Speakers, params).await
}

async fn list_registrations(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    list_of(&state, DataType::SessionRegistrations, params).await
}

async fn list_sessions(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let params = list_params(DataType::Sessions, params, &["include_hidden"])?;
    let include_hidden = match params.flags.get("include_hidden").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "include_hidden must be true or false, not '{other}'"
            )));
        }
    };
    let connection = workspace_connection(&state, params.connection.as_deref())?;
    let listing = list_records(
        &state,
        &connection,
        DataType::Sessions,
        &params.filters,
        params.after,
        params.limit,
        &|session| include_hidden || session["hidden"] != Value::Bool(true),
    )
    .await?;
    Ok(listing_json(listing))
}

async fn list_events(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let mut data = Vec::new();
    for connection in &state.config.connections {
        let facts = state.store.connection_facts(&connection.name).await?;
        if let Some(facts) = facts
            && let Some(event_id) = facts["event_id"].as_str()
        {
            data.push(json!({
                "connection": connection.name,
                "external_id": event_id,
                "title": facts["event_title"].as_str(),
            }));
        }
    }
    Ok(Json(json!({"data": data, "next": null})))
}

// ---- registrations and check-ins --------------------------------------------------------------

/// One person's registration to a session as the app sees it: imported from the vendor, or
/// written from the app and on its way (or refused).
#[derive(Debug, Clone)]
struct RegistrationView {
    person_id: String,
    session_id: String,
    /// `registered`, `waitlisted`, `pending`, `sent`, `failed`, `local`.
    state: String,
    reason: Option<String>,
    outbox_id: Option<i64>,
}

impl RegistrationView {
    fn counts_as_registered(&self) -> bool {
        matches!(
            self.state.as_str(),
            "registered" | "waitlisted" | "pending" | "sending" | "sent" | "local"
        )
    }

    fn to_json(&self, connection: &str) -> Value {
        json!({
            "connection": connection,
            "person_external_id": self.person_id,
            "session_external_id": self.session_id,
            "state": self.state,
            "reason": self.reason,
            "outbox_id": self.outbox_id,
        })
    }
}

/// Every registration of the connection matching `session` and/or `person`, imported ones
/// overlaid by the app's later writes.
async fn registrations(
    state: &AppState,
    connection: &str,
    session: Option<&str>,
    person: Option<&str>,
) -> ApiResult<Vec<RegistrationView>> {
    let mut filters = BTreeMap::new();
    if let Some(session) = session {
        filters.insert("session_external_id".to_string(), session.to_string());
    }
    if let Some(person) = person {
        filters.insert("person_external_id".to_string(), person.to_string());
    }
    let mut views: BTreeMap<(String, String), RegistrationView> = BTreeMap::new();
    let mut after = None;
    loop {
        let listing = list_records(
            state,
            connection,
            DataType::SessionRegistrations,
            &filters,
            after,
            MAX_LIMIT,
            &|_| true,
        )
        .await?;
        for record in &listing.data {
            let status = record["status"].as_str().unwrap_or("registered");
            if status == pipeline::CANCELLED {
                continue;
            }
            let person_id = record["person_external_id"].as_str().unwrap_or_default();
            let session_id = record["session_external_id"].as_str().unwrap_or_default();
            // A registration to a workspace session lives in the workspace only.
            let local = record["external_id"]
                .as_str()
                .is_some_and(store::is_local_id);
            views.insert(
                (session_id.to_string(), person_id.to_string()),
                RegistrationView {
                    person_id: person_id.to_string(),
                    session_id: session_id.to_string(),
                    state: if local { "local" } else { status }.to_string(),
                    reason: None,
                    outbox_id: None,
                },
            );
        }
        match listing.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut after_id = None;
    loop {
        let items = state
            .store
            .outbox(&OutboxQuery {
                connection: Some(connection.to_string()),
                session_id: session.map(str::to_string),
                attendee_id: person.map(str::to_string),
                after_id,
                limit: 1000,
                ..OutboxQuery::default()
            })
            .await?;
        for item in &items {
            apply_write(&mut views, item);
        }
        match items.last() {
            Some(last) if items.len() == 1000 => after_id = Some(last.id),
            _ => break,
        }
    }
    Ok(views.into_values().collect())
}

/// Lays an app write over the registrations, in the order the writes were made.
fn apply_write(views: &mut BTreeMap<(String, String), RegistrationView>, item: &OutboxItem) {
    let Some(session_id) = item.session_id.clone() else {
        return;
    };
    let key = (session_id.clone(), item.attendee_id.clone());
    match item.operation {
        OutboxOperation::Enroll => {
            views.insert(
                key,
                RegistrationView {
                    person_id: item.attendee_id.clone(),
                    session_id,
                    state: item.status.as_str().to_string(),
                    reason: item.last_error.clone(),
                    outbox_id: Some(item.id),
                },
            );
        }
        // A refused unenrollment leaves the registration as it was.
        OutboxOperation::Unenroll if item.status != OutboxStatus::Failed => {
            views.remove(&key);
        }
        _ => {}
    }
}

async fn session_registrations(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query: ConnectionQuery = query_params(params)?;
    let connection = workspace_connection(&state, query.connection.as_deref())?;
    find_record(&state, &connection, DataType::Sessions, &session_id).await?;
    let views = registrations(&state, &connection, Some(&session_id), None).await?;
    let data: Vec<Value> = views.iter().map(|v| v.to_json(&connection)).collect();
    Ok(Json(json!({"data": data, "next": null})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionQuery {
    connection: Option<String>,
}

async fn person_sessions(
    State(state): State<AppState>,
    Path(person_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query: ConnectionQuery = query_params(params)?;
    let connection = workspace_connection(&state, query.connection.as_deref())?;
    find_record(&state, &connection, DataType::People, &person_id).await?;
    let views = registrations(&state, &connection, None, Some(&person_id)).await?;
    let ids: Vec<String> = views.iter().map(|v| v.session_id.clone()).collect();
    let sessions = state
        .store
        .records(&connection, DataType::Sessions.as_str(), &ids)
        .await?;
    let data: Vec<Value> = views
        .iter()
        .filter(|view| view.counts_as_registered() || view.state == "failed")
        .map(|view| {
            json!({
                "registration": view.to_json(&connection),
                "session": sessions.get(&view.session_id).map(|s| record_json(&connection, s)),
            })
        })
        .collect();
    Ok(Json(json!({"data": data, "next": null})))
}

async fn find_record(
    state: &AppState,
    connection: &str,
    data_type: DataType,
    id: &str,
) -> ApiResult<StoredRecord> {
    let mut found = state
        .store
        .records(connection, data_type.as_str(), &[id.to_string()])
        .await?;
    found.remove(id).ok_or_else(|| {
        ApiError::not_found(format!(
            "the workspace has no {} '{id}' in connection '{connection}'",
            match data_type {
                DataType::People => "person",
                DataType::Sessions => "session",
                _ => data_type.as_str(),
            }
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    person_id: String,
    connection: Option<String>,
}

async fn register(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body: RegisterBody = json_body(body)?;
    let connection = workspace_connection(&state, body.connection.as_deref())?;
    // One registration decision at a time, so that two callers cannot both take the last seat:
    // in this process, and (on PostgreSQL) across every process serving the workspace.
    let _decision = state.registration_lock.lock().await;
    let seats = state
        .store
        .lock(&format!("seats/{connection}/{session_id}"))
        .await?;
    let session = find_record(&state, &connection, DataType::Sessions, &session_id).await?;
    find_record(&state, &connection, DataType::People, &body.person_id).await?;
    let views = registrations(&state, &connection, Some(&session_id), None).await?;
    if views
        .iter()
        .any(|v| v.person_id == body.person_id && v.counts_as_registered())
    {
        return Err(ApiError::conflict(
            "already_registered",
            format!(
                "'{}' is already registered to session '{session_id}'",
                body.person_id
            ),
        ));
    }
    let taken = views.iter().filter(|v| v.counts_as_registered()).count() as u64;
    let shown = record_json(&connection, &session);
    if let Some(capacity) = shown["capacity"].as_u64()
        && taken >= capacity
    {
        return Err(ApiError::conflict(
            "session_full",
            format!("session '{session_id}' is full: {taken} of {capacity} seats taken"),
        ));
    }
    if store::is_local_id(&session_id) {
        let response =
            crate::local::register(&state, &connection, &session_id, &body.person_id).await?;
        seats.release().await?;
        return Ok(response);
    }
    let item = state
        .store
        .enqueue_outbox(&NewOutboxItem {
            connection,
            operation: OutboxOperation::Enroll,
            session_id: Some(session_id),
            attendee_id: body.person_id,
            payload: json!({}),
            local: false,
        })
        .await?;
    // Released only once the registration is stored, so the next decision counts it.
    seats.release().await?;
    state.wake_outbox.notify_one();
    Ok((StatusCode::ACCEPTED, Json(outbox_json(&item))).into_response())
}

async fn unregister(
    State(state): State<AppState>,
    Path((session_id, person_id)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let query: ConnectionQuery = query_params(params)?;
    let connection = workspace_connection(&state, query.connection.as_deref())?;
    let _decision = state.registration_lock.lock().await;
    let views = registrations(&state, &connection, Some(&session_id), Some(&person_id)).await?;
    if !views.iter().any(|v| v.counts_as_registered()) {
        return Err(ApiError::not_found(format!(
            "'{person_id}' is not registered to session '{session_id}'"
        )));
    }
    if store::is_local_id(&session_id) {
        return crate::local::unregister(&state, &connection, &session_id, &person_id).await;
    }
    let item = state
        .store
        .enqueue_outbox(&NewOutboxItem {
            connection,
            operation: OutboxOperation::Unenroll,
            session_id: Some(session_id),
            attendee_id: person_id,
            payload: json!({}),
            local: false,
        })
        .await?;
    state.wake_outbox.notify_one();
    Ok((StatusCode::ACCEPTED, Json(outbox_json(&item))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckInBody {
    person_id: String,
    connection: Option<String>,
    /// RFC 3339; now when absent.
    at: Option<String>,
}

async fn check_in(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body: CheckInBody = json_body(body)?;
    let connection = workspace_connection(&state, body.connection.as_deref())?;
    find_record(&state, &connection, DataType::People, &body.person_id).await?;
    let at = match &body.at {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|_| {
                ApiError::invalid(format!(
                    "at '{text}' is not an RFC 3339 time such as 2026-05-01T09:00:00Z"
                ))
            })?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    };
    let item = state
        .store
        .enqueue_outbox(&NewOutboxItem {
            connection,
            operation: OutboxOperation::CheckIn,
            session_id: None,
            attendee_id: body.person_id,
            payload: json!({"checkIn": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}),
            local: false,
        })
        .await?;
    state.wake_outbox.notify_one();
    Ok((StatusCode::ACCEPTED, Json(outbox_json(&item))).into_response())
}

async fn list_check_ins(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query: OutboxParams = query_params(params)?;
    let limit = page_limit(query.limit)?;
    let mut data = Vec::new();
    let mut after_id = query.after;
    let mut next = None;
    'pages: loop {
        let items = state
            .store
            .outbox(&OutboxQuery {
                connection: query.connection.clone(),
                attendee_id: query.person_id.clone(),
                after_id,
                limit: 1000,
                ..OutboxQuery::default()
            })
            .await?;
        for item in &items {
            after_id = Some(item.id);
            if item.operation == OutboxOperation::CheckIn {
                data.push(outbox_json(item));
                if data.len() == limit as usize {
                    next = Some(item.id);
                    break 'pages;
                }
            }
        }
        if items.len() < 1000 {
            break;
        }
    }
    Ok(Json(json!({"data": data, "next": next})))
}

// ---- outbox and webhooks ----------------------------------------------------------------------

fn outbox_json(item: &OutboxItem) -> Value {
    json!({
        "id": item.id,
        "connection": item.connection,
        "operation": item.operation,
        "session_external_id": item.session_id,
        "person_external_id": item.attendee_id,
        "payload": item.payload,
        "status": item.status,
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at,
        "last_error": item.last_error,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "sent_at": item.sent_at,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxParams {
    connection: Option<String>,
    status: Option<String>,
    person_id: Option<String>,
    after: Option<i64>,
    limit: Option<u32>,
}

async fn list_outbox(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query: OutboxParams = query_params(params)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(OutboxStatus::parse(text).ok_or_else(|| {
            ApiError::invalid(format!(
                "status '{text}' is not one of pending, sending, sent, failed, local"
            ))
        })?),
    };
    let limit = page_limit(query.limit)?;
    let items = state
        .store
        .outbox(&OutboxQuery {
            connection: query.connection,
            status,
            attendee_id: query.person_id,
            after_id: query.after,
            limit,
            ..OutboxQuery::default()
        })
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|item| item.id))
        .flatten();
    let data: Vec<Value> = items.iter().map(outbox_json).collect();
    Ok(Json(json!({"data": data, "next": next})))
}

async fn get_outbox_item(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, "outbox item")?;
    let item = state
        .store
        .outbox_item(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no outbox item {id}")))?;
    Ok(Json(outbox_json(&item)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookParams {
    connection: Option<String>,
    after: Option<i64>,
    limit: Option<u32>,
}

async fn list_webhooks(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query: WebhookParams = query_params(params)?;
    let limit = page_limit(query.limit)?;
    let deliveries = state
        .store
        .webhooks(query.connection.as_deref(), query.after, limit)
        .await?;
    let next = (deliveries.len() == limit as usize)
        .then(|| deliveries.last().map(|d| d.id))
        .flatten();
    Ok(Json(json!({"data": deliveries, "next": next})))
}
