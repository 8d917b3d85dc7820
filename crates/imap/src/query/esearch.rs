//! The ESEARCH response (RFC 4731), with SAVE (RFC 5182), CONDSTORE's MODSEQ (RFC 7162 §3.1.5),
//! ESORT and CONTEXT=SEARCH updates (RFC 5267) and PARTIAL (RFC 9394).

use super::partial::PartialRange;
use super::set::{compact_set, ordered_set};
use crate::search::SearchReturn;
use crate::wire::{number, quoted};

/// Appends `* ESEARCH (TAG "tag") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ n]\r\n`.
///
/// `results` are the matching ids (sequence numbers or UIDs, per `uid`) in any order. An empty
/// `returns` (`RETURN ()`) means `ALL`. With no match, `MIN`, `MAX`, `ALL` and `MODSEQ` are left
/// out and only `COUNT 0` can remain. When `SAVE` is the only option nothing is written: the
/// result is kept for `$` and the client asked for no data (RFC 5182 §2.1). `modseq` is the
/// mod-sequence to report when the search used `MODSEQ`.
pub fn esearch(
    out: &mut Vec<u8>,
    tag: &str,
    uid: bool,
    returns: &[SearchReturn],
    results: &[u32],
    modseq: Option<u64>,
) {
    let reply = Esearch { tag, uid, returns, partial: None, modseq, sorted: false };
    esearch_reply(out, &reply, results);
}

/// Everything an ESEARCH response says besides the results themselves.
#[derive(Debug, Clone, Copy)]
pub struct Esearch<'a> {
    /// The command's tag.
    pub tag: &'a str,
    /// Whether the ids are UIDs.
    pub uid: bool,
    /// The return options other than `PARTIAL`.
    pub returns: &'a [SearchReturn],
    /// `PARTIAL` (RFC 9394), if asked for.
    pub partial: Option<PartialRange>,
    /// The mod-sequence to report when the search used `MODSEQ` (RFC 7162 §3.1.5).
    pub modseq: Option<u64>,
    /// The results are a SORT's, in sort order (ESORT, RFC 5267 §3.2).
    pub sorted: bool,
}

/// Appends one ESEARCH response for `results`.
///
/// For a search, `results` may come in any order. For a sort (`sorted`) they are in sort order,
/// which `ALL` and `PARTIAL` keep, and `MIN`/`MAX` are the first and last in that order
/// (RFC 5267 §3.2). No return options and no `PARTIAL` means `ALL`. `PARTIAL` with an empty
/// window gives `PARTIAL (range NIL)`.
pub fn esearch_reply(out: &mut Vec<u8>, reply: &Esearch<'_>, results: &[u32]) {
    let returns = reply.returns;
    if returns == [SearchReturn::Save] && reply.partial.is_none() {
        return;
    }
    let mut ordered;
    let results = if reply.sorted {
        results
    } else {
        ordered = results.to_vec();
        ordered.sort_unstable();
        ordered.dedup();
        &ordered[..]
    };
    let set = |ids: &[u32]| if reply.sorted { ordered_set(ids) } else { compact_set(ids) };
    let all = returns.contains(&SearchReturn::All) || (returns.is_empty() && reply.partial.is_none());
    out.extend_from_slice(b"* ESEARCH (TAG ");
    quoted(out, reply.tag.as_bytes());
    out.push(b')');
    if reply.uid {
        out.extend_from_slice(b" UID");
    }
    let item = |out: &mut Vec<u8>, name: &[u8], n: u64| {
        out.push(b' ');
        out.extend_from_slice(name);
        out.push(b' ');
        number(out, n);
    };
    if let (Some(&first), Some(&last)) = (results.first(), results.last()) {
        if returns.contains(&SearchReturn::Min) {
            item(out, b"MIN", u64::from(first));
        }
        if returns.contains(&SearchReturn::Max) {
            item(out, b"MAX", u64::from(last));
        }
    }
    if returns.contains(&SearchReturn::Count) {
        item(out, b"COUNT", results.len() as u64);
    }
    if all && !results.is_empty() {
        out.extend_from_slice(b" ALL ");
        out.extend_from_slice(&set(results));
    }
    if let Some(range) = reply.partial {
        out.extend_from_slice(b" PARTIAL (");
        out.extend_from_slice(range.to_text().as_bytes());
        let window = range.select(results);
        if window.is_empty() {
            out.extend_from_slice(b" NIL)");
        } else {
            out.push(b' ');
            out.extend_from_slice(&set(window));
            out.push(b')');
        }
    }
    if let Some(m) = reply.modseq
        && !results.is_empty()
    {
        item(out, b"MODSEQ", m);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends the unsolicited ESEARCH responses that bring a client's `RETURN (UPDATE)` result up to
/// date (RFC 5267 §4.3): `REMOVEFROM` for the ids that left it, then `ADDTO` for those that
/// joined, each in one response, nothing when neither changed. The position is 0 because a
/// SEARCH result has no order for it to refer to (RFC 5267 §4.4).
///
/// `removed` ids are as the client last saw them: when messages are expunged, report them
/// before the `EXPUNGE` responses that renumber the rest.
pub fn context_update(out: &mut Vec<u8>, tag: &str, uid: bool, removed: &[u32], added: &[u32]) {
    for (name, ids) in [(&b"REMOVEFROM"[..], removed), (&b"ADDTO"[..], added)] {
        if ids.is_empty() {
            continue;
        }
        out.extend_from_slice(b"* ESEARCH (TAG ");
        quoted(out, tag.as_bytes());
        out.push(b')');
        if uid {
            out.extend_from_slice(b" UID");
        }
        out.push(b' ');
        out.extend_from_slice(name);
        out.extend_from_slice(b" (0 ");
        out.extend_from_slice(&compact_set(ids));
        out.extend_from_slice(b")\r\n");
    }
}

/// What changed between two results of the same search: `(removed, added)`, each ascending.
pub fn result_diff(old: &[u32], new: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let sorted = |ids: &[u32]| {
        let mut v = ids.to_vec();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (old, new) = (sorted(old), sorted(new));
    let removed = old.iter().copied().filter(|id| new.binary_search(id).is_err()).collect();
    let added = new.iter().copied().filter(|id| old.binary_search(id).is_err()).collect();
    (removed, added)
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
        assert_eq!(run(false, &[Count, All], &[3, 3, 1], None), "* ESEARCH (TAG \"A1\") COUNT 2 ALL 1,3\r\n");
    }

    fn reply(returns: &[SearchReturn], partial: Option<&str>, sorted: bool, uid: bool, results: &[u32]) -> String {
        let partial = partial.map(|p| PartialRange::parse(p).unwrap());
        let mut out = Vec::new();
        esearch_reply(&mut out, &Esearch { tag: "t", uid, returns, partial, modseq: None, sorted }, results);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn partial_windows() {
        let r = [1, 2, 4, 5];
        assert_eq!(reply(&[], Some("1:3"), false, false, &r), "* ESEARCH (TAG \"t\") PARTIAL (1:3 1:2,4)\r\n");
        assert_eq!(
            reply(&[], Some("4:2"), false, false, &[5, 4, 3, 2, 1]),
            "* ESEARCH (TAG \"t\") PARTIAL (2:4 2:4)\r\n"
        );
        assert_eq!(reply(&[], Some("6:6"), false, true, &r), "* ESEARCH (TAG \"t\") UID PARTIAL (6:6 NIL)\r\n");
        assert_eq!(reply(&[], Some("-1:-2"), false, false, &r), "* ESEARCH (TAG \"t\") PARTIAL (-1:-2 4:5)\r\n");
        assert_eq!(reply(&[Count], Some("1:1"), false, false, &r), "* ESEARCH (TAG \"t\") COUNT 4 PARTIAL (1:1 1)\r\n");
    }

    #[test]
    fn sorted_results_keep_their_order() {
        // imaptest's esort and sort-partial: reverse arrival of five messages, 3 and 4 arrived together.
        let order = [5, 3, 4, 2, 1];
        assert_eq!(
            reply(&[Min, Max, Count, All], None, true, false, &order),
            "* ESEARCH (TAG \"t\") MIN 5 MAX 1 COUNT 5 ALL 5,3:4,2,1\r\n"
        );
        assert_eq!(reply(&[], Some("2:4"), true, false, &order), "* ESEARCH (TAG \"t\") PARTIAL (2:4 3:4,2)\r\n");
        assert_eq!(reply(&[], Some("1:6"), true, false, &order), "* ESEARCH (TAG \"t\") PARTIAL (1:6 5,3:4,2,1)\r\n");
        assert_eq!(reply(&[All], None, true, false, &[1, 2, 3, 4, 5]), "* ESEARCH (TAG \"t\") ALL 1:5\r\n");
        assert_eq!(reply(&[Min], None, true, false, &[]), "* ESEARCH (TAG \"t\")\r\n");
    }

    #[test]
    fn context_updates() {
        let (removed, added) = result_diff(&[1, 2, 4], &[4, 3, 5, 5]);
        assert_eq!((removed.as_slice(), added.as_slice()), (&[1, 2][..], &[3, 5][..]));
        let mut out = Vec::new();
        context_update(&mut out, "s1", false, &removed, &added);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "* ESEARCH (TAG \"s1\") REMOVEFROM (0 1:2)\r\n* ESEARCH (TAG \"s1\") ADDTO (0 3,5)\r\n"
        );
        let mut out = Vec::new();
        context_update(&mut out, "s1", true, &[], &[]);
        assert!(out.is_empty());
        context_update(&mut out, "s1", true, &[], &[7]);
        assert_eq!(String::from_utf8(out).unwrap(), "* ESEARCH (TAG \"s1\") UID ADDTO (0 7)\r\n");
    }
}
