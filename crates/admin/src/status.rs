//! The server's status: whether it runs, since when, its live sessions per protocol, what it
//! has counted since the start, and the size of the delivery queue.
//!
//! The live figures come from the running server through [`LiveStatus`] (the service runs in
//! the same process as the listeners); the command line, outside the server, reports only
//! what the database knows.

use serde::Serialize;

use altimail_core::codes::message_type;
use altimail_store::repo::messages;

use crate::{Admin, AdminError, Caller};

/// Live sessions per protocol.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SessionCounts {
    pub smtp: u64,
    pub pop3: u64,
    pub imap: u64,
    pub http: u64,
}

/// What the server counted since it started.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MessageCounters {
    /// Messages accepted by SMTP (received and submitted).
    pub received: u64,
    /// Messages handed to another server.
    pub sent: u64,
    /// Messages marked as spam or refused as spam.
    pub spam: u64,
    /// Messages in which a virus was found.
    pub viruses: u64,
}

/// The delivery queue's size.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueSize {
    /// Messages waiting for delivery.
    pub queued: u64,
    /// Messages held for ETRN routes.
    pub held: u64,
}

/// What the running server reports about itself.
pub trait LiveStatus: Send + Sync + std::fmt::Debug {
    /// When the server started (server local time).
    fn started(&self) -> chrono::NaiveDateTime;
    fn sessions(&self) -> SessionCounts;
    fn counters(&self) -> MessageCounters;
}

/// The server's status.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ServerStatus {
    /// `running` inside the server; `unknown` from outside it (the command line).
    pub state: String,
    pub version: String,
    /// When the server started (server local time, `YYYY-MM-DDTHH:MM:SS`, no offset).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub started: Option<chrono::NaiveDateTime>,
    pub uptime_seconds: Option<i64>,
    pub sessions: Option<SessionCounts>,
    pub counters: Option<MessageCounters>,
    pub queue: QueueSize,
}

impl Admin {
    /// The status (server administrators only).
    pub async fn status(&self, caller: &Caller) -> Result<ServerStatus, AdminError> {
        self.require_server(caller, "status.read", "status").await?;
        let mut queue = QueueSize::default();
        for m in messages::queue_and_held(&self.store.db).await? {
            if m.kind == message_type::ETRN_HELD {
                queue.held += 1;
            } else {
                queue.queued += 1;
            }
        }
        let live = self.live.as_deref();
        let started = live.map(LiveStatus::started);
        Ok(ServerStatus {
            state: if live.is_some() { "running" } else { "unknown" }.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started,
            uptime_seconds: started.map(|s| (altimail_core::time::now_local() - s).num_seconds().max(0)),
            sessions: live.map(LiveStatus::sessions),
            counters: live.map(LiveStatus::counters),
            queue,
        })
    }
}
