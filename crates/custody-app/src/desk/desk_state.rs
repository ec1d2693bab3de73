//! The desk's sessions and sign-in counts kept in the store, for desks that run as several
//! processes on one database (a team's service behind a load balancer): a session started by one
//! is known to the others, and sign-in attempts are counted once across them.
//!
//! Nothing here names a session or an address in the clear: records are keyed by keyed hashes
//! (the vault's checkpoint MAC, by purpose), a session's form token is derived from its id the
//! same way, and a second-factor secret shown for enrolment is sealed.

use serde::{Deserialize, Serialize};

use custody_store::DeskStateRecord;

use crate::dir::Ledger;
use custody_vault::Vault;

use crate::error::Result;

const SESSION: &str = "session";
const STRIKES: &str = "strikes";

/// A session as the desk sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSession {
    /// The account.
    pub account: String,
    /// The token every form of this session carries (derived from its id).
    pub csrf: String,
    /// Signed in at (Unix seconds).
    pub created: i64,
    /// Last asked for a page at.
    pub seen: i64,
    /// The password was right; the second factor is still to come.
    pub needs_code: bool,
    /// A second-factor secret shown for enrolment, until a code confirms it.
    pub enrolling: Option<Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    account: String,
    created: i64,
    seen: i64,
    needs_code: bool,
    enrolling: Option<Vec<u8>>,
}

fn key(vault: &Vault, purpose: &str, name: &str) -> Vec<u8> {
    vault
        .checkpoint_mac(purpose, name.as_bytes())
        .get(..16)
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}

fn csrf(vault: &Vault, id: &str) -> String {
    custody_vault::hex(&vault.checkpoint_mac("desk.csrf", id.as_bytes()))
}

fn owner_of(account: &str) -> String {
    account.to_lowercase()
}

fn corrupt(error: impl std::fmt::Display) -> custody_store::Error {
    custody_store::Error::Corrupt(format!("a desk session: {error}"))
}

fn encode(vault: &Vault, id: &str, session: &SharedSession) -> Result<DeskStateRecord> {
    let enrolling = match &session.enrolling {
        Some(secret) => Some(vault.sealer().seal(secret, id.as_bytes())?),
        None => None,
    };
    let stored = Stored {
        account: session.account.clone(),
        created: session.created,
        seen: session.seen,
        needs_code: session.needs_code,
        enrolling,
    };
    Ok(DeskStateRecord {
        key: key(vault, "desk.session", id),
        owner: owner_of(&session.account),
        value: serde_json::to_vec(&stored).map_err(corrupt)?,
        updated: session.seen,
    })
}

fn decode(vault: &Vault, id: &str, record: &DeskStateRecord) -> Result<SharedSession> {
    let stored: Stored = serde_json::from_slice(&record.value).map_err(corrupt)?;
    let enrolling = match &stored.enrolling {
        Some(sealed) => Some(vault.open(sealed, id.as_bytes())?),
        None => None,
    };
    Ok(SharedSession {
        account: stored.account,
        csrf: csrf(vault, id),
        created: stored.created,
        seen: stored.seen,
        needs_code: stored.needs_code,
        enrolling,
    })
}

/// Starts a session with the id `id` (made by the desk); returns it with its form token.
pub fn start_session(
    ledger: &mut Ledger,
    id: &str,
    account: &str,
    needs_code: bool,
    now: i64,
    stale_before: i64,
) -> Result<SharedSession> {
    let session = SharedSession {
        account: account.to_owned(),
        csrf: csrf(&ledger.vault, id),
        created: now,
        seen: now,
        needs_code,
        enrolling: None,
    };
    let record = encode(&ledger.vault, id, &session)?;
    ledger
        .store
        .remove_desk_state(SESSION, None, None, stale_before)?;
    ledger
        .store
        .update_desk_state(SESSION, std::slice::from_ref(&record.key), &mut |records| {
            if let Some(slot) = records.first_mut() {
                *slot = Some(record.clone());
            }
            Ok(())
        })?;
    Ok(session)
}

/// Changes the session `id` through `change`, which sees it (or `None`) and says what it
/// becomes (`None` ends it); returns what it became.
pub fn change_session(
    ledger: &mut Ledger,
    id: &str,
    change: &mut dyn FnMut(Option<SharedSession>) -> Option<SharedSession>,
) -> Result<Option<SharedSession>> {
    let key = key(&ledger.vault, "desk.session", id);
    let vault = &ledger.vault;
    let mut outcome: Result<Option<SharedSession>> = Ok(None);
    ledger
        .store
        .update_desk_state(SESSION, std::slice::from_ref(&key), &mut |records| {
            let Some(slot) = records.first_mut() else {
                return Ok(());
            };
            outcome = (|| {
                let current = slot
                    .as_ref()
                    .map(|record| decode(vault, id, record))
                    .transpose()?;
                let next = change(current);
                *slot = next
                    .as_ref()
                    .map(|session| encode(vault, id, session))
                    .transpose()?;
                Ok(next)
            })();
            Ok(())
        })?;
    outcome
}

/// Ends every session of `account` but `keep`.
pub fn end_other_sessions(ledger: &mut Ledger, account: &str, keep: Option<&str>) -> Result<()> {
    let keep = keep.map(|id| key(&ledger.vault, "desk.session", id));
    ledger
        .store
        .remove_desk_state(SESSION, Some(&owner_of(account)), keep.as_deref(), i64::MIN)?;
    Ok(())
}

/// Sign-in failures counted under one name: (failures, last failure).
pub type Strikes = Option<(u32, i64)>;

/// Loads the counts named by `names`, lets `update` change them, and writes them back, with no
/// other desk's counting in between; counts untouched for `window` seconds are swept.
pub fn update_strikes(
    ledger: &mut Ledger,
    names: &[String],
    now: i64,
    window: i64,
    update: &mut dyn FnMut(&mut [Strikes]),
) -> Result<()> {
    let keys: Vec<Vec<u8>> = names
        .iter()
        .map(|name| key(&ledger.vault, "desk.strikes", name))
        .collect();
    ledger
        .store
        .remove_desk_state(STRIKES, None, None, now - window)?;
    ledger.store.update_desk_state(STRIKES, &keys, &mut |records| {
        let mut strikes: Vec<Strikes> = records
            .iter()
            .map(|record| {
                record.as_ref().and_then(|record| {
                    let text = std::str::from_utf8(&record.value).ok()?;
                    let (failures, last) = text.split_once(' ')?;
                    Some((failures.parse().ok()?, last.parse().ok()?))
                })
            })
            .collect();
        update(&mut strikes);
        for ((slot, key), counted) in records.iter_mut().zip(&keys).zip(&strikes) {
            *slot = counted.map(|(failures, last)| DeskStateRecord {
                key: key.clone(),
                owner: String::new(),
                value: format!("{failures} {last}").into_bytes(),
                updated: last,
            });
        }
        Ok(())
    })?;
    Ok(())
}
