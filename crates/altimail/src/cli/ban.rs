//! `altimail ban …`: the addresses auto-ban has banned (IP ranges named `Auto-ban: <user>`).

use std::net::IpAddr;

use anyhow::bail;
use chrono::NaiveDateTime;
use clap::Subcommand;
use serde::Serialize;

use altimail_core::time;
use altimail_store::Store;
use altimail_store::repo::settings::Settings;
use altimail_store::repo::{logon_failures, ranges};

use super::output::{Output, yes_no};

#[derive(Debug, Subcommand)]
pub enum BanCmd {
    /// List the bans auto-ban made after failed logons, expired ones included until removed.
    List,
    /// Lift the bans of one address (and forget its failed logons), or of every address.
    Remove {
        /// The banned IP address, or "all".
        target: String,
    },
}

/// One ban as `ban list` shows it.
#[derive(Debug, Serialize)]
struct Ban {
    /// The banned address (the first of the range, which auto-ban makes one address wide).
    ip: IpAddr,
    /// When the ban began: its end less the current `AutoBanMinutes` (the start is not stored).
    since: Option<NaiveDateTime>,
    /// When the ban ends (server local time); none for a ban without expiry.
    until: Option<NaiveDateTime>,
    /// Whether the ban still applies.
    active: bool,
    /// Why: the user name of the failed logons, from the range name.
    reason: String,
    /// The IP range's name, for `range show`.
    range: String,
}

fn ban(r: &ranges::Range, ban_minutes: i64, now: NaiveDateTime) -> Ban {
    let user = r.name.strip_prefix(ranges::AUTO_BAN_PREFIX).unwrap_or(&r.name).trim();
    let until = r.expires.then_some(r.expires_time);
    Ban {
        ip: r.lower,
        since: until.filter(|_| ban_minutes > 0).map(|u| u - chrono::Duration::minutes(ban_minutes)),
        until,
        active: !r.is_expired(now),
        reason: format!("failed logons as {user}"),
        range: r.name.clone(),
    }
}

fn when(t: Option<NaiveDateTime>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

pub async fn run(cmd: BanCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    let ban_minutes = Settings::load(db).await?.int("AutoBanMinutes");
    let now = time::now_local();
    let all: Vec<ranges::Range> = ranges::list(db).await?.into_iter().filter(|r| r.is_auto_ban()).collect();
    match cmd {
        BanCmd::List => {
            let bans: Vec<Ban> = all.iter().map(|r| ban(r, ban_minutes, now)).collect();
            let rows = bans
                .iter()
                .map(|b| {
                    vec![
                        b.ip.to_string(),
                        when(b.since),
                        when(b.until),
                        yes_no(b.active),
                        b.reason.clone(),
                        b.range.clone(),
                    ]
                })
                .collect();
            out.table(&bans, &["IP", "SINCE", "UNTIL", "ACTIVE", "REASON", "RANGE"], rows)
        }
        BanCmd::Remove { target } => {
            let ip = if target.eq_ignore_ascii_case("all") {
                None
            } else {
                match target.parse::<IpAddr>() {
                    Ok(ip) => Some(altimail_core::ip::normalize(ip)),
                    Err(_) => bail!("{target:?}: expected an IP address or \"all\""),
                }
            };
            let lifted: Vec<&ranges::Range> = all.iter().filter(|r| ip.is_none_or(|ip| r.contains(ip))).collect();
            if let Some(ip) = ip
                && lifted.is_empty()
            {
                bail!("no ban on {ip} (see `altimail ban list`)");
            }
            for r in &lifted {
                ranges::delete(db, r.id).await?;
            }
            logon_failures::clear(db, ip).await?;
            let bans: Vec<Ban> = lifted.iter().map(|r| ban(r, ban_minutes, now)).collect();
            let message = match (ip, bans.len()) {
                (_, 0) => "no bans to lift".to_owned(),
                (Some(ip), n) => format!("lifted {n} ban(s) on {ip}; the server admits it again within a second"),
                (None, n) => format!("lifted {n} ban(s); the server admits those addresses again within a second"),
            };
            out.done(&message, &bans)
        }
    }
}
