//! Webhooks the sandbox sends, as Cvent's event webhooks do: configured through the control API
//! (`PUT /_sandbox/webhooks {"url", "token"}`, which first makes Cvent's validation `GET`), then
//! one `POST` per change made through the control API, per registration through
//! `POST /ea/attendees` and per registration on the registration page, with the static token in
//! `Authorization`.
//!
//! The envelope is `{eventType, messageTime, messageStub, message[]}`; stubs are upper-case GUIDs
//! (Cvent's REST ids are lower-case), empty strings stand for "no data", and session times are
//! local without an offset — the quirks a receiver must cope with.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

/// Where deliveries go.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub token: String,
}

/// The webhook integration of the sandbox account.
#[derive(Debug)]
pub struct Webhooks {
    target: RwLock<Option<Target>>,
    http: reqwest::Client,
    delivered: AtomicU64,
    failed: AtomicU64,
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks {
            target: RwLock::new(None),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }
}

/// Attempts per delivery before it counts as failed.
const ATTEMPTS: u32 = 3;

impl Webhooks {
    /// Cvent's validation call: `GET` with the token and a request id; the endpoint must say 200.
    pub async fn validate(&self, target: &Target) -> Result<(), String> {
        let response = self
            .http
            .get(&target.url)
            .header("authorization", &target.token)
            .header("request-id", uuid::Uuid::new_v4().to_string())
            .send()
            .await
            .map_err(|error| format!("the validation GET to {} failed: {error}", target.url))?;
        if response.status().as_u16() != 200 {
            return Err(format!(
                "the validation GET to {} answered {}, not 200",
                target.url,
                response.status()
            ));
        }
        Ok(())
    }

    pub fn set_target(&self, target: Option<Target>) {
        *self.target.write().unwrap_or_else(|p| p.into_inner()) = target;
    }

    pub fn target(&self) -> Option<Target> {
        self.target
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// Sends one delivery in the background, if webhooks are configured.
pub fn emit(
    webhooks: &std::sync::Arc<Webhooks>,
    event_type: &str,
    message_time: &str,
    message: Value,
) {
    let Some(target) = webhooks.target() else {
        return;
    };
    let envelope = json!({
        "eventType": event_type,
        "messageTime": message_time,
        "messageStub": uuid::Uuid::new_v4().to_string().to_uppercase(),
        "message": [message],
    });
    let webhooks = webhooks.clone();
    tokio::spawn(async move {
        for attempt in 0..ATTEMPTS {
            let sent = webhooks
                .http
                .post(&target.url)
                .header("authorization", &target.token)
                .json(&envelope)
                .send()
                .await;
            if sent.is_ok_and(|response| response.status().is_success()) {
                webhooks.delivered.fetch_add(1, Ordering::Relaxed);
                return;
            }
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
        webhooks.failed.fetch_add(1, Ordering::Relaxed);
    });
}

fn stub(value: &Value) -> Value {
    Value::String(value.as_str().unwrap_or_default().to_uppercase())
}

fn text(value: &Value) -> Value {
    Value::String(value.as_str().unwrap_or_default().to_string())
}

/// An invitee message from an attendee as the REST API shows it.
pub fn invitee_message(attendee: &Value) -> Value {
    json!({
        "inviteeStub": stub(&attendee["id"]),
        "contactStub": stub(&attendee["contact"]["id"]),
        "eventStub": stub(&attendee["event"]["id"]),
        "firstName": text(&attendee["contact"]["firstName"]),
        "lastName": text(&attendee["contact"]["lastName"]),
        "confirmationNumber": text(&attendee["confirmationNumber"]),
        "responseMethod": text(&attendee["responseMethod"]),
        "registrationType": text(&attendee["registrationType"]["name"]),
        "isGuest": attendee["guest"].as_bool().unwrap_or(false),
        "updatedDate": date_only(&attendee["lastModified"]),
    })
}

/// A session message: local times without an offset, as Cvent sends them.
pub fn session_message(session: &Value) -> Value {
    json!({
        "sessionStub": stub(&session["id"]),
        "sessionName": text(&session["title"]),
        "sessionDescription": text(&session["description"]),
        "sessionStartDateTime": local_time(&session["start"]),
        "sessionEndDateTime": local_time(&session["end"]),
        "timezoneName": "",
        "speakers": [],
        "updatedDate": date_only(&session["lastModified"]),
    })
}

/// A speaker message.
pub fn speaker_message(speaker: &Value) -> Value {
    json!({
        "speakerStub": stub(&speaker["id"]),
        "speakerFirstName": text(&speaker["firstName"]),
        "speakerLastName": text(&speaker["lastName"]),
        "speakerTitle": text(&speaker["title"]),
        "presenterAt": [],
        "updatedDate": date_only(&speaker["lastModified"]),
    })
}

fn date_only(value: &Value) -> Value {
    Value::String(
        value
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(10)
            .collect(),
    )
}

fn local_time(value: &Value) -> Value {
    Value::String(
        value
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(19)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_upper_case_stubs_and_local_times() {
        let attendee = json!({"id": "ab-1", "contact": {"id": "cd-2", "firstName": "Ada"}, "event": {"id": "ef-3"}, "lastModified": "2026-05-01T09:00:00.000Z"});
        let message = invitee_message(&attendee);
        assert_eq!(message["inviteeStub"], "AB-1");
        assert_eq!(message["contactStub"], "CD-2");
        assert_eq!(
            message["confirmationNumber"], "",
            "absent data is an empty string"
        );
        assert_eq!(message["updatedDate"], "2026-05-01");
        let session = json!({"id": "aa", "start": "2026-05-01T09:00:00.000Z"});
        assert_eq!(
            session_message(&session)["sessionStartDateTime"],
            "2026-05-01T09:00:00"
        );
    }
}
