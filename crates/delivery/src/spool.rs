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
//!
//! A message too large to hold in memory (a big SMTP upload) is written as it arrives instead:
//! [`Spool::create_file`] starts its file under its final name in the queue folder, the caller
//! appends to the [`SpoolFile`], and [`Spool::submit_file`] queues it like any other. A
//! [`SpoolFile`] dropped before that (the transaction was refused, aborted or timed out)
//! removes its file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::AsyncWriteExt;
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
    /// The envelope; its `data` is emptied once written, so the batch does not hold the bodies.
    message: NewMessage,
    /// Octets in the file (`messagesize`).
    size: i64,
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
    pub async fn submit_settling(&self, mut message: NewMessage, settle: Settle) -> Result<i64, StoreError> {
        if message.recipients.is_empty() {
            return Err(StoreError::Invalid("a message needs at least one recipient".into()));
        }
        let data = std::mem::take(&mut message.data);
        let size = data.len() as i64;
        let file = self.create_file(data).await?;
        self.enqueue(message, size, settle, file).await
    }

    /// Starts a message file in the queue folder, under its final name, with `head`; append
    /// the rest with [`SpoolFile::append`], then queue it with [`Spool::submit_file`].
    pub async fn create_file(&self, head: Vec<u8>) -> Result<SpoolFile, StoreError> {
        let file_name = new_file_name();
        let path = self.files.path_for(Location::Queue, &file_name);
        let written = Written::starting(path.clone());
        let size = head.len() as u64;
        let p = path.clone();
        tokio::task::spawn_blocking(move || MessageFiles::write_unsynced(&p, &head))
            .await
            .map_err(|e| StoreError::Invalid(format!("spool write task failed: {e}")))??;
        Ok(SpoolFile { file_name, path, written, size, open: None, queued: false })
    }

    /// Makes the message written to `file` durable and queued, as [`Spool::submit`] does for
    /// one held in memory; returns its `hm_messages` id. The file is removed when this fails.
    pub async fn submit_file(
        &self,
        mut file: SpoolFile,
        sender: String,
        recipients: Vec<Recipient>,
        extras: EnvelopeExtras,
    ) -> Result<i64, StoreError> {
        if recipients.is_empty() {
            return Err(StoreError::Invalid("a message needs at least one recipient".into()));
        }
        file.finish().await?;
        let size = i64::try_from(file.size).unwrap_or(i64::MAX);
        let message = NewMessage { sender, recipients, extras, data: Vec::new() };
        self.enqueue(message, size, Settle::default(), file).await
    }

    /// Hands a written file to the committer and waits for its commit.
    async fn enqueue(
        &self,
        message: NewMessage,
        size: i64,
        settle: Settle,
        mut file: SpoolFile,
    ) -> Result<i64, StoreError> {
        // From here the committer owns the file: it removes it when the commit fails.
        file.queued = true;
        let (file_name, path, written) = (file.file_name.clone(), file.path.clone(), file.written.clone());
        let (reply, answer) = oneshot::channel();
        let pending = Pending { message, size, settle, file_name, path: path.clone(), written, reply };
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

/// A message file being written into the queue folder as the message arrives; see the module
/// documentation. Dropped before [`Spool::submit_file`] queued it, it removes its file.
#[derive(Debug)]
pub struct SpoolFile {
    file_name: String,
    path: PathBuf,
    written: Written,
    size: u64,
    /// Opened for appending at the first [`SpoolFile::append`].
    open: Option<tokio::fs::File>,
    /// Handed to the committer, which owns the file from then on.
    queued: bool,
}

impl SpoolFile {
    /// Appends `bytes` to the file (not yet durable: that is the commit's job).
    pub async fn append(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        if self.open.is_none() {
            let file = tokio::fs::OpenOptions::new()
                .append(true)
                .open(&self.path)
                .await
                .map_err(|e| StoreError::io(&self.path, e))?;
            self.open = Some(file);
        }
        let Some(file) = self.open.as_mut() else { unreachable!("opened just above") };
        file.write_all(bytes).await.map_err(|e| StoreError::io(&self.path, e))?;
        self.size = self.size.saturating_add(bytes.len() as u64);
        Ok(())
    }

    /// Octets written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for the writes still in flight, so the file can be read back whole (tokio's file
    /// writes complete in the background).
    pub async fn finish(&mut self) -> Result<(), StoreError> {
        if let Some(mut file) = self.open.take() {
            file.flush().await.map_err(|e| StoreError::io(&self.path, e))?;
        }
        Ok(())
    }
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        if !self.queued {
            // An unlink, quick enough for the async context it may run in.
            let _ = std::fs::remove_file(&self.path);
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
            size: p.size,
            recipients: &p.message.recipients,
            envelope: &p.message.extras,
            settle: &p.settle,
        })
        .collect();
    queue::insert_batch(&store.db, &rows, now_local()).await
}
