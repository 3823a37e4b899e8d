//! Builds a connection's connector from its settings: the one place that knows which connector
//! serves which kind.

use connectors::{AnyConnector, RetryPolicy};
use pipeline::DataType;

use crate::config::{Connection, VendorSettings};
use crate::run::EngineError;

/// The vendor account a connection uses, keyed as the connectors key its rate budget: the
/// connections of one account share its quota and per-second rate.
pub fn account_key(connection: &Connection) -> String {
    match &connection.vendor {
        VendorSettings::CventRest(settings) => {
            connectors::cvent_rest::account_key(&settings.base_url, &settings.client_id)
        }
        VendorSettings::CventSoap(settings) => {
            connectors::cvent_soap::account_key(&settings.base_url, &settings.account_number)
        }
        VendorSettings::Aventri(settings) => {
            connectors::aventri::account_key(&settings.endpoint, &settings.account_id)
        }
        VendorSettings::Imis(settings) => format!("imis:{}", settings.site_url),
    }
}

/// Builds the connector of a connection.
///
/// `facts` is what an earlier run of the connection learned about the vendor account (as
/// [`AnyConnector::facts`] gave it), or `Null`; facts of another shape are ignored.
pub fn connect(
    connection: &Connection,
    data_types: &[DataType],
    facts: serde_json::Value,
    retry: RetryPolicy,
) -> Result<AnyConnector, EngineError> {
    let connector = match &connection.vendor {
        VendorSettings::CventRest(settings) => {
            let config = connectors::cvent_rest::CventRestConfig {
                connection: connection.name.clone(),
                base_url: settings.base_url.clone(),
                event_code: settings.event_code.clone(),
                client_id: settings.client_id.clone(),
                client_secret: settings.client_secret.expose().to_string(),
                retry,
            };
            let facts = serde_json::from_value(facts).unwrap_or_default();
            connectors::cvent_rest::CventRest::new(config, data_types, facts)
                .map(AnyConnector::CventRest)
        }
        VendorSettings::CventSoap(settings) => {
            let config = connectors::cvent_soap::CventSoapConfig {
                credentials: connectors::cvent_soap::Credentials {
                    connection: connection.name.clone(),
                    login_url: settings.base_url.clone(),
                    account_number: settings.account_number.clone(),
                    user_name: settings.user_name.clone(),
                    password: settings.password.expose().to_string(),
                },
                event_code: settings.event_code.clone(),
                retry,
            };
            let facts = serde_json::from_value(facts).unwrap_or_default();
            connectors::cvent_soap::CventSoap::new(config, facts).map(AnyConnector::CventSoap)
        }
        VendorSettings::Aventri(settings) => {
            let config = connectors::aventri::AventriConfig {
                connection: connection.name.clone(),
                endpoint: settings.endpoint.clone(),
                account_id: settings.account_id.clone(),
                key: settings.key.expose().to_string(),
                event_id: settings.event_id.clone(),
                active_statuses: settings.active_statuses.clone(),
                modified_since_overlap: chrono::Duration::hours(i64::from(
                    settings.modified_since_overlap_hours,
                )),
                presenter_photo_endpoint: settings.presenter_photo_endpoint.clone(),
                person_photo_endpoint: settings.person_photo_endpoint.clone(),
                concurrent_sessions_title: settings.concurrent_sessions_title.clone(),
                sponsor_category: settings.sponsor_category.clone(),
                utc_offset: settings.utc_offset,
                page_size: connectors::aventri::PAGE_SIZE,
                retry,
            };
            connectors::aventri::Aventri::new(config).map(AnyConnector::Aventri)
        }
        VendorSettings::Imis(_) => {
            return Err(EngineError::Config(format!(
                "connection '{}' is an iMIS site: it is fed from the workspace, not synced; preview and sync the connection whose [connections.imis] names it",
                connection.name
            )));
        }
    };
    connector.map_err(|e| EngineError::Config(e.to_string()))
}

/// The iMIS client of a `kind = "imis"` connection; `None` for any other kind.
pub fn imis_client(
    connection: &Connection,
    retry: RetryPolicy,
) -> Option<Result<connectors::imis::Imis, connectors::ConnectorError>> {
    let VendorSettings::Imis(settings) = &connection.vendor else {
        return None;
    };
    Some(connectors::imis::Imis::new(connectors::imis::ImisConfig {
        connection: connection.name.clone(),
        site_url: settings.site_url.clone(),
        username: settings.username.clone(),
        password: settings.password.expose().to_string(),
        retry,
    }))
}

/// The event code of a source connection: what an iMIS activity's product code and meeting
/// default to.
pub fn event_code(connection: &Connection) -> Option<&str> {
    match &connection.vendor {
        VendorSettings::CventRest(settings) => Some(&settings.event_code),
        VendorSettings::CventSoap(settings) => Some(&settings.event_code),
        VendorSettings::Aventri(settings) => Some(&settings.event_id),
        VendorSettings::Imis(_) => None,
    }
}
