//! ASI iMIS's REST API (iMIS 2017, EMS and Cloud), which eventsync writes to: the parties it
//! matches registrants with, the activities it records their attendance as, the event and its
//! functions, and the saved queries that say who is eligible.
//!
//! - Site: a URL that may include a virtual directory (`https://host/imis`); every path is
//!   joined beneath it, the token at `{site}/token` and the rest at `{site}/api/…`.
//! - Auth: the OAuth password grant (`grant_type=password`, user name and password as a form)
//!   gives a bearer token, cached and renewed a minute before it expires (half way through a
//!   life shorter than two minutes) and once on a 401. A refused sign-in carries iMIS's
//!   `error_description`; the password is never logged nor put in a message.
//! - Envelope: .NET's `$type` on every object, `$values` collections, `$value` scalars
//!   (`envelope`): read leniently, written with a `$type` on every object.
//! - Paging: `PagedResult` with `limit` (at most 500) and `offset`, followed until `HasNext`
//!   is false, `NextOffset` is 0 or a page is empty; a page pointing back is an error
//!   (`paging`).
//! - Errors: the messages of an `Errors` collection, verbatim and joined with "; ", or the
//!   trimmed start of a plain-text or HTML body; 404 is `NotFound`, 403 `Forbidden`, other
//!   4xx `Rejected`.
//! - Rate limits: none documented. 429 (with `Retry-After` honoured), 5xx and timeouts are
//!   retried with the shared backoff; a `POST` only when iMIS surely did not act on it.

mod activities;
mod client;
mod envelope;
mod events;
mod paging;
mod parties;
mod queries;

use std::sync::Arc;

use reqwest::Url;

pub use activities::{Activity, NewActivity};
pub use events::{EventSaved, ImisEvent, ImisFunction, same_date, same_text};
pub use paging::MAX_PAGE_SIZE;
pub use parties::Party;
pub use queries::{QueryRow, QueryService, SavedQuery};

use crate::{ConnectorError, RetryPolicy, WaitObserver};
use client::Client;

pub const KIND: &str = "imis";

/// How to reach an iMIS site and sign in.
#[derive(Clone)]
pub struct ImisConfig {
    /// The connection's name, as messages name it.
    pub connection: String,
    /// The iMIS site, with its virtual directory if it has one: `https://example.org/imis`.
    pub site_url: String,
    pub username: String,
    pub password: String,
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for ImisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImisConfig")
            .field("connection", &self.connection)
            .field("site_url", &self.site_url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("retry", &self.retry)
            .finish()
    }
}

/// A client of one iMIS site. Clones share the token and the retry state, so one may be handed
/// to every task that writes to the site.
#[derive(Debug, Clone)]
pub struct Imis {
    client: Arc<Client>,
    page_size: u32,
}

/// The site URL checked and made ready for joining: http or https, a host, no query or
/// fragment, and a path ending in `/`.
fn site_url(config: &ImisConfig) -> Result<Url, ConnectorError> {
    let connection = &config.connection;
    let text = config.site_url.trim();
    let bad = |why: &str| {
        ConnectorError::Config(format!(
            "site_url '{text}' of connection '{connection}' {why}: give the iMIS site's address, such as https://example.org/imis"
        ))
    };
    let mut url = Url::parse(text).map_err(|error| bad(&format!("is no URL ({error})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("is not an http or https address"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("names no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("has a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl Imis {
    pub fn new(config: ImisConfig) -> Result<Imis, ConnectorError> {
        let site = site_url(&config)?;
        if config.username.trim().is_empty() {
            return Err(ConnectorError::Config(format!(
                "connection '{}' has no iMIS user name",
                config.connection
            )));
        }
        let client = Client::new(
            site,
            config.connection,
            config.username,
            config.password,
            config.retry,
        );
        Ok(Imis {
            client: Arc::new(client),
            page_size: MAX_PAGE_SIZE,
        })
    }

    /// The same client asking for `page_size` items a page (1 to 500).
    pub fn with_page_size(mut self, page_size: u32) -> Imis {
        self.page_size = page_size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    pub fn connection(&self) -> &str {
        self.client.connection()
    }

    /// Tells `observer` of every wait between attempts.
    pub fn observe_waits(&self, observer: Option<WaitObserver>) {
        self.client.observe_waits(observer);
    }

    /// Token requests sent so far by this client and its clones.
    pub fn token_requests(&self) -> u64 {
        self.client.token_requests()
    }

    /// `/api` requests sent so far by this client and its clones, retries included.
    pub fn calls(&self) -> u64 {
        self.client.calls()
    }

    /// Signs in afresh, checking the user name and password.
    pub async fn sign_in(&self) -> Result<(), ConnectorError> {
        self.client.sign_in().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(site_url: &str) -> ImisConfig {
        ImisConfig {
            connection: "imis".into(),
            site_url: site_url.into(),
            username: "manager".into(),
            password: "secret-password".into(),
            retry: RetryPolicy::default(),
        }
    }

    #[test]
    fn paths_are_joined_beneath_a_virtual_directory() {
        for site in ["http://127.0.0.1:9/imis", "http://127.0.0.1:9/imis/"] {
            let imis = Imis::new(config(site)).expect("a good site");
            assert_eq!(
                imis.client.url(&["token"]).as_str(),
                "http://127.0.0.1:9/imis/token"
            );
            assert_eq!(
                imis.client.url(&["api", "Party", "23051"]).as_str(),
                "http://127.0.0.1:9/imis/api/Party/23051"
            );
        }
        let root = Imis::new(config("https://example.org")).expect("a good site");
        assert_eq!(
            root.client.url(&["api", "Event", "A/B C"]).as_str(),
            "https://example.org/api/Event/A%2FB%20C"
        );
    }

    #[test]
    fn bad_sites_are_configuration_errors() {
        for site in [
            "",
            "example.org/imis",
            "ftp://example.org",
            "http://example.org/imis?x=1",
            "http://",
        ] {
            let error = Imis::new(config(site)).expect_err(site);
            let ConnectorError::Config(message) = error else {
                panic!("{site}: {error:?}");
            };
            assert!(message.contains("site_url"), "{message}");
        }
        let mut nameless = config("https://example.org");
        nameless.username = " ".into();
        assert!(matches!(
            Imis::new(nameless),
            Err(ConnectorError::Config(_))
        ));
    }

    #[test]
    fn a_client_can_be_shared_across_tasks() {
        fn shareable<T: Clone + Send + Sync + 'static>(_: &T) {}
        fn spawnable<F: std::future::Future + Send>(_: F) {}
        let imis = Imis::new(config("https://example.org")).expect("a good site");
        shareable(&imis);
        spawnable(imis.party("1"));
        spawnable(imis.find_activities(&[("UF_1", "key")]));
        let event = ImisEvent {
            id: "E".into(),
            name: "E".into(),
            description: None,
            start: None,
            end: None,
            functions: Vec::new(),
        };
        spawnable(imis.save_event(&event));
        let query = SavedQuery {
            name: "$/Q".into(),
            service: QueryService::Query,
        };
        spawnable(imis.run_query(&query, "1"));
    }

    #[test]
    fn the_password_is_never_shown() {
        let config = config("https://example.org");
        let imis = Imis::new(config.clone()).expect("a good site");
        assert!(!format!("{config:?}").contains("secret-password"));
        assert!(!format!("{imis:?}").contains("secret-password"));
    }
}
