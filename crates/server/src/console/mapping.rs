//! The mapping editor of one data type: which vendor path fills which workspace field, whether
//! an empty vendor value clears it, value maps, and the data type's statuses, filters and
//! labels. The vendor paths offered are those the last preview of the connection saw; the
//! fields are the data type's own. Saving goes through the API, which checks the settings as
//! loading `eventsync.toml` does: a refusal is shown with the form as it was typed.
//!
//! Beside each vendor path the editor shows an example value and, for an answer to a question,
//! the question's text. Both come from the preview report's rows: the mapping answer says where
//! the data type's records hold answers (`answers`: the list, and within an answer the paths of
//! the question's id, its text and the value), and a record's answer at `answers.2.value.0`
//! has its question's text in the same row at `answers.2.question.text`. A list position can
//! hold different questions in different records, so every text seen there is counted; a
//! question whose answers data labels can read is offered as a label, found by its id wherever
//! the vendor lists it.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde_json::{Map, Value, json};

use super::api::{Api, Failure, query, segment};
use super::layout::{self, Section, notice, number, text};
use super::runs::ReportPage;

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

/// The prefix of the report's columns holding mapped workspace values, not vendor paths.
const WORKSPACE_COLUMNS: &str = "workspace.";

/// How many of the data type's rows of the last preview are read for the paths, questions and
/// examples offered: enough to see every question of a registration path, few enough that the
/// editor opens at once for an event of any size.
const SAMPLE_ROWS: usize = 1_000;
/// Rows asked for at a time (the report route's most).
const SAMPLE_PAGE: usize = 500;

/// How many characters of an example value are shown.
const EXAMPLE_CHARS: usize = 40;

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
    let context = Context::read(&api, &connection, &data_type, &in_use).await;
    Ok(render(
        &context,
        &editor,
        params.get("notice").map(String::as_str),
        None,
    ))
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

/// Where a data type's records hold answers to questions, as the mapping answer's `answers`
/// says.
#[derive(Debug, Clone, PartialEq)]
struct AnswerList {
    list: String,
    question_id: String,
    question_text: String,
    value: String,
    /// Keyed by question id (`responses.<id>`), so its paths do not move.
    keyed_by_id: bool,
    /// Data labels can name its questions.
    labels: bool,
}

fn answer_lists(in_use: &Value) -> Vec<AnswerList> {
    in_use["answers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|answers| {
            let path = |key: &str| answers[key].as_str().map(str::to_string);
            Some(AnswerList {
                list: path("list")?,
                question_id: path("question_id")?,
                question_text: path("question_text")?,
                value: path("value")?,
                keyed_by_id: answers["keyed_by_id"].as_bool().unwrap_or(false),
                labels: answers["labels"].as_bool().unwrap_or(false),
            })
        })
        .collect()
}

/// Where a path sits among the answers: which list, and the answer's own path in it
/// (`answers.2`).
#[derive(Debug, Clone, PartialEq)]
struct AnswerAt {
    list: usize,
    answer: String,
}

/// The answer a vendor path is part of, when it is the value of one (`answers.2.value.0` is;
/// `answers.2.question.text` is not).
fn answer_at(path: &str, lists: &[AnswerList]) -> Option<AnswerAt> {
    lists.iter().enumerate().find_map(|(index, list)| {
        let rest = path.strip_prefix(list.list.as_str())?.strip_prefix('.')?;
        let (key, within) = rest.split_once('.')?;
        let is_value = within == list.value
            || within
                .strip_prefix(list.value.as_str())
                .is_some_and(|tail| tail.starts_with('.'));
        (is_value && !key.is_empty()).then(|| AnswerAt {
            list: index,
            answer: format!("{}.{key}", list.list),
        })
    })
}

/// A question as the rows name it, in how many rows, and its first answer there.
#[derive(Debug, Clone, PartialEq)]
struct Asked {
    id: String,
    text: String,
    rows: u64,
    example: String,
}

/// One vendor path the last preview saw filled.
#[derive(Debug, Clone, PartialEq)]
struct SeenPath {
    path: String,
    /// The first value seen.
    example: String,
    /// How many of the data type's rows fill it.
    rows: u64,
    /// For an answer's value: the questions it answered, most rows first.
    questions: Vec<Asked>,
    answer: Option<AnswerAt>,
}

impl SeenPath {
    /// The question a path mostly answers.
    fn question(&self) -> Option<&Asked> {
        self.questions.first()
    }

    /// How the path is described in a list of options and in warnings.
    fn asked(&self) -> Option<String> {
        let first = self.question()?;
        Some(match self.questions.len() {
            1 => format!("“{}”", first.text),
            more => format!(
                "“{}” in most records, {} other questions in others",
                first.text,
                more - 1
            ),
        })
    }
}

/// A question seen answered in the last preview.
#[derive(Debug, Clone, PartialEq)]
struct SeenQuestion {
    id: String,
    text: String,
    /// Rows that answered it.
    rows: u64,
    example: String,
    /// The answers' value paths it was seen at.
    paths: Vec<String>,
    /// The answers it was seen as (`answers.2`), in the report's order.
    answers: Vec<String>,
    /// Data labels can name it.
    labels: bool,
}

/// What the last preview of the data type saw: every vendor path its rows fill, in the
/// report's order, and the questions answered.
#[derive(Debug, Clone, Default, PartialEq)]
struct Seen {
    paths: Vec<SeenPath>,
    questions: Vec<SeenQuestion>,
    /// The data type's rows read, and how many the report has.
    records_read: u64,
    records: u64,
}

impl Seen {
    fn path(&self, path: &str) -> Option<&SeenPath> {
        self.paths.iter().find(|seen| seen.path == path)
    }
}

/// Reads rows of a preview report (its `columns`, `data_type` among them when it holds several
/// data types) for the vendor paths `data_type`'s rows fill, an example value of each, and the
/// questions the answers among them answer, their texts read from the same row.
fn read_seen(
    columns: &[String],
    rows: &[Vec<String>],
    data_type: &str,
    lists: &[AnswerList],
) -> Seen {
    let headings = columns;
    let type_column = headings.iter().position(|h| h == "data_type");
    let position = |name: &str| headings.iter().position(|h| h == name);
    struct Column {
        index: usize,
        seen: SeenPath,
        /// Where the row holds the question's id and text, for an answer's value.
        question: Option<(usize, usize)>,
    }
    let mut columns: Vec<Column> = headings
        .iter()
        .enumerate()
        .filter(|(_, h)| !REPORT_COLUMNS.contains(&h.as_str()) && !h.starts_with(WORKSPACE_COLUMNS))
        .map(|(index, heading)| {
            let answer = answer_at(heading, lists);
            let question = answer.as_ref().and_then(|at| {
                let list = &lists[at.list];
                Some((
                    position(&format!("{}.{}", at.answer, list.question_id))?,
                    position(&format!("{}.{}", at.answer, list.question_text))?,
                ))
            });
            Column {
                index,
                seen: SeenPath {
                    path: heading.to_string(),
                    example: String::new(),
                    rows: 0,
                    questions: Vec::new(),
                    answer,
                },
                question,
            }
        })
        .collect();
    for record in rows {
        let record = |at: usize| record.get(at).map(String::as_str);
        if type_column.is_some_and(|at| record(at) != Some(data_type)) {
            continue;
        }
        for column in &mut columns {
            let value = record(column.index).unwrap_or_default();
            if value.is_empty() {
                continue;
            }
            column.seen.rows += 1;
            if column.seen.example.is_empty() {
                column.seen.example = value.to_string();
            }
            let Some((id_at, text_at)) = column.question else {
                continue;
            };
            let id = record(id_at).unwrap_or_default();
            if id.is_empty() {
                continue;
            }
            match column.seen.questions.iter_mut().find(|q| q.id == id) {
                Some(asked) => asked.rows += 1,
                None => column.seen.questions.push(Asked {
                    id: id.to_string(),
                    text: record(text_at).unwrap_or_default().to_string(),
                    rows: 1,
                    example: value.to_string(),
                }),
            }
        }
    }
    let mut questions: Vec<SeenQuestion> = Vec::new();
    // Per question, the rows of each answer it was seen at: an answer of several values
    // (`value.0`, `value.1`) counts its rows once, at its fullest path.
    let mut answered: Vec<Vec<(String, u64)>> = Vec::new();
    let mut paths = Vec::new();
    for mut column in columns.into_iter().filter(|c| c.seen.rows > 0) {
        column
            .seen
            .questions
            .sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.id.cmp(&b.id)));
        let labels = column
            .seen
            .answer
            .as_ref()
            .is_some_and(|at| lists[at.list].labels);
        let answer = column
            .seen
            .answer
            .as_ref()
            .map(|at| at.answer.clone())
            .unwrap_or_default();
        for asked in &column.seen.questions {
            let at = match questions.iter().position(|q| q.id == asked.id) {
                Some(at) => at,
                None => {
                    questions.push(SeenQuestion {
                        id: asked.id.clone(),
                        text: asked.text.clone(),
                        rows: 0,
                        example: asked.example.clone(),
                        paths: Vec::new(),
                        answers: Vec::new(),
                        labels,
                    });
                    answered.push(Vec::new());
                    questions.len() - 1
                }
            };
            let question = &mut questions[at];
            question.paths.push(column.seen.path.clone());
            if question.text.is_empty() {
                question.text = asked.text.clone();
            }
            match answered[at].iter_mut().find(|(a, _)| *a == answer) {
                Some((_, rows)) => *rows = (*rows).max(asked.rows),
                None => answered[at].push((answer.clone(), asked.rows)),
            }
        }
        paths.push(column.seen);
    }
    for (question, answers) in questions.iter_mut().zip(&answered) {
        question.rows = answers.iter().map(|(_, rows)| rows).sum();
        question.answers = answers.iter().map(|(answer, _)| answer.clone()).collect();
    }
    questions.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.text.cmp(&b.text)));
    Seen {
        paths,
        questions,
        ..Seen::default()
    }
}

/// What the connection's last finished preview of `data_type` saw, from its report.
async fn seen(api: &Api, connection: &str, data_type: &str, lists: &[AnswerList]) -> Seen {
    let Ok(runs) = api
        .get(&format!(
            "/v1/runs{}",
            query(&[("connection", connection), ("limit", "50")])
        ))
        .await
    else {
        return Seen::default();
    };
    let preview = runs["data"].as_array().into_iter().flatten().find(|run| {
        run["kind"].as_str() == Some("preview")
            && run["status"].as_str() != Some("running")
            && run["data_types"]
                .as_array()
                .is_none_or(|types| types.iter().any(|t| t.as_str() == Some(data_type)))
    });
    let Some(id) = preview.and_then(|run| run["id"].as_i64()) else {
        return Seen::default();
    };
    let mut columns = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut matched = 0;
    while rows.len() < SAMPLE_ROWS {
        let offset = rows.len().to_string();
        let Ok(answer) = api
            .get(&format!(
                "/v1/runs/{id}/report/rows{}",
                query(&[
                    ("data_type", data_type),
                    ("offset", &offset),
                    ("limit", &SAMPLE_PAGE.to_string()),
                ])
            ))
            .await
        else {
            break;
        };
        let page = ReportPage::from_answer(&answer);
        matched = page.matched;
        columns = page.headings;
        let before = rows.len();
        rows.extend(page.rows);
        if rows.len() == before || rows.len() >= matched {
            break;
        }
    }
    Seen {
        records_read: rows.len() as u64,
        records: matched as u64,
        ..read_seen(&columns, &rows, data_type, lists)
    }
}

/// At most [`EXAMPLE_CHARS`] characters of a value.
fn clip(value: &str) -> String {
    match value.char_indices().nth(EXAMPLE_CHARS) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_string(),
    }
}

/// A long id (a UUID) cut after its second group; the whole id is the element's title.
fn clip_id(id: &str) -> String {
    match id.char_indices().nth(13) {
        Some((cut, _)) => format!("{}…", &id[..cut]),
        None => id.to_string(),
    }
}

/// The label a path is offered with as one types: its question and an example value.
fn option_label(seen: &SeenPath) -> String {
    let example = clip(&seen.example);
    match seen.asked() {
        Some(asked) => format!("{asked} — e.g. {example}"),
        None => format!("e.g. {example}"),
    }
}

/// A data label's name from a question's text: `Dietary requirements?` → `dietary_requirements`.
fn label_name(text: &str) -> String {
    let mut name = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
        if name.len() >= 40 {
            break;
        }
    }
    let name = name.trim_end_matches('_').to_string();
    if name.is_empty() {
        "question".into()
    } else {
        name
    }
}

/// Turns a question into a data label in the editor: its answers then fill `custom.<name>`,
/// found by the question's id wherever the vendor lists them. A rule reading a list position
/// where that question is mostly answered, into a custom field, gives the label its name and
/// goes (the label replaces it); otherwise the name comes from the question's text. Returns
/// the field the label fills.
fn add_label(editor: &mut Editor, question: &SeenQuestion, seen: &Seen) -> Result<String, String> {
    let mut labels: Vec<Value> = if editor.labels.is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(&editor.labels)
            .map_err(|error| format!("labels is not a JSON list: {error}"))?
    };
    if let Some(existing) = labels
        .iter()
        .find(|label| label["question"].as_str() == Some(question.id.as_str()))
    {
        return Err(format!(
            "“{}” is already the data label {}",
            question.text,
            text(&existing["name"])
        ));
    }
    let reads_question = |row: &Row| {
        seen.path(&row.source)
            .and_then(SeenPath::question)
            .is_some_and(|asked| asked.id == question.id)
    };
    let replaced = editor.rows.iter().find_map(|row| {
        let name = row.target.strip_prefix("custom.")?;
        reads_question(row).then(|| name.to_string())
    });
    let name = match replaced {
        Some(name) => {
            let target = format!("custom.{name}");
            editor
                .rows
                .retain(|row| !(row.target == target && reads_question(row)));
            name
        }
        None => {
            let taken = |name: &str| {
                labels.iter().any(|l| l["name"].as_str() == Some(name))
                    || editor
                        .rows
                        .iter()
                        .any(|r| r.target == format!("custom.{name}"))
            };
            let base = label_name(&question.text);
            let mut name = base.clone();
            let mut n = 2;
            while taken(&name) {
                name = format!("{base}_{n}");
                n += 1;
            }
            name
        }
    };
    labels.push(json!({"question": question.id, "name": name}));
    editor.labels = pretty(&Value::Array(labels));
    Ok(format!("custom.{name}"))
}

/// Whether a path reads a position in a list (`answers.0.value.0`), which moves when the
/// vendor's order does; the key of a list keyed by question id (`responses.4711.response`) is
/// not a position.
fn reads_position(path: &str, lists: &[AnswerList]) -> bool {
    let key_segment = lists
        .iter()
        .filter(|list| list.keyed_by_id)
        .find(|list| {
            path.strip_prefix(list.list.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .map(|list| list.list.split('.').count());
    path.split('.')
        .enumerate()
        .any(|(at, part)| part.parse::<u64>().is_ok() && Some(at) != key_segment)
}

/// What a person should know about a rule before saving it.
fn warnings(rows: &[Row], seen: &Seen, lists: &[AnswerList]) -> Vec<String> {
    let mut warnings = Vec::new();
    for row in rows.iter().filter(|r| !r.source.is_empty()) {
        if reads_position(&row.source, lists) {
            let path = seen.path(&row.source);
            let labels = path
                .and_then(|p| p.answer.as_ref())
                .is_some_and(|at| lists[at.list].labels);
            warnings.push(match (path.and_then(SeenPath::asked), path.and_then(SeenPath::question)) {
                (Some(asked), Some(question)) if labels => format!(
                    "{} reads the answer at a position in a list ({asked}): if the vendor lists the answers in another order, another question's answer lands in {}. Use “{}” as a data label below instead: it is found by the question's id.",
                    row.source, row.target, question.text
                ),
                (Some(asked), _) => format!(
                    "{} reads the answer at a position in a list ({asked}): if the vendor lists the answers in another order, another question's answer lands in {}.",
                    row.source, row.target
                ),
                _ => format!(
                    "{} reads a position in a list: if the vendor lists the items in another order, another value lands in {}. A data label (by question id) is steadier.",
                    row.source, row.target
                ),
            });
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

/// What the editor is drawn from besides the form: the mapping answer and what the last
/// preview saw.
struct Context<'a> {
    connection: &'a str,
    data_type: &'a str,
    in_use: &'a Value,
    lists: Vec<AnswerList>,
    seen: Seen,
}

impl<'a> Context<'a> {
    async fn read(
        api: &Api,
        connection: &'a str,
        data_type: &'a str,
        in_use: &'a Value,
    ) -> Context<'a> {
        let lists = answer_lists(in_use);
        let seen = seen(api, connection, data_type, &lists).await;
        Context {
            connection,
            data_type,
            in_use,
            lists,
            seen,
        }
    }
}

/// The data label a question already is, from the labels as typed: its field.
fn label_of(labels: &str, question: &str) -> Option<String> {
    let labels: Value = serde_json::from_str(labels).ok()?;
    labels.as_array()?.iter().find_map(|label| {
        (label["question"].as_str() == Some(question))
            .then(|| format!("custom.{}", text(&label["name"])))
    })
}

/// A few of a question's answers or paths, and how many more.
fn some_paths(paths: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut shown = paths
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        shown.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    shown
}

fn render(
    context: &Context<'_>,
    editor: &Editor,
    notice_text: Option<&str>,
    error: Option<&str>,
) -> Html<String> {
    let Context {
        connection,
        data_type,
        in_use,
        lists,
        seen,
    } = context;
    let (connection, data_type) = (*connection, *data_type);
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
        @let warnings = warnings(&editor.rows, seen, lists);
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
                            @let asked = seen.path(&row.source).and_then(SeenPath::asked);
                            tr {
                                td {
                                    input type="text" name={ "source_" (i) } value=(row.source) list="paths" aria-label={ "Vendor path of rule " (i + 1) };
                                    @if let Some(asked) = asked {
                                        div.muted.asked { "Answers " (asked) }
                                    }
                                }
                                td { input type="text" name={ "target_" (i) } value=(row.target) list="fields" aria-label={ "Workspace field of rule " (i + 1) }; }
                                td { input type="checkbox" name={ "empty_" (i) } value="on" checked[row.import_empty] aria-label={ "An empty value clears the field, rule " (i + 1) }; }
                                td { input type="text" name={ "values_" (i) } value=(row.values) aria-label={ "Value map of rule " (i + 1) }; }
                            }
                        }
                    }
                }
            }
            datalist #paths { @for path in &seen.paths { option value=(path.path) label=(option_label(path)) {} } }
            datalist #fields {
                @for field in &fields { option value=(text(&field["name"])) {} }
                option value="custom." {}
            }
            @if seen.paths.is_empty() {
                p.muted { "Run a preview of " (data_type) " to have the vendor paths it sees offered here, with the questions their answers answer." }
            } @else {
                p.muted {
                    (seen.paths.len()) " vendor paths seen in the last preview are offered as you type, each with its question or an example value."
                    @if seen.records > seen.records_read {
                        " They were read from its first " (number(seen.records_read)) " of " (number(seen.records)) " records of " (data_type) "; counts below are of those."
                    }
                }
            }
            section.card {
                h2 { "What is imported" }
                label for="statuses" { "Vendor statuses imported (comma-separated; empty for the vendor's default)" }
                input #statuses type="text" name="statuses" value=(editor.statuses);
                label { input type="checkbox" name="remove_outdated" value="on" checked[editor.remove_outdated]; " Remove records the vendor no longer has (after a full sync)" }
                label for="filters" { "Filters (JSON list, e.g. " code { r#"[{"field": "email", "is_empty": true, "not": true}]"# } ")" }
                textarea #filters name="filters" rows="4" cols="70" { (editor.filters) }
                label for="labels" { "Data labels (JSON list of questions whose answers fill custom fields, e.g. " code { r#"[{"question": "<id or code>", "name": "diet"}]"# } ")" }
                textarea #labels name="labels" rows="4" cols="70" { (editor.labels) }
            }
            p.actions {
                button type="submit" { "Save" }
                a.button.secondary href={ "/console/connections/" (segment(connection)) } { "Back to the data types" }
            }
        }
        // After the form, so that its Save stays the button Enter presses; the questions'
        // buttons submit it all the same (`form="mapping-form"`).
        @if !seen.questions.is_empty() {
            section.card aria-labelledby="questions-heading" {
                h2 #questions-heading { "Questions and custom fields answered in the last preview" }
                p.muted { "A list position such as " code { "answers.2" } " can hold another question's answer when the vendor's form changes or a question goes unanswered. A data label reads a question's answer by its id, wherever the vendor lists it, into a custom field." }
                div.table-wrap {
                    table #questions {
                        thead { tr {
                            th scope="col" { "Question" } th scope="col" { "Answered at" }
                            th scope="col" { "Example answer" } th.num scope="col" { "Records" }
                            th scope="col" { "Data label" }
                        } }
                        tbody {
                            @for question in &seen.questions {
                                tr {
                                    td {
                                        (question.text) br;
                                        span.muted title=(question.id) { "id " code { (clip_id(&question.id)) } }
                                    }
                                    td {
                                        code { (some_paths(&question.answers)) }
                                        @if question.answers.len() > 1 {
                                            br; span.muted { "its position varies" }
                                        }
                                    }
                                    td { (clip(&question.example)) }
                                    td.num { (number(question.rows)) }
                                    td {
                                        @if let Some(field) = label_of(&editor.labels, &question.id) {
                                            "fills " code { (field) }
                                        } @else if question.labels {
                                            button.secondary type="submit" form="mapping-form" name="label_question" value=(question.id) aria-label={ "Use “" (question.text) "” as a data label" } { "Use as data label" }
                                        } @else if question.paths.iter().all(|p| !reads_position(p, lists)) {
                                            span.muted { "Its paths name the question's id: map them as they are." }
                                        } @else {
                                            span.muted { "This vendor's answers are read by position here." }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p.muted { "Using a question as a data label saves the mapping as it stands, with the label added; a rule reading that question's list position into a custom field gives the label its name and is replaced by it." }
            }
        }
        @if !seen.paths.is_empty() {
            details.card #seen-paths {
                summary { "Vendor paths seen in the last preview (" (seen.paths.len()) ")" }
                div.table-wrap {
                    table {
                        thead { tr {
                            th scope="col" { "Vendor path" } th scope="col" { "Question" }
                            th scope="col" { "Example value" } th.num scope="col" { "Records" }
                        } }
                        tbody {
                            @for path in &seen.paths {
                                tr {
                                    td { code { (path.path) } }
                                    td { @if let Some(asked) = path.asked() { (asked) } }
                                    td { (clip(&path.example)) }
                                    td.num { (number(path.rows)) }
                                }
                            }
                        }
                    }
                }
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
    let mut editor = editor_of(&form);
    let context = Context::read(&api, &connection, &data_type, &in_use).await;
    // A question's "Use as data label" saves the form with that label added.
    let labelled = match form.get("label_question") {
        None => Ok(None),
        Some(id) => match context
            .seen
            .questions
            .iter()
            .find(|q| &q.id == id && q.labels)
        {
            None => Err(format!(
                "question {id} was not seen answered in the last preview, or this connection cannot label it"
            )),
            Some(question) => add_label(&mut editor, question, &context.seen)
                .map(|field| Some((question.text.clone(), field))),
        },
    };
    let refused = match labelled
        .clone()
        .and_then(|_| settings_of(&editor, &current))
    {
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
    let saved = match labelled {
        Ok(Some((question, field))) => format!(
            "Saved. Answers to “{question}” fill {field} by the question's id, wherever the vendor lists them, from the next preview or sync on."
        ),
        _ => "Saved. The next preview or sync uses this mapping.".to_string(),
    };
    match refused {
        Some(reason) => Ok((
            axum::http::StatusCode::BAD_REQUEST,
            render(&context, &editor, None, Some(&reason)),
        )
            .into_response()),
        None => Ok(Redirect::to(&format!(
            "{}{}",
            base(&connection, &data_type),
            query(&[("notice", &saved)])
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

    /// Cvent REST's lists of answers, as the mapping answer gives them.
    /// What a CSV report's rows show, as the editor reads them from the report's rows route.
    fn seen_in(report: &str, data_type: &str, lists: &[AnswerList]) -> Seen {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(report.as_bytes());
        let columns: Vec<String> = reader
            .headers()
            .expect("headings")
            .iter()
            .map(String::from)
            .collect();
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|record| record.expect("a row").iter().map(String::from).collect())
            .collect();
        read_seen(&columns, &rows, data_type, lists)
    }

    fn cvent_lists() -> Vec<AnswerList> {
        answer_lists(&json!({"answers": [
            {"list": "answers", "question_id": "question.id", "question_text": "question.text",
             "value": "value", "keyed_by_id": false, "labels": true},
            {"list": "contact.customFields", "question_id": "id", "question_text": "name",
             "value": "value", "keyed_by_id": false, "labels": true},
        ]}))
    }

    /// A preview report of people and a session: Ada answered the diet question first, Ben
    /// skipped it, so his first answer is the topics question.
    const REPORT: &str = "\
data_type,action,external_id,changed_fields,reason,workspace.first_name,answers.0.question.id,answers.0.question.text,answers.0.value.0,answers.0.value.1,answers.1.question.id,answers.1.question.text,answers.1.value.0,contact.customFields.0.id,contact.customFields.0.name,contact.customFields.0.value.0,contact.firstName,title
people,create,a1,,,Ada,q-diet,Dietary requirements,Vegan,,q-topics,Topics of interest,AI,cf-1,Member number,1234,Ada,
people,create,a2,,,Ben,q-topics,Topics of interest,Data,Cloud,,,,,,,Ben,
people,create,a3,,,Cy,q-diet,Dietary requirements,None,,,,,,,,Cy,
sessions,create,s1,,,,,,,,,,,,,,,Keynote
";

    #[test]
    fn question_texts_are_read_beside_the_answers_of_each_row() {
        let seen = seen_in(REPORT, "people", &cvent_lists());
        let paths: Vec<&str> = seen.paths.iter().map(|p| p.path.as_str()).collect();
        // Workspace columns and the session's path are not the people's vendor paths.
        assert!(!paths.contains(&"workspace.first_name"), "{paths:?}");
        assert!(!paths.contains(&"title"), "{paths:?}");
        assert!(paths.contains(&"contact.firstName"), "{paths:?}");

        // (path, questions seen there with their rows, example)
        type Case = (&'static str, &'static [(&'static str, u64)], &'static str);
        let cases: [Case; 6] = [
            (
                "answers.0.value.0",
                &[("Dietary requirements", 2), ("Topics of interest", 1)],
                "Vegan",
            ),
            ("answers.0.value.1", &[("Topics of interest", 1)], "Cloud"),
            ("answers.1.value.0", &[("Topics of interest", 1)], "AI"),
            (
                "contact.customFields.0.value.0",
                &[("Member number", 1)],
                "1234",
            ),
            ("answers.0.question.text", &[], "Dietary requirements"),
            ("contact.firstName", &[], "Ada"),
        ];
        for (path, questions, example) in cases {
            let seen_path = seen.path(path).unwrap_or_else(|| panic!("{path} seen"));
            let texts: Vec<(&str, u64)> = seen_path
                .questions
                .iter()
                .map(|q| (q.text.as_str(), q.rows))
                .collect();
            assert_eq!(texts, questions, "{path}");
            assert_eq!(seen_path.example, example, "{path}");
        }
        let shown = seen.path("answers.0.value.0").and_then(SeenPath::asked);
        assert_eq!(
            shown.as_deref(),
            Some("“Dietary requirements” in most records, 1 other questions in others")
        );
        assert_eq!(
            option_label(seen.path("answers.1.value.0").expect("seen")),
            "“Topics of interest” — e.g. AI"
        );

        // Each question once, its rows counted once per answer, wherever it sat.
        let questions: Vec<(&str, &str, u64, &str)> = seen
            .questions
            .iter()
            .map(|q| (q.id.as_str(), q.text.as_str(), q.rows, q.example.as_str()))
            .collect();
        assert_eq!(
            questions,
            [
                ("q-diet", "Dietary requirements", 2, "Vegan"),
                ("q-topics", "Topics of interest", 2, "Data"),
                ("cf-1", "Member number", 1, "1234"),
            ]
        );
        assert!(seen.questions.iter().all(|q| q.labels));
        let topics = &seen.questions[1];
        assert_eq!(topics.answers, ["answers.0", "answers.1"]);
    }

    #[test]
    fn the_editor_shows_each_rule_its_question_and_offers_labels() {
        let lists = cvent_lists();
        let in_use = json!({"default": false, "rules": [], "fields": [{"name": "first_name"}]});
        let context = Context {
            connection: "cvent",
            data_type: "people",
            in_use: &in_use,
            seen: seen_in(REPORT, "people", &lists),
            lists,
        };
        let editor = Editor {
            rows: vec![Row {
                source: "answers.1.value.0".into(),
                target: "custom.topics".into(),
                ..Row::default()
            }],
            statuses: String::new(),
            remove_outdated: false,
            filters: String::new(),
            labels: r#"[{"question": "cf-1", "name": "member"}]"#.into(),
        };
        let Html(page) = render(&context, &editor, None, None);
        for shown in [
            "Answers “Topics of interest”",
            r#"label="“Dietary requirements” in most records, 1 other questions in others — e.g. Vegan""#,
            r#"name="label_question" value="q-diet""#,
            "fills <code>custom.member</code>",
            "its position varies",
            "Vendor paths seen in the last preview (",
        ] {
            assert!(page.contains(shown), "{shown} in {page}");
        }
        assert!(
            !page.contains(r#"value="cf-1""#),
            "a question already labelled has no button"
        );
    }

    #[test]
    fn answers_keyed_by_question_id_and_survey_rows_are_read_too() {
        let lists = answer_lists(&json!({"answers": [
            {"list": "responses", "question_id": "questionid", "question_text": "name",
             "value": "response", "keyed_by_id": true, "labels": false},
            {"list": "eventsurveydetail", "question_id": "questionid",
             "question_text": "questiontext", "value": "answer", "keyed_by_id": false,
             "labels": false},
        ]}));
        let report = "\
action,external_id,changed_fields,reason,responses.4711.name,responses.4711.questionid,responses.4711.response,eventsurveydetail.0.answer.0.answertext,eventsurveydetail.0.questionid,eventsurveydetail.0.questiontext
create,1,,,Dietary requirements,4711,Vegan,Fish,Q-7,Topics of interest
";
        let seen = seen_in(report, "people", &lists);
        let asked = |path: &str| seen.path(path).and_then(SeenPath::asked);
        assert_eq!(
            asked("responses.4711.response").as_deref(),
            Some("“Dietary requirements”")
        );
        assert_eq!(
            asked("eventsurveydetail.0.answer.0.answertext").as_deref(),
            Some("“Topics of interest”")
        );
        assert!(!reads_position("responses.4711.response", &lists));
        assert!(reads_position(
            "eventsurveydetail.0.answer.0.answertext",
            &lists
        ));
        assert!(seen.questions.iter().all(|q| !q.labels));
    }

    #[test]
    fn a_question_becomes_a_data_label_replacing_the_rule_that_read_its_position() {
        let seen = seen_in(REPORT, "people", &cvent_lists());
        let question = |id: &str| {
            seen.questions
                .iter()
                .find(|q| q.id == id)
                .expect("seen")
                .clone()
        };
        let mut editor = Editor {
            rows: vec![
                Row {
                    source: "answers.0.value.0".into(),
                    target: "custom.diet".into(),
                    ..Row::default()
                },
                Row {
                    source: "contact.firstName".into(),
                    target: "first_name".into(),
                    ..Row::default()
                },
            ],
            statuses: String::new(),
            remove_outdated: false,
            filters: String::new(),
            labels: String::new(),
        };
        let field = add_label(&mut editor, &question("q-diet"), &seen).expect("added");
        assert_eq!(field, "custom.diet", "the rule's field names the label");
        assert_eq!(editor.rows.len(), 1, "the position's rule is replaced");
        assert_eq!(editor.rows[0].source, "contact.firstName");
        let field = add_label(&mut editor, &question("q-topics"), &seen).expect("added");
        assert_eq!(field, "custom.topics_of_interest", "named from its text");
        let labels: Value = serde_json::from_str(&editor.labels).expect("JSON");
        assert_eq!(
            labels,
            json!([
                {"question": "q-diet", "name": "diet"},
                {"question": "q-topics", "name": "topics_of_interest"}
            ])
        );
        let again = add_label(&mut editor, &question("q-diet"), &seen).unwrap_err();
        assert!(again.contains("already the data label diet"), "{again}");
        // The labels go to the API as the settings' `labels`.
        let settings = settings_of(&editor, &Value::Null).expect("valid");
        assert_eq!(settings["labels"], labels);
    }

    #[test]
    fn label_names_are_made_of_what_a_custom_field_allows() {
        let cases = [
            ("Dietary requirements?", "dietary_requirements"),
            ("  T-shirt size (EU) ", "t_shirt_size_eu"),
            ("Café & Thé", "caf_th"),
            ("???", "question"),
            (
                "An extremely long question text that goes on and on and on",
                "an_extremely_long_question_text_that_goe",
            ),
        ];
        for (text, name) in cases {
            assert_eq!(label_name(text), name, "{text}");
            assert!(
                pipeline::is_custom_field(&format!("custom.{name}")),
                "{name}"
            );
        }
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
        let warned = warnings(&rows, &Seen::default(), &[]);
        assert_eq!(warned.len(), 2, "{warned:?}");
        assert!(warned[0].contains("position in a list"));
        assert!(warned[1].contains("sensitive"));
        // With the preview's rows, the warning names the question and offers a label.
        let seen = seen_in(REPORT, "people", &cvent_lists());
        let warned = warnings(&rows[..1], &seen, &cvent_lists());
        assert!(
            warned[0].contains("(“Dietary requirements” in most records")
                && warned[0].contains("as a data label"),
            "{warned:?}"
        );
    }
}
