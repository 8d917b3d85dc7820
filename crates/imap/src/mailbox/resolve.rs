//! Turning a client's sequence set into the sequence numbers it names.

use super::view::SelectedMailbox;
use crate::sequence::{SeqBound, SequenceSet};

/// A message sequence set the session answers with `BAD` (RFC 9051 §6.4: a number above the
/// messages the client knows of is a client error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadSet {
    /// A message sequence number above `exists`.
    #[error("message sequence number {seq} is above the {exists} messages in the mailbox")]
    OutOfRange {
        /// The number the client gave.
        seq: u32,
        /// Messages the client knows of.
        exists: u32,
    },
    /// `*` as a message sequence number in an empty mailbox.
    #[error("no messages, so * names none")]
    NoMessages,
}

impl SelectedMailbox {
    /// Resolves a set to sequence numbers (ascending, unique).
    ///
    /// * Message sequence sets (`uid` false): `*` is the last message; a number above
    ///   [`exists`](Self::exists), or `*` in an empty mailbox, is [`BadSet`] (answer `BAD`).
    /// * UID sets: UIDs not in the view are ignored, and `*` is the highest UID, so `n:*`
    ///   always includes the last message (RFC 9051 §6.4.9). An empty mailbox gives an empty list.
    /// * `$` resolves to `saved`, which holds UIDs (RFC 5182), in both modes.
    ///
    /// Expunged-but-unannounced messages keep their numbers (RFC 3501 §7.4.1), so they can be
    /// in the result; [`entry`](Self::entry) says which. Only messages the client knows of (the
    /// last EXISTS) are addressable. Work is proportional to the ranges plus the result, so a
    /// command repeating `1:*` thousands of times costs no more than its length.
    pub fn resolve(&self, set: &SequenceSet, uid: bool, saved: &[u32]) -> Result<Vec<u32>, BadSet> {
        let uids = &self.uids[..self.known];
        // Half-open index intervals into the view.
        let mut spans: Vec<(usize, usize)> = Vec::new();
        match set {
            SequenceSet::Saved => {
                for u in saved {
                    if let Ok(i) = uids.binary_search(u) {
                        spans.push((i, i + 1));
                    }
                }
            }
            SequenceSet::Ranges(ranges) if uid => {
                let Some(&max) = uids.last() else { return Ok(Vec::new()) };
                for &(a, b) in ranges {
                    let a = bound(a, max);
                    let b = bound(b, max);
                    let (lo, hi) = (a.min(b), a.max(b));
                    let start = uids.partition_point(|&u| u < lo);
                    let end = uids.partition_point(|&u| u <= hi);
                    if start < end {
                        spans.push((start, end));
                    }
                }
            }
            SequenceSet::Ranges(ranges) => {
                let exists = self.known as u32;
                for &(a, b) in ranges {
                    let a = seq_bound(a, exists)?;
                    let b = seq_bound(b, exists)?;
                    let (lo, hi) = (a.min(b), a.max(b));
                    if hi > exists {
                        return Err(BadSet::OutOfRange { seq: hi, exists });
                    }
                    // 0 is not a valid number; the parser refuses it, the view skips it.
                    let lo = lo.max(1);
                    if lo <= hi {
                        spans.push((lo as usize - 1, hi as usize));
                    }
                }
            }
        }
        spans.sort_unstable();
        let mut out = Vec::new();
        let mut next = 0;
        for (start, end) in spans {
            for i in start.max(next)..end {
                out.push(i as u32 + 1);
            }
            next = next.max(end);
        }
        Ok(out)
    }
}

fn bound(b: SeqBound, star: u32) -> u32 {
    match b {
        SeqBound::Num(n) => n,
        SeqBound::Star => star,
    }
}

fn seq_bound(b: SeqBound, exists: u32) -> Result<u32, BadSet> {
    match b {
        SeqBound::Star if exists == 0 => Err(BadSet::NoMessages),
        b => Ok(bound(b, exists)),
    }
}
