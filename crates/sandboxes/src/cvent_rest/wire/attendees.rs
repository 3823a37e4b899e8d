//! Contacts and attendees, with their groups, references and registration links.

use super::*;

/// `attendee-contact-type.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ContactType {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
}

/// `opt-out.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct OptOut {
    pub opted_out: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// `passport.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct Passport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
}

/// A contact: the spec's `contact` schema, which is also what an attendee embeds
/// (`attendee-contact-info.json`, the same fields minus the sensitive ones).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cc_email: Option<String>,
    /// One of [`GENDERS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub designation: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<ContactType>,
    /// One of [`ADDRESS_TYPES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_address_type: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_fax: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_out: Option<OptOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pronouns: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<ContactLinks>,
    /// Sensitive: `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passport_number: Option<String>,
    /// Sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passport: Option<Passport>,
    /// Sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_security_number: Option<String>,
    /// Sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub national_identification_number: Option<String>,
    /// Sensitive: US National Provider Identifier, exactly 10 digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub npi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<Text>,
}

impl Contact {
    /// Removes the fields only a token with [`super::auth::SENSITIVE_SCOPE`] may read
    /// ([`SENSITIVE_CONTACT_FIELDS`]).
    pub fn strip_sensitive(&mut self) {
        self.date_of_birth = None;
        self.passport_number = None;
        self.passport = None;
        self.social_security_number = None;
        self.national_identification_number = None;
        self.npi = None;
    }

    /// Whether any sensitive field is present.
    pub fn has_sensitive(&self) -> bool {
        self.date_of_birth.is_some()
            || self.passport_number.is_some()
            || self.passport.is_some()
            || self.social_security_number.is_some()
            || self.national_identification_number.is_some()
            || self.npi.is_some()
    }
}

/// `attendee-group.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct AttendeeGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leader: Option<bool>,
}

/// `external-reference.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ExternalReference {
    /// One of [`EXTERNAL_REFERENCE_TYPES`].
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub reference_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
}

/// `attendee-web-links.json`: the links with which an invitee accepts or declines. The sandbox
/// gives them to the attendees created through it (not to generated ones, whose data must not
/// depend on the port the sandbox listens on).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct WebLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_registration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_registration: Option<String>,
}

/// `attendee`: one person's registration record for one event.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Attendee {
    pub id: String,
    pub event: IdRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_number: Option<String>,
    pub contact: Contact,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_in: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_in: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_out: Option<String>,
    /// Seconds between check-in and check-out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_path: Option<Lookup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation_list: Option<IdName>,
    /// The invitee's own links to the registration page; see [`WebLinks`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_links: Option<WebLinks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_type: Option<Lookup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
    pub guest: bool,
    pub deleted_guest: bool,
    /// For a guest, the id of the attendee who brought them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<AttendeeGroup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub administrator: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsubscribed: Option<bool>,
    /// One of [`ATTENDEE_STATUSES`].
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_cancelled_at: Option<String>,
    /// One of [`INVITED_BY`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invited_by: Option<Text>,
    /// One of [`RESPONSE_METHODS`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_method: Option<Text>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_item: Option<Lookup>,
    /// One of [`ATTENDEE_VISIBILITIES`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_record: Option<bool>,
    /// Changes only when a field outside `contact.*` changes; `last_modified` follows both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attendee_last_modified: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub appointment_groups: Vec<IdRef>,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Text>,
    pub last_modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<Text>,
}

impl Filterable for Attendee {
    const FILTER_FIELDS: &'static [&'static str] = &[
        "event.id",
        "id",
        "confirmationNumber",
        "checkedIn",
        "checkIn",
        "checkOut",
        "registrationPath.id",
        "invitationList.id",
        "registrationType.id",
        "referenceId",
        "externalReference.type",
        "externalReference.id",
        "externalReference.referenceId",
        "note",
        "guest",
        "group.leader",
        "group.id",
        "unsubscribed",
        "registeredAt",
        "registrationLastModified",
        "invitedBy",
        "responseMethod",
        "status",
        "lastModified",
        "created",
        "contact.id",
        "visibility",
        "contact.title",
        "contact.company",
        "contact.firstName",
        "contact.lastName",
        "answers.question.*",
        "contact.email",
        "attendeeLastModified",
        "appointmentGroup.id",
        "contact.deleted",
        "primaryId",
        "deletedGuest",
    ];

    fn field(&self, path: &str) -> FieldValue<'_> {
        fn lookup_id(lookup: &Option<Lookup>) -> FieldValue<'_> {
            match lookup {
                Some(lookup) => text_or_null(&lookup.id),
                None => FieldValue::Null,
            }
        }
        match path {
            "event.id" => text(&self.event.id),
            "id" => text(&self.id),
            "confirmationNumber" => opt_text(&self.confirmation_number),
            "checkedIn" => opt_bool(self.checked_in),
            "checkIn" => opt_text(&self.check_in),
            "checkOut" => opt_text(&self.check_out),
            "registrationPath.id" => lookup_id(&self.registration_path),
            "invitationList.id" => self
                .invitation_list
                .as_ref()
                .map_or(FieldValue::Null, |list| text_or_null(&list.id)),
            "registrationType.id" => lookup_id(&self.registration_type),
            "referenceId" => opt_text(&self.reference_id),
            "externalReference.type" => {
                list_of(&self.external_references, |r| opt_text(&r.reference_type))
            }
            "externalReference.id" => list_of(&self.external_references, |r| opt_text(&r.id)),
            "externalReference.referenceId" => {
                list_of(&self.external_references, |r| opt_text(&r.reference_id))
            }
            "note" => opt_text(&self.note),
            "guest" => FieldValue::Bool(self.guest),
            "group.leader" => opt_bool(self.group.as_ref().and_then(|group| group.leader)),
            "group.id" => self
                .group
                .as_ref()
                .map_or(FieldValue::Null, |group| opt_text(&group.id)),
            "unsubscribed" => opt_bool(self.unsubscribed),
            "registeredAt" => opt_text(&self.registered_at),
            "registrationLastModified" => opt_text(&self.registration_last_modified),
            "invitedBy" => opt_text(&self.invited_by),
            "responseMethod" => opt_text(&self.response_method),
            "status" => text(&self.status),
            "lastModified" => text(&self.last_modified),
            "created" => text(&self.created),
            "contact.id" => text(&self.contact.id),
            "visibility" => opt_text(&self.visibility),
            "contact.title" => opt_text(&self.contact.title),
            "contact.company" => opt_text(&self.contact.company),
            "contact.firstName" => opt_text(&self.contact.first_name),
            "contact.lastName" => opt_text(&self.contact.last_name),
            "contact.email" => opt_text(&self.contact.email),
            "attendeeLastModified" => opt_text(&self.attendee_last_modified),
            "appointmentGroup.id" => list_of(&self.appointment_groups, |group| text(&group.id)),
            "contact.deleted" => opt_bool(self.contact.deleted),
            "primaryId" => opt_text(&self.primary_id),
            "deletedGuest" => FieldValue::Bool(self.deleted_guest),
            _ => match path.strip_prefix("answers.question.") {
                Some(question_id) => self
                    .answers
                    .iter()
                    .find(|answer| answer.question.id.eq_ignore_ascii_case(question_id))
                    .map_or(FieldValue::Null, |answer| {
                        FieldValue::List(answer.value.iter().map(|value| text(value)).collect())
                    }),
                None => FieldValue::Null,
            },
        }
    }
}

/// An empty id reads as absent, so `registrationType.id is null` holds for a lookup without one.
fn text_or_null(value: &str) -> FieldValue<'_> {
    if value.is_empty() {
        FieldValue::Null
    } else {
        text(value)
    }
}
