//! `hm_accounts`: mailboxes that can log on and receive mail.

use chrono::NaiveDateTime;
use serde::Serialize;

use altimail_core::password::{self, PasswordScheme};

use crate::StoreError;
use crate::db::{Db, Row, Value, never};

/// A mailbox account. The password hash is kept out of serialised output.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    pub domain_id: i64,
    pub address: String,
    pub active: bool,
    /// 0 user, 1 domain administrator, 2 server administrator.
    pub admin_level: i64,
    /// Quota in MB (0 = unlimited).
    pub max_size_mb: i64,
    #[serde(skip)]
    pub password: String,
    /// `accountpwencryption`: 0 plain, 1 Blowfish, 2 MD5, 3 salted SHA-256, 10 Argon2id.
    pub password_scheme: i64,
    pub vacation_on: bool,
    pub vacation_subject: String,
    pub vacation_message: String,
    pub vacation_expires: bool,
    /// Server local time, `YYYY-MM-DDTHH:MM:SS` (no offset).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub vacation_expire_date: NaiveDateTime,
    pub forward_on: bool,
    pub forward_address: String,
    pub forward_keep_original: bool,
    pub first_name: String,
    pub last_name: String,
    /// Server local time, `YYYY-MM-DDTHH:MM:SS` (no offset).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub last_logon: NaiveDateTime,
}

const COLUMNS: &str = "accountid, accountdomainid, accountaddress, accountactive, accountadminlevel, accountmaxsize, \
    accountpassword, accountpwencryption, accountvacationmessageon, accountvacationsubject, accountvacationmessage, \
    accountvacationexpires, accountvacationexpiredate, accountforwardenabled, accountforwardaddress, \
    accountforwardkeeporiginal, accountpersonfirstname, accountpersonlastname, accountlastlogontime";

impl Account {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Account {
            id: r.int("accountid")?,
            domain_id: r.int("accountdomainid")?,
            address: r.text("accountaddress")?,
            active: r.bool("accountactive")?,
            admin_level: r.int("accountadminlevel")?,
            max_size_mb: r.int("accountmaxsize")?,
            password: r.text("accountpassword")?,
            password_scheme: r.int("accountpwencryption")?,
            vacation_on: r.bool("accountvacationmessageon")?,
            vacation_subject: r.text("accountvacationsubject")?,
            vacation_message: r.text("accountvacationmessage")?,
            vacation_expires: r.bool("accountvacationexpires")?,
            vacation_expire_date: r.time("accountvacationexpiredate")?,
            forward_on: r.bool("accountforwardenabled")?,
            forward_address: r.text("accountforwardaddress")?,
            forward_keep_original: r.bool("accountforwardkeeporiginal")?,
            first_name: r.text("accountpersonfirstname")?,
            last_name: r.text("accountpersonlastname")?,
            last_logon: r.time("accountlastlogontime")?,
        })
    }

    /// The columns an update writes (everything modelled but the id, domain and last logon).
    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("accountaddress", self.address.clone().into()),
            ("accountactive", self.active.into()),
            ("accountadminlevel", self.admin_level.into()),
            ("accountmaxsize", self.max_size_mb.into()),
            ("accountpassword", self.password.clone().into()),
            ("accountpwencryption", self.password_scheme.into()),
            ("accountvacationmessageon", self.vacation_on.into()),
            ("accountvacationsubject", self.vacation_subject.clone().into()),
            ("accountvacationmessage", self.vacation_message.clone().into()),
            ("accountvacationexpires", self.vacation_expires.into()),
            ("accountvacationexpiredate", self.vacation_expire_date.into()),
            ("accountforwardenabled", self.forward_on.into()),
            ("accountforwardaddress", self.forward_address.clone().into()),
            ("accountforwardkeeporiginal", self.forward_keep_original.into()),
            ("accountpersonfirstname", self.first_name.clone().into()),
            ("accountpersonlastname", self.last_name.clone().into()),
        ]
    }

    /// A new active account with hMailServer's defaults and no password yet.
    pub fn new(domain_id: i64, address: &str) -> Self {
        Account {
            id: 0,
            domain_id,
            address: address.to_owned(),
            active: true,
            admin_level: 0,
            max_size_mb: 0,
            password: String::new(),
            password_scheme: PasswordScheme::Argon2id.code(),
            vacation_on: false,
            vacation_subject: String::new(),
            vacation_message: String::new(),
            vacation_expires: false,
            vacation_expire_date: never(),
            forward_on: false,
            forward_address: String::new(),
            forward_keep_original: false,
            first_name: String::new(),
            last_name: String::new(),
            last_logon: never(),
        }
    }

    /// Stores a new password with `scheme`.
    pub fn set_password(&mut self, scheme: PasswordScheme, clear: &str) {
        self.password = password::hash(scheme, clear);
        self.password_scheme = scheme.code();
    }

    /// Checks a password against the stored hash (an empty password never matches).
    pub fn verify_password(&self, clear: &str) -> bool {
        password::verify(self.password_scheme, &self.password, clear)
    }
}

pub async fn list(db: &Db, domain_id: Option<i64>) -> Result<Vec<Account>, StoreError> {
    let rows = match domain_id {
        Some(d) => {
            let sql = format!("SELECT {COLUMNS} FROM hm_accounts WHERE accountdomainid = ? ORDER BY accountaddress");
            db.fetch_all(&sql, &[d.into()]).await?
        }
        None => db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_accounts ORDER BY accountaddress"), &[]).await?,
    };
    rows.iter().map(Account::from_row).collect()
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Account>, StoreError> {
    let row =
        db.fetch_optional(&format!("SELECT {COLUMNS} FROM hm_accounts WHERE accountid = ?"), &[id.into()]).await?;
    row.as_ref().map(Account::from_row).transpose()
}

/// Looks an account up by address, case-insensitively.
pub async fn find(db: &Db, address: &str) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM hm_accounts WHERE {}", db.dialect().ci_eq("accountaddress"));
    let row = db.fetch_optional(&sql, &[address.into()]).await?;
    row.as_ref().map(Account::from_row).transpose()
}

/// Every account's address with what the directory index keeps of it.
pub async fn keys(db: &Db) -> Result<Vec<(String, crate::directory_index::AccountKey)>, StoreError> {
    let rows =
        db.fetch_all("SELECT accountid, accountdomainid, accountaddress, accountactive FROM hm_accounts", &[]).await?;
    rows.iter()
        .map(|r| {
            let key = crate::directory_index::AccountKey {
                id: r.int("accountid")?,
                domain_id: r.int("accountdomainid")?,
                active: r.bool("accountactive")?,
            };
            Ok((r.text("accountaddress")?, key))
        })
        .collect()
}

pub async fn require(db: &Db, address: &str) -> Result<Account, StoreError> {
    find(db, address).await?.ok_or_else(|| StoreError::NotFound(format!("no account {address}")))
}

/// Adds an account (its INBOX too, as hMailServer does). The address must be free and its
/// domain must exist and have room under the domain's account limit.
pub async fn create(db: &Db, account: &Account) -> Result<Account, StoreError> {
    super::ensure_address_free(db, &account.address).await?;
    let domain = super::domains::get(db, account.domain_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no domain with id {}", account.domain_id)))?;
    if domain.limitations_enabled & 1 != 0 {
        let count = super::count_where(db, "hm_accounts", "accountdomainid", domain.id).await?;
        if count >= domain.max_accounts {
            return Err(StoreError::Conflict(format!(
                "domain {} allows at most {} accounts",
                domain.name, domain.max_accounts
            )));
        }
    }
    let mut values = account.values();
    values.extend([
        ("accountdomainid", account.domain_id.into()),
        ("accountisad", 0.into()),
        ("accountaddomain", "".into()),
        ("accountadusername", "".into()),
        ("accountenablesignature", 0.into()),
        ("accountsignatureplaintext", "".into()),
        ("accountsignaturehtml", "".into()),
        ("accountlastlogontime", never().into()),
    ]);
    let id = super::insert_row(db, "hm_accounts", "accountid", &values).await?;
    super::folders::ensure_inbox(db, id).await?;
    Ok(Account { id, ..account.clone() })
}

/// Saves every modelled field. Changing the address is allowed only within the same domain
/// and when the new address is free; the caller moves the mailbox folder on disk.
pub async fn update(db: &Db, account: &Account) -> Result<(), StoreError> {
    let current =
        get(db, account.id).await?.ok_or_else(|| StoreError::NotFound(format!("no account {}", account.id)))?;
    if !current.address.eq_ignore_ascii_case(&account.address) {
        super::ensure_address_free(db, &account.address).await?;
    }
    super::update_row(db, "hm_accounts", "accountid", account.id, &account.values()).await?;
    Ok(())
}

/// Records a successful logon.
pub async fn touch_logon(db: &Db, id: i64, when: NaiveDateTime) -> Result<(), StoreError> {
    db.execute("UPDATE hm_accounts SET accountlastlogontime = ? WHERE accountid = ?", &[when.into(), id.into()])
        .await?;
    Ok(())
}

/// Removes the account's rows: its messages, folders, rules and fetch accounts, then the account.
/// Returns the message file names that were in its mailbox, for the caller to delete.
pub async fn delete(db: &Db, id: i64) -> Result<Vec<String>, StoreError> {
    let files: Vec<String> = db
        .fetch_all(
            "SELECT messagefilename FROM hm_messages WHERE messageaccountid = ? AND messagetype = 2",
            &[id.into()],
        )
        .await?
        .iter()
        .map(|r| r.text("messagefilename"))
        .collect::<Result<_, _>>()?;
    let mut tx = db.begin().await?;
    for sql in [
        "DELETE FROM altimail_keywords WHERE messageid IN \
         (SELECT messageid FROM hm_messages WHERE messageaccountid = ? AND messagetype = 2)",
        "DELETE FROM altimail_vanished WHERE folderid IN (SELECT folderid FROM hm_imapfolders WHERE folderaccountid = ?)",
        "DELETE FROM altimail_special_use WHERE folderid IN \
         (SELECT folderid FROM hm_imapfolders WHERE folderaccountid = ?)",
        "DELETE FROM altimail_subscriptions WHERE accountid = ?",
        "DELETE FROM hm_acl WHERE aclpermissiontype = 0 AND aclpermissionaccountid = ?",
        "DELETE FROM hm_messages WHERE messageaccountid = ? AND messagetype = 2",
        "DELETE FROM hm_imapfolders WHERE folderaccountid = ?",
        "DELETE FROM hm_rule_criterias WHERE criteriaruleid IN (SELECT ruleid FROM hm_rules WHERE ruleaccountid = ?)",
        "DELETE FROM hm_rule_actions WHERE actionruleid IN (SELECT ruleid FROM hm_rules WHERE ruleaccountid = ?)",
        "DELETE FROM hm_rules WHERE ruleaccountid = ?",
        "DELETE FROM hm_fetchaccounts_uids WHERE uidfaid IN (SELECT faid FROM hm_fetchaccounts WHERE faaccountid = ?)",
        "DELETE FROM hm_fetchaccounts WHERE faaccountid = ?",
        "DELETE FROM hm_group_members WHERE memberaccountid = ?",
        "DELETE FROM hm_accounts WHERE accountid = ?",
    ] {
        tx.execute(sql, &[id.into()]).await?;
    }
    tx.commit().await?;
    Ok(files)
}
