//! `hm_dnsbl`: DNS block lists the pre-transmission anti-spam test asks about the client's IP.

use serde::Serialize;

use crate::StoreError;
use crate::db::{Db, Row, Value};

/// One DNS block list (hMailServer's `DNSBlackList`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dnsbl {
    pub id: i64,
    pub active: bool,
    /// The zone queried, e.g. `zen.spamhaus.org`.
    pub zone: String,
    /// Answers that mean "listed": `|`-separated addresses, `*`/`?` wildcards or last-octet
    /// ranges (`127.0.0.2-8|127.0.0.10-11`); empty means any answer.
    pub expected: String,
    pub reject_message: String,
    pub score: i64,
}

const COLUMNS: &str = "sblid, sblactive, sbldnshost, sblresult, sblrejectmessage, sblscore";

impl Dnsbl {
    /// A new (not yet stored) list.
    pub fn new(zone: &str, expected: &str, reject_message: &str, score: i64) -> Dnsbl {
        Dnsbl {
            id: 0,
            active: true,
            zone: zone.to_owned(),
            expected: expected.to_owned(),
            reject_message: reject_message.to_owned(),
            score,
        }
    }

    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Dnsbl {
            id: r.int("sblid")?,
            active: r.bool("sblactive")?,
            zone: r.text("sbldnshost")?,
            expected: r.text("sblresult")?,
            reject_message: r.text("sblrejectmessage")?,
            score: r.int("sblscore")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("sblactive", self.active.into()),
            ("sbldnshost", self.zone.clone().into()),
            ("sblresult", self.expected.clone().into()),
            ("sblrejectmessage", self.reject_message.clone().into()),
            ("sblscore", self.score.into()),
        ]
    }
}

/// Checks a zone name: 1-255 characters of letters, digits, `-`, `_` and dots, no empty label.
pub(crate) fn validate_zone(zone: &str, what: &str) -> Result<(), StoreError> {
    let ok = !zone.is_empty()
        && zone.len() <= 255
        && zone.trim_end_matches('.').split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok { Ok(()) } else { Err(StoreError::Invalid(format!("{zone:?} is not a valid {what} zone name"))) }
}

fn validate(d: &Dnsbl) -> Result<(), StoreError> {
    validate_zone(&d.zone, "DNSBL")?;
    if d.expected.len() > 255 || d.reject_message.len() > 255 {
        return Err(StoreError::Invalid("expected result and reject message are at most 255 characters".into()));
    }
    Ok(())
}

/// All lists, by zone.
pub async fn list(db: &Db) -> Result<Vec<Dnsbl>, StoreError> {
    let rows = db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_dnsbl ORDER BY sbldnshost, sblid"), &[]).await?;
    rows.iter().map(Dnsbl::from_row).collect()
}

/// The active lists (what the test queries).
pub async fn active(db: &Db) -> Result<Vec<Dnsbl>, StoreError> {
    Ok(list(db).await?.into_iter().filter(|d| d.active).collect())
}

/// The list with zone `zone` (case-insensitive).
pub async fn find(db: &Db, zone: &str) -> Result<Option<Dnsbl>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM hm_dnsbl WHERE {}", db.dialect().ci_eq("sbldnshost"));
    let row = db.fetch_optional(&sql, &[zone.into()]).await?;
    row.as_ref().map(Dnsbl::from_row).transpose()
}

pub async fn require(db: &Db, zone: &str) -> Result<Dnsbl, StoreError> {
    find(db, zone).await?.ok_or_else(|| StoreError::NotFound(format!("no DNSBL {zone}")))
}

pub async fn create(db: &Db, d: &Dnsbl) -> Result<Dnsbl, StoreError> {
    validate(d)?;
    if find(db, &d.zone).await?.is_some() {
        return Err(StoreError::Conflict(format!("DNSBL {} already exists", d.zone)));
    }
    let id = super::insert_row(db, "hm_dnsbl", "sblid", &d.values()).await?;
    Ok(Dnsbl { id, ..d.clone() })
}

pub async fn update(db: &Db, d: &Dnsbl) -> Result<(), StoreError> {
    validate(d)?;
    super::update_row(db, "hm_dnsbl", "sblid", d.id, &d.values()).await?;
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    db.execute("DELETE FROM hm_dnsbl WHERE sblid = ?", &[id.into()]).await?;
    Ok(())
}
