//! Sequence sets from lists of numbers, for ESEARCH `ALL` (RFC 4731) and COPYUID (RFC 4315).

use crate::wire::number;

/// `ids` as a compact sequence set such as `1:3,5,7:9`: sorted, duplicates dropped, runs of
/// consecutive numbers joined. Empty input gives empty output, which is not a valid set: callers
/// omit the item instead.
pub fn compact_set(ids: &[u32]) -> Vec<u8> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(b',');
        }
        number(&mut out, u64::from(start));
        if end != start {
            out.push(b':');
            number(&mut out, u64::from(end));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets() {
        let cases: &[(&[u32], &str)] = &[
            (&[], ""),
            (&[5], "5"),
            (&[1, 2, 3, 5, 7, 8, 9], "1:3,5,7:9"),
            (&[9, 8, 7, 1, 3, 2, 5, 5, 5], "1:3,5,7:9"),
            (&[1, 3], "1,3"),
            (&[u32::MAX - 1, u32::MAX], "4294967294:4294967295"),
        ];
        for (ids, want) in cases {
            assert_eq!(String::from_utf8(compact_set(ids)).unwrap(), *want, "{ids:?}");
        }
    }
}
