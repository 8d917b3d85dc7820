//! `hm_securityranges`: what a client IP may do (protocols, relaying, authentication rules).

use std::net::IpAddr;

use chrono::NaiveDateTime;
use serde::Serialize;

use altimail_core::ip;

use crate::StoreError;
use crate::db::{Db, Row, Value};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Range {
    pub id: i64,
    pub name: String,
    /// Higher wins when ranges overlap.
    pub priority: i64,
    pub lower: IpAddr,
    pub upper: IpAddr,
    /// Bit mask, see `altimail_core::codes::range`.
    pub options: i64,
    pub expires: bool,
    pub expires_time: NaiveDateTime,
}

const COLUMNS: &str = "rangeid, rangename, rangepriorityid, rangelowerip1, rangelowerip2, rangeupperip1, rangeupperip2, \
    rangeoptions, rangeexpires, rangeexpirestime";

impl Range {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        let name = r.text("rangename")?;
        let bad = || StoreError::Decode(format!("range {name}: bad IP address columns"));
        let lower = ip::from_columns(r.int("rangelowerip1")?, r.opt_int("rangelowerip2")?).ok_or_else(bad)?;
        let upper = ip::from_columns(r.int("rangeupperip1")?, r.opt_int("rangeupperip2")?).ok_or_else(bad)?;
        Ok(Range {
            id: r.int("rangeid")?,
            priority: r.int("rangepriorityid")?,
            lower,
            upper,
            options: r.int("rangeoptions")?,
            expires: r.bool("rangeexpires")?,
            expires_time: r.time("rangeexpirestime")?,
            name,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        let (l1, l2) = ip::to_columns(self.lower);
        let (u1, u2) = ip::to_columns(self.upper);
        vec![
            ("rangename", self.name.clone().into()),
            ("rangepriorityid", self.priority.into()),
            ("rangelowerip1", l1.into()),
            ("rangelowerip2", l2.into()),
            ("rangeupperip1", u1.into()),
            ("rangeupperip2", u2.into()),
            ("rangeoptions", self.options.into()),
            ("rangeexpires", self.expires.into()),
            ("rangeexpirestime", self.expires_time.into()),
        ]
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        ip::in_range(addr, self.lower, self.upper)
    }

    /// True when the range has expired at `now` (expired ranges no longer apply).
    pub fn is_expired(&self, now: NaiveDateTime) -> bool {
        self.expires && self.expires_time <= now
    }

    pub fn allows(&self, bit: i64) -> bool {
        self.options & bit != 0
    }
}

pub async fn list(db: &Db) -> Result<Vec<Range>, StoreError> {
    let rows = db
        .fetch_all(&format!("SELECT {COLUMNS} FROM hm_securityranges ORDER BY rangepriorityid DESC, rangename"), &[])
        .await?;
    rows.iter().map(Range::from_row).collect()
}

pub async fn find(db: &Db, name: &str) -> Result<Option<Range>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM hm_securityranges WHERE {}", db.dialect().ci_eq("rangename"));
    let row = db.fetch_optional(&sql, &[name.into()]).await?;
    row.as_ref().map(Range::from_row).transpose()
}

pub async fn require(db: &Db, name: &str) -> Result<Range, StoreError> {
    find(db, name).await?.ok_or_else(|| StoreError::NotFound(format!("no IP range {name}")))
}

/// The range that applies to `addr` among `ranges`: the highest priority one containing it
/// that has not expired. Ties go to the narrower range, then the lower id.
pub fn matching(ranges: &[Range], addr: IpAddr, now: NaiveDateTime) -> Option<&Range> {
    ranges
        .iter()
        .filter(|r| r.contains(addr) && !r.is_expired(now))
        .max_by(|a, b| a.priority.cmp(&b.priority).then_with(|| width(b).cmp(&width(a))).then_with(|| b.id.cmp(&a.id)))
}

fn width(r: &Range) -> u128 {
    match (r.lower, r.upper) {
        (IpAddr::V4(l), IpAddr::V4(u)) => u128::from(u32::from(u).saturating_sub(u32::from(l))),
        (IpAddr::V6(l), IpAddr::V6(u)) => u128::from(u).saturating_sub(u128::from(l)),
        _ => u128::MAX,
    }
}

fn validate(range: &Range) -> Result<(), StoreError> {
    if range.name.is_empty() || range.name.chars().count() > 100 {
        return Err(StoreError::Invalid("an IP range name must be 1-100 characters".into()));
    }
    if range.lower.is_ipv4() != range.upper.is_ipv4() {
        return Err(StoreError::Invalid("both ends of an IP range must be IPv4 or both IPv6".into()));
    }
    if !ip::in_range(range.lower, range.lower, range.upper) {
        return Err(StoreError::Invalid(format!("{} is above {}", range.lower, range.upper)));
    }
    Ok(())
}

pub async fn create(db: &Db, range: &Range) -> Result<Range, StoreError> {
    validate(range)?;
    if find(db, &range.name).await?.is_some() {
        return Err(StoreError::Conflict(format!("IP range {} already exists", range.name)));
    }
    let id = super::insert_row(db, "hm_securityranges", "rangeid", &range.values()).await?;
    Ok(Range { id, ..range.clone() })
}

pub async fn update(db: &Db, range: &Range) -> Result<(), StoreError> {
    validate(range)?;
    super::update_row(db, "hm_securityranges", "rangeid", range.id, &range.values()).await?;
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    db.execute("DELETE FROM hm_securityranges WHERE rangeid = ?", &[id.into()]).await?;
    Ok(())
}

/// Deletes ranges whose expiry has passed (hMailServer does this on a schedule).
pub async fn delete_expired(db: &Db, now: NaiveDateTime) -> Result<u64, StoreError> {
    db.execute("DELETE FROM hm_securityranges WHERE rangeexpires = 1 AND rangeexpirestime <= ?", &[now.into()]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: i64, prio: i64, lo: &str, hi: &str) -> Range {
        Range {
            id,
            name: format!("r{id}"),
            priority: prio,
            lower: lo.parse().unwrap(),
            upper: hi.parse().unwrap(),
            options: 1,
            expires: false,
            expires_time: crate::db::never(),
        }
    }

    #[test]
    fn highest_priority_containing_range_wins() {
        let now = altimail_core::time::now_local();
        let ranges = vec![r(1, 10, "0.0.0.0", "255.255.255.255"), r(2, 30, "127.0.0.1", "127.0.0.1")];
        assert_eq!(matching(&ranges, "127.0.0.1".parse().unwrap(), now).unwrap().id, 2);
        assert_eq!(matching(&ranges, "10.0.0.1".parse().unwrap(), now).unwrap().id, 1);
        assert!(matching(&ranges, "::1".parse().unwrap(), now).is_none(), "no IPv6 range by default");
        let mut banned = r(3, 100, "127.0.0.1", "127.0.0.1");
        banned.expires = true;
        banned.expires_time = now - chrono::Duration::minutes(1);
        let ranges = vec![ranges[0].clone(), ranges[1].clone(), banned];
        assert_eq!(matching(&ranges, "127.0.0.1".parse().unwrap(), now).unwrap().id, 2, "expired ban ignored");
    }
}
