//! `altimail dnsbl …` (DNS block lists, `hm_dnsbl`) and `altimail surbl …` (URI block lists,
//! `hm_surblservers`).

use clap::Subcommand;

use altimail_store::Store;
use altimail_store::repo::dnsbl::{self, Dnsbl};
use altimail_store::repo::surbl::{self, Surbl};

use super::output::{Output, yes_no};
use super::parse_bool;

#[derive(Debug, Subcommand)]
pub enum DnsblCmd {
    /// List the DNS block lists.
    List,
    /// Add a DNS block list (active unless --active no).
    Add {
        /// The zone, e.g. zen.spamhaus.org.
        zone: String,
        /// Answers that mean "listed": `|`-separated addresses, wildcards or last-octet ranges
        /// (127.0.0.2-8|127.0.0.10-11); empty means any answer.
        #[arg(long, default_value = "")]
        expected: String,
        /// The refusal text and spam reason.
        #[arg(long)]
        message: String,
        /// The score a listing adds.
        #[arg(long, default_value_t = 3)]
        score: i64,
        /// Whether the list is queried (yes/no).
        #[arg(long, value_parser = parse_bool, default_value = "yes", action = clap::ArgAction::Set)]
        active: bool,
    },
    /// Change a DNS block list.
    Set {
        /// The zone.
        zone: String,
        /// Whether the list is queried (yes/no).
        #[arg(long, value_parser = parse_bool)]
        active: Option<bool>,
        /// New expected answers (empty: any answer).
        #[arg(long)]
        expected: Option<String>,
        /// New refusal text and spam reason.
        #[arg(long)]
        message: Option<String>,
        /// New score.
        #[arg(long)]
        score: Option<i64>,
    },
    /// Remove a DNS block list.
    Remove {
        /// The zone.
        zone: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SurblCmd {
    /// List the URI block lists.
    List,
    /// Add a URI block list (active unless --active no).
    Add {
        /// The zone, e.g. multi.surbl.org.
        zone: String,
        /// The refusal text and spam reason.
        #[arg(long)]
        message: String,
        /// The score a listed link adds.
        #[arg(long, default_value_t = 3)]
        score: i64,
        /// Whether the list is queried (yes/no).
        #[arg(long, value_parser = parse_bool, default_value = "yes", action = clap::ArgAction::Set)]
        active: bool,
    },
    /// Change a URI block list.
    Set {
        /// The zone.
        zone: String,
        /// Whether the list is queried (yes/no).
        #[arg(long, value_parser = parse_bool)]
        active: Option<bool>,
        /// New refusal text and spam reason.
        #[arg(long)]
        message: Option<String>,
        /// New score.
        #[arg(long)]
        score: Option<i64>,
    },
    /// Remove a URI block list.
    Remove {
        /// The zone.
        zone: String,
    },
}

pub async fn run_dnsbl(cmd: DnsblCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        DnsblCmd::List => {
            let all = dnsbl::list(db).await?;
            let rows = all
                .iter()
                .map(|d| {
                    vec![
                        d.zone.clone(),
                        yes_no(d.active),
                        d.expected.clone(),
                        d.score.to_string(),
                        d.reject_message.clone(),
                    ]
                })
                .collect();
            out.table(&all, &["ZONE", "ACTIVE", "EXPECTED", "SCORE", "REJECT-MESSAGE"], rows)
        }
        DnsblCmd::Add { zone, expected, message, score, active } => {
            let d = Dnsbl { active, ..Dnsbl::new(&zone, &expected, &message, score) };
            let d = dnsbl::create(db, &d).await?;
            out.done(&format!("DNSBL {} added", d.zone), &d)
        }
        DnsblCmd::Set { zone, active, expected, message, score } => {
            let mut d = dnsbl::require(db, &zone).await?;
            if let Some(v) = active {
                d.active = v;
            }
            if let Some(v) = expected {
                d.expected = v;
            }
            if let Some(v) = message {
                d.reject_message = v;
            }
            if let Some(v) = score {
                d.score = v;
            }
            dnsbl::update(db, &d).await?;
            out.done(&format!("DNSBL {} updated", d.zone), &d)
        }
        DnsblCmd::Remove { zone } => {
            let d = dnsbl::require(db, &zone).await?;
            dnsbl::delete(db, d.id).await?;
            out.done(&format!("DNSBL {} removed", d.zone), &d)
        }
    }
}

pub async fn run_surbl(cmd: SurblCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        SurblCmd::List => {
            let all = surbl::list(db).await?;
            let rows = all
                .iter()
                .map(|s| vec![s.zone.clone(), yes_no(s.active), s.score.to_string(), s.reject_message.clone()])
                .collect();
            out.table(&all, &["ZONE", "ACTIVE", "SCORE", "REJECT-MESSAGE"], rows)
        }
        SurblCmd::Add { zone, message, score, active } => {
            let s = Surbl { active, ..Surbl::new(&zone, &message, score) };
            let s = surbl::create(db, &s).await?;
            out.done(&format!("SURBL {} added", s.zone), &s)
        }
        SurblCmd::Set { zone, active, message, score } => {
            let mut s = surbl::require(db, &zone).await?;
            if let Some(v) = active {
                s.active = v;
            }
            if let Some(v) = message {
                s.reject_message = v;
            }
            if let Some(v) = score {
                s.score = v;
            }
            surbl::update(db, &s).await?;
            out.done(&format!("SURBL {} updated", s.zone), &s)
        }
        SurblCmd::Remove { zone } => {
            let s = surbl::require(db, &zone).await?;
            surbl::delete(db, s.id).await?;
            out.done(&format!("SURBL {} removed", s.zone), &s)
        }
    }
}
