//! Which iMIS party a workspace person is: by the iMIS id a mapped field carries, else by
//! email, in the order the connection says. Nothing found, and two parties sharing one email,
//! are refusals that say why and what to do; a person is never put on a guessed party.

use connectors::ConnectorError;
use connectors::imis::{Imis, Party};
use engine::config::{ImisFeed, MatchBy};
use serde_json::{Map, Value};

/// The party of a person whose fields (plain values) are `fields`.
pub async fn match_party(
    client: &Imis,
    feed: &ImisFeed,
    fields: &Map<String, Value>,
) -> Result<Party, ConnectorError> {
    let mut tried = Vec::new();
    for by in &feed.match_order {
        match by {
            MatchBy::Id => {
                let field = feed.id_field.as_deref().unwrap_or_default();
                let Some(id) = text(fields, field) else {
                    tried.push(format!("no iMIS id in {field}"));
                    continue;
                };
                match client.party(&id).await? {
                    Some(party) => return Ok(party),
                    None => tried.push(format!("iMIS has no party {id} (from {field})")),
                }
            }
            MatchBy::Email => {
                let Some(email) = text(fields, "email") else {
                    tried.push("no email".to_string());
                    continue;
                };
                let mut parties = client.parties_by_email(&email).await?;
                match parties.len() {
                    0 => tried.push(format!("no iMIS party has the email {email}")),
                    1 => return Ok(parties.remove(0)),
                    n => {
                        let ids: Vec<&str> = parties.iter().map(|p| p.id.as_str()).collect();
                        let choose = match &feed.id_field {
                            Some(field) => format!("put the right iMIS id in {field}"),
                            None => {
                                "merge them in iMIS, or set id_field and give the person's iMIS id"
                                    .to_string()
                            }
                        };
                        return Err(ConnectorError::Rejected(format!(
                            "{n} iMIS parties have the email {email} ({}): eventsync does not guess; {choose}",
                            ids.join(", ")
                        )));
                    }
                }
            }
        }
    }
    Err(ConnectorError::Rejected(format!(
        "no iMIS party matches: {}",
        tried.join("; ")
    )))
}

/// A field's text, trimmed; `None` when absent or empty.
fn text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    let value = match fields.get(name)? {
        Value::String(text) => text.trim().to_string(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    (!value.is_empty()).then_some(value)
}
