//! `hm_logon_failures` and auto-ban: repeated failed logons from one IP create an expiring
//! IP range that refuses it, as hMailServer does.

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};

use altimail_core::ip;

use crate::StoreError;
use crate::db::Db;
use crate::repo::ranges::{self, Range};

/// The auto-ban settings (`AutoBanOnLogonFailureEnabled`, `MaxInvalidLogonAttempts`,
/// `LogonAttemptsWithinMinutes`, `AutoBanMinutes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoBan {
    pub enabled: bool,
    pub max_attempts: i64,
    pub within_minutes: i64,
    pub ban_minutes: i64,
}

/// What a failed logon led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Below the threshold: nothing happens yet.
    Counted,
    /// Threshold reached: disconnect the client. `Some(name)` when a ban range was created.
    Banned(Option<String>),
}

/// Records a failed logon by `ip` (trying `user`) and bans the IP when the threshold is reached.
pub async fn record(
    db: &Db,
    policy: AutoBan,
    ip_addr: IpAddr,
    user: &str,
    now: NaiveDateTime,
) -> Result<Outcome, StoreError> {
    if !policy.enabled {
        return Ok(Outcome::Counted);
    }
    let (ip1, ip2) = ip::to_columns(ip_addr);
    db.execute(
        "INSERT INTO hm_logon_failures (ipaddress1, ipaddress2, failuretime) VALUES (?, ?, ?)",
        &[ip1.into(), ip2.into(), now.into()],
    )
    .await?;
    let since = now - Duration::minutes(policy.within_minutes.max(1));
    let (ip_where, mut args) = match ip2 {
        None => ("ipaddress1 = ? AND ipaddress2 IS NULL", vec![ip1.into()]),
        Some(low) => ("ipaddress1 = ? AND ipaddress2 = ?", vec![ip1.into(), low.into()]),
    };
    args.push(since.into());
    let sql = format!("SELECT COUNT(*) AS n FROM hm_logon_failures WHERE {ip_where} AND failuretime >= ?");
    let count = db.fetch_optional(&sql, &args).await?.map(|r| r.int("n")).transpose()?.unwrap_or(0);
    if count < policy.max_attempts.max(1) {
        return Ok(Outcome::Counted);
    }
    args.pop();
    db.execute(&format!("DELETE FROM hm_logon_failures WHERE {ip_where}"), &args).await?;
    if policy.ban_minutes <= 0 {
        return Ok(Outcome::Banned(None));
    }
    let base = format!("Auto-ban: {}", user.chars().take(80).collect::<String>());
    let mut name = base.clone();
    for n in 1..=10 {
        if ranges::find(db, &name).await?.is_none() {
            break;
        }
        name = format!("{base} ({n})");
    }
    let ban = Range {
        id: 0,
        name: name.clone(),
        priority: 100,
        lower: ip::normalize(ip_addr),
        upper: ip::normalize(ip_addr),
        options: 0,
        expires: true,
        expires_time: now + Duration::minutes(policy.ban_minutes),
    };
    match ranges::create(db, &ban).await {
        Ok(_) => Ok(Outcome::Banned(Some(name))),
        // Eleven bans for one user name already exist: disconnect without another range.
        Err(StoreError::Conflict(_)) => Ok(Outcome::Banned(None)),
        Err(e) => Err(e),
    }
}

/// Forgets the failed logons counted for `ip_addr`, or for every address when `None` (as
/// hMailServer's `ClearLogonFailureList`), so that lifting a ban starts the count afresh.
pub async fn clear(db: &Db, ip_addr: Option<IpAddr>) -> Result<u64, StoreError> {
    let Some(ip_addr) = ip_addr else {
        return db.execute("DELETE FROM hm_logon_failures", &[]).await;
    };
    match ip::to_columns(ip_addr) {
        (ip1, None) => {
            db.execute("DELETE FROM hm_logon_failures WHERE ipaddress1 = ? AND ipaddress2 IS NULL", &[ip1.into()]).await
        }
        (ip1, Some(ip2)) => {
            db.execute(
                "DELETE FROM hm_logon_failures WHERE ipaddress1 = ? AND ipaddress2 = ?",
                &[ip1.into(), ip2.into()],
            )
            .await
        }
    }
}
