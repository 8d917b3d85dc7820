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
//! - [`settings`]: the settings by hMailServer's names (and Altimail's DMARC settings).
//! - [`stages`]: the two ordered lists of tests and how a test joins them.
//! - [`context`]: what the tests of one transaction share.
//! - [`auth`]: the SPF/DKIM/DMARC verifier.
//! - [`headers`]: `Authentication-Results`, the spam headers and the subject prefix.

pub mod auth;
pub mod bayes;
pub mod checks;
pub mod context;
pub mod greylist;
pub mod headers;
pub mod score;
pub mod settings;
pub mod spamassassin;
pub mod stages;

pub use context::{Context, Outcome};
pub use score::{Finding, Tally, Thresholds, Verdict};
pub use settings::AntiSpamSettings;
pub use stages::{Checker, POST_TRANSMISSION, PRE_TRANSMISSION};
