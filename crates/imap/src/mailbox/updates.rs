//! Writing what changed as untagged responses: EXPUNGE/VANISHED, EXISTS, RECENT, FETCH.

use super::flags::{SYSTEM, write_flags};
use super::uid_set::{runs, write_runs};
use super::view::{EXPUNGED_BIT, RECENT_BIT, SelectedMailbox};
use crate::wire;

/// Ranges per `* VANISHED` line, so a large expunge never makes an over-long line.
const MAX_VANISHED_RANGES: usize = 500;

/// What the current command and the enabled extensions allow in untagged updates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateOptions {
    /// Expunges may be announced. False during FETCH, STORE and SEARCH by sequence number
    /// (RFC 9051 §7.5.1 / RFC 3501 §7.4.1), when numbers must not shift under the client.
    pub allow_expunge: bool,
    /// QRESYNC is enabled: `* VANISHED uid-set` replaces `* n EXPUNGE` (RFC 7162 §3.2.10).
    pub qresync: bool,
    /// CONDSTORE is enabled: untagged FETCH carries `MODSEQ (n)` (RFC 7162 §3.1.4).
    pub condstore: bool,
    /// IMAP4rev2 is enabled: no `RECENT` and no `\Recent` (RFC 9051 Appendix E).
    pub rev2: bool,
    /// Put `UID n` in untagged FETCH (UID commands, and always under IMAP4rev2/QRESYNC).
    pub uid_in_fetch: bool,
}

impl SelectedMailbox {
    /// Writes the pending untagged updates, in this order:
    ///
    /// 1. If `allow_expunge`: `* n EXPUNGE` per expunged message, highest number first so each
    ///    is right for a client applying them one by one, or `* VANISHED uid-set` with QRESYNC.
    ///    Otherwise expunged messages keep their place, and their numbers, until a later call.
    /// 2. `* n EXISTS` when new messages arrived, then `* n RECENT` unless `rev2`.
    /// 3. `* n FETCH (FLAGS (...) [UID u] [MODSEQ (m)])` for flag changes by others.
    pub fn write_updates(&mut self, out: &mut Vec<u8>, opts: UpdateOptions) {
        if opts.allow_expunge {
            let ghosts: Vec<usize> = (0..self.known).filter(|&i| self.bits[i] & EXPUNGED_BIT != 0).collect();
            self.announce_expunged(&ghosts, out, opts);
        }
        if self.uids.len() > self.known {
            self.known = self.uids.len();
            untagged_number(out, self.known as u32, b" EXISTS\r\n");
            if !opts.rev2 {
                untagged_number(out, self.recent(), b" RECENT\r\n");
            }
        }
        for (uid, modseq) in std::mem::take(&mut self.changed) {
            let Ok(i) = self.uids[..self.known].binary_search(&uid) else { continue };
            let bits = self.bits[i];
            if bits & EXPUNGED_BIT != 0 {
                continue;
            }
            untagged_number(out, i as u32 + 1, b" FETCH (FLAGS ");
            let recent = bits & RECENT_BIT != 0 && !opts.rev2;
            write_flags(out, i64::from(bits) & SYSTEM, self.keywords_of(uid), recent);
            if opts.uid_in_fetch {
                out.extend_from_slice(b" UID ");
                wire::number(out, u64::from(uid));
            }
            if opts.condstore {
                out.extend_from_slice(b" MODSEQ (");
                wire::number(out, modseq.max(1));
                out.push(b')');
            }
            out.extend_from_slice(b")\r\n");
        }
    }

    /// Removes the messages this session expunged itself (EXPUNGE, UID EXPUNGE, MOVE, CLOSE
    /// with QRESYNC) and writes their `* n EXPUNGE` or `* VANISHED` lines now, whatever
    /// `opts.allow_expunge` says. Other pending updates wait for
    /// [`write_updates`](Self::write_updates). UIDs not in the view are ignored.
    pub fn expunged_by_self(&mut self, uids: &[u32], out: &mut Vec<u8>, opts: UpdateOptions) {
        let mut targets = Vec::with_capacity(uids.len());
        let mut unannounced = false;
        for uid in uids {
            let Ok(i) = self.uids.binary_search(uid) else { continue };
            self.bits[i] |= EXPUNGED_BIT;
            if i < self.known {
                targets.push(i);
            } else {
                unannounced = true;
            }
        }
        if unannounced {
            self.drop_unannounced_expunged();
        }
        targets.sort_unstable();
        targets.dedup();
        self.announce_expunged(&targets, out, opts);
    }

    /// Writes the expunge lines for `indices` (ascending, all below `known`, all marked
    /// expunged) and removes those messages.
    fn announce_expunged(&mut self, indices: &[usize], out: &mut Vec<u8>, opts: UpdateOptions) {
        if indices.is_empty() {
            return;
        }
        if opts.qresync {
            let gone: Vec<u32> = indices.iter().map(|&i| self.uids[i]).collect();
            let all: Vec<(u32, u32)> = runs(&gone).collect();
            for chunk in all.chunks(MAX_VANISHED_RANGES) {
                out.extend_from_slice(b"* VANISHED ");
                write_runs(out, chunk.iter().copied());
                out.extend_from_slice(b"\r\n");
            }
        } else {
            // Highest first: removing a message never renumbers those below it.
            for &i in indices.iter().rev() {
                untagged_number(out, i as u32 + 1, b" EXPUNGE\r\n");
            }
        }
        let mut gone = indices.iter().peekable();
        self.retain_rows(0, |r, _| gone.next_if_eq(&&r).is_none());
        self.known -= indices.len();
        let uids = &self.uids;
        self.keywords.retain(|(u, _)| uids.binary_search(u).is_ok());
        self.changed.retain(|(u, _)| uids.binary_search(u).is_ok());
    }
}

/// Appends `* n` and the rest of the line.
fn untagged_number(out: &mut Vec<u8>, n: u32, rest: &[u8]) {
    out.extend_from_slice(b"* ");
    wire::number(out, u64::from(n));
    out.extend_from_slice(rest);
}
