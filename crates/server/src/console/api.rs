//! The console's way to the API: a request built in-process and handed to the same router that
//! serves `/v1`, with the signed-in person's token, so every check the API makes (token, scope,
//! allow-list, input) applies to the console too.

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use tower::ServiceExt;

use super::layout;

/// The cookie that holds the signed-in person's API token.
pub(crate) const COOKIE: &str = "eventsync_console";

/// The largest answer the console reads whole (a preview report of a large event).
const MAX_ANSWER: usize = 1 << 30;

/// The API, as the signed-in person.
#[derive(Clone)]
pub(crate) struct Api {
    router: Router,
    token: String,
    peer: Option<ConnectInfo<SocketAddr>>,
}

/// An API call that did not succeed: its status and the API's own message.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: StatusCode,
    pub message: String,
}

impl Api {
    pub(crate) fn new(router: Router, token: String, peer: Option<ConnectInfo<SocketAddr>>) -> Api {
        Api {
            router,
            token,
            peer,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Result<Value, Failure> {
        self.json(Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Result<Value, Failure> {
        self.json(Method::POST, path, Some(body)).await
    }

    pub(crate) async fn put(&self, path: &str, body: Value) -> Result<Value, Failure> {
        self.json(Method::PUT, path, Some(body)).await
    }

    /// A call whose answer is JSON (or empty, taken as `null`).
    async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Failure> {
        let (_, bytes) = self.call(method, path, body).await?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|error| Failure {
            status: StatusCode::BAD_GATEWAY,
            message: format!("the API's answer to {path} is not JSON: {error}"),
        })
    }

    /// A call whose answer is kept as bytes with its headers (reports).
    pub(crate) async fn bytes(&self, path: &str) -> Result<(HeaderMap, Bytes), Failure> {
        self.call(Method::GET, path, None).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(HeaderMap, Bytes), Failure> {
        let body = body.map(|body| ("application/json", Bytes::from(body.to_string())));
        self.send(method, path, body).await
    }

    /// A POST of bytes of `content_type` (an uploaded workbook) whose answer is JSON.
    pub(crate) async fn post_bytes(
        &self,
        path: &str,
        content_type: &'static str,
        bytes: Bytes,
    ) -> Result<Value, Failure> {
        let (_, answer) = self
            .send(Method::POST, path, Some((content_type, bytes)))
            .await?;
        serde_json::from_slice(&answer).map_err(|error| Failure {
            status: StatusCode::BAD_GATEWAY,
            message: format!("the API's answer to {path} is not JSON: {error}"),
        })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&'static str, Bytes)>,
    ) -> Result<(HeaderMap, Bytes), Failure> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        let body = match body {
            Some((content_type, bytes)) => {
                request = request.header(header::CONTENT_TYPE, content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).map_err(|error| Failure {
            status: StatusCode::BAD_REQUEST,
            message: format!("cannot ask the API for {path}: {error}"),
        })?;
        if let Some(peer) = &self.peer {
            request.extensions_mut().insert(*peer);
        }
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER)
            .await
            .map_err(|error| Failure {
                status: StatusCode::BAD_GATEWAY,
                message: format!("the API's answer to {path} could not be read: {error}"),
            })?;
        if status.is_success() {
            return Ok((headers, bytes));
        }
        let message = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|error| error["error"]["message"].as_str().map(String::from))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        Err(Failure { status, message })
    }
}

impl FromRequestParts<Router> for Api {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, router: &Router) -> Result<Api, Response> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().cloned();
        match cookie(&parts.headers, COOKIE) {
            Some(token) => Ok(Api::new(router.clone(), token, peer)),
            None => Err(Redirect::to("/console/sign-in").into_response()),
        }
    }
}

/// A file the API answered, handed on to the browser with its type and name.
pub(crate) fn download(headers: &HeaderMap, bytes: Bytes) -> Response {
    let mut response = bytes.into_response();
    for name in [header::CONTENT_TYPE, header::CONTENT_DISPOSITION] {
        if let Some(value) = headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        if self.status == StatusCode::UNAUTHORIZED {
            // The token was revoked or is wrong: sign in again.
            return Redirect::to("/console/sign-in?expired=1").into_response();
        }
        let title = match self.status {
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::CONFLICT => "Not now",
            status if status.is_client_error() => "Cannot do that",
            _ => "Something went wrong",
        };
        let status = self.status;
        let body = maud::html! {
            h1 { (title) }
            p.error role="alert" { (self.message) }
            p { a href="/console/connections" { "Connections" } " · " a href="/console/runs" { "Runs" } }
        };
        (status, layout::page(title, layout::Section::None, body)).into_response()
    }
}

/// One path segment, percent-encoded, for names that go into an API path.
pub(crate) fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A query string from pairs, with the values encoded; empty values are left out.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        if !value.is_empty() {
            serializer.append_pair(key, value);
        }
    }
    let query = serializer.finish();
    if query.is_empty() {
        query
    } else {
        format!("?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "a=1; eventsync_console=tok; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, COOKIE).as_deref(), Some("tok"));
        headers.clear();
        headers.append(header::COOKIE, "eventsync_console=".parse().unwrap());
        assert_eq!(cookie(&headers, COOKIE), None);
    }

    #[test]
    fn names_are_encoded_for_paths_and_queries() {
        assert_eq!(segment("cvent rest/é"), "cvent%20rest%2F%C3%A9");
        assert_eq!(query(&[("a", "x y"), ("b", "")]), "?a=x+y");
        assert_eq!(query(&[("b", "")]), "");
    }
}
