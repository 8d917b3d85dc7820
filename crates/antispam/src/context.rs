//! What the tests of one transaction share: the client, the envelope, the findings so far and
//! results later tests and headers need (the SPF result for `Authentication-Results` and for
//! greylisting's bypass on SPF pass; DKIM and DMARC for the header).

use std::net::IpAddr;

use mail_auth::{DkimResult, DmarcResult, SpfOutput, SpfResult};

use crate::score::{Tally, Thresholds, Verdict};

/// One DKIM signature's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimCheck {
    /// RFC 8601 result word: `pass`, `fail`, `neutral`, `permerror`, `temperror`.
    pub result: &'static str,
    /// `d=` and `s=` of the signature, when it could be parsed.
    pub domain: String,
    pub selector: String,
}

/// The DMARC outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcCheck {
    /// RFC 8601 result word: `pass`, `fail`, `none`, `permerror`, `temperror`.
    pub result: &'static str,
    /// The RFC 5322 From domain.
    pub from_domain: String,
    /// The published policy: `none`, `quarantine`, `reject`.
    pub policy: &'static str,
}

/// DKIM and DMARC, computed once per message (by the first stage that needs them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authentication {
    pub dkim: Vec<DkimCheck>,
    pub dmarc: Option<DmarcCheck>,
}

/// The tests' shared state for one transaction.
#[derive(Debug, Clone)]
pub struct Context {
    /// The client's address.
    pub ip: IpAddr,
    /// The HELO/EHLO argument.
    pub helo: String,
    /// The reverse-path without brackets (empty for the null sender).
    pub sender: String,
    /// Our host name (the `authserv-id` of `Authentication-Results`).
    pub host_name: String,
    /// The findings so far, in the order the tests ran.
    pub tally: Tally,
    /// The SPF result (pre-transmission), when SPF was checked.
    pub spf: Option<SpfOutput>,
    /// DKIM and DMARC (post-transmission), when checked.
    pub authentication: Option<Authentication>,
    /// A refusal that does not depend on the score (DMARC `p=reject` when set to refuse): the
    /// reply text after the code.
    pub refusal: Option<String>,
    /// The message is marked whatever the score (DMARC `p=quarantine`).
    pub force_mark: bool,
    /// The message (headers and body as received) for the post-transmission tests; empty when
    /// they do not read it (too large, or before the end of data).
    pub message: Vec<u8>,
    /// The message to store in place of the one received, when a test rewrote it (spamd's
    /// processed message, with SpamAssassin's `X-Spam-*` headers).
    pub replacement: Option<Vec<u8>>,
    /// Errors of tests that could not complete (for the error log); the message goes on
    /// unscored by them.
    pub errors: Vec<String>,
    /// The domain of the first local recipient (`hm_domains.domainid`), for the Bayesian
    /// filter's per-domain table.
    pub domain_id: Option<i64>,
    /// What each test found, for the status log line.
    notes: Vec<String>,
}

/// What the findings mean for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Mark,
    /// Refuse with the score's code (550 before data, 554 after) and this text.
    Refuse(String),
    /// Refuse with `550 5.7.1` and this text (DMARC reject).
    RefusePolicy(String),
}

impl Context {
    pub fn new(ip: IpAddr, helo: &str, sender: &str, host_name: &str) -> Self {
        Context {
            ip,
            helo: helo.to_owned(),
            sender: sender.to_owned(),
            host_name: host_name.to_owned(),
            tally: Tally::new(),
            spf: None,
            authentication: None,
            refusal: None,
            force_mark: false,
            message: Vec::new(),
            replacement: None,
            errors: Vec::new(),
            domain_id: None,
            notes: Vec::new(),
        }
    }

    /// Records a test's result for the log line (`SPF=fail(3)`).
    pub fn note(&mut self, test: &str, result: impl std::fmt::Display) {
        self.notes.push(format!("{test}={result}"));
    }

    /// The domain of the reverse-path, or the HELO name for the null sender (RFC 7208 §2.4).
    pub fn sender_domain(&self) -> &str {
        self.sender.rsplit_once('@').map_or(self.helo.as_str(), |(_, d)| d)
    }

    /// Whether SPF passed (greylisting's `BypassGreylistingOnSPFSuccess`).
    pub fn spf_passed(&self) -> bool {
        self.spf.as_ref().is_some_and(|s| s.result() == SpfResult::Pass)
    }

    /// No further test needs to run.
    pub fn settled(&self, thresholds: &Thresholds) -> bool {
        self.refusal.is_some() || thresholds.settled(&self.tally)
    }

    pub fn outcome(&self, thresholds: &Thresholds) -> Outcome {
        if let Some(text) = &self.refusal {
            return Outcome::RefusePolicy(text.clone());
        }
        match thresholds.verdict(&self.tally) {
            Verdict::Refuse(text) => Outcome::Refuse(text),
            Verdict::Mark => Outcome::Mark,
            Verdict::Pass if self.force_mark => Outcome::Mark,
            Verdict::Pass => Outcome::Pass,
        }
    }

    /// The status log line: each test's result and the total score.
    pub fn status_line(&self) -> String {
        let tests = if self.notes.is_empty() { "no test ran".to_owned() } else { self.notes.join(", ") };
        format!("Anti-spam: {tests}; total score {}", self.tally.total())
    }
}

/// RFC 8601 word for an SPF result.
pub fn spf_word(result: SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

/// RFC 8601 word for a DKIM result. A body that no longer matches its signed hash is a failed
/// verification (RFC 6376 §6.3), though mail-auth reports it as neutral.
pub fn dkim_word(result: &DkimResult) -> &'static str {
    match result {
        DkimResult::Pass => "pass",
        DkimResult::Neutral(mail_auth::Error::Dkim(mail_auth::dkim::DkimError::FailedBodyHashMatch)) => "fail",
        DkimResult::Neutral(_) => "neutral",
        DkimResult::Fail(_) => "fail",
        DkimResult::PermError(_) => "permerror",
        DkimResult::TempError(_) => "temperror",
        DkimResult::None => "none",
    }
}

/// RFC 8601 word for a DMARC result.
pub fn dmarc_word(result: &DmarcResult) -> &'static str {
    match result {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
}
