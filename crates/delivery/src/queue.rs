//! The queue as the workers see it: the store's queue repository
//! ([`altimail_store::repo::queue`], where all queue SQL lives) and ETRN's release of held
//! messages by route ([`release_held`]), which needs the routes' matching rules.

use altimail_store::{Db, StoreError};

pub use altimail_store::repo::queue::{
    Envelope, QueuedRecipient, Work, claim, envelope, etrn_hold_time, finished, forwarded, recipients, release, remove,
    remove_recipients, retry_later, unlock_all,
};

/// What [`release_held`] did for an ETRN node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtrnRelease {
    /// No ETRN route (description starting with "ETRN") matches the node.
    NoRoute,
    /// This many held messages (type 3) were made due now.
    Released(u64),
}

/// ETRN (RFC 1985): makes the messages held for the ETRN routes of `node` due now.
///
/// `node` is a route domain, compared case-insensitively with `routedomainname` as hMailServer
/// does (`#node`, a queue name, is looked up the same way); `@domain` (RFC 1985 §3) also takes the
/// routes of its subdomains (patterns ending in `.domain`, e.g. `*.domain`). A held message
/// belongs to a route through `messageaccountid` (hMailServer stores the route id there) or
/// through one of its remote recipients.
pub async fn release_held(db: &Db, node: &str) -> Result<EtrnRelease, StoreError> {
    use crate::resolve::routes;
    use altimail_store::repo::queue::Held;
    let node = node.trim();
    let (name, subdomains) = match node.as_bytes().first() {
        Some(b'@') => (&node[1..], true),
        Some(b'#') => (&node[1..], false),
        _ => (node, false),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return Ok(EtrnRelease::NoRoute);
    }
    let all = routes::list(db).await?;
    let suffix = format!(".{name}");
    let ids: Vec<i64> = all
        .iter()
        .filter(|r| r.is_etrn())
        .filter(|r| {
            let d = r.domain.to_ascii_lowercase();
            d == name || (subdomains && d.ends_with(&suffix))
        })
        .map(|r| r.id)
        .collect();
    if ids.is_empty() {
        return Ok(EtrnRelease::NoRoute);
    }
    let mut released = 0;
    for (id, route_id) in altimail_store::repo::queue::held(db).await? {
        let mut ours = ids.contains(&route_id);
        if !ours {
            ours = recipients(db, id).await?.iter().filter(|r| r.account_id == 0).any(|r| {
                let domain = r.address.rsplit_once('@').map(|(_, d)| d).unwrap_or(&r.address);
                routes::for_domain(&all, domain)
                    .is_some_and(|route| route.covers(&r.address) && ids.contains(&route.id))
            });
        }
        if ours {
            released += altimail_store::repo::queue::release_held(db, Held::One(id)).await?;
        }
    }
    Ok(EtrnRelease::Released(released))
}
