//! The configuration file's parser on any text. Environment variables are a fixed table and
//! files are never read: a text naming a secret file (`…_file`) is passed over.
#![no_main]

use std::path::Path;

fn names_a_file(value: &toml::Value) -> bool {
    match value {
        toml::Value::Table(table) => table
            .iter()
            .any(|(key, value)| key.ends_with("_file") || names_a_file(value)),
        toml::Value::Array(items) => items.iter().any(names_a_file),
        _ => false,
    }
}

fn env(name: &str) -> Option<String> {
    match name {
        "SECRET" | "PASSWORD" => Some("s3cret".into()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return;
    };
    if names_a_file(&toml::Value::Table(table)) {
        return;
    }
    let path = Path::new("/nonexistent/eventsync-fuzz/eventsync.toml");
    let _ = engine::Config::parse(text, path, &env);
});
