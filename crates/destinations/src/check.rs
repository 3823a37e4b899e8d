//! `eventsync check` and `POST /v1/connections/{name}/check` for every kind: a source's
//! connector checks itself; an iMIS site is checked for what feeding it needs.

use connectors::imis::{Imis, SavedQuery};
use connectors::{CheckReport, ConnectorError, Finding, RetryPolicy};
use engine::config::{Config, Connection, VendorSettings};

/// Checks a connection: credentials, and what its data types or destinations need. `facts` is
/// what earlier runs learned (or `Null`).
pub async fn check_connection(
    config: &Config,
    connection: &Connection,
    facts: serde_json::Value,
    retry: RetryPolicy,
) -> Result<CheckReport, String> {
    if let VendorSettings::Imis(settings) = &connection.vendor {
        let client = engine::imis_client(connection, retry)
            .unwrap_or_else(|| Err(ConnectorError::Config("not an iMIS site".into())))
            .map_err(|error| error.to_string())?;
        return Ok(check_imis(config, connection, &client, settings.query_service).await);
    }
    let connector = engine::connect(connection, &connection.data_types, facts, retry)
        .map_err(|error| error.to_string())?;
    Ok(connector.check(&connection.data_types).await)
}

/// Signs in, then checks each feeding connection's activity type and eligibility query.
async fn check_imis(
    config: &Config,
    site: &Connection,
    client: &Imis,
    service: connectors::imis::QueryService,
) -> CheckReport {
    let mut findings = Vec::new();
    let finding = |ok: bool, subject: String, detail: String| Finding {
        ok,
        subject,
        detail,
    };
    match client.sign_in().await {
        Ok(()) => findings.push(finding(true, "sign-in".into(), "token issued".into())),
        Err(error) => {
            findings.push(finding(false, "sign-in".into(), error.to_string()));
            return CheckReport { findings };
        }
    }
    let feeds: Vec<_> = config
        .connections
        .iter()
        .filter_map(|source| {
            let feed = source.imis.as_ref()?;
            (feed.destination == site.name).then_some((source, feed))
        })
        .collect();
    if feeds.is_empty() {
        findings.push(finding(
            false,
            "feeding connections".into(),
            format!(
                "no connection names '{}' in its [connections.imis] destination, so nothing reaches it",
                site.name
            ),
        ));
    }
    for (source, feed) in feeds {
        let subject = format!("{}: activity type", source.name);
        findings.push(match client.activity_type_exists(&feed.activity_type).await {
            Ok(true) => finding(true, subject, format!("{} exists", feed.activity_type)),
            Ok(false) => finding(
                false,
                subject,
                format!(
                    "iMIS has no activity type {}; add it in iMIS or set activity_type in [connections.imis] of {}",
                    feed.activity_type, source.name
                ),
            ),
            Err(error) => finding(false, subject, error.to_string()),
        });
        if let Some(name) = &feed.eligibility_query {
            let subject = format!("{}: eligibility query", source.name);
            let query = SavedQuery {
                name: name.clone(),
                service,
            };
            findings.push(match client.check_query(&query).await {
                Ok(()) => finding(true, subject, format!("{name} runs")),
                Err(error) => finding(false, subject, error.to_string()),
            });
        }
    }
    CheckReport { findings }
}
