//! Listeners, TLS, connection policy and hMailServer-format logs: everything between a TCP port
//! and a protocol session of Altimail Server.
//!
//! [`Listeners`] binds one socket per `hm_tcpipports` row and follows the table while running.
//! Each accepted client goes through the [`Policy`] (IP ranges, per-protocol and per-client
//! connection limits, auto-ban), then, on implicit-TLS ports, through the TLS handshake
//! ([`tls`]), and is then handed as a [`Connection`] to the [`SessionHandler`] registered for the
//! port's protocol. The SMTP, POP3 and IMAP crates implement that trait; this crate knows
//! nothing of their commands. [`HmLog`] writes hMailServer's log files, byte for byte, for
//! everyone.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use altimail_core::codes::Protocol;
//! use altimail_net::{Connection, HmLog, Listeners, Policy, log_mask};
//! use altimail_store::{DbConfig, Store};
//! use tokio::io::AsyncWriteExt;
//!
//! let store = Store::open(&DbConfig::Sqlite { path: "hm.db".into() }, "data", true).await?;
//! let log = HmLog::new("logs", log_mask::ENABLED | log_mask::TCPIP);
//! let listeners = Listeners::builder(Policy::new(store.db.clone()), log, "data")
//!     .with_handler(Protocol::Smtp, |mut conn: Connection| async move {
//!         let _ = conn.stream.write_all(b"220 ready\r\n").await;
//!     })
//!     .start()
//!     .await;
//! tokio::signal::ctrl_c().await?;
//! listeners.shutdown(Duration::from_secs(10)).await;
//! # Ok(()) }
//! ```
//!
//! Layout:
//!
//! * `listener`: [`Listeners`], reconciling sockets with the table, accept loops, shutdown.
//! * `connection`: [`Connection`], [`Stream`] (plain or TLS, with STARTTLS), [`SessionHandler`].
//! * `policy`: [`Policy`], [`Admission`], [`ConnectionGuard`], auto-ban.
//! * [`tls`]: rustls server configurations from PEM files, the self-signed certificate.
//! * `acme_challenges`: [`AcmeChallenges`], the pending ACME validation answers (HTTP-01 for
//!   the web listener, TLS-ALPN-01 answered here on every implicit-TLS port).
//! * [`deadline`]: read deadlines that trickled bytes cannot extend, write limits.
//! * `hmlog`: [`HmLog`], hMailServer's log files; `hmlog_writer`, the thread that writes them.

#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod acme_challenges;
mod connection;
pub mod deadline;
mod error;
mod hmlog;
mod hmlog_writer;
mod listener;
mod policy;
mod sessions;
pub mod tls;
mod tls_configs;

pub use acme_challenges::{ACME_TLS_ALPN, AcmeChallenges};
pub use connection::{Connection, SessionHandler, Stream, next_session_id};
pub use error::NetError;
pub use hmlog::{HmLog, SessionKind, Severity, log_mask};
pub use listener::{HANDSHAKE_TIMEOUT, Listeners, ListenersBuilder, PortProblem, ProblemCause, RECONCILE_INTERVAL};
pub use policy::{Admission, ConnectionGuard, PER_IP_LIMIT_SETTING, Policy, REFRESH, Refusal, limit_setting};
