//! Sign-in throttling, per account and per address: after a number of failures within a
//! window, further attempts are refused until the window has passed since the last failure.
//! Kept in memory: a restart forgets it, as it forgets sessions.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Failures an account may have within the window.
pub const ACCOUNT_FAILURES: u32 = 5;
/// Failures an address may have within the window (several people may share one).
pub const ADDRESS_FAILURES: u32 = 20;
/// The window, and how long a throttled key stays refused after its last failure.
pub const WINDOW_SECONDS: i64 = 15 * 60;
/// Keys kept before old ones are swept.
const KEYS_MAX: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Strikes {
    failures: u32,
    last: i64,
}

/// Failure counts by key (`account:NAME` in lower case, `address:IP`).
#[derive(Debug, Default)]
pub struct Throttle {
    strikes: Mutex<HashMap<String, Strikes>>,
}

impl Throttle {
    /// Minutes left before `keys` may try again, if any of them is throttled.
    pub fn refused(&self, keys: &[(String, u32)], now: i64) -> Option<u64> {
        let strikes = self.strikes.lock().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .filter_map(|(key, limit)| {
                let entry = strikes.get(key)?;
                let left = entry.last + WINDOW_SECONDS - now;
                (entry.failures >= *limit && left > 0).then_some(left)
            })
            .max()
            .map(|seconds| seconds.unsigned_abs().div_ceil(60))
    }

    /// Counts a failure against every key.
    pub fn fail(&self, keys: &[(String, u32)], now: i64) {
        let mut strikes = self.strikes.lock().unwrap_or_else(PoisonError::into_inner);
        if strikes.len() > KEYS_MAX {
            strikes.retain(|_, entry| entry.last + WINDOW_SECONDS > now);
        }
        for (key, _) in keys {
            let entry = strikes.entry(key.clone()).or_insert(Strikes {
                failures: 0,
                last: now,
            });
            if entry.last + WINDOW_SECONDS <= now {
                entry.failures = 0;
            }
            entry.failures += 1;
            entry.last = now;
        }
    }

    /// Forgets an account's failures after it signed in.
    pub fn clear(&self, key: &str) {
        self.strikes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

/// The throttle keys of a sign-in attempt.
pub fn keys(name: &str, address: std::net::IpAddr) -> Vec<(String, u32)> {
    vec![
        (
            format!("account:{}", name.trim().to_lowercase()),
            ACCOUNT_FAILURES,
        ),
        (format!("address:{address}"), ADDRESS_FAILURES),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_refused_after_its_failures_until_the_window_passes() {
        let throttle = Throttle::default();
        let keys = keys("Alice", "127.0.0.1".parse().unwrap());
        for attempt in 0..ACCOUNT_FAILURES {
            assert_eq!(throttle.refused(&keys, 1000), None, "attempt {attempt}");
            throttle.fail(&keys, 1000);
        }
        assert_eq!(throttle.refused(&keys, 1000), Some(15));
        assert_eq!(throttle.refused(&keys, 1000 + WINDOW_SECONDS - 60), Some(1));
        assert_eq!(throttle.refused(&keys, 1000 + WINDOW_SECONDS), None);
        // Another name from the same address is not refused yet.
        let other = super::keys("bob", "127.0.0.1".parse().unwrap());
        assert_eq!(throttle.refused(&other, 1000), None);
        throttle.clear("account:alice");
        assert_eq!(throttle.refused(&keys, 1000), None);
    }
}
