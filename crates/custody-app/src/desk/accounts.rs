//! The desk's accounts and API tokens, made from the command line. A password is kept only as
//! its Argon2id hash; a token is shown once and kept only as its keyed hash (BLAKE3 with the
//! vault's key, so a copy of the database cannot test guesses without the key file). Every
//! change is audited with the acting account.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::Serialize;

use custody_core::{DeskRole, Instant, SupplierId, check_desk_name};
use custody_store::{AccountRecord, NewAccount, NewApiToken};

use crate::dir::{Ledger, signer_for};
use crate::error::{Error, Result};

/// Shortest password accepted.
pub const PASSWORD_CHARS_MIN: usize = 12;
/// Longest password accepted (hashing cost stays bounded).
const PASSWORD_BYTES_MAX: usize = 1024;
/// Domain tag of an API token's keyed hash (identifier kinds use 1 to 5, contact digests 0x10).
const TOKEN_TAG: u8 = 0x20;
/// What an API token begins with, so a leaked one is recognisable.
const TOKEN_PREFIX: &str = "cst_";
/// A password hash made once, offline, for no account: a sign-in with an unknown name is
/// checked against it, so it takes as long as one with a known name.
const DUMMY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$IV4Y0oEYEwSML5eV3f+mbA$Y/H8dOXAYbvmHATzQQRaKQeqPjLKsOuLT74nQhkLTO8";
/// The most memory (KiB) and passes a stored hash may ask for: a tampered database cannot make
/// a sign-in cost the server a gigabyte.
const STORED_MEMORY_MAX_KIB: u32 = 256 * 1024;
const STORED_PASSES_MAX: u32 = 10;

/// An account for output (never its hash).
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    /// Sign-in name.
    pub name: String,
    /// Role.
    pub role: &'static str,
    /// Whether a second factor is enrolled.
    pub totp: bool,
    /// For a supplier's account, the supplier's name.
    pub supplier: Option<String>,
    /// When it was made.
    pub created_at: Instant,
    /// When it was disabled.
    pub disabled_at: Option<Instant>,
}

/// An API token for output (never the token or its hash).
#[derive(Debug, Clone, Serialize)]
pub struct TokenView {
    /// Name.
    pub name: String,
    /// Role.
    pub role: &'static str,
    /// For a supplier's token, the supplier's name.
    pub supplier: Option<String>,
    /// When it was made.
    pub created_at: Instant,
    /// When it was revoked.
    pub revoked_at: Option<Instant>,
}

/// Who holds a live API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    /// The token's name.
    pub name: String,
    /// Its role.
    pub role: DeskRole,
    /// For a supplier's token, the supplier it is bound to.
    pub supplier: Option<SupplierId>,
}

/// The supplier an account or token of `role` is bound to: a supplier's must name one (by its
/// name), and no other role may.
pub fn supplier_binding(
    ledger: &Ledger,
    role: DeskRole,
    supplier: Option<&str>,
) -> Result<Option<(SupplierId, String)>> {
    match (role, supplier) {
        (DeskRole::Supplier, Some(name)) => {
            let found = crate::ledger::suppliers::find(ledger, name)?;
            Ok(Some((found.id, found.name)))
        }
        (DeskRole::Supplier, None) => Err(Error::Invalid(
            "a supplier's account or token is bound to its supplier: give --supplier NAME".to_owned(),
        )),
        (_, Some(_)) => Err(Error::Invalid(
            "--supplier binds a supplier's account or token: it goes with --role supplier only".to_owned(),
        )),
        (_, None) => Ok(None),
    }
}

/// Suppliers' names by id, for views.
fn supplier_names(ledger: &Ledger) -> Result<std::collections::HashMap<SupplierId, String>> {
    Ok(ledger
        .store
        .suppliers()?
        .into_iter()
        .map(|supplier| (supplier.id, supplier.name))
        .collect())
}

/// Adds an account with this password.
/// A supplier's account (`role` supplier) is bound to the supplier named `supplier`.
pub fn add_user(
    ledger: &mut Ledger,
    name: &str,
    role: DeskRole,
    supplier: Option<&str>,
    password: &str,
) -> Result<AccountView> {
    let name = check_desk_name(name)?;
    let bound = supplier_binding(ledger, role, supplier)?;
    check_password(password)?;
    let password_hash = hash_password(password)?;
    let now = ledger.now();
    let draft = ledger.draft(
        "account.add",
        "account",
        serde_json::json!({ "name": name, "role": role.as_str(),
            "supplier": bound.as_ref().map(|(_, name)| name) }),
    );
    let account = NewAccount {
        name: name.to_owned(),
        role,
        password_hash,
        supplier: bound.as_ref().map(|(id, _)| *id),
        created_at: now,
    };
    ledger
        .store
        .add_account(account, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()?;
    Ok(AccountView {
        name: name.to_owned(),
        role: role.as_str(),
        totp: false,
        supplier: bound.map(|(_, name)| name),
        created_at: now,
        disabled_at: None,
    })
}

/// Sets a new password for an active account.
pub fn set_password(ledger: &mut Ledger, name: &str, password: &str) -> Result<()> {
    check_password(password)?;
    let password_hash = hash_password(password)?;
    let draft = ledger.draft("account.password", "account", serde_json::json!({ "name": name }));
    ledger.store.set_account_password(
        name,
        &password_hash,
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()
}

/// Disables an account: it can no longer sign in; it stays, with the moment.
pub fn disable_user(ledger: &mut Ledger, name: &str) -> Result<()> {
    let now = ledger.now();
    let draft = ledger.draft("account.disable", "account", serde_json::json!({ "name": name }));
    ledger
        .store
        .disable_account(name, now, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()
}

/// Every account.
pub fn users(ledger: &Ledger) -> Result<Vec<AccountView>> {
    let names = supplier_names(ledger)?;
    Ok(ledger
        .store
        .accounts()?
        .iter()
        .map(|account| view(account, &names))
        .collect())
}

fn view(account: &AccountRecord, names: &std::collections::HashMap<SupplierId, String>) -> AccountView {
    AccountView {
        name: account.name.clone(),
        role: account.role.as_str(),
        totp: account.totp_sealed.is_some(),
        supplier: account.supplier.and_then(|id| names.get(&id).cloned()),
        created_at: account.created_at,
        disabled_at: account.disabled_at,
    }
}

/// The account with this name (any case), active or not.
pub fn account_named(ledger: &Ledger, name: &str) -> Result<Option<AccountRecord>> {
    Ok(ledger.store.account_named(name)?)
}

/// Whether the account with this name has a second factor.
pub fn has_second_factor(ledger: &Ledger, name: &str) -> Result<bool> {
    Ok(ledger
        .store
        .account_named(name)?
        .is_some_and(|account| account.totp_sealed.is_some()))
}

/// Whether `password` is the account's: `None` for no such account or a disabled one. The
/// hash is checked even for a missing account, so timing does not tell which names exist.
pub fn check_user_password(ledger: &Ledger, name: &str, password: &str) -> Result<Option<AccountRecord>> {
    if password.len() > PASSWORD_BYTES_MAX {
        return Ok(None);
    }
    let account = ledger.store.account_named(name)?;
    let verified = match &account {
        Some(account) => verify_password(password, &account.password_hash)?,
        None => {
            let _ = verify_password(password, DUMMY_PHC)?;
            false
        }
    };
    Ok(account.filter(|account| verified && account.disabled_at.is_none()))
}

fn check_password(password: &str) -> Result<()> {
    if password.trim().is_empty() || password.chars().count() < PASSWORD_CHARS_MIN {
        return Err(Error::Invalid(format!(
            "the password is too short; expected at least {PASSWORD_CHARS_MIN} characters (a few words make a good one)"
        )));
    }
    if password.len() > PASSWORD_BYTES_MAX {
        return Err(Error::Invalid(format!(
            "the password is too long; expected at most {PASSWORD_BYTES_MAX} bytes"
        )));
    }
    Ok(())
}

/// Argon2id (version 19, 19 MiB, 2 passes: the OWASP minimum) with a random salt.
fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|error| Error::Invalid(format!("no randomness for a salt: {error}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| Error::Invalid(error.to_string()))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|error| Error::Invalid(format!("the password could not be hashed: {error}")))?;
    Ok(hash.to_string())
}

/// Whether `password` hashes to the stored PHC string, which must be Argon2id within bounds.
fn verify_password(password: &str, phc: &str) -> Result<bool> {
    let corrupt = |what: String| Error::Invalid(format!("a stored password hash is not usable: {what}"));
    let parsed = PasswordHash::new(phc).map_err(|error| corrupt(error.to_string()))?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(corrupt(format!("{} is not Argon2id", parsed.algorithm)));
    }
    let params = argon2::Params::try_from(&parsed).map_err(|error| corrupt(error.to_string()))?;
    if params.m_cost() > STORED_MEMORY_MAX_KIB || params.t_cost() > STORED_PASSES_MAX {
        return Err(corrupt("its cost is beyond what custody ever sets".into()));
    }
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// Makes an API token; returns it (shown this once) with its record.
/// A supplier's token (`role` supplier) is bound to the supplier named `supplier`.
pub fn add_token(
    ledger: &mut Ledger,
    name: &str,
    role: DeskRole,
    supplier: Option<&str>,
) -> Result<(String, TokenView)> {
    let name = check_desk_name(name)?;
    let bound = supplier_binding(ledger, role, supplier)?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|error| Error::Invalid(format!("no randomness for a token: {error}")))?;
    let token = format!("{TOKEN_PREFIX}{}", custody_vault::hex(&secret));
    let now = ledger.now();
    let draft = ledger.draft(
        "token.add",
        "token",
        serde_json::json!({ "name": name, "role": role.as_str(),
            "supplier": bound.as_ref().map(|(_, name)| name) }),
    );
    let record = NewApiToken {
        name: name.to_owned(),
        role,
        token_hash: token_hash(ledger, &token).to_vec(),
        supplier: bound.as_ref().map(|(id, _)| *id),
        created_at: now,
    };
    ledger
        .store
        .add_api_token(record, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()?;
    Ok((
        token,
        TokenView {
            name: name.to_owned(),
            role: role.as_str(),
            supplier: bound.map(|(_, name)| name),
            created_at: now,
            revoked_at: None,
        },
    ))
}

/// The keyed hash a token is kept and looked up by.
fn token_hash(ledger: &Ledger, token: &str) -> [u8; 16] {
    ledger.vault.identifier_hash(TOKEN_TAG, token)
}

/// Who holds `token`, if it is a live (not revoked) one.
pub fn check_token(ledger: &Ledger, token: &str) -> Result<Option<TokenHolder>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    Ok(ledger
        .store
        .api_token_by_hash(&token_hash(ledger, token))?
        .filter(|record| record.revoked_at.is_none())
        .map(|record| TokenHolder {
            name: record.name,
            role: record.role,
            supplier: record.supplier,
        }))
}

/// Every API token.
pub fn tokens(ledger: &Ledger) -> Result<Vec<TokenView>> {
    let names = supplier_names(ledger)?;
    Ok(ledger
        .store
        .api_tokens()?
        .into_iter()
        .map(|record| TokenView {
            name: record.name,
            role: record.role.as_str(),
            supplier: record.supplier.and_then(|id| names.get(&id).cloned()),
            created_at: record.created_at,
            revoked_at: record.revoked_at,
        })
        .collect())
}

/// Revokes a token.
pub fn revoke_token(ledger: &mut Ledger, name: &str) -> Result<()> {
    let now = ledger.now();
    let draft = ledger.draft("token.revoke", "token", serde_json::json!({ "name": name }));
    ledger
        .store
        .revoke_api_token(name, now, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()
}

/// What a sealed TOTP secret is bound to: the account's id, so it opens for no other account.
fn totp_owner(account: &AccountRecord) -> Vec<u8> {
    format!("totp:{}", account.id).into_bytes()
}

/// Enrols a second factor: seals the account's TOTP secret (the desk checks a code made from
/// it before calling this). From then on, signing in asks for a code. A second factor already
/// enrolled is not replaced: an admin clears it first (`clear_totp`).
pub fn set_totp(ledger: &mut Ledger, name: &str, secret: &[u8]) -> Result<()> {
    let account = ledger
        .store
        .account_named(name)?
        .ok_or_else(|| Error::NotFound(format!("there is no account named {name}")))?;
    if account.totp_sealed.is_some() {
        return Err(Error::Invalid(
            "this account has a second factor already; an admin can reset it (a lost device)".to_owned(),
        ));
    }
    let sealed = ledger.vault.sealer().seal(secret, &totp_owner(&account))?;
    let draft = ledger.draft(
        "account.totp_enrol",
        "account",
        serde_json::json!({ "name": account.name }),
    );
    ledger.store.set_account_totp(
        &account.name,
        Some(&sealed),
        draft,
        &signer_for(&ledger.vault, &ledger.dir),
    )?;
    ledger.anchor_audit()
}

/// Removes an account's second factor (a lost phone); it signs in with its password alone
/// until it enrols again.
pub fn clear_totp(ledger: &mut Ledger, name: &str) -> Result<()> {
    let draft = ledger.draft(
        "account.totp_reset",
        "account",
        serde_json::json!({ "name": name }),
    );
    ledger
        .store
        .set_account_totp(name, None, draft, &signer_for(&ledger.vault, &ledger.dir))?;
    ledger.anchor_audit()
}

/// Takes the time step of a TOTP code an account used: false when that step (or a later one)
/// was used before, so that an overheard code cannot be replayed, even after a restart.
pub fn take_totp_step(ledger: &mut Ledger, name: &str, step: u64) -> Result<bool> {
    let step = i64::try_from(step).map_err(|_| Error::Invalid("a time step out of range".to_owned()))?;
    Ok(ledger.store.take_totp_step(name, step)?)
}

/// The account's TOTP secret, when it has enrolled one.
pub fn totp_secret(ledger: &Ledger, account: &AccountRecord) -> Result<Option<Vec<u8>>> {
    match &account.totp_sealed {
        Some(sealed) => Ok(Some(ledger.vault.open(sealed, &totp_owner(account))?)),
        None => Ok(None),
    }
}

/// Records a sign-in or sign-out at the desk (the ledger's actor is the account).
pub fn record_session(ledger: &mut Ledger, action: &str, second_factor: bool) -> Result<()> {
    let details = serde_json::json!({ "second_factor": second_factor });
    ledger.audit_only(action, "session", details)
}

/// Records refused sign-ins to the ledger's actor (an account) in one entry: how many wrong
/// passwords and wrong codes, and when the first and last were refused (the entry itself is
/// written a moment later, off the sign-in's path).
pub fn record_refusals(
    ledger: &mut Ledger,
    passwords: u32,
    codes: u32,
    first: custody_core::Instant,
    last: custody_core::Instant,
) -> Result<()> {
    let details = serde_json::json!({
        "wrong_passwords": passwords,
        "wrong_codes": codes,
        "first_at": first.to_rfc3339(),
        "last_at": last.to_rfc3339(),
    });
    ledger.audit_only("desk.sign_in_refused", "session", details)
}

/// Records an alert on the ledger's actor (an account): failed sign-ins to it from everywhere
/// reached `failures` within the throttle's window, perhaps someone guessing its password.
pub fn record_alert(ledger: &mut Ledger, failures: u32) -> Result<()> {
    let details = serde_json::json!({ "failures": failures, "window_minutes": 15 });
    ledger.audit_only("desk.sign_in_alert", "session", details)
}

/// A random password of five groups of five lower-case letters (about 117 bits), for an
/// account made for someone, such as the demo's.
pub fn random_password() -> Result<String> {
    let mut bytes = [0u8; 25];
    getrandom::fill(&mut bytes)
        .map_err(|error| Error::Invalid(format!("no randomness for a password: {error}")))?;
    let letters: Vec<char> = bytes.iter().map(|byte| char::from(b'a' + byte % 26)).collect();
    Ok(letters
        .chunks(5)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::clock::{Clock, FixedClock};

    fn ledger(dir: &std::path::Path) -> Ledger {
        let clock = FixedClock(Instant::from_unix_seconds(1_700_000_000).unwrap());
        crate::init(dir, custody_core::Settings::new("Test"), &clock, "test").unwrap();
        Ledger::open(dir, Box::new(FixedClock(clock.now())), "test").unwrap()
    }

    #[test]
    fn passwords_and_tokens_check_against_their_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = ledger(dir.path());
        add_user(
            &mut ledger,
            "lead",
            DeskRole::Responder,
            None,
            "a long enough passphrase",
        )
        .unwrap();
        let found = check_user_password(&ledger, "lead", "a long enough passphrase").unwrap();
        assert_eq!(found.map(|account| account.role), Some(DeskRole::Responder));
        assert!(
            check_user_password(&ledger, "lead", "a long enough passphrasE")
                .unwrap()
                .is_none()
        );
        assert!(
            check_user_password(&ledger, "nobody", "a long enough passphrase")
                .unwrap()
                .is_none()
        );
        assert!(
            verify_password("a throwaway dummy password", DUMMY_PHC).unwrap(),
            "the dummy is a real hash"
        );
        assert!(add_user(&mut ledger, "blank", DeskRole::Viewer, None, "              ").is_err());
        disable_user(&mut ledger, "LEAD").unwrap();
        assert!(
            check_user_password(&ledger, "lead", "a long enough passphrase")
                .unwrap()
                .is_none(),
            "a disabled account cannot sign in"
        );

        let (token, _) = add_token(&mut ledger, "ci", DeskRole::Viewer, None).unwrap();
        assert_eq!(
            check_token(&ledger, &token).unwrap(),
            Some(TokenHolder {
                name: "ci".to_owned(),
                role: DeskRole::Viewer,
                supplier: None
            })
        );
        let mut forged = token.clone();
        forged.pop();
        forged.push(if token.ends_with('0') { '1' } else { '0' });
        assert_eq!(check_token(&ledger, &forged).unwrap(), None);
        assert_eq!(check_token(&ledger, "not a token").unwrap(), None);
        revoke_token(&mut ledger, "ci").unwrap();
        assert_eq!(
            check_token(&ledger, &token).unwrap(),
            None,
            "a revoked token opens nothing"
        );
    }

    #[test]
    fn a_second_factor_is_sealed_replaced_only_after_a_reset_and_its_steps_used_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = ledger(dir.path());
        add_user(
            &mut ledger,
            "dpo",
            DeskRole::Admin,
            None,
            "a long enough passphrase",
        )
        .unwrap();
        set_totp(&mut ledger, "dpo", b"first secret, twenty").unwrap();
        let account = ledger.store.account_named("dpo").unwrap().unwrap();
        assert_ne!(
            account.totp_sealed.as_deref(),
            Some(&b"first secret, twenty"[..]),
            "sealed"
        );
        assert_eq!(
            totp_secret(&ledger, &account).unwrap().unwrap(),
            b"first secret, twenty"
        );
        assert!(set_totp(&mut ledger, "dpo", b"an attacker's secret").is_err());
        let account = ledger.store.account_named("dpo").unwrap().unwrap();
        assert_eq!(
            totp_secret(&ledger, &account).unwrap().unwrap(),
            b"first secret, twenty"
        );
        clear_totp(&mut ledger, "dpo").unwrap();
        set_totp(&mut ledger, "dpo", b"second secret, after").unwrap();
        assert!(take_totp_step(&mut ledger, "dpo", 10).unwrap());
        assert!(!take_totp_step(&mut ledger, "DPO", 10).unwrap());
        assert!(!take_totp_step(&mut ledger, "dpo", 9).unwrap());
        assert!(take_totp_step(&mut ledger, "dpo", 11).unwrap());
    }
}
