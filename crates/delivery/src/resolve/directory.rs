//! The lookups recipient resolution needs, over the store: domains, domain aliases, accounts,
//! aliases, distribution lists and routes. Domain aliases and routes are read once per
//! resolution (hMailServer caches them too); the rest is looked up as it is reached, domains
//! and accounts once per resolution (the checks and the expansion reach the same ones).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use altimail_store::repo::{accounts, aliases, domains, lists};
use altimail_store::{Db, StoreError};

use super::address::{domain_of, mailbox_of, same, sort_key, strip_plus};
use super::routes::{self, Route};

/// A recipient address after domain aliases and plus addressing, with its local domain.
pub(crate) struct Primary {
    /// The address with domain aliases applied and plus addressing removed.
    pub address: String,
    /// The local domain of the address, if it is one.
    pub domain: Option<domains::Domain>,
}

pub(crate) struct Directory<'a> {
    db: &'a Db,
    /// `(alias, domain id)` in `daid` order, as hMailServer scans them.
    domain_aliases: Vec<(String, i64)>,
    routes: Vec<Route>,
    /// Lookups already made in this resolution, by lower-cased name or address.
    domains: Mutex<HashMap<String, Option<domains::Domain>>>,
    accounts: Mutex<HashMap<String, Option<accounts::Account>>>,
}

/// The remembered answer for `key`, or the lookup's (remembered for next time).
async fn remembered<T: Clone>(
    memo: &Mutex<HashMap<String, Option<T>>>,
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
    pub async fn load(db: &'a Db) -> Result<Directory<'a>, StoreError> {
        let rows = db.fetch_all("SELECT daalias, dadomainid FROM hm_domain_aliases ORDER BY daid", &[]).await?;
        let domain_aliases =
            rows.iter().map(|r| Ok((r.text("daalias")?, r.int("dadomainid")?))).collect::<Result<_, StoreError>>()?;
        Ok(Directory {
            db,
            domain_aliases,
            routes: routes::list(db).await?,
            domains: Mutex::default(),
            accounts: Mutex::default(),
        })
    }

    /// Rewrites an alias domain to its real domain (`DomainAliases::ApplyAliasesOnAddress`).
    pub async fn apply_domain_aliases(&self, address: &str) -> Result<String, StoreError> {
        let domain = domain_of(address);
        let Some((_, domain_id)) = self.domain_aliases.iter().find(|(alias, _)| same(alias, domain)) else {
            return Ok(address.to_owned());
        };
        Ok(match domains::get(self.db, *domain_id).await? {
            Some(real) => format!("{}@{}", mailbox_of(address), real.name),
            None => address.to_owned(),
        })
    }

    /// The local domain named `name`, if any.
    pub async fn domain(&self, name: &str) -> Result<Option<domains::Domain>, StoreError> {
        if name.is_empty() {
            return Ok(None);
        }
        remembered(&self.domains, name, domains::find(self.db, name)).await
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
        let rows = self
            .db
            .fetch_all(
                "SELECT distributionlistrecipientaddress FROM hm_distributionlistsrecipients \
                 WHERE distributionlistrecipientlistid = ? ORDER BY distributionlistrecipientid",
                &[list_id.into()],
            )
            .await?;
        let mut members =
            rows.iter().map(|r| r.text("distributionlistrecipientaddress")).collect::<Result<Vec<_>, _>>()?;
        members.sort_by_cached_key(|m| sort_key(m));
        Ok(members)
    }

    /// The route for a domain (first matching pattern).
    pub fn route(&self, domain: &str) -> Option<&Route> {
        routes::for_domain(&self.routes, domain)
    }
}
