//! Shared set-up for the resolver tests: one scratch store per engine and helpers that add
//! domains, accounts, aliases, lists and routes the way an administrator would.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use altimail_core::codes::ListMode;
use altimail_delivery::resolve::{Recipient, Resolution, ResolveError};
use altimail_store::repo::{accounts, aliases, domain_aliases, domains, lists};
use altimail_store::{Db, Store};
use altimail_testkit::{ScratchDb, backends};

/// A store on one engine; call [`Env::finish`] at the end of each iteration.
pub struct Env {
    pub store: Store,
    pub engine: &'static str,
    scratch: ScratchDb,
    _data: tempfile::TempDir,
}

/// One fresh, initialised store per available engine.
pub async fn engines(test: &str) -> Vec<Env> {
    let mut out = Vec::new();
    for scratch in backends(test).await {
        let data = tempfile::tempdir().expect("temporary directory");
        let store = Store::open(&scratch.config, data.path(), true)
            .await
            .unwrap_or_else(|e| panic!("{}: open: {e}", scratch.engine));
        out.push(Env { store, engine: scratch.engine, scratch, _data: data });
    }
    out
}

impl Env {
    pub fn db(&self) -> &Db {
        &self.store.db
    }

    /// The same database opened again, as another Altimail process sharing it would (its own
    /// pool, so its own directory index).
    pub async fn another_process(&self) -> Store {
        Store::open(&self.scratch.config, self._data.path(), false)
            .await
            .unwrap_or_else(|e| panic!("{}: open again: {e}", self.engine))
    }

    pub async fn finish(self) {
        self.store.db.close().await;
        self.scratch.cleanup().await;
    }

    pub async fn domain(&self, name: &str) -> domains::Domain {
        self.domain_with(domains::Domain::new(name)).await
    }

    pub async fn domain_with(&self, domain: domains::Domain) -> domains::Domain {
        domains::create(self.db(), &domain)
            .await
            .unwrap_or_else(|e| panic!("{}: domain {}: {e}", self.engine, domain.name))
    }

    pub async fn domain_alias(&self, domain: &domains::Domain, alias: &str) {
        domain_aliases::create(self.db(), domain.id, alias).await.unwrap();
    }

    pub async fn account(&self, domain: &domains::Domain, address: &str) -> accounts::Account {
        accounts::create(self.db(), &accounts::Account::new(domain.id, address))
            .await
            .unwrap_or_else(|e| panic!("{}: account {address}: {e}", self.engine))
    }

    pub async fn alias(&self, domain: &domains::Domain, name: &str, value: &str) -> aliases::Alias {
        let alias =
            aliases::Alias { id: 0, domain_id: domain.id, name: name.into(), value: value.into(), active: true };
        aliases::create(self.db(), &alias).await.unwrap_or_else(|e| panic!("{}: alias {name}: {e}", self.engine))
    }

    /// A list with `mode`, then its members (inserted directly, so case duplicates are possible).
    pub async fn list(&self, domain: &domains::Domain, address: &str, mode: ListMode, members: &[&str]) -> lists::List {
        let mut list = lists::List::new(domain.id, address);
        list.mode = mode;
        let list = lists::create(self.db(), &list).await.unwrap();
        for m in members {
            self.db()
                .insert(
                    "INSERT INTO hm_distributionlistsrecipients \
                     (distributionlistrecipientlistid, distributionlistrecipientaddress) VALUES (?, ?)",
                    &[list.id.into(), (*m).into()],
                    "distributionlistrecipientid",
                )
                .await
                .unwrap();
        }
        list
    }

    /// A route for `pattern`; `addresses` empty = all addresses.
    pub async fn route(
        &self,
        pattern: &str,
        addresses: &[&str],
        treat_recipient_local: bool,
        treat_sender_local: bool,
    ) {
        let id = self
            .db()
            .insert(
                "INSERT INTO hm_routes (routedomainname, routedescription, routetargetsmthost, routetargetsmtport, \
                 routenooftries, routeminutesbetweentry, routealladdresses, routeuseauthentication, \
                 routeauthenticationusername, routeauthenticationpassword, routetreatsecurityaslocal, \
                 routeconnectionsecurity, routetreatsenderaslocaldomain) \
                 VALUES (?, 'test route', 'mx.route.test', 25, 4, 60, ?, 0, '', '', ?, 0, ?)",
                &[pattern.into(), addresses.is_empty().into(), treat_recipient_local.into(), treat_sender_local.into()],
                "routeid",
            )
            .await
            .unwrap();
        for a in addresses {
            self.db()
                .insert(
                    "INSERT INTO hm_routeaddresses (routeaddressrouteid, routeaddressaddress) VALUES (?, ?)",
                    &[id.into(), (*a).into()],
                    "routeaddressid",
                )
                .await
                .unwrap();
        }
    }
}

/// `(address, account id)` of each recipient, in order.
pub fn targets(recipients: &[Recipient]) -> Vec<(String, i64)> {
    recipients.iter().map(|r| (r.address.clone(), r.account_id)).collect()
}

/// The recipients' addresses, in order.
pub fn addresses(resolution: &Resolution) -> Vec<&str> {
    resolution.recipients.iter().map(|r| r.address.as_str()).collect()
}

/// The reply line of a failed resolution.
pub fn reply(result: &Result<Resolution, ResolveError>) -> String {
    match result {
        Ok(r) => format!("accepted: {r:?}"),
        Err(e) => e.reply().to_string(),
    }
}
