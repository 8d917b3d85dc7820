//! STORE: flags and keywords, with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3).

use altimail_core::codes::flags as hm_flags;
use altimail_imap::command::{Flag, StoreMode};
use altimail_imap::mailbox::{apply_store, write_flags};
use altimail_imap::sequence::SequenceSet;
use altimail_store::repo::acl::Rights;
use altimail_store::repo::mailbox::{self, FlagUpdate};

use crate::session::{Outcome, Session, bad, no};

impl Session {
    pub(crate) async fn store_flags(
        &mut self,
        uid: bool,
        set: &SequenceSet,
        unchanged_since: Option<u64>,
        mode: StoreMode,
        silent: bool,
        flags: &[Flag],
    ) -> Outcome {
        if unchanged_since.is_some() {
            self.enabled.condstore = true;
        }
        let condstore = self.enabled.condstore;
        let opts = self.update_options(false, uid);
        let Some(open) = self.selected.as_ref() else { return bad("No mailbox selected") };
        if open.view.read_only() {
            return no("[READ-ONLY] Mailbox is read-only");
        }
        let flags: Vec<Flag> = flags.iter().filter(|f| **f != Flag::Recent).cloned().collect();
        let needs = |f: &Flag| match f {
            Flag::Seen => Rights::SEEN,
            Flag::Deleted => Rights::DELETE_MESSAGES,
            _ => Rights::WRITE,
        };
        if flags.iter().any(|f| !open.rights.contains(needs(f))) {
            return no("[NOPERM] Permission denied");
        }
        let seqs = match open.view.resolve(set, uid, &self.saved) {
            Ok(seqs) => seqs,
            Err(_) => return bad("Invalid message sequence number"),
        };
        let mut updates = Vec::new();
        let mut touched = Vec::new();
        let mut modified = Vec::new();
        for &seq in &seqs {
            let Some(e) = open.message(seq) else { continue };
            if unchanged_since.is_some_and(|u| e.meta.modseq > u) {
                modified.push(if uid { e.uid } else { seq });
                continue;
            }
            let (bits, keywords) = apply_store(mode, (e.flags, &e.keywords), &flags);
            // The Recent and virus-scan bits are the server's; they are kept as they are.
            let bits = (bits & !(hm_flags::RECENT | hm_flags::VIRUS_SCAN))
                | (e.flags & (hm_flags::RECENT | hm_flags::VIRUS_SCAN));
            if bits != e.flags || keywords != e.keywords {
                updates.push(FlagUpdate { id: e.id, flags: bits, keywords });
                touched.push((seq, e.uid));
            } else if !silent {
                touched.push((seq, e.uid));
            }
        }
        let folder_id = open.folder.id;
        let modseq =
            if updates.is_empty() { 0 } else { mailbox::update_flags(&self.store, folder_id, &updates).await? };
        let Some(open) = self.selected.as_mut() else { return bad("No mailbox selected") };
        open.announce_keywords(updates.iter().flat_map(|u| u.keywords.iter()), &mut self.out);
        let mut changed = updates.iter();
        for (seq, entry_uid) in touched {
            if let Some(u) = changed.as_slice().first().filter(|u| open.view.entry(seq).is_some_and(|e| e.id == u.id)) {
                open.stored(entry_uid, u.flags, u.keywords.clone(), modseq);
                changed.next();
            }
            if silent && !(condstore && unchanged_since.is_some()) {
                continue;
            }
            let Some(e) = open.message(seq) else { continue };
            let mut line = format!("* {seq} FETCH (").into_bytes();
            let mut items = Vec::new();
            if !silent {
                items.extend_from_slice(b"FLAGS ");
                write_flags(&mut items, e.flags, &e.keywords, e.recent);
            }
            if opts.uid_in_fetch {
                if !items.is_empty() {
                    items.push(b' ');
                }
                items.extend_from_slice(format!("UID {}", e.uid).as_bytes());
            }
            if condstore {
                if !items.is_empty() {
                    items.push(b' ');
                }
                items.extend_from_slice(format!("MODSEQ ({})", e.meta.modseq).as_bytes());
            }
            line.extend_from_slice(&items);
            line.extend_from_slice(b")\r\n");
            self.out.extend_from_slice(&line);
        }
        if !modified.is_empty() {
            let set = altimail_imap::query::compact_set(&modified);
            return Ok(format!("[MODIFIED {}] Conditional STORE failed", String::from_utf8_lossy(&set)));
        }
        Ok(if uid { "UID STORE completed" } else { "STORE completed" }.into())
    }
}
