//! `altimail account …`

use std::io::Read;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use altimail_admin::{AccountChanges, Admin, AdminError, NewAccount};
use altimail_store::Store;

use super::output::{Output, yes_no};
use super::parse_bool;

#[derive(Debug, Args)]
pub(crate) struct PasswordArgs {
    /// The password (visible to other local users in the process list; prefer --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordArgs {
    pub(crate) fn read(&self) -> anyhow::Result<Option<String>> {
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
    let admin = Admin::new(store.clone());
    let me = super::caller();
    match cmd {
        AccountCmd::Add { address, password, no_password, quota, inactive, admin_level } => {
            let mut new =
                NewAccount { address, password: password.read()?, quota_mb: quota, active: !inactive, admin_level };
            if new.password.is_none() && !no_password {
                // What is wrong with the account itself is said first.
                admin.check_new_account(&me, &new).await?;
                bail!(
                    "give the account a password (--password-stdin or --password), or --no-password for an account nobody can log on to yet"
                );
            }
            if no_password {
                new.password = None;
            }
            let a = admin.create_account(&me, &new).await?;
            out.done(&format!("account {} added", a.address), &a)
        }
        AccountCmd::List { domain } => {
            let all = admin.list_accounts(&me, domain.as_deref()).await?;
            let rows = all
                .iter()
                .map(|a| {
                    let quota = if a.max_size_mb == 0 { "unlimited".into() } else { a.max_size_mb.to_string() };
                    vec![a.address.clone(), yes_no(a.active), quota]
                })
                .collect();
            out.table(&all, &["ADDRESS", "ACTIVE", "MAX-SIZE-MB"], rows)
        }
        AccountCmd::Show { address } => out.object(&admin.get_account(&me, &address).await?),
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
            let vacation_until = match vacation_until {
                None => None,
                Some(v) if v.eq_ignore_ascii_case("never") => Some(None),
                Some(v) => Some(Some(
                    chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                        .map_err(|_| anyhow::anyhow!("--vacation-until {v:?}: expected YYYY-MM-DD or never"))?,
                )),
            };
            let changes = AccountChanges {
                password: password.read()?,
                active,
                quota_mb: quota,
                admin_level,
                forward_address: forward,
                forward_keep_original: forward_keep,
                vacation_on: vacation,
                vacation_subject,
                vacation_message,
                vacation_until,
                first_name,
                last_name,
                ..AccountChanges::default()
            };
            let a = admin.update_account(&me, &address, &changes).await?;
            out.done(&format!("account {} updated", a.address), &a)
        }
        AccountCmd::Remove { address, force } => {
            let gone = match admin.delete_account(&me, &address, force).await {
                Err(AdminError::NotEmpty(why)) => bail!(
                    "{why}. Add --force to remove it with its mail and the folder {}",
                    store.files.account_dir(&address).display()
                ),
                other => other?,
            };
            let message = format!(
                "account {} removed with {} message(s), {} bytes and the folder {}",
                gone.removed.address,
                gone.contents.messages,
                gone.contents.bytes,
                gone.folder.as_deref().unwrap_or(std::path::Path::new("")).display()
            );
            out.done(&message, &gone)
        }
        AccountCmd::CheckPassword { address, password } => {
            let Some(p) = password.read()? else { bail!("give --password or --password-stdin") };
            if !admin.check_password(&me, &address, &p).await? {
                bail!("password does not match");
            }
            super::output::emit("password matches")
        }
    }
}
