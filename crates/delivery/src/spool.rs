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

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Notify, mpsc, oneshot};

use altimail_core::codes::message_type;
use altimail_core::time::now_local;
use altimail_store::db::{Value, never};
use altimail_store::files::{MessageFiles, new_file_name};
use altimail_store::group_sync::{GroupSync, Written};
use altimail_store::{Db, Location, Store, StoreError};

/// One envelope recipient as resolved at RCPT time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The address to deliver to (after aliases, lists, plus addressing, domain aliases).
    pub address: String,
    /// The local account, or 0 for a remote recipient.
    pub account_id: i64,
    /// The address as the client gave it in RCPT TO (for Delivered-To).
    pub original: String,
    /// DSN NOTIFY (RFC 3461), e.g. "FAILURE,DELAY"; empty when not given.
    pub notify: String,
    /// DSN ORCPT, e.g. "rfc822;user@example.com"; empty when not given.
    pub orcpt: String,
}

impl Recipient {
    pub fn local(address: &str, account_id: i64, original: &str) -> Self {
        Recipient {
            address: address.to_owned(),
            account_id,
            original: original.to_owned(),
            notify: String::new(),
            orcpt: String::new(),
        }
    }

    pub fn remote(address: &str, original: &str) -> Self {
        Recipient::local(address, 0, original)
    }
}

/// Envelope data beyond sender and recipients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvelopeExtras {
    /// DSN ENVID.
    pub envid: String,
    /// DSN RET: "FULL", "HDRS" or "".
    pub ret: String,
    /// BODY: "7BIT", "8BITMIME", "BINARYMIME" or "".
    pub body: String,
    pub smtputf8: bool,
    /// The SMTP AUTH user who submitted it, or "".
    pub auth_user: String,
    /// The SMTP client's address; `None` for mail the server made or fetched itself.
    pub client_ip: Option<IpAddr>,
    /// The client's IP range has anti-spam off (`hm_securityranges.rangeoptions` bit 1024 unset).
    pub skip_antispam: bool,
    /// The client's IP range has anti-virus off (bit 4096 unset).
    pub skip_antivirus: bool,
}

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

/// Changes to other queue rows committed in the same transaction as a submitted message, so that
/// handing work over to the new message happens exactly once across a crash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settle {
    /// `hm_messagerecipients` rows (of the message being delivered) the commit removes, with
    /// their DSN and forward-marker rows: the recipients a bounce answers for, or a forward
    /// without a kept copy carries on.
    pub remove_recipients: Vec<i64>,
    /// `(recipientid, messageid)`: recipient rows whose forward this message is, while the row
    /// itself stays queued for its kept copy (`altimail_forwarded` markers).
    pub mark_forwarded: Vec<(i64, i64)>,
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
    let now = now_local();
    let mut tx = store.db.begin().await?;
    let mut ids = Vec::with_capacity(batch.len());
    for p in batch {
        let m = &p.message;
        let id = tx
            .insert(
                "INSERT INTO hm_messages (messageaccountid, messagefolderid, messagefilename, messagetype, messagefrom, \
                 messagesize, messagecurnooftries, messagenexttrytime, messageflags, messagecreatetime, messagelocked, \
                 messageuid) VALUES (0, 0, ?, ?, ?, ?, 0, ?, 0, ?, 0, 0)",
                &[
                    p.file_name.as_str().into(),
                    message_type::QUEUED.into(),
                    m.sender.as_str().into(),
                    (m.data.len() as i64).into(),
                    never().into(),
                    now.into(),
                ],
                "messageid",
            )
            .await?;
        for r in &m.recipients {
            let rid = tx
                .insert(
                    "INSERT INTO hm_messagerecipients (recipientmessageid, recipientaddress, recipientlocalaccountid, \
                     recipientoriginaladdress) VALUES (?, ?, ?, ?)",
                    &[id.into(), r.address.as_str().into(), r.account_id.into(), r.original.as_str().into()],
                    "recipientid",
                )
                .await?;
            if !r.notify.is_empty() || !r.orcpt.is_empty() {
                tx.execute(
                    "INSERT INTO altimail_recipient_dsn (recipientid, messageid, notify, orcpt) VALUES (?, ?, ?, ?)",
                    &[rid.into(), id.into(), r.notify.as_str().into(), r.orcpt.as_str().into()],
                )
                .await?;
            }
        }
        let x = &m.extras;
        // Every field takes part in the comparison: a message with only a client address still
        // gets its row.
        if x != &EnvelopeExtras::default() {
            tx.execute(
                "INSERT INTO altimail_envelopes (messageid, envid, ret, body, smtputf8, authuser, clientip, \
                 skipantispam, skipantivirus) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    id.into(),
                    Value::Text(x.envid.clone()),
                    Value::Text(x.ret.clone()),
                    Value::Text(x.body.clone()),
                    x.smtputf8.into(),
                    Value::Text(x.auth_user.clone()),
                    Value::Text(x.client_ip.map(|ip| ip.to_string()).unwrap_or_default()),
                    x.skip_antispam.into(),
                    x.skip_antivirus.into(),
                ],
            )
            .await?;
        }
        for &rid in &p.settle.remove_recipients {
            crate::queue::remove_recipient_in(&mut tx, rid).await?;
        }
        for &(rid, mid) in &p.settle.mark_forwarded {
            tx.execute("DELETE FROM altimail_forwarded WHERE recipientid = ?", &[rid.into()]).await?;
            tx.execute(
                "INSERT INTO altimail_forwarded (recipientid, messageid) VALUES (?, ?)",
                &[rid.into(), mid.into()],
            )
            .await?;
        }
        ids.push(id);
    }
    tx.commit().await?;
    Ok(ids)
}
