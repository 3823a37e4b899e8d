//! Connections and runs over the API: the configured connections (never their secrets), a
//! connection's check, its data types with their auto-sync settings and the account's plan, and
//! runs — started, listed, cancelled, and a preview's report.

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::RunKind;
use pipeline::DataType;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{connection_of, json_body, page_limit, parse_id, query_params};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::runs::RunRequest;
use crate::scheduler::{self, Account};

pub(super) async fn list_connections(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let mut data = Vec::new();
    for connection in &state.config().connections {
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

pub(super) async fn check_connection(
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
        destinations::check_connection(&state.config(), &connection, facts, state.settings.retry)
            .await
            .map_err(ApiError::invalid)?;
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| json!({"ok": f.ok, "subject": f.subject, "detail": f.detail}))
        .collect();
    Ok(Json(json!({"ok": report.ok(), "findings": findings})))
}

pub(super) async fn data_types(
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
        data.push(json!({
            "data_type": data_type.as_str(),
            "records": state.store.count(&name, data_type.as_str()).await?,
            "last_synced_at": stream
                .as_ref()
                .and_then(|s| s.last_success_at.as_deref())
                .map(crate::time::seconds),
            "totals": totals_json(&state, &name, *data_type).await?,
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
        &state.config().connections,
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

pub(super) async fn set_auto_sync(
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
    let warnings = account_plan_of(&state, &connection)
        .await?
        .map(|plan| plan.warnings)
        .unwrap_or_default();
    let mut answer = json!(stored);
    answer["updated_at"] = Value::String(crate::time::seconds(&stored.updated_at));
    answer["planned"] = json!(stored.interval_seconds == scheduler::PLANNED);
    answer["plan_warnings"] = json!(warnings);
    Ok(Json(answer))
}

#[derive(Deserialize)]
struct RunsQuery {
    connection: Option<String>,
    limit: Option<u32>,
}

pub(super) async fn list_runs(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query: RunsQuery = query_params(query)?;
    let limit = page_limit(query.limit)?;
    let runs = state.store.runs(query.connection.as_deref(), limit).await?;
    let data: Vec<Value> = runs.iter().map(run_json).collect();
    Ok(Json(json!({"data": data})))
}

pub(super) async fn get_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id(&id, "run")?;
    let run = state
        .store
        .run(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run {id}")))?;
    Ok(Json(run_json(&run)))
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
            Json(json!({"run_id": run_id})),
        )
            .into_response()),
        Ok(crate::runs::Started::Busy(message)) => {
            Err(ApiError::conflict("run_in_progress", message))
        }
        Err(reason) => Err(ApiError::internal("starting the run", reason)),
    }
}

/// A data type's monitoring totals, with the time of the count to the second.
async fn totals_json(state: &AppState, connection: &str, data_type: DataType) -> ApiResult<Value> {
    let totals = engine::totals::of(&state.store, connection, data_type.as_str()).await?;
    let mut shown = json!(totals);
    if let Some(at) = shown["counted_at"].as_str() {
        shown["counted_at"] = Value::String(crate::time::seconds(at));
    }
    Ok(shown)
}

/// A run as the API shows it: times to the second, and every action counted for every data
/// type of the run, zeros included.
pub fn run_json(run: &store::RunSummary) -> Value {
    let mut shown = json!(run);
    for key in ["started_at", "finished_at", "resets_at"] {
        if let Some(at) = shown[key].as_str() {
            shown[key] = Value::String(crate::time::seconds(at));
        }
    }
    let actions = pipeline::ActionKind::ALL
        .iter()
        .map(|action| action.as_str())
        .chain([engine::run::SKIPPED, engine::run::FILTERED]);
    let mut counts = serde_json::Map::new();
    for data_type in &run.data_types {
        let known = run.counts.get(data_type);
        let mut of_type: serde_json::Map<String, Value> = actions
            .clone()
            .map(|action| (action.to_string(), Value::from(0u64)))
            .collect();
        for (action, count) in known.into_iter().flatten() {
            of_type.insert(action.clone(), Value::from(*count));
        }
        counts.insert(data_type.clone(), Value::Object(of_type));
    }
    for (data_type, of_type) in &run.counts {
        counts
            .entry(data_type.clone())
            .or_insert_with(|| json!(of_type));
    }
    shown["counts"] = Value::Object(counts);
    shown
}

/// `POST /v1/runs/{id}/cancel`: the run stops at its next page boundary and ends `cancelled`.
pub(super) async fn cancel_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id, "run")?;
    match crate::runs::cancel(&state, id).await? {
        crate::runs::Cancel::Requested(run) => {
            let mut shown = run_json(&run);
            shown["cancel_requested"] = Value::Bool(true);
            Ok((StatusCode::ACCEPTED, Json(shown)).into_response())
        }
        crate::runs::Cancel::Ended(run) => Err(ApiError::conflict(
            "run_ended",
            format!("run {id} has ended already ({})", run.status),
        )),
        crate::runs::Cancel::Unknown => Err(ApiError::not_found(format!("no run {id}"))),
    }
}

pub(super) async fn run_report(
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
