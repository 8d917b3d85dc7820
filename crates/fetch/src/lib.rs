//! External accounts for Altimail Server (hMailServer's `hm_fetchaccounts`): POP3 mailboxes on
//! other servers that Altimail downloads into local accounts.
//!
//! - [`client`]: a POP3 client — a sans-IO core (wire codec and the download dialogue as a
//!   state machine) and a tokio driver (plain, implicit TLS, STLS) that writes `POP3C` lines.
//! - [`worker::Fetcher`]: the scheduler; due accounts, up to [`worker::PARALLEL`] at a time, are
//!   each locked, downloaded ([`download`]: drives the dialogue, plans fetch/delete, queues,
//!   records UIDs), and rescheduled `faminutes` later; unreadable rows are skipped and logged.
//! - [`mime`]: header helpers for the sender and MIME-recipient routing.
//!
//! Downloaded messages go through the spool ([`altimail_delivery::Spool::submit`]) like any
//! received message, so local delivery (quota, forwarding, auto-reply, rules) applies.

#![warn(unreachable_pub)]

mod antivirus;
pub mod client;
pub mod download;
pub mod mime;
pub mod worker;

pub use download::{FetchError, Report};
pub use worker::Fetcher;
