//! The `PARTIAL` search return option (RFC 9394, first defined in RFC 5267 §4.4): a window of
//! positions in the result, counted from the start (`2:4`) or from the end (`-1:-10`).

/// A window of 1-based result positions. Built by [`PartialRange::parse`], which puts the
/// bounds in order, so `4:2` and `2:4` are the same range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialRange {
    /// Counted from the last result (`-1` is the last) rather than from the first.
    pub from_end: bool,
    /// The position nearer the counting end (smaller absolute value), at least 1.
    pub near: u32,
    /// The position farther from it, at least `near`.
    pub far: u32,
}

impl PartialRange {
    /// Parses `n:m` or `-n:-m` with nonzero numbers in either order. `*`, a single number, a
    /// zero and mixed signs are refused, as the grammar has no room for them.
    pub fn parse(text: &str) -> Option<Self> {
        let (a, b) = text.split_once(':')?;
        let (from_end, a, b) = match (a.strip_prefix('-'), b.strip_prefix('-')) {
            (Some(a), Some(b)) => (true, a, b),
            (None, None) => (false, a, b),
            _ => return None,
        };
        let (a, b) = (nz_number(a)?, nz_number(b)?);
        Some(Self { from_end, near: a.min(b), far: a.max(b) })
    }

    /// The range as the client should see it echoed: `2:4` or `-1:-10`.
    pub fn to_text(&self) -> String {
        if self.from_end { format!("-{}:-{}", self.near, self.far) } else { format!("{}:{}", self.near, self.far) }
    }

    /// The part of `results` (in result order) that the window covers; empty when it lies
    /// beyond the result.
    pub fn select<'r>(&self, results: &'r [u32]) -> &'r [u32] {
        let len = results.len();
        let (near, far) = (self.near as usize, self.far as usize);
        if near > len {
            return &[];
        }
        let far = far.min(len);
        if self.from_end { &results[len - far..=len - near] } else { &results[near - 1..far] }
    }
}

/// A nz-number: digits only, no leading zero, fits in 32 bits.
fn nz_number(s: &str) -> Option<u32> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let r = |from_end, near, far| Some(PartialRange { from_end, near, far });
        assert_eq!(PartialRange::parse("2:4"), r(false, 2, 4));
        assert_eq!(PartialRange::parse("4:2"), r(false, 2, 4));
        assert_eq!(PartialRange::parse("-1:-10"), r(true, 1, 10));
        assert_eq!(PartialRange::parse("-10:-1"), r(true, 1, 10));
        for bad in ["1", "1:*", "*:1", "0:3", "1:-3", "-1:3", "", ":", "01:2", "1:99999999999", "a:b", "+1:2"] {
            assert_eq!(PartialRange::parse(bad), None, "{bad}");
        }
        assert_eq!(PartialRange::parse("4:2").unwrap().to_text(), "2:4");
        assert_eq!(PartialRange::parse("-5:-1").unwrap().to_text(), "-1:-5");
    }

    #[test]
    fn selects_windows() {
        let results = [1, 2, 4, 5];
        let sel = |t: &str| PartialRange::parse(t).unwrap().select(&results).to_vec();
        assert_eq!(sel("1:1"), [1]);
        assert_eq!(sel("2:3"), [2, 4]);
        assert_eq!(sel("2:10"), [2, 4, 5]);
        assert_eq!(sel("5:6"), [] as [u32; 0]);
        assert_eq!(sel("-1:-1"), [5]);
        assert_eq!(sel("-1:-2"), [4, 5]);
        assert_eq!(sel("-2:-100"), [1, 2, 4]);
        assert_eq!(sel("-5:-9"), [] as [u32; 0]);
        assert_eq!(PartialRange::parse("1:4294967295").unwrap().select(&[]), &[] as &[u32]);
    }
}
