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
}
