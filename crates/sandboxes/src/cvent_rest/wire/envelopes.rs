//! Usage and its tier; the envelopes around records: pages, errors, OAuth answers, batch writes.

use super::*;

/// `usage.json`: one UTC day of the account's API calls (`GET /usage`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Usage {
    pub used: u64,
    pub remaining: u64,
    pub total: u64,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// `switch-back-target-usage-plan.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct SwitchBackPlan {
    pub name: String,
    pub time: String,
}

/// `public-usage-plan` (`GET /usage/tier`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct UsageTier {
    pub name: String,
    /// Calls per UTC day. Cvent sends `null` for an unlimited tier (although the spec does not mark
    /// the field nullable), so `None` is serialised as `null`, not left out.
    pub quota: Option<u64>,
    pub burst_limit: u32,
    pub rate_limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switch_back_plan: Option<SwitchBackPlan>,
}

// ---------------------------------------------------------------------------------------------
// Envelopes, errors, auth, batch writes
// ---------------------------------------------------------------------------------------------

/// `pagination-links.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct PagingLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_link: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<Link>,
}

/// `paging.json`: `_links` is required; `nextToken` is absent on the last page.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Paging {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    #[serde(rename = "_links")]
    pub links: PagingLinks,
}

/// The `*-paginated-response` wrappers: `{"paging": …, "data": […]}`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Page<T> {
    pub paging: Paging,
    pub data: Vec<T>,
}

/// `error-response`: the body of every 4xx/5xx except the token endpoint's.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    pub code: u16,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<ErrorBody>>,
}

impl ErrorBody {
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        ErrorBody {
            code,
            message: message.into(),
            target: None,
            details: None,
        }
    }
}

/// The token endpoint's 400 body, OAuth-style (not `error-response`). `error` is one of
/// [`OAUTH_ERRORS`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OAuthError {
    pub error: String,
    pub error_description: String,
}

/// `POST /oauth2/token`'s 200 body (snake_case, as OAuth specifies).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
}

/// One element of the `POST /events/{id}/check-in` and `/sessions/{id}/check-in` bodies
/// (`checkin.json`): `id` (the attendee) and `checkIn` are required.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CheckInRequestItem {
    pub id: String,
    pub check_in: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_out: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
}

/// One element of a 207 Multi-Status array (`BulkResponseItem`): `data` is the created object or
/// an `error-response`; `request` is sent only when processing failed.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct MultiStatusItem {
    pub data: serde_json::Value,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<serde_json::Value>,
}
