//! API bearer tokens over the API: listed, created (the token shown once) and revoked. Only
//! their hashes are stored; an admin token is needed for all three (`security.rs`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::{ApiToken, StoreError, TokenScope};
use utoipa::ToSchema;
use utoipa::openapi::{ObjectBuilder, Schema, Type};

use super::{Page, json_body, parse_id};
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorAnswer};
use crate::security::{new_token, token_hash};

/// A token as the API and `eventsync token list --json` show it: never its secret or hash.
pub fn token_json(token: &ApiToken) -> Value {
    json!(TokenView::from(token))
}

/// An API token; `Token` in the document.
#[derive(Serialize, ToSchema)]
#[schema(as = Token)]
pub(super) struct TokenView {
    id: i64,
    name: String,
    /// read: every GET of workspace data; write: also registrations, check-ins and sessions;
    /// admin: everything.
    #[schema(schema_with = scopes)]
    scope: TokenScope,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    revoked_at: Option<String>,
}

fn scopes() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["read", "write", "admin"]))
        .into()
}

impl From<&ApiToken> for TokenView {
    fn from(token: &ApiToken) -> TokenView {
        TokenView {
            id: token.id,
            name: token.name.clone(),
            scope: token.scope,
            created_at: crate::time::seconds(&token.created_at),
            revoked_at: token.revoked_at.as_deref().map(crate::time::seconds),
        }
    }
}

/// A token just made, with its secret: the only time it is shown.
#[derive(Serialize, ToSchema)]
pub(super) struct NewToken {
    #[serde(flatten)]
    listed: TokenView,
    /// The bearer token itself.
    token: String,
}

#[utoipa::path(
    get,
    path = "/v1/tokens",
    summary = "The API tokens, revoked ones included (never the tokens themselves)",
    responses((status = 200, description = "the tokens", body = Page<TokenView, String>))
)]
pub(super) async fn list_tokens(
    State(state): State<AppState>,
) -> ApiResult<Json<Page<TokenView, String>>> {
    let tokens = state.store.api_tokens().await?;
    Ok(Json(Page {
        data: tokens.iter().map(TokenView::from).collect(),
        next: None,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewTokenBody {
    /// Unique among live tokens.
    #[schema(min_length = 1, pattern = r"\S")]
    name: String,
    #[schema(schema_with = scopes)]
    scope: String,
}

#[utoipa::path(
    post,
    path = "/v1/tokens",
    summary = "Creates a token; the answer is the only time it is shown",
    request_body = NewTokenBody,
    responses(
        (status = 201, description = "the token, with its secret in `token`", body = NewToken),
        (status = 409, description = "a live token has that name", body = ErrorAnswer),
    )
)]
pub(super) async fn create_token(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body: NewTokenBody = json_body(body)?;
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid(
            "name must say what the token is for, such as \"check-in desk\"",
        ));
    }
    let scope = TokenScope::parse(&body.scope).ok_or_else(|| {
        ApiError::invalid(format!(
            "scope '{}' is not one of read, write, admin",
            body.scope
        ))
    })?;
    let token = new_token();
    let stored = match state
        .store
        .add_scoped_api_token(name, &token_hash(&token), scope)
        .await
    {
        Ok(stored) => stored,
        Err(StoreError::Conflict(message)) => {
            return Err(ApiError::conflict("name_taken", message));
        }
        Err(error) => return Err(error.into()),
    };
    let shown = NewToken {
        listed: TokenView::from(&stored),
        token,
    };
    Ok((StatusCode::CREATED, Json(shown)).into_response())
}

#[utoipa::path(
    delete,
    path = "/v1/tokens/{id}",
    summary = "Revokes a token: it is refused from then on",
    params(("id" = i64, Path, description = "a positive number", minimum = 1)),
    responses((status = 204, description = "revoked"))
)]
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, "token")?;
    if state.store.revoke_api_token(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "no live token {id}: GET /v1/tokens lists them"
        )))
    }
}
