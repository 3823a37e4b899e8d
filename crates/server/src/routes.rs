//! The HTTP routes: the API under `/v1` (bearer token), Cvent webhooks under `/webhooks`, and
//! `/healthz`, `/metrics`, `/openapi.json`. Every route sits behind the IP allow-list, every
//! error is JSON. Routes are registered through utoipa-axum's `OpenApiRouter`, which collects
//! each handler's `#[utoipa::path]` into the OpenAPI document as it adds the route.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tower_http::timeout::TimeoutLayer;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};

use crate::error::{ApiError, ApiResult, ErrorAnswer};
use crate::{AppState, access, input, openapi, security, webhooks};

mod outbox;
pub(crate) mod records;
mod registrations;
mod runs;
mod tokens;

pub use outbox::outbox_json;
pub use records::record_fields;
pub(crate) use records::record_json;
pub use runs::run_json;
pub use tokens::token_json;

/// Records one list call returns at most.
const MAX_LIMIT: u32 = 500;
const DEFAULT_LIMIT: u32 = 100;

/// The server's router, with the OpenAPI document of its routes at `/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (router, document) = routes(&state).split_for_parts();
    let document = openapi::complete(document);
    let document = Document(Bytes::from(document.to_json().expect(
        "the OpenAPI document serializes: it holds only strings, numbers and maps",
    )));
    router
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(Extension(document))
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

/// Every route the server answers, each registered together with its documentation: a route
/// cannot be added here without its `#[utoipa::path]` (or, for the record lists, the operation
/// `records::list_route` builds).
pub(crate) fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let mut api = OpenApiRouter::new()
        .merge(crate::connections::router())
        .routes(utoipa_axum::routes!(runs::list_connections))
        .routes(utoipa_axum::routes!(runs::check_connection))
        .routes(utoipa_axum::routes!(crate::imis_routes::import_event))
        .routes(utoipa_axum::routes!(runs::data_types))
        .routes(utoipa_axum::routes!(runs::set_auto_sync))
        .routes(utoipa_axum::routes!(runs::list_runs, runs::start_run))
        .routes(utoipa_axum::routes!(runs::get_run))
        .routes(utoipa_axum::routes!(runs::run_report))
        .routes(utoipa_axum::routes!(crate::reports::report_rows))
        .routes(utoipa_axum::routes!(runs::cancel_run))
        .routes(utoipa_axum::routes!(records::list_events))
        .routes(utoipa_axum::routes!(registrations::person_sessions))
        .routes(utoipa_axum::routes!(crate::local::create_session))
        .routes(utoipa_axum::routes!(
            registrations::session_registrations,
            registrations::register
        ))
        .routes(utoipa_axum::routes!(registrations::unregister))
        .routes(utoipa_axum::routes!(
            registrations::list_check_ins,
            registrations::check_in
        ))
        .routes(utoipa_axum::routes!(outbox::list_outbox))
        .routes(utoipa_axum::routes!(outbox::get_outbox_item))
        .routes(utoipa_axum::routes!(outbox::retry_outbox_item))
        .routes(utoipa_axum::routes!(outbox::list_webhooks))
        .routes(utoipa_axum::routes!(crate::changes::list_changes))
        .routes(utoipa_axum::routes!(
            tokens::list_tokens,
            tokens::create_token
        ))
        .routes(utoipa_axum::routes!(tokens::revoke_token));
    for list in records::LISTS {
        api = api.routes(records::list_route(list));
    }
    let api = api
        // Inside the token check: only a caller let in learns what is wrong with its input.
        .route_layer(middleware::from_fn(input::check_request))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            security::bearer,
        ));
    OpenApiRouter::with_openapi(openapi::root())
        .routes(utoipa_axum::routes!(healthz))
        .routes(utoipa_axum::routes!(metrics))
        .routes(utoipa_axum::routes!(openapi_document))
        .routes(
            utoipa_axum::routes!(webhooks::validate, webhooks::receive)
                .map(|routes| routes.route_layer(middleware::from_fn(input::check_request))),
        )
        .merge(api)
        .merge(crate::register::router())
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

/// What `/healthz` answers when the server and its database are up.
#[derive(Serialize, ToSchema)]
struct Health {
    /// `ok`.
    status: &'static str,
}

#[utoipa::path(
    get,
    path = "/healthz",
    summary = "Whether the server and its database answer",
    security(()),
    responses(
        (status = 200, description = "healthy", body = Health),
        (status = 403, description = "the caller's address is not allowed", body = ErrorAnswer),
    )
)]
async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.store.schema_version().await?;
    Ok(Json(Health { status: "ok" }))
}

/// The OpenAPI document as served, made once when the router is.
#[derive(Clone)]
struct Document(Bytes);

#[utoipa::path(
    get,
    path = "/openapi.json",
    summary = "This document",
    security(()),
    responses((status = 200, description = "the document", body = Object))
)]
async fn openapi_document(Extension(Document(document)): Extension<Document>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document).into_response()
}

#[utoipa::path(
    get,
    path = "/metrics",
    summary = "Prometheus metrics",
    security(()),
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 403, description = "the caller's address is not allowed", body = ErrorAnswer),
    )
)]
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

/// One page of a list: its items, and what to ask `after` for to get the next page (`null`
/// once there is none).
#[derive(Serialize, ToSchema)]
pub(crate) struct Page<T, N> {
    pub data: Vec<T>,
    #[schema(required = true, schema_with = cursor)]
    pub next: Option<N>,
}

/// A list's cursor: an external id, or an item's number; `null` on the last page.
fn cursor() -> utoipa::openapi::Object {
    use utoipa::openapi::{ObjectBuilder, Type, schema::SchemaType};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::String,
            Type::Integer,
            Type::Null,
        ]))
        .build()
}

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
