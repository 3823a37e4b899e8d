//! Properties of the configuration parser: any text is read or refused without a panic (with a
//! fixed environment and no file read), and any connection name and value written as TOML
//! strings reads back as written.

use std::path::Path;

use engine::Config;
use proptest::prelude::*;

/// A folder that does not exist, so a `…_file` setting can never read a file.
const PATH: &str = "/nonexistent/eventsync-properties/eventsync.toml";

fn env(name: &str) -> Option<String> {
    (name == "SECRET").then(|| "s3cret".to_string())
}

/// TOML assembled from the configuration's own words, so that arbitrary input gets past the
/// TOML syntax into the settings.
fn config_like_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("[[connections]]".to_string()),
        Just("[connections.data.people]".to_string()),
        Just("[smtp]".to_string()),
        Just("name = \"cvent\"".to_string()),
        Just("kind = \"cvent-rest\"".to_string()),
        Just("kind = \"aventri\"".to_string()),
        Just("kind = \"cvent-soap\"".to_string()),
        Just("client_secret = \"${SECRET}\"".to_string()),
        Just("mapping = [{ source = \"id\", target = \"external_id\" }]".to_string()),
        Just("statuses = [\"Accepted\"]".to_string()),
        "[a-z_]{1,16} = (\"[^\"\\\\\n]{0,16}\"|[0-9]{1,4}|true|\\[\\])",
    ];
    prop_oneof![
        any::<String>(),
        prop::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_text_is_read_or_refused_without_a_panic(text in config_like_text()) {
        let _ = Config::parse(&text, Path::new(PATH), &env);
    }

    #[test]
    fn a_connection_name_reads_back_as_written(name in "[^\u{0}]{1,24}", code in "[^$]{1,24}") {
        let quote = |text: &str| toml::Value::String(text.to_string()).to_string();
        let text = format!(
            "[[connections]]\nname = {}\nkind = \"cvent-rest\"\nregion = \"na\"\nevent_code = {}\nclient_id = \"c\"\nclient_secret = \"${{SECRET}}\"\n",
            quote(&name),
            quote(&code),
        );
        let config = Config::parse(&text, Path::new(PATH), &env)
            .map_err(|error| TestCaseError::fail(format!("{text}: {error}")))?;
        prop_assert!(config.connection(&name).is_ok(), "{}", text);
    }
}
