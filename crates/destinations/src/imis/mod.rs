//! An association's iMIS as a destination: a person registered in the workspace (status
//! `active`) has exactly one activity on their iMIS party; cancelled or removed, none.
//!
//! - **Which changes.** People of the source connections whose `[connections.imis]` names this
//!   site: created, cancelled and removed ones, and updates of their status, email or iMIS id.
//!   Each becomes one `deliver` outbox item for the person; an item still waiting covers later
//!   changes of the same person, since delivery reads the person as they are then.
//! - **Delivery** (`activities`) is a reconciliation, not a replay: under a lock per person it
//!   compares what the workspace holds with what iMIS has and does the one create or delete
//!   that closes the gap, so items delivered twice, late or out of order leave one activity.
//! - **No external ids in iMIS.** The activity carries eventsync's key for the person in a user
//!   field (`key_field`), and the workspace keeps person ↔ party ↔ `SEQN`
//!   (`destination_links`). Before any create, iMIS is searched by that key, so a lost link is
//!   found again rather than duplicated.
//! - **Matching** (`matching`): by the iMIS id a mapped field carries, else by email, in the
//!   configured order; none found and two parties sharing an email are refusals with the
//!   reason, never a guess.

mod activities;
pub mod eligibility;
mod matching;
pub mod meeting;

use connectors::imis::{Imis, ImisConfig, QueryService};
use connectors::{ConnectorError, RetryPolicy};
use engine::config::{Connection, ImisFeed, VendorSettings};
use serde_json::json;
use store::{FeedAction, FeedChange, NewOutboxItem, OutboxOperation};

pub use matching::match_party;

/// The workspace status of a registered person.
pub const REGISTERED: &str = "active";

/// One source connection feeding the site, and how.
#[derive(Debug, Clone)]
pub struct Source {
    pub connection: String,
    pub feed: ImisFeed,
    /// The activity's product code: the feed's, else the connection's event code.
    pub product_code: String,
}

/// An iMIS site and the connections that feed it.
pub struct ImisDestination {
    name: String,
    client: Imis,
    query_service: QueryService,
    sources: Vec<Source>,
}

impl ImisDestination {
    pub fn new(
        site: &Connection,
        sources: &[&Connection],
        retry: RetryPolicy,
    ) -> Result<ImisDestination, ConnectorError> {
        let VendorSettings::Imis(settings) = &site.vendor else {
            return Err(ConnectorError::Config(format!(
                "connection '{}' is not an iMIS site",
                site.name
            )));
        };
        let client = Imis::new(ImisConfig {
            connection: site.name.clone(),
            site_url: settings.site_url.clone(),
            username: settings.username.clone(),
            password: settings.password.expose().to_string(),
            retry,
        })?;
        let sources = sources
            .iter()
            .filter_map(|source| {
                let feed = source.imis.clone()?;
                let product_code = feed
                    .product_code
                    .clone()
                    .or_else(|| engine::event_code(source).map(str::to_string))
                    .unwrap_or_default();
                Some(Source {
                    connection: source.name.clone(),
                    feed,
                    product_code,
                })
            })
            .collect();
        Ok(ImisDestination {
            name: site.name.clone(),
            client,
            query_service: settings.query_service,
            sources,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn client(&self) -> &Imis {
        &self.client
    }

    pub fn query_service(&self) -> QueryService {
        self.query_service
    }

    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    pub fn source(&self, connection: &str) -> Option<&Source> {
        self.sources
            .iter()
            .find(|source| source.connection == connection)
    }

    /// One `deliver` item per change that may change whether a person should have an
    /// activity, or which party it belongs on.
    pub fn items_for(&self, changes: &[FeedChange]) -> Vec<NewOutboxItem> {
        changes
            .iter()
            .filter(|change| change.data_type == pipeline::DataType::People.as_str())
            .filter_map(|change| {
                let source = self.source(&change.connection)?;
                concerns(change, &source.feed).then(|| NewOutboxItem {
                    connection: self.name.clone(),
                    operation: OutboxOperation::Deliver,
                    session_id: None,
                    attendee_id: change.external_id.clone(),
                    payload: json!({"source": change.connection}),
                    local: false,
                })
            })
            .collect()
    }
}

/// Whether a change of a person can matter to their activity.
fn concerns(change: &FeedChange, feed: &ImisFeed) -> bool {
    match change.action {
        FeedAction::Create | FeedAction::Cancel | FeedAction::Remove => true,
        FeedAction::Update => engine::changes::changed_fields(change).iter().any(|field| {
            field == "status" || field == "email" || Some(field) == feed.id_field.as_ref()
        }),
    }
}

/// eventsync's key for a person, written into the activity's user field: unique per source
/// connection and person, and short enough for a 255-character field.
pub fn person_key(connection: &str, external_id: &str) -> String {
    format!("eventsync:{connection}:{external_id}")
}
