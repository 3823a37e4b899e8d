//! The flattener and the sensitive-member cut on any bytes. Where the text is JSON, the cut is
//! held to a tree-based reference: the same value with the named members removed everywhere.
#![no_main]

use serde_json::Value;

fn leave_out(key: &str) -> bool {
    key == "ssn" || key.eq_ignore_ascii_case("password") || key.is_empty()
}

fn without_members(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .filter(|(key, _)| !leave_out(key))
                .map(|(key, value)| (key, without_members(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_members).collect()),
        other => other,
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let flat = pipeline::flatten_json(text, &leave_out);
    let cut = pipeline::cut_members(text, &leave_out);
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    assert!(flat.is_ok(), "JSON serde_json reads is flattened");
    let cut = cut.expect("JSON serde_json reads is cut");
    let cut: Value = serde_json::from_str(&cut).expect("the cut text is JSON");
    assert_eq!(cut, without_members(value));
});
