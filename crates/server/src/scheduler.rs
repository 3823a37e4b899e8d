//! Auto sync: when each enabled stream is due, and what interval eventsync recommends.
//!
//! A stream is due `interval` after its last run *ended* (so a slow run or a stopped process
//! never leaves a queue of missed ticks behind), never while its connection has a run going,
//! and not before the vendor's quota resets when the last run paused for it. Auto sync stops
//! for good a week after the event's end date, as the vendor gave it: the event is over and its
//! data settled, and further syncs would only spend the account's quota.
//!
//! The interval is the one the user set, or — stored as [`PLANNED`] — the one the account plan
//! gives the connection (`plan.rs`): every event of one vendor account shares its quota.

mod accounts;
pub mod plan;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use engine::RunKind;
use pipeline::DataType;
use serde::Serialize;

use accounts::parse_time;
pub use accounts::{Timeline, account_plans, event_timing, real_time};
use plan::{AUTO_SYNC_SHARE, PAGE_SIZE};
pub use plan::{AccountLoad, AccountPlan, EventLoad, EventTiming, PlannedEvent};

use crate::AppState;
use crate::runs::{RunRequest, Started, start_unless_ran_since};

/// The stored interval that means "as the account plan says".
pub const PLANNED: u32 = 0;

/// The interval of a planned stream that no plan covers (its connection left the
/// configuration, say).
const UNPLANNED_INTERVAL_SECONDS: u64 = 3_600;

/// How often the scheduler looks for due streams.
pub const TICK: Duration = Duration::from_secs(5);

/// The shortest interval eventsync recommends or accepts from the scheduler.
pub const MIN_INTERVAL_SECONDS: u64 = 60;

/// How long after the event's end auto sync goes on (seed 001: a week).
pub const DAYS_AFTER_EVENT_END: i64 = 7;

/// What the recommendation is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Account {
    pub attendees: u64,
    /// Data types auto-synced on the connection.
    pub data_types: u64,
    /// Calls a day, `None` when unlimited.
    pub daily_quota: Option<u64>,
    pub per_second: f64,
    /// Share of attendees that change in a day (for the pages incremental pulls bring back).
    pub daily_change_rate: f64,
}

/// A recommended interval and the arithmetic behind it, for people to check.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = RecommendedInterval)]
pub struct Recommendation {
    pub interval_seconds: u64,
    pub steps: Vec<String>,
}

/// Recommends the shortest interval, at least one minute, whose incremental syncs fit the
/// share of the daily quota set aside for auto sync. An incremental sync costs one call per
/// data type when nothing changed; changed records come back in pages of 200 whatever the
/// interval, so they cost about the same calls a day at any interval.
pub fn recommend(account: &Account) -> Recommendation {
    let mut steps = Vec::new();
    let data_types = account.data_types.max(1);
    let changed_per_day = (account.attendees as f64 * account.daily_change_rate).ceil() as u64;
    let change_calls = changed_per_day.div_ceil(PAGE_SIZE);
    steps.push(format!(
        "{} attendees × {:.0}% changing a day = {changed_per_day} changed records = {change_calls} calls a day in pages of {PAGE_SIZE}",
        account.attendees,
        account.daily_change_rate * 100.0
    ));
    steps.push(format!(
        "each incremental sync costs at least {data_types} calls (one per data type)"
    ));
    let Some(quota) = account.daily_quota else {
        steps.push(format!(
            "no daily quota: the interval is the minimum, {MIN_INTERVAL_SECONDS} s"
        ));
        return Recommendation {
            interval_seconds: MIN_INTERVAL_SECONDS,
            steps,
        };
    };
    let budget = (quota as f64 * AUTO_SYNC_SHARE).floor() as u64;
    steps.push(format!(
        "auto sync may spend {:.0}% of the {quota} daily calls = {budget}",
        AUTO_SYNC_SHARE * 100.0
    ));
    let for_polling = budget.saturating_sub(change_calls);
    let syncs_per_day = for_polling / data_types;
    steps.push(format!(
        "({budget} − {change_calls}) / {data_types} = {syncs_per_day} syncs a day"
    ));
    let interval = if syncs_per_day == 0 {
        steps.push("the quota cannot afford auto sync: one sync a day at most".to_string());
        86_400
    } else {
        let interval = 86_400u64.div_ceil(syncs_per_day).max(MIN_INTERVAL_SECONDS);
        steps.push(format!(
            "86400 s / {syncs_per_day} = {} s, at least {MIN_INTERVAL_SECONDS} s → {interval} s",
            86_400u64.div_ceil(syncs_per_day)
        ));
        interval
    };
    // A full first sync at the per-second limit also has to fit in one interval.
    let full_sync_seconds = ((account.attendees.div_ceil(PAGE_SIZE) * data_types) as f64
        / account.per_second.max(0.1))
    .ceil() as u64;
    steps.push(format!(
        "a full sync takes about {full_sync_seconds} s at {} calls a second",
        account.per_second
    ));
    Recommendation {
        interval_seconds: interval,
        steps,
    }
}

/// When a stream is next due, from when its last run ended and how.
pub fn next_due(
    last_finished: Option<DateTime<Utc>>,
    interval: Duration,
    quota_resets_at: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let interval = chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::hours(1));
    let due = last_finished.map(|finished| finished + interval);
    match (due, quota_resets_at) {
        (Some(due), Some(resets)) => Some(due.max(resets)),
        (None, Some(resets)) => Some(resets),
        (due, None) => due,
    }
}

/// When auto sync of a connection ends, from the event's end date the connection learnt: a week
/// after it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AutoSyncEnd {
    /// The event's end as the vendor gave it.
    pub event_end: String,
    /// A week later: no auto sync starts from then on.
    pub stops_at: String,
    /// Whether that time has come.
    pub stopped: bool,
    /// For people: when and why auto sync stops (or stopped).
    pub reason: String,
}

/// When auto sync ends for a connection whose facts are `facts`, at `now`; `None` when the
/// vendor gave no end date (auto sync then goes on until it is turned off).
pub fn auto_sync_end(facts: &serde_json::Value, now: DateTime<Utc>) -> Option<AutoSyncEnd> {
    let text = facts["event_end"].as_str()?;
    let end = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    let stops_at = end + chrono::Duration::days(DAYS_AFTER_EVENT_END);
    let stopped = now >= stops_at;
    let day = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    let reason = if stopped {
        format!(
            "auto sync stopped on {}: the event ended on {}, and auto sync stops {DAYS_AFTER_EVENT_END} days after the event's end date; syncs started by hand still run",
            day(stops_at),
            day(end)
        )
    } else {
        format!(
            "auto sync stops on {}, {DAYS_AFTER_EVENT_END} days after the event's end date ({})",
            day(stops_at),
            day(end)
        )
    };
    Some(AutoSyncEnd {
        event_end: text.to_string(),
        stops_at: stops_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        stopped,
        reason,
    })
}

/// Starts due auto syncs until the task is aborted.
pub async fn run(state: AppState) {
    loop {
        if let Err(error) = tick(&state, Utc::now()).await {
            tracing::warn!(%error, "the scheduler could not read its settings");
        }
        tokio::time::sleep(state.settings.scheduler_tick).await;
    }
}

/// Starts one run per connection for its due streams.
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> Result<(), store::StoreError> {
    tick_on(state, now, &real_time).await
}

/// [`tick`] with the store's times read on `timeline`, for a simulation on a virtual clock.
pub async fn tick_on(
    state: &AppState,
    now: DateTime<Utc>,
    timeline: &Timeline,
) -> Result<(), store::StoreError> {
    let settings = state.store.auto_sync(None).await?;
    // Read before "due" is: a run recorded after this read makes the start below stand down.
    let claim = crate::resume::Claim::read(state, &settings).await?;
    let (mut due, ended) = due_streams(state, &settings, now, timeline).await?;
    claim.add_abandoned(&mut due, &ended);
    for (connection, data_types) in due {
        let Some(configured) = state.connection(&connection).map(|c| c.data_types.clone()) else {
            continue;
        };
        let request = RunRequest {
            connection: connection.clone(),
            kind: RunKind::Sync,
            data_types: configured
                .into_iter()
                .filter(|data_type| data_types.contains(data_type))
                .collect(),
            full: false,
            notify: true,
        };
        // A connection with a run going is skipped, not queued: it is looked at again next tick.
        match start_unless_ran_since(state, request, claim.seen(&connection)).await {
            Ok(Started::Run(run_id)) => {
                tracing::info!(%connection, run_id, "started an auto sync")
            }
            Ok(Started::Busy(holder)) => {
                tracing::debug!(%connection, %holder, "auto sync skipped: a run is going")
            }
            Err(error) => tracing::warn!(%connection, %error, "an auto sync did not start"),
        }
    }
    Ok(())
}

/// The streams due at `now`, by connection, and whether each connection's auto sync has ended.
async fn due_streams(
    state: &AppState,
    settings: &[store::AutoSync],
    now: DateTime<Utc>,
    timeline: &Timeline,
) -> Result<DueStreams, store::StoreError> {
    let mut due: BTreeMap<String, Vec<DataType>> = BTreeMap::new();
    let mut ended: BTreeMap<String, bool> = BTreeMap::new();
    if !settings.iter().any(|s| s.enabled) {
        return Ok((due, ended));
    }
    let plans = account_plans(&state.store, &state.config().connections, now, timeline).await?;
    for plan in plans.iter().filter(|plan| !plan.warnings.is_empty()) {
        tracing::debug!(account = %plan.account, warnings = ?plan.warnings, "account plan");
    }
    let planned_interval = |connection: &str| {
        plans
            .iter()
            .find_map(|plan| plan.interval_of(connection))
            .unwrap_or(UNPLANNED_INTERVAL_SECONDS)
    };
    for setting in settings.iter().filter(|s| s.enabled) {
        let Ok(data_type) = setting.data_type.parse::<DataType>() else {
            continue;
        };
        if !ended.contains_key(&setting.connection) {
            let facts = state
                .store
                .connection_facts(&setting.connection)
                .await?
                .unwrap_or_default();
            let end = auto_sync_end(&facts, now);
            if let Some(end) = end.as_ref().filter(|end| end.stopped) {
                tracing::debug!(connection = %setting.connection, reason = %end.reason, "no auto sync");
            }
            ended.insert(
                setting.connection.clone(),
                end.is_some_and(|end| end.stopped),
            );
        }
        if ended.get(&setting.connection) == Some(&true) {
            continue;
        }
        let stream_state = state
            .store
            .state(&setting.connection, &setting.data_type)
            .await?;
        let on_timeline = |text: &str| parse_time(text).map(timeline);
        let last_attempt = stream_state
            .as_ref()
            .and_then(|s| s.last_attempt_at.as_deref())
            .and_then(on_timeline);
        let last_run = state.store.runs(Some(&setting.connection), 1).await?;
        // A run that failed before committing anything leaves the stream's state as it was;
        // its end counts too, so a failing stream is tried once an interval, not every tick.
        let last_run_end = last_run
            .first()
            .filter(|run| run.data_types.contains(&setting.data_type))
            .and_then(|run| run.finished_at.as_deref())
            .and_then(on_timeline);
        let last_attempt = last_attempt.max(last_run_end);
        // The reset time is the vendor's, whose clock a simulation moves along with its own.
        let resets_at = last_run
            .first()
            .filter(|run| run.status == "paused_quota")
            .and_then(|run| run.resets_at.as_deref())
            .and_then(parse_time);
        let seconds = match setting.interval_seconds {
            PLANNED => planned_interval(&setting.connection),
            seconds => u64::from(seconds),
        };
        let interval = Duration::from_secs(seconds).max(state.settings.min_interval);
        let is_due = next_due(last_attempt, interval, resets_at).is_none_or(|at| at <= now);
        if is_due {
            due.entry(setting.connection.clone())
                .or_default()
                .push(data_type);
        }
    }
    Ok((due, ended))
}

/// Due streams by connection, and whether each connection's auto sync has ended.
type DueStreams = (BTreeMap<String, Vec<DataType>>, BTreeMap<String, bool>);

#[cfg(test)]
mod tests {
    use super::*;

    fn account(attendees: u64, daily_quota: Option<u64>, per_second: f64) -> Account {
        Account {
            attendees,
            data_types: 4,
            daily_quota,
            per_second,
            daily_change_rate: 0.05,
        }
    }

    #[test]
    fn recommendations_reach_a_minute_where_the_quota_allows() {
        // (attendees, quota, per second) → interval in seconds.
        let cases = [
            // Free tier: 500 calls for auto sync; 3,000 × 5% = 150 changed = 1 call.
            (3_000, Some(1_000), 2.0, 697),
            // Free tier, bigger event: 20,000 × 5% = 1,000 changed = 5 calls.
            (20_000, Some(1_000), 2.0, 703),
            // Standard tier: 7,500 calls → 1,874 syncs a day → 47 s, so the one-minute floor.
            (12_000, Some(15_000), 10.0, 60),
            // Premium tier and unlimited.
            (100_000, Some(500_000), 25.0, 60),
            (100_000, None, 25.0, 60),
            // A quota smaller than the data types: one sync a day.
            (1_000, Some(6), 2.0, 86_400),
        ];
        for (attendees, quota, per_second, expected) in cases {
            let recommendation = recommend(&account(attendees, quota, per_second));
            assert_eq!(
                recommendation.interval_seconds, expected,
                "{attendees} attendees, quota {quota:?}: {:#?}",
                recommendation.steps
            );
            assert!(!recommendation.steps.is_empty());
        }
    }

    #[test]
    fn the_arithmetic_is_shown() {
        let steps = recommend(&account(3_000, Some(1_000), 2.0)).steps;
        assert!(
            steps
                .iter()
                .any(|s| s.contains("(500 − 1) / 4 = 124 syncs a day")),
            "{steps:#?}"
        );
        assert!(
            steps.iter().any(|s| s.contains("86400 s / 124 = 697 s")),
            "{steps:#?}"
        );
    }

    #[test]
    fn auto_sync_ends_a_week_after_the_event() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        let facts = serde_json::json!({"event_end": "2027-03-12T20:30:00.000Z"});
        let running = auto_sync_end(&facts, at("2027-03-19T20:29:59Z")).expect("an end");
        assert!(!running.stopped, "{running:?}");
        assert_eq!(running.stops_at, "2027-03-19T20:30:00Z");
        assert!(
            running.reason.contains("stops on 2027-03-19"),
            "{running:?}"
        );
        let stopped = auto_sync_end(&facts, at("2027-03-19T20:30:00Z")).expect("an end");
        assert!(stopped.stopped);
        assert!(
            stopped.reason.contains("the event ended on 2027-03-12"),
            "{stopped:?}"
        );
        assert_eq!(auto_sync_end(&serde_json::json!({}), Utc::now()), None);
        assert_eq!(
            auto_sync_end(&serde_json::json!({"event_end": "soon"}), Utc::now()),
            None
        );
    }

    #[test]
    fn due_times_follow_the_last_run_and_the_quota_reset() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        let minute = Duration::from_secs(60);
        assert_eq!(next_due(None, minute, None), None, "never run: due now");
        assert_eq!(
            next_due(Some(at("2026-05-01T10:00:00Z")), minute, None),
            Some(at("2026-05-01T10:01:00Z"))
        );
        // Hours without a run still make one run due, not one per missed minute.
        assert!(
            next_due(Some(at("2026-05-01T01:00:00Z")), minute, None).unwrap()
                < at("2026-05-01T10:00:00Z")
        );
        assert_eq!(
            next_due(
                Some(at("2026-05-01T10:00:00Z")),
                minute,
                Some(at("2026-05-02T00:00:00Z"))
            ),
            Some(at("2026-05-02T00:00:00Z")),
            "a run paused for quota waits for the reset"
        );
    }
}
