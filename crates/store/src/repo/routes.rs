//! `hm_routes` and `hm_routeaddresses`, read-only: which domains are delivered through a fixed
//! host instead of MX lookup, and how routes count for relaying.
//!
//! hMailServer loads routes `ORDER BY routedomainname` and uses the first one whose domain
//! pattern (`*`/`?` wildcards) matches (`Routes::GetItemByNameWithWildcardMatch`); a route covers
//! every address of the domain, or only those listed in `hm_routeaddresses`. The wildcard
//! matching itself is the caller's (recipient resolution's address arithmetic).

use std::collections::HashMap;

use altimail_core::codes::Security;

use crate::StoreError;
use crate::db::{Db, Row};

/// One route, with hMailServer's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub id: i64,
    /// `routedomainname`: the domain pattern, `*` and `?` allowed.
    pub domain: String,
    /// `routedescription`; a description starting with "ETRN" holds messages for ETRN.
    pub description: String,
    /// `routetargetsmthost`: host name or IP; several separated by `|`.
    pub target_host: String,
    /// `routetargetsmtport`.
    pub target_port: i64,
    /// `routenooftries`.
    pub number_of_tries: i64,
    /// `routeminutesbetweentry`.
    pub minutes_between_tries: i64,
    /// `routealladdresses`: every address of the domain (else only [`Route::addresses`]).
    pub all_addresses: bool,
    /// `routeuseauthentication`.
    pub use_authentication: bool,
    /// `routeauthenticationusername`.
    pub auth_username: String,
    /// `routeauthenticationpassword`, as stored (hMailServer's Blowfish hex).
    pub auth_password_encrypted: String,
    /// `routetreatsecurityaslocal` (COM `TreatRecipientAsLocalDomain`).
    pub treat_recipient_as_local: bool,
    /// `routeconnectionsecurity`, 0–3 (an unknown code reads as none).
    pub security: Security,
    /// `routetreatsenderaslocaldomain`.
    pub treat_sender_as_local: bool,
    /// `hm_routeaddresses.routeaddressaddress` of this route: all of them from [`list`], only
    /// those equal to the address asked about from [`candidates_for`].
    pub addresses: Vec<String>,
}

const COLUMNS: &str = "routeid, routedomainname, routedescription, routetargetsmthost, routetargetsmtport, \
    routenooftries, routeminutesbetweentry, routealladdresses, routeuseauthentication, routeauthenticationusername, \
    routeauthenticationpassword, routetreatsecurityaslocal, routeconnectionsecurity, routetreatsenderaslocaldomain";

impl Route {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Route {
            id: r.int("routeid")?,
            domain: r.text("routedomainname")?,
            description: r.text("routedescription")?,
            target_host: r.text("routetargetsmthost")?,
            target_port: r.int("routetargetsmtport")?,
            number_of_tries: r.int("routenooftries")?,
            minutes_between_tries: r.int("routeminutesbetweentry")?,
            all_addresses: r.bool("routealladdresses")?,
            use_authentication: r.bool("routeuseauthentication")?,
            auth_username: r.text("routeauthenticationusername")?,
            auth_password_encrypted: r.text("routeauthenticationpassword")?,
            treat_recipient_as_local: r.bool("routetreatsecurityaslocal")?,
            security: Security::from_code(r.int("routeconnectionsecurity")?).unwrap_or(Security::None),
            treat_sender_as_local: r.bool("routetreatsenderaslocaldomain")?,
            addresses: Vec::new(),
        })
    }

    /// Whether the route applies to `address` (`ToAllAddresses() || GetAddresses()->GetItemByName()`).
    pub fn covers(&self, address: &str) -> bool {
        self.all_addresses || self.addresses.iter().any(|a| same(a, address))
    }

    /// Whether messages for this route are held until the remote side sends ETRN.
    pub fn is_etrn(&self) -> bool {
        self.description.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("ETRN"))
    }
}

/// Case-insensitive equality (`String::CompareNoCase`).
fn same(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// Sorts routes as hMailServer's `ORDER BY routedomainname` on a case-insensitive collation
/// does (here, not in SQL, so every engine agrees), the older first among equal names.
fn sort(routes: &mut [Route]) {
    routes.sort_by_cached_key(|r| (r.domain.to_uppercase(), r.id));
}

/// All routes with all their addresses, in hMailServer's order (by domain pattern).
pub async fn list(db: &Db) -> Result<Vec<Route>, StoreError> {
    let rows = db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_routes ORDER BY routeid"), &[]).await?;
    let mut routes = rows.iter().map(Route::from_row).collect::<Result<Vec<_>, _>>()?;
    if routes.is_empty() {
        return Ok(routes);
    }
    let rows = db
        .fetch_all(
            "SELECT routeaddressrouteid, routeaddressaddress FROM hm_routeaddresses ORDER BY routeaddressid",
            &[],
        )
        .await?;
    attach_addresses(&mut routes, &rows)?;
    sort(&mut routes);
    Ok(routes)
}

/// The routes whose pattern may match `domain`, in hMailServer's order: those named `domain`
/// (without case) and every pattern with a wildcard; the caller picks the first that matches.
/// Each carries only its listed addresses equal to `address` (read by index), so
/// [`Route::covers`] answers for `address` and reads nothing else.
///
/// The routes table is read by a scan (no index finds the patterns with a wildcard): its size
/// is the number of routes, which does not grow with accounts or domains.
pub async fn candidates_for(db: &Db, domain: &str, address: &str) -> Result<Vec<Route>, StoreError> {
    let d = db.dialect();
    let sql = format!(
        "SELECT {COLUMNS} FROM hm_routes WHERE {} OR routedomainname LIKE ? OR routedomainname LIKE ?",
        d.ci_eq("routedomainname")
    );
    let rows = db.fetch_all(&sql, &[domain.into(), "%*%".into(), "%?%".into()]).await?;
    let mut routes = rows.iter().map(Route::from_row).collect::<Result<Vec<_>, _>>()?;
    if routes.iter().any(|r| !r.all_addresses) {
        let sql = format!(
            "SELECT routeaddressrouteid, routeaddressaddress FROM hm_routeaddresses WHERE {} ORDER BY routeaddressid",
            d.ci_eq("routeaddressaddress")
        );
        let rows = db.fetch_all(&sql, &[address.into()]).await?;
        attach_addresses(&mut routes, &rows)?;
    }
    sort(&mut routes);
    Ok(routes)
}

/// Gives each route its rows of `hm_routeaddresses` (columns `routeaddressrouteid`,
/// `routeaddressaddress`); rows of other routes are ignored.
fn attach_addresses(routes: &mut [Route], rows: &[Row]) -> Result<(), StoreError> {
    let by_id: HashMap<i64, usize> = routes.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    for row in rows {
        if let Some(&i) = by_id.get(&row.int("routeaddressrouteid")?) {
            routes[i].addresses.push(row.text("routeaddressaddress")?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(id: i64, domain: &str) -> Route {
        Route {
            id,
            domain: domain.into(),
            description: String::new(),
            target_host: String::new(),
            target_port: 25,
            number_of_tries: 0,
            minutes_between_tries: 0,
            all_addresses: true,
            use_authentication: false,
            auth_username: String::new(),
            auth_password_encrypted: String::new(),
            treat_recipient_as_local: false,
            security: Security::None,
            treat_sender_as_local: false,
            addresses: Vec::new(),
        }
    }

    #[test]
    fn listed_addresses_limit_coverage_and_etrn_is_a_description_prefix() {
        let mut r = route(3, "x.test");
        r.all_addresses = false;
        r.addresses = vec!["Bob@x.test".into()];
        assert!(r.covers("bob@X.TEST") && !r.covers("alice@x.test"));
        r.description = "etrn hold".into();
        assert!(r.is_etrn());
        r.description = "é".into();
        assert!(!r.is_etrn());
    }

    #[test]
    fn sorted_by_pattern_without_case_then_by_age() {
        let mut routes = vec![route(1, "b.test"), route(2, "A.test"), route(3, "*.test"), route(0, "a.TEST")];
        sort(&mut routes);
        assert_eq!(routes.iter().map(|r| r.id).collect::<Vec<_>>(), [3, 0, 2, 1]);
    }
}
