//! Certificates for the server's own names from an ACME certification authority (RFC 8555),
//! such as Let's Encrypt, obtained and renewed while the server runs.
//!
//! [`AcmeSettings`] is the `[acme]` section of `altimail.toml`, checked. The [`Manager`] runs
//! for as long as the server does: it orders a certificate when there is none for the
//! configured names or when a third of the current one's lifetime is left, answers the CA's
//! validation through [`AcmeChallenges`] (the web listener serves HTTP-01, the implicit-TLS
//! ports TLS-ALPN-01), writes the chain and key atomically to `{data}/certificates/acme.pem`,
//! and asks the server to reload its certificates, which every TLS port then presents to its
//! next clients. Failures are logged with the CA's problem detail, the certificate in place
//! stays, and the order is retried with a growing delay.
//!
//! [`CertificateInfo`] and [`Status`] describe, for `altimail cert status`, what is on disk and
//! how the last attempt went; [`request_renewal`] is how `altimail cert renew` asks a running
//! server for a new certificate now.
//!
//! Layout:
//!
//! * `settings`: [`AcmeSettings`], [`ChallengeKind`].
//! * `schedule`: when to renew, how long to wait after a failure (no clock inside).
//! * `files`: the account, the certificate file, the status and renewal-request files.
//! * `order`: one order with instant-acme, start to finish.
//! * `manager`: [`Manager`], the loop around it.

#![warn(unreachable_pub)]

mod error;
mod files;
mod manager;
mod order;
mod schedule;
mod settings;

pub use altimail_net::AcmeChallenges;
pub use error::AcmeError;
pub use files::{CertificateInfo, Status, certificate_path, read_status, request_renewal};
pub use manager::Manager;
pub use schedule::{Backoff, renew_at};
pub use settings::{AcmeSettings, ChallengeKind, LETS_ENCRYPT};
