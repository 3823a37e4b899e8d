//! What can go wrong talking to a vendor, as variants a caller can act on.

/// Retry or stop is decided from the variant, never from the message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectorError {
    /// The vendor refused the credentials; the message says which and what to check.
    #[error("{0}")]
    Auth(String),
    /// The credentials lack a scope an operation needs.
    #[error("{message}")]
    Forbidden { scope: String, message: String },
    /// Still throttled after every retry.
    #[error("{0}")]
    Throttled(String),
    /// The account's daily quota is spent until `resets_at` (RFC 3339).
    #[error("the vendor's daily API quota is used up until {resets_at}")]
    QuotaExhausted { resets_at: String },
    /// Server errors or dropped connections that outlasted the retries.
    #[error("{0}")]
    Transient(String),
    /// A page token the vendor no longer knows: restart the listing.
    #[error("the vendor no longer knows page token {token}")]
    ExpiredPageToken { token: String },
    #[error("{0}")]
    NotFound(String),
    /// The vendor refused a request as malformed (4xx other than 401/403/404/429).
    #[error("{0}")]
    Rejected(String),
    /// The connection's settings are wrong; the message says what to fix.
    #[error("{0}")]
    Config(String),
}
