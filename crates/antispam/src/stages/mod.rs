//! The ordered lists of tests, hMailServer's two rounds: [`PRE_TRANSMISSION`] runs when the
//! client sends DATA (or its first BDAT chunk), before the body is accepted;
//! [`POST_TRANSMISSION`] runs once the body is complete, before it is stored. Within a list the
//! stages run in order and stop once the outcome is settled
//! ([`Context::settled`]: the higher threshold is reached, or a policy refusal).
//!
//! # Adding a test
//!
//! A stage is a function `fn(&Checker, &mut Context) -> StageFuture<'_>` that reads the
//! settings from [`Checker::settings`] (and returns at once when its test is off), adds what it
//! finds with `ctx.tally.add(finding)`, records its result for the log line with
//! [`Context::note`], and keeps anything later stages need in the [`Context`]. A DNS failure is
//! never a finding: note it as skipped and return. A check written as
//! `async fn check(..) -> Option<Finding>` joins with a three-line adapter next to it:
//!
//! ```ignore
//! fn dnsbl(c: &Checker, ctx: &mut Context) -> StageFuture<'_> {
//!     Box::pin(async move { if let Some(f) = checks::dnsbl::check(&*c.dns, ctx.ip).await { ctx.tally.add(f) } })
//! }
//! ```
//!
//! and one line in the list below, at its place in hMailServer's order.
//!
//! A stage that rewrites the message (SpamAssassin) puts the new one in
//! [`Context::replacement`]; the header edits then apply to it. A test that cannot complete
//! (spamd down, a database error) pushes its error text to [`Context::errors`], which the SMTP
//! server writes to the error log; the message goes on unscored by it.
//!
//! Greylisting is not a stage: the SMTP server decides it per RCPT
//! ([`crate::greylist::decide`]). For its bypass on SPF pass it asks [`check_spf`] once per
//! transaction and keeps the result in the transaction's [`Context`], where the SPF stage finds
//! it instead of asking again.

mod bayes;
mod dkim;
mod dmarc;
mod dns_checks;
mod spamassassin;
mod spf;
mod verify;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use altimail_dns::Dns;

use crate::auth::Authenticator;
use crate::context::Context;
use crate::settings::AntiSpamSettings;

pub use spf::check as check_spf;
pub use verify::authenticate_message;

/// What every stage may use besides the transaction's [`Context`].
#[derive(Clone)]
pub struct Checker {
    /// Read for the session the transaction belongs to.
    pub settings: AntiSpamSettings,
    /// The server's one resolver.
    pub dns: Arc<dyn Dns>,
    /// SPF/DKIM/DMARC; `None` when no resolver could be set up (those tests are skipped).
    pub auth: Option<Authenticator>,
    /// The DNS block lists (`hm_dnsbl`), read with the settings.
    pub dnsbl: Vec<altimail_store::repo::dnsbl::Dnsbl>,
    /// The URI block lists (`hm_surblservers`), read with the settings.
    pub surbl: Vec<altimail_store::repo::surbl::Surbl>,
    /// The database, for the Bayesian score; `None` skips it.
    pub db: Option<altimail_store::Db>,
    /// The Bayesian filter's settings, read with the others; `None` skips it.
    pub bayes: Option<crate::bayes::BayesSettings>,
}

/// The future a stage returns.
pub type StageFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One test in a list.
#[derive(Clone, Copy)]
pub struct Stage {
    /// Its name for logs.
    pub name: &'static str,
    pub run: for<'a> fn(&'a Checker, &'a mut Context) -> StageFuture<'a>,
}

/// Before the body: in hMailServer's order DNSBL, HELO host, PTR, sender MX, then SPF.
pub const PRE_TRANSMISSION: &[Stage] = &[
    Stage { name: "DNSBL", run: dns_checks::dnsbl },
    Stage { name: "HELO", run: dns_checks::helo },
    Stage { name: "PTR", run: dns_checks::ptr },
    Stage { name: "MX", run: dns_checks::mx },
    Stage { name: "SPF", run: spf::run },
];

/// After the body: SURBL, DKIM, DMARC, SpamAssassin (spamd; its processed message is stored),
/// the Bayesian score (against the table of the first local recipient's domain,
/// [`Context::domain_id`], or the global one).
pub const POST_TRANSMISSION: &[Stage] = &[
    Stage { name: "SURBL", run: dns_checks::surbl },
    Stage { name: "DKIM", run: dkim::run },
    Stage { name: "DMARC", run: dmarc::run },
    Stage { name: "SpamAssassin", run: spamassassin::run },
    Stage { name: "Bayes", run: bayes::run },
];

/// Runs `stages` in order until the outcome is settled.
pub async fn run(stages: &[Stage], checker: &Checker, ctx: &mut Context) {
    for stage in stages {
        if ctx.settled(&checker.settings.thresholds) {
            tracing::debug!("anti-spam: settled before {}", stage.name);
            break;
        }
        (stage.run)(checker, ctx).await;
    }
}

#[cfg(test)]
mod tests;
