//! `altimail list …` (distribution lists)

use anyhow::Context;
use clap::Subcommand;
use serde::Serialize;

use altimail_core::address::Address;
use altimail_core::codes::ListMode;
use altimail_store::Store;
use altimail_store::repo::{domains, lists};

use super::output::{Output, yes_no};
use super::parse_bool;

fn parse_mode(s: &str) -> Result<ListMode, String> {
    ListMode::parse(s).ok_or_else(|| format!("{s:?}: expected public, membership, announcement or domain-members"))
}

/// A list in `list list`: the list and its number of members.
#[derive(Serialize)]
struct ListRow {
    #[serde(flatten)]
    list: lists::List,
    members: usize,
}

#[derive(Debug, Subcommand)]
pub enum ListCmd {
    /// Add a distribution list.
    Add {
        /// The list's address (its domain must exist).
        address: String,
        /// Who may send to it: public, membership, announcement, domain-members.
        #[arg(long, value_parser = parse_mode, default_value = "public")]
        mode: ListMode,
        /// Senders must authenticate with SMTP AUTH.
        #[arg(long)]
        require_auth: bool,
        /// The only sender allowed in announcement mode.
        #[arg(long, value_name = "ADDRESS")]
        require_address: Option<String>,
        /// Create it disabled.
        #[arg(long)]
        inactive: bool,
    },
    /// List distribution lists.
    List {
        /// Only lists of this domain.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Show a list with its members.
    Show {
        /// The list's address.
        address: String,
    },
    /// Change a list.
    Set {
        /// The list's address.
        address: String,
        /// Who may send to it: public, membership, announcement, domain-members.
        #[arg(long, value_parser = parse_mode)]
        mode: Option<ListMode>,
        /// Whether senders must authenticate with SMTP AUTH (yes/no).
        #[arg(long, value_parser = parse_bool)]
        require_auth: Option<bool>,
        /// The only sender allowed in announcement mode.
        #[arg(long, value_name = "ADDRESS")]
        require_address: Option<String>,
        /// Enable or disable the list (yes/no).
        #[arg(long, value_parser = parse_bool)]
        active: Option<bool>,
    },
    /// Remove a list.
    Remove {
        /// The list's address.
        address: String,
    },
    /// Members of a list.
    #[command(subcommand)]
    Member(MemberCmd),
}

#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// Add MEMBER to LIST.
    Add {
        /// The list's address.
        list: String,
        /// The member's address (local or remote).
        member: String,
    },
    /// Remove MEMBER from LIST.
    Remove {
        /// The list's address.
        list: String,
        /// The member's address.
        member: String,
    },
    /// List the members of LIST.
    List {
        /// The list's address.
        list: String,
    },
}

#[derive(Serialize)]
struct ListView {
    #[serde(flatten)]
    list: lists::List,
    members: Vec<String>,
}

fn checked_require_address(list: &lists::List) -> anyhow::Result<()> {
    if list.mode == ListMode::Announcement && list.require_address.is_empty() {
        anyhow::bail!("announcement mode needs --require-address");
    }
    Ok(())
}

pub async fn run(cmd: ListCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        ListCmd::Add { address, mode, require_auth, require_address, inactive } => {
            let addr = Address::parse(&address)?;
            let domain =
                domains::find(db, addr.domain()).await?.with_context(|| format!("no domain {}", addr.domain()))?;
            let mut l = lists::List::new(domain.id, addr.as_str());
            l.mode = mode;
            l.require_auth = require_auth;
            l.enabled = !inactive;
            if let Some(r) = require_address {
                l.require_address = Address::parse(&r)?.to_string();
            }
            checked_require_address(&l)?;
            let l = lists::create(db, &l).await?;
            out.done(&format!("distribution list {} added", l.address), &l)
        }
        ListCmd::List { domain } => {
            let domain_id = match domain {
                Some(d) => Some(domains::require(db, &d).await?.id),
                None => None,
            };
            let mut all = Vec::new();
            let mut rows = Vec::new();
            for list in lists::list(db, domain_id).await? {
                let members = lists::members(db, list.id).await?.len();
                let mode = serde_json::to_value(list.mode)?.as_str().unwrap_or_default().to_owned();
                rows.push(vec![list.address.clone(), mode, yes_no(list.enabled), members.to_string()]);
                all.push(ListRow { list, members });
            }
            out.table(&all, &["ADDRESS", "MODE", "ACTIVE", "MEMBERS"], rows)
        }
        ListCmd::Show { address } => {
            let list = lists::require(db, &address).await?;
            let members = lists::members(db, list.id).await?;
            out.object(&ListView { list, members })
        }
        ListCmd::Set { address, mode, require_auth, require_address, active } => {
            let mut l = lists::require(db, &address).await?;
            if let Some(m) = mode {
                l.mode = m;
            }
            if let Some(v) = require_auth {
                l.require_auth = v;
            }
            if let Some(r) = require_address {
                l.require_address = if r.is_empty() { r } else { Address::parse(&r)?.to_string() };
            }
            if let Some(v) = active {
                l.enabled = v;
            }
            checked_require_address(&l)?;
            lists::update(db, &l).await?;
            out.done(&format!("distribution list {} updated", l.address), &l)
        }
        ListCmd::Remove { address } => {
            let l = lists::require(db, &address).await?;
            lists::delete(db, l.id).await?;
            out.done(&format!("distribution list {} removed", l.address), &l)
        }
        ListCmd::Member(MemberCmd::Add { list, member }) => {
            let l = lists::require(db, &list).await?;
            let m = Address::parse(&member)?;
            lists::add_member(db, l.id, m.as_str()).await?;
            out.done(&format!("{m} added to {}", l.address), &m.to_string())
        }
        ListCmd::Member(MemberCmd::Remove { list, member }) => {
            let l = lists::require(db, &list).await?;
            lists::remove_member(db, l.id, &member).await?;
            out.done(&format!("{member} removed from {}", l.address), &member)
        }
        ListCmd::Member(MemberCmd::List { list }) => {
            let l = lists::require(db, &list).await?;
            let members = lists::members(db, l.id).await?;
            let rows = members.iter().map(|m| vec![m.clone()]).collect();
            out.table(&members, &["MEMBER"], rows)
        }
    }
}
