//! OAuth2 client credentials as Cvent's spec states them, bearer tokens, and the scope each route needs.

use std::collections::HashMap;

use base64::Engine;
use chrono::{DateTime, Utc};

/// Every scope the sandbox knows; a client is associated with these unless configured otherwise.
pub const ALL_SCOPES: &[&str] = &[
    "event/events:read",
    "event/events:write",
    "event/attendees:read",
    "event/attendees:write",
    "event/contacts:read",
    "event/contacts:read-sensitive",
    "event/contacts:write",
    "event/sessions:read",
    "event/sessions:write",
    "event/speakers:read",
    "event/session-enrollment:read",
    "event/session-enrollment:write",
    "event/session-enrollment:delete",
    "event/custom-fields:read",
    "event/air-request:read",
    "event/hotel-request:read",
    "exhibitor/sponsorship-levels:read",
    "exhibitor/exhibitors:read",
];

/// The scope that lets contact reads include date of birth, passport and national ids.
pub const SENSITIVE_SCOPE: &str = "event/contacts:read-sensitive";

/// The scope without which contact writes leave those fields out.
pub const SENSITIVE_WRITE_SCOPE: &str = "event/contacts:write-sensitive";

/// The scope a route requires, from the `security` of each operation in the official spec.
/// `Some("")` means a valid token with any scope will do (`/usage`).
pub fn required_scope(method: &str, route: &str) -> Option<&'static str> {
    let scope = match (method, route) {
        ("GET", "/ea/events" | "/ea/events/{id}" | "/ea/event-questions") => "event/events:read",
        ("POST", "/ea/events/filter") => "event/events:read",
        ("GET", "/ea/attendees" | "/ea/attendees/{id}") => "event/attendees:read",
        ("POST", "/ea/attendees/filter") => "event/attendees:read",
        ("POST", "/ea/attendees") | ("PUT", "/ea/attendees/{id}") => "event/attendees:write",
        ("POST", "/ea/contacts") => "event/contacts:write",
        ("GET", "/ea/sessions" | "/ea/events/{id}/session-locations") => "event/sessions:read",
        ("POST", "/ea/sessions/filter") => "event/sessions:read",
        ("GET", "/ea/speakers") => "event/speakers:read",
        ("POST", "/ea/speakers/filter") => "event/speakers:read",
        ("GET", "/ea/sessions/enrollment") => "event/session-enrollment:read",
        ("POST", "/ea/sessions/enrollment/filter") => "event/session-enrollment:read",
        ("POST", "/ea/sessions/{id}/enrollment/{attendeeId}") => "event/session-enrollment:write",
        ("DELETE", "/ea/sessions/{id}/enrollment/{attendeeId}") => {
            "event/session-enrollment:delete"
        }
        ("POST", "/ea/events/{id}/check-in") => "event/attendees:write",
        ("DELETE", "/ea/events/{id}/check-in/{attendeeId}") => "event/attendees:write",
        ("GET", "/ea/events/{id}/event-travel/air-requests") => "event/air-request:read",
        ("GET", "/ea/events/{id}/event-travel/hotel-requests") => "event/hotel-request:read",
        ("GET", "/ea/events/{id}/sponsorship-levels") => "exhibitor/sponsorship-levels:read",
        ("GET", "/ea/events/{id}/exhibitors") => "exhibitor/exhibitors:read",
        ("GET", "/ea/custom-fields") => "event/custom-fields:read",
        ("GET", "/ea/usage" | "/ea/usage/tier") => "",
        _ => return None,
    };
    Some(scope)
}

/// A token the sandbox issued.
#[derive(Debug, Clone)]
pub struct Grant {
    pub scopes: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

impl Grant {
    pub fn has(&self, scope: &str) -> bool {
        scope.is_empty() || self.scopes.iter().any(|held| held == scope)
    }
}

/// Issued tokens by value.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: HashMap<String, Grant>,
}

/// An OAuth-style refusal of a token request: `(error, error_description)`.
pub type OAuthRefusal = (&'static str, String);

/// The credentials and scopes of the one API client the sandbox account has.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
}

impl Client {
    /// Checks a token request (Basic header and form fields) and returns the scopes to grant.
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
        form: &HashMap<String, String>,
    ) -> Result<Vec<String>, OAuthRefusal> {
        let Some((basic_id, basic_secret)) = authorization.and_then(decode_basic) else {
            return Err((
                "invalid_client",
                "Client authentication failed: send an Authorization: Basic header with base64(client_id:client_secret)".into(),
            ));
        };
        if basic_id != self.client_id || basic_secret != self.client_secret {
            return Err(("invalid_client", "Client authentication failed".into()));
        }
        match form.get("grant_type").map(String::as_str) {
            None | Some("") => {
                return Err((
                    "invalid_request",
                    "Missing required parameter: grant_type".into(),
                ));
            }
            Some("client_credentials") => {}
            Some("authorization_code" | "refresh_token") => {
                return Err((
                    "unauthorized_client",
                    "This client may only use the client_credentials grant".into(),
                ));
            }
            Some(other) => {
                return Err((
                    "unsupported_grant_type",
                    format!("Unsupported grant type: {other}"),
                ));
            }
        }
        // Cvent's own SDK omits client_id from the form although the spec marks it required;
        // accept both, but a mismatch is a malformed request.
        if let Some(form_id) = form.get("client_id")
            && *form_id != self.client_id
        {
            return Err((
                "invalid_request",
                "client_id does not match the Basic credentials".into(),
            ));
        }
        // Requested scopes not associated with the client are ignored; none requested means all.
        let granted = match form
            .get("scope")
            .map(|s| s.split_whitespace().collect::<Vec<_>>())
        {
            Some(requested) if !requested.is_empty() => self
                .scopes
                .iter()
                .filter(|held| requested.contains(&held.as_str()))
                .cloned()
                .collect(),
            _ => self.scopes.clone(),
        };
        Ok(granted)
    }
}

fn decode_basic(header: &str) -> Option<(String, String)> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

impl Tokens {
    pub fn issue(&mut self, scopes: Vec<String>, expires_at: DateTime<Utc>) -> String {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.issued
            .insert(token.clone(), Grant { scopes, expires_at });
        token
    }

    /// The grant behind a bearer token that has not expired at `now`.
    pub fn grant(&self, token: &str, now: DateTime<Utc>) -> Option<&Grant> {
        self.issued
            .get(token)
            .filter(|grant| grant.expires_at > now)
    }

    /// Expires every token at once (control API), as if an hour had passed.
    pub fn expire_all(&mut self) {
        self.issued.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client {
            client_id: "id".into(),
            client_secret: "secret".into(),
            scopes: vec!["event/events:read".into(), "event/attendees:read".into()],
        }
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn basic(id: &str, secret: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    }

    #[test]
    fn token_requests() {
        let good = basic("id", "secret");
        let grant = form(&[("grant_type", "client_credentials"), ("client_id", "id")]);
        assert_eq!(
            client().authenticate(Some(&good), &grant).map(|s| s.len()),
            Ok(2)
        );
        let without_id = form(&[("grant_type", "client_credentials")]);
        assert!(client().authenticate(Some(&good), &without_id).is_ok());
        let scoped = form(&[
            ("grant_type", "client_credentials"),
            ("scope", "event/events:read unknown/scope:read"),
        ]);
        assert_eq!(
            client().authenticate(Some(&good), &scoped),
            Ok(vec!["event/events:read".to_string()])
        );
        let cases = [
            (None, grant.clone(), "invalid_client"),
            (Some(basic("id", "wrong")), grant.clone(), "invalid_client"),
            (Some(good.clone()), form(&[]), "invalid_request"),
            (
                Some(good.clone()),
                form(&[("grant_type", "password")]),
                "unsupported_grant_type",
            ),
            (
                Some(good.clone()),
                form(&[("grant_type", "refresh_token")]),
                "unauthorized_client",
            ),
            (
                Some(good.clone()),
                form(&[("grant_type", "client_credentials"), ("client_id", "other")]),
                "invalid_request",
            ),
        ];
        for (header, form, expected) in cases {
            let refusal = client().authenticate(header.as_deref(), &form).err();
            assert_eq!(refusal.map(|r| r.0), Some(expected), "{header:?} {form:?}");
        }
    }

    #[test]
    fn tokens_expire() {
        let mut tokens = Tokens::default();
        let now = Utc::now();
        let token = tokens.issue(vec![], now + chrono::Duration::seconds(10));
        assert!(tokens.grant(&token, now).is_some());
        assert!(
            tokens
                .grant(&token, now + chrono::Duration::seconds(11))
                .is_none()
        );
        assert!(tokens.grant("garbage", now).is_none());
    }
}
