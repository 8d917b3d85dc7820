//! What the running server counts for its status (messages received and sent, spam, viruses):
//! process-wide counters the sessions and delivery add to and the administration reads.
//! They start at zero with the process; nothing is stored.

use std::sync::atomic::{AtomicU64, Ordering};

/// One thing counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// A message accepted by SMTP (received or submitted).
    Received = 0,
    /// A recipient delivered to another server.
    Sent = 1,
    /// A message marked or refused as spam.
    Spam = 2,
    /// A message in which a virus was found.
    Virus = 3,
}

static COUNTS: [AtomicU64; 4] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Adds one to `counter`.
pub fn count(counter: Counter) {
    COUNTS[counter as usize].fetch_add(1, Ordering::Relaxed);
}

/// The current value of `counter`.
pub fn get(counter: Counter) -> u64 {
    COUNTS[counter as usize].load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_adds_one() {
        let before = get(Counter::Virus);
        count(Counter::Virus);
        assert!(get(Counter::Virus) > before);
    }
}
