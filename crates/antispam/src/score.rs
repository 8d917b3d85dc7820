//! Scores as hMailServer counts them: each failing test adds its score; the tests stop once the
//! higher of the two thresholds is reached; at the delete threshold the message is refused with
//! the first failing test's text, at the mark threshold it is marked.

/// One failing test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Short name of the test for the log line (`SPF`, `DNSBL`, `SURBL`, `DKIM`, ...).
    pub test: &'static str,
    /// The score it adds (hMailServer's per-test setting or row).
    pub score: i32,
    /// The text hMailServer gives for it: the refusal text and the `X-hMailServer-Reason-<n>`
    /// header value (e.g. `Blocked by SPF. (...)`, a DNSBL row's reject message).
    pub reason: String,
}

impl Finding {
    pub fn new(test: &'static str, score: i32, reason: impl Into<String>) -> Finding {
        Finding { test, score, reason: reason.into() }
    }
}

/// The findings of one message so far, in the order the tests ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    findings: Vec<Finding>,
}

impl Tally {
    pub fn new() -> Tally {
        Tally::default()
    }

    pub fn add(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// The sum of the scores (saturating: a row with an absurd score cannot wrap around).
    pub fn total(&self) -> i32 {
        self.findings.iter().fold(0i32, |sum, f| sum.saturating_add(f.score))
    }

    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }
}

/// `spammarkthreshold` and `spamdeletethreshold`; 0 turns either off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub mark: i32,
    pub delete: i32,
}

/// What the total score means for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Below both thresholds.
    Pass,
    /// At or above the mark threshold: add the spam headers (and the subject prefix if set).
    Mark,
    /// At or above the delete threshold: refuse, with the first failing test's text.
    Refuse(String),
}

impl Default for Thresholds {
    /// hMailServer's defaults: mark at 5, delete at 20.
    fn default() -> Self {
        Thresholds { mark: 5, delete: 20 }
    }
}

impl Thresholds {
    /// Whether no further test needs to run: the total has reached the higher threshold that is
    /// on (hMailServer stops there, since no test can change the outcome).
    pub fn settled(&self, tally: &Tally) -> bool {
        let highest = self.mark.max(self.delete);
        highest > 0 && tally.total() >= highest
    }

    pub fn verdict(&self, tally: &Tally) -> Verdict {
        let total = tally.total();
        if self.delete > 0 && total >= self.delete {
            let reason = tally.findings().first().map(|f| f.reason.clone()).unwrap_or_default();
            return Verdict::Refuse(reason);
        }
        if self.mark > 0 && total >= self.mark {
            return Verdict::Mark;
        }
        Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(scores: &[i32]) -> Tally {
        let mut t = Tally::new();
        for (i, s) in scores.iter().enumerate() {
            t.add(Finding::new("T", *s, format!("reason {i}")));
        }
        t
    }

    #[test]
    fn scores_add_up() {
        assert_eq!(tally(&[3, 2, 1]).total(), 6);
        assert_eq!(tally(&[i32::MAX, 5]).total(), i32::MAX);
        assert_eq!(tally(&[]).total(), 0);
    }

    #[test]
    fn verdicts_follow_the_thresholds() {
        let t = Thresholds { mark: 5, delete: 20 };
        assert_eq!(t.verdict(&tally(&[4])), Verdict::Pass);
        assert_eq!(t.verdict(&tally(&[3, 2])), Verdict::Mark);
        assert_eq!(t.verdict(&tally(&[3, 17])), Verdict::Refuse("reason 0".into()));
    }

    #[test]
    fn zero_turns_a_threshold_off() {
        let no_delete = Thresholds { mark: 5, delete: 0 };
        assert_eq!(no_delete.verdict(&tally(&[100])), Verdict::Mark);
        let nothing = Thresholds { mark: 0, delete: 0 };
        assert_eq!(nothing.verdict(&tally(&[100])), Verdict::Pass);
        assert!(!nothing.settled(&tally(&[100])));
    }

    #[test]
    fn tests_stop_at_the_higher_threshold() {
        let t = Thresholds { mark: 5, delete: 20 };
        assert!(!t.settled(&tally(&[19])));
        assert!(t.settled(&tally(&[20])));
        let mark_only = Thresholds { mark: 5, delete: 0 };
        assert!(mark_only.settled(&tally(&[5])));
    }
}
