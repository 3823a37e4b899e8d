//! Cvent's per-account rate limits: a leaky bucket per second and a daily quota reset at midnight UTC.
//!
//! Tiers are those of the official spec's "Usage Tiers" table. Throttled requests (per-second
//! limit) are answered `429 Too Many Requests` and do not count against the daily quota; once the
//! quota is spent every request is answered `429 Limit Exceeded` until midnight UTC.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::NaiveDate;

/// A Cvent API usage tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Free,
    Standard,
    Premium,
    /// Not a tier Cvent sells: no quota and no practical rate limit, so benchmarks measure
    /// eventsync and the sandbox rather than the published limits.
    Unlimited,
}

impl Tier {
    pub fn daily_quota(self) -> u64 {
        match self {
            Tier::Free => 1_000,
            Tier::Standard => 15_000,
            Tier::Premium => 500_000,
            Tier::Unlimited => u64::MAX,
        }
    }

    /// The quota as `GET /usage/tier` reports it: `null` means unlimited.
    pub fn reported_quota(self) -> Option<u64> {
        (self != Tier::Unlimited).then(|| self.daily_quota())
    }

    pub fn per_second(self) -> u32 {
        match self {
            Tier::Free => 2,
            Tier::Standard => 10,
            Tier::Premium => 25,
            Tier::Unlimited => 100_000,
        }
    }

    pub fn burst(self) -> u32 {
        match self {
            Tier::Free => 1,
            Tier::Standard => 10,
            Tier::Premium => 25,
            Tier::Unlimited => 100_000,
        }
    }

    /// The plan name `GET /usage/tier` reports.
    pub fn plan_name(self) -> &'static str {
        match self {
            Tier::Free => "API_Platform_Free_Tier",
            Tier::Standard => "API_Platform_Standard_Tier",
            Tier::Premium => "API_Platform_Premium_Tier",
            Tier::Unlimited => "Sandbox_Unlimited",
        }
    }

    pub fn parse(text: &str) -> Option<Tier> {
        match text.to_ascii_lowercase().as_str() {
            "free" => Some(Tier::Free),
            "standard" => Some(Tier::Standard),
            "premium" => Some(Tier::Premium),
            "unlimited" => Some(Tier::Unlimited),
            _ => None,
        }
    }
}

/// Why a request was refused by the limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Over the per-second rate or burst: `{"code":429,"message":"Too Many Requests"}`.
    Throttled,
    /// The day's quota is spent: `{"code":429,"message":"Limit Exceeded"}`.
    QuotaExhausted,
}

/// The account's limiter state.
#[derive(Debug)]
pub struct RateLimiter {
    tier: Tier,
    /// Requests the bucket can still take at once; refills at `per_second`, capped at `burst`.
    bucket: f64,
    refilled_at: Instant,
    used_per_day: BTreeMap<NaiveDate, u64>,
}

impl RateLimiter {
    pub fn new(tier: Tier) -> Self {
        RateLimiter {
            tier,
            bucket: f64::from(tier.burst()),
            refilled_at: Instant::now(),
            used_per_day: BTreeMap::new(),
        }
    }

    pub fn tier(&self) -> Tier {
        self.tier
    }

    pub fn set_tier(&mut self, tier: Tier) {
        self.tier = tier;
        self.bucket = self.bucket.min(f64::from(tier.burst()));
    }

    /// Admits one request made on `today` (UTC), or says why not.
    pub fn admit(&mut self, today: NaiveDate) -> Result<(), Refusal> {
        if self.used(today) >= self.tier.daily_quota() {
            return Err(Refusal::QuotaExhausted);
        }
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled_at).as_secs_f64();
        self.refilled_at = now;
        self.bucket = (self.bucket + elapsed * f64::from(self.tier.per_second()))
            .min(f64::from(self.tier.burst()));
        if self.bucket < 1.0 {
            return Err(Refusal::Throttled);
        }
        self.bucket -= 1.0;
        *self.used_per_day.entry(today).or_default() += 1;
        Ok(())
    }

    pub fn used(&self, day: NaiveDate) -> u64 {
        self.used_per_day.get(&day).copied().unwrap_or(0)
    }

    /// Sets the day's usage, so tests can reach the quota without spending it.
    pub fn set_used(&mut self, day: NaiveDate, used: u64) {
        self.used_per_day.insert(day, used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default()
    }

    #[test]
    fn burst_then_throttle() {
        let mut limiter = RateLimiter::new(Tier::Standard);
        for _ in 0..10 {
            assert_eq!(limiter.admit(day()), Ok(()));
        }
        assert_eq!(limiter.admit(day()), Err(Refusal::Throttled));
        assert_eq!(limiter.used(day()), 10, "throttled calls do not count");
    }

    #[test]
    fn free_tier_allows_one_at_once() {
        let mut limiter = RateLimiter::new(Tier::Free);
        assert_eq!(limiter.admit(day()), Ok(()));
        assert_eq!(limiter.admit(day()), Err(Refusal::Throttled));
        std::thread::sleep(std::time::Duration::from_millis(520));
        assert_eq!(limiter.admit(day()), Ok(()));
    }

    #[test]
    fn quota_exhaustion_is_per_day() {
        let mut limiter = RateLimiter::new(Tier::Premium);
        limiter.set_used(day(), Tier::Premium.daily_quota());
        assert_eq!(limiter.admit(day()), Err(Refusal::QuotaExhausted));
        let tomorrow = day().succ_opt().unwrap_or_default();
        assert_eq!(limiter.admit(tomorrow), Ok(()));
    }
}
