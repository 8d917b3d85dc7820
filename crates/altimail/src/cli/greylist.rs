//! `altimail greylist …`: the greylisting white list and the stored triplets.

use clap::Subcommand;
use serde::Serialize;

use altimail_store::Store;
use altimail_store::repo::greylisting::{self, Triplet};

use super::output::Output;

#[derive(Debug, Subcommand)]
pub enum GreylistCmd {
    /// Client addresses that are never greylisted.
    #[command(subcommand)]
    Whitelist(WhitelistCmd),
    /// How many triplets are stored, and the most recent ones.
    Triplets {
        /// How many of the most recent triplets to list.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Remove every stored triplet (senders are greylisted afresh).
    Clear,
}

#[derive(Debug, Subcommand)]
pub enum WhitelistCmd {
    /// List the white-listed addresses.
    List,
    /// White-list an address; `*` and `?` are wildcards (192.168.*).
    Add {
        /// The client address, e.g. 192.0.2.7 or 192.168.*.
        address: String,
        /// What the entry is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Remove a white-listed address (as listed).
    Remove {
        /// The address as `greylist whitelist list` shows it.
        address: String,
    },
}

#[derive(Serialize)]
struct Triplets {
    count: i64,
    recent: Vec<Triplet>,
}

#[derive(Serialize)]
struct Cleared {
    removed: u64,
}

fn time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

pub async fn run(cmd: GreylistCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        GreylistCmd::Whitelist(WhitelistCmd::List) => {
            let all = greylisting::white_list(db).await?;
            let rows = all.iter().map(|w| vec![w.address.clone(), w.description.clone()]).collect();
            out.table(&all, &["ADDRESS", "DESCRIPTION"], rows)
        }
        GreylistCmd::Whitelist(WhitelistCmd::Add { address, description }) => {
            let w = greylisting::white_add(db, &address, &description).await?;
            out.done(&format!("{} white-listed", w.address), &w)
        }
        GreylistCmd::Whitelist(WhitelistCmd::Remove { address }) => {
            let w = greylisting::white_remove(db, &address).await?;
            out.done(&format!("{} removed from the white list", w.address), &w)
        }
        GreylistCmd::Triplets { limit } => {
            let all = Triplets { count: greylisting::count(db).await?, recent: greylisting::recent(db, limit).await? };
            if out.json {
                return out.object(&all);
            }
            super::output::emit(&format!("{} triplet(s) stored", all.count))?;
            if all.recent.is_empty() {
                return Ok(());
            }
            let rows = all
                .recent
                .iter()
                .map(|t| {
                    vec![
                        t.ip.to_string(),
                        t.sender.clone(),
                        t.recipient.clone(),
                        time(t.created),
                        time(t.block_end),
                        time(t.delete_time),
                        t.blocked_count.to_string(),
                        t.passed_count.to_string(),
                    ]
                })
                .collect();
            out.table(
                &all.recent,
                &["IP", "SENDER", "RECIPIENT", "CREATED", "BLOCK-END", "DELETE-TIME", "BLOCKED-COUNT", "PASSED-COUNT"],
                rows,
            )
        }
        GreylistCmd::Clear => {
            let removed = greylisting::clear(db).await?;
            out.done(&format!("{removed} triplet(s) removed"), &Cleared { removed })
        }
    }
}
