//! What the account plans are computed from: the connections grouped by vendor account, each
//! event's size and dates from the store and its facts, and the calls the account's runs spent
//! since the quota last reset.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use connectors::budget::{Limits, RateBudget, next_midnight_utc};
use store::{AutoSync, Store, StoreError};

use super::plan::{AccountLoad, AccountPlan, EventLoad, EventTiming, plan};
use super::{PLANNED, auto_sync_end};

/// Reads the store's timestamps, which runs stamp with the real clock, on the scheduler's time
/// line. The server's is the identity; a simulation running on a virtual clock maps them onto it.
pub type Timeline = dyn Fn(DateTime<Utc>) -> DateTime<Utc> + Send + Sync;

/// The real clock's time line.
pub fn real_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at
}

/// Runs first looked at per connection when adding up the calls of the day; four times as many
/// while the oldest of them is still from today.
const FIRST_RUNS_LOOKED_AT: u32 = 64;
const MOST_RUNS_LOOKED_AT: u32 = 16_384;

pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Where an event stands at `now`, from the `event_start` and `event_end` its connection learnt.
pub fn event_timing(facts: &serde_json::Value, now: DateTime<Utc>) -> EventTiming {
    let start = facts["event_start"].as_str().and_then(parse_time);
    let end = facts["event_end"].as_str().and_then(parse_time);
    if end.is_some_and(|end| end < now) {
        return EventTiming::Over;
    }
    match start {
        Some(start) if start > now => {
            EventTiming::StartsIn((start - now).num_seconds() as f64 / 86_400.0)
        }
        Some(_) => EventTiming::Running,
        None => EventTiming::Unknown,
    }
}

/// The account's limits: what a connection's facts say (the tier it read), else what this
/// process's budget of the account knows, else the cautious guess the budget starts from.
fn limits_of(account: &str, facts: &[serde_json::Value]) -> Limits {
    for facts in facts {
        if let Some(per_second) = facts["per_second"].as_f64() {
            return Limits {
                per_second,
                burst: facts["burst"].as_f64().unwrap_or(per_second),
                daily_quota: facts["daily_quota"].as_u64(),
            };
        }
    }
    RateBudget::for_account(account).limits()
}

/// The calls the runs of `connection` spent since `day_start`, on the time line.
async fn spent_since(
    store: &Store,
    connection: &str,
    day_start: DateTime<Utc>,
    timeline: &Timeline,
) -> Result<u64, StoreError> {
    let today = |run: &store::RunSummary| {
        parse_time(&run.started_at).is_none_or(|started| timeline(started) >= day_start)
    };
    let mut limit = FIRST_RUNS_LOOKED_AT;
    loop {
        // Newest first: the day's runs are a prefix.
        let runs = store.runs(Some(connection), limit).await?;
        let complete = (runs.len() as u32) < limit
            || runs.last().is_some_and(|oldest| !today(oldest))
            || limit >= MOST_RUNS_LOOKED_AT;
        if complete {
            return Ok(runs
                .iter()
                .take_while(|run| today(run))
                .filter(|run| run.kind == "sync")
                .map(|run| run.api_calls)
                .sum());
        }
        limit *= 4;
    }
}

/// The plan of every vendor account with auto-synced connections, at `now`.
pub async fn account_plans(
    store: &Store,
    connections: &[engine::Connection],
    now: DateTime<Utc>,
    timeline: &Timeline,
) -> Result<Vec<AccountPlan>, StoreError> {
    let settings = store.auto_sync(None).await?;
    let resets_at = next_midnight_utc(now);
    let day_start = resets_at - chrono::Duration::days(1);
    let mut accounts: BTreeMap<String, (Vec<EventLoad>, Vec<serde_json::Value>, u64)> =
        BTreeMap::new();
    for connection in connections {
        let enabled: Vec<&AutoSync> = settings
            .iter()
            .filter(|s| s.connection == connection.name && s.enabled)
            .collect();
        let facts = store
            .connection_facts(&connection.name)
            .await?
            .unwrap_or_default();
        let key = engine::account_key(connection);
        let entry = accounts.entry(key).or_default();
        entry.2 += spent_since(store, &connection.name, day_start, timeline).await?;
        let stopped = auto_sync_end(&facts, now).is_some_and(|end| end.stopped);
        if !enabled.is_empty() && !stopped {
            let stored = store.count(&connection.name, "people").await?;
            let vendor = store
                .totals(&connection.name, "people")
                .await?
                .and_then(|totals| totals.vendor_total)
                .unwrap_or(0);
            // A connection with an interval set by hand on any data type is counted at the
            // shortest of them, for all of its data types: its runs carry them all.
            let explicit = enabled
                .iter()
                .map(|s| s.interval_seconds)
                .filter(|interval| *interval != PLANNED)
                .min()
                .map(u64::from);
            entry.0.push(EventLoad {
                connection: connection.name.clone(),
                people: stored.max(vendor),
                data_types: enabled.len() as u64,
                timing: event_timing(&facts, now),
                explicit_interval: explicit,
            });
        }
        entry.1.push(facts);
    }
    Ok(accounts
        .into_iter()
        .filter(|(_, (events, _, _))| !events.is_empty())
        .map(|(account, (events, facts, spent_today))| {
            let limits = limits_of(&account, &facts);
            plan(&AccountLoad {
                account,
                daily_quota: limits.daily_quota,
                per_second: limits.per_second,
                spent_today,
                seconds_left_today: (resets_at - now).num_seconds().max(0) as u64,
                events,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_from_the_event_dates() {
        let now = parse_time("2027-03-01T12:00:00Z").unwrap_or_default();
        let facts =
            |start: &str, end: &str| serde_json::json!({"event_start": start, "event_end": end});
        let cases = [
            (
                facts("2027-03-08T12:00:00Z", "2027-03-09T12:00:00Z"),
                EventTiming::StartsIn(7.0),
            ),
            (
                facts("2027-02-28T12:00:00Z", "2027-03-02T12:00:00Z"),
                EventTiming::Running,
            ),
            (
                facts("2027-02-20T12:00:00Z", "2027-02-21T12:00:00Z"),
                EventTiming::Over,
            ),
            (
                serde_json::json!({"event_end": "2027-03-09T12:00:00Z"}),
                EventTiming::Unknown,
            ),
            (serde_json::json!({}), EventTiming::Unknown),
            (facts("soon", "later"), EventTiming::Unknown),
        ];
        for (facts, expected) in cases {
            assert_eq!(event_timing(&facts, now), expected, "{facts}");
        }
    }
}
