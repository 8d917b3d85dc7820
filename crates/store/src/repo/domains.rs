//! `hm_domains`: the domains this server receives mail for.

use serde::Serialize;

use crate::StoreError;
use crate::db::{Db, Row, Value};

/// A local domain.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Domain {
    pub id: i64,
    pub name: String,
    pub active: bool,
    /// Catch-all address: mail to unknown local users goes here (hMailServer's "postmaster").
    pub catch_all: String,
    /// Domain quota in MB (0 = none).
    pub max_size_mb: i64,
    /// Largest message in KB senders of this domain may send (0 = global limit only).
    pub max_message_size_kb: i64,
    pub plus_addressing: bool,
    pub plus_addressing_char: String,
    /// Bits: 1 greylisting, 2 DKIM sign, 4/8 simple header/body canonicalisation, 16 SHA-1.
    pub antispam_options: i64,
    pub dkim_selector: String,
    pub dkim_private_key_file: String,
    pub max_accounts: i64,
    pub max_aliases: i64,
    pub max_lists: i64,
    /// Bits: 1 account limit, 2 alias limit, 4 list limit are enforced.
    pub limitations_enabled: i64,
    /// Largest quota (MB) an account of this domain may have (0 = none).
    pub max_account_size_mb: i64,
}

const COLUMNS: &str = "domainid, domainname, domainactive, domainpostmaster, domainmaxsize, domainmaxmessagesize, \
    domainuseplusaddressing, domainplusaddressingchar, domainantispamoptions, domaindkimselector, \
    domaindkimprivatekeyfile, domainmaxnoofaccounts, domainmaxnoofaliases, domainmaxnoofdistributionlists, \
    domainlimitationsenabled, domainmaxaccountsize";

impl Domain {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Domain {
            id: r.int("domainid")?,
            name: r.text("domainname")?,
            active: r.bool("domainactive")?,
            catch_all: r.text("domainpostmaster")?,
            max_size_mb: r.int("domainmaxsize")?,
            max_message_size_kb: r.int("domainmaxmessagesize")?,
            plus_addressing: r.bool("domainuseplusaddressing")?,
            plus_addressing_char: r.text("domainplusaddressingchar")?,
            antispam_options: r.int("domainantispamoptions")?,
            dkim_selector: r.text("domaindkimselector")?,
            dkim_private_key_file: r.text("domaindkimprivatekeyfile")?,
            max_accounts: r.int("domainmaxnoofaccounts")?,
            max_aliases: r.int("domainmaxnoofaliases")?,
            max_lists: r.int("domainmaxnoofdistributionlists")?,
            limitations_enabled: r.int("domainlimitationsenabled")?,
            max_account_size_mb: r.int("domainmaxaccountsize")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("domainname", self.name.clone().into()),
            ("domainactive", self.active.into()),
            ("domainpostmaster", self.catch_all.clone().into()),
            ("domainmaxsize", self.max_size_mb.into()),
            ("domainmaxmessagesize", self.max_message_size_kb.into()),
            ("domainuseplusaddressing", self.plus_addressing.into()),
            ("domainplusaddressingchar", self.plus_addressing_char.clone().into()),
            ("domainantispamoptions", self.antispam_options.into()),
            ("domaindkimselector", self.dkim_selector.clone().into()),
            ("domaindkimprivatekeyfile", self.dkim_private_key_file.clone().into()),
            ("domainmaxnoofaccounts", self.max_accounts.into()),
            ("domainmaxnoofaliases", self.max_aliases.into()),
            ("domainmaxnoofdistributionlists", self.max_lists.into()),
            ("domainlimitationsenabled", self.limitations_enabled.into()),
            ("domainmaxaccountsize", self.max_account_size_mb.into()),
        ]
    }

    /// A new, active domain with hMailServer's defaults.
    pub fn new(name: &str) -> Self {
        Domain {
            id: 0,
            name: name.to_owned(),
            active: true,
            catch_all: String::new(),
            max_size_mb: 0,
            max_message_size_kb: 0,
            plus_addressing: false,
            plus_addressing_char: "+".into(),
            antispam_options: 0,
            dkim_selector: String::new(),
            dkim_private_key_file: String::new(),
            max_accounts: 0,
            max_aliases: 0,
            max_lists: 0,
            limitations_enabled: 0,
            max_account_size_mb: 0,
        }
    }
}

pub async fn list(db: &Db) -> Result<Vec<Domain>, StoreError> {
    let rows = db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_domains ORDER BY domainname"), &[]).await?;
    rows.iter().map(Domain::from_row).collect()
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Domain>, StoreError> {
    let row = db.fetch_optional(&format!("SELECT {COLUMNS} FROM hm_domains WHERE domainid = ?"), &[id.into()]).await?;
    row.as_ref().map(Domain::from_row).transpose()
}

/// Looks a domain up by name, case-insensitively.
pub async fn find(db: &Db, name: &str) -> Result<Option<Domain>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM hm_domains WHERE {}", db.dialect().ci_eq("domainname"));
    let row = db.fetch_optional(&sql, &[name.into()]).await?;
    row.as_ref().map(Domain::from_row).transpose()
}

/// The local domain a domain name stands for, and whether the name is one of its aliases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedDomain {
    pub domain: Domain,
    /// The name is a domain alias of [`NamedDomain::domain`], not the domain's own name.
    pub via_alias: bool,
}

/// What a domain name in an address stands for, in one indexed query: the domain a domain alias
/// of that name points to (hMailServer applies domain aliases before anything else), else the
/// domain of that name. Of several aliases of that name the first added counts, as hMailServer
/// scans them; when its domain is gone the name stands for itself.
pub async fn find_by_name_or_alias(db: &Db, name: &str) -> Result<Option<NamedDomain>, StoreError> {
    let d = db.dialect();
    let sql = format!(
        "SELECT 1 AS viaalias, {COLUMNS} FROM hm_domains WHERE domainid = \
         (SELECT dadomainid FROM hm_domain_aliases WHERE daid = (SELECT MIN(daid) FROM hm_domain_aliases WHERE {})) \
         UNION ALL SELECT 0 AS viaalias, {COLUMNS} FROM hm_domains WHERE {} \
         ORDER BY viaalias DESC",
        d.ci_eq("daalias"),
        d.ci_eq("domainname"),
    );
    let row = db.fetch_optional(&sql, &[name.into(), name.into()]).await?;
    row.map(|r| Ok(NamedDomain { domain: Domain::from_row(&r)?, via_alias: r.int("viaalias")? != 0 })).transpose()
}

/// Like [`find`], but an unknown domain is an error.
pub async fn require(db: &Db, name: &str) -> Result<Domain, StoreError> {
    find(db, name).await?.ok_or_else(|| StoreError::NotFound(format!("no domain {name}")))
}

/// Adds a domain; refuses a name already used by a domain or a domain alias.
pub async fn create(db: &Db, domain: &Domain) -> Result<Domain, StoreError> {
    altimail_core::address::validate_domain(&domain.name).map_err(|e| StoreError::Invalid(e.to_string()))?;
    if find(db, &domain.name).await?.is_some() {
        return Err(StoreError::Conflict(format!("domain {} already exists", domain.name)));
    }
    if super::domain_aliases::find(db, &domain.name).await?.is_some() {
        return Err(StoreError::Conflict(format!("{} already exists as a domain alias", domain.name)));
    }
    let mut values = domain.values();
    // Columns hMailServer requires that we do not model yet.
    values.extend([
        ("domainaddomain", "".into()),
        ("domainenablesignature", 0.into()),
        ("domainsignaturemethod", 1.into()),
        ("domainsignatureplaintext", "".into()),
        ("domainsignaturehtml", "".into()),
        ("domainaddsignaturestoreplies", 0.into()),
        ("domainaddsignaturestolocalemail", 0.into()),
    ]);
    let id = super::insert_row(db, "hm_domains", "domainid", &values).await?;
    Ok(Domain { id, ..domain.clone() })
}

/// Saves every modelled field of `domain`. Renaming is refused (addresses would need rewriting).
pub async fn update(db: &Db, domain: &Domain) -> Result<(), StoreError> {
    let current = get(db, domain.id).await?.ok_or_else(|| StoreError::NotFound(format!("no domain {}", domain.id)))?;
    if !current.name.eq_ignore_ascii_case(&domain.name) {
        return Err(StoreError::Invalid("a domain cannot be renamed".into()));
    }
    super::update_row(db, "hm_domains", "domainid", domain.id, &domain.values()).await?;
    Ok(())
}

/// Removes a domain with everything in it: accounts (and their folders, messages and files are
/// the caller's to remove through [`super::accounts::delete`]), aliases, lists and domain aliases.
pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for sql in [
        "DELETE FROM hm_aliases WHERE aliasdomainid = ?",
        "DELETE FROM hm_distributionlistsrecipients WHERE distributionlistrecipientlistid IN \
         (SELECT distributionlistid FROM hm_distributionlists WHERE distributionlistdomainid = ?)",
        "DELETE FROM hm_distributionlists WHERE distributionlistdomainid = ?",
        "DELETE FROM hm_domain_aliases WHERE dadomainid = ?",
        "DELETE FROM hm_domains WHERE domainid = ?",
    ] {
        tx.execute(sql, &[id.into()]).await?;
    }
    tx.commit().await
}
