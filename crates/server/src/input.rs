//! What a client sends, checked once at the edge before anything is stored or looked up: no
//! string may hold a NUL character (PostgreSQL keeps none, in `text` or `jsonb`), and none may
//! run past its field's length (an indexed column refuses a value of a few kilobytes). A breach
//! is a 400 naming the field, never a database error.
//!
//! Path and query parameters are checked by [`check_request`], a layer on every route that takes
//! them; JSON bodies by [`check_body`], which `routes::json_body` and the webhook intake call.
//! The limits are in the OpenAPI document beside the fields they bound.

use axum::extract::{FromRequestParts, Query, RawPathParams, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// Identifiers and short values: ids, connection names, cursors, statuses, times, a webhook's
/// event type and message stub. Vendors' ids are a few dozen characters.
pub const IDENTIFIER_MAX: usize = 256;
/// A session's title, code and location.
pub const TEXT_MAX: usize = 1_000;
/// A session's description.
pub const DESCRIPTION_MAX: usize = 10_000;

/// The most characters `field` takes.
pub(crate) fn max_chars(field: &str) -> usize {
    match field {
        "description" => DESCRIPTION_MAX,
        "title" | "code" | "location" => TEXT_MAX,
        _ => IDENTIFIER_MAX,
    }
}

/// The most characters a query parameter named `field` takes: as its field, but never past
/// [`IDENTIFIER_MAX`], so that a query of several filters stays well within the URI length the
/// server reads (a longer one is a 414 before any check).
pub(crate) fn max_query_chars(field: &str) -> usize {
    max_chars(field).min(IDENTIFIER_MAX)
}

/// Checks one value a client sent as `field`.
pub fn check_text(field: &str, text: &str) -> ApiResult<()> {
    check_within(field, text, max_chars(field))
}

/// Checks one value a client sent as `field`, at most `max` characters long.
fn check_within(field: &str, text: &str, max: usize) -> ApiResult<()> {
    if text.contains('\0') {
        return Err(ApiError::invalid(format!(
            "{field} holds a NUL character (U+0000), which is not accepted"
        )));
    }
    // Bytes first: a text no longer than `max` bytes needs no counting.
    if text.len() > max && text.chars().count() > max {
        return Err(ApiError::invalid(format!(
            "{field} is {} characters long; it takes at most {max}",
            text.chars().count()
        )));
    }
    Ok(())
}

/// Checks a JSON body: every key and string anywhere in it is free of NUL characters, and the
/// strings of its own members (a list's items included) are within their fields' lengths.
/// What lies deeper (a webhook's `message`) is the vendor's content, bounded by the body limit.
pub fn check_body(body: &Value) -> ApiResult<()> {
    match body {
        Value::Object(members) => {
            for (name, value) in members {
                check_text("a member name", name)?;
                match value {
                    Value::String(text) => check_text(name, text)?,
                    Value::Array(items) => {
                        for (position, item) in items.iter().enumerate() {
                            match item {
                                Value::String(text) => check_text(name, text)?,
                                nested => check_nul(&format!("{name}.{position}"), nested)?,
                            }
                        }
                    }
                    nested => check_nul(name, nested)?,
                }
            }
            Ok(())
        }
        other => check_nul("the body", other),
    }
}

/// Checks that no key or string under `value` (named `path`) holds a NUL character.
fn check_nul(path: &str, value: &Value) -> ApiResult<()> {
    let nul = |field: String| {
        ApiError::invalid(format!(
            "{field} holds a NUL character (U+0000), which is not accepted"
        ))
    };
    match value {
        Value::String(text) if text.contains('\0') => Err(nul(path.to_string())),
        Value::Object(members) => {
            for (name, value) in members {
                let field = format!("{path}.{name}");
                if name.contains('\0') {
                    return Err(nul(format!("a member name under {path}")));
                }
                check_nul(&field, value)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (position, item) in items.iter().enumerate() {
                check_nul(&format!("{path}.{position}"), item)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A layer that checks a request's path and query parameters before its handler sees them.
pub async fn check_request(request: Request, next: Next) -> Response {
    match check_parameters(request).await {
        Ok(request) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

async fn check_parameters(request: Request) -> ApiResult<Request> {
    let (mut parts, body) = request.into_parts();
    // A path that does not decode is the route's own extractor's to refuse.
    if let Ok(params) = RawPathParams::from_request_parts(&mut parts, &()).await {
        for (name, value) in &params {
            check_text(name, value)?;
        }
    }
    if let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri) {
        let mut seen = std::collections::HashSet::new();
        for (name, value) in &pairs {
            check_text("a query parameter name", name)?;
            check_within(name, value, max_query_chars(name))?;
            // Every parameter takes one value: a second would be dropped without a word.
            if !seen.insert(name.as_str()) {
                return Err(ApiError::invalid(format!(
                    "{name} is given more than once; it takes one value"
                )));
            }
        }
    }
    Ok(Request::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_characters_and_overlong_values_are_refused_by_name() {
        let refused = |body: Value| check_body(&body).expect_err("refused").message;
        assert!(refused(json!({"person_id": "a\u{0}"})).starts_with("person_id holds a NUL"));
        assert!(refused(json!({"data_types": ["people", "x\u{0}"]})).starts_with("data_types"));
        assert!(
            refused(json!({"message": [{"contact": {"name": "\u{0}"}}]}))
                .starts_with("message.0.contact.name holds a NUL")
        );
        assert!(
            refused(json!({"messageStub": "x".repeat(3_000)}))
                .starts_with("messageStub is 3000 characters long; it takes at most 256")
        );
        assert!(refused(json!({"title": "t".repeat(TEXT_MAX + 1)})).starts_with("title"));
        assert!(refused(json!({"a\u{0}": 1})).starts_with("a member name"));
    }

    #[test]
    fn ordinary_values_pass() {
        let body = json!({
            "title": "é".repeat(TEXT_MAX),
            "description": "d".repeat(DESCRIPTION_MAX),
            "person_id": "p".repeat(IDENTIFIER_MAX),
            "message": [{"note": "n".repeat(5_000)}],
            "capacity": 3,
        });
        assert_eq!(check_body(&body), Ok(()));
    }
}
