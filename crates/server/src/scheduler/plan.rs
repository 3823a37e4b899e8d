//! The account plan: one vendor account's daily quota shared out among all of its events' auto
//! syncs, so that together they never plan past it.
//!
//! A vendor account (one Cvent API client, say) has one daily quota and one per-second rate,
//! whatever number of events it runs. Every event's auto sync is an incremental run that costs at
//! least one call per data type plus the pages its changed records fill, so the plan gives each
//! event a number of syncs a day and the interval that follows from it:
//!
//! 1. The day's budget is `AUTO_SYNC_SHARE` of the daily quota (or of what the per-second rate
//!    allows in a day, when that is less); the rest stays for write-back and runs people start.
//! 2. Every sync run of the account's connections so far today — auto, webhook-driven or started
//!    by hand — spent from that budget (`spent_today`, from the run ledger's `api_calls`). What is
//!    left is spread over the seconds until the quota resets: `pace = left × 86400 / seconds
//!    left` calls a day, never more than the budget (a day that spent little so far does not
//!    make up for it in a rush before the reset). A webhook burst thus lengthens the intervals
//!    for the rest of the day.
//! 3. Changed records cost `⌈people × change rate / 200⌉` calls a day whatever the interval, and
//!    events whose user set an interval spend `⌈86400 / interval⌉ × data types` more; both come
//!    off the pace. What remains is for the planned events' syncs.
//! 4. Each planned event gets a weight, `size × urgency`: `size = √(max(people, 100) / 100)`,
//!    at most 10 (10,000 people); `urgency = 1 + 3 × 7 / (7 + days until the event starts)`: 4
//!    while the event runs or when its start is unknown, 2.5 a week before, about 1.2 three
//!    months before, and 1 once it is over.
//! 5. `k = remaining / Σ (weight × data types)` syncs a day per unit of weight; each event gets
//!    `⌊k × weight⌋` syncs a day (at most one a minute) and the interval `⌈86400 / syncs⌉`.
//!    Rounding down and the scheduler's ticks only ever make fewer calls than planned. An event
//!    the budget cannot give one sync a day still gets one, and the plan warns.

use serde::Serialize;
use utoipa::ToSchema;

use super::MIN_INTERVAL_SECONDS;

/// Share of the daily quota auto sync may plan to spend.
pub const AUTO_SYNC_SHARE: f64 = 0.5;

/// Records per page of an incremental listing.
pub const PAGE_SIZE: u64 = 200;

/// Share of an event's people assumed to change in a day.
pub const DAILY_CHANGE_RATE: f64 = 0.05;

const DAY_SECONDS: u64 = 86_400;

/// Largest size weight, reached at 10,000 people.
const MAX_SIZE_WEIGHT: f64 = 10.0;

/// Where an event stands in time, from the connection's facts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "state", content = "days")]
pub enum EventTiming {
    /// The vendor gave no start date: treated as starting now.
    Unknown,
    /// Starts in this many days.
    StartsIn(f64),
    Running,
    Over,
}

impl EventTiming {
    fn urgency(self) -> f64 {
        match self {
            EventTiming::Unknown | EventTiming::Running => 4.0,
            EventTiming::StartsIn(days) => 1.0 + 3.0 * 7.0 / (7.0 + days.max(0.0)),
            EventTiming::Over => 1.0,
        }
    }

    fn describe(self) -> String {
        match self {
            EventTiming::Unknown => "start unknown, taken as soon".to_string(),
            EventTiming::StartsIn(days) => format!("starts in {days:.1} days"),
            EventTiming::Running => "running".to_string(),
            EventTiming::Over => "over".to_string(),
        }
    }
}

/// One event (connection) of the account, as the plan needs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventLoad {
    pub connection: String,
    /// The event's people: the workspace's count, or the vendor's total when larger.
    pub people: u64,
    /// Data types auto-synced (each costs at least one call a sync).
    pub data_types: u64,
    pub timing: EventTiming,
    /// The interval the user set, which wins over the plan.
    pub explicit_interval: Option<u64>,
}

/// What an account plan is computed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountLoad {
    /// The account, as `connectors` keys its rate budget.
    pub account: String,
    /// Calls a day, `None` when the vendor sets no quota.
    pub daily_quota: Option<u64>,
    pub per_second: f64,
    /// Calls the account's runs spent since the quota last reset.
    pub spent_today: u64,
    /// Seconds until the quota resets.
    pub seconds_left_today: u64,
    pub events: Vec<EventLoad>,
}

/// One event's share of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = AccountPlanEvent)]
pub struct PlannedEvent {
    pub connection: String,
    pub people: u64,
    pub data_types: u64,
    pub timing: EventTiming,
    pub weight: f64,
    /// Whether the user set the interval (then the plan only counts it).
    pub explicit: bool,
    pub interval_seconds: u64,
    pub syncs_a_day: u64,
    /// Syncs × data types plus the changed records' pages.
    pub calls_a_day: u64,
}

/// The vendor account's daily quota shared out among its events' auto syncs, and the arithmetic
/// behind it, for people to check.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AccountPlan {
    pub account: String,
    pub daily_quota: Option<u64>,
    pub per_second: f64,
    /// Auto sync's share of a day's calls.
    pub budget: u64,
    pub spent_today: u64,
    /// Calls a day auto sync may spend at, for the rest of the day.
    pub pace: u64,
    /// What the events' intervals add up to, in calls a day.
    pub planned_calls_a_day: u64,
    pub events: Vec<PlannedEvent>,
    pub warnings: Vec<String>,
    pub steps: Vec<String>,
}

impl AccountPlan {
    /// The interval the plan gives `connection`, if it is one of the account's events.
    pub fn interval_of(&self, connection: &str) -> Option<u64> {
        self.events
            .iter()
            .find(|event| event.connection == connection)
            .map(|event| event.interval_seconds)
    }
}

fn change_calls(people: u64) -> u64 {
    ((people as f64 * DAILY_CHANGE_RATE).ceil() as u64).div_ceil(PAGE_SIZE)
}

/// An event's weight, from its size and how soon it is (the rounded one is only shown).
fn weight_of(event: &PlannedEvent) -> f64 {
    size_weight(event.people) * event.timing.urgency()
}

fn size_weight(people: u64) -> f64 {
    (people.max(100) as f64 / 100.0).sqrt().min(MAX_SIZE_WEIGHT)
}

/// Plans every event of one account; see the module's documentation for the formula.
pub fn plan(load: &AccountLoad) -> AccountPlan {
    let mut steps = Vec::new();
    let mut warnings = Vec::new();
    let per_second = load.per_second.max(0.1);
    let rate_cap = (per_second * DAY_SECONDS as f64).floor() as u64;
    let daily = match load.daily_quota {
        Some(quota) if quota <= rate_cap => {
            steps.push(format!("the account's quota is {quota} calls a day"));
            quota
        }
        Some(quota) => {
            steps.push(format!(
                "{per_second} calls a second allow {rate_cap} calls a day, fewer than the quota of {quota}"
            ));
            rate_cap
        }
        None => {
            steps.push(format!(
                "no daily quota: {per_second} calls a second allow {rate_cap} calls a day"
            ));
            rate_cap
        }
    };
    let budget = (daily as f64 * AUTO_SYNC_SHARE).floor() as u64;
    steps.push(format!(
        "auto sync may spend {:.0}% of {daily} = {budget} calls a day",
        AUTO_SYNC_SHARE * 100.0
    ));
    let left = budget.saturating_sub(load.spent_today);
    let seconds_left = load.seconds_left_today.clamp(1, DAY_SECONDS);
    let spread = (left as f64 * DAY_SECONDS as f64 / seconds_left as f64).floor() as u64;
    let pace = spread.min(budget);
    steps.push(format!(
        "runs spent {} calls today: {budget} − {} = {left} left for the {seconds_left} s until the quota resets → {left} × 86400 / {seconds_left} = {spread} calls a day{}",
        load.spent_today,
        load.spent_today,
        if spread > budget {
            format!(", at most the budget: {pace}")
        } else {
            String::new()
        }
    ));

    let mut fixed = 0u64;
    let mut explicit_calls = 0u64;
    let mut events: Vec<PlannedEvent> = Vec::new();
    for event in &load.events {
        let data_types = event.data_types.max(1);
        let changes = change_calls(event.people);
        fixed += changes;
        let weight = size_weight(event.people) * event.timing.urgency();
        let mut planned = PlannedEvent {
            connection: event.connection.clone(),
            people: event.people,
            data_types,
            timing: event.timing,
            weight: (weight * 100.0).round() / 100.0,
            explicit: false,
            interval_seconds: 0,
            syncs_a_day: 0,
            calls_a_day: changes,
        };
        if let Some(interval) = event.explicit_interval {
            let interval = interval.max(1);
            planned.explicit = true;
            planned.interval_seconds = interval;
            planned.syncs_a_day = DAY_SECONDS.div_ceil(interval);
            planned.calls_a_day += planned.syncs_a_day * data_types;
            explicit_calls += planned.syncs_a_day * data_types;
        }
        events.push(planned);
    }
    steps.push(format!(
        "changed records ({:.0}% of each event's people a day, pages of {PAGE_SIZE}) cost {fixed} calls a day",
        DAILY_CHANGE_RATE * 100.0
    ));
    if explicit_calls > 0 {
        steps.push(format!(
            "intervals set by hand cost {explicit_calls} calls a day"
        ));
    }
    let for_polling = pace.saturating_sub(fixed + explicit_calls);
    if fixed + explicit_calls > pace {
        warnings.push(format!(
            "the intervals set by hand and the changed records need {} calls a day, more than the {pace} auto sync may spend: lengthen those intervals or let the plan set them",
            fixed + explicit_calls
        ));
    }
    steps.push(format!(
        "{pace} − {fixed} − {explicit_calls} = {for_polling} calls a day for the planned events' syncs"
    ));
    if events.iter().any(|event| !event.explicit) {
        steps.push(
            "weight = √(people / 100, at least 1, at most 10) × urgency (4 running or start unknown, 1 + 21 / (7 + days to start) before, 1 over)"
                .to_string(),
        );
    }
    // Events held at one sync a minute leave their unused share to the others.
    let most = DAY_SECONDS / MIN_INTERVAL_SECONDS;
    let mut remaining = for_polling as f64;
    let mut capped: Vec<bool> = events.iter().map(|event| event.explicit).collect();
    let mut per_weight = 0.0;
    loop {
        let cost: f64 = events
            .iter()
            .zip(&capped)
            .filter(|(_, capped)| !**capped)
            .map(|(event, _)| weight_of(event) * event.data_types as f64)
            .sum();
        if cost <= 0.0 {
            break;
        }
        per_weight = remaining.max(0.0) / cost;
        steps.push(format!(
            "{remaining:.0} / Σ(weight × data types) {cost:.2} = {per_weight:.3} syncs a day per unit of weight"
        ));
        let mut newly_capped = false;
        for (event, capped) in events.iter().zip(capped.iter_mut()) {
            if !*capped && per_weight * weight_of(event) >= most as f64 {
                *capped = true;
                newly_capped = true;
                remaining -= (most * event.data_types) as f64;
            }
        }
        if !newly_capped {
            break;
        }
        steps.push(format!(
            "events at one sync a minute take {} calls a day each per data type; the rest is shared again",
            most
        ));
    }
    let mut starved = Vec::new();
    for event in events.iter_mut().filter(|event| !event.explicit) {
        let exact = per_weight * weight_of(event);
        let mut syncs = (exact.floor() as u64).min(most);
        if syncs == 0 {
            starved.push(event.connection.clone());
            syncs = 1;
        }
        event.syncs_a_day = syncs;
        event.interval_seconds = DAY_SECONDS.div_ceil(syncs).max(MIN_INTERVAL_SECONDS);
        event.calls_a_day += syncs * event.data_types;
        let exact = if syncs == most {
            format!("{most} (one a minute at most)")
        } else {
            format!("⌊{exact:.2}⌋ = {syncs}")
        };
        steps.push(format!(
            "{}: {} people, {}, weight {:.2} → {exact} syncs a day → every {} s, {} calls a day",
            event.connection,
            event.people,
            event.timing.describe(),
            event.weight,
            event.interval_seconds,
            event.calls_a_day
        ));
    }
    if !starved.is_empty() {
        warnings.push(format!(
            "the quota cannot afford one sync a day for {}: each still syncs once a day, past the plan",
            starved.join(", ")
        ));
    }
    let planned_calls_a_day = events.iter().map(|event| event.calls_a_day).sum();
    steps.push(format!(
        "together: {planned_calls_a_day} calls a day of the {pace} auto sync may spend"
    ));
    AccountPlan {
        account: load.account.clone(),
        daily_quota: load.daily_quota,
        per_second: load.per_second,
        budget,
        spent_today: load.spent_today,
        pace,
        planned_calls_a_day,
        events,
        warnings,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, people: u64, timing: EventTiming) -> EventLoad {
        EventLoad {
            connection: name.to_string(),
            people,
            data_types: 2,
            timing,
            explicit_interval: None,
        }
    }

    fn standard(events: Vec<EventLoad>) -> AccountLoad {
        AccountLoad {
            account: "cvent-rest:https://sandbox:client".to_string(),
            daily_quota: Some(15_000),
            per_second: 10.0,
            spent_today: 0,
            seconds_left_today: DAY_SECONDS,
            events,
        }
    }

    #[test]
    fn weights_follow_size_and_how_soon_the_event_is() {
        // (people, timing) → weight.
        let cases = [
            (50, EventTiming::Running, 4.0),
            (100, EventTiming::Unknown, 4.0),
            (400, EventTiming::Running, 8.0),
            (10_000, EventTiming::StartsIn(7.0), 25.0),
            (1_000_000, EventTiming::StartsIn(0.0), 40.0),
            (2_500, EventTiming::StartsIn(14.0), 10.0),
            (900, EventTiming::Over, 3.0),
        ];
        for (people, timing, expected) in cases {
            let weight = size_weight(people) * timing.urgency();
            assert!(
                (weight - expected).abs() < 1e-9,
                "{people} people, {timing:?}: {weight}"
            );
        }
    }

    #[test]
    fn fifty_events_share_a_standard_quota_without_passing_it() {
        let events = (0..50)
            .map(|i| {
                let timing = match i % 3 {
                    0 => EventTiming::Running,
                    1 => EventTiming::StartsIn(f64::from(i)),
                    _ => EventTiming::Over,
                };
                event(&format!("event-{i}"), 100 + 200 * i as u64, timing)
            })
            .collect();
        let plan = plan(&standard(events));
        assert_eq!(plan.budget, 7_500);
        assert!(plan.planned_calls_a_day <= 7_500, "{:#?}", plan.steps);
        assert!(
            plan.planned_calls_a_day > 7_000,
            "the budget is used: {:#?}",
            plan.steps
        );
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
        let interval = |name: &str| plan.interval_of(name).unwrap_or(0);
        // Larger and sooner events sync more often.
        assert!(
            interval("event-48") < interval("event-0"),
            "{:#?}",
            plan.steps
        );
        assert!(
            interval("event-3") < interval("event-4"),
            "{:#?}",
            plan.steps
        );
        assert!(
            interval("event-4") < interval("event-5"),
            "{:#?}",
            plan.steps
        );
    }

    #[test]
    fn the_arithmetic_is_shown_step_by_step() {
        let mut load = standard(vec![
            event("big", 10_000, EventTiming::Running),
            event("small", 100, EventTiming::Over),
        ]);
        load.daily_quota = Some(1_000);
        let plan = plan(&load);
        let shown = plan.steps.join("\n");
        // Changed records: 500 → 3 calls, 5 → 1 call; weights 40 and 1, 2 data types each.
        for expected in [
            "auto sync may spend 50% of 1000 = 500 calls a day",
            "changed records (5% of each event's people a day, pages of 200) cost 4 calls a day",
            "500 − 4 − 0 = 496 calls a day for the planned events' syncs",
            "496 / Σ(weight × data types) 82.00 = 6.049 syncs a day per unit of weight",
            "big: 10000 people, running, weight 40.00 → ⌊241.95⌋ = 241 syncs a day → every 359 s, 485 calls a day",
            "small: 100 people, over, weight 1.00 → ⌊6.05⌋ = 6 syncs a day → every 14400 s, 13 calls a day",
            "together: 498 calls a day of the 500 auto sync may spend",
        ] {
            assert!(shown.contains(expected), "missing {expected:?} in\n{shown}");
        }
    }

    #[test]
    fn events_held_at_a_minute_leave_their_share_to_the_others() {
        let events = vec![
            event("big", 10_000, EventTiming::Running),
            event("mid", 900, EventTiming::StartsIn(30.0)),
            event("small", 100, EventTiming::Over),
        ];
        let plan = plan(&standard(events));
        let shown = plan.steps.join("\n");
        assert_eq!(
            plan.interval_of("big"),
            Some(MIN_INTERVAL_SECONDS),
            "{shown}"
        );
        assert!(shown.contains("the rest is shared again"), "{shown}");
        // What "big" could not use went to the others, within the budget.
        assert!(plan.planned_calls_a_day <= 7_500, "{shown}");
        assert!(plan.planned_calls_a_day > 7_490, "{shown}");
    }

    #[test]
    fn calls_spent_today_shrink_the_rest_of_the_day() {
        let events = vec![event("a", 1_000, EventTiming::Running)];
        let fresh = plan(&standard(events.clone()));
        // Half the day left, and webhook-driven runs already spent 4,500 of the 7,500: the
        // 3,000 left over half a day is a pace of 6,000 a day.
        let mut load = standard(events);
        load.spent_today = 4_500;
        load.seconds_left_today = 43_200;
        let later = plan(&load);
        assert_eq!(later.pace, 6_000, "{:#?}", later.steps);
        assert!(later.interval_of("a") >= fresh.interval_of("a"));
        // Little spent by midday is not made up for: the pace stays at the budget.
        load.spent_today = 1_000;
        let behind = plan(&load);
        assert_eq!(behind.pace, 7_500, "{:#?}", behind.steps);
        assert!(
            behind
                .steps
                .iter()
                .any(|s| s.contains("at most the budget: 7500")),
            "{:#?}",
            behind.steps
        );
        // 7,000 spent leaves 500 for the half day: a pace of 1,000 a day.
        load.spent_today = 7_000;
        let spent = plan(&load);
        assert_eq!(spent.pace, 1_000);
        assert!(spent.interval_of("a") > fresh.interval_of("a"));
        // All spent: one sync a day, with a warning.
        load.spent_today = 8_000;
        let none = plan(&load);
        assert_eq!(none.pace, 0);
        assert_eq!(none.interval_of("a"), Some(DAY_SECONDS));
        assert_eq!(none.warnings.len(), 2, "{:?}", none.warnings);
    }

    #[test]
    fn an_interval_set_by_hand_wins_and_counts() {
        let mut by_hand = event("hand", 1_000, EventTiming::Running);
        by_hand.explicit_interval = Some(60);
        let load = standard(vec![by_hand, event("planned", 1_000, EventTiming::Running)]);
        let plan = plan(&load);
        assert_eq!(plan.interval_of("hand"), Some(60));
        // 1,440 syncs × 2 data types = 2,880, plus 1 call of changes each.
        let rest = 7_500 - 2 - 2_880;
        let planned = &plan.events[1];
        assert_eq!(planned.syncs_a_day, (rest / 2).min(1_440));
        assert!(plan.planned_calls_a_day <= 7_500, "{:#?}", plan.steps);

        // Explicit intervals past the budget: the user's still win, and the plan says so.
        let many: Vec<EventLoad> = (0..10)
            .map(|i| {
                let mut e = event(&format!("e{i}"), 100, EventTiming::Running);
                e.explicit_interval = Some(60);
                e
            })
            .collect();
        let over = super::plan(&standard(many));
        assert!(over.events.iter().all(|e| e.interval_seconds == 60));
        assert!(
            over.warnings
                .iter()
                .any(|w| w.contains("more than the 7500")),
            "{:?}",
            over.warnings
        );
    }

    #[test]
    fn without_a_quota_the_rate_is_the_limit() {
        let mut load = standard(vec![event("a", 1_000, EventTiming::Running)]);
        load.daily_quota = None;
        load.per_second = 2.0;
        let plan = plan(&load);
        assert_eq!(plan.budget, 86_400);
        assert_eq!(plan.interval_of("a"), Some(MIN_INTERVAL_SECONDS));
    }
}
