//! Saved queries (IQA), run with one parameter: the Query service of iMIS EMS and Cloud
//! (`/api/query`, flat rows) or the older IQA endpoint of iMIS 2017 (`/api/iqa`, rows as
//! `GenericEntityData`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Imis;
use super::envelope::{field, text, unwrap, values_of};
use super::paging;
use crate::ConnectorError;

/// One row of a query: its columns, each value as text; a null leaves its column out.
pub type QueryRow = BTreeMap<String, String>;

/// Which endpoint runs a saved query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryService {
    /// `/api/query`: iMIS EMS and Cloud.
    Query,
    /// `/api/iqa`: iMIS 2017.
    Iqa,
}

impl QueryService {
    fn endpoint(self) -> &'static str {
        match self {
            QueryService::Query => "query",
            QueryService::Iqa => "iqa",
        }
    }
}

/// A saved query, by its document path (`$/Events/Cvent/Eligible members`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedQuery {
    pub name: String,
    pub service: QueryService,
}

/// The IQA column that numbers rows; it is no column of the query.
const RESULT_ROW: &str = "ResultRow";

/// A row as either endpoint sends it: a `GenericEntityData` whose properties are the columns,
/// or a flat object whose members are.
pub(crate) fn row_of(item: &Value) -> QueryRow {
    let mut row = QueryRow::new();
    if field(item, "Properties").is_some() {
        for entry in values_of(item, "Properties") {
            let Some(name) = field(entry, "Name").and_then(text) else {
                continue;
            };
            if name.eq_ignore_ascii_case(RESULT_ROW) {
                continue;
            }
            if let Some(value) = field(entry, "Value").and_then(cell) {
                row.insert(name, value);
            }
        }
        return row;
    }
    if let Value::Object(members) = item {
        for (name, value) in members {
            if name.starts_with('$') {
                continue;
            }
            if let Some(value) = cell(value) {
                row.insert(name.clone(), value);
            }
        }
    }
    row
}

/// A column's value as text: a scalar unwrapped, anything else as its JSON.
fn cell(value: &Value) -> Option<String> {
    match unwrap(value) {
        Value::Null => None,
        value => text(value).or_else(|| Some(value.to_string())),
    }
}

impl Imis {
    /// Every row `query` gives for `value` as its parameter (`eq:`).
    pub async fn run_query(
        &self,
        query: &SavedQuery,
        value: &str,
    ) -> Result<Vec<QueryRow>, ConnectorError> {
        let parameters = [
            ("QueryName", query.name.clone()),
            ("parameter", format!("eq:{value}")),
        ];
        let items = paging::all(
            &self.client,
            &["api", query.service.endpoint()],
            &parameters,
            self.page_size,
        )
        .await?;
        Ok(items.iter().map(row_of).collect())
    }

    /// Whether `query` exists and this user may run it through the REST API: one row asked for
    /// with a parameter that matches nobody. `NotFound` and `Forbidden` carry iMIS's message.
    pub async fn check_query(&self, query: &SavedQuery) -> Result<(), ConnectorError> {
        let parameters = [
            ("QueryName", query.name.clone()),
            ("parameter", "eq:eventsync-check-matches-nobody".to_string()),
        ];
        paging::page(
            &self.client,
            &["api", query.service.endpoint()],
            &parameters,
            0,
            1,
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imis::envelope::typed;
    use serde_json::json;

    #[test]
    fn query_rows_are_flat_objects() {
        let row = row_of(&json!({
            "$type": "System.Dynamic.ExpandoObject, System.Core",
            "ImisId": "23051",
            "FirstName": "Ada",
            "IsMember": typed("System.Boolean", json!(true)),
            "Balance": typed("System.Decimal", json!(12.5)),
            "Joined": null,
            "Tags": ["a", "b"],
        }));
        let expected: QueryRow = [
            ("ImisId", "23051"),
            ("FirstName", "Ada"),
            ("IsMember", "true"),
            ("Balance", "12.5"),
            ("Tags", r#"["a","b"]"#),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(row, expected);
    }

    #[test]
    fn iqa_rows_are_generic_entities_without_their_row_number() {
        let row = row_of(&json!({
            "$type": "Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts",
            "EntityTypeName": "9",
            "Properties": {"$type": "Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts", "$values": [
                {"$type": "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts", "Name": "ResultRow", "Value": "1"},
                {"$type": "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts", "Name": "ImisId", "Value": "23051"},
                {"$type": "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts", "Name": "Count", "Value": typed("System.Int32", json!(3))},
                {"$type": "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts", "Name": "Email", "Value": null}
            ]}
        }));
        let expected: QueryRow = [("ImisId", "23051"), ("Count", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(row, expected);
        let plain = row_of(&json!({"Properties": [{"Name": "ImisId", "Value": 7}]}));
        assert_eq!(plain.get("ImisId").map(String::as_str), Some("7"));
    }

    #[test]
    fn services_are_named_in_lower_case() {
        assert_eq!(
            serde_json::to_value(QueryService::Iqa).expect("serializes"),
            json!("iqa")
        );
        let service: QueryService = serde_json::from_value(json!("query")).expect("parses");
        assert_eq!(service, QueryService::Query);
    }
}
