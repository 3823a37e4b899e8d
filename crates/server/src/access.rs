//! What wraps every request: an access log line at info (method, path without its query
//! string, which may carry a registration link's signature, status and latency), and the request
//! timeout, whose answer is a JSON error like every other.

use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::trace::{HttpMakeClassifier, TraceLayer};
use tracing::Span;

use crate::error::ApiError;

/// The log target of the access log, so it can be turned on alone:
/// `EVENTSYNC_LOG=warn,eventsync::access=info`.
pub const TARGET: &str = "eventsync::access";

type MakeSpan = fn(&Request) -> Span;
type OnResponse = fn(&Response, Duration, &Span);
type OnFailure = fn(ServerErrorsFailureClass, Duration, &Span);

/// One line per request, written when its answer starts.
pub fn log() -> TraceLayer<HttpMakeClassifier, MakeSpan, (), OnResponse, (), (), OnFailure> {
    TraceLayer::new_for_http()
        .make_span_with(request_span as MakeSpan)
        .on_request(())
        .on_response(log_response as OnResponse)
        .on_body_chunk(())
        .on_eos(())
        .on_failure(ignore_failure as OnFailure)
}

fn request_span(request: &Request) -> Span {
    tracing::info_span!(
        target: TARGET,
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    )
}

fn log_response(response: &Response, latency: Duration, span: &Span) {
    let _entered = span.enter();
    tracing::info!(
        target: TARGET,
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
    );
}

/// A 5xx is already the response's line; it gets no second one.
fn ignore_failure(_: ServerErrorsFailureClass, _: Duration, _: &Span) {}

/// Marks an answer as the handler's, so that one without the mark is the timeout's.
#[derive(Debug, Clone, Copy)]
struct Answered;

/// Inside the timeout: every answer that got through.
pub async fn mark_answered(mut response: Response) -> Response {
    response.extensions_mut().insert(Answered);
    response
}

/// Outside the timeout: the timeout's empty answer becomes a JSON error saying what happened.
pub async fn timeout_as_json(response: Response) -> Response {
    if response.extensions().get::<Answered>().is_some() {
        return response;
    }
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "timeout",
        "the server did not answer within its request timeout; try again, or ask less at once \
         (a smaller limit, one data type)",
    )
    .into_response()
}
