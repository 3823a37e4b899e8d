//! The mapping editor of one data type: which vendor path fills which workspace field, whether
//! an empty vendor value clears it, value maps, and the data type's statuses, filters and
//! labels. The vendor paths offered are those the last preview of the connection saw; the
//! fields are the data type's own. Saving goes through the API, which checks the settings as
//! loading `eventsync.toml` does: a refusal is shown with the form as it was typed.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde_json::{Map, Value, json};

use super::api::{Api, Failure, query, segment};
use super::layout::{self, Section, notice, text};

/// The value map's key for every vendor value it does not name.
const ANY: &str = "*";

/// Empty rows offered below the mapping's own, to add rules.
const BLANK_ROWS: usize = 3;

/// Report columns that are not vendor paths.
const REPORT_COLUMNS: [&str; 5] = [
    "data_type",
    "action",
    "external_id",
    "changed_fields",
    "reason",
];

/// Words in a vendor path that mark data eventsync never keeps.
const SENSITIVE: [&str; 7] = [
    "birth",
    "passport",
    "ssn",
    "socialsecurity",
    "nationalid",
    "npi",
    "national_id",
];

/// One row of the editor as the form holds it.
#[derive(Clone, Default)]
struct Row {
    source: String,
    target: String,
    import_empty: bool,
    values: String,
}

/// What the editor shows: the rows, and the data type's other settings as text.
struct Editor {
    rows: Vec<Row>,
    statuses: String,
    remove_outdated: bool,
    filters: String,
    labels: String,
}

fn base(connection: &str, data_type: &str) -> String {
    format!(
        "/console/connections/{}/mapping/{}",
        segment(connection),
        segment(data_type)
    )
}

pub(crate) async fn show(
    api: Api,
    Path((connection, data_type)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Html<String>, Failure> {
    let (in_use, data) = read(&api, &connection, &data_type).await?;
    let editor = Editor {
        rows: in_use["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .map(row_of)
            .collect(),
        statuses: data["statuses"]
            .as_array()
            .map(|s| s.iter().map(text).collect::<Vec<_>>().join(", "))
            .unwrap_or_default(),
        remove_outdated: data["remove_outdated"].as_bool().unwrap_or(false),
        filters: pretty(&data["filters"]),
        labels: pretty(&data["labels"]),
    };
    let page = render(
        &api,
        &connection,
        &data_type,
        &in_use,
        &editor,
        params.get("notice").map(String::as_str),
        None,
    )
    .await;
    Ok(page)
}

async fn read(api: &Api, connection: &str, data_type: &str) -> Result<(Value, Value), Failure> {
    let path = format!(
        "/v1/connections/{}/data/{}",
        segment(connection),
        segment(data_type)
    );
    let in_use = api.get(&format!("{path}/mapping")).await?;
    let data = api.get(&path).await?;
    Ok((in_use, data))
}

fn row_of(rule: &Value) -> Row {
    let mut pairs: Vec<String> = rule["values"]["map"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(from, to)| format!("{from}={}", text(to)))
        .collect();
    if let Some(default) = rule["values"]["default"].as_str() {
        pairs.push(format!("{ANY}={default}"));
    }
    let values = pairs.join("; ");
    Row {
        source: text(&rule["source"]),
        target: text(&rule["target"]),
        import_empty: rule["import_empty"].as_bool().unwrap_or(false),
        values,
    }
}

fn pretty(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Array(items) if items.is_empty() => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// The vendor paths the connection's last finished preview saw, from its report's headings.
async fn seen_paths(api: &Api, connection: &str) -> Vec<String> {
    let Ok(runs) = api
        .get(&format!(
            "/v1/runs{}",
            query(&[("connection", connection), ("limit", "50")])
        ))
        .await
    else {
        return Vec::new();
    };
    let preview = runs["data"].as_array().into_iter().flatten().find(|run| {
        run["kind"].as_str() == Some("preview") && run["status"].as_str() != Some("running")
    });
    let Some(id) = preview.and_then(|run| run["id"].as_i64()) else {
        return Vec::new();
    };
    let Ok((_, report)) = api.bytes(&format!("/v1/runs/{id}/report")).await else {
        return Vec::new();
    };
    let mut reader = csv::Reader::from_reader(report.as_ref());
    reader
        .headers()
        .map(|headings| {
            headings
                .iter()
                .filter(|h| !REPORT_COLUMNS.contains(h))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// What a person should know about a rule before saving it.
fn warnings(rows: &[Row]) -> Vec<String> {
    let mut warnings = Vec::new();
    for row in rows.iter().filter(|r| !r.source.is_empty()) {
        if row
            .source
            .split('.')
            .any(|part| part.parse::<u64>().is_ok())
        {
            warnings.push(format!(
                "{} reads a position in a list: if the vendor lists the items in another order, another value lands in {}. A data label (by question id) is steadier.",
                row.source, row.target
            ));
        }
        let squashed: String = row
            .source
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if SENSITIVE.iter().any(|word| squashed.contains(word)) {
            warnings.push(format!(
                "{} looks like a sensitive field (birth date, passport, social security, national id or NPI): eventsync leaves such fields out and never keeps them.",
                row.source
            ));
        }
    }
    warnings
}

async fn render(
    api: &Api,
    connection: &str,
    data_type: &str,
    in_use: &Value,
    editor: &Editor,
    notice_text: Option<&str>,
    error: Option<&str>,
) -> Html<String> {
    let paths = seen_paths(api, connection).await;
    let fields: Vec<&Value> = in_use["fields"].as_array().into_iter().flatten().collect();
    let mut rows = editor.rows.clone();
    rows.extend(std::iter::repeat_n(Row::default(), BLANK_ROWS));
    let title = format!("{connection}: mapping of {data_type}");
    let body = html! {
        h1 { (title) }
        (notice(notice_text))
        @if let Some(error) = error {
            p.error role="alert" #mapping-error { "Not saved: " (error) }
        }
        @if in_use["default"].as_bool() == Some(true) {
            p.muted { "This data type uses the connector's default mapping, shown below. Saving makes it this connection's own." }
        }
        @let warnings = warnings(&editor.rows);
        @if !warnings.is_empty() {
            section.card aria-labelledby="warnings-heading" {
                h2 #warnings-heading { "Before you save" }
                ul { @for warning in &warnings { li { (warning) } } }
            }
        }
        form #mapping-form method="post" action=(base(connection, data_type)) {
            div.table-wrap {
                table #rules {
                    caption.muted { "Clear a row's vendor path to remove it. Value maps read " code { "vendor=workspace; …" } ", with " code { "*=value" } " for every other vendor value." }
                    thead { tr {
                        th scope="col" { "Vendor path" } th scope="col" { "Workspace field" }
                        th scope="col" { "Empty clears" } th scope="col" { "Value map" }
                    } }
                    tbody {
                        @for (i, row) in rows.iter().enumerate() {
                            tr {
                                td { input type="text" name={ "source_" (i) } value=(row.source) list="paths" aria-label={ "Vendor path of rule " (i + 1) }; }
                                td { input type="text" name={ "target_" (i) } value=(row.target) list="fields" aria-label={ "Workspace field of rule " (i + 1) }; }
                                td { input type="checkbox" name={ "empty_" (i) } value="on" checked[row.import_empty] aria-label={ "An empty value clears the field, rule " (i + 1) }; }
                                td { input type="text" name={ "values_" (i) } value=(row.values) aria-label={ "Value map of rule " (i + 1) }; }
                            }
                        }
                    }
                }
            }
            datalist #paths { @for path in &paths { option value=(path) {} } }
            datalist #fields {
                @for field in &fields { option value=(text(&field["name"])) {} }
                option value="custom." {}
            }
            @if paths.is_empty() {
                p.muted { "Run a preview to have the vendor paths it sees offered here." }
            } @else {
                p.muted { (paths.len()) " vendor paths seen in the last preview are offered as you type." }
            }
            section.card {
                h2 { "What is imported" }
                label for="statuses" { "Vendor statuses imported (comma-separated; empty for the vendor's default)" }
                input #statuses type="text" name="statuses" value=(editor.statuses);
                label { input type="checkbox" name="remove_outdated" value="on" checked[editor.remove_outdated]; " Remove records the vendor no longer has (after a full sync)" }
                label for="filters" { "Filters (JSON list, e.g. " code { r#"[{"field": "email", "is_empty": true, "not": true}]"# } ")" }
                textarea #filters name="filters" rows="4" cols="70" { (editor.filters) }
                label for="labels" { "Data labels (JSON list of questions whose answers fill custom fields)" }
                textarea #labels name="labels" rows="4" cols="70" { (editor.labels) }
            }
            p.actions {
                button type="submit" { "Save" }
                a.button.secondary href={ "/console/connections/" (segment(connection)) } { "Back to the data types" }
            }
        }
    };
    layout::page(&title, Section::Connections, body)
}

/// The editor as the form sent it.
fn editor_of(form: &BTreeMap<String, String>) -> Editor {
    let field = |name: String| {
        form.get(&name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut rows = Vec::new();
    for i in 0.. {
        if !form.contains_key(&format!("source_{i}")) {
            break;
        }
        let row = Row {
            source: field(format!("source_{i}")),
            target: field(format!("target_{i}")),
            import_empty: form.contains_key(&format!("empty_{i}")),
            values: field(format!("values_{i}")),
        };
        if !row.source.is_empty() || !row.target.is_empty() {
            rows.push(row);
        }
    }
    Editor {
        rows,
        statuses: field("statuses".into()),
        remove_outdated: form.contains_key("remove_outdated"),
        filters: field("filters".into()),
        labels: field("labels".into()),
    }
}

/// The data settings to store: `current`, with what the editor sets replaced.
fn settings_of(editor: &Editor, current: &Value) -> Result<Value, String> {
    let mut settings: Map<String, Value> = current.as_object().cloned().unwrap_or_default();
    let mut rules = Vec::new();
    for row in &editor.rows {
        if row.source.is_empty() || row.target.is_empty() {
            return Err(format!(
                "a rule needs both a vendor path and a workspace field (got '{}' → '{}')",
                row.source, row.target
            ));
        }
        let mut rule = json!({"source": row.source, "target": row.target});
        if row.import_empty {
            rule["import_empty"] = json!(true);
        }
        if !row.values.is_empty() {
            let mut map = Map::new();
            let mut default = None;
            for pair in row
                .values
                .split(';')
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let (from, to) = pair.split_once('=').ok_or_else(|| {
                    format!(
                        "the value map of {} has '{pair}', not vendor=workspace",
                        row.source
                    )
                })?;
                if from.trim() == ANY {
                    default = Some(to.trim().to_string());
                } else {
                    map.insert(from.trim().to_string(), json!(to.trim()));
                }
            }
            rule["values"] = json!({"map": map});
            if let Some(default) = default {
                rule["values"]["default"] = json!(default);
            }
        }
        rules.push(rule);
    }
    settings.insert("mapping".into(), Value::Array(rules));
    let statuses: Vec<Value> = editor
        .statuses
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| json!(s))
        .collect();
    if statuses.is_empty() {
        settings.remove("statuses");
    } else {
        settings.insert("statuses".into(), Value::Array(statuses));
    }
    settings.insert("remove_outdated".into(), json!(editor.remove_outdated));
    for (key, typed) in [("filters", &editor.filters), ("labels", &editor.labels)] {
        if typed.is_empty() {
            settings.remove(key);
            continue;
        }
        let parsed: Value = serde_json::from_str(typed)
            .map_err(|error| format!("{key} is not a JSON list: {error}"))?;
        settings.insert(key.into(), parsed);
    }
    Ok(Value::Object(settings))
}

pub(crate) async fn save(
    api: Api,
    Path((connection, data_type)): Path<(String, String)>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response, Failure> {
    let (in_use, current) = read(&api, &connection, &data_type).await?;
    let editor = editor_of(&form);
    let refused = match settings_of(&editor, &current) {
        Err(reason) => Some(reason),
        Ok(settings) => match api
            .put(
                &format!(
                    "/v1/connections/{}/data/{}",
                    segment(&connection),
                    segment(&data_type)
                ),
                settings,
            )
            .await
        {
            Ok(_) => None,
            Err(failure)
                if failure.status.is_client_error()
                    && failure.status.as_u16() != 401
                    && failure.status.as_u16() != 403 =>
            {
                Some(failure.message)
            }
            Err(failure) => return Err(failure),
        },
    };
    match refused {
        Some(reason) => Ok((
            axum::http::StatusCode::BAD_REQUEST,
            render(
                &api,
                &connection,
                &data_type,
                &in_use,
                &editor,
                None,
                Some(&reason),
            )
            .await,
        )
            .into_response()),
        None => Ok(Redirect::to(&format!(
            "{}{}",
            base(&connection, &data_type),
            query(&[(
                "notice",
                "Saved. The next preview or sync uses this mapping."
            )])
        ))
        .into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_read_from_the_form_and_kept_with_other_settings() {
        let form: BTreeMap<String, String> = [
            ("source_0", "id"),
            ("target_0", "external_id"),
            ("source_1", "contact.company"),
            ("target_1", "custom.employer"),
            ("empty_1", "on"),
            ("values_1", "ACME=Acme Inc; x = y; * = other"),
            ("source_2", ""),
            ("target_2", ""),
            ("statuses", "Accepted, Pending"),
            ("filters", ""),
            ("labels", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let editor = editor_of(&form);
        assert_eq!(editor.rows.len(), 2);
        let settings = settings_of(&editor, &json!({"subscribers": ["ops@example.org"]})).unwrap();
        assert_eq!(settings["subscribers"], json!(["ops@example.org"]));
        assert_eq!(settings["statuses"], json!(["Accepted", "Pending"]));
        assert_eq!(settings["mapping"][1]["import_empty"], json!(true));
        assert_eq!(
            settings["mapping"][1]["values"]["map"],
            json!({"ACME": "Acme Inc", "x": "y"})
        );
        assert_eq!(settings["mapping"][1]["values"]["default"], json!("other"));
        let shown = row_of(&settings["mapping"][1]);
        assert_eq!(shown.values, "ACME=Acme Inc; x=y; *=other");
        assert!(settings.get("filters").is_none());
    }

    #[test]
    fn half_rules_and_bad_value_maps_are_named() {
        let half = Editor {
            rows: vec![Row {
                source: "contact.email".into(),
                ..Row::default()
            }],
            statuses: String::new(),
            remove_outdated: false,
            filters: String::new(),
            labels: "not json".into(),
        };
        assert!(
            settings_of(&half, &Value::Null)
                .unwrap_err()
                .contains("needs both")
        );
        let bad = Editor {
            rows: vec![Row {
                source: "a".into(),
                target: "b".into(),
                values: "nothing to map".into(),
                ..Row::default()
            }],
            ..half
        };
        assert!(
            settings_of(&bad, &Value::Null)
                .unwrap_err()
                .contains("vendor=workspace")
        );
    }

    #[test]
    fn list_positions_and_sensitive_paths_are_warned_of() {
        let rows = [
            Row {
                source: "answers.0.value.0".into(),
                target: "custom.diet".into(),
                ..Row::default()
            },
            Row {
                source: "contact.dateOfBirth".into(),
                target: "custom.born".into(),
                ..Row::default()
            },
            Row {
                source: "contact.email".into(),
                target: "email".into(),
                ..Row::default()
            },
        ];
        let warned = warnings(&rows);
        assert_eq!(warned.len(), 2, "{warned:?}");
        assert!(warned[0].contains("position in a list"));
        assert!(warned[1].contains("sensitive"));
    }
}
