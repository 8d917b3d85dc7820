//! `altimail fetch …`: external accounts (`hm_fetchaccounts`), POP3 mailboxes elsewhere that the
//! server downloads into a local account.

use clap::{Args, Subcommand};

use altimail_core::time::now_local;
use altimail_store::Store;
use altimail_store::repo::accounts;
use altimail_store::repo::fetch_accounts::{self, FetchAccount, Security};

use super::output::{Output, yes_no};
use super::parse_bool;

fn parse_security(s: &str) -> Result<Security, String> {
    match s.to_ascii_lowercase().as_str() {
        "none" => Ok(Security::None),
        "tls" => Ok(Security::Implicit),
        "starttls" => Ok(Security::StartTlsOptional),
        "starttls-required" => Ok(Security::StartTlsRequired),
        _ => Err(format!("{s:?}: expected none, tls, starttls or starttls-required")),
    }
}

fn security_name(s: Security) -> &'static str {
    match s {
        Security::None => "none",
        Security::Implicit => "tls",
        Security::StartTlsOptional => "starttls",
        Security::StartTlsRequired => "starttls-required",
    }
}

/// Settings shared by `add` and `set`.
#[derive(Debug, Args)]
pub struct Options {
    /// Remote POP3 port (default 110, or 995 with --security tls).
    #[arg(long)]
    port: Option<u16>,
    /// none, tls (implicit, e.g. 995), starttls (when offered), starttls-required.
    #[arg(long, value_parser = parse_security)]
    security: Option<Security>,
    /// User name on the remote server.
    #[arg(long)]
    username: Option<String>,
    /// Password on the remote server (kept with hMailServer's reversible encryption).
    #[arg(long)]
    password: Option<String>,
    /// Minutes between downloads.
    #[arg(long)]
    minutes: Option<i64>,
    /// -1 delete after download, 0 leave on the server, N delete N days after download.
    #[arg(long, allow_negative_numbers = true)]
    days_to_keep: Option<i64>,
    /// Deliver to local recipients found in the MIME headers instead of the account.
    #[arg(long, value_parser = parse_bool)]
    mime_recipients: Option<bool>,
    /// Headers scanned for MIME recipients (comma list).
    #[arg(long)]
    mime_headers: Option<String>,
    /// Also deliver to MIME recipients that match a route.
    #[arg(long, value_parser = parse_bool)]
    route_recipients: Option<bool>,
    /// Enable or disable downloading (yes/no).
    #[arg(long, value_parser = parse_bool)]
    active: Option<bool>,
}

impl Options {
    fn apply(self, fa: &mut FetchAccount) {
        if let Some(s) = self.security {
            fa.security = s;
            if self.port.is_none() && s == Security::Implicit && fa.server_port == 110 {
                fa.server_port = 995;
            }
        }
        if let Some(p) = self.port {
            fa.server_port = p.into();
        }
        if let Some(u) = self.username {
            fa.username = u;
        }
        if let Some(p) = self.password {
            fa.password = p;
        }
        if let Some(m) = self.minutes {
            fa.minutes = m.max(1);
        }
        if let Some(d) = self.days_to_keep {
            fa.days_to_keep = d.max(-1);
        }
        if let Some(v) = self.mime_recipients {
            fa.process_mime_recipients = v;
        }
        if let Some(h) = self.mime_headers {
            fa.mime_recipient_headers = h;
        }
        if let Some(v) = self.route_recipients {
            fa.enable_route_recipients = v;
        }
        if let Some(v) = self.active {
            fa.active = v;
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum FetchCmd {
    /// Add an external account: download from SERVER into the local ACCOUNT.
    Add {
        /// The local account the mail goes to.
        account: String,
        /// Display name.
        name: String,
        /// Remote POP3 server host name or IP address.
        server: String,
        #[command(flatten)]
        options: Options,
    },
    /// List external accounts.
    List {
        /// Only those of this local account.
        #[arg(long)]
        account: Option<String>,
    },
    /// Show one external account.
    Show {
        /// The external account's id (see `altimail fetch list`).
        id: i64,
    },
    /// Change an external account.
    Set {
        /// The external account's id (see `altimail fetch list`).
        id: i64,
        /// Remote POP3 server host name or IP address.
        #[arg(long)]
        server: Option<String>,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        options: Options,
    },
    /// Remove an external account and its downloaded-UID records.
    Remove {
        /// The external account's id (see `altimail fetch list`).
        id: i64,
    },
    /// Download now: the running server picks the account up within seconds.
    Run {
        /// The external account's id (see `altimail fetch list`).
        id: i64,
    },
}

pub async fn run(cmd: FetchCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        FetchCmd::Add { account, name, server, options } => {
            let a = accounts::find(db, &account).await?.ok_or_else(|| anyhow::anyhow!("no account {account}"))?;
            let mut fa = FetchAccount::new(a.id, &name, &server, "", "");
            options.apply(&mut fa);
            let fa = fetch_accounts::create(db, &fa).await?;
            out.done(&format!("external account {} ({}) added", fa.id, fa.name), &fa)
        }
        FetchCmd::List { account } => {
            let account_id = match account {
                Some(a) => Some(accounts::find(db, &a).await?.ok_or_else(|| anyhow::anyhow!("no account {a}"))?.id),
                None => None,
            };
            let all = fetch_accounts::list(db, account_id).await?;
            let rows = all
                .iter()
                .map(|f| {
                    vec![
                        f.id.to_string(),
                        f.name.clone(),
                        f.server_address.clone(),
                        f.server_port.to_string(),
                        security_name(f.security).to_owned(),
                        f.username.clone(),
                        f.days_to_keep.to_string(),
                        f.next_try.format("%Y-%m-%d %H:%M:%S").to_string(),
                        yes_no(f.active),
                    ]
                })
                .collect();
            out.table(
                &all,
                &[
                    "ID",
                    "NAME",
                    "SERVER-ADDRESS",
                    "SERVER-PORT",
                    "SECURITY",
                    "USERNAME",
                    "DAYS-TO-KEEP",
                    "NEXT-TRY",
                    "ACTIVE",
                ],
                rows,
            )
        }
        FetchCmd::Show { id } => out.object(&fetch_accounts::require(db, id).await?),
        FetchCmd::Set { id, server, name, options } => {
            let mut fa = fetch_accounts::require(db, id).await?;
            if let Some(s) = server {
                fa.server_address = s;
            }
            if let Some(n) = name {
                fa.name = n;
            }
            options.apply(&mut fa);
            fetch_accounts::update(db, &fa).await?;
            out.done(&format!("external account {} updated", fa.id), &fa)
        }
        FetchCmd::Remove { id } => {
            let fa = fetch_accounts::require(db, id).await?;
            fetch_accounts::delete(db, id).await?;
            out.done(&format!("external account {} ({}) removed", fa.id, fa.name), &fa)
        }
        FetchCmd::Run { id } => {
            let fa = fetch_accounts::require(db, id).await?;
            fetch_accounts::schedule_now(db, id, now_local()).await?;
            out.done(&format!("external account {} ({}) scheduled for download now", fa.id, fa.name), &fa)
        }
    }
}
