//! Registration types, sponsorship levels and exhibitors.

use super::*;

/// `registration-type-response` (`GET /events/{id}/registration-types`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct RegistrationType {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub open_for_registration: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<IdRef>,
}

/// `existing-sponsorship-level`: required `event`, `name`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct SponsorshipLevel {
    pub id: String,
    pub event: IdRef,
    pub name: String,
    /// 0 is the top level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

/// `exhibitor-address.json`: a flatter address than contacts use.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ExhibitorAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// `contact-links.json2`: the exhibitor variant, with Instagram.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ExhibitorLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twitter_url: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facebook_url: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_in_url: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instagram_url: Option<Link>,
}

/// `existing-exhibitor.json` / `exhibitor-response`: required `event`, `name`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Exhibitor {
    pub id: String,
    pub event: IdRef,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// The booth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<ExhibitorAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_links: Option<ExhibitorLinks>,
    pub deleted: bool,
    pub hidden: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_sponsor: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sponsorship_level: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_logo_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<String>,
}

impl Filterable for Exhibitor {
    const FILTER_FIELDS: &'static [&'static str] = &["hidden", "deleted", "id"];

    fn field(&self, path: &str) -> FieldValue<'_> {
        match path {
            "hidden" => FieldValue::Bool(self.hidden),
            "deleted" => FieldValue::Bool(self.deleted),
            "id" => text(&self.id),
            _ => FieldValue::Null,
        }
    }
}
