//! `hm_routes` and `hm_routeaddresses`, read-only: which domains are delivered through a fixed
//! host instead of MX lookup, and how routes count for relaying.
//!
//! hMailServer loads routes `ORDER BY routedomainname` and uses the first one whose domain
//! pattern (`*`/`?` wildcards) matches (`Routes::GetItemByNameWithWildcardMatch`); a route covers
//! every address of the domain, or only those listed in `hm_routeaddresses`.

use altimail_core::codes::Security;
use altimail_store::{Db, Row, StoreError};

use super::address::{same, sort_key, wildcard_match};

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
    /// `hm_routeaddresses.routeaddressaddress` of this route.
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

/// All routes with their addresses, in hMailServer's order (by domain pattern).
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
    for row in rows {
        let route_id = row.int("routeaddressrouteid")?;
        if let Some(route) = routes.iter_mut().find(|r| r.id == route_id) {
            route.addresses.push(row.text("routeaddressaddress")?);
        }
    }
    // Sorted here, not in SQL, so every engine agrees with MySQL's case-insensitive order.
    routes.sort_by_cached_key(|r| (sort_key(&r.domain), r.id));
    Ok(routes)
}

/// The first route whose pattern matches `domain`.
pub fn for_domain<'r>(routes: &'r [Route], domain: &str) -> Option<&'r Route> {
    routes.iter().find(|r| wildcard_match(&r.domain, domain))
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
    fn first_matching_pattern_wins_and_addresses_limit_coverage() {
        let routes = [route(1, "*.example.com"), route(2, "mail.example.com")];
        assert_eq!(for_domain(&routes, "MAIL.example.com").map(|r| r.id), Some(1));
        assert_eq!(for_domain(&routes, "example.com"), None);
        let mut r = route(3, "x.test");
        r.all_addresses = false;
        r.addresses = vec!["Bob@x.test".into()];
        assert!(r.covers("bob@X.TEST") && !r.covers("alice@x.test"));
        r.description = "etrn hold".into();
        assert!(r.is_etrn());
    }
}
