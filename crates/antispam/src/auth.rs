//! SPF, DKIM and DMARC through the `mail-auth` crate.
//!
//! Which resolver: mail-auth 0.13.3 performs its lookups itself, on a concrete hickory
//! `TokioResolver` (`MessageAuthenticator(pub TokioResolver)`). The server builds it over the
//! very resolver behind its one [`altimail_dns::Dns`] ([`Authenticator::sharing`] with
//! `altimail_dns::HickoryDns::shared_resolver`): a hickory resolver's clones share their name
//! server connections and their cache, so SPF, DKIM and DMARC ask the same servers as outbound
//! delivery and the other tests, and an answer one of them got is cached for all.

use std::net::SocketAddr;
use std::sync::Arc;

use mail_auth::MessageAuthenticator;
use mail_auth::hickory_resolver::config::ResolverOpts;

/// The mail-auth verifier, shared by every session.
#[derive(Clone)]
pub struct Authenticator(pub Arc<MessageAuthenticator>);

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator")
    }
}

impl Authenticator {
    /// Over `resolver`, the hickory resolver behind the server's [`altimail_dns::Dns`] (one
    /// DNS layer, one cache).
    pub fn sharing(resolver: mail_auth::hickory_resolver::TokioResolver) -> Self {
        Authenticator(Arc::new(MessageAuthenticator(resolver)))
    }

    /// A resolver of its own: `servers` when given (UDP and TCP, as [`altimail_dns::HickoryDns::with_servers`]), else
    /// the system's configuration; `None` when neither can be set up (the checks are then
    /// skipped, never failed).
    pub fn for_servers(servers: &[SocketAddr]) -> Option<Self> {
        let made = if servers.is_empty() {
            MessageAuthenticator::new_system_conf()
        } else {
            MessageAuthenticator::new(altimail_dns::servers_config(servers), ResolverOpts::default())
        };
        match made {
            Ok(auth) => Some(Authenticator(Arc::new(auth))),
            Err(e) => {
                tracing::error!("anti-spam: no resolver for SPF/DKIM/DMARC: {e}; these tests are skipped");
                None
            }
        }
    }
}
