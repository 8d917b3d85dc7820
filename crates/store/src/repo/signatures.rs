//! The signature columns of `hm_domains` and `hm_accounts`, read for mail from a local sender.

use crate::StoreError;
use crate::db::Db;

/// A domain's signature settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainSignature {
    pub enabled: bool,
    /// hMailServer's `domainsignaturemethod`: 1 set if the account has none, 2 overwrite the
    /// account's, 3 append to the account's.
    pub method: i64,
    pub plain: String,
    pub html: String,
    pub add_to_replies: bool,
    pub add_to_local: bool,
}

/// An account's signature and the names its macros use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSignature {
    pub address: String,
    pub enabled: bool,
    pub plain: String,
    pub html: String,
    pub first_name: String,
    pub last_name: String,
}

/// The signature settings of the domain named `domain` (without case), or `None`.
pub async fn domain(db: &Db, domain: &str) -> Result<Option<DomainSignature>, StoreError> {
    let sql = format!(
        "SELECT domainenablesignature, domainsignaturemethod, domainsignatureplaintext, domainsignaturehtml, \
         domainaddsignaturestoreplies, domainaddsignaturestolocalemail FROM hm_domains WHERE {}",
        db.dialect().ci_eq("domainname")
    );
    let Some(d) = db.fetch_optional(&sql, &[domain.into()]).await? else { return Ok(None) };
    Ok(Some(DomainSignature {
        enabled: d.bool("domainenablesignature")?,
        method: d.int("domainsignaturemethod")?,
        plain: d.text("domainsignatureplaintext")?,
        html: d.text("domainsignaturehtml")?,
        add_to_replies: d.bool("domainaddsignaturestoreplies")?,
        add_to_local: d.bool("domainaddsignaturestolocalemail")?,
    }))
}

/// The signature of the account `address` (without case), or `None`.
pub async fn account(db: &Db, address: &str) -> Result<Option<AccountSignature>, StoreError> {
    let sql = format!(
        "SELECT accountaddress, accountenablesignature, accountsignatureplaintext, accountsignaturehtml, \
         accountpersonfirstname, accountpersonlastname FROM hm_accounts WHERE {}",
        db.dialect().ci_eq("accountaddress")
    );
    let Some(a) = db.fetch_optional(&sql, &[address.into()]).await? else { return Ok(None) };
    Ok(Some(AccountSignature {
        address: a.text("accountaddress")?,
        enabled: a.bool("accountenablesignature")?,
        plain: a.text("accountsignatureplaintext")?,
        html: a.text("accountsignaturehtml")?,
        first_name: a.text("accountpersonfirstname")?,
        last_name: a.text("accountpersonlastname")?,
    }))
}

/// Sets the signature of the account with id `account_id`.
pub async fn set_account(db: &Db, account_id: i64, enabled: bool, plain: &str, html: &str) -> Result<(), StoreError> {
    db.execute(
        "UPDATE hm_accounts SET accountenablesignature = ?, accountsignatureplaintext = ?, accountsignaturehtml = ? \
         WHERE accountid = ?",
        &[enabled.into(), plain.into(), html.into(), account_id.into()],
    )
    .await?;
    Ok(())
}
