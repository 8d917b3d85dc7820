//! Recipients' copies, stored a batch at a time.
//!
//! While the worker goes through a claimed batch, each copy's file is written at once (not yet
//! synced) and noted here. [`Copies::store`] then makes them durable together (by default one
//! `syncfs` on Linux, see [`GroupSync`]). Only then does one transaction record every copy in
//! its INBOX, take each copy's recipient off the queue, and remove the queue rows of the
//! messages left with no recipient. A crash before that commit leaves the recipients queued (the files are orphans
//! nothing points at); after it, the copies are delivered and their recipients gone.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDateTime;

use altimail_store::files::{MessageFiles, new_file_name};
use altimail_store::group_sync::{GroupSync, Written};
use altimail_store::repo::accounts::Account;
use altimail_store::repo::folders;
use altimail_store::repo::messages::Message;
use altimail_store::{Location, Store, StoreError};

use altimail_store::repo::queue::{self, InboxCopy, QueuedRecipient};

/// Copies written in files (unless one failed) and waiting for [`Copies::store`].
pub(super) struct Copies {
    pending: Vec<Copy>,
    /// Bytes of pending copies per account, so one batch cannot carry an account past its quota.
    bytes_per_account: HashMap<i64, i64>,
    /// The delivery worker's own flusher (made before it wrote any file).
    sync: Arc<Mutex<GroupSync>>,
}

struct Copy {
    message_id: i64,
    recipient: QueuedRecipient,
    account_id: i64,
    from: String,
    created: NaiveDateTime,
    size: i64,
    file_name: String,
    /// The folder a rule chose ("" = INBOX).
    folder: String,
    written: Written,
    /// Why this copy was not stored; `None` while all is well.
    error: Option<String>,
    /// Not to be removed on failure (its row may exist after all).
    keep_file: bool,
}

/// What [`Copies::store`] did.
#[derive(Debug, Default)]
pub(super) struct Stored {
    /// Per message: the recipients whose copy is stored, and those whose copy failed (why).
    pub stored: HashMap<i64, Vec<QueuedRecipient>>,
    pub failed: HashMap<i64, Vec<(QueuedRecipient, String)>>,
    /// Messages whose queue rows went in the same transaction (no recipient was left).
    pub removed: HashSet<i64>,
}

impl Copies {
    pub fn new(sync: Arc<Mutex<GroupSync>>) -> Self {
        Copies { pending: Vec::new(), bytes_per_account: HashMap::new(), sync }
    }

    /// Bytes of this batch's copies not yet stored for `account_id`.
    pub fn pending_bytes(&self, account_id: i64) -> i64 {
        self.bytes_per_account.get(&account_id).copied().unwrap_or(0)
    }

    /// Writes `data`, the copy of queued `message` for `recipient`, into `account`'s folder (not
    /// synced yet). An error is kept and reported by `store`.
    pub async fn write(
        &mut self,
        store: &Store,
        message: &Message,
        recipient: &QueuedRecipient,
        account: &Account,
        data: Vec<u8>,
        folder: &str,
    ) {
        let file_name = new_file_name();
        let path = store.files.path_for(Location::Account(&account.address), &file_name);
        let size = data.len() as i64;
        let written = Written::starting(path.clone());
        let p = path.clone();
        let error = match tokio::task::spawn_blocking(move || MessageFiles::write_unsynced(&p, &data)).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(format!("write task failed: {e}")),
        };
        if error.is_none() {
            *self.bytes_per_account.entry(account.id).or_default() += size;
        }
        self.pending.push(Copy {
            message_id: message.id,
            recipient: recipient.clone(),
            account_id: account.id,
            from: message.from.clone(),
            created: message.created,
            size,
            file_name,
            folder: folder.to_owned(),
            written,
            error,
            keep_file: false,
        });
    }

    /// Makes every pending copy durable and records them in one transaction, which also removes
    /// the queue rows of the messages in `finishing` whose copies all succeed (they have no
    /// other recipient left). Leaves `self` empty.
    /// `delimiter`: the IMAP hierarchy delimiter that separates the levels of rule folders.
    pub async fn store(&mut self, store: &Store, finishing: &[i64], delimiter: &str) -> Stored {
        let mut copies = std::mem::take(&mut self.pending);
        self.bytes_per_account.clear();
        let mut result = Stored::default();
        if copies.is_empty() {
            return result;
        }
        sync_all(&self.sync, &mut copies).await;
        // Each account's target folders (the INBOX, or a rule's folder made when missing),
        // looked up once. A rule's folder that cannot be made leaves the copy in the INBOX.
        let mut targets: HashMap<(i64, String), Result<i64, String>> = HashMap::new();
        for c in copies.iter_mut().filter(|c| c.error.is_none()) {
            let key = (c.account_id, c.folder.clone());
            if let std::collections::hash_map::Entry::Vacant(slot) = targets.entry(key.clone()) {
                let mut target = Err(String::new());
                if !c.folder.is_empty() {
                    match folders::ensure_path(&store.db, c.account_id, &c.folder, delimiter).await {
                        Ok(f) => target = Ok(f.id),
                        Err(e) => tracing::warn!("rule folder {} unavailable: {e}; delivering to INBOX", c.folder),
                    }
                }
                if target.is_err() {
                    target =
                        folders::ensure_inbox(&store.db, c.account_id).await.map(|f| f.id).map_err(|e| e.to_string());
                }
                slot.insert(target);
            }
            if let Some(Err(e)) = targets.get(&key) {
                c.error = Some(format!("INBOX unavailable: {e}"));
            }
        }
        let spoilt: HashSet<i64> = copies.iter().filter(|c| c.error.is_some()).map(|c| c.message_id).collect();
        let finishing: Vec<i64> = finishing.iter().copied().filter(|id| !spoilt.contains(id)).collect();
        // Copies by INBOX (in folder id order, the order in which the rows get locked).
        let mut by_inbox: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, c) in copies.iter().enumerate().filter(|(_, c)| c.error.is_none()) {
            if let Some(Ok(inbox)) = targets.get(&(c.account_id, c.folder.clone())) {
                by_inbox.entry(*inbox).or_default().push(i);
            }
        }
        match record(store, &copies, &by_inbox, &finishing).await {
            Ok(()) => {
                for inbox in by_inbox.keys() {
                    store.changes.notify(*inbox);
                }
                result.removed = finishing.into_iter().collect();
            }
            Err(e) => {
                // The files stay: a commit that failed on the way back (a lost connection) may
                // have been made, and then rows point at them.
                tracing::warn!("delivery: could not record {} cop(ies): {e}", copies.len());
                for c in copies.iter_mut().filter(|c| c.error.is_none()) {
                    c.error = Some(format!("not recorded: {e}"));
                    c.keep_file = true;
                }
            }
        }
        for c in copies {
            match c.error {
                None => result.stored.entry(c.message_id).or_default().push(c.recipient),
                Some(e) => {
                    if !c.keep_file {
                        let _ = tokio::fs::remove_file(&c.written.path).await;
                    }
                    result.failed.entry(c.message_id).or_default().push((c.recipient, e));
                }
            }
        }
        result
    }
}

/// Makes every written file durable ([`GroupSync`]); when that fails, no copy is.
async fn sync_all(sync: &Arc<Mutex<GroupSync>>, copies: &mut [Copy]) {
    let written: Vec<Written> = copies.iter().filter(|c| c.error.is_none()).map(|c| c.written.clone()).collect();
    if written.is_empty() {
        return;
    }
    let sync = sync.clone();
    let flushed =
        tokio::task::spawn_blocking(move || sync.lock().unwrap_or_else(PoisonError::into_inner).sync(&written));
    let error = match flushed.await {
        Ok(Ok(())) => return,
        Ok(Err(e)) => format!("could not sync the copies: {e}"),
        Err(e) => format!("sync task failed: {e}"),
    };
    for c in copies.iter_mut().filter(|c| c.error.is_none()) {
        c.error = Some(error.clone());
    }
}

/// The one transaction: INBOX rows for the copies (UIDs allocated per folder), their recipients
/// off the queue, and the finished messages' queue rows removed.
async fn record(
    store: &Store,
    copies: &[Copy],
    by_inbox: &BTreeMap<i64, Vec<usize>>,
    finishing: &[i64],
) -> Result<(), StoreError> {
    let rows: Vec<InboxCopy> = copies
        .iter()
        .map(|c| InboxCopy {
            account_id: c.account_id,
            file_name: &c.file_name,
            from: &c.from,
            size: c.size,
            created: c.created,
            message_id: c.message_id,
            recipient_id: c.recipient.id,
        })
        .collect();
    queue::record_copies(&store.db, &rows, by_inbox, finishing).await
}
