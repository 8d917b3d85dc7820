//! Outbound delivery of Altimail Server (hMailServer's `ExternalDelivery` and
//! `SMTPClientConnection`): the SMTP client and the remote-delivery worker.
//!
//! - [`client`]: the sans-IO SMTP client state machine; [`reply`] and [`wire`] its codec parts.
//! - [`driver`]: runs a [`client::Client`] over TCP, STARTTLS or implicit TLS ([`tls`]) with tokio,
//!   writing the SMTPC log lines.
//! - [`dns`]: the one injected resolver ([`dns::Dns`]) and its hickory implementation.
//! - [`target`]: where a recipient's mail goes (route, smart host, MX hosts).
//! - [`worker`]: the remote-delivery worker ([`RemoteDelivery`]): grouping by host, batching,
//!   next-MX fallback, retries, ETRN hold, relayed DSNs.
//! - [`bounce`]: RFC 3464 reports with hMailServer's texts; [`dkim`]: signing per sender domain.
//! - [`settings`]: the `hm_settings` rows read here, typed.
//! - `testdns` (feature `test-dns`): an in-process DNS server for tests.

pub mod bounce;
pub mod client;
pub mod dkim;
pub mod dns;
pub mod driver;
pub mod reply;
pub mod settings;
pub mod target;
#[cfg(feature = "test-dns")]
pub mod testdns;
pub mod tls;
pub mod wire;
pub mod worker;

pub use worker::RemoteDelivery;
