//! Who may call: the IP allow-list (API and webhooks), bearer tokens for the API (kept as
//! SHA-256 hashes) with the scope each route needs, and the constant-time check of a webhook's
//! static token.
//!
//! A route's scope is decided here and nowhere else, from the method and the matched route:
//! `read` for the workspace as an app reads it, `write` for the registrations and check-ins an
//! app makes, `admin` for everything else — connections, runs, tokens, the outbox's retries,
//! auto sync, webhook deliveries, and any route this table does not name.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use sha2::{Digest, Sha256};
use store::TokenScope;
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::ApiError;

/// The networks allowed to call; empty allows everyone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList(Vec<IpNet>);

impl AllowList {
    /// Parses `10.0.0.0/8`, `2001:db8::/32` or a single address per entry.
    pub fn parse(entries: &[String]) -> Result<AllowList, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!(
                            "'{entry}' in the allow-list is neither an IP address nor a network \
                             such as 10.0.0.0/8"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(AllowList)
    }

    pub fn allows(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        self.0.is_empty() || self.0.iter().any(|network| network.contains(&address))
    }
}

/// A new API token: `evs_` and 64 hex digits from two random UUIDs (244 random bits).
pub fn new_token() -> String {
    format!(
        "evs_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a presented secret equals the expected one, in time that does not depend on where
/// they differ.
pub fn secrets_match(presented: &str, expected: &str) -> bool {
    let presented = Sha256::digest(presented.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    presented.ct_eq(&expected).into()
}

/// Refuses callers outside the allow-list, on every route.
pub async fn allow_list(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if !state.settings.allow.allows(peer.ip()) {
        return Err(ApiError::forbidden(format!(
            "{} is not in the allow-list of this server",
            peer.ip()
        )));
    }
    Ok(next.run(request).await)
}

/// The routes that read the workspace as an app does.
const WORKSPACE_READS: &[&str] = &[
    "/v1/events",
    "/v1/people/{id}/sessions",
    "/v1/sessions/{id}/registrations",
    "/v1/check-ins",
    "/v1/outbox",
    "/v1/outbox/{id}",
    "/v1/changes",
];

/// The routes where an app registers people to sessions, checks them in and adds sessions.
const WORKSPACE_WRITES: &[&str] = &[
    "/v1/sessions",
    "/v1/sessions/{id}/registrations",
    "/v1/sessions/{id}/registrations/{person_id}",
    "/v1/check-ins",
];

/// The scope a call of `method` on the matched `route` needs.
pub fn scope_needed(method: &Method, route: &str) -> TokenScope {
    let reads = method == Method::GET || method == Method::HEAD;
    let lists_records = crate::routes::records::LISTS
        .iter()
        .any(|list| list.path == route);
    if reads && (lists_records || WORKSPACE_READS.contains(&route)) {
        TokenScope::Read
    } else if (method == Method::POST || method == Method::DELETE)
        && WORKSPACE_WRITES.contains(&route)
    {
        TokenScope::Write
    } else {
        TokenScope::Admin
    }
}

/// Requires a valid bearer token on the API routes, of a scope that allows the route.
pub async fn bearer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let header = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let Some(token) = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
    else {
        return Err(ApiError::unauthorized(
            "send 'Authorization: Bearer <token>'; create a token with `eventsync token create`",
        ));
    };
    let Some(token) = state
        .store
        .api_token_by_hash(&token_hash(token.trim()))
        .await?
    else {
        return Err(ApiError::unauthorized(
            "the bearer token is unknown or revoked; create one with `eventsync token create`",
        ));
    };
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_string(),
        |path| path.as_str().to_string(),
    );
    let needed = scope_needed(request.method(), &route);
    if !token.scope.allows(needed) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!(
                "{} {route} needs a token of scope {needed}; token '{}' has scope {}: create one \
                 with `eventsync token create <name> --scope {needed}`",
                request.method(),
                token.name,
                token.scope
            ),
        ));
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matches_networks_and_single_addresses() {
        let list = AllowList::parse(&["10.0.0.0/8".into(), "192.168.1.7".into(), "::1".into()])
            .expect("valid list");
        let cases = [
            ("10.1.2.3", true),
            ("11.0.0.1", false),
            ("192.168.1.7", true),
            ("192.168.1.8", false),
            ("::1", true),
            ("::ffff:10.9.9.9", true),
        ];
        for (address, allowed) in cases {
            assert_eq!(list.allows(address.parse().unwrap()), allowed, "{address}");
        }
        assert!(AllowList::default().allows("8.8.8.8".parse().unwrap()));
        let error = AllowList::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(error.contains("10.0.0.0/33"), "{error}");
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let first = new_token();
        let second = new_token();
        assert_ne!(first, second);
        assert!(first.starts_with("evs_") && first.len() == 68);
        assert_eq!(token_hash(&first), token_hash(&first));
        assert_ne!(token_hash(&first), token_hash(&second));
        assert!(!token_hash(&first).contains(&first[4..]));
    }

    #[test]
    fn each_route_needs_the_scope_of_what_it_does() {
        let cases = [
            (Method::GET, "/v1/people", TokenScope::Read),
            (Method::GET, "/v1/sponsors", TokenScope::Read),
            (Method::GET, "/v1/hotel-requests", TokenScope::Read),
            (
                Method::GET,
                "/v1/sessions/{id}/registrations",
                TokenScope::Read,
            ),
            (Method::GET, "/v1/changes", TokenScope::Read),
            (Method::POST, "/v1/sessions", TokenScope::Write),
            (
                Method::POST,
                "/v1/sessions/{id}/registrations",
                TokenScope::Write,
            ),
            (
                Method::DELETE,
                "/v1/sessions/{id}/registrations/{person_id}",
                TokenScope::Write,
            ),
            (Method::POST, "/v1/check-ins", TokenScope::Write),
            (Method::GET, "/v1/runs", TokenScope::Admin),
            (Method::POST, "/v1/runs", TokenScope::Admin),
            (Method::POST, "/v1/runs/{id}/cancel", TokenScope::Admin),
            (Method::GET, "/v1/connections", TokenScope::Admin),
            (Method::GET, "/v1/tokens", TokenScope::Admin),
            (Method::POST, "/v1/outbox/{id}/retry", TokenScope::Admin),
            (Method::GET, "/v1/webhooks", TokenScope::Admin),
            (
                Method::PUT,
                "/v1/connections/{connection}/data-types/{data_type}/auto-sync",
                TokenScope::Admin,
            ),
            (Method::GET, "/v1/a-route-added-later", TokenScope::Admin),
        ];
        for (method, route, needed) in cases {
            assert_eq!(scope_needed(&method, route), needed, "{method} {route}");
        }
        assert!(TokenScope::Admin.allows(TokenScope::Write));
        assert!(TokenScope::Write.allows(TokenScope::Read));
        assert!(!TokenScope::Write.allows(TokenScope::Admin));
        assert!(!TokenScope::Read.allows(TokenScope::Write));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(secrets_match("s3cret", "s3cret"));
        assert!(!secrets_match("s3cret", "s3cre"));
        assert!(!secrets_match("", "s3cret"));
    }
}
