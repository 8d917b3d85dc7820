//! `altimail whitelist …`: the anti-spam white list (hm_whitelist): clients whose mail skips
//! the anti-spam tests, by IP range and sender wildcard.

use std::net::IpAddr;

use anyhow::Context;
use clap::Subcommand;

use altimail_store::Store;
use altimail_store::repo::whitelist::{self, WhiteListEntry};

use super::output::Output;

#[derive(Debug, Subcommand)]
pub enum WhitelistCmd {
    /// List the entries.
    List,
    /// Add an entry: mail from a client in LOWER..UPPER whose sender matches ADDRESS skips the
    /// anti-spam tests.
    Add {
        /// First address of the range.
        lower: IpAddr,
        /// Last address of the range (defaults to LOWER).
        upper: Option<IpAddr>,
        /// Sender wildcard (`*` any characters, `?` one), e.g. `*@partner.example`; `*` for any.
        #[arg(long, default_value = "*")]
        address: String,
        /// A note for the administrator.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Remove the entry with this id (see `whitelist list`).
    Remove {
        /// The entry's id, as `whitelist list` shows it.
        id: i64,
    },
}

fn row(e: &WhiteListEntry) -> Vec<String> {
    vec![e.id.to_string(), e.lower.to_string(), e.upper.to_string(), e.address.clone(), e.description.clone()]
}

pub async fn run(cmd: WhitelistCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        WhitelistCmd::List => {
            let all = whitelist::list(db).await?;
            let rows = all.iter().map(row).collect();
            out.table(&all, &["ID", "LOWER", "UPPER", "SENDER", "DESCRIPTION"], rows)
        }
        WhitelistCmd::Add { lower, upper, address, description } => {
            let entry = WhiteListEntry { id: 0, lower, upper: upper.unwrap_or(lower), address, description };
            let added = whitelist::add(db, &entry).await.context("cannot add the white list entry")?;
            out.done(
                &format!("added white list entry {} ({}..{} {})", added.id, added.lower, added.upper, added.address),
                &added,
            )
        }
        WhitelistCmd::Remove { id } => {
            whitelist::remove(db, id).await?;
            out.done(&format!("removed white list entry {id}"), &id)
        }
    }
}
