//! `altimail alias …`

use anyhow::Context;
use clap::Subcommand;

use altimail_core::address::Address;
use altimail_store::Store;
use altimail_store::repo::{aliases, domains};

use super::output::{Output, yes_no};
use super::parse_bool;

#[derive(Debug, Subcommand)]
pub enum AliasCmd {
    /// Add an alias: mail to NAME goes to TARGET.
    Add {
        /// The alias address (its domain must exist).
        name: String,
        /// Where its mail goes: a local or remote address.
        target: String,
        /// Create it disabled.
        #[arg(long)]
        inactive: bool,
    },
    /// List aliases.
    List {
        /// Only aliases of this domain.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Show one alias.
    Show {
        /// The alias address.
        name: String,
    },
    /// Change an alias.
    Set {
        /// The alias address.
        name: String,
        /// New target address.
        #[arg(long, value_name = "ADDRESS")]
        target: Option<String>,
        /// Enable or disable the alias (yes/no).
        #[arg(long, value_parser = parse_bool)]
        active: Option<bool>,
    },
    /// Remove an alias.
    Remove {
        /// The alias address.
        name: String,
    },
}

pub async fn run(cmd: AliasCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        AliasCmd::Add { name, target, inactive } => {
            let addr = Address::parse(&name)?;
            let target = Address::parse(&target)?;
            let domain =
                domains::find(db, addr.domain()).await?.with_context(|| format!("no domain {}", addr.domain()))?;
            let alias = aliases::Alias {
                id: 0,
                domain_id: domain.id,
                name: addr.to_string(),
                value: target.to_string(),
                active: !inactive,
            };
            let alias = aliases::create(db, &alias).await?;
            out.done(&format!("alias {} -> {} added", alias.name, alias.value), &alias)
        }
        AliasCmd::List { domain } => {
            let domain_id = match domain {
                Some(d) => Some(domains::require(db, &d).await?.id),
                None => None,
            };
            let all = aliases::list(db, domain_id).await?;
            let rows = all.iter().map(|a| vec![a.name.clone(), a.value.clone(), yes_no(a.active)]).collect();
            out.table(&all, &["NAME", "TARGET", "ACTIVE"], rows)
        }
        AliasCmd::Show { name } => out.object(&aliases::require(db, &name).await?),
        AliasCmd::Set { name, target, active } => {
            let mut a = aliases::require(db, &name).await?;
            if let Some(t) = target {
                a.value = Address::parse(&t)?.to_string();
            }
            if let Some(v) = active {
                a.active = v;
            }
            aliases::update(db, &a).await?;
            out.done(&format!("alias {} updated", a.name), &a)
        }
        AliasCmd::Remove { name } => {
            let a = aliases::require(db, &name).await?;
            aliases::delete(db, a.id).await?;
            out.done(&format!("alias {} removed", a.name), &a)
        }
    }
}
