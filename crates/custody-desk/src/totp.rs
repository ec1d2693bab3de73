//! The second factor: time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30 s), as every
//! authenticator app makes them. A code is accepted one step either side of now, and never
//! twice (the last step used is kept on the account).

use totp_rs::{Algorithm, TOTP};

/// Seconds per code.
const STEP: u64 = 30;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;

fn totp(secret: &[u8]) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP, secret.to_vec())
}

/// A new random secret.
pub fn new_secret() -> Result<Vec<u8>, crate::DeskError> {
    let mut secret = vec![0u8; SECRET_BYTES];
    getrandom::fill(&mut secret)
        .map_err(|error| crate::DeskError::Internal(format!("no randomness for a secret: {error}")))?;
    Ok(secret)
}

/// The secret as authenticator apps take it typed in (base32).
pub fn secret_text(secret: &[u8]) -> String {
    totp(secret).get_secret_base32()
}

/// The `otpauth://` address authenticator apps read.
pub fn otpauth_uri(secret: &[u8], organisation: &str, account: &str) -> String {
    let issuer: String = organisation
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits=6&period={STEP}",
        secret_text(secret)
    )
}

/// The time step a code matches, if any (one step either side of `unix_seconds`).
pub fn matching_step(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret);
    let now = unix_seconds / STEP;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|step| constant_time_eq(totp.generate(step * STEP).as_bytes(), code.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_its_neighbours_only() {
        // RFC 6238 appendix B's SHA-1 secret and its 8-digit vector at 59 s (94287082): the
        // 6-digit code is its last six digits.
        let secret = b"12345678901234567890";
        assert_eq!(matching_step(secret, "287082", 59), Some(1));
        assert_eq!(matching_step(secret, "287082", 59 + 30), Some(1));
        assert_eq!(matching_step(secret, "287082", 59 + 90), None);
        assert_eq!(matching_step(secret, "287083", 59), None);
        assert_eq!(matching_step(secret, "28708", 59), None);
    }
}
