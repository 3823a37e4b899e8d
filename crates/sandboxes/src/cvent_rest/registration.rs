//! The registration page an invitee's `webLinks` lead to, served by the sandbox outside `/ea`.
//!
//! | route | what it does |
//! | --- | --- |
//! | `GET /r/{event code}?i=<token>` | the registration form: the event's title, the contact's fields filled in, a Submit button (`id="submit"`) posting back to the same link |
//! | `POST /r/{event code}?i=<token>` | registers: status `Accepted`, `responseMethod` `Self-Responded`, `registeredAt`, `registrationLastModified` and `attendeeLastModified` now; then a confirmation (`id="confirmation"`) |
//! | `GET`/`POST /r/{event code}/decline?i=<token>` | the same for declining: status `Declined` |
//!
//! The token is random, so a link says nothing about whose it is; the sandbox keeps which
//! attendee each was given to. An unknown token, or one used with another event's code, is a
//! 404 page. A registration is a change like any other: it moves `lastModified`, so incremental
//! listings bring it, and sends the `InviteeOrGuestAccepted` webhook. Submitting again changes
//! nothing and sends nothing. Edits to the name, company or title on the form are saved to the
//! contact (and every attendee embedding it); the email, the account's match key, is shown but
//! not editable. Opening the page changes nothing (Cvent would mark an invitee `Visited`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use serde::Deserialize;

use super::Shared;
use super::dataset::{Dataset, timestamp};
use super::routes::transition_allowed;
use super::wire::{Attendee, Contact, WebLinks, attendee_status};

/// How a self-registration is recorded (`attendee-response-method.json`: "The invitee registered
/// themselves through a weblink or invitation").
const SELF_RESPONDED: &str = "Self-Responded";

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/r/{code}", get(accept_page).post(accept))
        .route("/r/{code}/decline", get(decline_page).post(decline))
        .with_state(shared)
}

/// The origin registration links name: the address the sandbox listens on, with an unspecified
/// address (listening everywhere) read as loopback.
pub(super) fn origin(address: SocketAddr) -> String {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}

/// A fresh token and the links carrying it, for an attendee of the event with part `part`. The
/// caller records the token with the attendee's position.
pub(super) fn new_links(shared: &Shared, part: usize) -> (String, WebLinks) {
    let token =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().into_bytes());
    let code = shared
        .live_events
        .get(part)
        .map_or("", |(_, code)| code.as_str());
    let links = WebLinks {
        accept_registration: Some(format!("{}/r/{code}?i={token}", shared.origin)),
        decline_registration: Some(format!("{}/r/{code}/decline?i={token}", shared.origin)),
    };
    (token, links)
}

#[derive(Deserialize)]
struct Link {
    i: Option<String>,
}

/// The attendee a link names, with its position and its event's title.
struct Invitee {
    position: u64,
    attendee: Attendee,
    event_title: String,
}

fn find(shared: &Shared, data: &Dataset, code: &str, link: &Link) -> Option<Invitee> {
    let position = data.registration_link(link.i.as_deref()?)?;
    let (_, event_code) = shared.live_events.get(Dataset::part_of(position))?;
    if !event_code.eq_ignore_ascii_case(code) {
        return None;
    }
    let attendee = data.attendee(position)?.into_owned();
    let event_title = data.events.find(&attendee.event.id)?.title.clone();
    Some(Invitee {
        position,
        attendee,
        event_title,
    })
}

// ---- registering -------------------------------------------------------------------------------

async fn accept_page(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
    Query(link): Query<Link>,
) -> Response {
    let data = shared.read_data();
    let Some(invitee) = find(&shared, &data, &code, &link) else {
        return not_found(&shared);
    };
    drop(data);
    let status = invitee.attendee.status.as_str();
    if status == attendee_status::ACCEPTED {
        return confirmation(&shared, &invitee, "You are registered.");
    }
    if !transition_allowed(status, attendee_status::ACCEPTED) {
        return refusal(&shared, &invitee);
    }
    let values = FIELDS
        .iter()
        .map(|field| (field.name, (field.get)(&invitee.attendee.contact)))
        .collect();
    form(&shared, &invitee, &values, None, StatusCode::OK)
}

async fn accept(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
    Query(link): Query<Link>,
    body: Bytes,
) -> Response {
    let sent: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let Some(invitee) = find(&shared, &data, &code, &link) else {
        return not_found(&shared);
    };
    let status = invitee.attendee.status.as_str();
    if status == attendee_status::ACCEPTED {
        // A second Submit, or a reload of the confirmation: nothing changes.
        return confirmation(&shared, &invitee, "You are registered.");
    }
    if !transition_allowed(status, attendee_status::ACCEPTED) {
        return refusal(&shared, &invitee);
    }
    let mut contact = invitee.attendee.contact.clone();
    if let Err(problem) = apply_edits(&mut contact, &sent) {
        let values = FIELDS
            .iter()
            .map(|field| {
                let value = sent
                    .get(field.name)
                    .map(String::as_str)
                    .or_else(|| (field.get)(&invitee.attendee.contact));
                (field.name, value)
            })
            .collect();
        return form(
            &shared,
            &invitee,
            &values,
            Some(&problem),
            StatusCode::BAD_REQUEST,
        );
    }
    if contact != invitee.attendee.contact {
        contact.last_modified = Some(now.clone());
        data.update_contact(contact.clone(), &now);
    }
    let mut registered = data
        .attendee(invitee.position)
        .map_or_else(|| invitee.attendee.clone(), |current| current.into_owned());
    registered.contact = contact;
    register(&data, invitee.position, &mut registered, &now);
    data.put_attendee(invitee.position, registered.clone(), &now);
    registered.last_modified = now.clone();
    drop(data);
    super::control::emit_attendee(&shared, &registered, &now);
    let invitee = Invitee {
        attendee: registered,
        ..invitee
    };
    confirmation(&shared, &invitee, "Thank you: you are registered.")
}

/// Marks an attendee registered by themselves at `now`, with what a registration carries: the
/// website's registration type, path and admission item where it has none, and a confirmation
/// number.
fn register(data: &Dataset, position: u64, attendee: &mut Attendee, now: &str) {
    attendee.status = attendee_status::ACCEPTED.to_string();
    attendee.response_method = Some(SELF_RESPONDED.into());
    attendee.registered_at = Some(now.to_string());
    attendee.registration_last_modified = Some(now.to_string());
    attendee.attendee_last_modified = Some(now.to_string());
    if let Some(generator) = data.part_generator(Dataset::part_of(position)) {
        let website = generator.website_registration();
        attendee
            .registration_type
            .get_or_insert(website.registration_type);
        attendee
            .registration_path
            .get_or_insert(website.registration_path);
        attendee
            .admission_item
            .get_or_insert(website.admission_item);
    }
    if attendee.confirmation_number.is_none() {
        attendee.confirmation_number = data
            .template_attendee(position)
            .and_then(|template| template.confirmation_number);
    }
}

// ---- declining ---------------------------------------------------------------------------------

/// Whether an attendee may decline: only one who has not answered yet.
fn may_decline(status: &str) -> bool {
    matches!(
        status,
        attendee_status::NO_RESPONSE | attendee_status::VISITED
    )
}

async fn decline_page(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
    Query(link): Query<Link>,
) -> Response {
    let data = shared.read_data();
    let Some(invitee) = find(&shared, &data, &code, &link) else {
        return not_found(&shared);
    };
    drop(data);
    let status = invitee.attendee.status.as_str();
    if status == attendee_status::DECLINED {
        return confirmation(&shared, &invitee, "You have declined.");
    }
    if !may_decline(status) {
        return refusal(&shared, &invitee);
    }
    let action = invitee
        .attendee
        .web_links
        .as_ref()
        .and_then(|links| links.decline_registration.as_deref())
        .unwrap_or_default();
    let body = format!(
        "<p>Decline the invitation to {title}?</p>\n<form method=\"post\" action=\"{action}\">\n<button type=\"submit\" id=\"submit\">Decline</button>\n</form>",
        title = escape(&invitee.event_title),
        action = escape(action),
    );
    page(&shared, StatusCode::OK, &invitee.event_title, &body)
}

async fn decline(
    State(shared): State<Arc<Shared>>,
    Path(code): Path<String>,
    Query(link): Query<Link>,
) -> Response {
    let now = timestamp(shared.clock.now());
    let mut data = shared.write_data();
    let Some(invitee) = find(&shared, &data, &code, &link) else {
        return not_found(&shared);
    };
    let status = invitee.attendee.status.as_str();
    if status == attendee_status::DECLINED {
        return confirmation(&shared, &invitee, "You have declined.");
    }
    if !may_decline(status) {
        return refusal(&shared, &invitee);
    }
    let mut declined = invitee.attendee.clone();
    declined.status = attendee_status::DECLINED.to_string();
    declined.response_method = Some(SELF_RESPONDED.into());
    declined.attendee_last_modified = Some(now.clone());
    data.put_attendee(invitee.position, declined.clone(), &now);
    drop(data);
    let invitee = Invitee {
        attendee: declined,
        ..invitee
    };
    confirmation(&shared, &invitee, "You have declined.")
}

// ---- the form's fields -------------------------------------------------------------------------

/// One contact field on the form.
struct Field {
    name: &'static str,
    label: &'static str,
    /// The spec's longest value.
    max: usize,
    required: bool,
    /// The email is the account's match key: shown, not changed here.
    editable: bool,
    get: fn(&Contact) -> Option<&str>,
    set: fn(&mut Contact, Option<String>),
}

const FIELDS: &[Field] = &[
    Field {
        name: "firstName",
        label: "First name",
        max: 30,
        required: true,
        editable: true,
        get: |contact| contact.first_name.as_deref(),
        set: |contact, value| contact.first_name = value.map(Into::into),
    },
    Field {
        name: "lastName",
        label: "Last name",
        max: 50,
        required: true,
        editable: true,
        get: |contact| contact.last_name.as_deref(),
        set: |contact, value| contact.last_name = value.map(Into::into),
    },
    Field {
        name: "email",
        label: "Email",
        max: 80,
        required: true,
        editable: false,
        get: |contact| contact.email.as_deref(),
        set: |contact, value| contact.email = value,
    },
    Field {
        name: "company",
        label: "Company",
        max: 100,
        required: false,
        editable: true,
        get: |contact| contact.company.as_deref(),
        set: |contact, value| contact.company = value.map(Into::into),
    },
    Field {
        name: "title",
        label: "Title",
        max: 100,
        required: false,
        editable: true,
        get: |contact| contact.title.as_deref(),
        set: |contact, value| contact.title = value.map(Into::into),
    },
];

/// Applies what the form sent to `contact`: a field left out of the form stays as it is, an
/// emptied optional field is cleared.
fn apply_edits(contact: &mut Contact, sent: &HashMap<String, String>) -> Result<(), String> {
    for field in FIELDS.iter().filter(|field| field.editable) {
        let Some(value) = sent.get(field.name) else {
            continue;
        };
        let value = value.trim();
        if value.chars().count() > field.max {
            return Err(format!(
                "{} is longer than {} characters.",
                field.label, field.max
            ));
        }
        if value.is_empty() && field.required {
            return Err(format!("{} is required.", field.label));
        }
        if (field.get)(contact) != Some(value) {
            (field.set)(contact, (!value.is_empty()).then(|| value.to_string()));
        }
    }
    Ok(())
}

// ---- pages -------------------------------------------------------------------------------------

fn form(
    shared: &Shared,
    invitee: &Invitee,
    values: &HashMap<&str, Option<&str>>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let action = invitee
        .attendee
        .web_links
        .as_ref()
        .and_then(|links| links.accept_registration.as_deref())
        .unwrap_or_default();
    let mut body = String::new();
    if let Some(problem) = problem {
        let _ = writeln!(body, "<p id=\"error\">{}</p>", escape(problem));
    }
    let _ = writeln!(body, "<form method=\"post\" action=\"{}\">", escape(action));
    for field in FIELDS {
        let value = values
            .get(field.name)
            .copied()
            .flatten()
            .unwrap_or_default();
        let _ = writeln!(
            body,
            "<p><label for=\"{name}\">{label}</label> <input id=\"{name}\" name=\"{name}\" value=\"{value}\" maxlength=\"{max}\"{required}{readonly}></p>",
            name = field.name,
            label = field.label,
            value = escape(value),
            max = field.max,
            required = if field.required { " required" } else { "" },
            readonly = if field.editable { "" } else { " readonly" },
        );
    }
    body.push_str("<button type=\"submit\" id=\"submit\">Submit</button>\n</form>");
    page(shared, status, &invitee.event_title, &body)
}

fn confirmation(shared: &Shared, invitee: &Invitee, headline: &str) -> Response {
    let mut body = format!("<p id=\"confirmation\">{}</p>", escape(headline));
    if invitee.attendee.status == attendee_status::ACCEPTED
        && let Some(number) = &invitee.attendee.confirmation_number
    {
        let _ = write!(
            body,
            "\n<p>Confirmation number: <span id=\"confirmation-number\">{}</span></p>",
            escape(number)
        );
    }
    page(shared, StatusCode::OK, &invitee.event_title, &body)
}

/// A link whose attendee's status allows no such answer (waitlisted, awaiting approval, …).
fn refusal(shared: &Shared, invitee: &Invitee) -> Response {
    let body = format!(
        "<p id=\"refused\">Your registration is {}: this link cannot change it. Please contact the event's planner.</p>",
        escape(&invitee.attendee.status)
    );
    page(shared, StatusCode::CONFLICT, &invitee.event_title, &body)
}

fn not_found(shared: &Shared) -> Response {
    page(
        shared,
        StatusCode::NOT_FOUND,
        "Link not found",
        "<p id=\"not-found\">This registration link is not valid.</p>",
    )
}

fn page(shared: &Shared, status: StatusCode, title: &str, body: &str) -> Response {
    let title = escape(title);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    );
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    shared.clock.stamp(&mut response);
    response
}

/// Text made safe inside HTML elements and quoted attributes.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(
            escape(r#"O'Neil & <Sons> "Ltd""#),
            "O&#39;Neil &amp; &lt;Sons&gt; &quot;Ltd&quot;"
        );
    }

    #[test]
    fn links_name_a_reachable_origin() {
        let everywhere = SocketAddr::from(([0, 0, 0, 0], 8080));
        assert_eq!(origin(everywhere), "http://127.0.0.1:8080");
        let loopback_v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, 9));
        assert_eq!(origin(loopback_v6), "http://[::1]:9");
        let bound = SocketAddr::from(([10, 0, 0, 2], 443));
        assert_eq!(origin(bound), "http://10.0.0.2:443");
    }

    #[test]
    fn form_edits_keep_absent_fields_and_refuse_bad_ones() {
        let mut contact = Contact {
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            email: Some("ada@example.org".into()),
            company: Some("Analytical".into()),
            ..Contact::default()
        };
        let sent = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(apply_edits(&mut contact, &sent(&[])), Ok(()));
        assert_eq!(contact.first_name.as_deref(), Some("Ada"));
        let edits = sent(&[
            ("title", " Countess "),
            ("company", ""),
            ("email", "other@example.org"),
        ]);
        assert_eq!(apply_edits(&mut contact, &edits), Ok(()));
        assert_eq!(contact.title.as_deref(), Some("Countess"));
        assert_eq!(
            contact.company, None,
            "an emptied optional field is cleared"
        );
        assert_eq!(
            contact.email.as_deref(),
            Some("ada@example.org"),
            "the match key is not edited here"
        );
        assert!(apply_edits(&mut contact, &sent(&[("lastName", " ")])).is_err());
        let long = "x".repeat(31);
        assert!(apply_edits(&mut contact, &sent(&[("firstName", long.as_str())])).is_err());
    }
}
