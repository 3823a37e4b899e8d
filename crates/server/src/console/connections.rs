//! The connections page, and each connection's data types tab: records, last synced, the
//! vendor's total against the workspace's with the difference explained, auto sync with its
//! recommended interval and the arithmetic behind it, and the Preview and Sync buttons.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Failure, query, segment};
use super::layout::{self, Section, duration, notice, number, text, when};

pub(crate) async fn list(
    api: Api,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Html<String>, Failure> {
    listing(
        &api,
        params.get("notice").map(String::as_str),
        &NewConnection::default(),
        None,
    )
    .await
}

async fn listing(
    api: &Api,
    notice_text: Option<&str>,
    new: &NewConnection,
    error: Option<&str>,
) -> Result<Html<String>, Failure> {
    let connections = api.get("/v1/connections").await?;
    let rows = connections["data"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Connections" }
        (notice(notice_text))
        @if rows.is_empty() {
            p { "No connections yet." }
        } @else {
            div.table-wrap {
                table {
                    caption.muted { "Each connection is one vendor account and event." }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Event" } th scope="col" { "Data types" } th scope="col" { "Check" } } }
                    tbody {
                        @for row in &rows {
                            @let name = row["name"].as_str().unwrap_or_default();
                            tr {
                                td { a href={ "/console/connections/" (segment(name)) } { (name) } }
                                td { (text(&row["kind"])) }
                                td { (text(&row["event_title"])) @if row["event_id"].is_string() { br; span.muted { (text(&row["event_id"])) } } }
                                td { (text(&row["data_types"])) }
                                td {
                                    form.inline method="post" action={ "/console/connections/" (segment(name)) "/check" } {
                                        button.secondary type="submit" { "Check" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (add_form(new, error))
    };
    Ok(layout::page("Connections", Section::Connections, body))
}

/// A connection to add, as the form holds it.
#[derive(Deserialize, Default)]
pub(crate) struct NewConnection {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    event_code: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    data_types: String,
    #[serde(default)]
    more: String,
}

const KINDS: [(&str, &str); 3] = [
    ("cvent-rest", "Cvent (REST API)"),
    ("cvent-soap", "Cvent (SOAP API)"),
    ("aventri", "Aventri"),
];

fn add_form(new: &NewConnection, error: Option<&str>) -> Markup {
    let kind = if new.kind.is_empty() {
        "cvent-rest"
    } else {
        new.kind.as_str()
    };
    let data_types = if new.data_types.is_empty() {
        "people, sessions, speakers, session_registrations"
    } else {
        new.data_types.as_str()
    };
    html! {
        section.card #add aria-labelledby="add-heading" {
            h2 #add-heading { "Add a connection" }
            @if let Some(error) = error {
                p.error role="alert" #add-error { "Not added: " (error) }
            }
            form method="post" action="/console/connections" {
                label for="new-name" { "Name" }
                input #new-name type="text" name="name" value=(new.name) required;
                label for="new-kind" { "Vendor" }
                select #new-kind name="kind" {
                    @for (value, label) in KINDS { option value=(value) selected[value == kind] { (label) } }
                }
                label for="new-region" { "Region (Cvent REST: na or eu), or leave empty and give the API address" }
                input #new-region type="text" name="region" value=(new.region);
                label for="new-base-url" { "API address (optional)" }
                input #new-base-url type="text" name="base_url" value=(new.base_url) placeholder="https://api-platform.cvent.com/ea";
                label for="new-event" { "Event code" }
                input #new-event type="text" name="event_code" value=(new.event_code);
                label for="new-client" { "Client id" }
                input #new-client type="text" name="client_id" value=(new.client_id) autocomplete="off";
                label for="new-secret" { "Client secret (stored encrypted, never shown again)" }
                input #new-secret type="password" name="client_secret" autocomplete="new-password";
                label for="new-types" { "Data types (comma-separated)" }
                input #new-types type="text" name="data_types" value=(data_types);
                label for="new-more" { "Other settings, one " code { "key = value" } " a line (for Cvent SOAP and Aventri: their account keys)" }
                textarea #new-more name="more" rows="3" cols="70" { (new.more) }
                p { button type="submit" { "Add the connection" } }
            }
        }
    }
}

/// The API's body for a new connection: the form's fields, and its other settings.
fn connection_body(new: &NewConnection) -> Result<Value, String> {
    let mut body = serde_json::Map::new();
    let given = |value: &str| !value.trim().is_empty();
    body.insert("name".into(), json!(new.name.trim()));
    body.insert("kind".into(), json!(new.kind.trim()));
    for (key, value) in [
        ("region", &new.region),
        ("base_url", &new.base_url),
        ("event_code", &new.event_code),
        ("client_id", &new.client_id),
        ("client_secret", &new.client_secret),
    ] {
        if given(value) {
            body.insert(key.into(), json!(value.trim()));
        }
    }
    let types: Vec<&str> = new
        .data_types
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    body.insert("data_types".into(), json!(types));
    for line in new.more.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("'{line}' is not key = value"))?;
        let value = value.trim();
        let value = serde_json::from_str(value).unwrap_or_else(|_| json!(value.trim_matches('"')));
        body.insert(key.trim().to_string(), value);
    }
    Ok(Value::Object(body))
}

pub(crate) async fn add(api: Api, Form(new): Form<NewConnection>) -> Result<Response, Failure> {
    let refused = match connection_body(&new) {
        Err(reason) => reason,
        Ok(body) => match api.post("/v1/connections", body).await {
            Ok(_) => {
                let notice = format!(
                    "Connection {} added. Check it, then preview.",
                    new.name.trim()
                );
                return Ok(Redirect::to(&format!(
                    "/console/connections/{}{}",
                    segment(new.name.trim()),
                    query(&[("notice", &notice)])
                ))
                .into_response());
            }
            Err(failure)
                if failure.status.is_client_error()
                    && !matches!(failure.status.as_u16(), 401 | 403) =>
            {
                failure.message
            }
            Err(failure) => return Err(failure),
        },
    };
    let page = listing(&api, None, &new, Some(&refused)).await?;
    Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response())
}

/// Checks a connection and shows what the vendor answered, word for word.
pub(crate) async fn check(api: Api, Path(name): Path<String>) -> Result<Html<String>, Failure> {
    let report = api
        .post(
            &format!("/v1/connections/{}/check", segment(&name)),
            json!({}),
        )
        .await?;
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let ok = report["ok"].as_bool().unwrap_or(false);
    let body = html! {
        h1 { "Check of " (name) }
        p role="status" {
            @if ok { span.ok { "Everything answered as it should." } }
            @else { span.error { "The check found a problem:" } }
        }
        div.table-wrap {
            table {
                thead { tr { th scope="col" { "" } th scope="col" { "What" } th scope="col" { "Answer" } } }
                tbody {
                    @for finding in &findings {
                        tr {
                            td { @if finding["ok"].as_bool() == Some(true) { span.ok { "✓" } } @else { span.error { "✗" } } }
                            td { (text(&finding["subject"])) }
                            td { (text(&finding["detail"])) }
                        }
                    }
                }
            }
        }
        p.actions {
            a.button href={ "/console/connections/" (segment(&name)) } { "Data types" }
            a.button.secondary href="/console/connections" { "All connections" }
        }
    };
    Ok(layout::page(
        &format!("Check of {name}"),
        Section::Connections,
        body,
    ))
}

pub(crate) async fn data_types(
    api: Api,
    Path(name): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Html<String>, Failure> {
    let answer = api
        .get(&format!("/v1/connections/{}/data-types", segment(&name)))
        .await?;
    let rows = answer["data"].as_array().cloned().unwrap_or_default();
    let every: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["data_type"].as_str())
        .collect();
    let body = html! {
        h1 { (name) ": data types" }
        (notice(params.get("notice").map(String::as_str)))
        div.actions {
            (run_button(&name, "preview", &every, "Preview all"))
            (run_button(&name, "sync", &every, "Sync all"))
            form.inline method="post" action={ "/console/connections/" (segment(&name)) "/check" } {
                button.secondary type="submit" { "Check the connection" }
            }
        }
        div.table-wrap {
            table {
                thead {
                    tr {
                        th scope="col" { "Data type" }
                        th.num scope="col" { "Records" }
                        th scope="col" { "Last synced" }
                        th scope="col" { "Vendor vs workspace" }
                        th scope="col" { "Auto sync" }
                        th scope="col" { "Run" }
                    }
                }
                tbody {
                    @for row in &rows { (data_type_row(&name, row)) }
                }
            }
        }
        (auto_sync_explained(&answer))
        (super::workbook::card(&name))
    };
    Ok(layout::page(
        &format!("{name}: data types"),
        Section::Connections,
        body,
    ))
}

fn data_type_row(connection: &str, row: &Value) -> Markup {
    let data_type = row["data_type"].as_str().unwrap_or_default();
    let totals = &row["totals"];
    let auto = &row["auto_sync"];
    let enabled = auto["enabled"].as_bool().unwrap_or(false);
    let interval = auto["interval_seconds"].as_u64().unwrap_or(0);
    html! {
        tr {
            th scope="row" {
                (data_type)
                br;
                a href={ "/console/connections/" (segment(connection)) "/mapping/" (segment(data_type)) } aria-label={ "Mapping of " (data_type) } { "Mapping" }
            }
            td.num { (number(row["records"].as_u64().unwrap_or(0))) }
            td { (when(&row["last_synced_at"])) }
            td {
                @match totals["vendor"].as_u64() {
                    Some(vendor) => { (number(vendor)) " at the vendor, " (number(totals["workspace"].as_u64().unwrap_or(0))) " here" }
                    None => { span.muted { "vendor total not counted yet" } }
                }
                @if let Some(explanation) = totals["explanation"].as_str() { details { summary { "The difference explained" } span.muted { (explanation) } } }
            }
            td {
                form.inline method="post" action={ "/console/connections/" (segment(connection)) "/auto-sync" } {
                    input type="hidden" name="data_type" value=(data_type);
                    input type="hidden" name="enabled" value=(if enabled { "false" } else { "true" });
                    @if enabled {
                        span.ok { "On" } ", every " (duration(interval))
                        @if auto["planned"].as_bool() == Some(true) { span.muted { " (account plan)" } }
                        " " button.secondary type="submit" aria-label={ "Turn auto sync of " (data_type) " off" } { "Turn off" }
                    } @else {
                        "Off " button.secondary type="submit" aria-label={ "Turn auto sync of " (data_type) " on" } { "Turn on" }
                    }
                }
            }
            td {
                div.actions {
                    (run_button(connection, "preview", &[data_type], "Preview"))
                    (run_button(connection, "sync", &[data_type], "Sync"))
                }
            }
        }
    }
}

/// A button that starts a run of `data_types`.
pub(crate) fn run_button(connection: &str, kind: &str, data_types: &[&str], label: &str) -> Markup {
    let secondary = kind == "preview";
    html! {
        form.inline method="post" action="/console/runs" {
            input type="hidden" name="connection" value=(connection);
            input type="hidden" name="kind" value=(kind);
            input type="hidden" name="data_types" value=(data_types.join(","));
            @if secondary {
                button.secondary type="submit" aria-label={ (label) " " (data_types.join(", ")) } { (label) }
            } @else {
                button type="submit" aria-label={ (label) " " (data_types.join(", ")) } { (label) }
            }
        }
    }
}

fn auto_sync_explained(answer: &Value) -> Markup {
    let recommended = &answer["recommended_interval"];
    html! {
        section.card aria-labelledby="auto-sync-heading" {
            h2 #auto-sync-heading { "Auto sync" }
            @if let Some(seconds) = recommended["interval_seconds"].as_u64() {
                p { "Recommended interval: " strong { (duration(seconds)) } "." }
            }
            @if let Some(steps) = recommended["steps"].as_array() {
                details {
                    summary { "How it is worked out" }
                    ol { @for step in steps { li { (text(step)) } } }
                }
            }
            @if let Some(warnings) = answer["account_plan"]["warnings"].as_array() {
                @for warning in warnings { p.error { (text(warning)) } }
            }
            p {
                @match answer["auto_sync_end"]["reason"].as_str() {
                    Some(reason) => { "When it stops: " (reason) "." }
                    None => { "The vendor gave no end date for the event: auto sync goes on until it is turned off." }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct AutoSyncForm {
    data_type: String,
    enabled: String,
}

pub(crate) async fn auto_sync(
    api: Api,
    Path(name): Path<String>,
    Form(form): Form<AutoSyncForm>,
) -> Result<Response, Failure> {
    let enabled = form.enabled == "true";
    api.put(
        &format!(
            "/v1/connections/{}/data-types/{}/auto-sync",
            segment(&name),
            segment(&form.data_type)
        ),
        json!({"enabled": enabled}),
    )
    .await?;
    let notice = format!(
        "Auto sync of {} is {}.",
        form.data_type,
        if enabled { "on" } else { "off" }
    );
    Ok(Redirect::to(&format!(
        "/console/connections/{}{}",
        segment(&name),
        query(&[("notice", &notice)])
    ))
    .into_response())
}
