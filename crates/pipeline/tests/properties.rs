//! Properties of the readers of vendor JSON text: the flattener and the sensitive-member cut
//! never panic on any text, the flattener keeps every leaf of any JSON value, and the cut leaves
//! valid JSON with no cut member in it.

use pipeline::{Scalar, cut_members, flatten, flatten_json};
use proptest::prelude::*;
use serde_json::Value;

/// Members the cut leaves out in these properties.
fn sensitive(key: &str) -> bool {
    key == "ssn" || key == "password"
}

/// Text made mostly of JSON's punctuation, so that arbitrary input reaches deep into the readers.
fn json_like_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\[\\]{}:,\"\\\\ 0-9a-z.eE+\\-\u{e9}\u{ff10}]{0,64}",
    ]
}

/// Object keys: sometimes a sensitive one, never with a dot (a dotted key shares its path with
/// nesting, as the flattener's rules say).
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("ssn".to_string()),
        1 => Just("password".to_string()),
        6 => "[^.]{0,8}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Every scalar of `value` under its dotted path (`None` at the root), in order; empty lists
/// and objects have none.
fn leaves(value: &Value, path: Option<&str>, out: &mut Vec<(String, Value)>) {
    let join = |segment: &str| match path {
        None => segment.to_string(),
        Some(path) => format!("{path}.{segment}"),
    };
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                leaves(member, Some(&join(key)), out);
            }
        }
        Value::Array(items) => {
            for (position, item) in items.iter().enumerate() {
                leaves(item, Some(&join(&position.to_string())), out);
            }
        }
        scalar => out.push((path.unwrap_or_default().to_string(), scalar.clone())),
    }
}

fn as_value(scalar: Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Bool(value) => Value::Bool(value),
        Scalar::Number(number) => Value::Number(number.clone()),
        Scalar::Text(text) => Value::String(text.to_string()),
    }
}

fn has_member(value: &Value, leave_out: &dyn Fn(&str) -> bool) -> bool {
    match value {
        Value::Object(members) => members
            .iter()
            .any(|(key, member)| leave_out(key) || has_member(member, leave_out)),
        Value::Array(items) => items.iter().any(|item| has_member(item, leave_out)),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_read_without_a_panic(text in json_like_text()) {
        let flat = flatten_json(&text, &sensitive);
        let cut = cut_members(&text, &sensitive);
        if serde_json::from_str::<Value>(&text).is_ok() {
            prop_assert!(flat.is_ok(), "JSON serde_json reads is flattened");
            prop_assert!(cut.is_some(), "JSON serde_json reads is cut");
        }
    }

    #[test]
    fn flattening_keeps_every_leaf(value in json_value()) {
        let text = value.to_string();
        // Numbers as the parser reads them back, which is what a record's text gives.
        let value: Value = serde_json::from_str(&text).expect("JSON");
        let mut expected = Vec::new();
        leaves(&value, None, &mut expected);
        let flat = flatten_json(&text, &|_| false).expect("flattened");
        let found: Vec<(String, Value)> = flat
            .flat
            .iter()
            .map(|(path, scalar)| (path.to_string(), as_value(scalar)))
            .collect();
        prop_assert_eq!(&found, &expected);
        let from_tree: Vec<(String, Value)> = flatten(&value)
            .iter()
            .map(|(path, scalar)| (path.to_string(), as_value(scalar)))
            .collect();
        prop_assert_eq!(from_tree, expected, "text and tree flatten alike");
    }

    #[test]
    fn the_cut_is_json_without_the_cut_members(value in json_value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).expect("JSON")
        } else {
            value.to_string()
        };
        let cut = cut_members(&text, &sensitive).expect("JSON is cut");
        let cut: Value = serde_json::from_str(&cut).expect("the cut is JSON");
        prop_assert!(!has_member(&cut, &sensitive), "{}", cut);
        let flat = flatten_json(&text, &sensitive).expect("flattened");
        let kept = flatten_json(&text, &|_| false).expect("flattened").flat.len();
        prop_assert!(flat.flat.len() <= kept);
        prop_assert_eq!(flat.left_out > 0, has_member(&value, &sensitive));
    }
}
