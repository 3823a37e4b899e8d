//! Who may call: the IP allow-list (API and webhooks), bearer tokens for the API (kept as
//! SHA-256 hashes), and the constant-time check of a webhook's static token.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use sha2::{Digest, Sha256};
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

/// Requires a valid bearer token on the API routes.
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
    if state
        .store
        .api_token_by_hash(&token_hash(token.trim()))
        .await?
        .is_none()
    {
        return Err(ApiError::unauthorized(
            "the bearer token is unknown or revoked; create one with `eventsync token create`",
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
    fn secrets_compare_whole() {
        assert!(secrets_match("s3cret", "s3cret"));
        assert!(!secrets_match("s3cret", "s3cre"));
        assert!(!secrets_match("", "s3cret"));
    }
}
