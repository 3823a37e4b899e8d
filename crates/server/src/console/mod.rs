//! The console: pages for the people who run the integrations, served by `eventsync serve` at
//! `/`. Every page is rendered on the server from answers of the public API, asked in-process
//! with the signed-in person's own token ([`Api`]), so the console can do exactly what that
//! token may do over HTTP and nothing more.
//!
//! Sign-in keeps the token in an `HttpOnly`, `SameSite=Strict` cookie: scripts cannot read it
//! and no other site's form can post with it. The pages need no script; the one stylesheet is
//! compiled into the binary.

mod api;
mod connections;
mod layout;
mod mapping;
mod outbox;
mod runs;
mod sign_in;
mod webhooks;
mod workbook;

use axum::Router;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::{AppState, security};

/// The console's pages beside `api`, the finished API router they call.
pub fn with_console(api: Router, state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(|| async { Redirect::to("/console/connections") }))
        .route(
            "/console",
            get(|| async { Redirect::to("/console/connections") }),
        )
        .route("/console/style.css", get(layout::stylesheet))
        .route("/console/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route(
            "/console/connections",
            get(connections::list).post(connections::add),
        )
        .route(
            "/console/connections/{connection}",
            get(connections::data_types),
        )
        .route(
            "/console/connections/{connection}/check",
            post(connections::check),
        )
        .route(
            "/console/connections/{connection}/auto-sync",
            post(connections::auto_sync),
        )
        .route(
            "/console/connections/{connection}/mapping/{data_type}",
            get(mapping::show).post(mapping::save),
        )
        .route(
            "/console/connections/{connection}/workbook",
            get(workbook::download).post(workbook::upload),
        )
        .route("/console/runs", get(runs::list).post(runs::start))
        .route("/console/runs/{id}", get(runs::show))
        .route("/console/runs/{id}/report", get(runs::download))
        .route("/console/runs/{id}/cancel", post(runs::cancel))
        .route("/console/outbox", get(outbox::list))
        .route("/console/outbox/{id}/retry", post(outbox::retry))
        .route("/console/webhooks", get(webhooks::list))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::allow_list,
        ))
        .with_state(api.clone());
    api.merge(pages)
}
