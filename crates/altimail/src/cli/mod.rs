//! The command line: `altimail [--config FILE] [--json] <command>`.
//!
//! Administration commands work on the database directly, so they can be used while the server
//! runs; the server re-reads what they change within a second.

mod account;
mod admin;
mod alias;
pub mod backup;
mod ban;
mod bayes;
mod blocked_attachment;
pub mod cert;
mod certificate;
pub mod db;
mod dnsbl;
mod domain;
mod fetch;
mod greylist;
pub mod import;
mod list;
mod output;
mod port;
mod queue;
pub mod quickstart;
mod range;
mod rule;
mod setting;
mod whitelist;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use output::Output;

/// Altimail Server: a mail server (SMTP, IMAP, POP3) compatible with hMailServer's database and
/// data directory.
#[derive(Debug, Parser)]
#[command(name = "altimail", version, about, propagate_version = true)]
pub struct Cli {
    /// Configuration file (default: embedded defaults, everything under ./altimail-data/).
    #[arg(long, short, global = true, env = "ALTIMAIL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print listings and objects as JSON.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database schema (hMailServer 5704 plus Altimail's tables) with default rows.
    Init,
    /// Run the server (initialises an empty database on first start).
    Serve {
        /// Keep running when a configured port cannot be listened on or its certificate cannot
        /// be loaded (each is reported and retried every second). Without it such a port stops
        /// the start with an error.
        #[arg(long)]
        allow_missing_listeners: bool,
    },
    /// Check a running installation: database, disk space, ports and their TLS certificates,
    /// certificate expiry, and the DNS records of the host name and each domain. Exits 1 when
    /// anything needs attention, with what to do.
    Doctor,
    /// Set up a new server in one step: host name, domain, first account, DKIM key; prints the
    /// DNS records to publish and the client settings.
    Quickstart(quickstart::QuickstartArgs),
    /// Domains this server receives mail for.
    #[command(subcommand)]
    Domain(domain::DomainCmd),
    /// Mailbox accounts.
    #[command(subcommand)]
    Account(account::AccountCmd),
    /// Aliases: addresses that forward to another address.
    #[command(subcommand)]
    Alias(alias::AliasCmd),
    /// Distribution lists and their members.
    #[command(subcommand)]
    List(list::ListCmd),
    /// The administration: the administrator password of the REST API.
    #[command(subcommand)]
    Admin(admin::AdminCmd),
    /// TCP/IP ports the server listens on.
    #[command(subcommand)]
    Port(port::PortCmd),
    /// TLS certificates (PEM files) for ports.
    #[command(subcommand)]
    Certificate(certificate::CertificateCmd),
    /// The server's certificate from an ACME CA such as Let's Encrypt ([acme] in
    /// altimail.toml): its status, renewing it now.
    #[command(subcommand)]
    Cert(cert::CertCmd),
    /// Server settings (hm_settings): by name, or by area as typed objects.
    #[command(subcommand)]
    Setting(setting::SettingCmd),
    /// The server's status as the database shows it (queue size); the running server's live
    /// figures (sessions, counters) are at the REST API's /api/v1/status.
    Status,
    /// IP ranges: what clients from an address range may do.
    #[command(subcommand)]
    Range(range::RangeCmd),
    /// Addresses auto-ban has banned after failed logons: list them, lift bans.
    #[command(subcommand)]
    Ban(ban::BanCmd),
    /// Attachment file names that are blocked (replaced by a notice) when attachment blocking
    /// is on (setting enableattachmentblocking).
    #[command(subcommand)]
    BlockedAttachment(blocked_attachment::BlockedAttachmentCmd),
    /// The outbound queue: list, show, retry, remove, flush.
    #[command(subcommand)]
    Queue(queue::QueueCmd),
    /// The Bayesian spam filter: what it has learnt, teaching it from files, forgetting.
    #[command(subcommand)]
    Bayes(bayes::BayesCmd),
    /// External accounts: POP3 mailboxes elsewhere downloaded into local accounts.
    #[command(subcommand)]
    Fetch(fetch::FetchCmd),
    /// The anti-spam white list: clients (IP range and sender) whose mail skips the tests.
    #[command(subcommand)]
    Whitelist(whitelist::WhitelistCmd),
    /// DNS block lists the client's address is looked up in (anti-spam).
    #[command(subcommand)]
    Dnsbl(dnsbl::DnsblCmd),
    /// URI block lists the links in messages are looked up in (anti-spam).
    #[command(subcommand)]
    Surbl(dnsbl::SurblCmd),
    /// Greylisting: the white list and the stored triplets.
    #[command(subcommand)]
    Greylist(greylist::GreylistCmd),
    /// Rules: global rules (every message, before delivery) and an account's rules (its
    /// copies), with their criteria and actions.
    #[command(subcommand)]
    Rule(rule::RuleCmd),
    /// Back up settings, domains and messages into an hMailServer backup archive, while the
    /// server runs.
    Backup(backup::BackupArgs),
    /// Restore an hMailServer or Altimail backup archive (or only check it with --verify).
    Restore(backup::RestoreArgs),
    /// Take over another mail server's installation.
    #[command(subcommand)]
    Import(import::ImportCmd),
    /// The database as a whole: copy it to another engine or server.
    #[command(subcommand)]
    Db(db::DbCmd),
}

/// Runs an administration command against an opened store.
pub async fn run_admin(command: Command, store: &altimail_store::Store, out: &Output) -> anyhow::Result<()> {
    match command {
        Command::Domain(c) => domain::run(c, store, out).await,
        Command::Account(c) => account::run(c, store, out).await,
        Command::Alias(c) => alias::run(c, store, out).await,
        Command::List(c) => list::run(c, store, out).await,
        Command::Admin(c) => admin::run(c, store, out).await,
        Command::Port(c) => port::run(c, store, out).await,
        Command::Certificate(c) => certificate::run(c, store, out).await,
        Command::Setting(c) => setting::run(c, store, out).await,
        Command::Range(c) => range::run(c, store, out).await,
        Command::Ban(c) => ban::run(c, store, out).await,
        Command::BlockedAttachment(c) => blocked_attachment::run(c, store, out).await,
        Command::Queue(c) => queue::run(c, store, out).await,
        Command::Bayes(c) => bayes::run(c, store, out).await,
        Command::Fetch(c) => fetch::run(c, store, out).await,
        Command::Whitelist(c) => whitelist::run(c, store, out).await,
        Command::Dnsbl(c) => dnsbl::run_dnsbl(c, store, out).await,
        Command::Surbl(c) => dnsbl::run_surbl(c, store, out).await,
        Command::Greylist(c) => greylist::run(c, store, out).await,
        Command::Rule(c) => rule::run(c, store, out).await,
        Command::Status => {
            let admin = altimail_admin::Admin::new(store.clone());
            out.object(&admin.status(&caller()).await?)
        }
        Command::Init
        | Command::Serve { .. }
        | Command::Quickstart(_)
        | Command::Doctor
        | Command::Cert(_)
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::Import(_)
        | Command::Db(_) => {
            unreachable!("init, serve, quickstart, doctor, cert, backup, restore, import and db are handled by main")
        }
    }
}

/// The caller the administration commands act as: the server administrator, at this machine
/// (whoever can run the command can read the configuration and the database anyway).
pub(crate) fn caller() -> altimail_admin::Caller {
    let user = std::env::var("USER").unwrap_or_default();
    altimail_admin::Caller::administrator(if user.is_empty() {
        "command line".to_owned()
    } else {
        format!("command line ({user})")
    })
}

/// Parses "yes/no/true/false/on/off/1/0".
pub(crate) fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("{s:?} is not yes/no")),
    }
}
