//! Input split into pieces, for the property every sans-IO session has: however the bytes of a
//! dialogue arrive, the dialogue is the same.
//!
//! ```
//! use altimail_testkit::splits::{assert_every_split_gives_the_same_result, cut_at};
//!
//! assert_eq!(cut_at(b"NOOP\r\n", &[4, 2]), [&b"NO"[..], b"OP", b"\r\n"]);
//! assert_every_split_gives_the_same_result(b"NOOP\r\n", |chunks| chunks.concat());
//! ```

use std::fmt::Debug;

/// `input` cut at `cuts`: positions in any order, repeats allowed, those past the end taken as
/// the end. Empty pieces are kept, so `n` cuts always give `n + 1` pieces.
pub fn cut_at<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&cut| cut.min(input.len())).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts {
        chunks.push(&input[start..cut]);
        start = cut;
    }
    chunks.push(&input[start..]);
    chunks
}

/// Asserts that `run` (which feeds the session the chunks it is given, in order, and returns
/// what came out) gives the same result for `input` one octet at a time, and split in two at
/// every point, as for `input` whole.
pub fn assert_every_split_gives_the_same_result<T: PartialEq + Debug>(
    input: &[u8],
    mut run: impl FnMut(&[&[u8]]) -> T,
) {
    let whole = run(&[input]);
    let octets: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(run(&octets), whole, "one octet at a time");
    for split in 0..=input.len() {
        let (a, b) = input.split_at(split);
        assert_eq!(run(&[a, b]), whole, "split at {split}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_in_order() {
        assert_eq!(cut_at(b"abc", &[]), [&b"abc"[..]]);
        assert_eq!(cut_at(b"abc", &[2, 0, 2, 9]), [&b""[..], b"ab", b"", b"c", b""]);
    }

    #[test]
    #[should_panic(expected = "split at 1")]
    fn reports_the_failing_split() {
        assert_every_split_gives_the_same_result(b"abc", |chunks| chunks.len() != 2 || chunks[0] != b"a");
    }
}
