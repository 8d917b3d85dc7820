//! `altimail domain …`

use anyhow::bail;
use clap::Subcommand;
use serde::Serialize;

use altimail_admin::{Admin, AdminError, DomainChanges, NewDomain};
use altimail_store::Store;
use altimail_store::repo::domain_aliases;

use super::output::{Output, yes_no};
use super::parse_bool;

#[derive(Debug, Subcommand)]
pub enum DomainCmd {
    /// Add a domain.
    Add {
        /// The domain's name, e.g. example.com.
        name: String,
        /// Create it disabled.
        #[arg(long)]
        inactive: bool,
    },
    /// List domains.
    List,
    /// Show one domain and its aliases.
    Show {
        /// The domain's name.
        name: String,
    },
    /// Change a domain.
    Set {
        /// The domain's name.
        name: String,
        /// Enable or disable the domain (yes/no).
        #[arg(long, value_parser = parse_bool)]
        active: Option<bool>,
        /// Catch-all address for unknown local users ("" to clear).
        #[arg(long, value_name = "ADDRESS")]
        catch_all: Option<String>,
        /// Domain quota in MB (0 = none).
        #[arg(long, value_name = "MB")]
        max_size: Option<i64>,
        /// Largest message senders of this domain may send, in KB (0 = global limit).
        #[arg(long, value_name = "KB")]
        max_message_size: Option<i64>,
        /// Largest quota an account may have, in MB (0 = none).
        #[arg(long, value_name = "MB")]
        max_account_size: Option<i64>,
        /// Plus addressing (user+tag@domain reaches user@domain) on or off (yes/no).
        #[arg(long, value_parser = parse_bool)]
        plus_addressing: Option<bool>,
        /// Character separating the plus-address tag (e.g. + - _ %).
        #[arg(long, value_name = "CHAR")]
        plus_char: Option<String>,
        /// Limit on the number of accounts (0 = no limit).
        #[arg(long, value_name = "N")]
        max_accounts: Option<i64>,
        /// Limit on the number of aliases (0 = no limit).
        #[arg(long, value_name = "N")]
        max_aliases: Option<i64>,
        /// Limit on the number of distribution lists (0 = no limit).
        #[arg(long, value_name = "N")]
        max_lists: Option<i64>,
        /// DKIM selector: the key is published at SELECTOR._domainkey.DOMAIN.
        #[arg(long, value_name = "SELECTOR")]
        dkim_selector: Option<String>,
        /// PEM private key file for DKIM signing.
        #[arg(long, value_name = "FILE")]
        dkim_key: Option<String>,
        /// Sign outgoing mail with DKIM.
        #[arg(long, value_parser = parse_bool)]
        dkim_sign: Option<bool>,
        /// Greylist mail to this domain (when greylisting is on).
        #[arg(long, value_parser = parse_bool)]
        greylisting: Option<bool>,
    },
    /// Remove a domain with all its accounts, aliases, lists, mail and folders. A domain that
    /// has accounts is removed only with --force; without it, what would go is printed.
    Remove {
        /// The domain's name.
        name: String,
        /// Remove it even though it has accounts (and their mail).
        #[arg(long)]
        force: bool,
    },
    /// Domain aliases: other names of a domain.
    #[command(subcommand)]
    Alias(DomainAliasCmd),
}

#[derive(Debug, Subcommand)]
pub enum DomainAliasCmd {
    /// Make ALIAS another name of DOMAIN.
    Add {
        /// The domain.
        domain: String,
        /// Its other name.
        alias: String,
    },
    /// List the aliases of a domain.
    List {
        /// The domain.
        domain: String,
    },
    /// Remove a domain alias.
    Remove {
        /// The alias name.
        alias: String,
    },
}

/// A domain alias in `domain alias list`, with its domain's name.
#[derive(Serialize)]
struct DomainAliasRow {
    #[serde(flatten)]
    alias: domain_aliases::DomainAlias,
    domain: String,
}

pub async fn run(cmd: DomainCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let admin = Admin::new(store.clone());
    let me = super::caller();
    match cmd {
        DomainCmd::Add { name, inactive } => {
            let d = admin.create_domain(&me, &NewDomain { name, active: !inactive }).await?;
            out.done(&format!("domain {} added", d.name), &d)
        }
        DomainCmd::List => {
            let all = admin.list_domains(&me).await?;
            let rows = all.iter().map(|d| vec![d.name.clone(), yes_no(d.active), d.catch_all.clone()]).collect();
            out.table(&all, &["NAME", "ACTIVE", "CATCH-ALL"], rows)
        }
        DomainCmd::Show { name } => out.object(&admin.get_domain(&me, &name).await?),
        DomainCmd::Set {
            name,
            active,
            catch_all,
            max_size,
            max_message_size,
            max_account_size,
            plus_addressing,
            plus_char,
            max_accounts,
            max_aliases,
            max_lists,
            dkim_selector,
            dkim_key,
            dkim_sign,
            greylisting,
        } => {
            let changes = DomainChanges {
                active,
                catch_all,
                max_size_mb: max_size,
                max_message_size_kb: max_message_size,
                max_account_size_mb: max_account_size,
                plus_addressing,
                plus_addressing_char: plus_char,
                max_accounts,
                max_aliases,
                max_lists,
                dkim_selector,
                dkim_private_key_file: dkim_key,
                dkim_sign,
                greylisting,
            };
            let d = admin.update_domain(&me, &name, &changes).await?;
            out.done(&format!("domain {} updated", d.name), &d)
        }
        DomainCmd::Remove { name, force } => {
            let folder_text = |folder: &Option<std::path::PathBuf>| {
                folder.as_ref().map(|f| format!(" and the folder {}", f.display())).unwrap_or_default()
            };
            let gone = match admin.delete_domain(&me, &name, force).await {
                Err(AdminError::NotEmpty(why)) => {
                    let folder = folder_text(&store.files.domain_dir(&name));
                    bail!("{why}. Add --force to remove the domain with all of it{folder}")
                }
                other => other?,
            };
            let c = gone.contents;
            let message = format!(
                "domain {} removed with {} account(s) with {} message(s), {} bytes{}",
                gone.removed.name,
                c.accounts,
                c.messages,
                c.bytes,
                folder_text(&gone.folder)
            );
            out.done(&message, &gone)
        }
        DomainCmd::Alias(DomainAliasCmd::Add { domain, alias }) => {
            let a = admin.add_domain_alias(&me, &domain, &alias).await?;
            let name = admin.get_domain(&me, &domain).await?.domain.name;
            out.done(&format!("{} is now an alias of {name}", a.alias), &a)
        }
        DomainCmd::Alias(DomainAliasCmd::List { domain }) => {
            let name = admin.get_domain(&me, &domain).await?.domain.name;
            let all: Vec<DomainAliasRow> = admin
                .list_domain_aliases(&me, &domain)
                .await?
                .into_iter()
                .map(|alias| DomainAliasRow { alias, domain: name.clone() })
                .collect();
            let rows = all.iter().map(|a| vec![a.alias.alias.clone(), a.domain.clone()]).collect();
            out.table(&all, &["ALIAS", "DOMAIN"], rows)
        }
        DomainCmd::Alias(DomainAliasCmd::Remove { alias }) => {
            let a = admin.remove_domain_alias(&me, &alias).await?;
            out.done(&format!("domain alias {} removed", a.alias), &a)
        }
    }
}
