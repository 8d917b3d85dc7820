//! `altimail list …` (distribution lists)

use clap::Subcommand;

use altimail_admin::{Admin, ListChanges, NewList};
use altimail_core::codes::ListMode;
use altimail_store::Store;

use super::output::{Output, yes_no};
use super::parse_bool;

fn parse_mode(s: &str) -> Result<ListMode, String> {
    ListMode::parse(s).ok_or_else(|| format!("{s:?}: expected public, membership, announcement or domain-members"))
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

pub async fn run(cmd: ListCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let admin = Admin::new(store.clone());
    let me = super::caller();
    match cmd {
        ListCmd::Add { address, mode, require_auth, require_address, inactive } => {
            let new = NewList {
                address,
                mode,
                require_auth,
                require_address: require_address.unwrap_or_default(),
                active: !inactive,
            };
            let l = admin.create_list(&me, &new).await?;
            out.done(&format!("distribution list {} added", l.address), &l)
        }
        ListCmd::List { domain } => {
            let all = admin.list_lists(&me, domain.as_deref()).await?;
            let mut rows = Vec::new();
            for s in &all {
                let mode = serde_json::to_value(s.list.mode)?.as_str().unwrap_or_default().to_owned();
                rows.push(vec![s.list.address.clone(), mode, yes_no(s.list.enabled), s.members.to_string()]);
            }
            out.table(&all, &["ADDRESS", "MODE", "ACTIVE", "MEMBERS"], rows)
        }
        ListCmd::Show { address } => out.object(&admin.get_list(&me, &address).await?),
        ListCmd::Set { address, mode, require_auth, require_address, active } => {
            let l =
                admin.update_list(&me, &address, &ListChanges { mode, require_auth, require_address, active }).await?;
            out.done(&format!("distribution list {} updated", l.address), &l)
        }
        ListCmd::Remove { address } => {
            let l = admin.delete_list(&me, &address).await?;
            out.done(&format!("distribution list {} removed", l.address), &l)
        }
        ListCmd::Member(MemberCmd::Add { list, member }) => {
            let m = admin.add_member(&me, &list, &member).await?;
            let l = admin.get_list(&me, &list).await?.list;
            out.done(&format!("{m} added to {}", l.address), &m)
        }
        ListCmd::Member(MemberCmd::Remove { list, member }) => {
            admin.remove_member(&me, &list, &member).await?;
            let l = admin.get_list(&me, &list).await?.list;
            out.done(&format!("{member} removed from {}", l.address), &member)
        }
        ListCmd::Member(MemberCmd::List { list }) => {
            let members = admin.list_members(&me, &list).await?;
            let rows = members.iter().map(|m| vec![m.clone()]).collect();
            out.table(&members, &["MEMBER"], rows)
        }
    }
}
