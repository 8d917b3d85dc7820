//! `altimail range …` (IP ranges / security ranges)

use std::net::IpAddr;

use anyhow::bail;
use clap::Subcommand;
use serde::Serialize;

use altimail_core::codes::range as bits;
use altimail_store::Store;
use altimail_store::db::never;
use altimail_store::repo::ranges;

use super::output::Output;

#[derive(Debug, Subcommand)]
pub enum RangeCmd {
    /// Add an IP range.
    Add {
        name: String,
        #[arg(long)]
        lower: IpAddr,
        /// Upper address (default: the lower one, a single address).
        #[arg(long)]
        upper: Option<IpAddr>,
        /// Higher wins where ranges overlap.
        #[arg(long, default_value_t = 20)]
        priority: i64,
        /// Comma-separated options, e.g. smtp,pop3,imap,relay-local-to-remote (see `range options`).
        #[arg(long, value_delimiter = ',')]
        allow: Vec<String>,
        /// The option bit mask as a number (instead of --allow).
        #[arg(long, conflicts_with = "allow")]
        options: Option<i64>,
        /// Delete the range at this local time (YYYY-MM-DD HH:MM).
        #[arg(long, value_name = "TIME")]
        expires: Option<String>,
    },
    /// List IP ranges, highest priority first.
    List,
    /// Show one range.
    Show { name: String },
    /// Change a range.
    Set {
        name: String,
        #[arg(long)]
        lower: Option<IpAddr>,
        #[arg(long)]
        upper: Option<IpAddr>,
        #[arg(long)]
        priority: Option<i64>,
        /// Options to switch on (comma-separated names).
        #[arg(long, value_delimiter = ',')]
        allow: Vec<String>,
        /// Options to switch off (comma-separated names).
        #[arg(long, value_delimiter = ',')]
        deny: Vec<String>,
        #[arg(long)]
        options: Option<i64>,
        /// Expiry time (YYYY-MM-DD HH:MM), or "never".
        #[arg(long, value_name = "TIME")]
        expires: Option<String>,
    },
    /// Remove a range.
    Remove { name: String },
    /// List the option names.
    Options,
}

#[derive(Serialize)]
struct RangeView {
    #[serde(flatten)]
    range: ranges::Range,
    allows: Vec<&'static str>,
}

fn mask(names: &[String]) -> anyhow::Result<i64> {
    let mut m = 0;
    for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        match bits::bit(n) {
            Some(b) => m |= b,
            None => bail!("unknown range option {n:?} (see `altimail range options`)"),
        }
    }
    Ok(m)
}

fn expiry(s: &str) -> anyhow::Result<Option<chrono::NaiveDateTime>> {
    if s.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    match altimail_store::db::parse_time(s) {
        Some(t) => Ok(Some(t)),
        None => bail!("{s:?}: expected YYYY-MM-DD HH:MM or never"),
    }
}

pub async fn run(cmd: RangeCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        RangeCmd::Add { name, lower, upper, priority, allow, options, expires } => {
            let options = match options {
                Some(o) => o,
                None => mask(&allow)?,
            };
            let when = expires.as_deref().map(expiry).transpose()?.flatten();
            let r = ranges::Range {
                id: 0,
                name,
                priority,
                lower,
                upper: upper.unwrap_or(lower),
                options,
                expires: when.is_some(),
                expires_time: when.unwrap_or_else(never),
            };
            let r = ranges::create(db, &r).await?;
            out.done(&format!("IP range {} added", r.name), &r)
        }
        RangeCmd::List => {
            let all = ranges::list(db).await?;
            let rows = all
                .iter()
                .map(|r| {
                    let exp = if r.expires { r.expires_time.format("%Y-%m-%d %H:%M").to_string() } else { "-".into() };
                    vec![
                        r.name.clone(),
                        r.priority.to_string(),
                        r.lower.to_string(),
                        r.upper.to_string(),
                        bits::names(r.options).join(","),
                        exp,
                    ]
                })
                .collect();
            out.table(&all, &["NAME", "PRIORITY", "LOWER", "UPPER", "ALLOWS", "EXPIRES"], rows)
        }
        RangeCmd::Show { name } => {
            let range = ranges::require(db, &name).await?;
            let allows = bits::names(range.options);
            out.object(&RangeView { range, allows })
        }
        RangeCmd::Set { name, lower, upper, priority, allow, deny, options, expires } => {
            let mut r = ranges::require(db, &name).await?;
            if let Some(v) = lower {
                r.lower = v;
            }
            if let Some(v) = upper {
                r.upper = v;
            }
            if let Some(v) = priority {
                r.priority = v;
            }
            if let Some(o) = options {
                r.options = o;
            }
            r.options |= mask(&allow)?;
            r.options &= !mask(&deny)?;
            if let Some(e) = expires {
                let when = expiry(&e)?;
                r.expires = when.is_some();
                r.expires_time = when.unwrap_or_else(never);
            }
            ranges::update(db, &r).await?;
            out.done(&format!("IP range {} updated", r.name), &r)
        }
        RangeCmd::Remove { name } => {
            let r = ranges::require(db, &name).await?;
            ranges::delete(db, r.id).await?;
            out.done(&format!("IP range {} removed", r.name), &r)
        }
        RangeCmd::Options => {
            let rows = bits::NAMES.iter().map(|(n, b)| vec![n.to_string(), b.to_string()]).collect();
            let names: Vec<&str> = bits::NAMES.iter().map(|(n, _)| *n).collect();
            out.table(&names, &["OPTION", "BIT"], rows)
        }
    }
}
