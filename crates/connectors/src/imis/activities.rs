//! Activities: the rows of a party's history in which eventsync records attendance, found again
//! by the key it writes into one of their user fields (iMIS has no external id for them).

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use super::Imis;
use super::envelope::{
    field, generic_entity, identity_element, integer, property, property_texts, text, text_of,
    values_of,
};
use super::paging;
use crate::ConnectorError;

/// The properties every new activity is written with; the key goes in a field of its own.
const WRITTEN: [&str; 5] = [
    "ACTIVITY_TYPE",
    "PartyId",
    "PRODUCT_CODE",
    "DESCRIPTION",
    "TRANSACTION_DATE",
];

/// An activity to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActivity {
    pub party_id: String,
    /// A code iMIS knows as a legacy activity type, such as `EVENT`.
    pub activity_type: String,
    pub product_code: String,
    pub description: String,
    /// iMIS local time, `YYYY-MM-DDTHH:MM:SS`; iMIS sets today's date when it is absent.
    pub transaction_date: Option<String>,
    /// The property eventsync's key is written to, such as `UF_1`.
    pub key_field: String,
    pub key: String,
}

impl NewActivity {
    /// The `GenericEntityData` iMIS creates an activity from.
    pub(crate) fn to_wire(&self) -> Value {
        let mut properties = vec![
            ("ACTIVITY_TYPE", json!(self.activity_type)),
            ("PartyId", json!(self.party_id)),
            ("PRODUCT_CODE", json!(self.product_code)),
            ("DESCRIPTION", json!(self.description)),
        ];
        if let Some(date) = &self.transaction_date {
            properties.push(("TRANSACTION_DATE", json!(date)));
        }
        properties.push((self.key_field.as_str(), json!(self.key)));
        generic_entity("Activity", Some(("Party", &self.party_id)), properties)
    }

    fn check(&self) -> Result<(), ConnectorError> {
        let key_field = self.key_field.trim();
        if key_field.is_empty() {
            return Err(ConnectorError::Config(
                "no iMIS activity field is set to hold eventsync's key".into(),
            ));
        }
        if WRITTEN
            .iter()
            .any(|name| name.eq_ignore_ascii_case(key_field))
        {
            return Err(ConnectorError::Config(format!(
                "the iMIS activity field {key_field} cannot hold eventsync's key: eventsync writes it already (choose a user field such as UF_1)"
            )));
        }
        if self.key.trim().is_empty() {
            return Err(ConnectorError::Config(
                "an activity without a key could not be found again".into(),
            ));
        }
        Ok(())
    }
}

/// An activity as iMIS lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// iMIS's sequence number: the activity's id.
    pub seqn: i64,
    pub party_id: Option<String>,
    pub activity_type: Option<String>,
    pub product_code: Option<String>,
    /// Every property that has a value, as text, under its upper-case name.
    pub properties: BTreeMap<String, String>,
}

impl Activity {
    /// An activity from its `GenericEntityData`; `None` when it names no SEQN.
    pub(crate) fn from_wire(entity: &Value) -> Option<Activity> {
        let properties_collection = field(entity, "Properties").unwrap_or(&Value::Null);
        let seqn = property(properties_collection, "SEQN")
            .and_then(integer)
            .or_else(|| identity_element(entity).and_then(integer))?;
        let properties = property_texts(properties_collection);
        let parent_id = || {
            let parent = field(entity, "PrimaryParentIdentity")?;
            values_of(parent, "IdentityElements").first().and_then(text)
        };
        let party_id = properties
            .get("PARTYID")
            .or_else(|| properties.get("ID"))
            .cloned()
            .or_else(parent_id)
            .filter(|id| !id.is_empty());
        Some(Activity {
            seqn,
            party_id,
            activity_type: properties.get("ACTIVITY_TYPE").cloned(),
            product_code: properties.get("PRODUCT_CODE").cloned(),
            properties,
        })
    }

    /// Whether the activity agrees with a filter term. A property the activity does not list
    /// cannot disagree: iMIS applied the filter.
    fn agrees_with(&self, name: &str, value: &str) -> bool {
        let upper = name.to_ascii_uppercase();
        let held = match upper.as_str() {
            "PARTYID" | "ID" => self.party_id.as_ref(),
            _ => self.properties.get(&upper),
        };
        held.is_none_or(|held| held.trim().eq_ignore_ascii_case(value.trim()))
    }
}

/// The SEQN iMIS gave a created activity, from its identity or its properties.
fn created_seqn(created: &Value) -> Option<i64> {
    identity_element(created).and_then(integer).or_else(|| {
        let properties = field(created, "Properties")?;
        property(properties, "SEQN").and_then(integer)
    })
}

/// The code of a legacy activity type, from its properties or a member of its own.
fn activity_type_code(entity: &Value) -> Option<String> {
    field(entity, "Properties")
        .and_then(|properties| property(properties, "Code"))
        .and_then(text)
        .or_else(|| text_of(entity, "Code"))
}

impl Imis {
    /// Whether iMIS knows `code` as a legacy activity type, which an activity's type must be.
    pub async fn activity_type_exists(&self, code: &str) -> Result<bool, ConnectorError> {
        let code = code.trim();
        if code.is_empty() {
            return Ok(false);
        }
        let query = [("Code", format!("eq:{code}"))];
        let types = paging::all(
            &self.client,
            &["api", "LegacyActivityType"],
            &query,
            self.page_size,
        )
        .await?;
        Ok(types.iter().any(|entity| {
            activity_type_code(entity).is_none_or(|found| found.trim().eq_ignore_ascii_case(code))
        }))
    }

    /// Creates an activity and returns its SEQN.
    ///
    /// When this fails in a way that leaves unknown whether iMIS created it (a timeout, a
    /// server error, an answer without a SEQN), look for the key with [`Imis::find_activities`]
    /// before creating it again.
    pub async fn create_activity(&self, activity: &NewActivity) -> Result<i64, ConnectorError> {
        activity.check()?;
        let body = activity.to_wire();
        let created = self
            .client
            .call(Method::POST, &["api", "Activity"], &[], Some(&body))
            .await?
            .into_json()?;
        created_seqn(&created).ok_or_else(|| {
            ConnectorError::Transient(format!(
                "iMIS accepted the activity for party {} but its answer names no SEQN: look for {} = '{}' before creating it again",
                activity.party_id, activity.key_field, activity.key
            ))
        })
    }

    /// The activities whose properties equal the filter's values (iMIS's `eq`, ignoring case),
    /// such as `[("PartyId", "23051"), ("UF_1", key)]`.
    pub async fn find_activities(
        &self,
        filter: &[(&str, &str)],
    ) -> Result<Vec<Activity>, ConnectorError> {
        let query: Vec<(&str, String)> = filter
            .iter()
            .map(|(name, value)| (*name, format!("eq:{value}")))
            .collect();
        let entities =
            paging::all(&self.client, &["api", "Activity"], &query, self.page_size).await?;
        let mut activities = Vec::with_capacity(entities.len());
        for entity in &entities {
            let Some(activity) = Activity::from_wire(entity) else {
                tracing::warn!(
                    connection = self.connection(),
                    "iMIS listed an activity without a SEQN; it is left out"
                );
                continue;
            };
            // iMIS passes over a filter on a name it does not know; a list that came back
            // unfiltered must not be taken for matches.
            if filter
                .iter()
                .all(|(name, value)| activity.agrees_with(name, value))
            {
                activities.push(activity);
            }
        }
        Ok(activities)
    }

    /// Deletes the activity `seqn`; false when iMIS no longer has it.
    pub async fn delete_activity(&self, seqn: i64) -> Result<bool, ConnectorError> {
        let seqn = seqn.to_string();
        let answer = self
            .client
            .call(Method::DELETE, &["api", "Activity", &seqn], &[], None)
            .await?;
        if answer.is_not_found() {
            return Ok(false);
        }
        answer.into_json()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imis::envelope::{GENERIC_ENTITY, identity, typed, typed_throughout};

    fn new_activity() -> NewActivity {
        NewActivity {
            party_id: "23051".into(),
            activity_type: "EVENT".into(),
            product_code: "ANNUAL26".into(),
            description: "Annual Conference 2026".into(),
            transaction_date: Some("2026-03-02T09:00:00".into()),
            key_field: "UF_1".into(),
            key: "cvent:att-1".into(),
        }
    }

    #[test]
    fn a_new_activity_is_written_as_generic_entity_data() {
        let wire = new_activity().to_wire();
        assert!(typed_throughout(&wire), "{wire:#}");
        assert_eq!(wire["$type"], GENERIC_ENTITY);
        assert_eq!(wire["EntityTypeName"], "Activity");
        assert_eq!(wire["PrimaryParentEntityTypeName"], "Party");
        assert_eq!(
            wire["PrimaryParentIdentity"]["IdentityElements"]["$values"],
            json!(["23051"])
        );
        let names: Vec<&str> = wire["Properties"]["$values"]
            .as_array()
            .expect("properties")
            .iter()
            .filter_map(|p| p["Name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "ACTIVITY_TYPE",
                "PartyId",
                "PRODUCT_CODE",
                "DESCRIPTION",
                "TRANSACTION_DATE",
                "UF_1"
            ]
        );
        assert_eq!(
            property(&wire["Properties"], "uf_1")
                .and_then(text)
                .as_deref(),
            Some("cvent:att-1")
        );

        let undated = NewActivity {
            transaction_date: None,
            ..new_activity()
        };
        assert!(property(&undated.to_wire()["Properties"], "TRANSACTION_DATE").is_none());
    }

    #[test]
    fn a_key_needs_a_field_of_its_own() {
        assert_eq!(new_activity().check(), Ok(()));
        for (key_field, key) in [("", "k"), ("description", "k"), ("UF_1", " ")] {
            let activity = NewActivity {
                key_field: key_field.into(),
                key: key.into(),
                ..new_activity()
            };
            assert!(
                matches!(activity.check(), Err(ConnectorError::Config(_))),
                "{key_field:?} {key:?}"
            );
        }
    }

    #[test]
    fn an_activity_is_read_from_what_imis_lists() {
        let listed = json!({
            "$type": GENERIC_ENTITY,
            "EntityTypeName": "Activity",
            "PrimaryParentIdentity": identity("Party", &["23051"]),
            "Identity": identity("Activity", &["812"]),
            "Properties": {"$values": [
                {"Name": "SEQN", "Value": typed("System.Int32", json!(812))},
                {"Name": "ACTIVITY_TYPE", "Value": "EVENT"},
                {"Name": "Product_Code", "Value": "ANNUAL26"},
                {"Name": "UF_1", "Value": "cvent:att-1"},
                {"Name": "UNITS", "Value": typed("System.Decimal", json!(1.5))},
                {"Name": "NOTE", "Value": null},
            ]},
        });
        let activity = Activity::from_wire(&listed).expect("an activity");
        assert_eq!(activity.seqn, 812);
        assert_eq!(activity.party_id.as_deref(), Some("23051"));
        assert_eq!(activity.activity_type.as_deref(), Some("EVENT"));
        assert_eq!(activity.product_code.as_deref(), Some("ANNUAL26"));
        assert_eq!(
            activity.properties.get("UNITS").map(String::as_str),
            Some("1.5")
        );
        assert!(!activity.properties.contains_key("NOTE"));
        assert!(activity.agrees_with("partyid", "23051"));
        assert!(activity.agrees_with("uf_1", "CVENT:ATT-1"));
        assert!(!activity.agrees_with("UF_1", "cvent:att-2"));
        assert!(activity.agrees_with("UF_2", "anything"));

        let by_identity = json!({"Identity": identity("Activity", &["9"])});
        assert_eq!(Activity::from_wire(&by_identity).map(|a| a.seqn), Some(9));
        assert_eq!(Activity::from_wire(&json!({"Properties": []})), None);
    }

    #[test]
    fn a_created_seqn_is_read_from_identity_or_properties() {
        assert_eq!(
            created_seqn(&json!({"Identity": identity("Activity", &["812"])})),
            Some(812)
        );
        assert_eq!(
            created_seqn(&json!({"Properties": {"$values": [
                {"Name": "SEQN", "Value": typed("System.Int32", json!(813))}
            ]}})),
            Some(813)
        );
        assert_eq!(created_seqn(&Value::Null), None);
    }

    #[test]
    fn activity_type_codes_are_read_from_properties() {
        let listed = json!({"Properties": {"$values": [
            {"Name": "Code", "Value": "EVENT"}, {"Name": "Description", "Value": "Event"}
        ]}});
        assert_eq!(activity_type_code(&listed).as_deref(), Some("EVENT"));
        assert_eq!(
            activity_type_code(&json!({"Code": "CALL"})).as_deref(),
            Some("CALL")
        );
        assert_eq!(activity_type_code(&json!({})), None);
    }
}
