//! Routes (`hm_routes`, `hm_routeaddresses`; see [`altimail_store::repo::routes`]) and the
//! choice of the route for a domain: hMailServer uses the first route, in its order, whose
//! domain pattern (`*`/`?` wildcards) matches (`Routes::GetItemByNameWithWildcardMatch`).

pub use altimail_store::repo::routes::{Route, list};

use super::address::wildcard_match;

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
            security: altimail_core::codes::Security::None,
            treat_sender_as_local: false,
            addresses: Vec::new(),
        }
    }

    #[test]
    fn first_matching_pattern_wins() {
        let routes = [route(1, "*.example.com"), route(2, "mail.example.com")];
        assert_eq!(for_domain(&routes, "MAIL.example.com").map(|r| r.id), Some(1));
        assert_eq!(for_domain(&routes, "example.com"), None);
    }
}
