//! The view's storage and its read-only questions.

use super::entry::{Entry, EntryRef};
use super::flags::{SEEN, SYSTEM};

/// Per-message state bits in [`SelectedMailbox::bits`], above the five system flags.
pub(super) const RECENT_BIT: u8 = 0x20;
/// Expunged in the store, still in place until announced.
pub(super) const EXPUNGED_BIT: u8 = 0x80;

/// One session's view of its selected mailbox: the messages in sequence order as the client
/// knows them.
///
/// Stored column-wise to stay small: 13 bytes per message, plus keywords where present, where a
/// `Vec<Entry>` takes 56. For 10,000 sessions on 10,000-message mailboxes that is 1.3 GB rather
/// than 5.6 GB.
#[derive(Debug, Clone)]
pub struct SelectedMailbox {
    pub(super) folder_id: i64,
    pub(super) uid_validity: u32,
    pub(super) uid_next: u32,
    /// Highest mod-sequence this session knows of (syncs and its own STOREs).
    pub(super) highest_modseq: u64,
    /// Highest mod-sequence of the store at the last sync: anything above changed since.
    pub(super) synced_modseq: u64,
    pub(super) read_only: bool,
    /// Database rows, in sequence order.
    pub(super) ids: Vec<i64>,
    /// UIDs, in sequence order, strictly ascending.
    pub(super) uids: Vec<u32>,
    /// System flag bits (low 5) plus [`RECENT_BIT`] and [`EXPUNGED_BIT`].
    pub(super) bits: Vec<u8>,
    /// Keywords of the messages that have any, sorted by UID.
    pub(super) keywords: Vec<(u32, Box<[String]>)>,
    /// How many messages the client knows of (the last EXISTS); the rest are new and unannounced.
    pub(super) known: usize,
    /// Flag changes by others not yet announced: (UID, mod-sequence), sorted by UID.
    pub(super) changed: Vec<(u32, u64)>,
    /// This session's own STOREs not yet seen in a snapshot: (UID, mod-sequence).
    pub(super) own: Vec<(u32, u64)>,
}

impl SelectedMailbox {
    /// The view right after SELECT/EXAMINE: every message in `entries` is known to the client
    /// (the SELECT response carries their count). `entries` need not be sorted; duplicate UIDs
    /// keep the first row.
    pub fn new(
        folder_id: i64,
        mut entries: Vec<Entry>,
        recent_uids: &[u32],
        uid_validity: u32,
        uid_next: u32,
        highest_modseq: u64,
        read_only: bool,
    ) -> Self {
        entries.sort_by_key(|e| e.uid);
        entries.dedup_by_key(|e| e.uid);
        let mut view = SelectedMailbox {
            folder_id,
            uid_validity,
            uid_next,
            highest_modseq,
            synced_modseq: highest_modseq,
            read_only,
            ids: Vec::with_capacity(entries.len()),
            uids: Vec::with_capacity(entries.len()),
            bits: Vec::with_capacity(entries.len()),
            keywords: Vec::new(),
            known: entries.len(),
            changed: Vec::new(),
            own: Vec::new(),
        };
        for e in entries {
            view.push(e);
        }
        view.mark_recent(recent_uids);
        view.fix_uid_next();
        view
    }

    /// Appends a message at the end (its UID is above all others).
    pub(super) fn push(&mut self, e: Entry) {
        self.ids.push(e.id);
        self.uids.push(e.uid);
        self.bits.push(system_bits(e.flags));
        if !e.keywords.is_empty() {
            self.keywords.push((e.uid, e.keywords.into_boxed_slice()));
        }
    }

    /// Keeps, among the messages from index `from` on, those for which `keep(index, bits)`
    /// holds, in order; the others leave all three columns. Keywords and changes are the
    /// caller's to tidy.
    pub(super) fn retain_rows(&mut self, from: usize, mut keep: impl FnMut(usize, u8) -> bool) {
        let mut w = from;
        for r in from..self.uids.len() {
            if keep(r, self.bits[r]) {
                self.ids[w] = self.ids[r];
                self.uids[w] = self.uids[r];
                self.bits[w] = self.bits[r];
                w += 1;
            }
        }
        self.ids.truncate(w);
        self.uids.truncate(w);
        self.bits.truncate(w);
    }

    pub(super) fn mark_recent(&mut self, recent_uids: &[u32]) {
        for &uid in recent_uids {
            if let Ok(i) = self.uids.binary_search(&uid) {
                self.bits[i] |= RECENT_BIT;
            }
        }
    }

    /// UIDNEXT is always above every UID in the view, whatever the store said.
    pub(super) fn fix_uid_next(&mut self) {
        if let Some(&last) = self.uids.last() {
            self.uid_next = self.uid_next.max(last.saturating_add(1));
        }
    }

    /// Messages the client knows of (the last `EXISTS`), expunged-but-unannounced included.
    pub fn exists(&self) -> u32 {
        self.known as u32
    }

    /// Messages known to the client that are `\Recent` for this session.
    pub fn recent(&self) -> u32 {
        self.bits[..self.known].iter().filter(|&&b| b & RECENT_BIT != 0).count() as u32
    }

    /// Sequence number of the first message without `\Seen` (for `[UNSEEN n]`, IMAP4rev1).
    pub fn first_unseen(&self) -> Option<u32> {
        self.bits[..self.known]
            .iter()
            .position(|&b| b & (SEEN as u8) == 0 && b & EXPUNGED_BIT == 0)
            .map(|i| i as u32 + 1)
    }

    /// UIDNEXT as of the last sync.
    pub fn uid_next(&self) -> u32 {
        self.uid_next
    }

    /// UIDVALIDITY of the folder.
    pub fn uid_validity(&self) -> u32 {
        self.uid_validity
    }

    /// HIGHESTMODSEQ as this session knows it.
    pub fn highest_modseq(&self) -> u64 {
        self.highest_modseq
    }

    /// Selected with EXAMINE (or without write rights).
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// The folder's database row.
    pub fn folder_id(&self) -> i64 {
        self.folder_id
    }

    /// Whether the message is `\Recent` for this session.
    pub fn is_recent(&self, uid: u32) -> bool {
        self.uids.binary_search(&uid).is_ok_and(|i| self.bits[i] & RECENT_BIT != 0)
    }

    /// The message at sequence number `seq` (1-based), if the client knows of it.
    pub fn entry(&self, seq: u32) -> Option<EntryRef<'_>> {
        let i = (seq as usize).checked_sub(1).filter(|&i| i < self.known)?;
        let uid = self.uids[i];
        let bits = self.bits[i];
        Some(EntryRef {
            id: self.ids[i],
            uid,
            flags: i64::from(bits) & SYSTEM,
            keywords: self.keywords_of(uid),
            recent: bits & RECENT_BIT != 0,
            expunged: bits & EXPUNGED_BIT != 0,
        })
    }

    /// The sequence number of `uid`, if the client knows of that message.
    pub fn seq_of_uid(&self, uid: u32) -> Option<u32> {
        self.uids[..self.known].binary_search(&uid).ok().map(|i| i as u32 + 1)
    }

    /// The UIDs the client knows of, in sequence order.
    pub fn uids(&self) -> &[u32] {
        &self.uids[..self.known]
    }

    /// Whether anything waits for [`write_updates`](Self::write_updates).
    pub fn has_pending_updates(&self) -> bool {
        self.known != self.uids.len() || !self.changed.is_empty() || self.bits.iter().any(|&b| b & EXPUNGED_BIT != 0)
    }

    pub(super) fn keywords_of(&self, uid: u32) -> &[String] {
        match self.keywords.binary_search_by_key(&uid, |(u, _)| *u) {
            Ok(i) => &self.keywords[i].1,
            Err(_) => &[],
        }
    }
}

/// The five system flags of an hMailServer value, as stored in the view.
pub(super) fn system_bits(flags: i64) -> u8 {
    (flags & SYSTEM) as u8
}
