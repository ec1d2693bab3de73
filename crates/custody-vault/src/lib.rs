//! Keys outside the database. One 256-bit master key lives in the data directory's key file
//! (mode 0600, made by `custody init`) or in the `CUSTODY_KEY` environment variable; from it
//! BLAKE3 derives one key per purpose, so that no key is used for two things:
//!
//! - contact details are sealed with XChaCha20-Poly1305 under the contact key, each with a
//!   random 192-bit nonce (large enough that random nonces never collide in practice);
//! - identifiers (email, phone, name and postcode, name and date of birth) are hashed with keyed
//!   BLAKE3 under the identifier key, so a stolen database allows no dictionary attack;
//! - audit entries are chained with keyed BLAKE3 under the audit key, so an edit cannot be
//!   covered up by recomputing the chain without the key;
//! - the record of where the chain ends (`audit.head`) and the checkpoints kept outside custody
//!   carry a keyed BLAKE3 MAC under the checkpoint key, so neither can be rewritten without it.
//!
//! **Architecture invariant**: no key, and nothing from which a key can be derived, is ever
//! written to the database. Only a key check value (a derived hash) is stored there, to refuse a
//! wrong key before it seals anything.

use std::fs;
use std::io::Write;
use std::path::Path;

mod tree_hash;
mod xchacha;

use xchacha::NONCE_BYTES;

/// Name of the key file inside a data directory.
pub const KEY_FILE_NAME: &str = "custody.key";
/// Environment variable that may hold the master key (64 hex digits) instead of the key file.
pub const KEY_ENV: &str = "CUSTODY_KEY";

/// Bytes of an identifier hash: 128 bits leave no practical chance of two identifiers colliding.
pub const IDENTIFIER_HASH_BYTES: usize = 16;

/// Identifiers up to this many bytes (with their tag) are hashed from the stack in one call.
const SHORT_INPUT_BYTES: usize = 128;

/// What can go wrong with keys and sealed data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither the key file nor the environment variable holds a key.
    #[error("no key: {path} does not exist and {KEY_ENV} is not set")]
    NoKey {
        /// Where the key file was looked for.
        path: String,
    },
    /// The key text is not 64 hex digits.
    #[error("the key in {0} is not 64 hexadecimal digits")]
    BadKey(String),
    /// The key file is readable by others than its owner.
    #[error("{0} can be read by other users; run `chmod 600` on it")]
    KeyFileTooOpen(String),
    /// A key file exists already.
    #[error("{0} exists already; custody never overwrites a key")]
    KeyExists(String),
    /// Two keys that should be one differ.
    #[error("{0}")]
    Key(String),
    /// Reading or writing the key file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
    /// Data could not be sealed (only a message over 256 GiB is refused).
    #[error("the data could not be sealed")]
    Seal,
    /// Sealed data did not open: wrong key or damaged data.
    #[error("sealed data does not open with this key (wrong key, or damaged data)")]
    Unseal,
}

/// Result with the vault error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The derived keys of one master key.
pub struct Vault {
    contact_key: [u8; 32],
    identifier_key: [u8; 32],
    audit_key: [u8; 32],
    checkpoint_key: [u8; 32],
    blocking_key: [u8; 16],
    kept_key: [u8; 32],
    check_value: String,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, even in debug output.
        f.debug_struct("Vault")
            .field("check_value", &self.check_value)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Derives the purpose keys from a master key.
    pub fn from_master(master: &[u8; 32]) -> Self {
        let contact_key = blake3::derive_key("custody 2026-11 contact sealing v1", master);
        let identifier_key = blake3::derive_key("custody 2026-11 identifier hashing v1", master);
        let audit_key = blake3::derive_key("custody 2026-11 audit chain v1", master);
        let checkpoint_key = blake3::derive_key("custody 2026-12 audit checkpoint v1", master);
        let check = blake3::derive_key("custody 2026-11 key check v1", master);
        let blocking = blake3::derive_key("custody 2026-12 linkage blocking v1", master);
        let blocking_key: [u8; 16] = blocking.first_chunk::<16>().copied().unwrap_or_default();
        let kept_key = blake3::derive_key("custody 2026-12 kept index v1", master);
        Vault {
            contact_key,
            identifier_key,
            audit_key,
            checkpoint_key,
            blocking_key,
            kept_key,
            check_value: hex(check.get(..8).unwrap_or(&check)),
        }
    }

    /// Loads the master key from `CUSTODY_KEY`, else from the key file in `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            return Ok(Vault::from_master(&parse_key(&text, KEY_ENV)?));
        }
        let path = dir.join(KEY_FILE_NAME);
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(Error::NoKey { path: shown });
        }
        check_permissions(&path)?;
        let text = fs::read_to_string(&path).map_err(|source| Error::Io {
            path: shown.clone(),
            source,
        })?;
        Ok(Vault::from_master(&parse_key(&text, &shown)?))
    }

    /// Makes a new random master key in `dir` (mode 0600), unless `CUSTODY_KEY` is set; never
    /// overwrites a key file.
    pub fn create(dir: &Path) -> Result<Self> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            return Ok(Vault::from_master(&parse_key(&text, KEY_ENV)?));
        }
        let mut master = [0u8; 32];
        getrandom::fill(&mut master).map_err(|error| Error::Random(error.to_string()))?;
        write_key_file(&dir.join(KEY_FILE_NAME), &master)?;
        Ok(Vault::from_master(&master))
    }

    /// Reads the key in `key_file` (a copy kept apart), writing nothing.
    pub fn from_key_file(key_file: &Path) -> Result<Self> {
        Ok(Vault::from_master(&read_key_file(key_file)?))
    }

    /// Takes the key in `key_file` (a copy kept apart, for a restore) as the key of the data
    /// directory `dir`: written there as its key file (mode 0600, never over one), or, when
    /// `CUSTODY_KEY` is set, only checked to be that key.
    pub fn adopt(dir: &Path, key_file: &Path) -> Result<Self> {
        let shown = key_file.display().to_string();
        let master = read_key_file(key_file)?;
        let vault = Vault::from_master(&master);
        if let Ok(text) = std::env::var(KEY_ENV) {
            let set = Vault::from_master(&parse_key(&text, KEY_ENV)?);
            if set.check_value != vault.check_value {
                return Err(Error::Key(format!(
                    "{KEY_ENV} holds another key than {shown}; unset it or give its key"
                )));
            }
            return Ok(vault);
        }
        write_key_file(&dir.join(KEY_FILE_NAME), &master)?;
        Ok(vault)
    }

    /// A short derived value that identifies the key without revealing it; the store keeps it
    /// to refuse a different key.
    pub fn check_value(&self) -> &str {
        &self.check_value
    }

    /// A sealer for one thread; it draws nonces from the operating system in blocks.
    pub fn sealer(&self) -> Sealer<'_> {
        Sealer {
            vault: self,
            pool: [0; NONCE_POOL_BYTES],
            used: NONCE_POOL_BYTES,
        }
    }

    /// Opens data sealed by [`Sealer::seal`] for the same `owner`.
    pub fn open(&self, sealed: &[u8], owner: &[u8]) -> Result<Vec<u8>> {
        xchacha::open(&self.contact_key, sealed, owner).ok_or(Error::Unseal)
    }

    /// The keyed hash of a normalised identifier, separated by the identifier kind's tag.
    pub fn identifier_hash(&self, tag: u8, normalised: &str) -> [u8; IDENTIFIER_HASH_BYTES] {
        let value = normalised.as_bytes();
        let mut out = [0u8; IDENTIFIER_HASH_BYTES];
        // An identifier is short: hashed in one call from the stack, it costs one compression
        // and no hasher's set-up. The first bytes of BLAKE3's output are the same either way.
        let mut input = [0u8; SHORT_INPUT_BYTES];
        if let Some((first, rest)) = input.split_first_mut()
            && let Some(room) = rest.get_mut(..value.len())
        {
            *first = tag;
            room.copy_from_slice(value);
            let used = input.get(..=value.len()).unwrap_or_default();
            let hash = blake3::keyed_hash(&self.identifier_key, used);
            for (out, byte) in out.iter_mut().zip(hash.as_bytes()) {
                *out = *byte;
            }
            return out;
        }
        let mut hasher = blake3::Hasher::new_keyed(&self.identifier_key);
        hasher.update(&[tag]);
        hasher.update(value);
        hasher.finalize_xof().fill(&mut out);
        out
    }

    /// A 64-bit keyed hash of a linkage blocking key (a tag, then each part followed by 0xff):
    /// SipHash-1-3 under a key of its own, so the blocking keys kept beside the store cannot be
    /// recomputed from guessed names and dates without the master key.
    pub fn blocking_hash(&self, tag: u8, parts: &[&[u8]]) -> u64 {
        use std::hash::Hasher as _;
        let mut hasher = siphasher::sip::SipHasher13::new_with_key(&self.blocking_key);
        hasher.write_u8(tag);
        for part in parts {
            hasher.write(part);
            hasher.write_u8(0xff);
        }
        hasher.finish()
    }

    /// The keyed MAC of a file kept beside the store (an index), over its parts in order, each
    /// preceded by its length: a file changed by anyone without the key is refused.
    /// A kept file is hundreds of megabytes at millions of people: it is hashed on two threads
    /// (`tree_hash`), the same MAC as one thread makes.
    pub fn kept_file_mac(&self, purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
        let lengths: Vec<[u8; 8]> = std::iter::once(purpose.len())
            .chain(parts.iter().map(|part| part.len()))
            .map(|length| (length as u64).to_le_bytes())
            .collect();
        let mut pieces: Vec<&[u8]> = Vec::with_capacity(2 * lengths.len());
        for (length, part) in lengths
            .iter()
            .zip(std::iter::once(purpose.as_bytes()).chain(parts.iter().copied()))
        {
            pieces.push(length);
            pieces.push(part);
        }
        tree_hash::keyed_hash(&self.kept_key, &pieces, tree_hash::PARALLEL_BYTES_MIN)
    }

    /// The keyed chain hash of an audit entry: MAC(previous hash ‖ entry bytes).
    pub fn audit_mac(&self, previous: &[u8], entry: &[u8]) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new_keyed(&self.audit_key);
        hasher.update(&(previous.len() as u64).to_le_bytes());
        hasher.update(previous);
        hasher.update(entry);
        *hasher.finalize().as_bytes()
    }
}

impl Vault {
    /// The keyed MAC of an audit checkpoint or head record, domain-separated by `purpose`.
    pub fn checkpoint_mac(&self, purpose: &str, body: &[u8]) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new_keyed(&self.checkpoint_key);
        hasher.update(&(purpose.len() as u64).to_le_bytes());
        hasher.update(purpose.as_bytes());
        hasher.update(body);
        *hasher.finalize().as_bytes()
    }
}

const NONCE_POOL_BYTES: usize = NONCE_BYTES * 256;

/// Seals contact details; one per thread, because it keeps a pool of random nonce bytes.
pub struct Sealer<'vault> {
    vault: &'vault Vault,
    pool: [u8; NONCE_POOL_BYTES],
    used: usize,
}

impl Sealer<'_> {
    /// Seals `plaintext` as nonce ‖ ciphertext ‖ tag, bound to `owner` (the person's reference)
    /// as associated data: sealed details moved to another person's row do not open.
    pub fn seal(&mut self, plaintext: &[u8], owner: &[u8]) -> Result<Vec<u8>> {
        if self.used + NONCE_BYTES > NONCE_POOL_BYTES {
            getrandom::fill(&mut self.pool).map_err(|error| Error::Random(error.to_string()))?;
            self.used = 0;
        }
        let mut nonce = [0u8; NONCE_BYTES];
        if let Some(bytes) = self.pool.get(self.used..self.used + NONCE_BYTES) {
            nonce.copy_from_slice(bytes);
        }
        self.used += NONCE_BYTES;
        xchacha::seal(&self.vault.contact_key, &nonce, plaintext, owner).ok_or(Error::Seal)
    }
}

/// Reads a key file (its permissions checked first).
fn read_key_file(key_file: &Path) -> Result<[u8; 32]> {
    let shown = key_file.display().to_string();
    check_permissions(key_file)?;
    let text = fs::read_to_string(key_file).map_err(|source| Error::Io {
        path: shown.clone(),
        source,
    })?;
    parse_key(&text, &shown)
}

/// Writes a new key file (mode 0600; never over one), synced before it is relied on.
fn write_key_file(path: &Path, master: &[u8; 32]) -> Result<()> {
    let shown = path.display().to_string();
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => Error::KeyExists(shown.clone()),
        _ => Error::Io {
            path: shown.clone(),
            source,
        },
    })?;
    writeln!(file, "{}", hex(master))
        .and_then(|()| file.sync_all())
        .map_err(|source| Error::Io { path: shown, source })
}

fn parse_key(text: &str, source: &str) -> Result<[u8; 32]> {
    let digits = text.trim();
    if digits.len() != 64 {
        return Err(Error::BadKey(source.to_owned()));
    }
    let mut key = [0u8; 32];
    for (index, byte) in key.iter_mut().enumerate() {
        let pair = digits
            .get(index * 2..index * 2 + 2)
            .ok_or_else(|| Error::BadKey(source.to_owned()))?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| Error::BadKey(source.to_owned()))?;
    }
    Ok(key)
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display().to_string();
    let mode = fs::metadata(path)
        .map_err(|source| Error::Io {
            path: shown.clone(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Error::KeyFileTooOpen(shown));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<()> {
    Ok(())
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_contacts_open_only_with_the_same_key() {
        let vault = Vault::from_master(&[7; 32]);
        let mut sealer = vault.sealer();
        let first = sealer.seal(b"alex@example.org", b"M1").unwrap();
        let second = sealer.seal(b"alex@example.org", b"M1").unwrap();
        assert_ne!(first, second, "each seal has its own nonce");
        assert_eq!(vault.open(&first, b"M1").unwrap(), b"alex@example.org");
        assert!(vault.open(&first, b"M2").is_err(), "bound to its owner");
        let other = Vault::from_master(&[8; 32]);
        assert!(other.open(&first, b"M1").is_err());
        let mut damaged = first.clone();
        damaged[30] ^= 1;
        assert!(vault.open(&damaged, b"M1").is_err());
    }

    #[test]
    fn identifier_hashes_are_blake3_xof_whatever_the_length() {
        let vault = Vault::from_master(&[7; 32]);
        for length in [0, 1, 40, 126, 127, 128, 129, 500] {
            let value = "a".repeat(length);
            let mut hasher = blake3::Hasher::new_keyed(&vault.identifier_key);
            hasher.update(&[3]);
            hasher.update(value.as_bytes());
            let mut expected = [0u8; IDENTIFIER_HASH_BYTES];
            hasher.finalize_xof().fill(&mut expected);
            assert_eq!(vault.identifier_hash(3, &value), expected, "length {length}");
        }
    }

    #[test]
    fn kept_file_macs_are_one_keyed_hash_of_the_lengths_and_parts_at_any_size() {
        let vault = Vault::from_master(&[7; 32]);
        let body: Vec<u8> = (0..(tree_hash::PARALLEL_BYTES_MIN as usize + 12_345))
            .map(|at| (at % 251) as u8)
            .collect();
        for parts in [
            vec![&b"header"[..]],
            vec![&b"header"[..], &body[..]],
            vec![&body[..100], &body[..]],
        ] {
            // As files kept by earlier releases were sealed: they still verify.
            let mut hasher = blake3::Hasher::new_keyed(&vault.kept_key);
            hasher.update(&(5_u64).to_le_bytes());
            hasher.update(b"index");
            for part in &parts {
                hasher.update(&(part.len() as u64).to_le_bytes());
                hasher.update(part);
            }
            assert_eq!(
                vault.kept_file_mac("index", &parts),
                *hasher.finalize().as_bytes()
            );
        }
        assert_ne!(
            vault.kept_file_mac("index", &[&body]),
            vault.kept_file_mac("blocks", &[&body])
        );
    }

    #[test]
    fn identifier_hashes_depend_on_key_and_kind() {
        let vault = Vault::from_master(&[7; 32]);
        let other = Vault::from_master(&[8; 32]);
        let email = vault.identifier_hash(1, "alex@example.org");
        assert_eq!(email, vault.identifier_hash(1, "alex@example.org"));
        assert_ne!(email, vault.identifier_hash(2, "alex@example.org"));
        assert_ne!(email, other.identifier_hash(1, "alex@example.org"));
    }

    #[test]
    fn key_file_is_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let made = Vault::create(dir.path()).unwrap();
        let loaded = Vault::load(dir.path()).unwrap();
        assert_eq!(made.check_value(), loaded.check_value());
        assert!(matches!(Vault::create(dir.path()), Err(Error::KeyExists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join(KEY_FILE_NAME);
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(Vault::load(dir.path()), Err(Error::KeyFileTooOpen(_))));
        }
    }
}
