//! `altimail queue …`: the outbound queue (`hm_messages` rows of type 1) and the messages held
//! for ETRN routes (type 3), listed and managed through the database, so it works while the
//! server runs. `retry` and `flush` release held messages as an ETRN from the route's side would.
//! Through the administration service, as the REST API's `/api/v1/queue`.

use clap::Subcommand;

use altimail_admin::Admin;
use altimail_store::Store;

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

pub async fn run(cmd: QueueCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let admin = Admin::new(store.clone());
    let me = super::caller();
    match cmd {
        QueueCmd::List => {
            let all = admin.list_queue(&me).await?;
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
        QueueCmd::Show { id } => out.object(&admin.get_queued(&me, id).await?),
        QueueCmd::Retry { id } => {
            let e = admin.retry_queued(&me, id).await?;
            out.done(&format!("message {id} will be delivered now"), &e)
        }
        QueueCmd::Remove { id } => {
            let e = admin.remove_queued(&me, id).await?;
            out.done(&format!("message {id} removed"), &e)
        }
        QueueCmd::Flush => {
            let f = admin.flush_queue(&me).await?;
            let text = if f.released_held > 0 {
                format!(
                    "{} queued message(s) will be delivered now ({} released from ETRN hold)",
                    f.messages, f.released_held
                )
            } else {
                format!("{} queued message(s) will be delivered now", f.messages)
            };
            out.done(&text, &f)
        }
    }
}
