//! Writing a set of numbers in the compact `sequence-set` form: `1:3,7,9:12`.

use crate::wire;

/// Runs of consecutive numbers in ascending `numbers`, as inclusive `(first, last)` pairs.
pub fn runs(numbers: &[u32]) -> impl Iterator<Item = (u32, u32)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let &start = numbers.get(i)?;
        let mut end = start;
        i += 1;
        while let Some(&n) = numbers.get(i) {
            if end.checked_add(1) != Some(n) {
                break;
            }
            end = n;
            i += 1;
        }
        Some((start, end))
    })
}

/// Appends ascending, unique `numbers` as a sequence set, runs folded into ranges.
///
/// Writes nothing for an empty slice. Numbers out of order still give a valid (if longer) set.
pub fn write_compact_set(out: &mut Vec<u8>, numbers: &[u32]) {
    write_runs(out, runs(numbers));
}

/// Appends `(first, last)` runs as a sequence set.
pub fn write_runs(out: &mut Vec<u8>, runs: impl IntoIterator<Item = (u32, u32)>) {
    for (n, (start, end)) in runs.into_iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        wire::number(out, u64::from(start));
        if end != start {
            out.push(b':');
            wire::number(out, u64::from(end));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(numbers: &[u32]) -> String {
        let mut out = Vec::new();
        write_compact_set(&mut out, numbers);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn folds_runs() {
        assert_eq!(set(&[]), "");
        assert_eq!(set(&[5]), "5");
        assert_eq!(set(&[1, 2, 3, 7]), "1:3,7");
        assert_eq!(set(&[1, 3, 4, 5, 9, 10]), "1,3:5,9:10");
        assert_eq!(set(&[3, 1]), "3,1");
        assert_eq!(set(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
    }
}
