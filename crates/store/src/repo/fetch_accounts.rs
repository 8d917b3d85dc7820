//! `hm_fetchaccounts` and `hm_fetchaccounts_uids`: external POP3 mailboxes the server downloads
//! into a local account, and the remote UIDLs already downloaded from each.
//!
//! The password is Blowfish hex in the database (`fapassword`); [`FetchAccount::password`] holds
//! the clear text — this module decrypts on read and encrypts on write.

use chrono::NaiveDateTime;
use serde::Serialize;

use altimail_core::blowfish::{hm_decrypt, hm_encrypt};

use crate::StoreError;
use crate::db::{Db, Row, Value};

/// hMailServer's default for `famimerecipientheaders`.
pub const DEFAULT_MIME_HEADERS: &str = "To,CC,X-RCPT-TO,X-Envelope-To";

/// `faconnectionsecurity`: how the connection to the remote server is protected. JSON uses the
/// names of ports' security (`none`, `tls`, `starttls`, `starttls-required`), as the command
/// line does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Security {
    /// 0: plain text.
    #[serde(rename = "none")]
    None,
    /// 1: TLS from the first byte (POP3S, usually port 995).
    #[serde(rename = "tls")]
    Implicit,
    /// 2: STLS when the server offers it, else plain.
    #[serde(rename = "starttls")]
    StartTlsOptional,
    /// 3: STLS or give up.
    #[serde(rename = "starttls-required")]
    StartTlsRequired,
}

impl Security {
    /// The column value (0–3); unknown values read as plain text.
    pub fn from_code(code: i64) -> Security {
        match code {
            1 => Security::Implicit,
            2 => Security::StartTlsOptional,
            3 => Security::StartTlsRequired,
            _ => Security::None,
        }
    }

    pub fn code(self) -> i64 {
        match self {
            Security::None => 0,
            Security::Implicit => 1,
            Security::StartTlsOptional => 2,
            Security::StartTlsRequired => 3,
        }
    }
}

/// One row of `hm_fetchaccounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchAccount {
    pub id: i64,
    pub active: bool,
    /// The local account the mail goes to (`faaccountid`).
    pub account_id: i64,
    /// Display name (`faaccountname`).
    pub name: String,
    pub server_address: String,
    pub server_port: i64,
    /// 0 = POP3, the only type.
    pub server_type: i64,
    pub username: String,
    /// Clear text (stored Blowfish-encrypted).
    #[serde(skip_serializing)]
    pub password: String,
    /// Minutes between downloads.
    pub minutes: i64,
    pub next_try: NaiveDateTime,
    /// -1 delete right after download, 0 never delete, N delete N days after download.
    pub days_to_keep: i64,
    pub locked: bool,
    pub process_mime_recipients: bool,
    pub process_mime_date: bool,
    pub security: Security,
    pub use_antispam: bool,
    pub use_antivirus: bool,
    pub enable_route_recipients: bool,
    /// Comma list of headers scanned for MIME recipients.
    pub mime_recipient_headers: String,
}

impl FetchAccount {
    /// A new, active account with hMailServer's defaults (port 110, every 30 minutes, keep
    /// forever, due at once).
    pub fn new(account_id: i64, name: &str, server: &str, username: &str, password: &str) -> FetchAccount {
        FetchAccount {
            id: 0,
            active: true,
            account_id,
            name: name.to_owned(),
            server_address: server.to_owned(),
            server_port: 110,
            server_type: 0,
            username: username.to_owned(),
            password: password.to_owned(),
            minutes: 30,
            next_try: crate::db::never(),
            days_to_keep: 0,
            locked: false,
            process_mime_recipients: false,
            process_mime_date: false,
            security: Security::None,
            use_antispam: false,
            use_antivirus: false,
            enable_route_recipients: false,
            mime_recipient_headers: DEFAULT_MIME_HEADERS.to_owned(),
        }
    }

    fn from_row(r: &Row) -> Result<Self, StoreError> {
        let id = r.int("faid")?;
        let password = hm_decrypt(&r.text("fapassword")?)
            .map_err(|e| StoreError::Decode(format!("hm_fetchaccounts {id}: fapassword: {e}")))?;
        Ok(FetchAccount {
            id,
            active: r.bool("faactive")?,
            account_id: r.int("faaccountid")?,
            name: r.text("faaccountname")?,
            server_address: r.text("faserveraddress")?,
            server_port: r.int("faserverport")?,
            server_type: r.int("faservertype")?,
            username: r.text("fausername")?,
            password,
            minutes: r.int("faminutes")?,
            next_try: r.time("fanexttry")?,
            days_to_keep: r.int("fadaystokeep")?,
            locked: r.bool("falocked")?,
            process_mime_recipients: r.bool("faprocessmimerecipients")?,
            process_mime_date: r.bool("faprocessmimedate")?,
            security: Security::from_code(r.int("faconnectionsecurity")?),
            use_antispam: r.bool("fauseantispam")?,
            use_antivirus: r.bool("fauseantivirus")?,
            enable_route_recipients: r.bool("faenablerouterecipients")?,
            mime_recipient_headers: r.text("famimerecipientheaders")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("faactive", self.active.into()),
            ("faaccountid", self.account_id.into()),
            ("faaccountname", self.name.clone().into()),
            ("faserveraddress", self.server_address.clone().into()),
            ("faserverport", self.server_port.into()),
            ("faservertype", self.server_type.into()),
            ("fausername", self.username.clone().into()),
            ("fapassword", hm_encrypt(&self.password).into()),
            ("faminutes", self.minutes.into()),
            ("fanexttry", self.next_try.into()),
            ("fadaystokeep", self.days_to_keep.into()),
            ("falocked", self.locked.into()),
            ("faprocessmimerecipients", self.process_mime_recipients.into()),
            ("faprocessmimedate", self.process_mime_date.into()),
            ("faconnectionsecurity", self.security.code().into()),
            ("fauseantispam", self.use_antispam.into()),
            ("fauseantivirus", self.use_antivirus.into()),
            ("faenablerouterecipients", self.enable_route_recipients.into()),
            ("famimerecipientheaders", self.mime_recipient_headers.clone().into()),
        ]
    }
}

const COLUMNS: &str = "faid, faactive, faaccountid, faaccountname, faserveraddress, faserverport, faservertype, \
    fausername, fapassword, faminutes, fanexttry, fadaystokeep, falocked, faprocessmimerecipients, \
    faprocessmimedate, faconnectionsecurity, fauseantispam, fauseantivirus, faenablerouterecipients, \
    famimerecipientheaders";

/// All external accounts, or those of one local account, by name.
pub async fn list(db: &Db, account_id: Option<i64>) -> Result<Vec<FetchAccount>, StoreError> {
    let rows = match account_id {
        Some(a) => {
            let sql =
                format!("SELECT {COLUMNS} FROM hm_fetchaccounts WHERE faaccountid = ? ORDER BY faaccountname, faid");
            db.fetch_all(&sql, &[a.into()]).await?
        }
        None => {
            db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_fetchaccounts ORDER BY faaccountname, faid"), &[]).await?
        }
    };
    rows.iter().map(FetchAccount::from_row).collect()
}

pub async fn get(db: &Db, id: i64) -> Result<Option<FetchAccount>, StoreError> {
    let row =
        db.fetch_optional(&format!("SELECT {COLUMNS} FROM hm_fetchaccounts WHERE faid = ?"), &[id.into()]).await?;
    row.as_ref().map(FetchAccount::from_row).transpose()
}

pub async fn require(db: &Db, id: i64) -> Result<FetchAccount, StoreError> {
    get(db, id).await?.ok_or_else(|| StoreError::NotFound(format!("no external account with id {id}")))
}

/// Adds an external account; the target account must exist.
pub async fn create(db: &Db, fa: &FetchAccount) -> Result<FetchAccount, StoreError> {
    if super::accounts::get(db, fa.account_id).await?.is_none() {
        return Err(StoreError::NotFound(format!("no account with id {}", fa.account_id)));
    }
    let id = super::insert_row(db, "hm_fetchaccounts", "faid", &fa.values()).await?;
    Ok(FetchAccount { id, ..fa.clone() })
}

pub async fn update(db: &Db, fa: &FetchAccount) -> Result<(), StoreError> {
    super::update_row(db, "hm_fetchaccounts", "faid", fa.id, &fa.values()).await?;
    Ok(())
}

/// Removes an external account and its UID rows (no cascades in hMailServer's schema).
pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    db.execute("DELETE FROM hm_fetchaccounts_uids WHERE uidfaid = ?", &[id.into()]).await?;
    db.execute("DELETE FROM hm_fetchaccounts WHERE faid = ?", &[id.into()]).await?;
    Ok(())
}

/// A due row that could not be read (an undecryptable `fapassword`, a NULL where a value is
/// required, ...): skipped, so that it does not stop the other accounts.
#[derive(Debug)]
pub struct Unreadable {
    /// `faid`, when even that could not be read `None`.
    pub id: Option<i64>,
    /// `faminutes` when readable (for rescheduling the row).
    pub minutes: Option<i64>,
    pub error: StoreError,
}

/// The due accounts that could be read and the due rows that could not.
#[derive(Debug, Default)]
pub struct Due {
    pub accounts: Vec<FetchAccount>,
    pub unreadable: Vec<Unreadable>,
}

/// Active, unlocked POP3 accounts whose next download time has come. A row that cannot be read
/// is skipped and logged (see [`due_rows`] to handle them).
pub async fn due(db: &Db, now: NaiveDateTime) -> Result<Vec<FetchAccount>, StoreError> {
    let found = due_rows(db, now).await?;
    for bad in &found.unreadable {
        tracing::warn!("external account {:?} skipped: {}", bad.id, bad.error);
    }
    Ok(found.accounts)
}

/// [`due`], with the rows that could not be read reported instead of logged.
pub async fn due_rows(db: &Db, now: NaiveDateTime) -> Result<Due, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM hm_fetchaccounts WHERE faactive = 1 AND falocked = 0 AND fanexttry <= ? ORDER BY fanexttry, faid"
    );
    let rows = db.fetch_all(&sql, &[now.into()]).await?;
    let mut found = Due::default();
    for r in &rows {
        match FetchAccount::from_row(r) {
            Ok(fa) => found.accounts.push(fa),
            Err(error) => {
                found.unreadable.push(Unreadable { id: r.int("faid").ok(), minutes: r.int("faminutes").ok(), error })
            }
        }
    }
    Ok(found)
}

/// Moves the next download of an account to `next_try`, leaving its lock alone (for rows that
/// cannot be read, so that they are not retried at every poll).
pub async fn postpone(db: &Db, id: i64, next_try: NaiveDateTime) -> Result<(), StoreError> {
    db.execute("UPDATE hm_fetchaccounts SET fanexttry = ? WHERE faid = ?", &[next_try.into(), id.into()]).await?;
    Ok(())
}

/// Claims an account for one download: true when this caller set `falocked` (atomically; a
/// second caller gets false).
pub async fn try_lock(db: &Db, id: i64) -> Result<bool, StoreError> {
    let n =
        db.execute("UPDATE hm_fetchaccounts SET falocked = 1 WHERE faid = ? AND falocked = 0", &[id.into()]).await?;
    Ok(n == 1)
}

/// [`try_lock`], only while the account is still active and due at `now`: a list of due
/// accounts can be stale by the time its last entry is locked (another worker may have
/// downloaded and rescheduled it meanwhile).
pub async fn try_lock_due(db: &Db, id: i64, now: NaiveDateTime) -> Result<bool, StoreError> {
    let n = db
        .execute(
            "UPDATE hm_fetchaccounts SET falocked = 1 WHERE faid = ? AND falocked = 0 AND faactive = 1 AND fanexttry <= ?",
            &[id.into(), now.into()],
        )
        .await?;
    Ok(n == 1)
}

/// Ends a download: unlocks the account and schedules the next one.
pub async fn finish(db: &Db, id: i64, next_try: NaiveDateTime) -> Result<(), StoreError> {
    db.execute("UPDATE hm_fetchaccounts SET falocked = 0, fanexttry = ? WHERE faid = ?", &[next_try.into(), id.into()])
        .await?;
    Ok(())
}

/// Makes an account due now (for "download now").
pub async fn schedule_now(db: &Db, id: i64, now: NaiveDateTime) -> Result<(), StoreError> {
    db.execute("UPDATE hm_fetchaccounts SET fanexttry = ? WHERE faid = ?", &[now.into(), id.into()]).await?;
    Ok(())
}

/// Clears every lock; run at start-up, when no download can be running.
pub async fn unlock_all(db: &Db) -> Result<u64, StoreError> {
    db.execute("UPDATE hm_fetchaccounts SET falocked = 0 WHERE falocked <> 0", &[]).await
}

/// One downloaded message: its remote UIDL and when it was first downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uid {
    pub id: i64,
    pub fetch_account_id: i64,
    pub value: String,
    pub time: NaiveDateTime,
}

/// The UIDLs already downloaded for an external account.
pub async fn uids(db: &Db, fetch_account_id: i64) -> Result<Vec<Uid>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT uidid, uidfaid, uidvalue, uidtime FROM hm_fetchaccounts_uids WHERE uidfaid = ? ORDER BY uidid",
            &[fetch_account_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Uid {
                id: r.int("uidid")?,
                fetch_account_id: r.int("uidfaid")?,
                value: r.text("uidvalue")?,
                time: r.time("uidtime")?,
            })
        })
        .collect()
}

/// Records a downloaded UIDL.
pub async fn add_uid(db: &Db, fetch_account_id: i64, value: &str, time: NaiveDateTime) -> Result<Uid, StoreError> {
    let values = [("uidfaid", fetch_account_id.into()), ("uidvalue", value.into()), ("uidtime", time.into())];
    let id = super::insert_row(db, "hm_fetchaccounts_uids", "uidid", &values).await?;
    Ok(Uid { id, fetch_account_id, value: value.to_owned(), time })
}

/// Forgets one downloaded UIDL (the message is gone from the server).
pub async fn delete_uid(db: &Db, uid_id: i64) -> Result<(), StoreError> {
    db.execute("DELETE FROM hm_fetchaccounts_uids WHERE uidid = ?", &[uid_id.into()]).await?;
    Ok(())
}
