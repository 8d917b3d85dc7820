//! Distribution lists and their members.

use serde::{Deserialize, Serialize};

use altimail_core::address::Address;
use altimail_core::codes::ListMode;
use altimail_store::repo::domains;
use altimail_store::repo::lists::{self, List};

use crate::rules::{self, Limit, MAX_ADDRESS, check_length};
use crate::{Admin, AdminError, Caller, audit, domain_of};

/// A distribution list to add.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewList {
    pub address: String,
    /// Who may send to it.
    #[serde(default = "public")]
    pub mode: ListMode,
    /// Senders must authenticate with SMTP AUTH.
    #[serde(default)]
    pub require_auth: bool,
    /// The only sender allowed in announcement mode.
    #[serde(default)]
    pub require_address: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn public() -> ListMode {
    ListMode::Public
}

fn yes() -> bool {
    true
}

/// Changes to a list; fields left out stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListChanges {
    pub mode: Option<ListMode>,
    pub require_auth: Option<bool>,
    /// "" clears it.
    pub require_address: Option<String>,
    pub active: Option<bool>,
}

/// A list with the number of its members.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ListSummary {
    #[serde(flatten)]
    pub list: List,
    pub members: usize,
}

/// A list with its members.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ListView {
    #[serde(flatten)]
    pub list: List,
    pub members: Vec<String>,
}

/// Announcement mode names its one allowed sender.
fn check_require_address(list: &List) -> Result<(), AdminError> {
    if list.mode == ListMode::Announcement && list.require_address.is_empty() {
        return Err(AdminError::Invalid("announcement mode needs the address of the one allowed sender".into()));
    }
    Ok(())
}

fn optional_address(s: &str) -> Result<String, AdminError> {
    if s.is_empty() {
        return Ok(String::new());
    }
    let a = Address::parse(s)?;
    check_length("the address", a.as_str(), MAX_ADDRESS)?;
    Ok(a.to_string())
}

impl Admin {
    pub async fn list_lists(&self, caller: &Caller, domain: Option<&str>) -> Result<Vec<ListSummary>, AdminError> {
        let domain_id = self.listing_scope(caller, domain, "list.list").await?;
        let mut all = Vec::new();
        for list in lists::list(&self.store.db, domain_id).await? {
            let members = lists::members(&self.store.db, list.id).await?.len();
            all.push(ListSummary { list, members });
        }
        Ok(all)
    }

    async fn list_for(&self, caller: &Caller, address: &str, action: &str) -> Result<List, AdminError> {
        self.require_domain(caller, domain_of(address), action, address).await?;
        Ok(lists::require(&self.store.db, address).await?)
    }

    pub async fn get_list(&self, caller: &Caller, address: &str) -> Result<ListView, AdminError> {
        let list = self.list_for(caller, address, "list.read").await?;
        let members = lists::members(&self.store.db, list.id).await?;
        Ok(ListView { list, members })
    }

    pub async fn create_list(&self, caller: &Caller, new: &NewList) -> Result<List, AdminError> {
        self.require_domain(caller, domain_of(&new.address), "list.create", &new.address).await?;
        let addr = Address::parse(&new.address)?;
        let domain = domains::find(&self.store.db, addr.domain())
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("no domain {}", addr.domain())))?;
        let addr = rules::address_in(addr.as_str(), &domain)?;
        let mut l = List::new(domain.id, addr.as_str());
        l.mode = new.mode;
        l.require_auth = new.require_auth;
        l.enabled = new.active;
        l.require_address = optional_address(&new.require_address)?;
        check_require_address(&l)?;
        rules::check_room(&domain, Limit::Lists, lists::list(&self.store.db, Some(domain.id)).await?.len())?;
        let l = lists::create(&self.store.db, &l).await?;
        audit::change(caller, "list.create", &l.address);
        Ok(l)
    }

    pub async fn update_list(&self, caller: &Caller, address: &str, c: &ListChanges) -> Result<List, AdminError> {
        let mut l = self.list_for(caller, address, "list.update").await?;
        if let Some(m) = c.mode {
            l.mode = m;
        }
        if let Some(v) = c.require_auth {
            l.require_auth = v;
        }
        if let Some(r) = &c.require_address {
            l.require_address = optional_address(r)?;
        }
        if let Some(v) = c.active {
            l.enabled = v;
        }
        check_require_address(&l)?;
        lists::update(&self.store.db, &l).await?;
        audit::change(caller, "list.update", &l.address);
        Ok(l)
    }

    pub async fn delete_list(&self, caller: &Caller, address: &str) -> Result<List, AdminError> {
        let l = self.list_for(caller, address, "list.delete").await?;
        lists::delete(&self.store.db, l.id).await?;
        audit::change(caller, "list.delete", &l.address);
        Ok(l)
    }

    pub async fn list_members(&self, caller: &Caller, list: &str) -> Result<Vec<String>, AdminError> {
        let l = self.list_for(caller, list, "list.read").await?;
        Ok(lists::members(&self.store.db, l.id).await?)
    }

    /// Adds a member (a local or remote address); returns the address as stored.
    pub async fn add_member(&self, caller: &Caller, list: &str, member: &str) -> Result<String, AdminError> {
        let l = self.list_for(caller, list, "list.member.add").await?;
        let m = Address::parse(member)?;
        check_length("the member", m.as_str(), MAX_ADDRESS)?;
        if m.as_str().eq_ignore_ascii_case(&l.address) {
            return Err(AdminError::Invalid("a list cannot be a member of itself".into()));
        }
        lists::add_member(&self.store.db, l.id, m.as_str()).await?;
        audit::change(caller, "list.member.add", &format!("{m} in {}", l.address));
        Ok(m.to_string())
    }

    pub async fn remove_member(&self, caller: &Caller, list: &str, member: &str) -> Result<(), AdminError> {
        let l = self.list_for(caller, list, "list.member.remove").await?;
        lists::remove_member(&self.store.db, l.id, member).await?;
        audit::change(caller, "list.member.remove", &format!("{member} in {}", l.address));
        Ok(())
    }
}
