//! The configuration workbook of a connection: download it, edit it in a spreadsheet, upload
//! it to see what it changes, then apply. The uploaded file rides along in the apply form (as
//! hex; a workbook is a few kilobytes), so nothing is kept on the server between the two steps.

use axum::body::Bytes;
use axum::extract::{Multipart, Path};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::api::{Api, Failure, query, segment};
use super::layout::{self, Section, text};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn api_path(connection: &str) -> String {
    format!("/v1/connections/{}/workbook", segment(connection))
}

fn page_path(connection: &str) -> String {
    format!("/console/connections/{}/workbook", segment(connection))
}

pub(crate) async fn download(
    api: Api,
    Path(connection): Path<String>,
) -> Result<Response, Failure> {
    let (headers, bytes) = api.bytes(&api_path(&connection)).await?;
    Ok(super::api::download(&headers, bytes))
}

/// The upload form, shown on the connection's data types page.
pub(crate) fn card(connection: &str) -> maud::Markup {
    html! {
        section.card aria-labelledby="workbook-heading" {
            h2 #workbook-heading { "Configuration workbook" }
            p { "The connection's mapping, statuses, filters and labels as a spreadsheet, one sheet per data type. Secrets are never in it." }
            p { a.button.secondary href=(page_path(connection)) download { "Download the workbook" } }
            form #workbook-form method="post" action=(page_path(connection)) enctype="multipart/form-data" {
                label for="workbook-file" { "Upload an edited workbook to see what it changes" }
                input #workbook-file type="file" name="file" accept=".xlsx" required;
                " " button type="submit" { "Show the changes" }
            }
        }
    }
}

pub(crate) async fn upload(
    api: Api,
    Path(connection): Path<String>,
    mut form: Multipart,
) -> Result<Response, Failure> {
    let mut file = None;
    let mut apply = false;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("file") => file = field.bytes().await.ok(),
            Some("workbook") => {
                file = field
                    .text()
                    .await
                    .ok()
                    .and_then(|text| hex::decode(text.trim()).ok())
                    .map(Bytes::from)
            }
            Some("apply") => apply = true,
            _ => {}
        }
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return Err(Failure {
            status: axum::http::StatusCode::BAD_REQUEST,
            message: "choose a workbook file to upload".into(),
        });
    };
    let path = format!(
        "{}{}",
        api_path(&connection),
        query(&[("apply", if apply { "true" } else { "false" })])
    );
    let answer = api.post_bytes(&path, XLSX, file.clone()).await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(failure) if failure.status.as_u16() == 400 => {
            let body = html! {
                h1 { "Workbook for " (connection) }
                p.error role="alert" #workbook-error { "Not taken: " (failure.message) }
                p { a href={ "/console/connections/" (segment(&connection)) } { "Back to the data types" } }
            };
            let page = layout::page("Workbook", Section::Connections, body);
            return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
        }
        Err(failure) => return Err(failure),
    };
    if apply {
        let count = answer["changes"].as_array().map_or(0, Vec::len);
        let notice = format!("The workbook's {count} change(s) are written and in use.");
        return Ok(Redirect::to(&format!(
            "/console/connections/{}{}",
            segment(&connection),
            query(&[("notice", &notice)])
        ))
        .into_response());
    }
    let changes = answer["changes"].as_array().cloned().unwrap_or_default();
    let warnings = answer["warnings"].as_array().cloned().unwrap_or_default();
    let body = html! {
        h1 { "Workbook for " (connection) }
        @if changes.is_empty() {
            p role="status" { "The workbook holds the configuration as it is: nothing to change." }
        } @else {
            p role="status" { (changes.len()) " change(s) from the workbook:" }
            ul #workbook-changes { @for change in &changes { li { (text(&change["change"])) } } }
            @for warning in &warnings { p.error { "Warning: " (text(warning)) } }
            form method="post" action=(page_path(&connection)) enctype="multipart/form-data" {
                input type="hidden" name="workbook" value=(hex::encode(&file));
                input type="hidden" name="apply" value="true";
                button type="submit" { "Apply these changes" }
            }
        }
        p { a href={ "/console/connections/" (segment(&connection)) } { "Back to the data types" } }
    };
    Ok(layout::page("Workbook", Section::Connections, body).into_response())
}
