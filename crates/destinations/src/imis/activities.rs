//! Delivering a person to iMIS: one activity on their party while they are registered, none
//! once they are not. Each delivery compares the workspace with iMIS and closes the gap, so a
//! repeated, late or reordered item, or a process killed between iMIS's answer and the link
//! being recorded, still leaves exactly one activity.

use connectors::ConnectorError;
use connectors::imis::{Activity, NewActivity};
use serde_json::{Map, Value};
use store::{OutboxItem, Store, StoreError};

use super::{ImisDestination, REGISTERED, Source, match_party, person_key};

impl ImisDestination {
    /// Brings iMIS in line with the person an outbox item names. `Ok` says what was done.
    pub async fn deliver(
        &self,
        store: &Store,
        item: &OutboxItem,
    ) -> Result<String, ConnectorError> {
        let Some(source) = item.payload["source"].as_str() else {
            return Err(ConnectorError::Rejected(
                "the item names no source connection".to_string(),
            ));
        };
        let Some(source) = self.source(source) else {
            return Err(ConnectorError::Rejected(format!(
                "connection '{source}' no longer feeds {}: its [connections.imis] names another site or was removed",
                self.name()
            )));
        };
        let person = item.attendee_id.as_str();
        // One delivery per person at a time, whichever process runs it (a PostgreSQL advisory
        // lock; SQLite's one serving process delivers one item at a time).
        let lock = store
            .lock(&format!(
                "imis:{}:{}:{person}",
                self.name(),
                source.connection
            ))
            .await
            .map_err(unavailable)?;
        let done = self.reconcile(store, source, person).await;
        lock.release().await.map_err(unavailable)?;
        done
    }

    async fn reconcile(
        &self,
        store: &Store,
        source: &Source,
        person: &str,
    ) -> Result<String, ConnectorError> {
        let fields = store
            .records(
                &source.connection,
                pipeline::DataType::People.as_str(),
                &[person.to_string()],
            )
            .await
            .map_err(unavailable)?
            .remove(person)
            .map(|record| engine::run::export_fields(&record));
        let key = person_key(&source.connection, person);
        let held = self.activities_with_key(source, &key).await?;
        let registered = fields
            .as_ref()
            .is_some_and(|fields| fields.get("status").and_then(Value::as_str) == Some(REGISTERED));
        let Some(fields) = fields.filter(|_| registered) else {
            return self.clear(store, source, person, held).await;
        };
        let party = match_party(self.client(), &source.feed, &fields).await?;
        let (keep, extra): (Vec<Activity>, Vec<Activity>) =
            held.into_iter().partition(|activity| {
                activity.party_id.as_deref() == Some(party.id.as_str())
                    && activity.product_code.as_deref() == Some(source.product_code.as_str())
            });
        let mut kept = keep.into_iter();
        let first = kept.next();
        // Anything else carrying the person's key is a duplicate, or on a party the person no
        // longer matches: removed, so one activity is left.
        for activity in kept.chain(extra) {
            self.client().delete_activity(activity.seqn).await?;
        }
        let (seqn, done) = match first {
            Some(activity) => (activity.seqn, "kept"),
            None => {
                let seqn = self
                    .client()
                    .create_activity(&NewActivity {
                        party_id: party.id.clone(),
                        activity_type: source.feed.activity_type.clone(),
                        product_code: source.product_code.clone(),
                        description: describe(
                            &source.feed.description,
                            &fields,
                            &source.product_code,
                        ),
                        transaction_date: Some(
                            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                        ),
                        key_field: source.feed.key_field.clone(),
                        key: key.clone(),
                    })
                    .await?;
                (seqn, "created")
            }
        };
        store
            .set_destination_link(
                self.name(),
                &source.connection,
                person,
                Some(&party.id),
                Some(&seqn.to_string()),
            )
            .await
            .map_err(unavailable)?;
        Ok(format!("activity {seqn} {done} on party {}", party.id))
    }

    /// Removes every activity the person's key is on: they are cancelled, removed, or not
    /// registered.
    async fn clear(
        &self,
        store: &Store,
        source: &Source,
        person: &str,
        held: Vec<Activity>,
    ) -> Result<String, ConnectorError> {
        let mut removed = Vec::new();
        for activity in &held {
            if self.client().delete_activity(activity.seqn).await? {
                removed.push(activity.seqn.to_string());
            }
        }
        let party = store
            .destination_link(self.name(), &source.connection, person)
            .await
            .map_err(unavailable)?
            .and_then(|link| link.party_id);
        store
            .set_destination_link(
                self.name(),
                &source.connection,
                person,
                party.as_deref(),
                None,
            )
            .await
            .map_err(unavailable)?;
        Ok(if removed.is_empty() {
            "no activity to remove".to_string()
        } else {
            format!("activity {} removed", removed.join(", "))
        })
    }

    /// The activities of the source's type that carry the person's key, on any party.
    async fn activities_with_key(
        &self,
        source: &Source,
        key: &str,
    ) -> Result<Vec<Activity>, ConnectorError> {
        self.client()
            .find_activities(&[
                ("ACTIVITY_TYPE", source.feed.activity_type.as_str()),
                (source.feed.key_field.as_str(), key),
            ])
            .await
    }
}

/// The description template with the person's fields filled in.
fn describe(template: &str, fields: &Map<String, Value>, event: &str) -> String {
    let field = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let text = template
        .replace("{first_name}", &field("first_name"))
        .replace("{last_name}", &field("last_name"))
        .replace("{email}", &field("email"))
        .replace("{external_id}", &field("external_id"))
        .replace("{event}", event);
    // iMIS's DESCRIPTION column holds 255 characters.
    text.chars().take(255).collect()
}

/// A store that cannot be read or written now: the item is tried again.
fn unavailable(error: StoreError) -> ConnectorError {
    ConnectorError::Transient(format!("the workspace could not be read: {error}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::describe;

    #[test]
    fn descriptions_fill_the_persons_fields_and_stay_within_the_column() {
        let fields = json!({"first_name": "Ada", "last_name": "Byron", "email": "ada@example.org"});
        let fields = fields.as_object().unwrap();
        assert_eq!(
            describe(
                "{first_name} {last_name} registered for {event}",
                fields,
                "ANNCONF"
            ),
            "Ada Byron registered for ANNCONF"
        );
        assert_eq!(describe(&"x".repeat(400), fields, "E").chars().count(), 255);
        assert_eq!(describe("{title}", fields, "E"), "{title}");
    }
}
