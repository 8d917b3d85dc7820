//! The ESEARCH response (RFC 4731), with SAVE (RFC 5182) and CONDSTORE's MODSEQ (RFC 7162 §3.1.5).

use super::compact_set;
use crate::search::SearchReturn;
use crate::wire::{number, quoted};

/// Appends `* ESEARCH (TAG "tag") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ n]\r\n`.
///
/// `results` are the matching ids (sequence numbers or UIDs, per `uid`) in any order. An empty
/// `returns` (`RETURN ()`) means `ALL`. With no match, `MIN`, `MAX`, `ALL` and `MODSEQ` are left
/// out and only `COUNT 0` can remain. When `SAVE` is the only option nothing is written: the
/// result is kept for `$` and the client asked for no data (RFC 5182 §2.1). `modseq` is the
/// highest mod-sequence of the matching messages when the search used `MODSEQ`.
pub fn esearch(
    out: &mut Vec<u8>,
    tag: &str,
    uid: bool,
    returns: &[SearchReturn],
    results: &[u32],
    modseq: Option<u64>,
) {
    if returns == [SearchReturn::Save] {
        return;
    }
    let all = returns.is_empty() || returns.contains(&SearchReturn::All);
    out.extend_from_slice(b"* ESEARCH (TAG ");
    quoted(out, tag.as_bytes());
    out.push(b')');
    if uid {
        out.extend_from_slice(b" UID");
    }
    let item = |out: &mut Vec<u8>, name: &[u8], n: u64| {
        out.push(b' ');
        out.extend_from_slice(name);
        out.push(b' ');
        number(out, n);
    };
    if let (Some(&min), Some(&max)) = (results.iter().min(), results.iter().max()) {
        if returns.contains(&SearchReturn::Min) {
            item(out, b"MIN", u64::from(min));
        }
        if returns.contains(&SearchReturn::Max) {
            item(out, b"MAX", u64::from(max));
        }
    }
    if returns.contains(&SearchReturn::Count) {
        let mut unique = results.to_vec();
        unique.sort_unstable();
        unique.dedup();
        item(out, b"COUNT", unique.len() as u64);
    }
    if all && !results.is_empty() {
        out.extend_from_slice(b" ALL ");
        out.extend_from_slice(&compact_set(results));
    }
    if let Some(m) = modseq
        && !results.is_empty()
    {
        item(out, b"MODSEQ", m);
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use SearchReturn::*;

    fn run(uid: bool, returns: &[SearchReturn], results: &[u32], modseq: Option<u64>) -> String {
        let mut out = Vec::new();
        esearch(&mut out, "A1", uid, returns, results, modseq);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn responses() {
        let r = [7, 1, 2, 3, 9];
        assert_eq!(
            run(true, &[Min, Max, Count, All], &r, None),
            "* ESEARCH (TAG \"A1\") UID MIN 1 MAX 9 COUNT 5 ALL 1:3,7,9\r\n"
        );
        assert_eq!(run(false, &[], &r, None), "* ESEARCH (TAG \"A1\") ALL 1:3,7,9\r\n");
        assert_eq!(run(false, &[Count], &[], None), "* ESEARCH (TAG \"A1\") COUNT 0\r\n");
        assert_eq!(run(true, &[Min, Max, All], &[], Some(5)), "* ESEARCH (TAG \"A1\") UID\r\n");
        assert_eq!(run(false, &[Max, Save], &r, Some(917)), "* ESEARCH (TAG \"A1\") MAX 9 MODSEQ 917\r\n");
        assert_eq!(run(false, &[Save], &r, None), "");
    }
}
