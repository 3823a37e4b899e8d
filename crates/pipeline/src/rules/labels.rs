//! Data labels: a vendor question's answer (or a custom field's value) stored under a named workspace field
//! (`custom.<name>`), found by the question's id wherever the answer sits in the record's list of
//! answers — unlike a list position (`answers.0.value`), which moves when the vendor's form does.
//!
//! The label names a question by id or code; [`resolve`] turns it into the question's id and
//! text once per run, from the vendor's list of questions, and [`read_answer`] reads one
//! record's answer. Where answers sit in a record is the connector's to say ([`AnswerPaths`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::flatten::{Flat, Scalar};
use crate::schema::{CUSTOM_PREFIX, is_custom_field};

/// One label as configured: `{ question = "<id or code>", name = "dietary" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// The question's id or code.
    pub question: String,
    /// The workspace field is `custom.<name>`.
    pub name: String,
}

/// A question the vendor has for the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    pub code: Option<String>,
    pub text: String,
}

/// Where a vendor record keeps its answers: the list, and within each answer the question's id,
/// the question's text (where the vendor sends it beside the answer) and the answer's value
/// (text, or a list of texts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerPaths {
    pub list: &'static str,
    pub question_id: &'static str,
    pub question_text: &'static str,
    pub value: &'static str,
}

/// A label matched to one of the vendor's questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedLabel {
    /// `custom.<name>`.
    pub target: String,
    pub question_id: String,
    pub question_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("label '{name}': the name must be made of a-z, 0-9 and _ (it becomes custom.{name})")]
    BadName { name: String },
    #[error("label '{name}': give the question's id or code")]
    NoQuestion { name: String },
    #[error("label '{first}' and label '{second}' both fill custom.{first}: rename one")]
    Duplicate { first: String, second: String },
}

impl Label {
    pub fn target(&self) -> String {
        format!("{CUSTOM_PREFIX}{}", self.name)
    }
}

/// Checks configured labels: valid, distinct names and a question each.
pub fn validate(labels: &[Label]) -> Result<(), LabelError> {
    for (index, label) in labels.iter().enumerate() {
        if !is_custom_field(&label.target()) {
            return Err(LabelError::BadName {
                name: label.name.clone(),
            });
        }
        if label.question.trim().is_empty() {
            return Err(LabelError::NoQuestion {
                name: label.name.clone(),
            });
        }
        if let Some(earlier) = labels[..index].iter().find(|l| l.name == label.name) {
            return Err(LabelError::Duplicate {
                first: earlier.name.clone(),
                second: label.name.clone(),
            });
        }
    }
    Ok(())
}

/// Matches a label to a question by id, then by code (ignoring case); `None` when the vendor
/// has no such question.
pub fn resolve(label: &Label, questions: &[Question]) -> Option<ResolvedLabel> {
    let wanted = label.question.trim();
    questions
        .iter()
        .find(|q| q.id == wanted)
        .or_else(|| {
            questions.iter().find(|q| {
                q.code
                    .as_deref()
                    .is_some_and(|code| code.eq_ignore_ascii_case(wanted))
            })
        })
        .map(|question| ResolvedLabel {
            target: label.target(),
            question_id: question.id.clone(),
            question_text: question.text.clone(),
        })
}

/// The record's answer to a question, several values joined by `", "`; `None` when it has none.
pub fn read_answer(record: &Value, paths: &AnswerPaths, question_id: &str) -> Option<String> {
    read_answer_in(&crate::flatten(record), paths, question_id)
}

/// [`read_answer`] over a record already flattened, as a sync has it.
pub fn read_answer_in(flat: &Flat<'_>, paths: &AnswerPaths, question_id: &str) -> Option<String> {
    // The answer's position in the list: the entry `<list>.<i>.<question id path>` that holds
    // the question's id.
    let position = flat.iter().find_map(|(path, scalar)| {
        let (index, rest) = path
            .strip_prefix(paths.list)?
            .strip_prefix('.')?
            .split_once('.')?;
        let is_question = rest == paths.question_id
            && matches!(scalar, Scalar::Text(id) if id == question_id)
            && index.bytes().all(|b| b.is_ascii_digit());
        is_question.then_some(index)
    })?;
    let value_path = format!("{}.{position}.{}", paths.list, paths.value);
    // The value itself, or the elements of a list of values (`<value>.<n>`).
    let texts: Vec<String> = flat
        .iter()
        .filter(|(path, _)| {
            path.strip_prefix(value_path.as_str()).is_some_and(|rest| {
                rest.is_empty()
                    || rest
                        .strip_prefix('.')
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
        })
        .filter_map(|(_, scalar)| match scalar {
            Scalar::Text(text) => Some(text.to_string()),
            Scalar::Number(number) => Some(number.to_string()),
            Scalar::Bool(flag) => Some(flag.to_string()),
            Scalar::Null => None,
        })
        .collect();
    let joined = texts
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    (!joined.is_empty()).then_some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PATHS: AnswerPaths = AnswerPaths {
        list: "answers",
        question_id: "question.id",
        question_text: "question.text",
        value: "value",
    };

    fn label(question: &str, name: &str) -> Label {
        Label {
            question: question.into(),
            name: name.into(),
        }
    }

    #[test]
    fn labels_resolve_by_id_or_code_and_read_answers_wherever_they_sit() {
        let questions = [
            Question {
                id: "q-diet".into(),
                code: Some("DIET".into()),
                text: "Dietary needs?".into(),
            },
            Question {
                id: "q-topics".into(),
                code: None,
                text: "Topics of interest".into(),
            },
        ];
        // (label's question, resolved id)
        let cases = [
            ("q-diet", Some("q-diet")),
            ("diet", Some("q-diet")),
            ("q-topics", Some("q-topics")),
            ("q-missing", None),
        ];
        for (question, id) in cases {
            let resolved = resolve(&label(question, "x"), &questions);
            assert_eq!(resolved.as_ref().map(|r| r.question_id.as_str()), id);
        }
        let resolved = resolve(&label("DIET", "diet"), &questions).expect("by code");
        assert_eq!(resolved.target, "custom.diet");
        assert_eq!(resolved.question_text, "Dietary needs?");

        let record = json!({"answers": [
            {"question": {"id": "q-topics"}, "value": ["AI", " ", "Data"]},
            {"question": {"id": "q-diet"}, "value": ["Vegan"]},
            {"question": {"id": "q-count"}, "value": 3},
        ]});
        // (question id, answer)
        let answers = [
            ("q-diet", Some("Vegan")),
            ("q-topics", Some("AI, Data")),
            ("q-count", Some("3")),
            ("q-other", None),
        ];
        for (id, answer) in answers {
            assert_eq!(read_answer(&record, &PATHS, id).as_deref(), answer, "{id}");
        }
        assert_eq!(read_answer(&json!({}), &PATHS, "q-diet"), None);
    }

    #[test]
    fn bad_labels_say_what_to_fix() {
        let cases = [
            (vec![label("q", "Diet")], "a-z, 0-9 and _"),
            (vec![label(" ", "diet")], "give the question's id or code"),
            (vec![label("a", "diet"), label("b", "diet")], "rename one"),
        ];
        for (labels, words) in cases {
            let error = validate(&labels).expect_err(words);
            assert!(error.to_string().contains(words), "{error}");
        }
        assert_eq!(
            validate(&[label("q", "diet"), label("r", "topics")]),
            Ok(())
        );
    }
}
