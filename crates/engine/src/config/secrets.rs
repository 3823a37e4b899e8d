//! Secrets stored encrypted in `eventsync.toml`: `client_secret = "enc:v1:<base64>"`.
//!
//! A secret set over the API (`config::edit`) is never written in plain text: it is sealed with
//! XChaCha20-Poly1305 under the key in `EVENTSYNC_SECRET_KEY` (32 bytes, base64) or in the file
//! `EVENTSYNC_SECRET_KEY_FILE` names, and the loader opens it. The stored text is `enc:v1:`
//! followed by the base64 of a random 24-byte nonce and the ciphertext with its 16-byte tag; a
//! value is not tied to its place in the file, so renaming a connection keeps its secrets.
//! `rotate` seals every stored secret again under a new key.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use super::ConfigError;

/// What an encrypted value starts with.
pub const PREFIX: &str = "enc:v1:";

/// The environment variable holding the key, base64.
pub const KEY_VARIABLE: &str = "EVENTSYNC_SECRET_KEY";

/// The environment variable naming a file that holds the key, base64.
pub const KEY_FILE_VARIABLE: &str = "EVENTSYNC_SECRET_KEY_FILE";

const NONCE_LENGTH: usize = 24;

/// The key secrets are sealed with. Never printed.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// A new random key.
    pub fn generate() -> SecretKey {
        SecretKey(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    /// The key as it is kept: base64 of its 32 bytes.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Reads a key written as base64 (surrounding white space is ignored); `source` says where
    /// it came from, for the error.
    pub fn from_base64(text: &str, source: &str) -> Result<SecretKey, ConfigError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| {
            ConfigError(format!(
                "{source} is not base64: the secret key is 32 random bytes in base64, such as the output of `openssl rand -base64 32`"
            ))
        })?;
        let key: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
            ConfigError(format!(
                "{source} holds {} bytes; the secret key is 32 bytes in base64 (`openssl rand -base64 32`)",
                bytes.len()
            ))
        })?;
        Ok(SecretKey(key))
    }

    /// Reads a key file.
    pub fn from_file(path: &Path) -> Result<SecretKey, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!(
                "cannot read the secret key file {}: {e}",
                path.display()
            ))
        })?;
        SecretKey::from_base64(&text, &format!("the secret key file {}", path.display()))
    }

    /// The key the environment names: `EVENTSYNC_SECRET_KEY`, else the file in
    /// `EVENTSYNC_SECRET_KEY_FILE`; `None` when neither is set.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<SecretKey>, ConfigError> {
        if let Some(text) = env(KEY_VARIABLE).filter(|t| !t.trim().is_empty()) {
            return SecretKey::from_base64(&text, KEY_VARIABLE).map(Some);
        }
        match env(KEY_FILE_VARIABLE).filter(|t| !t.trim().is_empty()) {
            Some(path) => SecretKey::from_file(Path::new(path.trim())).map(Some),
            None => Ok(None),
        }
    }

    /// `enc:v1:<base64>` for `plaintext`, with a fresh random nonce.
    pub fn seal(&self, plaintext: &str) -> String {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce fails only past 256 GiB of plaintext.
        let sealed = cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(bytes))
    }

    /// The plaintext of an `enc:v1:` value; `None` when the value was not sealed with this key
    /// (or is damaged).
    pub fn open(&self, value: &str) -> Option<String> {
        let bytes = STANDARD.decode(value.strip_prefix(PREFIX)?.trim()).ok()?;
        if bytes.len() < NONCE_LENGTH {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LENGTH);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let nonce: [u8; NONCE_LENGTH] = nonce.try_into().ok()?;
        let plain = cipher.decrypt(&XNonce::from(nonce), sealed).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// Whether a stored value is an encrypted secret.
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// The plaintext of the sealed value of the setting `what`, with the key from `env`; an error
/// that names the setting when there is no key or it is not the one the value was sealed with.
pub(crate) fn open(
    value: &str,
    what: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let key = SecretKey::from_env(env)
        .map_err(|e| ConfigError(format!("{what} is encrypted ({PREFIX}…), and {e}")))?
        .ok_or_else(|| {
            ConfigError(format!(
                "{what} is encrypted ({PREFIX}…) but no secret key is configured: set {KEY_VARIABLE} (base64) or {KEY_FILE_VARIABLE} to the key it was encrypted with"
            ))
        })?;
    key.open(value).ok_or_else(|| {
        ConfigError(format!(
            "{what} cannot be decrypted with the configured secret key ({KEY_VARIABLE} or {KEY_FILE_VARIABLE}): it was encrypted with another key, or the value is damaged; set the key it was encrypted with, or set the secret again"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_only() {
        let key = SecretKey::generate();
        let sealed = key.seal("s3cret");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("s3cret"));
        assert_ne!(sealed, key.seal("s3cret"), "a fresh nonce every time");
        assert_eq!(key.open(&sealed).as_deref(), Some("s3cret"));
        assert_eq!(SecretKey::generate().open(&sealed), None);
        let mut damaged = sealed.clone();
        damaged.pop();
        damaged.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(key.open(&damaged), None);
        assert_eq!(key.open("enc:v1:AAAA"), None);
    }

    #[test]
    fn keys_come_from_the_environment_or_a_file() {
        let key = SecretKey::generate();
        let text = key.to_base64();
        let from_variable =
            SecretKey::from_env(&|name| (name == KEY_VARIABLE).then(|| text.clone()))
                .expect("valid")
                .expect("set");
        assert_eq!(from_variable.0, key.0);
        let file = std::env::temp_dir().join(format!("eventsync-key-{}", std::process::id()));
        std::fs::write(&file, format!("{text}\n")).expect("write");
        let path = file.display().to_string();
        let from_file =
            SecretKey::from_env(&|name| (name == KEY_FILE_VARIABLE).then(|| path.clone()))
                .expect("valid")
                .expect("set");
        assert_eq!(from_file.0, key.0);
        std::fs::remove_file(&file).ok();
        assert!(SecretKey::from_env(&|_| None).expect("fine").is_none());
        let short = SecretKey::from_env(&|name| (name == KEY_VARIABLE).then(|| "c2hvcnQ=".into()))
            .expect_err("too short");
        assert!(short.0.contains("holds 5 bytes"), "{short}");
    }

    #[test]
    fn opening_names_the_setting_and_what_to_do() {
        let key = SecretKey::generate();
        let sealed = key.seal("pa55");
        let none =
            open(&sealed, "connection 'cvent': client_secret", &|_| None).expect_err("no key");
        assert!(
            none.0.contains("connection 'cvent': client_secret"),
            "{none}"
        );
        assert!(none.0.contains(KEY_VARIABLE), "{none}");
        let other = SecretKey::generate().to_base64();
        let wrong = open(&sealed, "smtp: password", &|name| {
            (name == KEY_VARIABLE).then(|| other.clone())
        })
        .expect_err("wrong key");
        assert!(
            wrong.0.contains("smtp: password") && wrong.0.contains("another key"),
            "{wrong}"
        );
        let right = key.to_base64();
        let opened = open(&sealed, "x", &|name| {
            (name == KEY_VARIABLE).then(|| right.clone())
        });
        assert_eq!(opened.expect("opens"), "pa55");
    }
}
