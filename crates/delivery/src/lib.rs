//! The message queue of Altimail Server: what happens between "250 OK" and a mailbox.
//!
//! - [`spool`]: durable queueing with group commit ([`Spool::submit`]).
//! - [`queue`]: the queue as workers see it (the store's queue repository, where all queue SQL
//!   lives) and ETRN's release of held messages.
//! - [`local`]: the local delivery worker ([`LocalDelivery`]): quota, auto-reply, forwarding,
//!   INBOX copies, bounces.
//! - [`resolve`]: recipient resolution and relay policy, as hMailServer decides them.
//! - [`generated`]: auto-replies and bounces.
//! - [`rules`]: the global and account rules, performed ([`rules::RuleRunner`]).
//! - [`settle`]: the one way a failed recipient leaves the queue with its bounce.
//! - [`report`]: the RFC 3464 delivery status notification writer all reports go through.

pub mod generated;
pub mod headers;
mod host;
pub mod local;
pub mod queue;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod settle;
pub mod signature;
pub mod spool;

pub use host::host_name;
pub use local::LocalDelivery;
pub use spool::{EnvelopeExtras, NewMessage, Recipient, Spool, SpoolFile};
