//! Passwords verified a short while ago, so that a client logging on again and again (IMAP
//! clients open several connections, mobile clients reconnect all day) does not pay an
//! Argon2id check (tens of milliseconds of CPU and 19 MiB) every time.
//!
//! An entry holds the account's stored password as it was when checked and a keyed SHA-256 of
//! the password that matched it, with a key made at random for this process. It is used only
//! while the stored password is unchanged and for at most [`TTL`]; failures are never cached.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How long a verified password is trusted without a new check.
pub const TTL: Duration = Duration::from_secs(300);
/// Entries kept at most; past that the cache starts again empty.
const MAX_ENTRIES: usize = 100_000;

struct Verified {
    stored: String,
    digest: [u8; 32],
    at: Instant,
}

struct Cache {
    key: [u8; 32],
    entries: HashMap<i64, Verified>,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Cache { key: rand::random(), entries: HashMap::new() }))
}

fn digest(key: &[u8; 32], password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(key);
    h.update(password.as_bytes());
    h.finalize().into()
}

/// Whether `password` was verified against this very `stored` password within [`TTL`].
pub fn recently_verified(account_id: i64, stored: &str, password: &str) -> bool {
    let cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entries
        .get(&account_id)
        .is_some_and(|v| v.stored == stored && v.at.elapsed() < TTL && v.digest == digest(&cache.key, password))
}

/// Records a successful check of `password` against `stored`.
pub fn remember(account_id: i64, stored: &str, password: &str) {
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    if cache.entries.len() >= MAX_ENTRIES {
        cache.entries.clear();
    }
    let digest = digest(&cache.key, password);
    cache.entries.insert(account_id, Verified { stored: stored.to_owned(), digest, at: Instant::now() });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_password_against_the_same_hash_is_trusted() {
        remember(-7, "$argon2id$stored", "right");
        assert!(recently_verified(-7, "$argon2id$stored", "right"));
        assert!(!recently_verified(-7, "$argon2id$stored", "wrong"));
        assert!(!recently_verified(-7, "$argon2id$changed", "right"), "password changed since");
        assert!(!recently_verified(-8, "$argon2id$stored", "right"), "another account");
    }
}
