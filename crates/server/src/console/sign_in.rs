//! Signing in with an API token, and out.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::api::{Api, COOKIE};
use super::layout::{self, Section};

/// Where the request came from, when the server knows (it always does outside tests).
pub(crate) struct Peer(pub Option<ConnectInfo<SocketAddr>>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Peer, Infallible> {
        Ok(Peer(
            parts.extensions.get::<ConnectInfo<SocketAddr>>().cloned(),
        ))
    }
}

fn form(error: Option<&str>) -> Response {
    let body = html! {
        h1 { "Sign in" }
        section.card {
            p { "Sign in with an API token. A token is made on the server with "
                code { "eventsync token create <name> --scope admin" } "." }
            @if let Some(error) = error {
                p.error role="alert" #sign-in-error { (error) }
            }
            form method="post" action="/console/sign-in" {
                label for="token" { "API token" }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                p { button type="submit" { "Sign in" } }
            }
        }
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    (status, layout::page("Sign in", Section::None, body)).into_response()
}

pub(crate) async fn page(Query(query): Query<HashMap<String, String>>) -> Response {
    if query.contains_key("expired") {
        return form(Some(
            "That token is no longer accepted (revoked, or mistyped). Sign in again.",
        ));
    }
    form(None)
}

#[derive(Deserialize)]
pub(crate) struct SignIn {
    token: String,
}

pub(crate) async fn submit(
    State(router): State<Router>,
    Peer(peer): Peer,
    Form(sign_in): Form<SignIn>,
) -> Response {
    let token = sign_in.token.trim().to_string();
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return form(Some("Paste the whole token: it has no spaces."));
    }
    let api = Api::new(router, token.clone(), peer);
    match api.get("/v1/events").await {
        Ok(_) => (
            [(
                header::SET_COOKIE,
                format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"),
            )],
            Redirect::to("/console/connections"),
        )
            .into_response(),
        Err(failure) if failure.status == StatusCode::UNAUTHORIZED => {
            form(Some("This server does not know that token."))
        }
        Err(failure) => form(Some(&failure.message)),
    }
}

pub(crate) async fn sign_out() -> Response {
    (
        [(
            header::SET_COOKIE,
            format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        )],
        Redirect::to("/console/sign-in"),
    )
        .into_response()
}
