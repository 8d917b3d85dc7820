//! `hm_acl`: IMAP access rights on folders (RFC 4314), as hMailServer stores them.
//!
//! A row grants `aclvalue` rights on folder `aclsharefolderid` to one account
//! (`aclpermissiontype` 0), one group (1, members in `hm_group_members`) or anyone (2). For a
//! folder, the nearest of itself and its ancestors that has any rows decides; within it, an entry
//! for the account beats the entries of its groups (which add up), which beat "anyone". Owners
//! have every right on their own folders.

use crate::StoreError;
use crate::db::{Db, Value};

use super::folders::{Folder, TOP_LEVEL};
use super::marks;

/// A set of RFC 4314 rights, in hMailServer's `aclvalue` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Rights(pub u32);

/// Right letters in bit order (bit 0 = `l`).
const LETTERS: &str = "lrswipkxtea";

impl Rights {
    /// `l`: the folder is visible in LIST.
    pub const LOOKUP: Rights = Rights(1);
    /// `r`: SELECT, FETCH, SEARCH, COPY from.
    pub const READ: Rights = Rights(2);
    /// `s`: keep \Seen across sessions.
    pub const SEEN: Rights = Rights(4);
    /// `w`: set flags other than \Seen and \Deleted.
    pub const WRITE: Rights = Rights(8);
    /// `i`: APPEND and COPY into.
    pub const INSERT: Rights = Rights(16);
    /// `p`: send mail to the submission address of the folder.
    pub const POST: Rights = Rights(32);
    /// `k`: create child folders.
    pub const CREATE: Rights = Rights(64);
    /// `x`: delete or rename the folder.
    pub const DELETE_MAILBOX: Rights = Rights(128);
    /// `t`: set or clear \Deleted.
    pub const DELETE_MESSAGES: Rights = Rights(256);
    /// `e`: EXPUNGE.
    pub const EXPUNGE: Rights = Rights(512);
    /// `a`: administer (SETACL, GETACL, …).
    pub const ADMIN: Rights = Rights(1024);
    /// Every right.
    pub const ALL: Rights = Rights(2047);

    /// The letters of the rights held, in the order "lrswipkxtea".
    pub fn letters(self) -> String {
        LETTERS.chars().enumerate().filter(|(i, _)| self.0 & (1 << i) != 0).map(|(_, c)| c).collect()
    }

    /// Parses rights letters (SETACL). The obsolete RFC 2086 letters are accepted as RFC 4314
    /// §2.1.1 says: `c` as `k` and `x`, `d` as `t` and `e`. Digits (implementation-defined
    /// rights) are ignored; any other character makes it `None`.
    pub fn from_letters(s: &str) -> Option<Rights> {
        let mut bits = 0;
        for c in s.chars() {
            bits |= match c {
                'c' => Self::CREATE.0 | Self::DELETE_MAILBOX.0,
                'd' => Self::DELETE_MESSAGES.0 | Self::EXPUNGE.0,
                '0'..='9' => 0,
                _ => 1 << LETTERS.find(c)?,
            };
        }
        Some(Rights(bits))
    }

    /// True when every right of `other` is held.
    pub fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    fn from_value(v: i64) -> Rights {
        Rights(u32::try_from(v & i64::from(Self::ALL.0)).unwrap_or(0))
    }
}

/// One grant, as GETACL reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclEntry {
    /// An account address, a group name, or `anyone`.
    pub identifier: String,
    pub rights: Rights,
}

const USER: i64 = 0;
const GROUP: i64 = 1;
const ANYONE: i64 = 2;

/// The rights of an account on a folder. `folders` is the tree the folder belongs to (the
/// public folders), used to find its ancestors.
pub async fn rights(db: &Db, account_id: i64, folder: &Folder, folders: &[Folder]) -> Result<Rights, StoreError> {
    if folder.account_id != 0 && folder.account_id == account_id {
        return Ok(Rights::ALL);
    }
    // The folder, then its ancestors; bounded, so a corrupt cycle cannot loop forever.
    let mut chain = vec![folder.id];
    let mut parent = folder.parent_id;
    while parent != TOP_LEVEL && chain.len() <= folders.len() {
        match folders.iter().find(|f| f.id == parent) {
            Some(p) => {
                chain.push(p.id);
                parent = p.parent_id;
            }
            None => break,
        }
    }
    let args: Vec<Value> = chain.iter().map(|&id| id.into()).collect();
    let sql = format!(
        "SELECT aclsharefolderid, aclpermissiontype, aclpermissiongroupid, aclpermissionaccountid, aclvalue \
         FROM hm_acl WHERE aclsharefolderid IN ({})",
        marks(chain.len())
    );
    let rows = db.fetch_all(&sql, &args).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        entries.push((
            r.int("aclsharefolderid")?,
            r.int("aclpermissiontype")?,
            r.int("aclpermissiongroupid")?,
            r.int("aclpermissionaccountid")?,
            r.int("aclvalue")?,
        ));
    }
    let Some(decider) = chain.iter().find(|id| entries.iter().any(|e| e.0 == **id)) else {
        return Ok(Rights::default());
    };
    let here: Vec<_> = entries.iter().filter(|e| e.0 == *decider).collect();
    if let Some(e) = here.iter().find(|e| e.1 == USER && e.3 == account_id) {
        return Ok(Rights::from_value(e.4));
    }
    if here.iter().any(|e| e.1 == GROUP) {
        let groups: Vec<i64> = db
            .fetch_all("SELECT membergroupid FROM hm_group_members WHERE memberaccountid = ?", &[account_id.into()])
            .await?
            .iter()
            .map(|r| r.int("membergroupid"))
            .collect::<Result<_, _>>()?;
        let mut bits = None;
        for e in here.iter().filter(|e| e.1 == GROUP && groups.contains(&e.2)) {
            bits = Some(bits.unwrap_or(0) | e.4);
        }
        if let Some(bits) = bits {
            return Ok(Rights::from_value(bits));
        }
    }
    Ok(here.iter().find(|e| e.1 == ANYONE).map_or(Rights::default(), |e| Rights::from_value(e.4)))
}

/// The grants on a folder: accounts first, then groups, then anyone.
pub async fn list(db: &Db, folder_id: i64) -> Result<Vec<AclEntry>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT a.aclpermissiontype AS kind, a.aclvalue AS rights, u.accountaddress AS address, g.groupname AS grp \
             FROM hm_acl a LEFT JOIN hm_accounts u ON u.accountid = a.aclpermissionaccountid \
             LEFT JOIN hm_groups g ON g.groupid = a.aclpermissiongroupid \
             WHERE a.aclsharefolderid = ? ORDER BY a.aclpermissiontype, a.aclid",
            &[folder_id.into()],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let identifier = match r.int("kind")? {
            USER => r.opt_text("address")?,
            GROUP => r.opt_text("grp")?,
            ANYONE => Some("anyone".to_owned()),
            _ => None,
        };
        // Rows of deleted accounts or groups name nobody.
        if let Some(identifier) = identifier {
            out.push(AclEntry { identifier, rights: Rights::from_value(r.int("rights")?) });
        }
    }
    Ok(out)
}

/// `(aclpermissiontype, aclpermissiongroupid, aclpermissionaccountid)` of an identifier: an
/// account address, else a group name, else `anyone`.
async fn resolve(db: &Db, identifier: &str) -> Result<(i64, i64, i64), StoreError> {
    let d = db.dialect();
    let account = db
        .fetch_optional(
            &format!("SELECT accountid FROM hm_accounts WHERE {}", d.ci_eq("accountaddress")),
            &[identifier.into()],
        )
        .await?;
    if let Some(r) = account {
        return Ok((USER, 0, r.int("accountid")?));
    }
    let group = db
        .fetch_optional(&format!("SELECT groupid FROM hm_groups WHERE {}", d.ci_eq("groupname")), &[identifier.into()])
        .await?;
    if let Some(r) = group {
        return Ok((GROUP, r.int("groupid")?, 0));
    }
    if identifier.eq_ignore_ascii_case("anyone") {
        return Ok((ANYONE, 0, 0));
    }
    Err(StoreError::NotFound(format!("no account or group {identifier}")))
}

const MATCH: &str = "aclsharefolderid = ? AND aclpermissiontype = ? AND aclpermissiongroupid = ? \
    AND aclpermissionaccountid = ?";

/// Grants exactly `rights` on a folder to an identifier (SETACL), replacing its earlier grant.
///
/// # Errors
/// `NotFound` when the identifier is no account, group or `anyone`.
pub async fn set(db: &Db, folder_id: i64, identifier: &str, rights: Rights) -> Result<(), StoreError> {
    let (kind, group, account) = resolve(db, identifier).await?;
    let key: [Value; 4] = [folder_id.into(), kind.into(), group.into(), account.into()];
    let mut tx = db.begin().await?;
    tx.execute(&format!("DELETE FROM hm_acl WHERE {MATCH}"), &key).await?;
    let mut args = key.to_vec();
    args.push(i64::from(rights.0).into());
    tx.insert(
        "INSERT INTO hm_acl (aclsharefolderid, aclpermissiontype, aclpermissiongroupid, aclpermissionaccountid, \
         aclvalue) VALUES (?, ?, ?, ?, ?)",
        &args,
        "aclid",
    )
    .await?;
    tx.commit().await
}

/// Removes an identifier's grant on a folder (DELETEACL); no grant is not an error.
///
/// # Errors
/// `NotFound` when the identifier is no account, group or `anyone`.
pub async fn delete(db: &Db, folder_id: i64, identifier: &str) -> Result<(), StoreError> {
    let (kind, group, account) = resolve(db, identifier).await?;
    db.execute(
        &format!("DELETE FROM hm_acl WHERE {MATCH}"),
        &[folder_id.into(), kind.into(), group.into(), account.into()],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip() {
        assert_eq!(Rights::ALL.letters(), "lrswipkxtea");
        assert_eq!(Rights(Rights::LOOKUP.0 | Rights::READ.0 | Rights::ADMIN.0).letters(), "lra");
        assert_eq!(Rights::from_letters("arl"), Some(Rights(1 | 2 | 1024)));
        assert_eq!(Rights::from_letters(""), Some(Rights(0)));
        assert_eq!(Rights::from_letters("c"), Some(Rights(64 | 128)));
        assert_eq!(Rights::from_letters("d"), Some(Rights(256 | 512)));
        assert_eq!(Rights::from_letters("lr9"), Some(Rights(3)));
        assert_eq!(Rights::from_letters("lz"), None);
        assert!(Rights::ALL.contains(Rights::EXPUNGE));
        assert!(!Rights::READ.contains(Rights(3)));
        for bits in 0..=Rights::ALL.0 {
            assert_eq!(Rights::from_letters(&Rights(bits).letters()), Some(Rights(bits)));
        }
    }
}
