//! Connections and runs over the API: the configured connections (never their secrets), a
//! connection's check, its data types with their auto-sync settings and the account's plan, and
//! runs — started, listed, cancelled, and a preview's report.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::RunKind;
use pipeline::DataType;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::openapi::Schema;
use utoipa::{IntoParams, ToSchema};

use super::{connection_of, json_body, page_limit, parse_id, query_params};
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorAnswer};
use crate::runs::RunRequest;
use crate::scheduler::{self, Account};

/// A configured connection as the list shows it: never its secrets.
#[derive(Serialize, ToSchema)]
pub(super) struct ConnectionSummary {
    name: String,
    kind: String,
    data_types: Vec<String>,
    event_id: Option<String>,
    event_title: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ConnectionList {
    data: Vec<ConnectionSummary>,
}

#[utoipa::path(
    get,
    path = "/v1/connections",
    summary = "The configured connections (never their secrets)",
    responses((status = 200, description = "the connections", body = ConnectionList))
)]
pub(super) async fn list_connections(
    State(state): State<AppState>,
) -> ApiResult<Json<ConnectionList>> {
    let mut data = Vec::new();
    for connection in &state.config().connections {
        let facts = state.store.connection_facts(&connection.name).await?;
        let fact = |key: &str| {
            facts
                .as_ref()
                .and_then(|f| f[key].as_str())
                .map(str::to_string)
        };
        data.push(ConnectionSummary {
            name: connection.name.clone(),
            kind: connection.kind().to_string(),
            data_types: connection
                .data_types
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            event_id: fact("event_id"),
            event_title: fact("event_title"),
        });
    }
    Ok(Json(ConnectionList { data }))
}

/// What a connection's check found.
#[derive(Serialize, ToSchema)]
pub(super) struct CheckAnswer {
    /// Whether every finding is.
    ok: bool,
    findings: Vec<Finding>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Finding {
    ok: bool,
    subject: String,
    detail: String,
}

#[utoipa::path(
    post,
    path = "/v1/connections/{connection}/check",
    summary = "Checks credentials, tier, event code and a read per data type",
    params(("connection" = String, Path, description = "an id")),
    responses((status = 200, description = "the findings", body = CheckAnswer))
)]
pub(super) async fn check_connection(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<CheckAnswer>> {
    let connection = connection_of(&state, &name)?;
    let facts = state
        .store
        .connection_facts(&name)
        .await?
        .unwrap_or(Value::Null);
    let report =
        destinations::check_connection(&state.config(), &connection, facts, state.settings.retry)
            .await
            .map_err(ApiError::invalid)?;
    let findings = report
        .findings
        .iter()
        .map(|f| Finding {
            ok: f.ok,
            subject: f.subject.to_string(),
            detail: f.detail.to_string(),
        })
        .collect();
    Ok(Json(CheckAnswer {
        ok: report.ok(),
        findings,
    }))
}

#[utoipa::path(
    get,
    path = "/v1/connections/{connection}/data-types",
    summary = "Per data type: records, last synced, auto-sync settings; the recommended interval and the vendor account's plan, with their arithmetic",
    params(("connection" = String, Path, description = "an id")),
    responses((status = 200, description = "the data types", body = DataTypesAnswer))
)]
pub(super) async fn data_types(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<DataTypesAnswer>> {
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
    let plan = account_plan_of(&state, &connection).await?;
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
        data.push(DataTypeShown {
            data_type: data_type.as_str().to_string(),
            records: state.store.count(&name, data_type.as_str()).await?,
            last_synced_at: stream
                .as_ref()
                .and_then(|s| s.last_success_at.as_deref())
                .map(crate::time::seconds),
            totals: totals_shown(&state, &name, *data_type).await?,
            auto_sync: AutoSyncShown {
                enabled: setting.is_some_and(|s| s.enabled),
                interval_seconds: explicit.map_or(planned_interval, u64::from),
                planned: explicit.is_none(),
            },
        });
    }
    Ok(Json(DataTypesAnswer {
        data,
        auto_sync_end: scheduler::auto_sync_end(&facts, chrono::Utc::now()),
        recommended_interval: recommendation,
        account_plan: plan,
    }))
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
        &state.config().connections,
        chrono::Utc::now(),
        &scheduler::real_time,
    )
    .await?;
    Ok(plans.into_iter().find(|plan| plan.account == account))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AutoSyncBody {
    enabled: bool,
    /// Set by hand, it wins over the account plan; null or left out, the plan sets it.
    #[serde(default)]
    #[schema(minimum = 60, maximum = 4294967295_u64)]
    interval_seconds: Option<u32>,
}

/// One data type's auto-sync setting as stored.
#[derive(Serialize, ToSchema)]
pub(super) struct AutoSyncAnswer {
    connection: String,
    data_type: String,
    enabled: bool,
    /// 0 when the account plan sets it.
    interval_seconds: u32,
    updated_at: String,
    planned: bool,
    /// E.g. the intervals set by hand together pass the account's quota.
    plan_warnings: Vec<String>,
}

#[utoipa::path(
    put,
    path = "/v1/connections/{connection}/data-types/{data_type}/auto-sync",
    summary = "Turns auto sync of one data type on or off and sets its interval (null: the account plan's)",
    params(
        ("connection" = String, Path, description = "an id"),
        ("data_type" = String, Path, description = "an id"),
    ),
    request_body = AutoSyncBody,
    responses((status = 200, description = "the stored setting", body = AutoSyncAnswer))
)]
pub(super) async fn set_auto_sync(
    State(state): State<AppState>,
    Path((name, data_type)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<AutoSyncAnswer>> {
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
    let warnings = account_plan_of(&state, &connection)
        .await?
        .map(|plan| plan.warnings)
        .unwrap_or_default();
    Ok(Json(AutoSyncAnswer {
        planned: stored.interval_seconds == scheduler::PLANNED,
        updated_at: crate::time::seconds(&stored.updated_at),
        connection: stored.connection,
        data_type: stored.data_type,
        enabled: stored.enabled,
        interval_seconds: stored.interval_seconds,
        plan_warnings: warnings,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct RunsQuery {
    /// Only this connection's runs.
    connection: Option<String>,
    /// How many (100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct RunList {
    data: Vec<Run>,
}

#[utoipa::path(
    get,
    path = "/v1/runs",
    summary = "Run history, newest first",
    params(RunsQuery),
    responses((status = 200, description = "the runs", body = RunList))
)]
pub(super) async fn list_runs(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<RunList>> {
    let query: RunsQuery = query_params(query)?;
    let limit = page_limit(query.limit)?;
    let runs = state.store.runs(query.connection.as_deref(), limit).await?;
    Ok(Json(RunList {
        data: runs.iter().map(Run::from).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/v1/runs/{id}",
    summary = "One run: status, counts per data type and action, calls, errors",
    params(("id" = i64, Path, description = "a positive number", minimum = 1)),
    responses((status = 200, description = "the run", body = Run))
)]
pub(super) async fn get_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Run>> {
    let id = parse_id(&id, "run")?;
    let run = state
        .store
        .run(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run {id}")))?;
    Ok(Json(Run::from(&run)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StartRunBody {
    connection: String,
    #[schema(schema_with = run_kinds)]
    kind: String,
    data_types: Option<Vec<String>>,
    #[serde(default)]
    full: bool,
}

/// The kinds a run may be started as.
fn run_kinds() -> Schema {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["preview", "sync"]))
        .into()
}

/// The answer to a run started.
#[derive(Serialize, ToSchema)]
pub(super) struct RunStarted {
    run_id: i64,
}

#[utoipa::path(
    post,
    path = "/v1/runs",
    summary = "Starts a preview or a sync",
    request_body = StartRunBody,
    responses(
        (status = 202, description = "the run started", body = RunStarted,
            headers(("Location" = String, description = "the run's own route"))),
        (status = 409, description = "the connection has a run going", body = ErrorAnswer),
    )
)]
pub(super) async fn start_run(
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
            Json(RunStarted { run_id }),
        )
            .into_response()),
        Ok(crate::runs::Started::Busy(message)) => {
            Err(ApiError::conflict("run_in_progress", message))
        }
        Err(reason) => Err(ApiError::internal("starting the run", reason)),
    }
}

/// A data type's monitoring totals, with the time of the count to the second.
async fn totals_shown(
    state: &AppState,
    connection: &str,
    data_type: DataType,
) -> ApiResult<engine::totals::Totals> {
    let mut totals = engine::totals::of(&state.store, connection, data_type.as_str()).await?;
    totals.counted_at = totals.counted_at.as_deref().map(crate::time::seconds);
    Ok(totals)
}

/// A run as the API shows it: times to the second, and every action counted for every data
/// type of the run, zeros included.
pub fn run_json(run: &store::RunSummary) -> Value {
    json!(Run::from(run))
}

/// A run as the API shows it; `Run` in the OpenAPI document.
#[derive(Serialize, ToSchema)]
pub(crate) struct Run {
    id: i64,
    connection: String,
    /// `preview` or `sync`.
    kind: String,
    data_types: Vec<String>,
    /// `running` until the run finishes.
    status: String,
    started_at: String,
    finished_at: Option<String>,
    /// Data type → action → records, every action of every data type of the run counted.
    counts: BTreeMap<String, BTreeMap<String, u64>>,
    api_calls: u64,
    /// Where the vendor listing stood before the run.
    cursor_before: Value,
    /// Where it stood after; `null` while the run goes on.
    cursor_after: Value,
    errors: Vec<String>,
    resets_at: Option<String>,
}

impl From<&store::RunSummary> for Run {
    fn from(run: &store::RunSummary) -> Run {
        let seconds = |at: &str| crate::time::seconds(at);
        Run {
            id: run.id,
            connection: run.connection.clone(),
            kind: run.kind.clone(),
            data_types: run.data_types.clone(),
            status: run.status.clone(),
            started_at: seconds(&run.started_at),
            finished_at: run.finished_at.as_deref().map(seconds),
            counts: every_count(run),
            api_calls: run.api_calls,
            cursor_before: run.cursor_before.clone(),
            cursor_after: run.cursor_after.clone(),
            errors: run.errors.clone(),
            resets_at: run.resets_at.as_deref().map(seconds),
        }
    }
}

/// The run's counts with every action of every data type of the run, zeros included.
fn every_count(run: &store::RunSummary) -> BTreeMap<String, BTreeMap<String, u64>> {
    let actions = pipeline::ActionKind::ALL
        .iter()
        .map(|action| action.as_str())
        .chain([engine::run::SKIPPED, engine::run::FILTERED]);
    let mut counts = BTreeMap::new();
    for data_type in &run.data_types {
        let known = run.counts.get(data_type);
        let mut of_type: BTreeMap<String, u64> = actions
            .clone()
            .map(|action| (action.to_string(), 0))
            .collect();
        for (action, count) in known.into_iter().flatten() {
            of_type.insert(action.clone(), *count);
        }
        counts.insert(data_type.clone(), of_type);
    }
    for (data_type, of_type) in &run.counts {
        counts
            .entry(data_type.clone())
            .or_insert_with(|| of_type.clone());
    }
    counts
}

/// A run asked to stop.
#[derive(Serialize, ToSchema)]
pub(super) struct CancelRequested {
    #[serde(flatten)]
    run: Run,
    /// Always true: the run is `running` until it reaches a page boundary.
    cancel_requested: bool,
}

/// `POST /v1/runs/{id}/cancel`: the run stops at its next page boundary and ends `cancelled`.
#[utoipa::path(
    post,
    path = "/v1/runs/{id}/cancel",
    summary = "Asks a running run to stop: it stops at its next page boundary, keeps what it stored, and ends `cancelled`; the next sync goes on from there",
    params(("id" = i64, Path, description = "a positive number", minimum = 1)),
    responses(
        (status = 202, description = "asked; the run is `running` until it reaches a page boundary", body = CancelRequested),
        (status = 409, description = "the run has ended already", body = ErrorAnswer),
    )
)]
pub(super) async fn cancel_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "run")?;
    match crate::runs::cancel(&state, id).await? {
        crate::runs::Cancel::Requested(run) => {
            let shown = CancelRequested {
                run: Run::from(&run),
                cancel_requested: true,
            };
            Ok((StatusCode::ACCEPTED, Json(shown)).into_response())
        }
        crate::runs::Cancel::Ended(run) => Err(ApiError::conflict(
            "run_ended",
            format!("run {id} has ended already ({})", run.status),
        )),
        crate::runs::Cancel::Unknown => Err(ApiError::not_found(format!("no run {id}"))),
    }
}

/// What the report's route takes in its query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ReportQuery {
    /// csv or xlsx; overrides Accept.
    #[param(schema_with = report_formats)]
    format: Option<String>,
}

fn report_formats() -> Schema {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["csv", "xlsx"]))
        .into()
}

#[utoipa::path(
    get,
    path = "/v1/runs/{id}/report",
    summary = "A preview's report, one row per record",
    description = "CSV or an XLSX workbook with the same rows and columns: `format` chooses; without it, the `Accept` header does (text/csv or the XLSX media type), and CSV when neither says. The CSV report answers one `Range: bytes=first-last` with those bytes (206), so a reader can fetch rows at places it knows.",
    params(("id" = i64, Path, description = "a positive number", minimum = 1), ReportQuery),
    responses(
        (status = 200, description = "the report", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 206, description = "the bytes of the CSV report a `Range: bytes=first-last` header asked for (one range), with `Content-Range`", body = String, content_type = "text/csv"),
        (status = 406, description = "the Accept header names neither text/csv nor the XLSX media type", body = ErrorAnswer),
        (status = 409, description = "the run is still going: its report is ready when it ends", body = ErrorAnswer),
        (status = 416, description = "the range asked for starts past the CSV report's end; `Content-Range` gives its length"),
        (status = 500, description = "the report file could not be read", body = ErrorAnswer),
    )
)]
pub(super) async fn run_report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let id = parse_id(&id, "run")?;
    let query: ReportQuery = query_params(query)?;
    crate::reports::run_report(&state, id, query.format.as_deref(), &headers).await
}

/// The answer of `GET /v1/connections/{connection}/data-types`: the connection's data types,
/// when auto sync ends, the recommended interval and the vendor account's plan.
#[derive(Serialize, ToSchema)]
pub(super) struct DataTypesAnswer {
    data: Vec<DataTypeShown>,
    /// Auto sync stops 7 days after the event's end date; null when the vendor gave none.
    auto_sync_end: Option<scheduler::AutoSyncEnd>,
    recommended_interval: scheduler::Recommendation,
    /// Null while none of the account's connections has auto sync on.
    account_plan: Option<scheduler::AccountPlan>,
}

/// One data type of a connection: its records, last sync, monitoring totals and auto sync.
#[derive(Serialize, ToSchema)]
struct DataTypeShown {
    data_type: String,
    records: u64,
    last_synced_at: Option<String>,
    totals: engine::totals::Totals,
    auto_sync: AutoSyncShown,
}

/// A data type's auto sync as it runs.
#[derive(Serialize, ToSchema)]
struct AutoSyncShown {
    enabled: bool,
    /// The interval in force: set by hand, or the account plan's.
    interval_seconds: u64,
    /// Whether the account plan sets the interval.
    planned: bool,
}
