//! Aliases: an address of a domain whose mail goes to another address.

use serde::{Deserialize, Serialize};

use altimail_core::address::Address;
use altimail_store::repo::aliases::{self, Alias};
use altimail_store::repo::domains;

use crate::caller::Role;
use crate::rules::{self, Limit, MAX_ADDRESS, check_length};
use crate::{Admin, AdminError, Caller, audit, domain_of};

/// An alias to add.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAlias {
    /// The alias address (its domain must exist).
    pub name: String,
    /// Where its mail goes: a local or remote address.
    pub target: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Changes to an alias; fields left out stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AliasChanges {
    pub target: Option<String>,
    pub active: Option<bool>,
}

/// A target address: valid, and not the alias itself.
fn target(name: &str, target: &str) -> Result<String, AdminError> {
    let t = Address::parse(target)?;
    check_length("the target", t.as_str(), MAX_ADDRESS)?;
    if t.as_str().eq_ignore_ascii_case(name) {
        return Err(AdminError::Invalid("an alias cannot point to itself".into()));
    }
    Ok(t.to_string())
}

impl Admin {
    pub async fn list_aliases(&self, caller: &Caller, domain: Option<&str>) -> Result<Vec<Alias>, AdminError> {
        let domain_id = self.listing_scope(caller, domain, "alias.list").await?;
        Ok(aliases::list(&self.store.db, domain_id).await?)
    }

    /// The domain id a listing is limited to: the one asked for (when the caller may see it),
    /// else the domain administrator's own, else none for a server administrator.
    pub(crate) async fn listing_scope(
        &self,
        caller: &Caller,
        domain: Option<&str>,
        action: &str,
    ) -> Result<Option<i64>, AdminError> {
        match domain {
            Some(d) => {
                self.require_domain(caller, d, action, d).await?;
                Ok(Some(domains::require(&self.store.db, d).await?.id))
            }
            None => match self.role(caller).await? {
                Role::Server => Ok(None),
                Role::Domain { domain_id, .. } => Ok(Some(domain_id)),
                Role::User { .. } => Err(self.refuse(caller, action, "everything", "a user")),
            },
        }
    }

    pub async fn get_alias(&self, caller: &Caller, name: &str) -> Result<Alias, AdminError> {
        self.require_domain(caller, domain_of(name), "alias.read", name).await?;
        Ok(aliases::require(&self.store.db, name).await?)
    }

    pub async fn create_alias(&self, caller: &Caller, new: &NewAlias) -> Result<Alias, AdminError> {
        self.require_domain(caller, domain_of(&new.name), "alias.create", &new.name).await?;
        let addr = Address::parse(&new.name)?;
        let value = target(addr.as_str(), &new.target)?;
        let domain = domains::find(&self.store.db, addr.domain())
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("no domain {}", addr.domain())))?;
        let addr = rules::address_in(addr.as_str(), &domain)?;
        rules::check_room(&domain, Limit::Aliases, aliases::list(&self.store.db, Some(domain.id)).await?.len())?;
        let alias = Alias { id: 0, domain_id: domain.id, name: addr.to_string(), value, active: new.active };
        let alias = aliases::create(&self.store.db, &alias).await?;
        audit::change(caller, "alias.create", &alias.name);
        Ok(alias)
    }

    pub async fn update_alias(&self, caller: &Caller, name: &str, c: &AliasChanges) -> Result<Alias, AdminError> {
        let mut a = self.get_alias(caller, name).await?;
        if let Some(t) = &c.target {
            a.value = target(&a.name, t)?;
        }
        if let Some(v) = c.active {
            a.active = v;
        }
        aliases::update(&self.store.db, &a).await?;
        audit::change(caller, "alias.update", &a.name);
        Ok(a)
    }

    pub async fn delete_alias(&self, caller: &Caller, name: &str) -> Result<Alias, AdminError> {
        self.require_domain(caller, domain_of(name), "alias.delete", name).await?;
        let a = aliases::require(&self.store.db, name).await?;
        aliases::delete(&self.store.db, a.id).await?;
        audit::change(caller, "alias.delete", &a.name);
        Ok(a)
    }
}
