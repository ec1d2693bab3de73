//! Per-account rate limits on what reads people or makes audited documents: person lookups and
//! report downloads. A token bucket per account: a small burst at once, then a steady rate
//! (settings `[desk]`). A refusal is answered 429 with `Retry-After`, and the first refusal of a
//! run of them is audited, so a viewer scripting a thousand lookups leaves a trace and learns
//! little, while the audit log cannot be flooded by the refusals themselves. Kept in memory, like
//! sessions: a restart forgets it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

use custody_core::DeskSettings;

/// What a route is limited as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Looking a person up (by reference or email address).
    Lookup,
    /// Making an audited document (a report).
    Download,
}

impl Limit {
    /// The name used in the audit log and the access table.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::Lookup => "lookup",
            Limit::Download => "download",
        }
    }
}

/// Accounts kept before full buckets are swept.
const KEYS_MAX: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_millis: i64,
    refusing: bool,
}

/// The answer to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allowed,
    /// Refused; `first` when the account was not refused just before (audit this one).
    Refused {
        /// Seconds until one more is allowed.
        retry_seconds: u64,
        /// Whether this starts a run of refusals.
        first: bool,
    },
}

/// One token bucket per key.
#[derive(Debug)]
pub struct Limiter {
    per_millisecond: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// A limiter of `per_minute` after a burst of `burst`.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Limiter {
            per_millisecond: f64::from(per_minute.max(1)) / 60_000.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key` at `now_millis`.
    pub fn take(&self, key: &str, now_millis: i64) -> Verdict {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > KEYS_MAX {
            let (rate, burst) = (self.per_millisecond, self.burst);
            buckets.retain(|_, bucket| {
                bucket.tokens + rate * (now_millis - bucket.at_millis) as f64 + 1e-9 < burst
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at_millis: now_millis,
            refusing: false,
        });
        let elapsed = (now_millis - bucket.at_millis).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed * self.per_millisecond).min(self.burst);
        bucket.at_millis = now_millis;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.refusing = false;
            return Verdict::Allowed;
        }
        let first = !bucket.refusing;
        bucket.refusing = true;
        let wait_millis = (1.0 - bucket.tokens) / self.per_millisecond;
        Verdict::Refused {
            retry_seconds: (wait_millis / 1000.0).ceil().max(1.0) as u64,
            first,
        }
    }
}

/// The desk's limiters.
#[derive(Debug)]
pub struct RateLimits {
    lookup: Limiter,
    download: Limiter,
}

impl RateLimits {
    /// Limiters from the settings.
    pub fn new(settings: &DeskSettings) -> Self {
        RateLimits {
            lookup: Limiter::new(settings.lookups_per_minute, settings.lookup_burst),
            download: Limiter::new(settings.downloads_per_minute, settings.download_burst),
        }
    }

    /// Takes one request of kind `limit` for `actor`.
    pub fn take(&self, limit: Limit, actor: &str, now_millis: i64) -> Verdict {
        match limit {
            Limit::Lookup => self.lookup.take(actor, now_millis),
            Limit::Download => self.download.take(actor, now_millis),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate_and_only_the_first_refusal_is_marked() {
        let limiter = Limiter::new(6, 3);
        for _ in 0..3 {
            assert_eq!(limiter.take("desk:viewer", 0), Verdict::Allowed);
        }
        assert_eq!(
            limiter.take("desk:viewer", 0),
            Verdict::Refused {
                retry_seconds: 10,
                first: true
            }
        );
        assert!(matches!(
            limiter.take("desk:viewer", 1_000),
            Verdict::Refused { first: false, .. }
        ));
        // Another account has its own bucket.
        assert_eq!(limiter.take("desk:other", 1_000), Verdict::Allowed);
        // Six a minute: one more after ten seconds, then refused again as a new run.
        assert_eq!(limiter.take("desk:viewer", 10_000), Verdict::Allowed);
        assert!(matches!(
            limiter.take("desk:viewer", 10_001),
            Verdict::Refused { first: true, .. }
        ));
        // A long pause refills the burst, never beyond it.
        for _ in 0..3 {
            assert_eq!(limiter.take("desk:viewer", 3_600_000), Verdict::Allowed);
        }
        assert!(matches!(
            limiter.take("desk:viewer", 3_600_000),
            Verdict::Refused { .. }
        ));
    }
}
