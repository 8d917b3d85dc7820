//! The in-process maildrop locks: one POP3 session per account at a time (RFC 1939 §4 "exclusive
//! access"), held in memory as hMailServer does (`POP3Sessions::Lock`), never in the database,
//! so a crash cannot leave a mailbox locked.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// The set of locked account ids, shared by every POP3 connection of the server.
#[derive(Debug, Clone, Default)]
pub(crate) struct MailboxLocks(Arc<Mutex<HashSet<i64>>>);

impl MailboxLocks {
    /// Locks the account's maildrop, or `None` when another session holds it. The lock lasts
    /// until the returned guard is dropped, which happens however the session ends.
    pub(crate) fn try_lock(&self, account_id: i64) -> Option<MailboxLock> {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.insert(account_id).then(|| MailboxLock { locks: self.clone(), account_id })
    }
}

/// A held maildrop lock; dropping it unlocks.
#[derive(Debug)]
pub(crate) struct MailboxLock {
    locks: MailboxLocks,
    account_id: i64,
}

impl Drop for MailboxLock {
    fn drop(&mut self) {
        self.locks.0.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.account_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_per_account_until_dropped() {
        let locks = MailboxLocks::default();
        let first = locks.try_lock(7).expect("free");
        assert!(locks.try_lock(7).is_none());
        let other = locks.try_lock(8).expect("another account");
        drop(first);
        assert!(locks.try_lock(7).is_some());
        drop(other);
    }
}
