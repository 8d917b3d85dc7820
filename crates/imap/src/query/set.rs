//! Sequence sets from lists of numbers, for ESEARCH `ALL` (RFC 4731), ESORT (RFC 5267) and
//! COPYUID (RFC 4315).

use crate::mailbox::write_compact_set;

/// `ids` as a compact sequence set such as `1:3,5,7:9`: sorted, duplicates dropped, runs of
/// consecutive numbers joined. Empty input gives empty output, which is not a valid set: callers
/// omit the item instead.
pub fn compact_set(ids: &[u32]) -> Vec<u8> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    ordered_set(&sorted)
}

/// `ids` as a sequence set that keeps their order, for a sorted result (RFC 5267 §3.2): only
/// ascending runs of consecutive numbers are joined, so `5 3 4 2 1` gives `5,3:4,2,1`.
pub fn ordered_set(ids: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    write_compact_set(&mut out, ids);
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

    #[test]
    fn ordered_sets() {
        let cases: &[(&[u32], &str)] =
            &[(&[], ""), (&[5, 3, 4, 2, 1], "5,3:4,2,1"), (&[1, 2, 3], "1:3"), (&[u32::MAX, 1, 2], "4294967295,1:2")];
        for (ids, want) in cases {
            assert_eq!(String::from_utf8(ordered_set(ids)).unwrap(), *want, "{ids:?}");
        }
    }
}
