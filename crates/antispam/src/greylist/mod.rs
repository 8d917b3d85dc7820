//! Greylisting (hMailServer's `SMTP/GreyListing`), decided per RCPT: a client it has not seen
//! with this sender and recipient is asked to try again later; a real mail server does, a
//! spam sender often does not.
//!
//! - [`decide`]: the decision for one recipient.
//! - [`purge`] and [`spawn_purge`]: removal of expired triplets.

mod decide;
mod purge;

pub use decide::{Decision, Policy, Request, Skip, applies, decide, reply};
pub use purge::{purge, spawn_purge};
