//! Sign-in throttling, per account and per address: after a number of failures within a
//! window, further attempts are refused until the window has passed since the last failure.
//! An attempt is counted before its password or code is checked (and taken back when it
//! succeeds), so attempts sent all at once cannot slip past the count. Kept in memory: a
//! restart forgets it, as it forgets sessions.

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
    /// Begins an attempt: refused (minutes to wait) when any key is throttled, else counted as
    /// a failure at once, under one lock. [`Throttle::succeeded`] takes the count back.
    pub fn attempt(&self, keys: &[(String, u32)], now: i64) -> Result<(), u64> {
        let mut strikes = self.strikes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(minutes) = refused_in(&strikes, keys, now) {
            return Err(minutes);
        }
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
        Ok(())
    }

    /// An attempt succeeded: the account's failures are forgotten, and the address's count of
    /// this attempt is taken back.
    pub fn succeeded(&self, keys: &[(String, u32)]) {
        let mut strikes = self.strikes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((account, _)) = keys.first() {
            strikes.remove(account);
        }
        take_back_address(&mut strikes, keys);
    }

    /// The password was right but a code is still to come: the address's count of this attempt
    /// is taken back; the account's stays until the code is right, so codes cannot be guessed
    /// on the strength of a known password.
    pub fn password_right(&self, keys: &[(String, u32)]) {
        let mut strikes = self.strikes.lock().unwrap_or_else(PoisonError::into_inner);
        take_back_address(&mut strikes, keys);
    }
}

fn take_back_address(strikes: &mut HashMap<String, Strikes>, keys: &[(String, u32)]) {
    for (key, _) in keys.iter().skip(1) {
        if let Some(entry) = strikes.get_mut(key) {
            entry.failures = entry.failures.saturating_sub(1);
        }
    }
}

fn refused_in(strikes: &HashMap<String, Strikes>, keys: &[(String, u32)], now: i64) -> Option<u64> {
    keys.iter()
        .filter_map(|(key, limit)| {
            let entry = strikes.get(key)?;
            let left = entry.last + WINDOW_SECONDS - now;
            (entry.failures >= *limit && left > 0).then_some(left)
        })
        .max()
        .map(|seconds| seconds.unsigned_abs().div_ceil(60))
}

/// The throttle keys of a sign-in attempt: the account first, then the address.
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
            assert_eq!(throttle.attempt(&keys, 1000), Ok(()), "attempt {attempt}");
        }
        assert_eq!(throttle.attempt(&keys, 1000), Err(15));
        assert_eq!(throttle.attempt(&keys, 1000 + WINDOW_SECONDS - 60), Err(1));
        // Another name from the same address is not refused.
        let bob = super::keys("bob", "127.0.0.1".parse().unwrap());
        assert_eq!(throttle.attempt(&bob, 1000), Ok(()));
        throttle.succeeded(&bob);
        // Once the window has passed, the count starts again.
        assert_eq!(throttle.attempt(&keys, 1000 + WINDOW_SECONDS), Ok(()));
        throttle.succeeded(&keys);
        assert_eq!(throttle.attempt(&keys, 1000 + WINDOW_SECONDS), Ok(()));
    }

    #[test]
    fn an_address_is_refused_after_its_own_larger_count() {
        let throttle = Throttle::default();
        let address: std::net::IpAddr = "192.0.2.7".parse().unwrap();
        for n in 0..ADDRESS_FAILURES {
            assert_eq!(throttle.attempt(&keys(&format!("user{n}"), address), 50), Ok(()));
        }
        assert!(throttle.attempt(&keys("someone-else", address), 50).is_err());
        assert!(
            throttle
                .attempt(&keys("someone-else", "192.0.2.8".parse().unwrap()), 50)
                .is_ok()
        );
    }
}
