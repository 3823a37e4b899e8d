//! Builds a connection's connector from its settings: the one place that knows which connector
//! serves which kind.

use connectors::{AnyConnector, RetryPolicy};
use pipeline::DataType;

use crate::config::{Connection, VendorSettings};
use crate::run::EngineError;

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
    };
    connector.map_err(|e| EngineError::Config(e.to_string()))
}
