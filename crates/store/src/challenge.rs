//! Whether challenge-response logons (SMTP CRAM-MD5, POP3 APOP) can succeed at all.
//!
//! Both need the clear-text password on the server, which only hMailServer's password types 0
//! (plain) and 1 (Blowfish) give. Offering such a mechanism while some account's password is a
//! one-way hash makes clients that prefer it (mutt, curl) fail with no fallback, so a server
//! offers it only while every account's password is recoverable. [`ChallengeLogons`] answers
//! that from one query, kept for [`RECHECK_AFTER`] so a busy server asks rarely.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::{Db, StoreError};

/// How long an answer is trusted before the accounts are looked at again.
pub const RECHECK_AFTER: Duration = Duration::from_secs(30);

/// A cached answer to "is every account's password stored recoverably?"; cheap to clone, one
/// per server.
#[derive(Debug, Clone, Default)]
pub struct ChallengeLogons {
    last: Arc<Mutex<Option<(Instant, bool)>>>,
}

impl ChallengeLogons {
    /// `true` when every account's password is stored as plain text or Blowfish (no account at
    /// all counts as every one). A database error answers `false`: the mechanism is then left
    /// out, which costs nothing since PLAIN and LOGIN remain.
    pub async fn possible(&self, db: &Db) -> bool {
        let last = *self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, answer)) = last
            && at.elapsed() < RECHECK_AFTER
        {
            return answer;
        }
        let answer = match every_password_recoverable(db).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!("could not check how passwords are stored: {e}");
                return false;
            }
        };
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), answer));
        answer
    }
}

/// One query: the first account with a hashed password (types 2 MD5, 3 salted SHA-256,
/// 10 Argon2id, or any other), if there is one.
async fn every_password_recoverable(db: &Db) -> Result<bool, StoreError> {
    let hashed = db
        .fetch_optional("SELECT accountid FROM hm_accounts WHERE accountpwencryption NOT IN (0, 1) LIMIT 1", &[])
        .await?;
    Ok(hashed.is_none())
}
