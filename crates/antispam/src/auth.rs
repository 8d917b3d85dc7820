//! SPF, DKIM and DMARC through the `mail-auth` crate.
//!
//! Which resolver: mail-auth 0.13.3 performs its lookups itself, on a concrete hickory
//! `TokioResolver` (`MessageAuthenticator(pub TokioResolver)`); its only hook for answers from
//! elsewhere is the per-call caches (`Parameters::with_txt_cache` ...), which it consults
//! synchronously, so an async lookup through [`altimail_dns::Dns`] cannot be slotted in. The
//! authenticator is therefore built from the same configured name servers as the server's one
//! [`altimail_dns::Dns`] (`dns_servers` in the configuration, else the system's), so both ask
//! the same servers; hickory caches answers for their TTL in both.

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
    /// `servers` when given (UDP and TCP, as [`altimail_dns::HickoryDns::with_servers`]), else
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
