//! The workspace's records as an app reads them: one list route per data type, all served by
//! one handler keyed by the data type (paged by external id, filtered on any field's exact
//! value, hidden records left out unless asked for), and the events of the connections.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::get;
use pipeline::DataType;
use serde::Serialize;
use serde_json::{Map, Value};
use store::StoredRecord;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItem, Paths,
};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, RefOr, ResponseBuilder, ResponsesBuilder, Schema, Type,
};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::UtoipaMethodRouter;

use super::{DEFAULT_LIMIT, MAX_LIMIT, Page, workspace_connection};
use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// Records one list call looks at at most while filtering; the cursor lets the caller go on.
const MAX_SCANNED: usize = 20_000;

/// A route that lists one data type's records.
#[derive(Debug)]
pub(crate) struct RecordList {
    pub path: &'static str,
    pub data_type: DataType,
    pub summary: &'static str,
}

/// Every synced data type's list route.
pub(crate) const LISTS: &[RecordList] = &[
    RecordList {
        path: "/v1/people",
        data_type: DataType::People,
        summary: "People: attendees, and guests (is_guest) with their primary",
    },
    RecordList {
        path: "/v1/speakers",
        data_type: DataType::Speakers,
        summary: "Speakers",
    },
    RecordList {
        path: "/v1/sessions",
        data_type: DataType::Sessions,
        summary: "The agenda: sessions, hidden ones only when asked",
    },
    RecordList {
        path: "/v1/session-registrations",
        data_type: DataType::SessionRegistrations,
        summary: "Session registrations as imported",
    },
    RecordList {
        path: "/v1/locations",
        data_type: DataType::Locations,
        summary: "Locations: the rooms and venues sessions take place in",
    },
    RecordList {
        path: "/v1/sponsors",
        data_type: DataType::Sponsors,
        summary: "Sponsors, with their level (level_external_id)",
    },
    RecordList {
        path: "/v1/sponsor-levels",
        data_type: DataType::SponsorLevels,
        summary: "Sponsorship levels",
    },
    RecordList {
        path: "/v1/air-requests",
        data_type: DataType::AirRequests,
        summary: "Flight requests, each attached to the person who travels (person_external_id)",
    },
    RecordList {
        path: "/v1/hotel-requests",
        data_type: DataType::HotelRequests,
        summary: "Hotel room requests, each attached to the person who stays (person_external_id)",
    },
];

/// The flag that lets hidden records into a list of a data type that hides some.
const INCLUDE_HIDDEN: &str = "include_hidden";

/// Whether records of `data_type` may be hidden (left out of lists unless asked for).
pub(crate) fn hides(data_type: DataType) -> bool {
    data_type.field("hidden").is_some()
}

/// A list route, registered with its operation: the parameters are the data type's fields, so
/// the operation is built from `pipeline`'s schema of the data type rather than annotated.
pub(super) fn list_route(route: &'static RecordList) -> UtoipaMethodRouter<AppState> {
    let data_type = route.data_type;
    let operation = OperationBuilder::new()
        .summary(Some(route.summary))
        .description(Some(format!(
            "The workspace's {data_type} records in external-id order. Each field parameter filters on the field's exact value; a custom field filters as `custom.<name>=…`; all filters must hold."
        )))
        .parameters(Some(list_parameters(data_type)))
        .responses(
            ResponsesBuilder::new()
                .response(
                    "200",
                    ResponseBuilder::new().description("a page").content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(<Page<Record, String> as PartialSchema>::schema()))
                            .build(),
                    ),
                )
                .build(),
        )
        .build();
    let paths = Paths::builder()
        .path(route.path, PathItem::new(HttpMethod::Get, operation))
        .build();
    let handler = get(move |state, query| list(state, query, data_type));
    (Vec::new(), paths, handler)
}

/// The query parameters of a data type's list, as [`list_params`] reads them.
fn list_parameters(data_type: DataType) -> Vec<Parameter> {
    let parameter = |name: &str, schema: ObjectBuilder, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .schema(Some(schema))
            .description(Some(description))
            .build()
    };
    let text = || ObjectBuilder::new().schema_type(Type::String);
    let mut parameters = vec![
        parameter(
            "connection",
            text(),
            "the connection; may be left out when only one is configured",
        ),
        parameter("after", text(), "the `next` of the previous page"),
        parameter(
            "limit",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(MAX_LIMIT)),
            &format!("records per page ({DEFAULT_LIMIT})"),
        ),
    ];
    if hides(data_type) {
        parameters.push(parameter(
            INCLUDE_HIDDEN,
            text().enum_values(Some(["true", "false"])),
            "include hidden records (false)",
        ));
    }
    parameters.push(parameter(
        "external_id",
        text(),
        "only the record with this id",
    ));
    for field in data_type
        .fields()
        .iter()
        .filter(|field| field.name != "external_id")
    {
        let (schema, what) = field_filter(field);
        parameters.push(parameter(
            field.name,
            schema,
            &format!("only records whose {} is exactly this ({what})", field.name),
        ));
    }
    parameters
}

/// The schema of a filter on one field's exact value, as [`check_filter`] holds it, and what
/// it takes in words.
fn field_filter(field: &pipeline::Field) -> (ObjectBuilder, &'static str) {
    use pipeline::FieldType;
    let text = ObjectBuilder::new().schema_type(Type::String);
    match field.field_type {
        FieldType::Text => (text, "text"),
        FieldType::Bool => (text.enum_values(Some(["true", "false"])), "true or false"),
        FieldType::Integer => (
            ObjectBuilder::new().schema_type(Type::Integer),
            "a whole number",
        ),
        FieldType::Timestamp => (
            text,
            "a time as the list shows it, to the second (2026-05-01T09:00:00Z)",
        ),
        FieldType::Enum(values) => (
            text.enum_values(Some(values.iter().copied())),
            "one of its values",
        ),
    }
}

/// A record as the API shows it ([`record_json`]): the data type's fields by name, a custom
/// field as `custom.<name>`, and the connection it belongs to. `Record` in the document.
pub(crate) struct Record;

impl PartialSchema for Record {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .property(
                "external_id",
                ObjectBuilder::new().schema_type(Type::String),
            )
            .property("connection", ObjectBuilder::new().schema_type(Type::String))
            .required("external_id")
            .required("connection")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(true),
            ))
            .into()
    }
}

impl ToSchema for Record {}

/// `GET` of any data type's list: paging (`connection`, `after`, `limit`), exact-value filters
/// on its fields, and `include_hidden` where records may be hidden.
pub(super) async fn list(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    data_type: DataType,
) -> ApiResult<Json<Page<Value, String>>> {
    let flags: &[&str] = if hides(data_type) {
        &[INCLUDE_HIDDEN]
    } else {
        &[]
    };
    let params = list_params(data_type, params, flags)?;
    let include_hidden = match params.flags.get(INCLUDE_HIDDEN).map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "{INCLUDE_HIDDEN} must be true or false, not '{other}'"
            )));
        }
    };
    let connection = workspace_connection(&state, params.connection.as_deref())?;
    let listing = list_records(
        &state,
        &connection,
        data_type,
        &params.filters,
        params.after,
        params.limit,
        &|record| include_hidden || record["hidden"] != Value::Bool(true),
    )
    .await?;
    Ok(Json(Page {
        data: listing.data,
        next: listing.next,
    }))
}

/// A record as the API shows it.
pub(crate) fn record_json(connection: &str, record: &StoredRecord) -> Value {
    let mut fields = record_fields(record);
    fields.insert("connection".into(), Value::String(connection.to_string()));
    Value::Object(fields)
}

/// A record's fields as the API and exports show them: plain values, times to the second.
pub fn record_fields(record: &StoredRecord) -> Map<String, Value> {
    let mut fields = engine::run::export_fields(record);
    for (name, stored) in &record.fields {
        if let Ok(pipeline::FieldValue::Timestamp(at)) =
            serde_json::from_value::<pipeline::FieldValue>(stored.clone())
        {
            fields.insert(name.clone(), Value::String(crate::time::seconds(&at)));
        }
    }
    fields
}

fn plain_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// One page of a filtered list.
pub(super) struct Listing {
    pub data: Vec<Value>,
    pub next: Option<String>,
}

/// Lists `data_type` records of a connection matching every `filters` field exactly, in
/// external-id order, from after `after`.
pub(super) async fn list_records(
    state: &AppState,
    connection: &str,
    data_type: DataType,
    filters: &BTreeMap<String, String>,
    after: Option<String>,
    limit: u32,
    keep: &(dyn Fn(&Value) -> bool + Sync),
) -> ApiResult<Listing> {
    let mut data = Vec::new();
    let mut cursor = after;
    let mut scanned = 0;
    let page_size = limit.max(200);
    loop {
        let page = state
            .store
            .export_page(
                Some(connection),
                data_type.as_str(),
                cursor.as_deref(),
                page_size,
            )
            .await?;
        let exhausted = page.len() < page_size as usize;
        for record in &page {
            scanned += 1;
            cursor = Some(record.external_id.clone());
            let shown = record_json(connection, record);
            let matches = filters
                .iter()
                .all(|(field, wanted)| plain_text(&shown[field]).as_deref() == Some(wanted));
            if matches && keep(&shown) {
                data.push(shown);
                if data.len() == limit as usize {
                    return Ok(Listing { data, next: cursor });
                }
            }
        }
        if exhausted {
            return Ok(Listing { data, next: None });
        }
        if scanned >= MAX_SCANNED {
            return Ok(Listing { data, next: cursor });
        }
    }
}

/// Splits list parameters into paging, the connection, flags and field filters.
struct ListParams {
    connection: Option<String>,
    after: Option<String>,
    limit: u32,
    flags: BTreeMap<String, String>,
    filters: BTreeMap<String, String>,
}

fn list_params(
    data_type: DataType,
    params: HashMap<String, String>,
    flags: &[&str],
) -> ApiResult<ListParams> {
    let mut list = ListParams {
        connection: None,
        after: None,
        limit: DEFAULT_LIMIT,
        flags: BTreeMap::new(),
        filters: BTreeMap::new(),
    };
    for (key, value) in params {
        match key.as_str() {
            "connection" => list.connection = Some(value),
            "after" => list.after = Some(value).filter(|v| !v.is_empty()),
            "limit" => {
                list.limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        ApiError::invalid(format!("limit must be a number from 1 to {MAX_LIMIT}"))
                    })?;
            }
            flag if flags.contains(&flag) => {
                list.flags.insert(key, value);
            }
            field
                if field == "external_id"
                    || data_type.field(field).is_some()
                    || field.starts_with("custom.") =>
            {
                if let Some(schema) = data_type.field(field) {
                    check_filter(schema, &value)?;
                }
                list.filters.insert(key, value);
            }
            _ => {
                return Err(ApiError::invalid(format!(
                    "'{key}' is neither a paging parameter (connection, after, limit) nor a field of {data_type}"
                )));
            }
        }
    }
    Ok(list)
}

/// Refuses a filter value no record of the field could hold, as the document's schema does.
fn check_filter(field: &pipeline::Field, value: &str) -> ApiResult<()> {
    use pipeline::FieldType;
    let name = field.name;
    match field.field_type {
        FieldType::Bool if value != "true" && value != "false" => Err(ApiError::invalid(format!(
            "{name} must be true or false, not '{value}'"
        ))),
        FieldType::Integer if value.parse::<i64>().is_err() => Err(ApiError::invalid(format!(
            "{name} must be a whole number, not '{value}'"
        ))),
        FieldType::Enum(values) if !values.contains(&value) => Err(ApiError::invalid(format!(
            "{name} must be one of {}, not '{value}'",
            values.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// A connection's event, as its connection's facts name it.
#[derive(Serialize, ToSchema)]
pub(super) struct Event {
    connection: String,
    external_id: String,
    title: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/events",
    summary = "The events of the connections",
    responses((status = 200, description = "the events", body = Page<Event, String>))
)]
pub(super) async fn list_events(
    State(state): State<AppState>,
) -> ApiResult<Json<Page<Event, String>>> {
    let mut data = Vec::new();
    for connection in &state.config().connections {
        let facts = state.store.connection_facts(&connection.name).await?;
        if let Some(facts) = facts
            && let Some(event_id) = facts["event_id"].as_str()
        {
            data.push(Event {
                connection: connection.name.clone(),
                external_id: event_id.to_string(),
                title: facts["event_title"].as_str().map(str::to_string),
            });
        }
    }
    Ok(Json(Page { data, next: None }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_type_has_one_list_route() {
        for data_type in DataType::ALL {
            let routes: Vec<&str> = LISTS
                .iter()
                .filter(|list| list.data_type == data_type)
                .map(|list| list.path)
                .collect();
            assert_eq!(routes.len(), 1, "{data_type}: {routes:?}");
            assert_eq!(
                routes[0],
                format!("/v1/{}", data_type.as_str().replace('_', "-")),
                "{data_type}"
            );
        }
        assert_eq!(LISTS.len(), DataType::ALL.len());
        assert!(hides(DataType::Sessions) && !hides(DataType::Sponsors));
    }
}
