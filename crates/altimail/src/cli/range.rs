//! `altimail range …` (IP ranges / security ranges)

use std::net::IpAddr;

use anyhow::bail;
use clap::Subcommand;
use serde::Serialize;

use altimail_core::codes::range as bits;
use altimail_store::Store;
use altimail_store::db::never;
use altimail_store::repo::ranges::{self, Trusted};
use altimail_store::repo::settings;

use super::output::{Output, yes_no};
use super::parse_bool;

#[derive(Debug, Subcommand)]
pub enum RangeCmd {
    /// Add an IP range.
    Add {
        /// The range's name (unique; names starting with "Auto-ban:" are auto-ban's).
        name: String,
        /// Lowest address of the range (IPv4 or IPv6).
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
        /// Trust the range: auto-ban never bans its clients (adds it to altimailtrustedranges).
        #[arg(long)]
        trusted: bool,
    },
    /// List IP ranges, highest priority first.
    List,
    /// Show one range.
    Show {
        /// The range's name.
        name: String,
    },
    /// Change a range.
    Set {
        /// The range's name.
        name: String,
        /// New lowest address.
        #[arg(long)]
        lower: Option<IpAddr>,
        /// New highest address.
        #[arg(long)]
        upper: Option<IpAddr>,
        /// New priority (higher wins where ranges overlap).
        #[arg(long)]
        priority: Option<i64>,
        /// Options to switch on (comma-separated names).
        #[arg(long, value_delimiter = ',')]
        allow: Vec<String>,
        /// Options to switch off (comma-separated names).
        #[arg(long, value_delimiter = ',')]
        deny: Vec<String>,
        /// The whole option bit mask as a number (applied before --allow and --deny).
        #[arg(long)]
        options: Option<i64>,
        /// Expiry time (YYYY-MM-DD HH:MM), or "never".
        #[arg(long, value_name = "TIME")]
        expires: Option<String>,
        /// Whether auto-ban spares the range's clients (yes/no; kept in altimailtrustedranges).
        #[arg(long, value_parser = parse_bool)]
        trusted: Option<bool>,
    },
    /// Remove a range.
    Remove {
        /// The range's name.
        name: String,
    },
    /// List the option names.
    Options,
}

#[derive(Serialize)]
struct RangeView {
    #[serde(flatten)]
    range: ranges::Range,
    allows: Vec<&'static str>,
    /// Whether auto-ban spares the range's clients.
    trusted: bool,
}

impl RangeView {
    fn new(range: ranges::Range, trusted: &Trusted) -> Self {
        let allows = bits::names(range.options);
        let trusted = !range.is_auto_ban() && trusted.has_name(&range.name);
        RangeView { range, allows, trusted }
    }
}

/// The current value of `altimailtrustedranges`, parsed.
pub(crate) async fn trusted(store: &Store) -> anyhow::Result<Trusted> {
    let value = match settings::get(&store.db, ranges::TRUSTED_SETTING).await? {
        Some(s) => s.string,
        None => ranges::DEFAULT_TRUSTED.to_owned(),
    };
    Ok(Trusted::parse(&value))
}

/// Adds the range `name` to the trusted ones or takes it out.
async fn set_trusted(store: &Store, name: &str, on: bool) -> anyhow::Result<()> {
    if on && name.contains(',') {
        bail!(
            "a range whose name contains a comma cannot be trusted (altimailtrustedranges separates names with commas)"
        );
    }
    if on && name.starts_with(ranges::AUTO_BAN_PREFIX) {
        bail!("an auto-ban range cannot be trusted");
    }
    let value = trusted(store).await?.with_name(name, on);
    settings::set_string(&store.db, ranges::TRUSTED_SETTING, &value).await?;
    Ok(())
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
        RangeCmd::Add { name, lower, upper, priority, allow, options, expires, trusted: trust } => {
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
            if trust && r.name.contains(',') {
                bail!("a range whose name contains a comma cannot be trusted");
            }
            let r = ranges::create(db, &r).await?;
            if trust {
                set_trusted(store, &r.name, true).await?;
            }
            let view = RangeView::new(r, &trusted(store).await?);
            out.done(&format!("IP range {} added", view.range.name), &view)
        }
        RangeCmd::List => {
            let trusted = trusted(store).await?;
            let all: Vec<RangeView> =
                ranges::list(db).await?.into_iter().map(|r| RangeView::new(r, &trusted)).collect();
            let rows = all
                .iter()
                .map(|v| {
                    let r = &v.range;
                    let exp = if r.expires { r.expires_time.format("%Y-%m-%d %H:%M").to_string() } else { "-".into() };
                    vec![
                        r.name.clone(),
                        r.priority.to_string(),
                        r.lower.to_string(),
                        r.upper.to_string(),
                        v.allows.join(","),
                        yes_no(v.trusted),
                        exp,
                    ]
                })
                .collect();
            out.table(&all, &["NAME", "PRIORITY", "LOWER", "UPPER", "ALLOWS", "TRUSTED", "EXPIRES-TIME"], rows)
        }
        RangeCmd::Show { name } => {
            let range = ranges::require(db, &name).await?;
            out.object(&RangeView::new(range, &trusted(store).await?))
        }
        RangeCmd::Set { name, lower, upper, priority, allow, deny, options, expires, trusted: trust } => {
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
            if let Some(on) = trust {
                set_trusted(store, &r.name, on).await?;
            }
            let view = RangeView::new(r, &trusted(store).await?);
            out.done(&format!("IP range {} updated", view.range.name), &view)
        }
        RangeCmd::Remove { name } => {
            let r = ranges::require(db, &name).await?;
            ranges::delete(db, r.id).await?;
            let trusted = trusted(store).await?;
            if trusted.has_name(&r.name) {
                settings::set_string(db, ranges::TRUSTED_SETTING, &trusted.with_name(&r.name, false)).await?;
            }
            let view = RangeView::new(r, &trusted);
            out.done(&format!("IP range {} removed", view.range.name), &view)
        }
        RangeCmd::Options => {
            let rows = bits::NAMES.iter().map(|(n, b)| vec![n.to_string(), b.to_string()]).collect();
            let names: Vec<&str> = bits::NAMES.iter().map(|(n, _)| *n).collect();
            out.table(&names, &["OPTION", "BIT"], rows)
        }
    }
}
