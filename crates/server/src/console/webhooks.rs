//! Webhooks received from vendors: when, what, and what became of each.

use std::collections::HashMap;

use axum::extract::Query;
use axum::response::Html;
use maud::html;

use super::api::{Api, Failure, query};
use super::layout::{self, Section, text, when};

pub(crate) async fn list(
    api: Api,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Html<String>, Failure> {
    let after = params.get("after").map(String::as_str).unwrap_or("");
    let answer = api
        .get(&format!(
            "/v1/webhooks{}",
            query(&[("after", after), ("limit", "50")])
        ))
        .await?;
    let deliveries = answer["data"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Webhooks" }
        p.muted { "What vendors told eventsync as it happened. Each is kept, acknowledged at once, and turned into a sync of what it touches." }
        @if deliveries.is_empty() {
            p { "No webhook has arrived yet." }
        } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th.num scope="col" { "#" } th scope="col" { "Connection" } th scope="col" { "Event" }
                        th scope="col" { "Received" } th scope="col" { "Status" } th.num scope="col" { "Attempts" } th scope="col" { "Last error" }
                    } }
                    tbody {
                        @for delivery in &deliveries {
                            @let status = delivery["status"].as_str().unwrap_or_default();
                            tr {
                                td.num { (text(&delivery["id"])) }
                                td { (text(&delivery["connection"])) }
                                td { (text(&delivery["event_type"])) }
                                td { (when(&delivery["received_at"])) }
                                td { span class={ "badge " (status) } { (status) } }
                                td.num { (text(&delivery["attempts"])) }
                                td { (text(&delivery["last_error"])) }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = answer["next"].as_i64() {
                nav.pager aria-label="Webhook pages" {
                    a href={ "/console/webhooks" (query(&[("after", &next.to_string())])) } rel="next" { "Next →" }
                }
            }
        }
    };
    Ok(layout::page("Webhooks", Section::Webhooks, body))
}
