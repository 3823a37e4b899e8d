//! Runs: the list, starting one from a button, and one run's page — its counts per action and,
//! for a preview, the report as a filterable, paged table of what would change (old → new, and
//! why a record is left out), with "Apply" to sync what was previewed and the downloads.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Failure, query, segment};
use super::connections::run_button;
use super::layout::{self, Section, notice, number, text, when};

/// Rows of a report one page shows.
const PAGE: usize = 50;

pub(crate) async fn list(
    api: Api,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Html<String>, Failure> {
    let connection = params.get("connection").map(String::as_str).unwrap_or("");
    let runs = api
        .get(&format!(
            "/v1/runs{}",
            query(&[("connection", connection), ("limit", "50")])
        ))
        .await?;
    let runs = runs["data"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Runs" }
        (notice(params.get("notice").map(String::as_str)))
        @if runs.is_empty() {
            p { "No runs yet. Start one from a connection's data types." }
        } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th.num scope="col" { "Run" } th scope="col" { "Connection" } th scope="col" { "Kind" }
                        th scope="col" { "Status" } th scope="col" { "Started" } th scope="col" { "Ended" }
                        th scope="col" { "Records" }
                    } }
                    tbody {
                        @for run in &runs {
                            tr {
                                td.num { a href={ "/console/runs/" (run["id"]) } { (run["id"]) } }
                                td { (text(&run["connection"])) }
                                td { (text(&run["kind"])) }
                                td { (status(&run["status"])) }
                                td { (when(&run["started_at"])) }
                                td { (when(&run["finished_at"])) }
                                td { (totals_line(&run["counts"])) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page("Runs", Section::Runs, body))
}

fn status(value: &Value) -> Markup {
    let status = value.as_str().unwrap_or("unknown");
    html! { span class={ "badge " (status) } { (status.replace('_', " ")) } }
}

/// Counts per action over every data type of a run, e.g. "12 create · 3 update".
fn action_totals(counts: &Value) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    if let Some(types) = counts.as_object() {
        for actions in types.values() {
            for (action, count) in actions.as_object().into_iter().flatten() {
                *totals.entry(action.clone()).or_default() += count.as_u64().unwrap_or(0);
            }
        }
    }
    totals
}

/// The run's actions that happened, e.g. "12 create · 3 update"; the API counts every action,
/// zeros included, and a list of runs reads better without them.
fn totals_line(counts: &Value) -> String {
    let line = action_totals(counts)
        .iter()
        .filter(|(_, count)| **count > 0)
        .map(|(action, count)| format!("{} {action}", number(*count)))
        .collect::<Vec<_>>()
        .join(" · ");
    if line.is_empty() { "—".into() } else { line }
}

#[derive(Deserialize)]
pub(crate) struct StartForm {
    connection: String,
    kind: String,
    data_types: String,
    #[serde(default)]
    full: Option<String>,
}

pub(crate) async fn start(api: Api, Form(form): Form<StartForm>) -> Result<Response, Failure> {
    let data_types: Vec<&str> = form
        .data_types
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    let started = api
        .post(
            "/v1/runs",
            json!({
                "connection": form.connection,
                "kind": form.kind,
                "data_types": data_types,
                "full": form.full.is_some(),
            }),
        )
        .await?;
    let id = started["run_id"].as_i64().unwrap_or_default();
    Ok(Redirect::to(&format!("/console/runs/{id}")).into_response())
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct ViewerQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    data_type: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: usize,
}

pub(crate) async fn show(
    api: Api,
    Path(id): Path<u64>,
    Query(viewer): Query<ViewerQuery>,
) -> Result<Html<String>, Failure> {
    let run = api.get(&format!("/v1/runs/{id}")).await?;
    let running = run["status"].as_str() == Some("running");
    let preview = run["kind"].as_str() == Some("preview");
    let connection = run["connection"].as_str().unwrap_or_default();
    let data_types: Vec<&str> = run["data_types"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let report = if preview && !running {
        Some(view(&api, id, &viewer).await)
    } else {
        None
    };
    let body = html! {
        h1 { "Run " (id) ": " (text(&run["kind"])) " of " (connection) }
        dl.card {
            dt { "Status" } dd { (status(&run["status"])) }
            dt { "Data types" } dd { (data_types.join(", ")) }
            dt { "Started" } dd { (when(&run["started_at"])) }
            dt { "Ended" } dd { @if running { "still running: this page refreshes itself" } @else { (when(&run["finished_at"])) } }
            dt { "Vendor calls" } dd { (text(&run["api_calls"])) }
        }
        @if running {
            form.inline method="post" action={ "/console/runs/" (id) "/cancel" } {
                button.secondary type="submit" { "Cancel this run" }
            }
        }
        h2 { "Records per action" }
        (counts_table(&run["counts"]))
        @if let Some(errors) = run["errors"].as_array().filter(|e| !e.is_empty()) {
            h2 { "Errors" }
            ul { @for error in errors { li.error { (text(error)) } } }
        }
        @if preview && !running {
            div.actions {
                (run_button(connection, "sync", &data_types, "Apply: sync these data types"))
                a.button.secondary href={ "/console/runs/" (id) "/report?format=csv" } download { "Download CSV" }
                a.button.secondary href={ "/console/runs/" (id) "/report?format=xlsx" } download { "Download XLSX" }
            }
        }
        @match report {
            Some(Ok(filtered)) => { (viewer_table(id, &filtered, &viewer)) }
            Some(Err(failure)) if failure.status == axum::http::StatusCode::BAD_REQUEST => {
                h2 #report { "What would change" }
                p.error role="alert" { "The report cannot be filtered so: " (failure.message) }
                p { a href={ "/console/runs/" (id) "#report" } { "Show every record" } }
            }
            Some(Err(failure)) => { p.muted { "No report for this run: " (failure.message) } }
            None => {}
        }
        p { a href={ "/console/runs" (query(&[("connection", connection)])) } { "All runs of " (connection) } }
    };
    let page = layout::page(&format!("Run {id}"), Section::Runs, body);
    Ok(if running {
        layout::refreshing(page, 2)
    } else {
        page
    })
}

fn counts_table(counts: &Value) -> Markup {
    let Some(types) = counts.as_object().filter(|t| !t.is_empty()) else {
        return html! { p.muted { "No records yet." } };
    };
    let actions: Vec<String> = action_totals(counts).into_keys().collect();
    html! {
        div.table-wrap {
            table {
                thead { tr { th scope="col" { "Data type" } @for action in &actions { th.num scope="col" { (action) } } } }
                tbody {
                    @for (data_type, by_action) in types {
                        tr {
                            th scope="row" { (data_type) }
                            @for action in &actions { td.num { (number(by_action[action].as_u64().unwrap_or(0))) } }
                        }
                    }
                }
            }
        }
    }
}

/// A page of a report's rows that pass the filters asked for, as `GET /v1/runs/{id}/report/rows`
/// gave it, with the number that passed and the actions and data types to filter by. The
/// preview viewer shows it; the mapping editor reads its rows for the vendor paths seen.
#[derive(Default)]
pub(super) struct ReportPage {
    pub(super) headings: Vec<String>,
    pub(super) rows: Vec<Vec<String>>,
    pub(super) matched: usize,
    actions: Vec<String>,
    data_types: Vec<String>,
}

impl ReportPage {
    /// The answer of `GET /v1/runs/{id}/report/rows`.
    pub(super) fn from_answer(answer: &Value) -> ReportPage {
        let texts = |value: &Value| -> Vec<String> {
            value
                .as_array()
                .into_iter()
                .flatten()
                .map(|text| text.as_str().unwrap_or_default().to_string())
                .collect()
        };
        ReportPage {
            headings: texts(&answer["columns"]),
            rows: answer["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .map(texts)
                .collect(),
            matched: answer["matched"].as_u64().unwrap_or(0) as usize,
            actions: texts(&answer["actions"]),
            data_types: texts(&answer["data_types"]),
        }
    }
}

/// The page of a run's report `viewer` asks for: the API filters, searches and pages it from the
/// report's index, so a page costs the same whatever the report's size.
async fn view(api: &Api, run: u64, viewer: &ViewerQuery) -> Result<ReportPage, Failure> {
    let offset = viewer.page.saturating_mul(PAGE).to_string();
    let limit = PAGE.to_string();
    let answer = api
        .get(&format!(
            "/v1/runs/{run}/report/rows{}",
            query(&[
                ("action", &viewer.action),
                ("data_type", &viewer.data_type),
                ("q", &viewer.q),
                ("offset", &offset),
                ("limit", &limit),
            ])
        ))
        .await?;
    Ok(ReportPage::from_answer(&answer))
}

fn viewer_table(id: u64, filtered: &ReportPage, viewer: &ViewerQuery) -> Markup {
    let column = |name: &str| filtered.headings.iter().position(|h| h == name);
    let shown = [
        "data_type",
        "action",
        "external_id",
        "changed_fields",
        "reason",
    ];
    let at: Vec<Option<usize>> = shown.iter().map(|name| column(name)).collect();
    let pages = filtered.matched.div_ceil(PAGE).max(1);
    let link = |page: usize| {
        format!(
            "/console/runs/{id}{}#report",
            query(&[
                ("action", &viewer.action),
                ("data_type", &viewer.data_type),
                ("q", &viewer.q),
                ("page", &page.to_string()),
            ])
        )
    };
    html! {
        h2 #report { "What would change" }
        form.filters method="get" action={ "/console/runs/" (id) "#report" } {
            div {
                label for="action" { "Action" }
                select #action name="action" {
                    option value="" { "every action" }
                    @for action in &filtered.actions {
                        option value=(action) selected[*action == viewer.action] { (action) }
                    }
                }
            }
            div {
                label for="data_type" { "Data type" }
                select #data_type name="data_type" {
                    option value="" { "every data type" }
                    @for data_type in &filtered.data_types {
                        option value=(data_type) selected[*data_type == viewer.data_type] { (data_type) }
                    }
                }
            }
            div {
                label for="q" { "Contains" }
                input #q type="search" name="q" value=(viewer.q) placeholder="an id, a name, a reason";
            }
            div { button type="submit" { "Filter" } }
        }
        p.muted role="status" { (number(filtered.matched as u64)) " records match; page " (viewer.page + 1) " of " (pages) "." }
        div.table-wrap {
            table #changes {
                thead { tr {
                    th scope="col" { "Data type" } th scope="col" { "Action" } th scope="col" { "Record" }
                    th scope="col" { "Changes (old → new)" } th scope="col" { "Reason" }
                } }
                tbody {
                    @for row in &filtered.rows {
                        @let cell = |i: usize| at[i].and_then(|at| row.get(at)).map(String::as_str).unwrap_or_default();
                        tr {
                            td { (cell(0)) }
                            td { span class={ "badge " (cell(1)) } { (cell(1)) } }
                            td {
                                code { (cell(2)) }
                                @let label = record_label(&filtered.headings, row);
                                @if !label.is_empty() { br; span.muted { (label) } }
                            }
                            td { (changes(cell(3))) }
                            td { (cell(4)) }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Report pages" {
            @if viewer.page > 0 { a href=(link(viewer.page - 1)) rel="prev" { "← Previous" } }
            @if viewer.page + 1 < pages { a href=(link(viewer.page + 1)) rel="next" { "Next →" } }
        }
    }
}

/// Who or what a report row is, from its mapped workspace values: a person's name and email, a
/// session's or sponsor's name; empty when the row holds none of them.
fn record_label(headings: &[String], row: &[String]) -> String {
    let value = |field: &str| {
        headings
            .iter()
            .position(|h| h.strip_prefix("workspace.") == Some(field))
            .and_then(|at| row.get(at))
            .map(|v| v.trim())
            .unwrap_or_default()
    };
    let person = [value("first_name"), value("last_name")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let name = [person.as_str(), value("name"), value("title")]
        .into_iter()
        .find(|name| !name.is_empty())
        .unwrap_or_default();
    [name, value("email")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// "field: old → new; …" with the old value struck and the new one marked.
fn changes(described: &str) -> Markup {
    html! {
        @for change in described.split("; ").filter(|c| !c.is_empty()) {
            @match change.split_once(" → ") {
                Some((before, after)) => {
                    @let (field, old) = before.split_once(": ").unwrap_or(("", before));
                    div { @if !field.is_empty() { strong { (field) } ": " } del { (old) } span.arrow { " → " } ins { (after) } }
                }
                None => { div { (change) } }
            }
        }
    }
}

/// Asks a running run to stop at its next page boundary; what it stored stays.
pub(crate) async fn cancel(api: Api, Path(id): Path<u64>) -> Result<Response, Failure> {
    api.post(&format!("/v1/runs/{id}/cancel"), json!({}))
        .await?;
    Ok(Redirect::to(&format!("/console/runs/{id}")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct DownloadQuery {
    format: Option<String>,
}

/// The report as the API serves it, downloaded with the console's sign-in.
pub(crate) async fn download(
    api: Api,
    Path(id): Path<u64>,
    Query(download): Query<DownloadQuery>,
) -> Result<Response, Failure> {
    let format = download.format.unwrap_or_else(|| "csv".into());
    let (headers, bytes) = api
        .bytes(&format!(
            "/v1/runs/{id}/report{}",
            query(&[("format", &format)])
        ))
        .await?;
    let mut response = super::api::download(&headers, bytes);
    if !response.headers().contains_key(header::CONTENT_DISPOSITION) {
        let value = format!("attachment; filename=\"run-{id}.{}\"", segment(&format));
        if let Ok(value) = value.parse() {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runs_line_names_the_actions_that_happened() {
        let counts = json!({
            "people": {"create": 2, "update": 0, "cancel": 1},
            "sessions": {"create": 1000, "update": 0},
        });
        assert_eq!(totals_line(&counts), "1 cancel · 1,002 create");
        assert_eq!(totals_line(&json!({"people": {"create": 0}})), "—");
        assert_eq!(totals_line(&json!({})), "—");
    }

    #[test]
    fn a_row_is_named_by_its_workspace_values() {
        let headings: Vec<String> = [
            "data_type",
            "external_id",
            "workspace.first_name",
            "workspace.last_name",
            "workspace.email",
            "workspace.name",
            "first_name",
        ]
        .map(String::from)
        .to_vec();
        let row = |values: [&str; 7]| values.map(String::from).to_vec();
        let person = row([
            "people",
            "a1",
            "Ada",
            "Lovelace",
            "ada@example.org",
            "",
            "x",
        ]);
        assert_eq!(
            record_label(&headings, &person),
            "Ada Lovelace · ada@example.org"
        );
        let session = row(["sessions", "s1", "", "", "", "Keynote", ""]);
        assert_eq!(record_label(&headings, &session), "Keynote");
        // A vendor path of the same name is not a workspace value.
        let unnamed = row(["people", "a2", "", "", "", "", "Ben"]);
        assert_eq!(record_label(&headings, &unnamed), "");
        assert_eq!(record_label(&[], &[]), "");
    }

    #[test]
    fn a_page_is_read_from_the_apis_answer() {
        let answer = json!({
            "run_id": 2,
            "columns": ["data_type", "action", "external_id", "changed_fields", "reason"],
            "rows": [["people", "update", "a2", "email: a@x → b@x", ""]],
            "matched": 51,
            "offset": 50,
            "limit": 50,
            "actions": ["create", "update"],
            "data_types": ["people"],
        });
        let filtered = ReportPage::from_answer(&answer);
        assert_eq!(filtered.matched, 51);
        assert_eq!(filtered.rows[0][2], "a2");
        assert_eq!(filtered.actions, ["create", "update"]);
        let viewer = ViewerQuery {
            action: "update".into(),
            page: 1,
            ..ViewerQuery::default()
        };
        let markup = viewer_table(2, &filtered, &viewer).into_string();
        assert!(markup.contains("<code>a2</code>"), "{markup}");
        assert!(
            markup.contains("51 records match; page 2 of 2."),
            "{markup}"
        );
        assert!(
            markup
                .contains("href=\"/console/runs/2?action=update&amp;page=0#report\" rel=\"prev\""),
            "{markup}"
        );
        assert!(!markup.contains("rel=\"next\""), "{markup}");
        assert!(
            markup.contains("<option value=\"update\" selected>update</option>"),
            "{markup}"
        );
    }

    #[test]
    fn changes_show_old_and_new() {
        let markup = changes("email: a@x → b@x; note").into_string();
        assert!(markup.contains("<del>a@x</del>"), "{markup}");
        assert!(markup.contains("<ins>b@x</ins>"), "{markup}");
        assert!(markup.contains("<div>note</div>"), "{markup}");
    }
}
