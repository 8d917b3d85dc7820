//! The spool: where an accepted message becomes durable before the server answers 250.
//!
//! [`Spool::submit`] writes the message file into the queue folder (`{data}/{GUID}.eml`), then
//! hands it to one committer task. The committer takes every submission waiting at that moment,
//! makes all their files durable together (by default one `syncfs` on Linux, see
//! [`GroupSync`]) and inserts all their rows in one transaction (one
//! database fsync). Each submitter gets its message id only after that commit — so durability
//! costs one file-system flush and one commit per batch, not per message (group commit).
//!
//! Order matters for crashes: the file is durable before its row exists, so a row never points
//! at a missing file; a crash between the two leaves an orphan file and no acknowledgement.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Notify, mpsc, oneshot};

use altimail_core::time::now_local;
use altimail_store::files::{MessageFiles, new_file_name};
use altimail_store::group_sync::{GroupSync, Written};
use altimail_store::repo::queue::{self, NewQueued};
use altimail_store::{Db, Location, Store, StoreError};

pub use altimail_store::repo::queue::{Envelope as EnvelopeExtras, NewRecipient as Recipient, Settle};

/// A message to put into the queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Envelope sender; empty for the null sender (bounces).
    pub sender: String,
    pub recipients: Vec<Recipient>,
    pub extras: EnvelopeExtras,
    /// The whole message as it will be stored, CRLF line ends, our headers included.
    pub data: Vec<u8>,
}

struct Pending {
    message: NewMessage,
    settle: Settle,
    file_name: String,
    path: PathBuf,
    written: Written,
    reply: oneshot::Sender<Result<i64, String>>,
}

/// The largest number of messages committed together.
const MAX_BATCH: usize = 256;

/// Handle to the spool; cheap to clone.
#[derive(Clone)]
pub struct Spool {
    files: MessageFiles,
    queue: mpsc::Sender<Pending>,
    /// Woken after each commit so the delivery worker starts at once.
    pub queued: Arc<Notify>,
}

impl Spool {
    /// Starts the committer task on the current runtime.
    pub fn start(store: Store) -> Spool {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let queued = Arc::new(Notify::new());
        let files = store.files.clone();
        // Made before any file is written, so its flushes see every write-back error.
        let sync = Arc::new(Mutex::new(GroupSync::new(&files)));
        tokio::spawn(committer(store, sync, rx, queued.clone()));
        Spool { files, queue: tx, queued }
    }

    /// Makes `message` durable and queued; returns its `hm_messages` id. Only after this returns
    /// `Ok` may the server acknowledge the message.
    pub async fn submit(&self, message: NewMessage) -> Result<i64, StoreError> {
        self.submit_settling(message, Settle::default()).await
    }

    /// [`Spool::submit`], committing `settle` in the same transaction as the message's rows.
    pub async fn submit_settling(&self, message: NewMessage, settle: Settle) -> Result<i64, StoreError> {
        if message.recipients.is_empty() {
            return Err(StoreError::Invalid("a message needs at least one recipient".into()));
        }
        let file_name = new_file_name();
        let path = self.files.path_for(Location::Queue, &file_name);
        let written = Written::starting(path.clone());
        let (p, data) = (path.clone(), message.data.clone());
        tokio::task::spawn_blocking(move || MessageFiles::write_unsynced(&p, &data))
            .await
            .map_err(|e| StoreError::Invalid(format!("spool write task failed: {e}")))??;
        let (reply, answer) = oneshot::channel();
        let pending = Pending { message, settle, file_name, path: path.clone(), written, reply };
        if self.queue.send(pending).await.is_err() {
            let _ = std::fs::remove_file(&path);
            return Err(StoreError::Invalid("the spool is shutting down".into()));
        }
        match answer.await {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(e)) => Err(StoreError::Invalid(format!("spool commit failed: {e}"))),
            Err(_) => Err(StoreError::Invalid("the spool stopped before committing".into())),
        }
    }

    /// Queues a message the server sends itself (a report, an auto-reply) to `to`, from the null
    /// sender. `to` is resolved like any recipient; when that fails or reaches nobody, or the
    /// spool refuses, `what` ("auto-reply from x@y", …) is logged as not sent.
    pub async fn submit_notice(&self, db: &Db, to: &str, what: &str, data: Vec<u8>) {
        let recipients: Vec<Recipient> = match crate::resolve::expand(db, to).await {
            Ok(list) if !list.is_empty() => {
                list.into_iter().map(|r| Recipient::local(&r.address, r.account_id, to)).collect()
            }
            Ok(_) => {
                tracing::warn!("{what} to {to} not sent: no recipient");
                return;
            }
            Err(e) => {
                tracing::warn!("{what} to {to} not sent: {e}");
                return;
            }
        };
        let msg = NewMessage { sender: String::new(), recipients, extras: Default::default(), data };
        if let Err(e) = self.submit(msg).await {
            tracing::warn!("{what} to {to} not queued: {e}");
        }
    }
}

async fn committer(store: Store, sync: Arc<Mutex<GroupSync>>, mut rx: mpsc::Receiver<Pending>, queued: Arc<Notify>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let result = commit_batch(&store, &sync, &batch).await;
        match result {
            Ok(ids) => {
                for (p, id) in batch.into_iter().zip(ids) {
                    let _ = p.reply.send(Ok(id));
                }
                // Wake every waiting worker (local and remote); the stored permit covers a
                // worker that is busy right now.
                queued.notify_waiters();
                queued.notify_one();
            }
            Err(e) => {
                tracing::error!("spool: could not commit {} message(s): {e}", batch.len());
                for p in batch {
                    let _ = std::fs::remove_file(&p.path);
                    let _ = p.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

async fn commit_batch(store: &Store, sync: &Arc<Mutex<GroupSync>>, batch: &[Pending]) -> Result<Vec<i64>, StoreError> {
    // The batch's files, names included, become durable together (one syncfs on Linux).
    let written: Vec<Written> = batch.iter().map(|p| p.written.clone()).collect();
    let (sync, dir) = (sync.clone(), store.files.data_dir().to_path_buf());
    tokio::task::spawn_blocking(move || {
        sync.lock().unwrap_or_else(PoisonError::into_inner).sync(&written).map_err(|e| StoreError::io(&dir, e))
    })
    .await
    .map_err(|e| StoreError::Invalid(format!("file sync task failed: {e}")))??;
    let rows: Vec<NewQueued> = batch
        .iter()
        .map(|p| NewQueued {
            file_name: &p.file_name,
            sender: &p.message.sender,
            size: p.message.data.len() as i64,
            recipients: &p.message.recipients,
            envelope: &p.message.extras,
            settle: &p.settle,
        })
        .collect();
    queue::insert_batch(&store.db, &rows, now_local()).await
}
