//! `altimail domain …`

use anyhow::bail;
use clap::Subcommand;
use serde::Serialize;

use altimail_core::address::Address;
use altimail_store::Store;
use altimail_store::repo::{domain_aliases, domains};

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

/// What `remove` took away, for --json.
#[derive(Serialize)]
pub(crate) struct Removed<'a, T: Serialize> {
    pub(crate) removed: &'a T,
    #[serde(flatten)]
    pub(crate) contents: altimail_store::Contents,
    /// The folder in the data directory that went with it.
    pub(crate) folder: Option<std::path::PathBuf>,
}

/// A domain alias in `domain alias list`, with its domain's name.
#[derive(Serialize)]
struct DomainAliasRow {
    #[serde(flatten)]
    alias: domain_aliases::DomainAlias,
    domain: String,
}

#[derive(Serialize)]
struct DomainView {
    #[serde(flatten)]
    domain: domains::Domain,
    aliases: Vec<String>,
}

fn bit(options: &mut i64, mask: i64, on: bool) {
    if on { *options |= mask } else { *options &= !mask }
}

pub async fn run(cmd: DomainCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        DomainCmd::Add { name, inactive } => {
            let mut d = domains::Domain::new(&name);
            d.active = !inactive;
            let d = domains::create(db, &d).await?;
            out.done(&format!("domain {} added", d.name), &d)
        }
        DomainCmd::List => {
            let all = domains::list(db).await?;
            let rows = all.iter().map(|d| vec![d.name.clone(), yes_no(d.active), d.catch_all.clone()]).collect();
            out.table(&all, &["NAME", "ACTIVE", "CATCH-ALL"], rows)
        }
        DomainCmd::Show { name } => {
            let domain = domains::require(db, &name).await?;
            let aliases = domain_aliases::list(db, domain.id).await?.into_iter().map(|a| a.alias).collect();
            out.object(&DomainView { domain, aliases })
        }
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
            let mut d = domains::require(db, &name).await?;
            if let Some(v) = active {
                d.active = v;
            }
            if let Some(v) = catch_all {
                if !v.is_empty() {
                    Address::parse(&v)?;
                }
                d.catch_all = v;
            }
            for (value, field) in [
                (max_size, &mut d.max_size_mb),
                (max_message_size, &mut d.max_message_size_kb),
                (max_account_size, &mut d.max_account_size_mb),
            ] {
                if let Some(v) = value {
                    if v < 0 {
                        bail!("sizes cannot be negative");
                    }
                    *field = v;
                }
            }
            if let Some(v) = plus_addressing {
                d.plus_addressing = v;
            }
            if let Some(c) = plus_char {
                if c.chars().count() != 1 || c.chars().any(|c| c.is_alphanumeric() || c == '@' || c.is_whitespace()) {
                    bail!("--plus-char must be one punctuation character, such as + - _ or %");
                }
                d.plus_addressing_char = c;
            }
            for (value, field, mask) in [
                (max_accounts, &mut d.max_accounts, 1),
                (max_aliases, &mut d.max_aliases, 2),
                (max_lists, &mut d.max_lists, 4),
            ] {
                if let Some(v) = value {
                    if v < 0 {
                        bail!("limits cannot be negative");
                    }
                    *field = v;
                    bit(&mut d.limitations_enabled, mask, v > 0);
                }
            }
            if let Some(v) = dkim_selector {
                d.dkim_selector = v;
            }
            if let Some(v) = dkim_key {
                if !v.is_empty() && !std::path::Path::new(&v).is_file() {
                    bail!("{v}: no such file");
                }
                d.dkim_private_key_file = v;
            }
            if let Some(v) = dkim_sign {
                bit(&mut d.antispam_options, 2, v);
            }
            if let Some(v) = greylisting {
                bit(&mut d.antispam_options, 1, v);
            }
            domains::update(db, &d).await?;
            out.done(&format!("domain {} updated", d.name), &d)
        }
        DomainCmd::Remove { name, force } => {
            let d = domains::require(db, &name).await?;
            let contents = store.domain_contents(&d).await?;
            let folder = store.files.domain_dir(&d.name);
            let what = format!(
                "{} account(s) with {} message(s), {} bytes",
                contents.accounts, contents.messages, contents.bytes
            );
            if contents.accounts > 0 && !force {
                bail!(
                    "domain {} has {what}; nothing removed. Add --force to remove the domain with all of it{}",
                    d.name,
                    folder.as_ref().map(|f| format!(" and the folder {}", f.display())).unwrap_or_default()
                );
            }
            store.delete_domain(&d).await?;
            let message = format!(
                "domain {} removed with {what}{}",
                d.name,
                folder.as_ref().map(|f| format!(" and the folder {}", f.display())).unwrap_or_default()
            );
            out.done(&message, &Removed { removed: &d, contents, folder })
        }
        DomainCmd::Alias(DomainAliasCmd::Add { domain, alias }) => {
            let d = domains::require(db, &domain).await?;
            let a = domain_aliases::create(db, d.id, &alias).await?;
            out.done(&format!("{} is now an alias of {}", a.alias, d.name), &a)
        }
        DomainCmd::Alias(DomainAliasCmd::List { domain }) => {
            let d = domains::require(db, &domain).await?;
            let all: Vec<DomainAliasRow> = domain_aliases::list(db, d.id)
                .await?
                .into_iter()
                .map(|alias| DomainAliasRow { alias, domain: d.name.clone() })
                .collect();
            let rows = all.iter().map(|a| vec![a.alias.alias.clone(), a.domain.clone()]).collect();
            out.table(&all, &["ALIAS", "DOMAIN"], rows)
        }
        DomainCmd::Alias(DomainAliasCmd::Remove { alias }) => {
            let Some(a) = domain_aliases::find(db, &alias).await? else { bail!("no domain alias {alias}") };
            domain_aliases::delete(db, a.id).await?;
            out.done(&format!("domain alias {} removed", a.alias), &a)
        }
    }
}
