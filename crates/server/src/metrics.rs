//! Prometheus metrics: the one place that names them. Counters live here; gauges (outbox and
//! webhook backlog, runs, quota, each stream's last successful sync) are read from the store and
//! the rate budgets at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::AppState;
use crate::error::ApiResult;

/// Upper bounds of the webhook latency histogram, in seconds.
const LATENCY_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Debug, Default)]
pub struct Metrics {
    api_requests: Mutex<BTreeMap<(String, u16), u64>>,
    pub(crate) webhooks_received: AtomicU64,
    pub(crate) webhooks_duplicate: AtomicU64,
    pub(crate) outbox_sent: AtomicU64,
    pub(crate) outbox_failed: AtomicU64,
    pub(crate) outbox_retried: AtomicU64,
    /// Count per bucket (the last is +Inf), sum in microseconds.
    latency_buckets: [AtomicU64; 11],
    latency_sum_micros: AtomicU64,
}

impl Metrics {
    pub(crate) fn count_request(&self, route: &str, status: u16) {
        let mut requests = self
            .api_requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *requests.entry((route.to_string(), status)).or_default() += 1;
    }

    /// Time from a webhook's arrival to the end of its processing.
    pub(crate) fn observe_webhook_latency(&self, seconds: f64) {
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.latency_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add((seconds.max(0.0) * 1e6) as u64, Ordering::Relaxed);
    }

    /// The counters in Prometheus text format.
    pub(crate) fn render_counters(&self, out: &mut String) {
        out.push_str("# HELP eventsync_api_requests_total API requests by route and status.\n");
        out.push_str("# TYPE eventsync_api_requests_total counter\n");
        let requests = self
            .api_requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((route, status), count) in requests.iter() {
            let _ = writeln!(
                out,
                "eventsync_api_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                escape(route)
            );
        }
        drop(requests);
        let counters = [
            (
                "eventsync_webhooks_received_total",
                "Webhook deliveries accepted.",
                &self.webhooks_received,
            ),
            (
                "eventsync_webhooks_duplicate_total",
                "Webhook deliveries already received (same message stub).",
                &self.webhooks_duplicate,
            ),
            (
                "eventsync_outbox_sent_total",
                "Outbox items the vendor accepted.",
                &self.outbox_sent,
            ),
            (
                "eventsync_outbox_failed_total",
                "Outbox items the vendor refused.",
                &self.outbox_failed,
            ),
            (
                "eventsync_outbox_retried_total",
                "Outbox delivery attempts to be tried again.",
                &self.outbox_retried,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        let name = "eventsync_webhook_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} From a webhook's arrival to the end of its processing.\n# TYPE {name} histogram"
        );
        let mut cumulative = 0;
        for (index, bound) in LATENCY_BUCKETS.iter().enumerate() {
            cumulative += self.latency_buckets[index].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.latency_buckets[LATENCY_BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

/// Everything `/metrics` serves: the counters, then the gauges read from the store and the rate
/// budgets at scrape time.
pub(crate) async fn render(state: &AppState) -> ApiResult<String> {
    use std::fmt::Write as _;
    let mut out = String::new();
    state.metrics.render_counters(&mut out);
    // Every status is written, a zero included, so that a series never vanishes.
    let outbox_statuses = store::OutboxStatus::ALL.map(store::OutboxStatus::as_str);
    let webhook_statuses = store::WebhookStatus::ALL.map(store::WebhookStatus::as_str);
    let gauges = [
        (
            "eventsync_outbox_items",
            "Outbox items by status.",
            outbox_statuses,
            state.store.outbox_counts().await?,
        ),
        (
            "eventsync_webhook_deliveries",
            "Webhook deliveries by status.",
            webhook_statuses,
            state.store.webhook_counts().await?,
        ),
    ];
    for (name, help, statuses, counts) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for status in statuses {
            let count = counts.get(status).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}{{status=\"{}\"}} {count}", escape(status));
        }
    }
    let runs = state.store.runs(None, 1000).await?;
    let mut by_status: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut records: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let mut calls: BTreeMap<String, u64> = BTreeMap::new();
    for run in &runs {
        *by_status
            .entry((run.connection.clone(), run.status.clone()))
            .or_default() += 1;
        *calls.entry(run.connection.clone()).or_default() += run.api_calls;
        for (data_type, actions) in &run.counts {
            for (action, count) in actions {
                *records
                    .entry((run.connection.clone(), data_type.clone(), action.clone()))
                    .or_default() += count;
            }
        }
    }
    let name = "eventsync_runs";
    let _ = writeln!(
        out,
        "# HELP {name} Runs among the last 1000, by connection and status.\n# TYPE {name} gauge"
    );
    for ((connection, status), count) in by_status {
        let _ = writeln!(
            out,
            "{name}{{connection=\"{}\",status=\"{}\"}} {count}",
            escape(&connection),
            escape(&status)
        );
    }
    let name = "eventsync_run_records";
    let _ = writeln!(
        out,
        "# HELP {name} Records per action in the last 1000 runs.\n# TYPE {name} gauge"
    );
    for ((connection, data_type, action), count) in records {
        let _ = writeln!(
            out,
            "{name}{{connection=\"{}\",data_type=\"{}\",action=\"{}\"}} {count}",
            escape(&connection),
            escape(&data_type),
            escape(&action)
        );
    }
    let name = "eventsync_run_api_calls";
    let _ = writeln!(
        out,
        "# HELP {name} Vendor API calls made by the last 1000 runs.\n# TYPE {name} gauge"
    );
    for (connection, count) in calls {
        let _ = writeln!(
            out,
            "{name}{{connection=\"{}\"}} {count}",
            escape(&connection)
        );
    }
    let name = "eventsync_quota_left";
    let _ = writeln!(
        out,
        "# HELP {name} Vendor calls left today per connection's account (absent: no quota known).\n# TYPE {name} gauge"
    );
    for connection in &state.config().connections {
        if let Ok(writer) = state.writers.get(state, &connection.name).await {
            let budget = writer.budget();
            if let Some(quota) = budget.limits().daily_quota {
                let left = quota.saturating_sub(budget.used_today());
                let _ = writeln!(
                    out,
                    "{name}{{connection=\"{}\"}} {left}",
                    escape(&connection.name)
                );
            }
        }
    }
    let name = LAST_SUCCESSFUL_SYNC;
    let _ = writeln!(
        out,
        "# HELP {name} When a sync last went through the data type's listing to its end, in seconds since 1970 (absent: never).\n# TYPE {name} gauge"
    );
    for connection in &state.config().connections {
        for data_type in &connection.data_types {
            let stream = state
                .store
                .state(&connection.name, data_type.as_str())
                .await?;
            let Some(at) = stream
                .and_then(|stream| stream.last_success_at)
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
            else {
                continue;
            };
            let _ = writeln!(
                out,
                "{name}{{connection=\"{}\",data_type=\"{}\"}} {}",
                escape(&connection.name),
                escape(data_type.as_str()),
                at.timestamp()
            );
        }
    }
    Ok(out)
}

/// The gauge an alert watches for a stream that stopped syncing.
pub(crate) const LAST_SUCCESSFUL_SYNC: &str = "eventsync_last_successful_sync_timestamp_seconds";

/// A label value with Prometheus's escapes.
pub(crate) fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_lands_in_cumulative_buckets() {
        let metrics = Metrics::default();
        for seconds in [0.005, 0.02, 0.02, 40.0] {
            metrics.observe_webhook_latency(seconds);
        }
        let mut out = String::new();
        metrics.render_counters(&mut out);
        for line in [
            "eventsync_webhook_latency_seconds_bucket{le=\"0.01\"} 1",
            "eventsync_webhook_latency_seconds_bucket{le=\"0.05\"} 3",
            "eventsync_webhook_latency_seconds_bucket{le=\"30\"} 3",
            "eventsync_webhook_latency_seconds_bucket{le=\"+Inf\"} 4",
            "eventsync_webhook_latency_seconds_count 4",
        ] {
            assert!(out.contains(line), "missing {line} in\n{out}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
