//! The maildrop on hMailServer's store: the account's INBOX (the only folder POP3 sees), its
//! messages in UID order, their files, and the deletions of QUIT.
//!
//! Sizes are `hm_messages.messagesize`, as hMailServer reports them (the file size at delivery);
//! a row without one falls back to the file's size. UIDL is the message's IMAP UID
//! (`messageuid`), so a client that switches between POP3 and IMAP sees stable ids. QUIT
//! expunges as IMAP does ([`mailbox::expunge`]): the rows in one transaction first and the files
//! after, so a crash in between leaves orphan files, never rows that point at nothing; a file
//! that is already gone is fine; the UIDs are recorded as vanished for QRESYNC clients, and IMAP
//! sessions watching the INBOX are woken.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::PathBuf;

use altimail_net::{Connection, Severity};
use altimail_store::repo::accounts::Account;
use altimail_store::repo::folders::{self, Folder};
use altimail_store::repo::{mailbox, messages};
use altimail_store::{Location, Store, StoreError};

use super::locks::{MailboxLock, MailboxLocks};
use crate::session::{CommitFailed, MailboxEntry, MailboxFailure, MessageFailure};

/// A locked maildrop; dropping it unlocks.
#[derive(Debug)]
pub(crate) struct Mailbox {
    account: Account,
    /// The INBOX; `None` when the account has none yet (then there is nothing to delete).
    folder: Option<Folder>,
    /// `messagefilename` by `messageid`.
    files: HashMap<i64, String>,
    _lock: MailboxLock,
}

impl Mailbox {
    /// Locks the account's maildrop and lists its INBOX.
    pub(crate) async fn open(
        store: &Store,
        locks: &MailboxLocks,
        account: Account,
    ) -> Result<(Mailbox, Vec<MailboxEntry>), MailboxFailure> {
        let lock = locks.try_lock(account.id).ok_or(MailboxFailure::InUse)?;
        let (folder, rows) = match inbox(store, &account).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!("pop3: listing the INBOX of {}: {e}", account.address);
                return Err(MailboxFailure::TempFail);
            }
        };
        let mut entries = Vec::with_capacity(rows.len());
        let mut files = HashMap::with_capacity(rows.len());
        for row in rows {
            let size = match u64::try_from(row.size) {
                Ok(size) if size > 0 => size,
                _ => file_size(&store.files.resolve(Location::Account(&account.address), &row.file_name)).await,
            };
            entries.push(MailboxEntry { id: row.id, size, uid: row.uid.to_string() });
            files.insert(row.id, row.file_name);
        }
        Ok((Mailbox { account, folder, files, _lock: lock }, entries))
    }

    fn path(&self, store: &Store, file_name: &str) -> PathBuf {
        store.files.resolve(Location::Account(&self.account.address), file_name)
    }

    /// Opens a message file for RETR or TOP.
    pub(crate) async fn open_message(
        &self,
        store: &Store,
        conn: &Connection,
        id: i64,
    ) -> Result<tokio::fs::File, MessageFailure> {
        let file_name = self.files.get(&id).ok_or(MessageFailure::Missing)?;
        let path = self.path(store, file_name);
        match tokio::fs::File::open(&path).await {
            Ok(file) => Ok(file),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                conn.log.error(
                    Severity::Medium,
                    5063,
                    "POP3Connection::_SendFile",
                    &format!("Could not send file {} via socket since it does not exist.", path.display()),
                );
                Err(MessageFailure::Missing)
            }
            Err(e) => {
                conn.log.error(
                    Severity::Medium,
                    5063,
                    "POP3Connection::_SendFile",
                    &format!("{}: {e}", path.display()),
                );
                Err(MessageFailure::TempFail)
            }
        }
    }

    /// Deletes the messages `ids` (rows in one transaction, then files).
    pub(crate) async fn commit(&self, store: &Store, ids: &[i64]) -> Result<(), CommitFailed> {
        let ids: Vec<i64> = ids.iter().copied().filter(|id| self.files.contains_key(id)).collect();
        let Some(folder) = self.folder.as_ref().filter(|_| !ids.is_empty()) else { return Ok(()) };
        let location = Location::Account(&self.account.address);
        if let Err(e) = mailbox::expunge(store, folder, location, &ids).await {
            tracing::error!("pop3: deleting {} message(s) of {}: {e}", ids.len(), self.account.address);
            return Err(CommitFailed);
        }
        Ok(())
    }
}

/// The INBOX and its messages in UID order; none when the account has no INBOX yet.
async fn inbox(store: &Store, account: &Account) -> Result<(Option<Folder>, Vec<messages::Message>), StoreError> {
    match folders::find(&store.db, account.id, folders::TOP_LEVEL, "INBOX").await? {
        Some(folder) => {
            let rows = messages::in_folder(&store.db, account.id, folder.id).await?;
            Ok((Some(folder), rows))
        }
        None => Ok((None, Vec::new())),
    }
}

async fn file_size(path: &std::path::Path) -> u64 {
    tokio::fs::metadata(path).await.map_or(0, |m| m.len())
}
