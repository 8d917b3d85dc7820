//! The delivery queue: queued messages (`hm_messages` type 1) and those held for ETRN routes
//! (type 3), listed and managed through the database, so it works while the server runs.
//! Retrying and flushing release held messages as an ETRN from the route's side would.
//! Server administrators only.

use serde::Serialize;

use altimail_core::codes::message_type;
use altimail_store::Location;
use altimail_store::repo::messages::{self, Message};
use altimail_store::repo::queue::{self, Held};

use crate::{Admin, AdminError, Caller, audit};

/// One queued message.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct QueueEntry {
    pub id: i64,
    /// Envelope sender ("" for a bounce).
    pub from: String,
    pub recipients: Vec<String>,
    /// Delivery attempts so far.
    pub tries: i64,
    /// `now`, `held (ETRN)`, or the time of the next attempt (server local time).
    pub next_try: String,
    /// Held for an ETRN route until the route's side sends ETRN.
    pub held: bool,
    /// Being delivered right now.
    pub locked: bool,
    pub size: i64,
    /// The message file.
    pub file: String,
}

/// What a flush released.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Flushed {
    /// Messages made due now, held ones included.
    pub messages: u64,
    /// Of those, messages released from an ETRN hold.
    pub released_held: u64,
}

impl Admin {
    async fn queue_entry(&self, m: &Message) -> Result<QueueEntry, AdminError> {
        let recipients = queue::recipients(&self.store.db, m.id).await?.into_iter().map(|r| r.address).collect();
        let held = m.kind == message_type::ETRN_HELD;
        let next_try = if held {
            "held (ETRN)".into()
        } else if m.next_try <= queue::etrn_hold_time() {
            "now".into()
        } else {
            m.next_try.format("%Y-%m-%d %H:%M:%S").to_string()
        };
        Ok(QueueEntry {
            id: m.id,
            from: m.from.clone(),
            recipients,
            tries: m.tries,
            next_try,
            held,
            locked: m.locked,
            size: m.size,
            file: self.store.files.resolve(Location::Queue, &m.file_name).display().to_string(),
        })
    }

    async fn queued(&self, id: i64) -> Result<Message, AdminError> {
        match messages::get(&self.store.db, id).await? {
            Some(m) if m.kind == message_type::QUEUED || m.kind == message_type::ETRN_HELD => Ok(m),
            _ => Err(AdminError::NotFound(format!("no queued message {id}"))),
        }
    }

    /// The queue, held messages included.
    pub async fn list_queue(&self, caller: &Caller) -> Result<Vec<QueueEntry>, AdminError> {
        self.require_server(caller, "queue.list", "queue").await?;
        let mut all = Vec::new();
        for m in messages::queue_and_held(&self.store.db).await? {
            all.push(self.queue_entry(&m).await?);
        }
        Ok(all)
    }

    pub async fn get_queued(&self, caller: &Caller, id: i64) -> Result<QueueEntry, AdminError> {
        self.require_server(caller, "queue.read", &id.to_string()).await?;
        let m = self.queued(id).await?;
        self.queue_entry(&m).await
    }

    /// Makes a message due now (its retry count stays); a held message is released.
    pub async fn retry_queued(&self, caller: &Caller, id: i64) -> Result<QueueEntry, AdminError> {
        self.require_server(caller, "queue.retry", &id.to_string()).await?;
        let m = self.queued(id).await?;
        if m.kind == message_type::ETRN_HELD {
            queue::release_held(&self.store.db, Held::One(m.id)).await?;
        } else {
            queue::make_due(&self.store.db, m.id).await?;
        }
        audit::change(caller, "queue.retry", &id.to_string());
        let m = self.queued(id).await?;
        self.queue_entry(&m).await
    }

    /// Removes a message from the queue with its file (no bounce is sent).
    pub async fn remove_queued(&self, caller: &Caller, id: i64) -> Result<QueueEntry, AdminError> {
        self.require_server(caller, "queue.delete", &id.to_string()).await?;
        let m = self.queued(id).await?;
        if m.locked {
            return Err(AdminError::Conflict(format!(
                "message {id} is being delivered right now; try again in a moment"
            )));
        }
        let entry = self.queue_entry(&m).await?;
        queue::remove(&self.store.db, m.id).await?;
        audit::change(caller, "queue.delete", &id.to_string());
        let path = self.store.files.resolve(Location::Queue, &m.file_name);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("queued message {id} removed, but not its file {}: {e}", path.display());
        }
        Ok(entry)
    }

    /// Makes every queued message due now and releases every held one.
    pub async fn flush_queue(&self, caller: &Caller) -> Result<Flushed, AdminError> {
        self.require_server(caller, "queue.flush", "queue").await?;
        let n = queue::make_all_due(&self.store.db).await?;
        let held = queue::release_held(&self.store.db, Held::All).await?;
        audit::change(caller, "queue.flush", "queue");
        Ok(Flushed { messages: n + held, released_held: held })
    }
}
