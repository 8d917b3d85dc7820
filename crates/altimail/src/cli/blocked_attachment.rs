//! `altimail blocked-attachment …` (hm_blocked_attachments: file names replaced by a notice
//! when `enableattachmentblocking` is on)

use anyhow::bail;
use clap::Subcommand;

use altimail_store::Store;
use altimail_store::repo::blocked_attachments::{self, BlockedAttachment};

use super::output::Output;

#[derive(Debug, Subcommand)]
pub enum BlockedAttachmentCmd {
    /// List the blocked file-name wildcards.
    List,
    /// Block attachments whose file name matches a wildcard (`*` any characters, `?` one;
    /// case does not matter).
    Add {
        /// The wildcard, e.g. "*.exe".
        wildcard: String,
        /// What the files are.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Stop blocking a wildcard.
    Remove {
        /// The wildcard as listed, or its id.
        wildcard: String,
    },
}

async fn require(store: &Store, key: &str) -> anyhow::Result<BlockedAttachment> {
    if let Some(b) = blocked_attachments::find(&store.db, key).await? {
        return Ok(b);
    }
    if let Ok(id) = key.parse::<i64>()
        && let Some(b) = blocked_attachments::list(&store.db).await?.into_iter().find(|b| b.id == id)
    {
        return Ok(b);
    }
    bail!("no blocked attachment {key:?} (see `altimail blocked-attachment list`)")
}

pub async fn run(cmd: BlockedAttachmentCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        BlockedAttachmentCmd::List => {
            let all = blocked_attachments::list(db).await?;
            let rows = all.iter().map(|b| vec![b.id.to_string(), b.wildcard.clone(), b.description.clone()]).collect();
            out.table(&all, &["ID", "WILDCARD", "DESCRIPTION"], rows)
        }
        BlockedAttachmentCmd::Add { wildcard, description } => {
            let b = blocked_attachments::add(db, &wildcard, &description).await?;
            out.done(&format!("attachments named {} are blocked", b.wildcard), &b)
        }
        BlockedAttachmentCmd::Remove { wildcard } => {
            let b = require(store, &wildcard).await?;
            blocked_attachments::remove(db, b.id).await?;
            out.done(&format!("attachments named {} are no longer blocked", b.wildcard), &b)
        }
    }
}
