//! hMailServer's DNS-based tests. Each returns the [`crate::Finding`]s of a failing test, with
//! hMailServer's reason texts; a DNS failure never makes a test fail (it is logged and the
//! client passes), as in hMailServer.
//!
//! - [`dnsbl`]: the client IP against `hm_dnsbl` (pre-transmission).
//! - [`helo`]: the HELO/EHLO host must resolve to the client IP (`ascheckhostinhelo`).
//! - [`mx`]: the sender's domain must have MX records (`usemxchecks`).
//! - [`ptr`]: the client IP must have a forward-confirmed PTR record (`ascheckptr`).
//! - [`surbl`]: the domains of links in the message against `hm_surblservers` (post-transmission).
//! - [`domain`]: registered domains (a small built-in list of two-level public suffixes).

pub mod dnsbl;
pub mod domain;
pub mod helo;
pub mod mx;
pub mod ptr;
pub mod surbl;

/// Clamps a stored score into the range of [`crate::Finding::score`].
pub(crate) fn score(value: i64) -> i32 {
    value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}
