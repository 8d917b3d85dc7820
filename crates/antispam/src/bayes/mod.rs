//! The Bayesian filter: a classifier that learns from what users file as junk and what they take
//! out of it, and whose score joins the other tests'.
//!
//! - `tokenize`: the words of a message (bounded: see [`MAX_TOKENS`] and [`MAX_SCAN_BYTES`]).
//! - `classify`: Robinson's chi-square combining ([`spam_probability`]).
//! - this module: the settings, and scoring and learning against the database
//!   (`altimail_store::repo::bayes`), one table per domain or a global one.
//!
//! The SMTP pipeline calls [`score`] with the recipient domain's id; the IMAP server calls
//! [`learn`] when a message is filed into or out of the Junk folder.

mod classify;
mod tokenize;

pub use classify::{Tuning, spam_probability, token_probability};
pub use tokenize::{MAX_SCAN_BYTES, MAX_TOKEN_CHARS, MAX_TOKENS, message_key, token_hash, tokenize};

use altimail_store::repo::bayes::{self, Class, Learnt};
use altimail_store::repo::settings::Settings;
use altimail_store::{Db, StoreError};

use crate::Finding;

/// The name of the test in findings and log lines.
pub const TEST_NAME: &str = "Bayes";

/// The settings of the filter (`altimailbayes…`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BayesSettings {
    /// `altimailbayesenabled`.
    pub enabled: bool,
    /// `altimailbayesperdomain`: one table per domain rather than a global one.
    pub per_domain: bool,
    /// `altimailbayesscore`: what a spam verdict adds to the message's score.
    pub score: i32,
    /// `altimailbayesthreshold`: the spam probability, in percent, from which it is added.
    pub threshold_percent: i64,
    /// `altimailbayesminmessages`: spam and ham messages each that must have been learnt
    /// before the filter judges.
    pub min_messages: i64,
}

impl BayesSettings {
    pub fn from_settings(s: &Settings) -> BayesSettings {
        BayesSettings {
            enabled: s.bool("altimailbayesenabled"),
            per_domain: s.bool("altimailbayesperdomain"),
            score: i32::try_from(s.int("altimailbayesscore")).unwrap_or(i32::MAX),
            threshold_percent: s.int("altimailbayesthreshold").clamp(0, 100),
            min_messages: s.int("altimailbayesminmessages").max(1),
        }
    }

    /// The table a message of the domain `domain_id` is scored against and learnt into.
    pub fn scope(&self, domain_id: i64) -> i64 {
        if self.per_domain { domain_id } else { bayes::GLOBAL }
    }

    /// The finding for a spam probability, when it reaches the threshold.
    pub fn finding(&self, probability: f64) -> Option<Finding> {
        if probability * 100.0 + 1e-9 < self.threshold_percent as f64 || self.score == 0 {
            return None;
        }
        Some(Finding::new(TEST_NAME, self.score, format!("Bayesian filter: spam probability {probability:.2}")))
    }
}

/// The hashes of a message's tokens.
fn hashes(raw: &[u8]) -> Vec<i64> {
    tokenize(raw).iter().map(|t| token_hash(t)).collect()
}

/// The spam probability of a message against the table `scope`, or `None` while fewer than
/// `min_messages` of either class were learnt there. Reads the class counts (one query) and,
/// when they suffice, the message's tokens (one query per 500 tokens).
pub async fn probability(db: &Db, scope: i64, min_messages: i64, raw: &[u8]) -> Result<Option<f64>, StoreError> {
    let learnt = bayes::counts(db, scope).await?;
    if learnt.spam < min_messages.max(1) || learnt.ham < min_messages.max(1) {
        return Ok(None);
    }
    let tokens = hashes(raw);
    let known = bayes::token_counts(db, scope, &tokens).await?;
    Ok(spam_probability(known.into_values(), learnt, min_messages, &Tuning::default()))
}

/// What the filter finds about a message for a recipient in domain `domain_id`: a finding when
/// it is on, has learnt enough and the spam probability reaches the threshold.
pub async fn score(
    db: &Db,
    settings: &BayesSettings,
    domain_id: i64,
    raw: &[u8],
) -> Result<Option<Finding>, StoreError> {
    if !settings.enabled {
        return Ok(None);
    }
    let p = probability(db, settings.scope(domain_id), settings.min_messages, raw).await?;
    Ok(p.and_then(|p| settings.finding(p)))
}

/// Learns a message as `class` in the table `scope`. A message already learnt as the other class
/// (recognised by its Message-ID, or its content) is moved over; one learnt as this class is
/// left alone.
pub async fn learn(db: &Db, scope: i64, raw: &[u8], class: Class) -> Result<Learnt, StoreError> {
    let now = unix_now();
    bayes::learn(db, scope, message_key(raw), &hashes(raw), class, now).await
}

/// Seconds since the Unix epoch.
fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use altimail_store::repo::bayes::Counts;

    fn settings() -> BayesSettings {
        BayesSettings { enabled: true, per_domain: false, score: 5, threshold_percent: 90, min_messages: 3 }
    }

    #[test]
    fn findings_from_the_threshold_on() {
        let s = settings();
        assert_eq!(s.finding(0.89), None);
        let f = s.finding(0.97).unwrap();
        assert_eq!((f.test, f.score, f.reason.as_str()), ("Bayes", 5, "Bayesian filter: spam probability 0.97"));
        assert!(s.finding(0.9).is_some());
        assert_eq!(BayesSettings { score: 0, ..s }.finding(1.0), None);
        assert_eq!(s.scope(7), 0);
        assert_eq!(BayesSettings { per_domain: true, ..s }.scope(7), 7);
    }

    /// A small corpus learnt in memory, the way the database counts it.
    #[test]
    fn a_trained_corpus_tells_spam_from_ham() {
        use std::collections::HashMap;
        let spam = [
            "Subject: Cheap pills online\r\n\r\nBuy cheap viagra pills now, best price, click https://pills.example/buy",
            "Subject: You won a prize\r\n\r\nClaim your prize now, click https://prize.example/claim cheap offer",
            "Subject: Best price pills\r\n\r\nCheap meds, no prescription, click now https://pills.example/x",
            "Subject: Casino bonus\r\n\r\nFree casino bonus, click now, best offer https://casino.example",
        ];
        let ham = [
            "Subject: Meeting tomorrow\r\n\r\nHi John, can we move the project meeting to Tuesday afternoon?",
            "Subject: Project report\r\n\r\nAttached is the quarterly report for the project, see you Tuesday.",
            "Subject: Lunch\r\n\r\nJohn, lunch on Tuesday with the project team? Regards, Mary",
            "Subject: Minutes\r\n\r\nThe minutes of the meeting are in the shared folder. Regards, Mary",
        ];
        let mut table: HashMap<i64, Counts> = HashMap::new();
        for (msgs, is_spam) in [(&spam, true), (&ham, false)] {
            for m in msgs {
                for h in hashes(m.as_bytes()) {
                    let c = table.entry(h).or_default();
                    if is_spam { c.spam += 1 } else { c.ham += 1 }
                }
            }
        }
        let learnt = Counts { spam: 4, ham: 4 };
        let judge = |m: &str| {
            let known = hashes(m.as_bytes()).into_iter().filter_map(|h| table.get(&h).copied());
            spam_probability(known, learnt, 3, &Tuning::default()).unwrap()
        };
        let p_spam = judge("Subject: Cheap offer\r\n\r\nClick now for cheap pills at https://pills.example/new");
        let p_ham = judge("Subject: Tuesday\r\n\r\nMary, the project meeting minutes for Tuesday. Regards, John");
        assert!(p_spam > 0.9, "{p_spam}");
        assert!(p_ham < 0.1, "{p_ham}");
        assert_eq!(spam_probability([], Counts { spam: 2, ham: 4 }, 3, &Tuning::default()), None);
    }
}
