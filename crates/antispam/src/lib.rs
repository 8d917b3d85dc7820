//! Anti-spam of Altimail Server (hMailServer's `Common/AntiSpam`, `SMTP/GreyListing`,
//! `SMTP/BLCheck`, `SMTP/SPF`).
//!
//! A message meets the tests in two rounds, as in hMailServer: before its body is sent
//! (pre-transmission: DNSBL, HELO host, PTR, sender MX, SPF) and after it (post-transmission:
//! SURBL, DKIM, DMARC, SpamAssassin, the Bayesian classifier). Each failing test adds a
//! [`score::Finding`] to the message's [`score::Tally`]; the tests stop once the higher
//! threshold is reached, and [`score::Thresholds::verdict`] turns the total into refuse, mark
//! or pass.
//!
//! - [`score`]: findings, the tally and hMailServer's thresholds.

pub mod bayes;
pub mod checks;
pub mod greylist;
pub mod score;
pub mod spamassassin;

pub use score::{Finding, Tally, Thresholds, Verdict};
