//! The lookups recipient resolution needs, over the store's repositories: domains with their
//! aliases, accounts, aliases, distribution lists and routes. Every lookup is by key (an index
//! search; see `altimail_store::schema`'s lookup indexes), so a resolution costs the same
//! however many accounts, domains, aliases, lists or listed route addresses there are. Domain
//! names, accounts and routes are looked up once per resolution (the checks and the expansion
//! reach the same ones).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use altimail_store::repo::domains::{self, NamedDomain};
use altimail_store::repo::{accounts, aliases, lists};
use altimail_store::{Db, StoreError};

use super::address::{domain_of, mailbox_of, sort_key, strip_plus};
use super::routes::{self, Route};

/// A recipient address after domain aliases and plus addressing, with its local domain.
pub(crate) struct Primary {
    /// The address with domain aliases applied and plus addressing removed.
    pub address: String,
    /// The local domain of the address, if it is one.
    pub domain: Option<domains::Domain>,
}

/// Answers already looked up in this resolution, by lower-cased name or address.
type Memo<T> = Mutex<HashMap<String, Option<T>>>;

pub(crate) struct Directory<'a> {
    db: &'a Db,
    /// What each domain name stands for (a domain alias's domain, or the domain of that name).
    names: Memo<NamedDomain>,
    /// Domains by their own name, for the rare name that is also a domain alias.
    domains: Memo<domains::Domain>,
    accounts: Memo<accounts::Account>,
    /// The route for each address's domain, knowing whether it covers that address.
    routes: Memo<Route>,
}

/// The remembered answer for `key`, or the lookup's (remembered for next time).
async fn remembered<T: Clone>(
    memo: &Memo<T>,
    key: &str,
    lookup: impl std::future::Future<Output = Result<Option<T>, StoreError>>,
) -> Result<Option<T>, StoreError> {
    let key = key.to_ascii_lowercase();
    if let Some(hit) = memo.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return Ok(hit.clone());
    }
    let found = lookup.await?;
    memo.lock().unwrap_or_else(PoisonError::into_inner).insert(key, found.clone());
    Ok(found)
}

impl<'a> Directory<'a> {
    pub fn new(db: &'a Db) -> Directory<'a> {
        Directory {
            db,
            names: Mutex::default(),
            domains: Mutex::default(),
            accounts: Mutex::default(),
            routes: Mutex::default(),
        }
    }

    async fn named(&self, name: &str) -> Result<Option<NamedDomain>, StoreError> {
        remembered(&self.names, name, domains::find_by_name_or_alias(self.db, name)).await
    }

    /// Rewrites an alias domain to its real domain (`DomainAliases::ApplyAliasesOnAddress`).
    pub async fn apply_domain_aliases(&self, address: &str) -> Result<String, StoreError> {
        Ok(match self.named(domain_of(address)).await? {
            Some(named) if named.via_alias => format!("{}@{}", mailbox_of(address), named.domain.name),
            _ => address.to_owned(),
        })
    }

    /// The local domain named `name`, if any.
    pub async fn domain(&self, name: &str) -> Result<Option<domains::Domain>, StoreError> {
        if name.is_empty() {
            return Ok(None);
        }
        match self.named(name).await? {
            None => Ok(None),
            Some(named) if !named.via_alias => Ok(Some(named.domain)),
            // The name is a domain alias too: which domain has it as its own name?
            Some(_) => remembered(&self.domains, name, domains::find(self.db, name)).await,
        }
    }

    pub async fn domain_by_id(&self, id: i64) -> Result<Option<domains::Domain>, StoreError> {
        domains::get(self.db, id).await
    }

    /// Applies domain aliases, finds the local domain and strips plus addressing when that
    /// domain uses it — the first steps of every resolution level.
    pub async fn primary(&self, address: &str) -> Result<Primary, StoreError> {
        let aliased = self.apply_domain_aliases(address).await?;
        let domain = self.domain(domain_of(&aliased)).await?;
        let address = match &domain {
            Some(d) if d.plus_addressing => strip_plus(&aliased, &d.plus_addressing_char),
            _ => aliased,
        };
        Ok(Primary { address, domain })
    }

    pub async fn account(&self, address: &str) -> Result<Option<accounts::Account>, StoreError> {
        remembered(&self.accounts, address, accounts::find(self.db, address)).await
    }

    pub async fn alias(&self, address: &str) -> Result<Option<aliases::Alias>, StoreError> {
        aliases::find(self.db, address).await
    }

    pub async fn list(&self, address: &str) -> Result<Option<lists::List>, StoreError> {
        lists::find(self.db, address).await
    }

    /// A list's member addresses in hMailServer's order (by address; NULL reads as empty).
    pub async fn members(&self, list_id: i64) -> Result<Vec<String>, StoreError> {
        let mut members = lists::members_as_stored(self.db, list_id).await?;
        members.sort_by_cached_key(|m| sort_key(m));
        Ok(members)
    }

    /// The route for the domain of `address` (the first matching pattern); its
    /// [`Route::covers`] answers for `address` only.
    pub async fn route_for(&self, address: &str) -> Result<Option<Route>, StoreError> {
        remembered(&self.routes, address, routes::for_address(self.db, address)).await
    }
}
