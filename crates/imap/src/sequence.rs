//! Sequence sets: `1:4,7,9:*` and the saved result `$` (RFC 5182).

use crate::cursor::Cursor;
use crate::error::ParseError;

/// One end of a range: a number or `*` (the largest in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqBound {
    /// A message sequence number or UID.
    Num(u32),
    /// `*`.
    Star,
}

/// A sequence set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SequenceSet {
    /// Ranges; a single number is a range with equal ends.
    Ranges(Vec<(SeqBound, SeqBound)>),
    /// `$`: the result saved by `SEARCH RETURN (SAVE)`.
    Saved,
}

fn bound(c: &mut Cursor<'_>) -> Result<SeqBound, ParseError> {
    if c.eat(b'*') { Ok(SeqBound::Star) } else { c.nz_number().map(SeqBound::Num) }
}

/// Parse a `sequence-set`.
pub fn sequence_set(c: &mut Cursor<'_>) -> Result<SequenceSet, ParseError> {
    if c.eat(b'$') {
        return Ok(SequenceSet::Saved);
    }
    let mut ranges = Vec::new();
    loop {
        let a = bound(c)?;
        let b = if c.eat(b':') { bound(c)? } else { a };
        ranges.push((a, b));
        if !c.eat(b',') {
            return Ok(SequenceSet::Ranges(ranges));
        }
    }
}

impl SequenceSet {
    /// Whether `n` is in the set when `*` is read as unbounded, as for UIDs the server no longer
    /// has (VANISHED, UID EXPUNGE). `$` is resolved by the caller; here it covers everything.
    pub fn covers(&self, n: u32) -> bool {
        let SequenceSet::Ranges(ranges) = self else { return true };
        let value = |b: &SeqBound| match b {
            SeqBound::Num(n) => *n,
            SeqBound::Star => u32::MAX,
        };
        ranges.iter().any(|(a, b)| {
            let (a, b) = (value(a), value(b));
            (a.min(b)..=a.max(b)).contains(&n)
        })
    }
}

/// True if the next byte can start a sequence set.
pub fn starts_sequence(c: &Cursor<'_>) -> bool {
    matches!(c.peek(), Some(b'0'..=b'9' | b'*' | b'$'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<SequenceSet, ParseError> {
        sequence_set(&mut Cursor::new(s.as_bytes()))
    }

    #[test]
    fn ranges_and_star() {
        use SeqBound::*;
        assert_eq!(
            p("1:4,7,9:*").unwrap(),
            SequenceSet::Ranges(vec![(Num(1), Num(4)), (Num(7), Num(7)), (Num(9), Star)])
        );
        assert_eq!(p("$").unwrap(), SequenceSet::Saved);
        assert!(p("0").is_err());
        assert!(p("1:").is_err());
        assert!(p("99999999999").is_err());
    }

    #[test]
    fn covers_reads_star_as_unbounded() {
        let set = p("3:1,9:*").unwrap();
        assert!(set.covers(1) && set.covers(3) && set.covers(9) && set.covers(u32::MAX));
        assert!(!set.covers(4) && !set.covers(8));
        assert!(SequenceSet::Saved.covers(5));
    }
}
