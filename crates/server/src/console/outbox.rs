//! The outbox: what eventsync is sending to vendors and destinations, filtered by status, with
//! the vendor's reason for each failure and a Retry button.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde_json::{Value, json};

use super::api::{Api, Failure, query};
use super::layout::{self, Section, notice, text, when};

const STATUSES: [&str; 5] = ["pending", "sending", "sent", "failed", "local"];

pub(crate) async fn list(
    api: Api,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Html<String>, Failure> {
    let status = params.get("status").map(String::as_str).unwrap_or("");
    let after = params.get("after").map(String::as_str).unwrap_or("");
    let answer = api
        .get(&format!(
            "/v1/outbox{}",
            query(&[("status", status), ("after", after), ("limit", "50")])
        ))
        .await?;
    let items = answer["data"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Outbox" }
        (notice(params.get("notice").map(String::as_str)))
        p.muted { "Registrations, check-ins and deliveries waiting to be sent, sent, or refused with the receiver's reason." }
        form.filters method="get" action="/console/outbox" {
            div {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "every status" }
                    @for option in STATUSES { option value=(option) selected[option == status] { (option) } }
                }
            }
            div { button type="submit" { "Show" } }
        }
        @if items.is_empty() {
            p { "Nothing here." }
        } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th.num scope="col" { "Item" } th scope="col" { "Connection" } th scope="col" { "Operation" }
                        th scope="col" { "Person" } th scope="col" { "Session" } th scope="col" { "Status" }
                        th.num scope="col" { "Attempts" } th scope="col" { "Last error" } th scope="col" { "Updated" }
                    } }
                    tbody {
                        @for item in &items {
                            @let status = item["status"].as_str().unwrap_or_default();
                            tr {
                                td.num { (text(&item["id"])) }
                                td { (text(&item["connection"])) }
                                td { (text(&item["operation"])) }
                                td { code { (text(person(item))) } }
                                td { (text(session(item))) }
                                // Retry sits with the status it changes, in view however wide the error.
                                td {
                                    span class={ "badge " (status) } { (status) }
                                    @if status == "failed" {
                                        form.inline method="post" action={ "/console/outbox/" (text(&item["id"])) "/retry" } {
                                            button.secondary type="submit" aria-label={ "Retry item " (text(&item["id"])) } { "Retry" }
                                        }
                                    }
                                }
                                td.num { (text(&item["attempts"])) }
                                td { @if let Some(error) = item["last_error"].as_str() { span.error { (error) } } @else { "—" } }
                                td { (when(&item["updated_at"])) }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = answer["next"].as_i64() {
                nav.pager aria-label="Outbox pages" {
                    a href={ "/console/outbox" (query(&[("status", status), ("after", &next.to_string())])) } rel="next" { "Next →" }
                }
            }
        }
    };
    Ok(layout::page("Outbox", Section::Outbox, body))
}

/// The person an item is about, under whichever name the API gives it.
fn person(item: &Value) -> &Value {
    ["person_id", "person_external_id", "attendee_id"]
        .iter()
        .map(|key| &item[*key])
        .find(|value| !value.is_null())
        .unwrap_or(&Value::Null)
}

fn session(item: &Value) -> &Value {
    ["session_id", "session_external_id"]
        .iter()
        .map(|key| &item[*key])
        .find(|value| !value.is_null())
        .unwrap_or(&Value::Null)
}

pub(crate) async fn retry(api: Api, Path(id): Path<u64>) -> Result<Response, Failure> {
    api.post(&format!("/v1/outbox/{id}/retry"), json!({}))
        .await?;
    let notice = format!("Item {id} will be sent again now.");
    Ok(Redirect::to(&format!("/console/outbox{}", query(&[("notice", &notice)]))).into_response())
}
