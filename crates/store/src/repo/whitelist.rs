//! `hm_whitelist`: senders the anti-spam tests skip. An entry is an IP range and a sender
//! wildcard (`*` any run of characters, `?` one character, case-insensitive); a client matches
//! when its address lies in the range and the MAIL FROM address matches the wildcard (an empty
//! wildcard matches any sender).

use std::net::IpAddr;

use serde::Serialize;

use altimail_core::ip;

use crate::StoreError;
use crate::db::{Db, Row, Value};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhiteListEntry {
    pub id: i64,
    pub lower: IpAddr,
    pub upper: IpAddr,
    /// The sender wildcard.
    pub address: String,
    pub description: String,
}

const COLUMNS: &str = "whiteid, whiteloweripaddress1, whiteloweripaddress2, whiteupperipaddress1, \
    whiteupperipaddress2, whiteemailaddress, whitedescription";

impl WhiteListEntry {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        let id = r.int("whiteid")?;
        let bad = || StoreError::Decode(format!("white list entry {id}: bad IP address columns"));
        Ok(WhiteListEntry {
            id,
            lower: ip::from_columns(r.int("whiteloweripaddress1")?, r.opt_int("whiteloweripaddress2")?)
                .ok_or_else(bad)?,
            upper: ip::from_columns(r.int("whiteupperipaddress1")?, r.opt_int("whiteupperipaddress2")?)
                .ok_or_else(bad)?,
            address: r.text("whiteemailaddress")?,
            description: r.text("whitedescription")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        let (l1, l2) = ip::to_columns(self.lower);
        let (u1, u2) = ip::to_columns(self.upper);
        vec![
            ("whiteloweripaddress1", l1.into()),
            ("whiteloweripaddress2", l2.into()),
            ("whiteupperipaddress1", u1.into()),
            ("whiteupperipaddress2", u2.into()),
            ("whiteemailaddress", self.address.clone().into()),
            ("whitedescription", self.description.clone().into()),
        ]
    }

    /// Whether a client at `addr` sending as `sender` is white-listed by this entry.
    pub fn matches(&self, addr: IpAddr, sender: &str) -> bool {
        let addr = ip::normalize(addr);
        ip::in_range(addr, ip::normalize(self.lower), ip::normalize(self.upper))
            && (self.address.is_empty() || altimail_core::wildcard::matches(&self.address, sender))
    }
}

pub async fn list(db: &Db) -> Result<Vec<WhiteListEntry>, StoreError> {
    let rows = db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_whitelist ORDER BY whiteid"), &[]).await?;
    rows.iter().map(WhiteListEntry::from_row).collect()
}

/// Adds an entry; `lower` and `upper` must be of one family, in order.
pub async fn add(db: &Db, entry: &WhiteListEntry) -> Result<WhiteListEntry, StoreError> {
    if entry.lower.is_ipv4() != entry.upper.is_ipv4() {
        return Err(StoreError::Invalid("both ends of a white list range must be IPv4 or both IPv6".into()));
    }
    if !ip::in_range(entry.lower, entry.lower, entry.upper) {
        return Err(StoreError::Invalid(format!("{} is above {}", entry.lower, entry.upper)));
    }
    if entry.address.chars().count() > 255 || entry.description.chars().count() > 255 {
        return Err(StoreError::Invalid("address and description are at most 255 characters".into()));
    }
    let id = super::insert_row(db, "hm_whitelist", "whiteid", &entry.values()).await?;
    Ok(WhiteListEntry { id, ..entry.clone() })
}

/// Removes an entry; `NotFound` when there is none with this id.
pub async fn remove(db: &Db, id: i64) -> Result<(), StoreError> {
    let n = db.execute("DELETE FROM hm_whitelist WHERE whiteid = ?", &[id.into()]).await?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no white list entry {id}")));
    }
    Ok(())
}

/// Whether a client at `addr` sending as `sender` is white-listed.
pub async fn matches(db: &Db, addr: IpAddr, sender: &str) -> Result<bool, StoreError> {
    Ok(list(db).await?.iter().any(|e| e.matches(addr, sender)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(lo: &str, hi: &str, address: &str) -> WhiteListEntry {
        WhiteListEntry {
            id: 1,
            lower: lo.parse().unwrap(),
            upper: hi.parse().unwrap(),
            address: address.into(),
            description: String::new(),
        }
    }

    #[test]
    fn range_and_sender_wildcard_must_both_match() {
        let e = entry("192.0.2.0", "192.0.2.255", "*@partner.example");
        assert!(e.matches("192.0.2.7".parse().unwrap(), "Bob@PARTNER.example"));
        assert!(e.matches("::ffff:192.0.2.7".parse().unwrap(), "bob@partner.example"));
        assert!(!e.matches("192.0.3.7".parse().unwrap(), "bob@partner.example"));
        assert!(!e.matches("192.0.2.7".parse().unwrap(), "bob@other.example"));
        assert!(entry("0.0.0.0", "255.255.255.255", "").matches("198.51.100.1".parse().unwrap(), "x@y"));
        assert!(entry("0.0.0.0", "255.255.255.255", "a?c@*").matches("198.51.100.1".parse().unwrap(), "abc@d"));
    }
}
