//! Vendor rate budgets shared by every process on a PostgreSQL workspace: one `rate_budgets`
//! row per account, holding a per-second leaky bucket and the count of today's calls.
//!
//! A call's slot is taken in one statement — `INSERT … ON CONFLICT DO UPDATE … RETURNING`, which
//! locks the account's row and always works on its newest version — so two processes never
//! spend the same token, and a call costs one round trip. The table is unlogged, so a take's
//! commit does not wait for the disk (its migration says what a crash of the database loses).
//! The bucket is refilled from the time elapsed on the database's clock, which every process
//! shares whatever host it runs on. The limits come with each call (the caller's latest word
//! from the vendor), so a tier read by one process applies to all at their next call.
//!
//! A SQLite workspace is one process's: it keeps its budgets in memory, and asks nothing here.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::StoreError;
use crate::error::query_failed;

/// What the workspace answered when asked for one call's slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetSlot {
    /// Whether the call may go.
    pub granted: bool,
    /// Tokens left in the bucket after this call (below 1 when refused for the rate).
    pub tokens: f64,
    /// Today's calls on the account, every process's, this one included when granted.
    pub used_today: u64,
    /// Until when the vendor said the quota is spent, if that time has not come.
    pub exhausted_until: Option<DateTime<Utc>>,
    /// When today (UTC, on the database's clock) ends and the daily count starts again.
    pub day_ends_at: DateTime<Utc>,
}

/// The limits a slot is taken under, as the vendor stated them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetLimits {
    pub per_second: f64,
    pub burst: f64,
    pub daily_quota: Option<u64>,
}

const SECONDS_A_DAY: f64 = 86_400.0;

/// A row made by a mark or a count before any take has a full bucket: `'Infinity'` tokens, which
/// the first take cuts to the burst.
///
/// The statement that takes one slot. `$1` account, `$2` calls a second, `$3` burst, `$4` the
/// daily quota or NULL. The proposed row (`EXCLUDED`) carries the database's time as
/// `refilled_at` and today as `day`; every expression over the stored row (`b`) reads the
/// version the statement holds locked.
fn take_statement() -> String {
    let now = "EXCLUDED.refilled_at";
    let filled = format!("LEAST($3, b.tokens + GREATEST({now} - b.refilled_at, 0) * $2)");
    let used = "(CASE WHEN b.day = EXCLUDED.day THEN b.used_today ELSE 0 END)";
    let blocked = format!("COALESCE(b.exhausted_until > {now}, FALSE)");
    let granted =
        format!("(NOT {blocked} AND ($4::BIGINT IS NULL OR {used} < $4) AND {filled} >= 1)");
    format!(
        "WITH clock AS (SELECT EXTRACT(EPOCH FROM clock_timestamp())::DOUBLE PRECISION AS now)
         INSERT INTO rate_budgets AS b
             (account, tokens, refilled_at, day, used_today, exhausted_until, granted)
         SELECT $1, GREATEST($3 - 1, 0), now, FLOOR(now / {SECONDS_A_DAY})::BIGINT, 1, NULL, TRUE
         FROM clock
         WHERE $3 >= 1 AND ($4::BIGINT IS NULL OR $4 > 0)
         ON CONFLICT (account) DO UPDATE SET
             tokens = {filled} - CASE WHEN {granted} THEN 1 ELSE 0 END,
             refilled_at = GREATEST(b.refilled_at, {now}),
             day = EXCLUDED.day,
             used_today = {used} + CASE WHEN {granted} THEN 1 ELSE 0 END,
             exhausted_until = CASE WHEN {blocked} THEN b.exhausted_until END,
             granted = {granted}
         RETURNING granted, tokens, used_today, exhausted_until, day"
    )
}

fn from_epoch(seconds: f64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros((seconds * 1_000_000.0).round() as i64)
}

fn next_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.date_naive();
    today
        .succ_opt()
        .unwrap_or(today)
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
}

fn to_epoch(instant: DateTime<Utc>) -> f64 {
    instant.timestamp_micros() as f64 / 1_000_000.0
}

impl crate::postgres::PostgresStore {
    pub(crate) async fn take_budget_slot(
        &self,
        account: &str,
        limits: BudgetLimits,
    ) -> Result<BudgetSlot, StoreError> {
        let operation = format!("taking a call's slot in the rate budget of {account}");
        let failed = |error| query_failed(&operation, error);
        let quota = limits
            .daily_quota
            .map(|quota| i64::try_from(quota).unwrap_or(i64::MAX));
        let row = sqlx::query(sqlx::AssertSqlSafe(take_statement()))
            .bind(account)
            .bind(limits.per_second)
            .bind(limits.burst)
            .bind(quota)
            .fetch_optional(self.pool())
            .await
            .map_err(failed)?;
        // No row: a fresh account whose limits allow no call at all (a burst under one, or a
        // quota of zero); the insert's condition kept it out.
        let Some(row) = row else {
            return Ok(BudgetSlot {
                granted: false,
                tokens: limits.burst,
                used_today: 0,
                exhausted_until: None,
                day_ends_at: next_midnight(Utc::now()),
            });
        };
        let granted: bool = row.try_get(0).map_err(failed)?;
        let tokens: f64 = row.try_get(1).map_err(failed)?;
        let used_today: i64 = row.try_get(2).map_err(failed)?;
        let exhausted_until: Option<f64> = row.try_get(3).map_err(failed)?;
        let day: i64 = row.try_get(4).map_err(failed)?;
        let day_ends_at = from_epoch((day + 1) as f64 * SECONDS_A_DAY).ok_or_else(|| {
            StoreError::Corrupt(format!("the rate budget of {account} counts day {day}"))
        })?;
        Ok(BudgetSlot {
            granted,
            tokens,
            used_today: u64::try_from(used_today).unwrap_or(0),
            exhausted_until: exhausted_until.and_then(from_epoch),
            day_ends_at,
        })
    }

    pub(crate) async fn mark_budget_exhausted(
        &self,
        account: &str,
        resets_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "WITH clock AS (SELECT EXTRACT(EPOCH FROM clock_timestamp())::DOUBLE PRECISION AS now)
             INSERT INTO rate_budgets AS b
                 (account, tokens, refilled_at, day, used_today, exhausted_until, granted)
             SELECT $1, 'Infinity', now, FLOOR(now / 86400)::BIGINT, 0, $2, FALSE FROM clock
             ON CONFLICT (account) DO UPDATE SET exhausted_until = EXCLUDED.exhausted_until",
        )
        .bind(account)
        .bind(to_epoch(resets_at))
        .execute(self.pool())
        .await
        .map_err(|error| {
            query_failed(format!("marking the rate budget of {account} spent"), error)
        })?;
        Ok(())
    }

    pub(crate) async fn set_budget_used_today(
        &self,
        account: &str,
        used: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "WITH clock AS (SELECT EXTRACT(EPOCH FROM clock_timestamp())::DOUBLE PRECISION AS now)
             INSERT INTO rate_budgets AS b
                 (account, tokens, refilled_at, day, used_today, exhausted_until, granted)
             SELECT $1, 'Infinity', now, FLOOR(now / 86400)::BIGINT, $2, NULL, FALSE FROM clock
             ON CONFLICT (account) DO UPDATE SET
                 used_today = GREATEST(
                     CASE WHEN b.day = EXCLUDED.day THEN b.used_today ELSE 0 END,
                     EXCLUDED.used_today),
                 day = EXCLUDED.day",
        )
        .bind(account)
        .bind(i64::try_from(used).unwrap_or(i64::MAX))
        .execute(self.pool())
        .await
        .map_err(|error| {
            query_failed(
                format!("recording the vendor's count of today's calls for {account}"),
                error,
            )
        })?;
        Ok(())
    }
}

/// What the SQLite dialect answers: its budgets are in its one process's memory.
pub(crate) fn not_shared(account: &str) -> StoreError {
    StoreError::Query(format!(
        "the rate budget of {account} is not shared on SQLite: a SQLite workspace has one \
         process, which keeps its budgets in memory"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds_keep_microseconds_both_ways() {
        let instant = DateTime::parse_from_rfc3339("2026-12-07T06:10:11.123456Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("time");
        assert_eq!(from_epoch(to_epoch(instant)), Some(instant));
    }
}
