//! Outbound delivery of Altimail Server (hMailServer's `ExternalDelivery` and
//! `SMTPClientConnection`): the SMTP client and the remote-delivery worker.
//!
//! - [`client`]: the sans-IO SMTP client state machine; [`reply`] and [`wire`] its codec parts.
//! - [`driver`]: runs a [`client::Client`] over TCP, STARTTLS or implicit TLS ([`tls`]) with tokio,
//!   writing the SMTPC log lines.
//! - [`target`]: where a recipient's mail goes (route, smart host, MX hosts).
//! - [`worker`]: the remote-delivery worker ([`RemoteDelivery`]): grouping by host, batching,
//!   next-MX fallback, retries, ETRN hold, relayed DSNs.
//! - [`bounce`]: RFC 3464 reports with hMailServer's texts; [`dkim`]: signing per sender domain.
//! - [`settings`]: the `hm_settings` rows read here, typed.
//!
//! DNS comes from `altimail-dns`, the resolver the whole server shares.

pub mod bounce;
pub mod client;
pub mod dkim;
pub mod driver;
pub mod reply;
pub mod settings;
pub mod target;
pub mod tls;
pub mod wire;
pub mod worker;

pub use worker::RemoteDelivery;
