//! Accounts: mailbox, password, quota, admin level, auto-reply, forwarding, signature.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use altimail_core::address::Address;
use altimail_store::Contents;
use altimail_store::repo::accounts::{self, Account};
use altimail_store::repo::{domains, signatures};

use crate::caller::Role;
use crate::rules::{self, Limit, MAX_ADDRESS, MAX_NAME, MAX_VACATION_SUBJECT, check_length};
use crate::{Admin, AdminError, Caller, audit, domain_of};

/// An account to add.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub address: String,
    /// The password; none for an account nobody can log on to until one is set.
    #[serde(default)]
    pub password: Option<String>,
    /// Quota in MB (0 = unlimited, where the domain allows it).
    #[serde(default)]
    pub quota_mb: i64,
    #[serde(default = "yes")]
    pub active: bool,
    /// 0 user, 1 domain administrator, 2 server administrator.
    #[serde(default)]
    pub admin_level: i64,
}

fn yes() -> bool {
    true
}

/// Changes to an account; fields left out stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountChanges {
    pub password: Option<String>,
    pub active: Option<bool>,
    pub quota_mb: Option<i64>,
    pub admin_level: Option<i64>,
    /// Forward mail to this address; "" turns forwarding off.
    pub forward_address: Option<String>,
    pub forward_keep_original: Option<bool>,
    pub vacation_on: Option<bool>,
    pub vacation_subject: Option<String>,
    pub vacation_message: Option<String>,
    /// Turn the auto-reply off after this day; `null` inside `Some` means never.
    #[serde(default, with = "double_option")]
    pub vacation_until: Option<Option<NaiveDate>>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub signature_enabled: Option<bool>,
    pub signature_plain: Option<String>,
    pub signature_html: Option<String>,
}

impl AccountChanges {
    /// True when the change touches what only an administrator may change: state, quota, level.
    fn needs_administrator(&self) -> bool {
        self.active.is_some() || self.quota_mb.is_some() || self.admin_level.is_some()
    }

    fn touches_signature(&self) -> bool {
        self.signature_enabled.is_some() || self.signature_plain.is_some() || self.signature_html.is_some()
    }
}

/// `Option<Option<T>>` from JSON: a missing field is `None`, `null` is `Some(None)`.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<T: Serialize, S: Serializer>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub(super) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// An account's signature.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Signature {
    pub enabled: bool,
    pub plain: String,
    pub html: String,
}

/// What removing an account took away.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct AccountRemoved {
    pub removed: Account,
    #[serde(flatten)]
    pub contents: Contents,
    /// Its folder in the data directory.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub folder: Option<std::path::PathBuf>,
}

impl Admin {
    /// The accounts the caller may see, of one domain or of all.
    pub async fn list_accounts(&self, caller: &Caller, domain: Option<&str>) -> Result<Vec<Account>, AdminError> {
        let role = self.role(caller).await?;
        let domain_id = match domain {
            Some(d) => {
                self.require_domain(caller, d, "account.list", d).await?;
                Some(domains::require(&self.store.db, d).await?.id)
            }
            None => match role {
                Role::Server => None,
                Role::Domain { domain_id, .. } => Some(domain_id),
                Role::User { .. } => return Err(self.refuse(caller, "account.list", "accounts", "a user")),
            },
        };
        Ok(accounts::list(&self.store.db, domain_id).await?)
    }

    /// One account: a server administrator any, a domain administrator its domain's, a user
    /// only itself.
    pub async fn get_account(&self, caller: &Caller, address: &str) -> Result<Account, AdminError> {
        self.account_for(caller, address, "account.read").await.map(|(a, _)| a)
    }

    pub async fn account_signature(&self, caller: &Caller, address: &str) -> Result<Signature, AdminError> {
        let (a, _) = self.account_for(caller, address, "account.read").await?;
        let s = signatures::account(&self.store.db, &a.address).await?.unwrap_or_default();
        Ok(Signature { enabled: s.enabled, plain: s.plain, html: s.html })
    }

    /// The account `address` when the caller may work on it, with the caller's role.
    async fn account_for(&self, caller: &Caller, address: &str, action: &str) -> Result<(Account, Role), AdminError> {
        let role = self.role(caller).await?;
        let allowed = |a: &Account| match &role {
            Role::Server => true,
            // A domain administrator does not manage the server administrators of its domain.
            Role::Domain { domain_id, .. } => a.domain_id == *domain_id && a.admin_level < 2,
            Role::User { account_id } => a.id == *account_id,
        };
        if let Role::Domain { domain, .. } = &role
            && !domain_of(address).eq_ignore_ascii_case(domain)
        {
            return Err(self.refuse(caller, action, address, "outside the caller's domain"));
        }
        match accounts::find(&self.store.db, address).await? {
            Some(a) if allowed(&a) => Ok((a, role)),
            Some(_) => Err(self.refuse(caller, action, address, "outside the caller's rights")),
            None if role.is_server() || matches!(role, Role::Domain { .. }) => {
                Err(AdminError::NotFound(format!("no account {address}")))
            }
            None => Err(self.refuse(caller, action, address, "outside the caller's rights")),
        }
    }

    /// The quotas of the domain's accounts other than `except`, added up (MB).
    async fn allocated_mb(&self, domain_id: i64, except: i64) -> Result<i64, AdminError> {
        let all = accounts::list(&self.store.db, Some(domain_id)).await?;
        Ok(all.iter().filter(|a| a.id != except).fold(0i64, |sum, a| sum.saturating_add(a.max_size_mb)))
    }

    /// Checks an account to add as [`Admin::create_account`] does, without adding it.
    pub async fn check_new_account(&self, caller: &Caller, new: &NewAccount) -> Result<(), AdminError> {
        self.prepare_account(caller, new).await.map(|_| ())
    }

    pub async fn create_account(&self, caller: &Caller, new: &NewAccount) -> Result<Account, AdminError> {
        let mut a = self.prepare_account(caller, new).await?;
        if let Some(p) = &new.password {
            a.set_password(self.store.password_scheme().await?, p);
        }
        let a = accounts::create(&self.store.db, &a).await?;
        audit::change(caller, "account.create", &a.address);
        Ok(a)
    }

    /// The account `new` describes, once every rule and right is checked (without password).
    async fn prepare_account(&self, caller: &Caller, new: &NewAccount) -> Result<Account, AdminError> {
        let domain_name = domain_of(&new.address).to_owned();
        let role = self.require_domain(caller, &domain_name, "account.create", &new.address).await?;
        rules::check_admin_level(new.admin_level)?;
        if new.admin_level == 2 && !role.is_server() {
            return Err(self.refuse(caller, "account.create", &new.address, "admin level 2"));
        }
        let addr = Address::parse(&new.address)?;
        let domain = domains::find(&self.store.db, addr.domain())
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("no domain {}", addr.domain())))?;
        let addr = rules::address_in(addr.as_str(), &domain)?;
        if let Some(owner) = altimail_store::repo::address_owner(&self.store.db, addr.as_str()).await? {
            return Err(AdminError::Conflict(format!("{addr} already exists as a {owner}")));
        }
        let existing = accounts::list(&self.store.db, Some(domain.id)).await?;
        rules::check_room(&domain, Limit::Accounts, existing.len())?;
        let allocated = existing.iter().fold(0i64, |sum, a| sum.saturating_add(a.max_size_mb));
        rules::check_quota(&domain, new.quota_mb, allocated)?;
        if new.password.as_deref() == Some("") {
            return Err(AdminError::Invalid("the password is empty".into()));
        }
        let mut a = Account::new(domain.id, addr.as_str());
        a.max_size_mb = new.quota_mb;
        a.active = new.active;
        a.admin_level = new.admin_level;
        Ok(a)
    }

    pub async fn update_account(
        &self,
        caller: &Caller,
        address: &str,
        c: &AccountChanges,
    ) -> Result<Account, AdminError> {
        let (mut a, role) = self.account_for(caller, address, "account.update").await?;
        if matches!(role, Role::User { .. }) && c.needs_administrator() {
            return Err(self.refuse(
                caller,
                "account.update",
                address,
                "state, quota and level are the administrator's",
            ));
        }
        if let Some(p) = &c.password {
            if p.is_empty() {
                return Err(AdminError::Invalid("the password is empty".into()));
            }
            a.set_password(self.store.password_scheme().await?, p);
        }
        if let Some(v) = c.active {
            a.active = v;
        }
        if let Some(q) = c.quota_mb {
            let domain = domains::get(&self.store.db, a.domain_id)
                .await?
                .ok_or_else(|| AdminError::NotFound(format!("no domain with id {}", a.domain_id)))?;
            rules::check_quota(&domain, q, self.allocated_mb(domain.id, a.id).await?)?;
            a.max_size_mb = q;
        }
        if let Some(v) = c.admin_level {
            rules::check_admin_level(v)?;
            if v == 2 && !role.is_server() {
                return Err(self.refuse(caller, "account.update", address, "admin level 2"));
            }
            a.admin_level = v;
        }
        if let Some(f) = &c.forward_address {
            if f.is_empty() {
                a.forward_on = false;
            } else {
                let target = Address::parse(f)?;
                check_length("the forwarding address", target.as_str(), MAX_ADDRESS)?;
                if target.as_str().eq_ignore_ascii_case(&a.address) {
                    return Err(AdminError::Invalid("an account cannot forward to itself".into()));
                }
                a.forward_address = target.to_string();
                a.forward_on = true;
            }
        }
        if let Some(v) = c.forward_keep_original {
            a.forward_keep_original = v;
        }
        if let Some(v) = c.vacation_on {
            a.vacation_on = v;
        }
        if let Some(v) = &c.vacation_subject {
            check_length("the auto-reply subject", v, MAX_VACATION_SUBJECT)?;
            v.clone_into(&mut a.vacation_subject);
        }
        if let Some(v) = &c.vacation_message {
            v.clone_into(&mut a.vacation_message);
        }
        match c.vacation_until {
            None => {}
            Some(None) => a.vacation_expires = false,
            Some(Some(day)) => {
                a.vacation_expires = true;
                a.vacation_expire_date = day.and_time(chrono::NaiveTime::MIN);
            }
        }
        if let Some(v) = &c.first_name {
            check_length("the first name", v, MAX_NAME)?;
            v.clone_into(&mut a.first_name);
        }
        if let Some(v) = &c.last_name {
            check_length("the last name", v, MAX_NAME)?;
            v.clone_into(&mut a.last_name);
        }
        accounts::update(&self.store.db, &a).await?;
        if c.touches_signature() {
            let s = signatures::account(&self.store.db, &a.address).await?.unwrap_or_default();
            signatures::set_account(
                &self.store.db,
                a.id,
                c.signature_enabled.unwrap_or(s.enabled),
                c.signature_plain.as_deref().unwrap_or(&s.plain),
                c.signature_html.as_deref().unwrap_or(&s.html),
            )
            .await?;
        }
        audit::change(caller, "account.update", &a.address);
        Ok(a)
    }

    /// What an account holds, before removing it.
    pub async fn account_contents(&self, caller: &Caller, address: &str) -> Result<Contents, AdminError> {
        let (a, _) = self.account_for(caller, address, "account.read").await?;
        Ok(self.store.account_contents(&a).await?)
    }

    /// Removes an account with its folders, mail and folder in the data directory; one that
    /// holds messages only when `force` is set. Users cannot remove themselves.
    pub async fn delete_account(
        &self,
        caller: &Caller,
        address: &str,
        force: bool,
    ) -> Result<AccountRemoved, AdminError> {
        let (a, role) = self.account_for(caller, address, "account.delete").await?;
        if matches!(role, Role::User { .. }) {
            return Err(self.refuse(caller, "account.delete", address, "a user"));
        }
        let contents = self.store.account_contents(&a).await?;
        if contents.messages > 0 && !force {
            return Err(AdminError::NotEmpty(format!(
                "account {} holds {} message(s), {} bytes; nothing removed",
                a.address, contents.messages, contents.bytes
            )));
        }
        let folder = self.store.files.account_dir(&a.address);
        self.store.delete_account(&a).await?;
        audit::change(caller, "account.delete", &a.address);
        Ok(AccountRemoved { removed: a, contents, folder: Some(folder) })
    }

    /// Whether `password` is the account's.
    pub async fn check_password(&self, caller: &Caller, address: &str, password: &str) -> Result<bool, AdminError> {
        let (a, _) = self.account_for(caller, address, "account.read").await?;
        Ok(crate::logon::verify_blocking(a.password_scheme, a.password, password.to_owned()).await)
    }
}
