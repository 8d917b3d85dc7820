//! Domains and domain aliases.

use serde::{Deserialize, Serialize};

use altimail_core::address::{Address, validate_domain};
use altimail_store::Contents;
use altimail_store::repo::domain_aliases::{self, DomainAlias};
use altimail_store::repo::domains::{self, Domain};

use crate::caller::Role;
use crate::rules::{check_not_negative, check_plus_char};
use crate::{Admin, AdminError, Caller, audit};

/// A domain to add.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDomain {
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Changes to a domain; fields left out stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DomainChanges {
    pub active: Option<bool>,
    /// Catch-all address for unknown local users ("" clears it).
    pub catch_all: Option<String>,
    /// Domain size in MB (0 = none).
    pub max_size_mb: Option<i64>,
    /// Largest message senders of the domain may send, in KB (0 = the global limit).
    pub max_message_size_kb: Option<i64>,
    /// Largest quota an account may have, in MB (0 = none).
    pub max_account_size_mb: Option<i64>,
    pub plus_addressing: Option<bool>,
    pub plus_addressing_char: Option<String>,
    /// Limits on the numbers of accounts, aliases and lists (0 = no limit).
    pub max_accounts: Option<i64>,
    pub max_aliases: Option<i64>,
    pub max_lists: Option<i64>,
    pub dkim_selector: Option<String>,
    /// PEM private key file for DKIM signing ("" for none); it must exist.
    pub dkim_private_key_file: Option<String>,
    pub dkim_sign: Option<bool>,
    pub greylisting: Option<bool>,
}

impl DomainChanges {
    /// True when the change touches only what a domain administrator may change (its catch-all
    /// address and plus addressing); the rest (state, sizes, limits, DKIM, greylisting) is the
    /// server administrator's.
    fn for_domain_admin(&self) -> bool {
        let DomainChanges {
            active,
            catch_all: _,
            max_size_mb,
            max_message_size_kb,
            max_account_size_mb,
            plus_addressing: _,
            plus_addressing_char: _,
            max_accounts,
            max_aliases,
            max_lists,
            dkim_selector,
            dkim_private_key_file,
            dkim_sign,
            greylisting,
        } = self;
        active.is_none()
            && max_size_mb.is_none()
            && max_message_size_kb.is_none()
            && max_account_size_mb.is_none()
            && max_accounts.is_none()
            && max_aliases.is_none()
            && max_lists.is_none()
            && dkim_selector.is_none()
            && dkim_private_key_file.is_none()
            && dkim_sign.is_none()
            && greylisting.is_none()
    }
}

/// A domain with the names of its domain aliases.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct DomainView {
    #[serde(flatten)]
    pub domain: Domain,
    pub aliases: Vec<String>,
}

/// What removing a domain took away.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct DomainRemoved {
    pub removed: Domain,
    #[serde(flatten)]
    pub contents: Contents,
    /// The folder in the data directory that went with it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub folder: Option<std::path::PathBuf>,
}

fn bit(options: &mut i64, mask: i64, on: bool) {
    if on { *options |= mask } else { *options &= !mask }
}

impl Admin {
    /// The domains the caller may see: all for a server administrator, its own for a domain
    /// administrator.
    pub async fn list_domains(&self, caller: &Caller) -> Result<Vec<Domain>, AdminError> {
        let all = domains::list(&self.store.db).await?;
        match self.role(caller).await? {
            Role::Server => Ok(all),
            Role::Domain { domain_id, .. } => Ok(all.into_iter().filter(|d| d.id == domain_id).collect()),
            Role::User { .. } => Err(self.refuse(caller, "domain.list", "domains", "a user")),
        }
    }

    /// One domain with its aliases.
    pub async fn get_domain(&self, caller: &Caller, name: &str) -> Result<DomainView, AdminError> {
        self.require_domain(caller, name, "domain.read", name).await?;
        let domain = domains::require(&self.store.db, name).await?;
        let aliases = domain_aliases::list(&self.store.db, domain.id).await?.into_iter().map(|a| a.alias).collect();
        Ok(DomainView { domain, aliases })
    }

    pub async fn create_domain(&self, caller: &Caller, new: &NewDomain) -> Result<Domain, AdminError> {
        self.require_server(caller, "domain.create", &new.name).await?;
        let mut d = Domain::new(new.name.trim());
        d.active = new.active;
        let d = domains::create(&self.store.db, &d).await?;
        audit::change(caller, "domain.create", &d.name);
        Ok(d)
    }

    pub async fn update_domain(&self, caller: &Caller, name: &str, c: &DomainChanges) -> Result<Domain, AdminError> {
        let role = self.require_domain(caller, name, "domain.update", name).await?;
        if !role.is_server() && !c.for_domain_admin() {
            return Err(self.refuse(caller, "domain.update", name, "limits are the server administrator's"));
        }
        let mut d = domains::require(&self.store.db, name).await?;
        if let Some(v) = c.active {
            d.active = v;
        }
        if let Some(v) = &c.catch_all {
            if !v.is_empty() {
                Address::parse(v)?;
            }
            v.clone_into(&mut d.catch_all);
        }
        for (what, value, field) in [
            ("the domain size", c.max_size_mb, &mut d.max_size_mb),
            ("the largest message size", c.max_message_size_kb, &mut d.max_message_size_kb),
            ("the largest account size", c.max_account_size_mb, &mut d.max_account_size_mb),
        ] {
            if let Some(v) = value {
                check_not_negative(what, v)?;
                *field = v;
            }
        }
        if let Some(v) = c.plus_addressing {
            d.plus_addressing = v;
        }
        if let Some(v) = &c.plus_addressing_char {
            check_plus_char(v)?;
            v.clone_into(&mut d.plus_addressing_char);
        }
        for (what, value, field, mask) in [
            ("the account limit", c.max_accounts, &mut d.max_accounts, 1),
            ("the alias limit", c.max_aliases, &mut d.max_aliases, 2),
            ("the list limit", c.max_lists, &mut d.max_lists, 4),
        ] {
            if let Some(v) = value {
                check_not_negative(what, v)?;
                *field = v;
                bit(&mut d.limitations_enabled, mask, v > 0);
            }
        }
        if let Some(v) = &c.dkim_selector {
            v.clone_into(&mut d.dkim_selector);
        }
        if let Some(v) = &c.dkim_private_key_file {
            if !v.is_empty() && !std::path::Path::new(v).is_file() {
                return Err(AdminError::Invalid(format!("{v}: no such file")));
            }
            v.clone_into(&mut d.dkim_private_key_file);
        }
        if let Some(v) = c.dkim_sign {
            bit(&mut d.antispam_options, 2, v);
        }
        if let Some(v) = c.greylisting {
            bit(&mut d.antispam_options, 1, v);
        }
        domains::update(&self.store.db, &d).await?;
        audit::change(caller, "domain.update", &d.name);
        Ok(d)
    }

    /// What a domain holds (accounts, messages, bytes), before removing it.
    pub async fn domain_contents(&self, caller: &Caller, name: &str) -> Result<Contents, AdminError> {
        self.require_domain(caller, name, "domain.read", name).await?;
        let d = domains::require(&self.store.db, name).await?;
        Ok(self.store.domain_contents(&d).await?)
    }

    /// Removes a domain with its accounts (and their mail and folders), aliases, lists and
    /// domain aliases. A domain with accounts is removed only when `force` is set.
    pub async fn delete_domain(&self, caller: &Caller, name: &str, force: bool) -> Result<DomainRemoved, AdminError> {
        self.require_server(caller, "domain.delete", name).await?;
        let d = domains::require(&self.store.db, name).await?;
        let contents = self.store.domain_contents(&d).await?;
        if contents.accounts > 0 && !force {
            return Err(AdminError::NotEmpty(format!(
                "domain {} has {} account(s) with {} message(s), {} bytes; nothing removed",
                d.name, contents.accounts, contents.messages, contents.bytes
            )));
        }
        let folder = self.store.files.domain_dir(&d.name);
        self.store.delete_domain(&d).await?;
        audit::change(caller, "domain.delete", &d.name);
        Ok(DomainRemoved { removed: d, contents, folder })
    }

    pub async fn list_domain_aliases(&self, caller: &Caller, domain: &str) -> Result<Vec<DomainAlias>, AdminError> {
        self.require_domain(caller, domain, "domain_alias.list", domain).await?;
        let d = domains::require(&self.store.db, domain).await?;
        Ok(domain_aliases::list(&self.store.db, d.id).await?)
    }

    /// Makes `alias` another name of `domain`.
    pub async fn add_domain_alias(
        &self,
        caller: &Caller,
        domain: &str,
        alias: &str,
    ) -> Result<DomainAlias, AdminError> {
        self.require_server(caller, "domain_alias.create", alias).await?;
        validate_domain(alias.trim())?;
        let d = domains::require(&self.store.db, domain).await?;
        let a = domain_aliases::create(&self.store.db, d.id, alias.trim()).await?;
        audit::change(caller, "domain_alias.create", &format!("{} -> {}", a.alias, d.name));
        Ok(a)
    }

    pub async fn remove_domain_alias(&self, caller: &Caller, alias: &str) -> Result<DomainAlias, AdminError> {
        self.require_server(caller, "domain_alias.delete", alias).await?;
        let Some(a) = domain_aliases::find(&self.store.db, alias).await? else {
            return Err(AdminError::NotFound(format!("no domain alias {alias}")));
        };
        domain_aliases::delete(&self.store.db, a.id).await?;
        audit::change(caller, "domain_alias.delete", &a.alias);
        Ok(a)
    }
}
