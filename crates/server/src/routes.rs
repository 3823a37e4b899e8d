//! The HTTP routes: the API under `/v1` (bearer token), Cvent webhooks under `/webhooks`, and
//! `/healthz`, `/metrics`, `/openapi.json`. Every route sits behind the IP allow-list, every
//! error is JSON.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use tower_http::timeout::TimeoutLayer;

use crate::error::{ApiError, ApiResult};
use crate::{AppState, access, input, openapi, security, webhooks};

mod outbox;
pub(crate) mod records;
mod registrations;
mod runs;
mod tokens;

pub use outbox::outbox_json;
pub(crate) use records::record_json;
pub use runs::run_json;
pub use tokens::token_json;

/// Records one list call returns at most.
const MAX_LIMIT: u32 = 500;
const DEFAULT_LIMIT: u32 = 100;

pub fn router(state: AppState) -> Router {
    let mut api = Router::new()
        .merge(crate::connections::router())
        .route("/v1/connections", get(runs::list_connections))
        .route(
            "/v1/connections/{connection}/check",
            post(runs::check_connection),
        )
        .route(
            "/v1/connections/{connection}/imis/import-event",
            post(crate::imis_routes::import_event),
        )
        .route(
            "/v1/connections/{connection}/data-types",
            get(runs::data_types),
        )
        .route(
            "/v1/connections/{connection}/data-types/{data_type}/auto-sync",
            put(runs::set_auto_sync),
        )
        .route("/v1/runs", get(runs::list_runs).post(runs::start_run))
        .route("/v1/runs/{id}", get(runs::get_run))
        .route("/v1/runs/{id}/report", get(runs::run_report))
        .route("/v1/runs/{id}/cancel", post(runs::cancel_run))
        .route("/v1/events", get(records::list_events))
        .route(
            "/v1/people/{id}/sessions",
            get(registrations::person_sessions),
        )
        .route("/v1/sessions", post(crate::local::create_session))
        .route(
            "/v1/sessions/{id}/registrations",
            get(registrations::session_registrations).post(registrations::register),
        )
        .route(
            "/v1/sessions/{id}/registrations/{person_id}",
            delete(registrations::unregister),
        )
        .route(
            "/v1/check-ins",
            get(registrations::list_check_ins).post(registrations::check_in),
        )
        .route("/v1/outbox", get(outbox::list_outbox))
        .route("/v1/outbox/{id}", get(outbox::get_outbox_item))
        .route("/v1/outbox/{id}/retry", post(outbox::retry_outbox_item))
        .route("/v1/webhooks", get(outbox::list_webhooks))
        .route("/v1/changes", get(crate::changes::list_changes))
        .route(
            "/v1/tokens",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route("/v1/tokens/{id}", delete(tokens::revoke_token));
    for list in records::LISTS {
        let data_type = list.data_type;
        api = api.route(
            list.path,
            get(move |state, query| records::list(state, query, data_type)),
        );
    }
    let api = api
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
        .layer(middleware::map_response(access::mark_answered))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            state.settings.request_timeout,
        ))
        .layer(middleware::map_response(access::timeout_as_json))
        .layer(DefaultBodyLimit::max(state.settings.body_limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::allow_list,
        ))
        .layer(access::log())
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
    let text = crate::metrics::render(&state).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

// ---- shared by the routes ----------------------------------------------------------------------

fn connection_of(state: &AppState, name: &str) -> ApiResult<engine::Connection> {
    state
        .connection(name)
        .ok_or_else(|| ApiError::not_found(format!("no connection named '{name}'")))
}

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
        None => match state.config().connections.as_slice() {
            [only] => Ok(only.name.clone()),
            [] => Err(ApiError::invalid("the configuration has no connections")),
            _ => Err(ApiError::invalid(
                "several connections are configured: name one with ?connection=",
            )),
        },
    }
}
