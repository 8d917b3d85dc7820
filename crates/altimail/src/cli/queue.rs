//! `altimail queue …`: the outbound queue (`hm_messages` rows of type 1) and the messages held
//! for ETRN routes (type 3), listed and managed through the database, so it works while the
//! server runs. `retry` and `flush` release held messages as an ETRN from the route's side would.

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::Serialize;

use altimail_core::codes::message_type;
use altimail_delivery::queue;
use altimail_store::repo::messages::{self, Message};
use altimail_store::repo::queue::{self as queue_repo, Held};
use altimail_store::{Location, Store};

use super::output::{Output, yes_no};

#[derive(Debug, Subcommand)]
pub enum QueueCmd {
    /// List queued messages, and those held for ETRN routes (marked as held).
    List,
    /// Show one queued or held message with its recipients.
    Show {
        /// The message's id (see `altimail queue list`).
        id: i64,
    },
    /// Make a message due now (its retry count stays); a held message is released.
    Retry {
        /// The message's id (see `altimail queue list`).
        id: i64,
    },
    /// Remove a message from the queue (no bounce is sent).
    Remove {
        /// The message's id (see `altimail queue list`).
        id: i64,
    },
    /// Make every queued message due now and release every held one.
    Flush,
}

/// One queue entry as printed.
#[derive(Debug, Serialize)]
struct Entry {
    id: i64,
    from: String,
    recipients: Vec<String>,
    tries: i64,
    next_try: String,
    /// Held for an ETRN route (type 3) until the route's side sends ETRN.
    held: bool,
    locked: bool,
    size: i64,
    file: String,
}

async fn entry(store: &Store, m: &Message) -> anyhow::Result<Entry> {
    let recipients = queue::recipients(&store.db, m.id).await?.into_iter().map(|r| r.address).collect();
    let held = m.kind == message_type::ETRN_HELD;
    let next_try = if held {
        "held (ETRN)".into()
    } else if m.next_try <= queue::etrn_hold_time() {
        "now".into()
    } else {
        m.next_try.format("%Y-%m-%d %H:%M:%S").to_string()
    };
    Ok(Entry {
        id: m.id,
        from: m.from.clone(),
        recipients,
        tries: m.tries,
        next_try,
        held,
        locked: m.locked,
        size: m.size,
        file: store.files.resolve(Location::Queue, &m.file_name).display().to_string(),
    })
}

async fn require(store: &Store, id: i64) -> anyhow::Result<Message> {
    match messages::get(&store.db, id).await? {
        Some(m) if m.kind == message_type::QUEUED || m.kind == message_type::ETRN_HELD => Ok(m),
        _ => bail!("no queued message {id}"),
    }
}

pub async fn run(cmd: QueueCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        QueueCmd::List => {
            let mut all = Vec::new();
            for m in messages::queue_and_held(db).await? {
                all.push(entry(store, &m).await?);
            }
            let rows = all
                .iter()
                .map(|e| {
                    vec![
                        e.id.to_string(),
                        if e.from.is_empty() { "<>".into() } else { e.from.clone() },
                        e.recipients.join(","),
                        e.tries.to_string(),
                        e.next_try.clone(),
                        yes_no(e.held),
                        yes_no(e.locked),
                    ]
                })
                .collect();
            out.table(&all, &["ID", "FROM", "RECIPIENTS", "TRIES", "NEXT-TRY", "HELD", "LOCKED"], rows)
        }
        QueueCmd::Show { id } => out.object(&entry(store, &require(store, id).await?).await?),
        QueueCmd::Retry { id } => {
            let m = require(store, id).await?;
            if m.kind == message_type::ETRN_HELD {
                queue_repo::release_held(db, Held::One(m.id)).await?;
            } else {
                queue_repo::make_due(db, m.id).await?;
            }
            let e = entry(store, &require(store, id).await?).await?;
            out.done(&format!("message {id} will be delivered now"), &e)
        }
        QueueCmd::Remove { id } => {
            let m = require(store, id).await?;
            if m.locked {
                bail!("message {id} is being delivered right now; try again in a moment");
            }
            let e = entry(store, &m).await?;
            queue::remove(db, m.id).await?;
            let path = store.files.resolve(Location::Queue, &m.file_name);
            if let Err(err) = std::fs::remove_file(&path)
                && err.kind() != std::io::ErrorKind::NotFound
            {
                return Err(err).with_context(|| format!("message {id} removed, but not its file {}", path.display()));
            }
            out.done(&format!("message {id} removed"), &e)
        }
        QueueCmd::Flush => {
            let n = queue_repo::make_all_due(db).await?;
            let held = queue_repo::release_held(db, Held::All).await?;
            #[derive(Serialize)]
            struct Flushed {
                messages: u64,
                released_held: u64,
            }
            let text = if held > 0 {
                format!("{} queued message(s) will be delivered now ({held} released from ETRN hold)", n + held)
            } else {
                format!("{n} queued message(s) will be delivered now")
            };
            out.done(&text, &Flushed { messages: n + held, released_held: held })
        }
    }
}
