//! Custom fields and event questions.

use super::*;

/// `choice.json4`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Choice {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub text: String,
}

/// A custom field's `details`, in the shape of the spec's choice alternative (the others hold
/// text limits and date formats). The spec's `oneOf` lists open objects with no required property,
/// so strictly no value can match exactly one of them; validators read it as `anyOf`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct CustomFieldDetails {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// One of `Dropdown`, `Vertical`, `Horizontal`, `MultiSelectBox`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
}

/// `existing-custom-field`: required `category`, `name`, `code`, `type`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct CustomField {
    pub id: String,
    /// One of [`CUSTOM_FIELD_CATEGORIES`].
    pub category: String,
    pub name: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// One of [`CUSTOM_FIELD_TYPES`].
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<CustomFieldDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_text: Option<String>,
    /// One of [`DISPLAY_IN_DATA_TAG`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_in_data_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_field: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

impl Filterable for CustomField {
    const FILTER_FIELDS: &'static [&'static str] = &["id", "category", "lastModified", "code"];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "id" => text(&self.id),
            "category" => text(&self.category),
            "lastModified" => opt_text(&self.last_modified),
            "code" => text(&self.code),
            _ => FieldValue::Null,
        }
    }
}

/// `event-question.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct EventQuestion {
    pub id: String,
    pub event: IdRef,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_item: Option<IdRef>,
    /// One of [`QUESTION_TYPES`].
    #[serde(rename = "type")]
    pub question_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

impl Filterable for EventQuestion {
    const FILTER_FIELDS: &'static [&'static str] =
        &["event.id", "id", "code", "tag", "created", "lastModified"];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "event.id" => text(&self.event.id),
            "id" => text(&self.id),
            "code" => opt_text(&self.code),
            "tag" => opt_text(&self.tag),
            "created" => opt_text(&self.created),
            "lastModified" => opt_text(&self.last_modified),
            _ => FieldValue::Null,
        }
    }
}
