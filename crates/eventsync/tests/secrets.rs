//! `eventsync secrets rotate` and `eventsync config schema` as a user runs them: stored secrets
//! move to a new key, a missing key is named with exit code 2, and the schema is printed whole.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use engine::config::edit;
use engine::config::secrets::{KEY_FILE_VARIABLE, KEY_VARIABLE, SecretKey};
use serde_json::{Value, json};

fn folder(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eventsync-secrets-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("folder");
    dir
}

fn eventsync(config: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eventsync"));
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove(KEY_VARIABLE)
        .env_remove(KEY_FILE_VARIABLE)
        .env_remove("EVENTSYNC_CONFIG");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run eventsync")
}

#[test]
fn rotation_moves_every_stored_secret_to_the_new_key() {
    let dir = folder("rotate");
    let config = dir.join("eventsync.toml");
    std::fs::write(&config, "# the association's configuration\n").expect("write");
    let old = SecretKey::generate();
    let old_text = old.to_base64();
    let with_old = |name: &str| (name == KEY_VARIABLE).then(|| old_text.clone());
    let settings = json!({
        "name": "soap",
        "kind": "cvent-soap",
        "host": "sandbox",
        "account_number": "ACME01",
        "user_name": "api",
        "password": "pa55word",
        "event_code": "CONF27",
    });
    let Value::Object(settings) = settings else {
        unreachable!()
    };
    edit::add_connection(&config, &settings, &with_old).expect("added");
    let before = std::fs::read_to_string(&config).expect("read");
    assert!(before.contains("enc:v1:") && !before.contains("pa55word"));

    // Without the current key nothing changes, and the setting is named.
    let key_file = dir.join("new.key");
    let refused = eventsync(
        &config,
        &[
            "secrets",
            "rotate",
            "--new-key-file",
            key_file.to_str().expect("path"),
        ],
        &[],
    );
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("password") && stderr.contains(KEY_VARIABLE),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&config).expect("read"), before);
    let _ = std::fs::remove_file(&key_file);

    let rotated = eventsync(
        &config,
        &[
            "secrets",
            "rotate",
            "--new-key-file",
            key_file.to_str().expect("path"),
        ],
        &[(KEY_VARIABLE, old.to_base64())],
    );
    assert!(rotated.status.success(), "{rotated:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key file is its owner's only");
    }
    let after = std::fs::read_to_string(&config).expect("read");
    assert_ne!(after, before);
    assert!(
        after.contains("# the association's configuration"),
        "{after}"
    );
    let new = SecretKey::from_file(&key_file).expect("the new key");
    let loaded = engine::Config::load_with(&config, &|name| {
        (name == KEY_VARIABLE).then(|| new.to_base64())
    })
    .expect("opens with the new key");
    let engine::config::VendorSettings::CventSoap(soap) =
        &loaded.connection("soap").expect("soap").vendor
    else {
        panic!("a SOAP connection");
    };
    assert_eq!(soap.password.expose(), "pa55word");

    // The old key opens nothing now: every command says so, naming the setting.
    let status = eventsync(&config, &["status"], &[(KEY_VARIABLE, old.to_base64())]);
    assert_eq!(status.status.code(), Some(2), "{status:?}");
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(stderr.contains("connection 'soap': password"), "{stderr}");
    let by_file = eventsync(
        &config,
        &["runs", "--json"],
        &[(KEY_FILE_VARIABLE, key_file.display().to_string())],
    );
    assert!(by_file.status.success(), "{by_file:?}");
}

#[test]
fn config_schema_prints_the_schema_and_lists_the_settings() {
    let dir = folder("schema");
    let config = dir.join("eventsync.toml");
    let schema = eventsync(&config, &["config", "schema"], &[]);
    assert!(schema.status.success(), "{schema:?}");
    let document: Value = serde_json::from_slice(&schema.stdout).expect("JSON");
    assert_eq!(document, engine::config::schema::document());
    let listed = eventsync(&config, &["config", "schema", "--list"], &[]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("connections[kind=aventri].utc_offset\n    default: +00:00"),
        "{text}"
    );
    assert!(
        text.contains("database\n    default: eventsync.sqlite"),
        "{text}"
    );
}
