//! The selected-mailbox view against the RFC rules for untagged updates, and a simulated client
//! that must always end up with the store's UID list.

use altimail_imap::command::{Flag, StoreMode};
use altimail_imap::cursor::Cursor;
use altimail_imap::mailbox::{
    ANSWERED, BadSet, DELETED, Entry, FLAGGED, SEEN, SelectedMailbox, UpdateOptions, apply_store,
};
use altimail_imap::sequence::sequence_set;
use proptest::prelude::*;

fn e(uid: u32, flags: i64, modseq: u64) -> Entry {
    Entry { id: i64::from(uid) + 1000, uid, flags, keywords: Vec::new(), modseq }
}

fn mailbox(uids: &[u32]) -> SelectedMailbox {
    let next = uids.iter().max().map_or(1, |u| u + 1);
    SelectedMailbox::new(9, uids.iter().map(|&u| e(u, 0, 1)).collect(), &[], 42, next, 1, false)
}

fn resolve(view: &SelectedMailbox, set: &str, uid: bool, saved: &[u32]) -> Result<Vec<u32>, BadSet> {
    let set = sequence_set(&mut Cursor::new(set.as_bytes())).expect("valid set in test");
    view.resolve(&set, uid, saved)
}

fn updates(view: &mut SelectedMailbox, opts: UpdateOptions) -> String {
    let mut out = Vec::new();
    view.write_updates(&mut out, opts);
    String::from_utf8(out).expect("responses are ASCII")
}

const REV1: UpdateOptions =
    UpdateOptions { allow_expunge: true, qresync: false, condstore: false, rev2: false, uid_in_fetch: false };
const DURING_FETCH: UpdateOptions = UpdateOptions { allow_expunge: false, ..REV1 };
const QRESYNC: UpdateOptions =
    UpdateOptions { allow_expunge: true, qresync: true, condstore: true, rev2: true, uid_in_fetch: true };

#[test]
fn resolve_message_numbers() {
    let view = mailbox(&[3, 5, 9, 10, 20]);
    assert_eq!(resolve(&view, "1", false, &[]), Ok(vec![1]));
    assert_eq!(resolve(&view, "*", false, &[]), Ok(vec![5]));
    assert_eq!(resolve(&view, "4:*", false, &[]), Ok(vec![4, 5]));
    assert_eq!(resolve(&view, "*:4", false, &[]), Ok(vec![4, 5]));
    assert_eq!(resolve(&view, "2,1:2,5", false, &[]), Ok(vec![1, 2, 5]));
    assert_eq!(resolve(&view, "6", false, &[]), Err(BadSet::OutOfRange { seq: 6, exists: 5 }));
    assert_eq!(resolve(&view, "1:6", false, &[]), Err(BadSet::OutOfRange { seq: 6, exists: 5 }));
    assert_eq!(resolve(&view, "$", false, &[9, 20, 4]), Ok(vec![3, 5]), "$ holds UIDs");

    let empty = mailbox(&[]);
    assert_eq!(resolve(&empty, "1:*", false, &[]), Err(BadSet::NoMessages));
    assert_eq!(resolve(&empty, "1", false, &[]), Err(BadSet::OutOfRange { seq: 1, exists: 0 }));
    assert_eq!(resolve(&empty, "1:*", true, &[]), Ok(vec![]));
}

#[test]
fn resolve_uid_sets_with_gaps() {
    let view = mailbox(&[3, 5, 9, 10, 20]);
    assert_eq!(resolve(&view, "1:4", true, &[]), Ok(vec![1]));
    assert_eq!(resolve(&view, "4,6:8,11:19", true, &[]), Ok(vec![]));
    assert_eq!(resolve(&view, "5:10", true, &[]), Ok(vec![2, 3, 4]));
    assert_eq!(resolve(&view, "*", true, &[]), Ok(vec![5]));
    assert_eq!(resolve(&view, "100:*", true, &[]), Ok(vec![5]), "n:* always includes the last message");
    assert_eq!(resolve(&view, "21:4294967295", true, &[]), Ok(vec![]));
    assert_eq!(resolve(&view, "$", true, &[20, 3, 7]), Ok(vec![1, 5]));
    assert_eq!(view.seq_of_uid(9), Some(3));
    assert_eq!(view.seq_of_uid(8), None);
}

#[test]
fn resolve_sees_only_what_the_client_was_told() {
    let mut view = mailbox(&[1, 2, 3]);
    view.sync(vec![e(1, 0, 1), e(3, 0, 1), e(4, 0, 2)], &[], 2, 5);
    // UID 2 is expunged but unannounced: still message 2. UID 4 is not announced yet.
    assert_eq!(resolve(&view, "1:*", false, &[]), Ok(vec![1, 2, 3]));
    assert_eq!(resolve(&view, "4", false, &[]), Err(BadSet::OutOfRange { seq: 4, exists: 3 }));
    assert_eq!(resolve(&view, "2:*", true, &[]), Ok(vec![2, 3]));
    assert!(view.entry(2).is_some_and(|m| m.expunged && m.uid == 2));
    assert_eq!(updates(&mut view, DURING_FETCH), "* 4 EXISTS\r\n* 0 RECENT\r\n");
    assert_eq!(resolve(&view, "*", false, &[]), Ok(vec![4]));
    assert_eq!(updates(&mut view, REV1), "* 2 EXPUNGE\r\n");
    assert_eq!(resolve(&view, "*", false, &[]), Ok(vec![3]));
    assert_eq!(view.entry(3).map(|m| m.uid), Some(4));
}

#[test]
fn sync_with_new_expunged_and_changed_at_once() {
    let mut view = mailbox(&[1, 2, 3, 4, 5]);
    let fresh = vec![e(1, 0, 1), e(2, SEEN, 7), e(4, 0, 1), e(5, FLAGGED | ANSWERED, 8), e(6, 0, 9), e(7, 0, 9)];
    view.sync(fresh, &[6], 9, 8);
    assert_eq!(view.exists(), 5, "nothing changes for the client before the updates are written");
    assert_eq!(
        updates(&mut view, REV1),
        "* 3 EXPUNGE\r\n* 6 EXISTS\r\n* 1 RECENT\r\n* 2 FETCH (FLAGS (\\Seen))\r\n\
         * 4 FETCH (FLAGS (\\Answered \\Flagged))\r\n"
    );
    assert_eq!(view.uids(), &[1, 2, 4, 5, 6, 7]);
    assert_eq!((view.uid_next(), view.highest_modseq(), view.recent()), (8, 9, 1));
    assert_eq!(updates(&mut view, REV1), "", "written once");
}

#[test]
fn expunges_wait_then_come_highest_first() {
    let mut view = mailbox(&[1, 2, 3, 4, 5, 6]);
    view.sync(vec![e(1, 0, 1), e(3, 0, 1), e(4, DELETED, 2), e(6, 0, 1), e(7, 0, 3)], &[], 3, 8);
    assert_eq!(updates(&mut view, DURING_FETCH), "* 7 EXISTS\r\n* 0 RECENT\r\n* 4 FETCH (FLAGS (\\Deleted))\r\n");
    assert_eq!(view.exists(), 7);
    // More expunges pile up while the client is still not told.
    view.sync(vec![e(3, 0, 1), e(4, DELETED, 2), e(6, 0, 1), e(7, 0, 3)], &[], 3, 8);
    assert_eq!(updates(&mut view, DURING_FETCH), "");
    // Applied one by one: 5 of [1..7] is UID 5, then 2 is UID 2, then 1 is UID 1.
    assert_eq!(updates(&mut view, REV1), "* 5 EXPUNGE\r\n* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n");
    assert_eq!(view.uids(), &[3, 4, 6, 7]);
    assert_eq!(view.exists(), 4);
}

#[test]
fn vanished_uses_compact_sets() {
    let mut view = mailbox(&[1, 2, 3, 4, 5, 6, 7, 8]);
    view.sync(vec![e(4, 0, 1), e(5, 0, 1), e(6, 0, 1), e(8, 0, 1)], &[], 1, 9);
    assert_eq!(updates(&mut view, QRESYNC), "* VANISHED 1:3,7\r\n");
    assert_eq!(view.uids(), &[4, 5, 6, 8]);

    let mut big = mailbox(&(1..=3000).collect::<Vec<_>>());
    big.sync((1..=3000).filter(|u| u % 2 == 0).map(|u| e(u, 0, 1)).collect(), &[], 1, 3001);
    let out = updates(&mut big, QRESYNC);
    assert_eq!(out.lines().count(), 3, "1500 ranges go out 500 per line");
    assert!(out.lines().all(|l| l.starts_with("* VANISHED ") && l.len() < 4000));
    assert_eq!(big.exists(), 1500);
}

#[test]
fn own_expunge_is_written_at_once() {
    let mut view = mailbox(&[1, 2, 3, 4, 5]);
    view.sync(vec![e(1, 0, 1), e(3, 0, 1), e(4, 0, 1), e(5, 0, 1)], &[], 1, 6);
    let mut out = Vec::new();
    view.expunged_by_self(&[4, 5, 99], &mut out, DURING_FETCH);
    assert_eq!(out, b"* 5 EXPUNGE\r\n* 4 EXPUNGE\r\n", "others' expunge of UID 2 waits");
    assert_eq!(updates(&mut view, REV1), "* 2 EXPUNGE\r\n");
    assert_eq!(view.uids(), &[1, 3]);

    let mut out = Vec::new();
    view.expunged_by_self(&[1, 3], &mut out, QRESYNC);
    assert_eq!(out, b"* VANISHED 1,3\r\n");
    view.sync(vec![], &[], 1, 6);
    assert_eq!(updates(&mut view, REV1), "");
    assert_eq!(view.exists(), 0);
}

#[test]
fn recent_counting() {
    let mut view = SelectedMailbox::new(1, vec![e(1, 0, 1), e(2, 0, 1)], &[2], 1, 3, 1, false);
    assert_eq!(view.recent(), 1);
    view.sync(vec![e(1, 0, 1), e(2, 0, 1), e(3, 0, 2), e(4, 0, 2), e(5, 0, 2)], &[3, 5], 2, 6);
    assert_eq!(view.recent(), 1, "counts what the client knows");
    assert_eq!(updates(&mut view, REV1), "* 5 EXISTS\r\n* 3 RECENT\r\n");
    assert!(view.is_recent(3) && !view.is_recent(4) && view.is_recent(5));
    view.sync(vec![e(1, 0, 1), e(2, 0, 1), e(3, 0, 2), e(4, 0, 2), e(5, 0, 2), e(6, 0, 3)], &[6], 3, 7);
    assert_eq!(updates(&mut view, UpdateOptions { rev2: true, ..REV1 }), "* 6 EXISTS\r\n", "no RECENT in rev2");
    assert_eq!(view.recent(), 4);

    // \Recent shows in FLAGS under rev1 only.
    view.sync(vec![e(1, 0, 1), e(2, 0, 1), e(3, 0, 2), e(4, 0, 2), e(5, 0, 2), e(6, SEEN, 4)], &[], 4, 7);
    let rev1 = updates(&mut view.clone(), REV1);
    assert_eq!(rev1, "* 6 FETCH (FLAGS (\\Seen \\Recent))\r\n");
    assert_eq!(updates(&mut view, QRESYNC), "* 6 FETCH (FLAGS (\\Seen) UID 6 MODSEQ (4))\r\n");
}

#[test]
fn own_store_is_not_echoed() {
    let mut view = mailbox(&[1, 2, 3]);
    let current = view.entry(2).map(|m| (m.flags, m.keywords.to_vec())).expect("message 2");
    let (flags, keywords) =
        apply_store(StoreMode::Add, (current.0, &current.1), &[Flag::Seen, Flag::Keyword("$Junk".into())]);
    view.set_flags(2, flags, keywords.clone(), 5);
    let m = view.entry(2).expect("message 2");
    assert_eq!((m.flags, m.keywords), (SEEN, keywords.as_slice()));
    assert_eq!(view.highest_modseq(), 5);

    let fresh = |f2: i64, kw2: &[&str], m2: u64| {
        vec![e(1, 0, 1), Entry { keywords: kw2.iter().map(|s| s.to_string()).collect(), ..e(2, f2, m2) }, e(3, 0, 1)]
    };
    view.sync(fresh(SEEN, &["$Junk"], 5), &[], 5, 4);
    assert_eq!(updates(&mut view, QRESYNC), "");
    // Another session changes the same message afterwards: that is announced.
    view.sync(fresh(SEEN | FLAGGED, &["$Junk"], 6), &[], 6, 4);
    assert_eq!(updates(&mut view, QRESYNC), "* 2 FETCH (FLAGS (\\Seen \\Flagged $Junk) UID 2 MODSEQ (6))\r\n");
    // A change by others, then our STORE before the update was written: the STORE answers it.
    view.sync(fresh(0, &[], 7), &[], 7, 4);
    view.set_flags(2, DELETED, vec![], 8);
    view.sync(fresh(DELETED, &[], 8), &[], 8, 4);
    assert_eq!(updates(&mut view, QRESYNC), "");
    // Same flags, higher mod-sequence (set and cleared by others in between): announced with CONDSTORE.
    view.sync(fresh(DELETED, &[], 10), &[], 10, 4);
    assert_eq!(updates(&mut view, QRESYNC), "* 2 FETCH (FLAGS (\\Deleted) UID 2 MODSEQ (10))\r\n");
}

#[test]
fn flag_changes_of_expunged_messages_are_dropped() {
    let mut view = mailbox(&[1, 2]);
    view.sync(vec![e(1, SEEN, 2), e(2, SEEN, 2)], &[], 2, 3);
    view.sync(vec![e(2, SEEN, 2)], &[], 2, 3);
    assert_eq!(updates(&mut view, DURING_FETCH), "* 2 FETCH (FLAGS (\\Seen))\r\n");
    assert_eq!(updates(&mut view, REV1), "* 1 EXPUNGE\r\n");
}

/// What a client knows: UIDs in sequence order, learnt only from untagged responses (and for
/// new messages, a `UID FETCH` it would send after EXISTS, answered here from the view).
struct Client {
    uids: Vec<u32>,
}

impl Client {
    fn apply(&mut self, out: &str, view: &SelectedMailbox, opts: UpdateOptions) {
        for line in out.split_terminator("\r\n") {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["*", "VANISHED", set] => {
                    assert!(opts.qresync && opts.allow_expunge, "{line}");
                    let set = sequence_set(&mut Cursor::new(set.as_bytes())).expect("valid set");
                    let gone: Vec<u32> = match set {
                        altimail_imap::sequence::SequenceSet::Ranges(r) => r
                            .iter()
                            .flat_map(|&(a, b)| match (a, b) {
                                (
                                    altimail_imap::sequence::SeqBound::Num(a),
                                    altimail_imap::sequence::SeqBound::Num(b),
                                ) => a.min(b)..=a.max(b),
                                _ => panic!("no * in VANISHED"),
                            })
                            .collect(),
                        _ => panic!("no $ in VANISHED"),
                    };
                    let before = self.uids.len();
                    self.uids.retain(|u| !gone.contains(u));
                    assert_eq!(before - self.uids.len(), gone.len(), "VANISHED only names known UIDs");
                }
                ["*", n, "EXPUNGE"] => {
                    assert!(!opts.qresync && opts.allow_expunge, "{line}");
                    let n: usize = n.parse().expect("number");
                    assert!(n >= 1 && n <= self.uids.len(), "{line} with {} known", self.uids.len());
                    self.uids.remove(n - 1);
                }
                ["*", n, "EXISTS"] => {
                    let n: usize = n.parse().expect("number");
                    assert!(n > self.uids.len(), "EXISTS only grows here");
                    for seq in self.uids.len() + 1..=n {
                        self.uids.push(view.entry(seq as u32).expect("announced message").uid);
                    }
                }
                ["*", _, "RECENT"] => assert!(!opts.rev2),
                ["*", n, "FETCH", ..] => {
                    let n: usize = n.parse().expect("number");
                    assert!(n >= 1 && n <= self.uids.len(), "{line}");
                    if let Some(p) = words.iter().position(|w| *w == "UID") {
                        assert_eq!(
                            words[p + 1].trim_end_matches(')').parse::<u32>().ok(),
                            Some(self.uids[n - 1]),
                            "{line}"
                        );
                    }
                }
                _ => panic!("unexpected line {line:?}"),
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Deliver(u8),
    Expunge(Vec<prop::sample::Index>),
    Flag(prop::sample::Index, u8),
    Sync,
    Write { allow_expunge: bool, qresync: bool },
    OwnExpunge(prop::sample::Index, bool),
    OwnStore(prop::sample::Index, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u8..4).prop_map(Op::Deliver),
        prop::collection::vec(any::<prop::sample::Index>(), 1..4).prop_map(Op::Expunge),
        (any::<prop::sample::Index>(), 0u8..32).prop_map(|(i, f)| Op::Flag(i, f)),
        Just(Op::Sync),
        (any::<bool>(), any::<bool>()).prop_map(|(allow_expunge, qresync)| Op::Write { allow_expunge, qresync }),
        (any::<prop::sample::Index>(), any::<bool>()).prop_map(|(i, q)| Op::OwnExpunge(i, q)),
        (any::<prop::sample::Index>(), 0u8..32).prop_map(|(i, f)| Op::OwnStore(i, f)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn simulated_client_ends_with_the_store(initial in 0u32..8, ops in prop::collection::vec(op(), 0..40)) {
        let mut store: Vec<Entry> = (1..=initial).map(|u| e(u, 0, 1)).collect();
        let mut next_uid = initial + 1;
        let mut modseq = 1;
        let mut view = SelectedMailbox::new(1, store.clone(), &[], 1, next_uid, modseq, false);
        let mut client = Client { uids: view.uids().to_vec() };
        for op in ops {
            match op {
                Op::Deliver(n) => {
                    for _ in 0..n {
                        modseq += 1;
                        store.push(e(next_uid, 0, modseq));
                        next_uid += 1;
                    }
                }
                Op::Expunge(picks) => {
                    for pick in picks {
                        if !store.is_empty() {
                            store.remove(pick.index(store.len()));
                        }
                    }
                }
                Op::Flag(pick, flags) if !store.is_empty() => {
                    modseq += 1;
                    let i = pick.index(store.len());
                    store[i].flags = i64::from(flags);
                    store[i].modseq = modseq;
                }
                Op::Sync => view.sync(store.clone(), &[], modseq, next_uid),
                Op::Write { allow_expunge, qresync } => {
                    let opts = UpdateOptions { allow_expunge, qresync, condstore: qresync, rev2: qresync, uid_in_fetch: true };
                    let out = updates(&mut view, opts);
                    client.apply(&out, &view, opts);
                    prop_assert_eq!(&client.uids, &view.uids().to_vec());
                }
                Op::OwnExpunge(pick, qresync) if !client.uids.is_empty() => {
                    // EXPUNGE by this session: only messages it knows of and the store still has.
                    let uid = client.uids[pick.index(client.uids.len())];
                    if let Some(i) = store.iter().position(|m| m.uid == uid) {
                        store.remove(i);
                        let opts = UpdateOptions { allow_expunge: true, qresync, condstore: false, rev2: false, uid_in_fetch: false };
                        let mut out = Vec::new();
                        view.expunged_by_self(&[uid], &mut out, opts);
                        let out = String::from_utf8(out).expect("ASCII");
                        client.apply(&out, &view, opts);
                        prop_assert_eq!(&client.uids, &view.uids().to_vec());
                    }
                }
                Op::OwnStore(pick, flags) if !client.uids.is_empty() => {
                    let uid = client.uids[pick.index(client.uids.len())];
                    if let Some(m) = store.iter_mut().find(|m| m.uid == uid) {
                        modseq += 1;
                        m.flags = i64::from(flags);
                        m.modseq = modseq;
                        view.set_flags(uid, i64::from(flags), vec![], modseq);
                    }
                }
                Op::Flag(..) | Op::OwnExpunge(..) | Op::OwnStore(..) => {}
            }
            prop_assert_eq!(view.exists() as usize, client.uids.len());
        }
        view.sync(store.clone(), &[], modseq, next_uid);
        let out = updates(&mut view, REV1);
        client.apply(&out, &view, REV1);
        let expected: Vec<u32> = store.iter().map(|m| m.uid).collect();
        prop_assert_eq!(&client.uids, &expected);
        prop_assert_eq!(view.uids(), expected.as_slice());
        for (seq, m) in store.iter().enumerate() {
            let seen = view.entry(seq as u32 + 1).map(|r| r.flags);
            prop_assert_eq!(seen, Some(m.flags), "flags in sync");
        }
    }
}

fn bound() -> impl Strategy<Value = altimail_imap::sequence::SeqBound> {
    use altimail_imap::sequence::SeqBound;
    prop_oneof![Just(SeqBound::Star), (0u32..40).prop_map(SeqBound::Num), any::<u32>().prop_map(SeqBound::Num)]
}

proptest! {
    #[test]
    fn resolve_is_sorted_unique_and_in_range(
        uids in prop::collection::btree_set(1u32..60, 0..20),
        ranges in prop::collection::vec((bound(), bound()), 1..6),
        saved in prop::collection::vec(0u32..60, 0..5),
        uid in any::<bool>(),
        dollar in any::<bool>(),
    ) {
        let uids: Vec<u32> = uids.into_iter().collect();
        let view = mailbox(&uids);
        let set = if dollar {
            altimail_imap::sequence::SequenceSet::Saved
        } else {
            altimail_imap::sequence::SequenceSet::Ranges(ranges)
        };
        if let Ok(seqs) = view.resolve(&set, uid, &saved) {
            prop_assert!(seqs.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(seqs.iter().all(|&s| s >= 1 && s <= view.exists()));
        } else {
            prop_assert!(!uid && !dollar, "only message sequence sets are refused");
        }
    }
}
