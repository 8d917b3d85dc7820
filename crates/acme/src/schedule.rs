//! When to renew and how long to wait after a failure: plain arithmetic on times the caller
//! passes in.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// When a certificate valid from `not_before` to `not_after` is renewed: once a third of its
/// lifetime is left (day 60 of Let's Encrypt's 90, day 4 of a 6-day certificate).
pub fn renew_at(not_before: DateTime<Utc>, not_after: DateTime<Utc>) -> DateTime<Utc> {
    let lifetime = not_after - not_before;
    not_after - lifetime / 3
}

/// The delay before the next attempt after consecutive failures: 5 minutes, doubled after each
/// further failure, at most 6 hours (a CA's rate limits count failed validations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    most: Duration,
    failures: u32,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new(Duration::from_secs(5 * 60), Duration::from_secs(6 * 3600))
    }
}

impl Backoff {
    /// Starts at `first`, doubling up to `most`.
    pub fn new(first: Duration, most: Duration) -> Backoff {
        Backoff { first, most: most.max(first), failures: 0 }
    }

    /// Counts a failure and returns the delay before the next attempt.
    pub fn failed(&mut self) -> Duration {
        let doubled = self.first.saturating_mul(1u32 << self.failures.min(16));
        self.failures = self.failures.saturating_add(1);
        doubled.min(self.most)
    }

    /// Back to the first delay.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renews_with_a_third_left() {
        let from = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        let until = from + chrono::Duration::days(90);
        assert_eq!(renew_at(from, until), from + chrono::Duration::days(60));
        let short = from + chrono::Duration::hours(6);
        assert_eq!(renew_at(from, short), from + chrono::Duration::hours(4));
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling_and_resets() {
        let mut b = Backoff::default();
        let delays: Vec<u64> = (0..9).map(|_| b.failed().as_secs() / 60).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 360, 360]);
        b.succeeded();
        assert_eq!(b.failed(), Duration::from_secs(300));
    }
}
