//! The lookups recipient resolution needs: domains with their aliases, accounts, aliases,
//! distribution lists with their members and routes, all from the store's in-memory directory
//! index ([`DirectoryIndex`], kept current with the database within a second). A resolution
//! therefore sends no statement and costs the same however many accounts, domains, aliases,
//! lists or routes there are; an unknown address too is answered from the index.

use std::sync::Arc;

use altimail_store::directory_index::{AccountKey, DirectoryIndex, Snapshot};
use altimail_store::repo::domains;
use altimail_store::repo::{aliases, lists};
use altimail_store::{Db, StoreError};

use tokio::sync::OnceCell;

use super::address::{domain_of, mailbox_of, sort_key, strip_plus, wildcard_match};
use super::routes::Route;

/// A recipient address after domain aliases and plus addressing, with its local domain.
pub(crate) struct Primary {
    /// The address with domain aliases applied and plus addressing removed.
    pub address: String,
    /// The local domain of the address, if it is one.
    pub domain: Option<domains::Domain>,
}

pub(crate) struct Directory<'a> {
    db: &'a Db,
    /// The directory index's snapshot, taken at the first lookup and kept for the whole
    /// resolution (one consistent view; no lookup costs a statement).
    snapshot: OnceCell<Arc<Snapshot>>,
}

impl<'a> Directory<'a> {
    pub fn new(db: &'a Db) -> Directory<'a> {
        Directory { db, snapshot: OnceCell::new() }
    }

    async fn index(&self) -> Result<&Snapshot, StoreError> {
        let db = self.db;
        let snapshot =
            self.snapshot.get_or_try_init(|| async move { DirectoryIndex::of(db).snapshot(db).await }).await?;
        Ok(snapshot)
    }

    /// Rewrites an alias domain to its real domain (`DomainAliases::ApplyAliasesOnAddress`).
    pub async fn apply_domain_aliases(&self, address: &str) -> Result<String, StoreError> {
        Ok(match self.index().await?.domain_of_alias(domain_of(address)) {
            Some(domain) => format!("{}@{}", mailbox_of(address), domain.name),
            None => address.to_owned(),
        })
    }

    /// The local domain named `name`, if any.
    pub async fn domain(&self, name: &str) -> Result<Option<domains::Domain>, StoreError> {
        if name.is_empty() {
            return Ok(None);
        }
        Ok(self.index().await?.domain(name).cloned())
    }

    pub async fn domain_by_id(&self, id: i64) -> Result<Option<domains::Domain>, StoreError> {
        Ok(self.index().await?.domain_by_id(id).cloned())
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

    /// The account with this address: its id and whether it is active.
    pub async fn account(&self, address: &str) -> Result<Option<AccountKey>, StoreError> {
        Ok(self.index().await?.account(address))
    }

    pub async fn alias(&self, address: &str) -> Result<Option<aliases::Alias>, StoreError> {
        Ok(self.index().await?.alias(address).cloned())
    }

    pub async fn list(&self, address: &str) -> Result<Option<lists::List>, StoreError> {
        Ok(self.index().await?.list(address).cloned())
    }

    /// A list's member addresses in hMailServer's order (by address; NULL reads as empty).
    pub async fn members(&self, list_id: i64) -> Result<Vec<String>, StoreError> {
        let mut members = self.index().await?.members(list_id).to_vec();
        members.sort_by_cached_key(|m| sort_key(m));
        Ok(members)
    }

    /// The route for the domain of `address` (the first matching pattern); its
    /// [`Route::covers`] answers for `address` only.
    pub async fn route_for(&self, address: &str) -> Result<Option<Route>, StoreError> {
        let domain = domain_of(address);
        Ok(self.index().await?.route_for(address, |pattern| wildcard_match(pattern, domain)))
    }
}
