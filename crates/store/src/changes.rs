//! Change notification per folder, for IMAP IDLE and for sessions that share a mailbox.
//!
//! Every change to a folder's messages made through this crate (and by local delivery and POP3)
//! calls [`ChangeBus::notify`] after its transaction commits. A session [`ChangeBus::subscribe`]s
//! to the folder it has selected and wakes when the counter moves; it then asks the database what
//! changed. The bus carries no data, so a missed or coalesced wake-up loses nothing.
//!
//! It is in-process only: changes made by another server on the same database (hMailServer
//! itself, a second Altimail) are not seen until the session next looks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

/// One `watch` channel per folder that has subscribers.
///
/// Entries are dropped once their last receiver is gone: at the next notify of that folder, or
/// by a sweep that runs when the map has doubled since the last one, so the cost per subscribe
/// stays constant on average however many sessions are idle.
#[derive(Clone, Default, Debug)]
pub struct ChangeBus {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default, Debug)]
struct Inner {
    folders: HashMap<i64, watch::Sender<u64>>,
    /// Map size after the last sweep.
    swept_at: usize,
}

impl ChangeBus {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The map stays consistent even if a holder panicked: every operation is one insert or
        // remove.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells the subscribers of `folder_id` that its messages changed.
    pub fn notify(&self, folder_id: i64) {
        let mut inner = self.lock();
        let Some(sender) = inner.folders.get(&folder_id) else { return };
        if sender.receiver_count() == 0 {
            inner.folders.remove(&folder_id);
            return;
        }
        sender.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver whose value is bumped on each [`ChangeBus::notify`] of `folder_id`. The current
    /// value counts as seen, so `changed().await` waits for the next change.
    pub fn subscribe(&self, folder_id: i64) -> watch::Receiver<u64> {
        let mut inner = self.lock();
        if inner.folders.len() >= 2 * inner.swept_at.max(64) {
            inner.folders.retain(|_, sender| sender.receiver_count() > 0);
            inner.swept_at = inner.folders.len();
        }
        match inner.folders.get(&folder_id) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = watch::channel(0);
                inner.folders.insert(folder_id, sender);
                receiver
            }
        }
    }

    /// How many folders currently have an entry (subscribed, or not yet swept).
    pub fn watched_folders(&self) -> usize {
        self.lock().folders.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notify_wakes_subscribers_of_that_folder_only() {
        let bus = ChangeBus::default();
        let mut a = bus.subscribe(1);
        let mut a2 = bus.subscribe(1);
        let b = bus.subscribe(2);
        bus.notify(1);
        a.changed().await.unwrap();
        assert_eq!(*a.borrow_and_update(), 1);
        assert!(a2.has_changed().unwrap());
        assert!(!b.has_changed().unwrap());
        bus.notify(3);
        assert_eq!(bus.watched_folders(), 2);
        drop(b);
        bus.notify(2);
        assert_eq!(bus.watched_folders(), 1);
        let _ = a2.borrow_and_update();
    }

    #[test]
    fn idle_entries_are_swept() {
        let bus = ChangeBus::default();
        let keep: Vec<_> = (0..10_000).map(|i| bus.subscribe(i)).collect();
        assert_eq!(bus.watched_folders(), 10_000);
        drop(keep);
        // The map never holds more than twice what was alive at the last sweep.
        for i in 0..7_000 {
            drop(bus.subscribe(100_000 + i));
            assert!(bus.watched_folders() <= 16_384);
        }
        assert!(bus.watched_folders() < 1_000, "{}", bus.watched_folders());
    }
}
