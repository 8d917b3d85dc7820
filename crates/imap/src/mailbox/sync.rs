//! Bringing the view up to date with the store.

use super::entry::Entry;
use super::view::{EXPUNGED_BIT, RECENT_BIT, SelectedMailbox, system_bits};

impl SelectedMailbox {
    /// Records this session's own flag change, after its STORE succeeded in the store, so the
    /// next [`sync`](Self::sync) does not announce it again.
    ///
    /// The STORE handler writes the `FETCH` response for its own change itself: `FLAGS` unless
    /// `.SILENT`, and with CONDSTORE enabled always, with `MODSEQ`, even when `.SILENT`
    /// (RFC 7162 §3.2). The view therefore never echoes an own change, and drops any pending
    /// announcement of an earlier change by others to the same message, since the STORE
    /// response carries the newer flags. A later change by others (a higher mod-sequence in
    /// the store, or flags that differ from these) is still announced.
    pub fn set_flags(&mut self, uid: u32, flags: i64, keywords: Vec<String>, modseq: u64) {
        let Ok(i) = self.uids.binary_search(&uid) else { return };
        self.bits[i] = (self.bits[i] & !(super::flags::SYSTEM as u8)) | system_bits(flags);
        self.set_keywords(uid, keywords);
        if let Ok(c) = self.changed.binary_search_by_key(&uid, |(u, _)| *u) {
            self.changed.remove(c);
        }
        self.own.push((uid, modseq));
        self.highest_modseq = self.highest_modseq.max(modseq);
    }

    fn set_keywords(&mut self, uid: u32, keywords: Vec<String>) {
        match self.keywords.binary_search_by_key(&uid, |(u, _)| *u) {
            Ok(k) if keywords.is_empty() => {
                self.keywords.remove(k);
            }
            Ok(k) => self.keywords[k].1 = keywords.into_boxed_slice(),
            Err(_) if keywords.is_empty() => {}
            Err(k) => self.keywords.insert(k, (uid, keywords.into_boxed_slice())),
        }
    }

    /// Diffs a fresh snapshot of the folder (any order; sorted here) with the view, in one merge
    /// over the UIDs.
    ///
    /// * UIDs above the view's last are new: appended at the end, announced by the next
    ///   `EXISTS`. `newly_recent` are the UIDs this session claimed as `\Recent`.
    /// * UIDs gone from the store are marked expunged but keep their place until
    ///   [`write_updates`](Self::write_updates) may announce them; new messages the client was
    ///   never told about are dropped silently.
    /// * Flag or keyword changes, and any message with a mod-sequence above the last sync's
    ///   HIGHESTMODSEQ, are queued for an untagged `FETCH`, unless they are this session's own
    ///   STORE ([`set_flags`](Self::set_flags)).
    ///
    /// A UID below the view's last that the view never had cannot be given a sequence number
    /// without renumbering; it is ignored (UIDs only grow, RFC 9051 §2.3.1.1). A snapshot whose
    /// mod-sequence for a message is below this session's own STORE of it predates that STORE;
    /// the STORE's flags are kept.
    pub fn sync(&mut self, mut fresh: Vec<Entry>, newly_recent: &[u32], highest_modseq: u64, uid_next: u32) {
        if !fresh.is_sorted_by_key(|e| e.uid) {
            fresh.sort_by_key(|e| e.uid);
        }
        let mut own = std::mem::take(&mut self.own);
        own.sort_unstable();
        let own_modseq = |uid: u32| {
            let end = own.partition_point(|&(u, _)| u <= uid);
            own[..end].last().filter(|(u, _)| *u == uid).map(|&(_, m)| m)
        };

        let old_len = self.uids.len();
        let old_keywords = std::mem::take(&mut self.keywords);
        let mut old_kw = old_keywords.into_iter().peekable();
        let mut keywords: Vec<(u32, Box<[String]>)> = Vec::new();
        let mut changes: Vec<(u32, u64)> = Vec::new();
        let mut drop_unknown = false;
        let mut fresh = fresh.into_iter().peekable();

        for i in 0..old_len {
            let uid = self.uids[i];
            let mut kw = None;
            while let Some((u, _)) = old_kw.peek() {
                match (*u).cmp(&uid) {
                    std::cmp::Ordering::Less => {
                        old_kw.next();
                    }
                    std::cmp::Ordering::Equal => {
                        kw = old_kw.next().map(|(_, k)| k);
                        break;
                    }
                    std::cmp::Ordering::Greater => break,
                }
            }
            while fresh.next_if(|e| e.uid < uid).is_some() {}
            let Some(e) = fresh.next_if(|e| e.uid == uid) else {
                self.bits[i] |= EXPUNGED_BIT;
                if i < self.known {
                    keywords.extend(kw.map(|k| (uid, k)));
                } else {
                    drop_unknown = true;
                }
                continue;
            };
            if self.bits[i] & EXPUNGED_BIT != 0 {
                keywords.extend(kw.map(|k| (uid, k)));
                continue;
            }
            let new_bits = system_bits(e.flags);
            let old_keywords: &[String] = kw.as_deref().unwrap_or(&[]);
            let differs = self.bits[i] & !(RECENT_BIT | EXPUNGED_BIT) != new_bits || old_keywords != e.keywords;
            let announce = match own_modseq(uid) {
                // A snapshot read before this session's STORE committed: keep the STORE's flags
                // until a snapshot that has them.
                Some(m) if e.modseq < m => {
                    self.own.push((uid, m));
                    keywords.extend(kw.map(|k| (uid, k)));
                    continue;
                }
                Some(m) => differs || e.modseq > m,
                None => differs || e.modseq > self.synced_modseq,
            };
            self.bits[i] = (self.bits[i] & (RECENT_BIT | EXPUNGED_BIT)) | new_bits;
            self.ids[i] = e.id;
            if !e.keywords.is_empty() {
                keywords.push((uid, e.keywords.into_boxed_slice()));
            }
            if announce && i < self.known {
                changes.push((uid, e.modseq));
            }
        }

        self.keywords = keywords;
        let last = self.uids.last().copied().unwrap_or(0);
        for e in fresh.filter(|e| e.uid > last) {
            if self.uids.last().is_some_and(|&u| e.uid <= u) {
                continue; // a duplicate row
            }
            self.push(e);
        }
        if drop_unknown {
            self.drop_unannounced_expunged();
        }
        self.mark_recent(newly_recent);
        self.changed = merge_changes(std::mem::take(&mut self.changed), changes);
        self.highest_modseq = self.highest_modseq.max(highest_modseq);
        self.synced_modseq = self.synced_modseq.max(highest_modseq);
        self.uid_next = self.uid_next.max(uid_next);
        self.fix_uid_next();
    }

    /// Removes messages past `known` that are already expunged: the client never heard of them.
    pub(super) fn drop_unannounced_expunged(&mut self) {
        self.retain_rows(self.known, |_, bits| bits & EXPUNGED_BIT == 0);
    }
}

/// Merges two UID-sorted change lists, keeping the higher mod-sequence for a UID in both.
fn merge_changes(mut a: Vec<(u32, u64)>, b: Vec<(u32, u64)>) -> Vec<(u32, u64)> {
    if a.is_empty() {
        return b;
    }
    a.extend(b);
    a.sort_unstable();
    a.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 = kept.1.max(next.1);
        }
        same
    });
    a
}
