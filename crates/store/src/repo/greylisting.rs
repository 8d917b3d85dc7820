//! Greylisting's tables: `hm_greylisting_triplets` (one row per client IP, sender and recipient
//! seen) and `hm_greylisting_whiteaddresses` (client IPs never greylisted, stored as SQL LIKE
//! patterns as hMailServer stores them, REFERENCE.md §1.2).

use std::net::IpAddr;

use chrono::NaiveDateTime;
use serde::Serialize;

use altimail_core::ip;

use crate::StoreError;
use crate::db::{Db, Row, Value};

/// One triplet (hMailServer's `GreyListingTriplet`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Triplet {
    pub id: i64,
    pub created: NaiveDateTime,
    /// Until then the triplet is refused with 451.
    pub block_end: NaiveDateTime,
    /// After then the purge removes it.
    pub delete_time: NaiveDateTime,
    pub ip: IpAddr,
    pub sender: String,
    pub recipient: String,
    pub blocked_count: i64,
    pub passed_count: i64,
}

const TRIPLET_COLUMNS: &str = "glid, glcreatetime, glblockendtime, gldeletetime, glipaddress1, glipaddress2, \
    glsenderaddress, glrecipientaddress, glblockedcount, glpassedcount";

impl Triplet {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        let ip = ip::from_columns(r.int("glipaddress1")?, r.opt_int("glipaddress2")?)
            .ok_or_else(|| StoreError::Decode("greylisting triplet: bad IP address columns".into()))?;
        Ok(Triplet {
            id: r.int("glid")?,
            created: r.time("glcreatetime")?,
            block_end: r.time("glblockendtime")?,
            delete_time: r.time("gldeletetime")?,
            ip,
            sender: r.text("glsenderaddress")?,
            recipient: r.text("glrecipientaddress")?,
            blocked_count: r.int("glblockedcount")?,
            passed_count: r.int("glpassedcount")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        let (ip1, ip2) = ip::to_columns(ip::normalize(self.ip));
        vec![
            ("glcreatetime", self.created.into()),
            ("glblockendtime", self.block_end.into()),
            ("gldeletetime", self.delete_time.into()),
            ("glipaddress1", ip1.into()),
            ("glipaddress2", ip2.into()),
            ("glsenderaddress", self.sender.clone().into()),
            ("glrecipientaddress", self.recipient.clone().into()),
            ("glblockedcount", self.blocked_count.into()),
            ("glpassedcount", self.passed_count.into()),
        ]
    }
}

/// PostgreSQL declares the address columns varchar(200): longer addresses are cut (on a char
/// boundary) the same way on every engine so a lookup finds what was stored.
fn column_text(s: &str) -> String {
    s.chars().take(200).collect::<String>().to_lowercase()
}

/// The triplet of `ip`, `sender` and `recipient` (addresses compared without regard to case).
pub async fn find(db: &Db, ip_addr: IpAddr, sender: &str, recipient: &str) -> Result<Option<Triplet>, StoreError> {
    let (ip1, ip2) = ip::to_columns(ip::normalize(ip_addr));
    let ip_where = if ip2.is_some() { "glipaddress2 = ?" } else { "glipaddress2 IS NULL" };
    let d = db.dialect();
    let sql = format!(
        "SELECT {TRIPLET_COLUMNS} FROM hm_greylisting_triplets WHERE glipaddress1 = ? AND {ip_where} AND {} AND {}",
        d.ci_eq("glsenderaddress"),
        d.ci_eq("glrecipientaddress")
    );
    let mut args: Vec<Value> = vec![ip1.into()];
    if let Some(low) = ip2 {
        args.push(low.into());
    }
    args.push(column_text(sender).into());
    args.push(column_text(recipient).into());
    let row = db.fetch_optional(&sql, &args).await?;
    row.as_ref().map(Triplet::from_row).transpose()
}

/// Stores a new triplet (its `id` is ignored) and returns it with its key.
pub async fn insert(db: &Db, t: &Triplet) -> Result<Triplet, StoreError> {
    let stored = Triplet { sender: column_text(&t.sender), recipient: column_text(&t.recipient), ..t.clone() };
    let id = super::insert_row(db, "hm_greylisting_triplets", "glid", &stored.values()).await?;
    Ok(Triplet { id, ..stored })
}

/// Writes the times and counters of a stored triplet.
pub async fn update(db: &Db, t: &Triplet) -> Result<(), StoreError> {
    db.execute(
        "UPDATE hm_greylisting_triplets SET glblockendtime = ?, gldeletetime = ?, glblockedcount = ?, \
         glpassedcount = ? WHERE glid = ?",
        &[t.block_end.into(), t.delete_time.into(), t.blocked_count.into(), t.passed_count.into(), t.id.into()],
    )
    .await?;
    Ok(())
}

/// Removes the triplets whose delete time has passed at `now`; returns how many.
pub async fn purge_expired(db: &Db, now: NaiveDateTime) -> Result<u64, StoreError> {
    db.execute("DELETE FROM hm_greylisting_triplets WHERE gldeletetime < ?", &[now.into()]).await
}

/// Removes every triplet (hMailServer's `ClearGreyListingTriplets`); returns how many.
pub async fn clear(db: &Db) -> Result<u64, StoreError> {
    db.execute("DELETE FROM hm_greylisting_triplets", &[]).await
}

/// How many triplets are stored.
pub async fn count(db: &Db) -> Result<i64, StoreError> {
    let row = db.fetch_optional("SELECT COUNT(*) AS n FROM hm_greylisting_triplets", &[]).await?;
    row.map(|r| r.int("n")).transpose().map(|n| n.unwrap_or(0))
}

/// The `limit` most recently created triplets, newest first.
pub async fn recent(db: &Db, limit: u32) -> Result<Vec<Triplet>, StoreError> {
    let sql = format!(
        "SELECT {TRIPLET_COLUMNS} FROM hm_greylisting_triplets ORDER BY glcreatetime DESC, glid DESC{}",
        db.dialect().limit(limit)
    );
    let rows = db.fetch_all(&sql, &[]).await?;
    rows.iter().map(Triplet::from_row).collect()
}

/// One white-listed client address pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhiteAddress {
    pub id: i64,
    /// As the user writes it: `*` any run of characters, `?` one character.
    pub address: String,
    /// As stored: the SQL LIKE pattern with `/` as escape character.
    pub like_pattern: String,
    pub description: String,
}

impl WhiteAddress {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        let like_pattern = r.text("whiteipaddress")?;
        Ok(WhiteAddress {
            id: r.int("whiteid")?,
            address: like_to_wildcard(&like_pattern),
            like_pattern,
            description: r.text("whiteipdescription")?,
        })
    }

    /// Whether the client address `ip` matches this entry.
    pub fn matches(&self, ip_addr: IpAddr) -> bool {
        like_matches(&self.like_pattern, &ip::normalize(ip_addr).to_string())
    }
}

/// hMailServer's `ConvertWildcardToLike`: `/`→`//`, `%`→`/%`, `_`→`/_`, `?`→`_`, `*`→`%`.
pub fn wildcard_to_like(wildcard: &str) -> String {
    let mut out = String::with_capacity(wildcard.len() + 4);
    for c in wildcard.chars() {
        match c {
            '/' => out.push_str("//"),
            '%' => out.push_str("/%"),
            '_' => out.push_str("/_"),
            '?' => out.push('_'),
            '*' => out.push('%'),
            c => out.push(c),
        }
    }
    out
}

/// The reverse of [`wildcard_to_like`], for display.
pub fn like_to_wildcard(like: &str) -> String {
    let mut out = String::with_capacity(like.len());
    let mut chars = like.chars();
    while let Some(c) = chars.next() {
        match c {
            '/' => out.extend(chars.next()),
            '_' => out.push('?'),
            '%' => out.push('*'),
            c => out.push(c),
        }
    }
    out
}

/// One element of a parsed LIKE pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Like {
    Any,
    One,
    Char(char),
}

fn parse_like(pattern: &str) -> Vec<Like> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '/' => match chars.next() {
                Some(e) => Like::Char(e),
                None => Like::Char('/'),
            },
            '%' => Like::Any,
            '_' => Like::One,
            c => Like::Char(c),
        });
    }
    out
}

/// SQL LIKE with escape character `/`, case-insensitive (as on MySQL and SQLite), evaluated
/// here so every engine agrees. Iterative with one backtrack point: linear memory, no recursion.
pub fn like_matches(pattern: &str, text: &str) -> bool {
    let p = parse_like(pattern);
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(Like::Any) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(Like::One) => {
                pi += 1;
                ti += 1;
            }
            Some(Like::Char(c)) if c.to_lowercase().eq(t[ti].to_lowercase()) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|e| *e == Like::Any)
}

/// All white-listed addresses.
pub async fn white_list(db: &Db) -> Result<Vec<WhiteAddress>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT whiteid, whiteipaddress, whiteipdescription FROM hm_greylisting_whiteaddresses \
             ORDER BY whiteipaddress, whiteid",
            &[],
        )
        .await?;
    rows.iter().map(WhiteAddress::from_row).collect()
}

/// Adds an address pattern written with `*`/`?` wildcards.
pub async fn white_add(db: &Db, address: &str, description: &str) -> Result<WhiteAddress, StoreError> {
    let address = address.trim();
    if address.is_empty() || address.len() > 120 || description.len() > 255 {
        return Err(StoreError::Invalid(
            "a white-listed address is 1-120 characters, its description at most 255".into(),
        ));
    }
    if !address.chars().all(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '*' | '?')) {
        return Err(StoreError::Invalid(format!(
            "{address:?}: an IP address, optionally with * and ? wildcards, is expected"
        )));
    }
    let like = wildcard_to_like(address);
    if white_list(db).await?.iter().any(|w| w.like_pattern.eq_ignore_ascii_case(&like)) {
        return Err(StoreError::Conflict(format!("{address} is already white-listed")));
    }
    let id = super::insert_row(
        db,
        "hm_greylisting_whiteaddresses",
        "whiteid",
        &[("whiteipaddress", like.clone().into()), ("whiteipdescription", description.into())],
    )
    .await?;
    Ok(WhiteAddress { id, address: address.to_owned(), like_pattern: like, description: description.to_owned() })
}

/// Removes the entry written `address` (as listed); returns it.
pub async fn white_remove(db: &Db, address: &str) -> Result<WhiteAddress, StoreError> {
    let like = wildcard_to_like(address.trim());
    let entry = white_list(db)
        .await?
        .into_iter()
        .find(|w| w.like_pattern.eq_ignore_ascii_case(&like))
        .ok_or_else(|| StoreError::NotFound(format!("{address} is not white-listed")))?;
    db.execute("DELETE FROM hm_greylisting_whiteaddresses WHERE whiteid = ?", &[entry.id.into()]).await?;
    Ok(entry)
}

/// Whether `ip` matches one of the white-listed patterns.
pub async fn white_matches(db: &Db, ip_addr: IpAddr) -> Result<bool, StoreError> {
    Ok(white_list(db).await?.iter().any(|w| w.matches(ip_addr)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_become_like_patterns_and_back() {
        assert_eq!(wildcard_to_like("192.168.*"), "192.168.%");
        assert_eq!(wildcard_to_like("1?.0_%/"), "1_.0/_/%//");
        for w in ["192.168.*", "1?.0_%/", "::1"] {
            assert_eq!(like_to_wildcard(&wildcard_to_like(w)), w);
        }
    }

    #[test]
    fn like_matching() {
        assert!(like_matches("192.168.%", "192.168.1.2"));
        assert!(!like_matches("192.168.%", "192.169.1.2"));
        assert!(like_matches("10.0.0._", "10.0.0.7"));
        assert!(!like_matches("10.0.0._", "10.0.0.17"));
        assert!(like_matches("%", ""));
        assert!(like_matches("%.5", "1.2.3.5"));
        assert!(like_matches("%2%5", "1.2.3.5"));
        assert!(!like_matches("1.2.3.4", "1.2.3.45"));
        assert!(like_matches("1/_2", "1_2"));
        assert!(!like_matches("1/_2", "1x2"));
        assert!(like_matches("FE80::%", "fe80::1"));
        // Many stars against a long text stays fast (no exponential backtracking).
        let text = "a".repeat(5000);
        assert!(like_matches(&"%a".repeat(50), &format!("b{text}")));
        assert!(!like_matches(&"%a".repeat(50), &format!("{text}b")));
        assert!(!like_matches("%a%a%a%a%a%b", &text));
    }
}
