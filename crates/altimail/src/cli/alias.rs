//! `altimail alias …`

use clap::Subcommand;

use altimail_admin::{Admin, AliasChanges, NewAlias};
use altimail_store::Store;

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
    let admin = Admin::new(store.clone());
    let me = super::caller();
    match cmd {
        AliasCmd::Add { name, target, inactive } => {
            let alias = admin.create_alias(&me, &NewAlias { name, target, active: !inactive }).await?;
            out.done(&format!("alias {} -> {} added", alias.name, alias.value), &alias)
        }
        AliasCmd::List { domain } => {
            let all = admin.list_aliases(&me, domain.as_deref()).await?;
            let rows = all.iter().map(|a| vec![a.name.clone(), a.value.clone(), yes_no(a.active)]).collect();
            out.table(&all, &["NAME", "TARGET", "ACTIVE"], rows)
        }
        AliasCmd::Show { name } => out.object(&admin.get_alias(&me, &name).await?),
        AliasCmd::Set { name, target, active } => {
            let a = admin.update_alias(&me, &name, &AliasChanges { target, active }).await?;
            out.done(&format!("alias {} updated", a.name), &a)
        }
        AliasCmd::Remove { name } => {
            let a = admin.delete_alias(&me, &name).await?;
            out.done(&format!("alias {} removed", a.name), &a)
        }
    }
}
