//! Run summaries by mail: counts per action, rejections with their reasons, quota used and
//! failures, sent through the configured SMTP server to a data config's subscribers.

use std::fmt::Write as _;

use engine::RunReport;
use engine::config::{Smtp, SmtpTls};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Why a summary was not sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MailError {
    /// An address is not one the mail library accepts; the message names it.
    #[error("{0}")]
    Address(String),
    /// The SMTP server could not be reached or refused the message.
    #[error("the mail server refused or could not be reached: {0}")]
    Smtp(String),
}

/// The vendor quota a run's account had used, for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaUse {
    pub used_today: u64,
    pub daily_quota: Option<u64>,
}

/// The subject and plain-text body of a run's summary.
pub fn summary(connection: &str, report: &RunReport, quota: Option<QuotaUse>) -> (String, String) {
    let subject = format!(
        "eventsync: {} of '{connection}' {} (run {})",
        report.kind,
        report.status.as_str(),
        report.run_id
    );
    let mut body = String::new();
    let _ = writeln!(
        body,
        "Run {} ({}) of connection '{connection}' ended {} after {:.1} s.\n",
        report.run_id,
        report.kind,
        report.status.as_str(),
        report.seconds
    );
    for (data_type, summary) in &report.types {
        let counts: Vec<String> = summary
            .counts
            .iter()
            .map(|(action, count)| format!("{count} {action}"))
            .collect();
        let counts = if counts.is_empty() {
            "no records".to_string()
        } else {
            counts.join(", ")
        };
        let _ = writeln!(
            body,
            "{data_type}: {counts} ({} API calls)",
            summary.api_calls
        );
        for group in &summary.rejected {
            let _ = writeln!(body, "  rejected {group}");
        }
        if let Some(error) = &summary.error {
            let _ = writeln!(body, "  failed: {error}");
        }
    }
    let _ = writeln!(body, "\nAPI calls: {}", report.api_calls);
    match quota {
        Some(QuotaUse {
            used_today,
            daily_quota: Some(quota),
        }) => {
            let _ = writeln!(body, "Quota used today: {used_today} of {quota} calls");
        }
        Some(QuotaUse { used_today, .. }) => {
            let _ = writeln!(
                body,
                "Quota used today: {used_today} calls (no daily quota)"
            );
        }
        None => {}
    }
    if let Some(resets_at) = &report.resets_at {
        let _ = writeln!(
            body,
            "Paused until the quota resets at {resets_at}; the next run resumes."
        );
    }
    for error in &report.errors {
        let _ = writeln!(body, "Failure: {error}");
    }
    (subject, body)
}

/// The refusals a digest lists one by one; the rest are counted.
const REFUSALS_LISTED: usize = 50;

/// The subject and body of a digest of the deliveries destinations refused for the people of
/// `connection`.
pub(crate) fn refusals(connection: &str, refusals: &[crate::feed::Refusal]) -> (String, String) {
    let sites: std::collections::BTreeSet<&str> = refusals
        .iter()
        .map(|refusal| refusal.site.as_str())
        .collect();
    let sites: Vec<&str> = sites.into_iter().collect();
    let subject = format!(
        "eventsync: {} of '{connection}' people not delivered to {}",
        refusals.len(),
        sites.join(", ")
    );
    let mut body = String::new();
    let _ = writeln!(
        body,
        "{} deliveries of people of connection '{connection}' were refused; nothing is sent \
         for them until what is said below is fixed. Each stays in the outbox as failed \
         (eventsync outbox --status failed), with its reason.\n",
        refusals.len()
    );
    for refusal in refusals.iter().take(REFUSALS_LISTED) {
        let _ = writeln!(
            body,
            "{} → {}: {}",
            refusal.person, refusal.site, refusal.reason
        );
    }
    if refusals.len() > REFUSALS_LISTED {
        let _ = writeln!(body, "… and {} more.", refusals.len() - REFUSALS_LISTED);
    }
    (subject, body)
}

/// Sends one message to every address in `to`.
pub async fn send(smtp: &Smtp, to: &[String], subject: &str, body: &str) -> Result<(), MailError> {
    let parse = |address: &str| {
        address
            .parse::<Mailbox>()
            .map_err(|error| MailError::Address(format!("'{address}': {error}")))
    };
    let mut message = Message::builder().from(parse(&smtp.from)?).subject(subject);
    for address in to {
        message = message.to(parse(address)?);
    }
    let message = message
        .body(body.to_string())
        .map_err(|error| MailError::Address(error.to_string()))?;
    let builder = match smtp.tls {
        SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|error| MailError::Smtp(error.to_string()))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|error| MailError::Smtp(error.to_string()))?,
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
    };
    let mut builder = builder.port(smtp.port);
    if let (Some(username), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(
            username.clone(),
            password.expose().to_string(),
        ));
    }
    builder
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|error| MailError::Smtp(error.to_string()))
}
