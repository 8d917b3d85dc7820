//! `altimail account …`

use std::io::Read;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use altimail_core::address::Address;
use altimail_store::Store;
use altimail_store::repo::{accounts, domains};

use super::domain::Removed;
use super::output::{Output, yes_no};
use super::parse_bool;

#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The password (visible to other local users in the process list; prefer --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordArgs {
    fn read(&self) -> anyhow::Result<Option<String>> {
        if let Some(p) = &self.password {
            return Ok(Some(p.clone()));
        }
        if !self.password_stdin {
            return Ok(None);
        }
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading the password from standard input")?;
        let line = s.lines().next().unwrap_or("").to_owned();
        Ok(Some(line))
    }
}

#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// Add an account (its domain must exist). Give its password, or --no-password for an
    /// account nobody can log on to (until `account set --password`).
    Add {
        /// The account's e-mail address (also its login name).
        address: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// Create the account without a password: no logon succeeds until one is set.
        #[arg(long, conflicts_with_all = ["password", "password_stdin"])]
        no_password: bool,
        /// Quota in MB (0 = unlimited).
        #[arg(long, value_name = "MB", default_value_t = 0)]
        quota: i64,
        /// Create it disabled (no logons, no mail delivered).
        #[arg(long)]
        inactive: bool,
        /// 0 user, 1 domain administrator, 2 server administrator.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..=2))]
        admin_level: i64,
    },
    /// List accounts.
    List {
        /// Only accounts of this domain.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Show one account.
    Show {
        /// The account's e-mail address.
        address: String,
    },
    /// Change an account.
    Set {
        /// The account's e-mail address.
        address: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// Enable or disable the account (yes/no).
        #[arg(long, value_parser = parse_bool)]
        active: Option<bool>,
        /// Quota in MB (0 = unlimited).
        #[arg(long, value_name = "MB")]
        quota: Option<i64>,
        /// 0 user, 1 domain administrator, 2 server administrator.
        #[arg(long, value_parser = clap::value_parser!(i64).range(0..=2))]
        admin_level: Option<i64>,
        /// Forward mail to this address ("" turns forwarding off).
        #[arg(long, value_name = "ADDRESS")]
        forward: Option<String>,
        /// Keep a copy of forwarded mail in the mailbox.
        #[arg(long, value_parser = parse_bool)]
        forward_keep: Option<bool>,
        /// Auto-reply on or off.
        #[arg(long, value_parser = parse_bool)]
        vacation: Option<bool>,
        /// Subject of the auto-reply.
        #[arg(long)]
        vacation_subject: Option<String>,
        /// Text of the auto-reply.
        #[arg(long)]
        vacation_message: Option<String>,
        /// Turn the auto-reply off after this date (YYYY-MM-DD), or "never".
        #[arg(long, value_name = "DATE")]
        vacation_until: Option<String>,
        /// The person's first name (for signatures and auto-replies).
        #[arg(long)]
        first_name: Option<String>,
        /// The person's last name.
        #[arg(long)]
        last_name: Option<String>,
    },
    /// Remove an account with its folders, mail and its folder in the data directory. An
    /// account that holds messages is removed only with --force; without it, what would go is
    /// printed.
    Remove {
        /// The account's e-mail address.
        address: String,
        /// Remove it even though it holds messages.
        #[arg(long)]
        force: bool,
    },
    /// Check a password (exit 0 if it matches, 1 if not).
    CheckPassword {
        /// The account's e-mail address.
        address: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
}

pub async fn run(cmd: AccountCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        AccountCmd::Add { address, password, no_password, quota, inactive, admin_level } => {
            let addr = Address::parse(&address)?;
            let domain =
                domains::find(db, addr.domain()).await?.with_context(|| format!("no domain {}", addr.domain()))?;
            if quota < 0 {
                bail!("--quota cannot be negative");
            }
            if domain.max_account_size_mb > 0 && (quota == 0 || quota > domain.max_account_size_mb) {
                bail!("domain {} allows quotas of at most {} MB", domain.name, domain.max_account_size_mb);
            }
            let mut a = accounts::Account::new(domain.id, addr.as_str());
            a.max_size_mb = quota;
            a.active = !inactive;
            a.admin_level = admin_level;
            match password.read()? {
                Some(p) if p.is_empty() => bail!("the password is empty"),
                Some(p) => a.set_password(store.password_scheme().await?, &p),
                None if no_password => {}
                None => bail!(
                    "give the account a password (--password-stdin or --password), or --no-password for an account nobody can log on to yet"
                ),
            }
            let a = accounts::create(db, &a).await?;
            out.done(&format!("account {} added", a.address), &a)
        }
        AccountCmd::List { domain } => {
            let domain_id = match domain {
                Some(d) => Some(domains::require(db, &d).await?.id),
                None => None,
            };
            let all = accounts::list(db, domain_id).await?;
            let rows = all
                .iter()
                .map(|a| {
                    let quota = if a.max_size_mb == 0 { "unlimited".into() } else { a.max_size_mb.to_string() };
                    vec![a.address.clone(), yes_no(a.active), quota]
                })
                .collect();
            out.table(&all, &["ADDRESS", "ACTIVE", "MAX-SIZE-MB"], rows)
        }
        AccountCmd::Show { address } => out.object(&accounts::require(db, &address).await?),
        AccountCmd::Set {
            address,
            password,
            active,
            quota,
            admin_level,
            forward,
            forward_keep,
            vacation,
            vacation_subject,
            vacation_message,
            vacation_until,
            first_name,
            last_name,
        } => {
            let mut a = accounts::require(db, &address).await?;
            if let Some(p) = password.read()? {
                if p.is_empty() {
                    bail!("the password is empty");
                }
                a.set_password(store.password_scheme().await?, &p);
            }
            if let Some(v) = active {
                a.active = v;
            }
            if let Some(q) = quota {
                if q < 0 {
                    bail!("--quota cannot be negative");
                }
                a.max_size_mb = q;
            }
            if let Some(v) = admin_level {
                a.admin_level = v;
            }
            if let Some(f) = forward {
                if f.is_empty() {
                    a.forward_on = false;
                } else {
                    let target = Address::parse(&f)?;
                    if target.as_str().eq_ignore_ascii_case(&a.address) {
                        bail!("an account cannot forward to itself");
                    }
                    a.forward_address = target.to_string();
                    a.forward_on = true;
                }
            }
            if let Some(v) = forward_keep {
                a.forward_keep_original = v;
            }
            if let Some(v) = vacation {
                a.vacation_on = v;
            }
            if let Some(v) = vacation_subject {
                a.vacation_subject = v;
            }
            if let Some(v) = vacation_message {
                a.vacation_message = v;
            }
            if let Some(v) = vacation_until {
                if v.eq_ignore_ascii_case("never") {
                    a.vacation_expires = false;
                } else {
                    let date = chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                        .map_err(|_| anyhow::anyhow!("--vacation-until {v:?}: expected YYYY-MM-DD or never"))?;
                    a.vacation_expires = true;
                    a.vacation_expire_date = date.and_time(chrono::NaiveTime::MIN);
                }
            }
            if let Some(v) = first_name {
                a.first_name = v;
            }
            if let Some(v) = last_name {
                a.last_name = v;
            }
            accounts::update(db, &a).await?;
            out.done(&format!("account {} updated", a.address), &a)
        }
        AccountCmd::Remove { address, force } => {
            let a = accounts::require(db, &address).await?;
            let contents = store.account_contents(&a).await?;
            let folder = store.files.account_dir(&a.address);
            let what = format!("{} message(s), {} bytes", contents.messages, contents.bytes);
            if contents.messages > 0 && !force {
                bail!(
                    "account {} holds {what}; nothing removed. Add --force to remove it with its mail and the folder {}",
                    a.address,
                    folder.display()
                );
            }
            store.delete_account(&a).await?;
            let message = format!("account {} removed with {what} and the folder {}", a.address, folder.display());
            out.done(&message, &Removed { removed: &a, contents, folder: Some(folder) })
        }
        AccountCmd::CheckPassword { address, password } => {
            let a = accounts::require(db, &address).await?;
            let Some(p) = password.read()? else { bail!("give --password or --password-stdin") };
            if !a.verify_password(&p) {
                bail!("password does not match");
            }
            super::output::emit("password matches")
        }
    }
}
