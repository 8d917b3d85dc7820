//! STORE: flags and keywords, with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3).

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
        // Messages to answer for: (sequence number, UID, index of their update if they changed).
        let mut touched = Vec::new();
        let mut modified = Vec::new();
        for &seq in &seqs {
            let Some(e) = open.message(seq) else { continue };
            if unchanged_since.is_some_and(|u| e.meta.modseq > u) {
                modified.push(if uid { e.uid } else { seq });
                continue;
            }
            let (bits, keywords) = apply_store(mode, (e.flags, &e.keywords), &flags);
            if bits != e.flags || keywords != e.keywords {
                touched.push((seq, e.uid, Some(updates.len())));
                updates.push(FlagUpdate { id: e.id, flags: bits, keywords });
            } else if !silent {
                touched.push((seq, e.uid, None));
            }
        }
        let (folder_id, notices) = (open.folder.id, open.notices());
        let modseq =
            if updates.is_empty() { 0 } else { mailbox::update_flags(&self.store, folder_id, &updates).await? };
        let Some(open) = self.selected.as_mut() else { return bad("No mailbox selected") };
        if !updates.is_empty() {
            open.absorb_own_change(notices, modseq);
        }
        open.announce_keywords(updates.iter().flat_map(|u| u.keywords.iter()), &mut self.out);
        for (seq, message_uid, update) in touched {
            if let Some(u) = update.and_then(|i| updates.get(i)) {
                open.stored(message_uid, u.flags, u.keywords.clone(), modseq);
            }
            if silent && !(condstore && unchanged_since.is_some()) {
                continue;
            }
            let Some(e) = open.message(seq) else { continue };
            let mut items = Vec::new();
            if !silent {
                let mut flags = b"FLAGS ".to_vec();
                write_flags(&mut flags, e.flags, &e.keywords, e.recent);
                items.push(String::from_utf8_lossy(&flags).into_owned());
            }
            if opts.uid_in_fetch {
                items.push(format!("UID {}", e.uid));
            }
            if condstore {
                items.push(format!("MODSEQ ({})", e.meta.modseq));
            }
            self.out.extend_from_slice(format!("* {seq} FETCH ({})\r\n", items.join(" ")).as_bytes());
        }
        if !modified.is_empty() {
            let set = altimail_imap::query::compact_set(&modified);
            return Ok(format!("[MODIFIED {}] Conditional STORE failed", String::from_utf8_lossy(&set)));
        }
        Ok(if uid { "UID STORE completed" } else { "STORE completed" }.into())
    }
}
