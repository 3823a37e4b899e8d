//! Writes to Cvent: session enrollment (`POST`/`DELETE /sessions/{id}/enrollment/{attendeeId}`,
//! 204 without a body) and event check-in (`POST /events/{id}/check-in`, at most 100 attendees a
//! call, answered 207 with one result per attendee). Every call goes through the connection's
//! client, so it spends the account's shared rate budget like any read.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::client::error_reason;
use super::{CventRest, quote};
use crate::ConnectorError;

/// The scopes a connection needs to write back, besides its read scopes.
pub const WRITE_SCOPES: &[&str] = &[
    "event/session-enrollment:write",
    "event/session-enrollment:delete",
    "event/attendees:write",
];

/// Cvent checks in at most this many attendees per call.
pub const CHECK_IN_BATCH: usize = 100;

/// One attendee to check in, at a time (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIn {
    pub attendee_id: String,
    pub at: String,
}

/// What Cvent said about one attendee of a check-in call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInResult {
    pub attendee_id: String,
    /// `None` when checked in; otherwise Cvent's reason for refusing.
    pub refusal: Option<String>,
}

impl CventRest {
    /// Registers an attendee to a session. Cvent answers 204 also when the attendee is already
    /// registered, so sending the same enrollment twice registers once.
    pub async fn enroll(&self, session_id: &str, attendee_id: &str) -> Result<(), ConnectorError> {
        let path = format!("/sessions/{session_id}/enrollment/{attendee_id}");
        self.write_call(Method::POST, &path, None).await.map(|_| ())
    }

    /// Removes an attendee from a session. `NotFound` when Cvent has no such registration (for
    /// example, it was removed already).
    pub async fn unenroll(
        &self,
        session_id: &str,
        attendee_id: &str,
    ) -> Result<(), ConnectorError> {
        let path = format!("/sessions/{session_id}/enrollment/{attendee_id}");
        self.write_call(Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }

    /// Checks attendees in to the connection's event, [`CHECK_IN_BATCH`] per call, and returns
    /// Cvent's answer for each, in order.
    pub async fn check_in(
        &self,
        check_ins: &[CheckIn],
    ) -> Result<Vec<CheckInResult>, ConnectorError> {
        let event_id = self.event_id().await?;
        let path = format!("/events/{event_id}/check-in");
        let mut results = Vec::with_capacity(check_ins.len());
        for batch in check_ins.chunks(CHECK_IN_BATCH) {
            let body: Vec<Value> = batch
                .iter()
                .map(|item| json!({"id": item.attendee_id, "checkIn": item.at}))
                .collect();
            let answer = self
                .write_call(Method::POST, &path, Some(&Value::Array(body)))
                .await?;
            results.extend(check_in_results(batch, &answer));
        }
        Ok(results)
    }

    /// One attendee, session or speaker of the connection's event by id, or `None` when Cvent
    /// has none. `kind` is the listing: `attendees`, `sessions` or `speakers`.
    pub async fn fetch_one(&self, kind: &str, id: &str) -> Result<Option<Value>, ConnectorError> {
        let event_id = self.event_id().await?;
        let filter = format!("event.id eq {} and id eq {}", quote(&event_id), quote(id));
        let page = self
            .list_call(
                Method::POST,
                &format!("/{kind}/filter"),
                &[("limit", "1".to_string())],
                Some(&json!({ "filter": filter })),
            )
            .await?;
        Ok(page["data"]
            .as_array()
            .and_then(|data| data.first())
            .cloned())
    }

    async fn write_call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ConnectorError> {
        let answer = self.client.call(method, path, &[], body).await?;
        let (status, body) = (answer.status, answer.json());
        match status {
            s if s.is_success() => Ok(body),
            StatusCode::FORBIDDEN => Err(ConnectorError::Forbidden {
                scope: String::new(),
                message: format!(
                    "Cvent refused {path}: {} — the application needs the scopes {}",
                    error_reason(&body),
                    WRITE_SCOPES.join(", ")
                ),
            }),
            StatusCode::NOT_FOUND => Err(ConnectorError::NotFound(format!(
                "Cvent has no {path}: {}",
                error_reason(&body)
            ))),
            _ => Err(ConnectorError::Rejected(format!(
                "Cvent refused {path} ({status}): {}",
                error_reason(&body)
            ))),
        }
    }
}

/// Pairs a 207 answer with the batch it answers. An attendee the answer does not mention is
/// reported as refused rather than assumed checked in.
fn check_in_results(batch: &[CheckIn], answer: &Value) -> Vec<CheckInResult> {
    let items = answer.as_array().map(Vec::as_slice).unwrap_or_default();
    batch
        .iter()
        .enumerate()
        .map(|(index, check_in)| {
            let item = items.get(index);
            let status = item.and_then(|i| i["status"].as_u64());
            let refusal = match status {
                Some(200..=299) => None,
                Some(status) => Some(format!(
                    "Cvent refused the check-in ({status}): {}",
                    item.and_then(|i| i["message"].as_str())
                        .unwrap_or("no message")
                )),
                None => Some("Cvent's answer did not mention this attendee".to_string()),
            };
            CheckInResult {
                attendee_id: check_in.attendee_id.clone(),
                refusal,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_status_answers_are_read_per_attendee() {
        let batch: Vec<CheckIn> = ["a", "b", "c"]
            .iter()
            .map(|id| CheckIn {
                attendee_id: id.to_string(),
                at: "2026-05-01T09:00:00Z".into(),
            })
            .collect();
        let answer = json!([
            {"data": {"id": "a"}, "status": 200, "message": "Checked in"},
            {"data": {"code": 400}, "status": 400, "message": "an attendee with status 'Cancelled' cannot be checked in"},
        ]);
        let results = check_in_results(&batch, &answer);
        let refusals: Vec<Option<&str>> = results.iter().map(|r| r.refusal.as_deref()).collect();
        assert_eq!(refusals[0], None);
        assert_eq!(
            refusals[1],
            Some(
                "Cvent refused the check-in (400): an attendee with status 'Cancelled' cannot be checked in"
            )
        );
        assert_eq!(
            refusals[2],
            Some("Cvent's answer did not mention this attendee")
        );
    }
}
