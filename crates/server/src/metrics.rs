//! Prometheus metrics: the one place that names them. Counters live here; gauges (outbox and
//! webhook backlog, runs, quota) are read from the store and the rate budgets at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

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
