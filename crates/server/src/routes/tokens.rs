//! API bearer tokens over the API: listed, created (the token shown once) and revoked. Only
//! their hashes are stored; an admin token is needed for all three (`security.rs`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use store::{ApiToken, StoreError, TokenScope};

use super::{json_body, parse_id};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::security::{new_token, token_hash};

/// A token as the API and `eventsync token list --json` show it: never its secret or hash.
pub fn token_json(token: &ApiToken) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "scope": token.scope,
        "created_at": crate::time::seconds(&token.created_at),
        "revoked_at": token.revoked_at.as_deref().map(crate::time::seconds),
    })
}

pub(super) async fn list_tokens(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let tokens = state.store.api_tokens().await?;
    let data: Vec<Value> = tokens.iter().map(token_json).collect();
    Ok(Json(json!({"data": data, "next": null})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTokenBody {
    name: String,
    scope: String,
}

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
    let mut shown = token_json(&stored);
    shown["token"] = Value::String(token);
    Ok((StatusCode::CREATED, Json(shown)).into_response())
}

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
