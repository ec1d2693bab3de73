//! Sign-in throttling that cannot be turned against an account's owner.
//!
//! Failures are counted per pair of account and address, with an exponential back-off: a few
//! tries are free, then each further try from that address to that account waits twice as long
//! as the one before, up to the window. An address is also capped across every name it tries.
//! Failures to one account from everywhere are not a lock (five wrong passwords from a stranger
//! would otherwise keep the owner out): they raise an alert, audited on the account, once per
//! window. The owner, from their own address, signs in as usual throughout.
//!
//! An attempt is counted before its password or code is checked (and taken back when it
//! succeeds), so attempts sent all at once cannot slip past the count. Kept in memory by a desk
//! alone on its store (a restart forgets it, as it forgets sessions); kept in the store, under
//! keyed names, when desks on several processes share it (`custody_app::desk::desk_state`), so an
//! attacker gains nothing by spreading tries over them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::DeskError;
use crate::state::Ledgers;

/// Failures a pair of account and address may have before the back-off starts.
pub const PAIR_FREE_FAILURES: u32 = 3;
/// Failures an address may have within the window, over every name (several people may share
/// one address).
pub const ADDRESS_FAILURES: u32 = 20;
/// Failures to one account, from anywhere, within the window that raise an alert.
pub const ACCOUNT_ALERT_FAILURES: u32 = 10;
/// The window, and the longest back-off.
pub const WINDOW_SECONDS: i64 = 15 * 60;
/// Keys kept before old ones are swept.
const KEYS_MAX: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Strikes {
    failures: u32,
    last: i64,
}

impl Strikes {
    /// Counts one more failure at `now`; the count starts again once it is a window old.
    fn strike(&mut self, now: i64) -> u32 {
        if self.last + WINDOW_SECONDS <= now {
            self.failures = 0;
        }
        self.failures += 1;
        self.last = now;
        self.failures
    }

    fn take_back(&mut self) {
        self.failures = self.failures.saturating_sub(1);
    }
}

/// Seconds a pair must wait after its last failure, given its failures.
fn back_off_seconds(failures: u32) -> i64 {
    if failures < PAIR_FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - PAIR_FREE_FAILURES).min(20);
    (1i64 << doublings).min(WINDOW_SECONDS)
}

#[derive(Debug, Default)]
struct Counts {
    pairs: HashMap<(String, IpAddr), Strikes>,
    addresses: HashMap<IpAddr, Strikes>,
    accounts: HashMap<String, Strikes>,
}

/// What an admitted attempt means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// This attempt brings the account's failures from everywhere to the alert level (once per
    /// window): audit an alert on the account if it is one.
    pub alert: bool,
}

/// The sign-in counts of a desk alone on its store.
#[derive(Debug, Default)]
pub struct Counter {
    counts: Mutex<Counts>,
}

/// The sign-in counts: in memory, or in the store shared with other desks.
pub struct Throttle {
    here: Counter,
    shared: Option<Arc<Ledgers>>,
}

/// Whether an attempt may go ahead: refused (seconds to wait) when the address is over its cap
/// or the pair is backing off; else counted as a failure at once.
fn admit(
    pair: &mut Option<Strikes>,
    address: &mut Option<Strikes>,
    account: &mut Option<Strikes>,
    now: i64,
) -> Result<Admitted, u64> {
    let address_wait = address
        .filter(|strikes| strikes.failures >= ADDRESS_FAILURES)
        .map_or(0, |strikes| strikes.last + WINDOW_SECONDS - now);
    let pair_wait = pair
        .filter(|strikes| strikes.last + WINDOW_SECONDS > now)
        .map_or(0, |strikes| {
            strikes.last + back_off_seconds(strikes.failures) - now
        });
    let wait = address_wait.max(pair_wait);
    if wait > 0 {
        return Err(wait.unsigned_abs());
    }
    let fresh = Strikes {
        failures: 0,
        last: now,
    };
    pair.get_or_insert(fresh).strike(now);
    address.get_or_insert(fresh).strike(now);
    let account_failures = account.get_or_insert(fresh).strike(now);
    Ok(Admitted {
        alert: account_failures == ACCOUNT_ALERT_FAILURES,
    })
}

/// The names the store keeps a pair's, an address's and an account's counts under.
fn shared_names(name: &str, address: IpAddr) -> Vec<String> {
    let (account, address) = (account_key(name), address_key(address));
    vec![
        format!("pair {account} {address}"),
        format!("address {address}"),
        format!("account {account}"),
    ]
}

fn from_shared(counted: Option<(u32, i64)>) -> Option<Strikes> {
    counted.map(|(failures, last)| Strikes { failures, last })
}

fn to_shared(strikes: Option<Strikes>) -> Option<(u32, i64)> {
    strikes.map(|strikes| (strikes.failures, strikes.last))
}

impl Throttle {
    /// Counts kept in memory.
    pub fn in_memory() -> Self {
        Throttle {
            here: Counter::default(),
            shared: None,
        }
    }

    /// Counts kept in the store, shared with the other desks on it.
    pub fn shared(ledgers: Arc<Ledgers>) -> Self {
        Throttle {
            here: Counter::default(),
            shared: Some(ledgers),
        }
    }

    /// Runs `change` on the stored counts of a pair, its address and its account.
    async fn change_shared<T: Send + 'static>(
        ledgers: &Arc<Ledgers>,
        name: &str,
        address: IpAddr,
        now: i64,
        change: impl FnOnce(&mut [Option<Strikes>; 3]) -> T + Send + 'static,
    ) -> Result<T, DeskError> {
        let names = shared_names(name, address);
        ledgers
            .run("desk", move |ledger| {
                let mut change = Some(change);
                let mut out = None;
                custody_app::desk::desk_state::update_strikes(
                    ledger,
                    &names,
                    now,
                    WINDOW_SECONDS,
                    &mut |counted| {
                        let mut strikes = [None, None, None];
                        for (slot, value) in strikes.iter_mut().zip(counted.iter()) {
                            *slot = from_shared(*value);
                        }
                        if let Some(change) = change.take() {
                            out = Some(change(&mut strikes));
                        }
                        for (value, slot) in counted.iter_mut().zip(strikes) {
                            *value = to_shared(slot);
                        }
                    },
                )?;
                out.ok_or_else(|| DeskError::Internal("the sign-in counts were not read".to_owned()))
            })
            .await
    }

    /// Begins an attempt (see [`Counter::attempt`]).
    pub async fn attempt(
        &self,
        name: &str,
        address: IpAddr,
        now: i64,
    ) -> Result<Result<Admitted, u64>, DeskError> {
        match &self.shared {
            None => Ok(self.here.attempt(name, address, now)),
            Some(ledgers) => {
                Self::change_shared(ledgers, name, address, now, move |[pair, address, account]| {
                    admit(pair, address, account, now)
                })
                .await
            }
        }
    }

    /// An attempt succeeded (see [`Counter::succeeded`]).
    pub async fn succeeded(&self, name: &str, address: IpAddr, now: i64) -> Result<(), DeskError> {
        match &self.shared {
            None => {
                self.here.succeeded(name, address);
                Ok(())
            }
            Some(ledgers) => {
                Self::change_shared(ledgers, name, address, now, |[pair, address, account]| {
                    *pair = None;
                    for strikes in [address, account].into_iter().flatten() {
                        strikes.take_back();
                    }
                })
                .await
            }
        }
    }

    /// The password was right but a code is still to come (see [`Counter::password_right`]).
    pub async fn password_right(&self, name: &str, address: IpAddr, now: i64) -> Result<(), DeskError> {
        match &self.shared {
            None => {
                self.here.password_right(address);
                Ok(())
            }
            Some(ledgers) => {
                Self::change_shared(ledgers, name, address, now, |[_, address, _]| {
                    if let Some(strikes) = address {
                        strikes.take_back();
                    }
                })
                .await
            }
        }
    }
}

/// Characters of a name kept as a key: longer names are cut (no account name is longer), so a
/// flood of long names cannot grow the counts' memory.
const NAME_KEY_CHARS_MAX: usize = 64;

fn account_key(name: &str) -> String {
    name.trim()
        .chars()
        .take(NAME_KEY_CHARS_MAX)
        .collect::<String>()
        .to_lowercase()
}

/// The address as counted: IPv4 whole, IPv6 by its /64 (one subscriber's network holds
/// billions of addresses).
fn address_key(address: IpAddr) -> IpAddr {
    // An IPv4 client of a listener on `[::]` arrives as `::ffff:a.b.c.d`: counted as itself.
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let [first, second, third, fourth, ..] = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(first, second, third, fourth, 0, 0, 0, 0))
        }
    }
}

impl Counter {
    /// Begins an attempt: refused (seconds to wait) when the address is over its cap or the pair
    /// is backing off, else counted as a failure at once, under one lock. [`Throttle::succeeded`]
    /// takes the count back.
    pub fn attempt(&self, name: &str, address: IpAddr, now: i64) -> Result<Admitted, u64> {
        let address = address_key(address);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.pairs.len() + counts.addresses.len() + counts.accounts.len() > KEYS_MAX {
            sweep(&mut counts, now);
        }
        let account = account_key(name);
        let pair = (account.clone(), address);
        let mut pair_strikes = counts.pairs.get(&pair).copied();
        let mut address_strikes = counts.addresses.get(&address).copied();
        let mut account_strikes = counts.accounts.get(&account).copied();
        let verdict = admit(&mut pair_strikes, &mut address_strikes, &mut account_strikes, now);
        if let (Some(pair_strikes), Some(address_strikes), Some(account_strikes)) =
            (pair_strikes, address_strikes, account_strikes)
        {
            counts.pairs.insert(pair, pair_strikes);
            counts.addresses.insert(address, address_strikes);
            counts.accounts.insert(account, account_strikes);
        }
        verdict
    }

    /// An attempt succeeded: the pair's failures are forgotten, and this attempt's count is
    /// taken back from the address and the account.
    pub fn succeeded(&self, name: &str, address: IpAddr) {
        let address = address_key(address);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let account = account_key(name);
        counts.pairs.remove(&(account.clone(), address));
        if let Some(strikes) = counts.accounts.get_mut(&account) {
            strikes.take_back();
        }
        if let Some(strikes) = counts.addresses.get_mut(&address) {
            strikes.take_back();
        }
    }

    /// The password was right but a code is still to come: the address's count of this attempt
    /// is taken back; the pair's stays until the code is right, so codes cannot be guessed on the
    /// strength of a known password.
    pub fn password_right(&self, address: IpAddr) {
        let address = address_key(address);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(strikes) = counts.addresses.get_mut(&address) {
            strikes.take_back();
        }
    }
}

fn sweep(counts: &mut Counts, now: i64) {
    let live = |strikes: &mut Strikes| strikes.last + WINDOW_SECONDS > now;
    counts.pairs.retain(|_, strikes| live(strikes));
    counts.addresses.retain(|_, strikes| live(strikes));
    counts.accounts.retain(|_, strikes| live(strikes));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_flood_from_one_address_backs_off_that_address_but_never_the_owner_elsewhere() {
        let throttle = Counter::default();
        let attacker = ip("198.51.100.9");
        let mut now = 1_000;
        let mut admitted = 0;
        // The attacker tries as fast as the back-off lets them for a whole window.
        while now < 1_000 + WINDOW_SECONDS {
            match throttle.attempt("Alice", attacker, now) {
                Ok(_) => admitted += 1,
                Err(wait) => assert!(wait as i64 <= WINDOW_SECONDS),
            }
            now += 1;
        }
        assert!(admitted <= 14, "{admitted} tries in a window");
        // The owner, from home, is let in at once.
        let home = ip("203.0.113.5");
        assert!(throttle.attempt("alice", home, now).is_ok());
        throttle.succeeded("alice", home);
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        let throttle = Counter::default();
        for n in 0..ADDRESS_FAILURES {
            let address = ip(&format!("2001:db8:1:2::{:x}", n + 1));
            assert!(throttle.attempt(&format!("user{n}"), address, 10).is_ok());
        }
        assert!(
            throttle
                .attempt("another", ip("2001:db8:1:2:ffff::1"), 10)
                .is_err()
        );
        assert!(throttle.attempt("another", ip("2001:db8:1:3::1"), 10).is_ok());
        // IPv4 clients of an IPv6 listener are told apart.
        for n in 0..ADDRESS_FAILURES {
            assert!(
                throttle
                    .attempt(&format!("x{n}"), ip(&format!("::ffff:192.0.2.{}", n + 1)), 10)
                    .is_ok()
            );
        }
        assert!(throttle.attempt("someone", ip("::ffff:198.51.100.1"), 10).is_ok());
    }

    #[test]
    fn the_back_off_doubles_after_the_free_tries() {
        let throttle = Counter::default();
        let address = ip("192.0.2.7");
        for _ in 0..PAIR_FREE_FAILURES {
            assert!(throttle.attempt("bob", address, 100).is_ok());
        }
        assert_eq!(throttle.attempt("bob", address, 100), Err(1));
        assert!(throttle.attempt("bob", address, 101).is_ok());
        assert_eq!(throttle.attempt("bob", address, 101), Err(2));
        assert!(throttle.attempt("bob", address, 103).is_ok());
        assert_eq!(throttle.attempt("bob", address, 103), Err(4));
        // A success forgets the pair.
        assert!(throttle.attempt("bob", address, 107).is_ok());
        throttle.succeeded("bob", address);
        assert!(throttle.attempt("bob", address, 107).is_ok());
    }

    #[test]
    fn an_address_is_capped_across_names_and_an_account_raises_one_alert() {
        let throttle = Counter::default();
        let address = ip("192.0.2.8");
        for n in 0..ADDRESS_FAILURES {
            assert!(throttle.attempt(&format!("user{n}"), address, 50).is_ok());
        }
        assert!(throttle.attempt("someone-else", address, 50).is_err());
        assert!(throttle.attempt("someone-else", ip("192.0.2.9"), 50).is_ok());
        // Ten failures to one account from ten addresses: one alert, at the tenth.
        let alerts: Vec<bool> = (0..12)
            .map(|n| {
                throttle
                    .attempt("carol", ip(&format!("192.0.2.{}", n + 20)), 60)
                    .unwrap()
                    .alert
            })
            .collect();
        assert_eq!(alerts.iter().filter(|alert| **alert).count(), 1);
        assert!(alerts[ACCOUNT_ALERT_FAILURES as usize - 1]);
    }
}
