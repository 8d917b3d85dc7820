//! `hm_securityranges`: what a client IP may do (protocols, relaying, authentication rules).

use std::net::IpAddr;

use chrono::NaiveDateTime;
use serde::Serialize;

use altimail_core::ip;

use crate::StoreError;
use crate::db::{Db, Row, Value};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Range {
    pub id: i64,
    pub name: String,
    /// Higher wins when ranges overlap.
    pub priority: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub lower: IpAddr,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub upper: IpAddr,
    /// Bit mask, see `altimail_core::codes::range`.
    pub options: i64,
    pub expires: bool,
    /// Server local time, `YYYY-MM-DDTHH:MM:SS` (no offset).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
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

    /// True for the ranges auto-ban creates (`Auto-ban: <user>`, REFERENCE.md §5.1).
    pub fn is_auto_ban(&self) -> bool {
        self.name.starts_with(AUTO_BAN_PREFIX)
    }
}

/// The name prefix of the ranges auto-ban creates.
pub const AUTO_BAN_PREFIX: &str = "Auto-ban:";

/// The setting that says whom auto-ban never bans (Altimail's own): entries separated by
/// commas, each an IP range's name, an address or a CIDR block. A missing row means
/// [`DEFAULT_TRUSTED`].
pub const TRUSTED_SETTING: &str = "altimailtrustedranges";

/// Loopback (the machine itself) and the "My computer" range.
pub const DEFAULT_TRUSTED: &str = "127.0.0.0/8, ::1, My computer";

/// What auto-ban spares, parsed from [`TRUSTED_SETTING`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trusted {
    /// Range names (compared without regard to case).
    pub names: Vec<String>,
    /// Address blocks, inclusive `(lower, upper)`.
    pub blocks: Vec<(IpAddr, IpAddr)>,
    /// The entries as written, in order.
    pub entries: Vec<String>,
}

impl Trusted {
    /// Parses a value of [`TRUSTED_SETTING`]: entries that read as an address or a CIDR block
    /// are blocks, the others range names.
    pub fn parse(setting: &str) -> Trusted {
        let mut trusted = Trusted::default();
        for entry in setting.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match block(entry) {
                Some(b) => trusted.blocks.push(b),
                None => trusted.names.push(entry.to_owned()),
            }
            trusted.entries.push(entry.to_owned());
        }
        trusted
    }

    /// Whether the range called `name` is trusted.
    pub fn has_name(&self, name: &str) -> bool {
        self.names.iter().any(|t| t.eq_ignore_ascii_case(name))
    }

    /// Whether `addr` lies in one of the blocks.
    pub fn in_blocks(&self, addr: IpAddr) -> bool {
        self.blocks.iter().any(|&(lo, hi)| ip::in_range(addr, lo, hi))
    }

    /// The setting's value after adding (or removing) the range name `name`.
    pub fn with_name(&self, name: &str, on: bool) -> String {
        let mut entries: Vec<String> =
            self.entries.iter().filter(|e| block(e).is_some() || !e.eq_ignore_ascii_case(name)).cloned().collect();
        if on {
            entries.push(name.to_owned());
        }
        entries.join(", ")
    }
}

/// An address (`192.0.2.7`, `::1`) or a CIDR block (`127.0.0.0/8`) as `(lower, upper)`.
pub fn block(entry: &str) -> Option<(IpAddr, IpAddr)> {
    let (addr, bits) = match entry.split_once('/') {
        Some((addr, bits)) => (addr.trim().parse::<IpAddr>().ok()?, Some(bits.trim().parse::<u32>().ok()?)),
        None => (entry.trim().parse::<IpAddr>().ok()?, None),
    };
    // An IPv4-mapped IPv6 block (`::ffff:192.0.2.0/120`) is the IPv4 block of its last 32 bits.
    let bits = match (addr, ip::normalize(addr), bits) {
        (IpAddr::V6(_), IpAddr::V4(_), Some(b)) => Some(b.checked_sub(96)?),
        (_, _, b) => b,
    };
    let addr = ip::normalize(addr);
    match addr {
        IpAddr::V4(v4) => {
            let bits = bits.unwrap_or(32);
            if bits > 32 {
                return None;
            }
            let host = u32::MAX.checked_shr(bits).unwrap_or(0);
            let lo = u32::from(v4) & !host;
            Some((IpAddr::V4(lo.into()), IpAddr::V4((lo | host).into())))
        }
        IpAddr::V6(v6) => {
            let bits = bits.unwrap_or(128);
            if bits > 128 {
                return None;
            }
            let host = u128::MAX.checked_shr(bits).unwrap_or(0);
            let lo = u128::from(v6) & !host;
            Some((IpAddr::V6(lo.into()), IpAddr::V6((lo | host).into())))
        }
    }
}

/// Whether auto-ban spares `addr`: it lies in one of `trusted`'s blocks, or inside a range it
/// names that has not expired (auto-ban ranges themselves never make an address trusted).
pub fn spared(ranges: &[Range], trusted: &Trusted, addr: IpAddr, now: NaiveDateTime) -> bool {
    let addr = ip::normalize(addr);
    trusted.in_blocks(addr)
        || ranges
            .iter()
            .any(|r| !r.is_auto_ban() && !r.is_expired(now) && r.contains(addr) && trusted.has_name(&r.name))
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
    matching_where(ranges, addr, now, |_| true)
}

/// [`matching`] among the ranges that are not auto-ban ranges: what applies to a client that
/// auto-ban spares ([`spared`]) even when an older ban covers its address.
pub fn matching_unbanned(ranges: &[Range], addr: IpAddr, now: NaiveDateTime) -> Option<&Range> {
    matching_where(ranges, addr, now, |r| !r.is_auto_ban())
}

fn matching_where(ranges: &[Range], addr: IpAddr, now: NaiveDateTime, keep: impl Fn(&Range) -> bool) -> Option<&Range> {
    ranges
        .iter()
        .filter(|r| keep(r) && r.contains(addr) && !r.is_expired(now))
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

    #[test]
    fn loopback_and_trusted_ranges_are_spared() {
        let now = altimail_core::time::now_local();
        let mut office = r(1, 20, "192.0.2.0", "192.0.2.255");
        office.name = "Office".into();
        let mut ban = r(2, 100, "192.0.2.7", "192.0.2.7");
        ban.name = "Auto-ban: eve".into();
        ban.options = 0;
        let ranges = vec![office, ban];
        let default = Trusted::parse(DEFAULT_TRUSTED);
        assert_eq!(default.names, ["My computer"]);
        for loopback in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.9"] {
            assert!(spared(&ranges, &default, loopback.parse().unwrap(), now), "{loopback}");
        }
        assert!(!spared(&ranges, &default, "192.0.2.7".parse().unwrap(), now), "Office is not trusted");
        let trusted = Trusted::parse(" office , 127.0.0.1,,");
        assert_eq!((trusted.names.as_slice(), trusted.entries.len()), (&["office".to_owned()][..], 2));
        assert!(spared(&ranges, &trusted, "192.0.2.7".parse().unwrap(), now), "inside a trusted range");
        assert!(!spared(&ranges, &trusted, "127.0.0.5".parse().unwrap(), now), "loopback narrowed to 127.0.0.1");
        assert!(!spared(&ranges, &trusted, "198.51.100.1".parse().unwrap(), now), "outside");
        let ban_only = Trusted::parse("Auto-ban: eve");
        assert!(!spared(&ranges, &ban_only, "192.0.2.7".parse().unwrap(), now), "a ban never trusts");
        assert_eq!(matching(&ranges, "192.0.2.7".parse().unwrap(), now).unwrap().name, "Auto-ban: eve");
        assert_eq!(matching_unbanned(&ranges, "192.0.2.7".parse().unwrap(), now).unwrap().name, "Office");
        assert_eq!(default.with_name("office", true), "127.0.0.0/8, ::1, My computer, office");
        assert_eq!(default.with_name("MY COMPUTER", false), "127.0.0.0/8, ::1");
    }

    #[test]
    fn blocks() {
        let b = |s: &str| block(s).map(|(l, u)| (l.to_string(), u.to_string()));
        assert_eq!(b("127.0.0.0/8"), Some(("127.0.0.0".into(), "127.255.255.255".into())));
        assert_eq!(b("10.1.2.3/0"), Some(("0.0.0.0".into(), "255.255.255.255".into())));
        assert_eq!(b("192.0.2.7"), Some(("192.0.2.7".into(), "192.0.2.7".into())));
        assert_eq!(b("2001:db8::1/32"), Some(("2001:db8::".into(), "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff".into())));
        assert_eq!(b("::1"), Some(("::1".into(), "::1".into())));
        assert_eq!(b("10.0.0.0/33"), None);
        assert_eq!(b("My computer"), None);
        // IPv4-mapped IPv6: the prefix counts the 96 bits before the IPv4 address.
        assert_eq!(b("::ffff:192.0.2.0/120"), Some(("192.0.2.0".into(), "192.0.2.255".into())));
        assert_eq!(b("::ffff:10.0.0.0/104"), Some(("10.0.0.0".into(), "10.255.255.255".into())));
        assert_eq!(b("::ffff:10.0.0.1"), Some(("10.0.0.1".into(), "10.0.0.1".into())));
        assert_eq!(b("::ffff:10.0.0.0/8"), None);
    }
}
