//! `GET /v1/changes`: the workspace's change feed, paged by position, so that an event app or
//! a script follows the workspace without reading it again.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use engine::changes::ShownChange;
use pipeline::DataType;
use serde::{Deserialize, Serialize};
use store::{FeedQuery, MAX_FEED_PAGE};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::routes::query_params;

/// Changes one call returns when the caller names no limit.
const DEFAULT_LIMIT: u32 = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangesParams {
    /// Only changes after this position (the `next` of the previous page); 0 from the start.
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Comma-separated data types; all when absent.
    types: Option<String>,
    /// The connection.
    connection: Option<String>,
    /// How many (100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// A page of the change feed.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChangePage {
    data: Vec<ShownChange>,
    /// The position to ask after for the next page; `null` at the end.
    next: Option<i64>,
    /// The feed's last position.
    position: i64,
}

/// The changes after `after` (0: from the start), of the data types in `types` (comma
/// separated; all when absent), oldest first. `next` is the position to ask after for the
/// next page, or `null` once the caller has reached the end (`position`, the feed's last).
#[utoipa::path(
    get,
    path = "/v1/changes",
    summary = "The workspace's change feed, oldest first: every change a sync, webhook, import or API call applied",
    params(ChangesParams),
    responses((status = 200, description = "the changes", body = ChangePage))
)]
pub(crate) async fn list_changes(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<ChangePage>> {
    let params: ChangesParams = query_params(params)?;
    let after = params.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid("after must be a position, 0 or more"));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_FEED_PAGE).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "limit must be a number from 1 to {MAX_FEED_PAGE}"
        )));
    }
    let data_types = match params.types.as_deref() {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|name| {
                let name = name.trim();
                name.parse::<DataType>()
                    .map(|data_type| data_type.as_str().to_string())
                    .map_err(|_| {
                        ApiError::invalid(format!(
                            "types: '{name}' is not a data type; known: {}",
                            DataType::ALL
                                .iter()
                                .map(|t| t.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })
            })
            .collect::<ApiResult<Vec<_>>>()?,
    };
    let changes = state
        .store
        .changes(&FeedQuery {
            after,
            data_types,
            connection: params.connection,
            limit,
        })
        .await?;
    let position = state.store.feed_position().await?;
    let next = (changes.len() == limit as usize)
        .then(|| changes.last().map(|change| change.position))
        .flatten();
    let data = changes.iter().map(ShownChange::from).collect();
    Ok(Json(ChangePage {
        data,
        next,
        position,
    }))
}
