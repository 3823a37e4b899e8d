//! Edits of a real file: comments stay, refused edits change nothing, secrets are stored
//! encrypted and open again on load, and rotation moves them to a new key.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json, json};

use super::*;
use crate::config::VendorSettings;
use crate::config::secrets::{KEY_VARIABLE, SecretKey};

const FILE: &str = r#"# eventsync.toml for the spring conference
database = "workspace.sqlite"   # beside this file

[[connections]]
name = "cvent"                  # used in commands
kind = "cvent-rest"
region = "na"                   # or "eu"
event_code = "SPRING27"         # the event's code
client_id = "client"
client_secret = "${CVENT_SECRET}"

# Attendees only, no guests' companions.
[connections.data.people]
statuses = ["Accepted"]         # the default
"#;

/// A folder of its own holding `eventsync.toml` with `text`.
fn file(test: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "eventsync-edit-{test}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join("eventsync.toml");
    std::fs::write(&path, text).expect("write");
    path
}

fn with_key(key: &SecretKey) -> impl Fn(&str) -> Option<String> + use<> {
    let text = key.to_base64();
    move |name: &str| match name {
        KEY_VARIABLE => Some(text.clone()),
        "CVENT_SECRET" => Some("from-env".to_string()),
        _ => None,
    }
}

fn no_key(name: &str) -> Option<String> {
    (name == "CVENT_SECRET").then(|| "from-env".to_string())
}

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// Files in the folder other than eventsync.toml: leftovers of a temporary file.
fn leftovers(path: &Path) -> Vec<String> {
    std::fs::read_dir(path.parent().expect("folder"))
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|name| name != "eventsync.toml")
        .collect()
}

fn soap(name: &str, password: &str) -> Map<String, Json> {
    object(json!({
        "name": name,
        "kind": "cvent-soap",
        "host": "sandbox",
        "account_number": "ACME01",
        "user_name": "api",
        "password": password,
        "event_code": "CONF27",
        "data_types": ["people", "sessions"],
    }))
}

#[test]
fn edits_keep_the_files_comments_and_other_settings() {
    let path = file("comments", FILE);
    let key = SecretKey::generate();
    let env = with_key(&key);
    add_connection(&path, &soap("soap", "${CVENT_SECRET}"), &env).expect("added");
    let mut cvent = object(json!({
        "kind": "cvent-rest",
        "region": "na",
        "event_code": "AUTUMN27",
        "client_id": "client",
    }));
    replace_connection(&path, "cvent", &cvent, &env).expect("replaced");
    set_data(
        &path,
        "cvent",
        "people",
        &object(json!({
            "statuses": ["Accepted", "Visited"],
            "filters": [{ "field": "email", "is_empty": true, "not": true }],
            "remove_outdated": true,
        })),
        &env,
    )
    .expect("data set");
    let text = std::fs::read_to_string(&path).expect("read");
    for comment in [
        "# eventsync.toml for the spring conference",
        "# beside this file",
        "# used in commands",
        "# or \"eu\"",
        "# the event's code",
        "# Attendees only, no guests' companions.",
    ] {
        assert!(text.contains(comment), "{comment} stays:\n{text}");
    }
    assert!(text.contains("event_code = \"AUTUMN27\""), "{text}");
    assert!(
        text.contains("client_secret = \"${CVENT_SECRET}\""),
        "a secret not given is kept:\n{text}"
    );
    let config = Config::load_with(&path, &env).expect("loads");
    let people = &config.connection("cvent").expect("cvent").data[&pipeline::DataType::People];
    assert_eq!(people.statuses.as_list(), ["Accepted", "Visited"]);
    assert!(people.remove_outdated && people.filters.len() == 1);
    assert!(config.connection("soap").is_ok());
    assert!(
        text.contains("[[connections]]\nname = \"soap\"\nkind = \"cvent-soap\"\n"),
        "an added connection starts with its name and kind:\n{text}"
    );
    assert!(leftovers(&path).is_empty(), "{:?}", leftovers(&path));
    cvent.insert("name".into(), json!("renamed"));
    let error = replace_connection(&path, "cvent", &cvent, &env).expect_err("no rename");
    assert!(matches!(error, EditError::Invalid(_)), "{error}");
}

#[test]
fn an_edit_the_loader_refuses_leaves_the_file_as_it_was() {
    let path = file("refused", FILE);
    let env = with_key(&SecretKey::generate());
    let before = std::fs::read(&path).expect("read");
    let cases: [(Result<Config, EditError>, &str); 5] = [
        (
            set_data(
                &path,
                "cvent",
                "people",
                &object(json!({ "statuses": ["Registered"] })),
                &env,
            ),
            "statuses of people",
        ),
        (
            replace_connection(
                &path,
                "cvent",
                &object(
                    json!({ "kind": "cvent-rest", "region": "asia", "event_code": "E", "client_id": "c" }),
                ),
                &env,
            ),
            "use na or eu",
        ),
        (
            add_connection(&path, &soap("cvent", "${CVENT_SECRET}"), &env),
            "exists already",
        ),
        (
            add_connection(
                &path,
                &object(json!({ "name": "x", "kind": "cvent-soap", "hots": "sandbox" })),
                &env,
            ),
            "unknown field `hots`",
        ),
        (
            remove_connection(&path, "nowhere", &env),
            "no connection named 'nowhere'",
        ),
    ];
    for (outcome, words) in cases {
        let error = outcome.expect_err(words);
        assert!(
            error.to_string().contains(words),
            "{error} should say {words}"
        );
        assert!(
            !error.to_string().contains(".edit"),
            "the error names the real file: {error}"
        );
        assert_eq!(
            std::fs::read(&path).expect("read"),
            before,
            "{words}: unchanged"
        );
        assert!(leftovers(&path).is_empty(), "{:?}", leftovers(&path));
    }
    // An iMIS site a connection feeds cannot be removed from under it.
    let site = object(json!({
        "name": "association",
        "kind": "imis",
        "site_url": "https://members.example.org/imis",
        "username": "eventsync",
        "password": "${CVENT_SECRET}",
    }));
    add_connection(&path, &site, &env).expect("site added");
    let mut feeding = soap("soap", "${CVENT_SECRET}");
    feeding.insert("imis".into(), json!({ "destination": "association" }));
    add_connection(&path, &feeding, &env).expect("feed added");
    let before = std::fs::read(&path).expect("read");
    let error = remove_connection(&path, "association", &env).expect_err("fed");
    assert!(
        error
            .to_string()
            .contains("no connection is named 'association'"),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);
    let config = remove_connection(&path, "soap", &env).expect("removed");
    assert!(config.connection("soap").is_err());
}

#[test]
fn secrets_are_stored_encrypted_and_open_on_load() {
    let path = file("secrets", FILE);
    let key = SecretKey::generate();
    let env = with_key(&key);
    let before = std::fs::read(&path).expect("read");
    let error = add_connection(&path, &soap("soap", "pa55word"), &no_key).expect_err("no key");
    assert!(matches!(error, EditError::NoKey(_)), "{error}");
    assert!(
        error.to_string().contains("EVENTSYNC_SECRET_KEY"),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);

    let config = add_connection(&path, &soap("soap", "pa55word"), &env).expect("added");
    let VendorSettings::CventSoap(settings) = &config.connection("soap").expect("soap").vendor
    else {
        panic!("a SOAP connection");
    };
    assert_eq!(settings.password.expose(), "pa55word");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(!text.contains("pa55word"), "never in plain text:\n{text}");
    assert!(text.contains("password = \"enc:v1:"), "{text}");
    let loaded = Config::load_with(&path, &env).expect("opens with the key");
    let VendorSettings::CventSoap(settings) = &loaded.connection("soap").expect("soap").vendor
    else {
        panic!("a SOAP connection");
    };
    assert_eq!(settings.password.expose(), "pa55word");
    let without = Config::load_with(&path, &no_key).expect_err("no key");
    assert!(
        without.0.contains("connection 'soap': password") && without.0.contains(KEY_VARIABLE),
        "{without}"
    );
    let wrong = Config::load_with(&path, &with_key(&SecretKey::generate())).expect_err("wrong");
    assert!(
        wrong.0.contains("connection 'soap': password") && wrong.0.contains("another key"),
        "{wrong}"
    );

    let view = connection_view(&path, "soap").expect("view");
    assert_eq!(view["password"], json!({ "set": true }));
    assert_eq!(view["event_code"], "CONF27");
    assert!(!view.to_string().contains("enc:v1:"), "{view}");
    let cvent = connection_view(&path, "cvent").expect("view");
    assert_eq!(cvent["client_secret"], json!({ "set": true }));
    assert_eq!(
        data_view(&path, "cvent", "people").expect("data")["statuses"],
        json!(["Accepted"])
    );
    assert_eq!(
        data_view(&path, "cvent", "sessions").expect("data"),
        json!({})
    );

    // Given by file instead, the inline secret goes.
    let mut by_file = soap("soap", "x");
    by_file.remove("password");
    by_file.insert("password_file".into(), json!("soap-password"));
    std::fs::write(path.with_file_name("soap-password"), "from-file\n").expect("write");
    replace_connection(&path, "soap", &by_file, &env).expect("by file");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(!text.contains("enc:v1:"), "{text}");
    let view = connection_view(&path, "soap").expect("view");
    assert_eq!(view["password_file"], json!({ "set": true }));
    assert!(view.get("password").is_none(), "{view}");
}

#[test]
fn rotation_seals_every_secret_under_the_new_key() {
    let path = file("rotate", FILE);
    let old = SecretKey::generate();
    let env = with_key(&old);
    add_connection(&path, &soap("soap", "pa55word"), &env).expect("added");
    let mut site = object(json!({
        "name": "association",
        "kind": "imis",
        "site_url": "https://members.example.org/imis",
        "username": "eventsync",
        "password": "imis-pa55",
        "link_secret": "0123456789abcdef0123",
    }));
    add_connection(&path, &site, &env).expect("site");
    let before = std::fs::read_to_string(&path).expect("read");
    assert_eq!(before.matches("enc:v1:").count(), 3, "{before}");

    let new = SecretKey::generate();
    let error = rotate(&path, &new, &no_key).expect_err("the old key is needed");
    assert!(error.to_string().contains("no secret key"), "{error}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), before);

    let (count, config) = rotate(&path, &new, &env).expect("rotated");
    assert_eq!(count, 3);
    assert!(config.connection("association").is_ok());
    let after = std::fs::read_to_string(&path).expect("read");
    assert_ne!(after, before);
    assert_eq!(after.matches("enc:v1:").count(), 3);
    assert!(after.contains("# the event's code"), "comments stay");
    let loaded = Config::load_with(&path, &with_key(&new)).expect("opens with the new key");
    let VendorSettings::Imis(imis) = &loaded.connection("association").expect("site").vendor else {
        panic!("an iMIS site");
    };
    assert_eq!(imis.password.expose(), "imis-pa55");
    assert_eq!(
        imis.link_secret.as_ref().map(|s| s.expose()),
        Some("0123456789abcdef0123")
    );
    assert!(
        Config::load_with(&path, &env).is_err(),
        "the old key opens nothing"
    );
    // A secret left out of a replacement stays sealed as it was.
    site.remove("password");
    site.remove("link_secret");
    site.insert("query_service".into(), json!("iqa"));
    replace_connection(&path, "association", &site, &with_key(&new)).expect("replaced");
    assert_eq!(
        std::fs::read_to_string(&path)
            .expect("read")
            .matches("enc:v1:")
            .count(),
        3
    );
}
