//! APPEND (with MULTIAPPEND), COPY, MOVE, EXPUNGE and UID EXPUNGE, with UIDPLUS response codes.

use chrono::{Local, NaiveDate, NaiveDateTime, TimeZone};

use altimail_core::codes::flags as hm_flags;
use altimail_core::time::now_local;
use altimail_imap::command::{AppendMessage, DateTime};
use altimail_imap::mailbox::to_bits;
use altimail_imap::sequence::SequenceSet;
use altimail_store::repo::acl::Rights;
use altimail_store::repo::bayes::Class;
use altimail_store::repo::{mailbox, messages};

use crate::junk::{self, Job, Source};
use crate::names::Owner;
use crate::select::Found;
use crate::session::{Done, Outcome, Session, bad, no};

/// An APPEND date-time as the server's local time, the way hMailServer stores arrival times.
fn local_time(d: &DateTime) -> Option<NaiveDateTime> {
    let naive = NaiveDate::from_ymd_opt(i32::from(d.date.year), u32::from(d.date.month), u32::from(d.date.day))?
        .and_hms_opt(u32::from(d.hour), u32::from(d.minute), u32::from(d.second))?;
    let utc = naive - chrono::Duration::minutes(i64::from(d.zone_minutes));
    Some(Local.from_utc_datetime(&utc).naive_local())
}

impl Session {
    /// A destination mailbox: `NO [TRYCREATE]` when it does not exist (RFC 9051 §6.3.12).
    async fn destination(&self, wire: &str) -> Result<Found, Done> {
        match self.find_mailbox(wire).await {
            Err(Done::No(text)) if text.starts_with("[NONEXISTENT]") => no("[TRYCREATE] Mailbox does not exist"),
            other => other,
        }
    }

    /// Refuses when `extra` bytes would take the account over its quota.
    async fn check_quota(&self, owner: Owner, extra: u64) -> Result<(), Done> {
        let Some(account) = self.account.as_ref().filter(|_| owner == Owner::Account) else { return Ok(()) };
        if account.max_size_mb <= 0 {
            return Ok(());
        }
        let used = messages::account_size(&self.store.db, account.id).await?.max(0) as u64;
        let max = (account.max_size_mb as u64).saturating_mul(1024 * 1024);
        if used.saturating_add(extra) > max {
            return no("[OVERQUOTA] Quota exceeded");
        }
        Ok(())
    }

    pub(crate) async fn append(&mut self, wire: &str, messages: Vec<AppendMessage>) -> Outcome {
        let found = self.destination(wire).await?;
        if !found.rights.contains(Rights::INSERT) {
            return no("[NOPERM] Permission denied");
        }
        // A `~{n}` literal may carry `binary` parts with NULs: stored as base64 (RFC 3516 §4.4).
        let messages: Vec<AppendMessage> = messages
            .into_iter()
            .map(|mut m| {
                if m.binary
                    && let Some(converted) = altimail_imap::message::convert_binary_parts(&m.data)
                {
                    m.data = converted;
                }
                m
            })
            .collect();
        let total: u64 = messages.iter().map(|m| m.data.len() as u64).sum();
        for m in &messages {
            if m.data.is_empty() {
                return no("Empty message");
            }
            if m.data.len() as u64 > self.cfg.append_limit {
                return no("[TOOBIG] Message too large");
            }
        }
        self.check_quota(found.owner, total).await?;
        let account_id = match found.owner {
            Owner::Account => self.account.as_ref().map_or(0, |a| a.id),
            Owner::Public => 0,
        };
        let into_junk = self.is_own_junk(&found).await;
        let mut uids = Vec::new();
        for m in &messages {
            let (mut bits, keywords) = to_bits(&m.flags);
            if !found.rights.contains(Rights::SEEN) {
                bits &= !hm_flags::SEEN;
            }
            if !found.rights.contains(Rights::DELETE_MESSAGES) {
                bits &= !hm_flags::DELETED;
            }
            let date = match &m.date {
                Some(d) => match local_time(d) {
                    Some(t) => t,
                    None => return bad("Invalid date-time"),
                },
                None => now_local(),
            };
            let location = self.location_of(found.owner);
            let uid = mailbox::append(&self.store, &found.folder, location, account_id, &m.data, bits, &keywords, date)
                .await?;
            uids.push(uid);
            if into_junk {
                let head = m.data[..m.data.len().min(altimail_antispam::bayes::MAX_SCAN_BYTES)].to_vec();
                self.submit_learning(vec![self.job(Class::Spam, Source::Bytes(head))]);
            }
        }
        let set = altimail_imap::query::compact_set(&uids);
        Ok(format!("[APPENDUID {} {}] APPEND completed", found.folder.uid_validity(), String::from_utf8_lossy(&set)))
    }

    /// COPY and MOVE (RFC 6851): MOVE announces COPYUID untagged, then the expunges.
    pub(crate) async fn copy(&mut self, uid: bool, set: &SequenceSet, wire: &str, moving: bool) -> Outcome {
        let name = if moving { "MOVE" } else { "COPY" };
        let Some(open) = self.selected.as_ref() else { return bad("No mailbox selected") };
        let seqs = match open.view.resolve(set, uid, &self.saved) {
            Ok(seqs) => seqs,
            Err(_) => return bad("Invalid message sequence number"),
        };
        if moving && (open.view.read_only() || !open.rights.contains(Rights::DELETE_MESSAGES)) {
            return no("[NOPERM] Permission denied");
        }
        let mut ids = Vec::new();
        let mut src_uids = Vec::new();
        let mut size = 0u64;
        for &seq in &seqs {
            if let Some(e) = open.view.entry(seq)
                && !e.expunged
            {
                ids.push(e.id);
                src_uids.push(e.uid);
                size += open.meta.get(&e.uid).map_or(0, |m| m.size);
            }
        }
        let found = self.destination(wire).await?;
        if !found.rights.contains(Rights::INSERT) {
            return no("[NOPERM] Permission denied");
        }
        if ids.is_empty() {
            return Ok(format!("{}{name} completed", if uid { "UID " } else { "" }));
        }
        let same_folder = self.selected.as_ref().is_some_and(|o| o.folder.id == found.folder.id);
        if !moving {
            self.check_quota(found.owner, size).await?;
        }
        let learning = self.learning_for(&src_uids, &found, moving).await;
        let Some(open) = self.selected.as_ref() else { return bad("No mailbox selected") };
        let from = open.location();
        let to = self.location_of(found.owner);
        let new_uids = if moving && same_folder {
            // Moving within a mailbox gives the messages new UIDs (RFC 6851 allows it).
            let uids = mailbox::copy(&self.store, from, &ids, &found.folder, to).await?;
            mailbox::expunge(&self.store, &open.folder, from, &ids).await?;
            uids
        } else if moving {
            mailbox::move_messages(&self.store, &open.folder, from, &ids, &found.folder, to).await?
        } else {
            mailbox::copy(&self.store, from, &ids, &found.folder, to).await?
        };
        self.submit_learning(learning);
        let code = format!(
            "COPYUID {} {} {}",
            found.folder.uid_validity(),
            String::from_utf8_lossy(&altimail_imap::query::compact_set(&src_uids)),
            String::from_utf8_lossy(&altimail_imap::query::compact_set(&new_uids))
        );
        if moving {
            self.out.extend_from_slice(format!("* OK [{code}] Moved\r\n").as_bytes());
            let opts = self.update_options(true, uid);
            if let Some(open) = self.selected.as_mut() {
                open.view.expunged_by_self(&src_uids, &mut self.out, opts);
                for uid in &src_uids {
                    open.meta.remove(uid);
                }
            }
            return Ok(format!("{}{name} completed", if uid { "UID " } else { "" }));
        }
        Ok(format!("[{code}] {}{name} completed", if uid { "UID " } else { "" }))
    }

    /// Whether `found` is the logged-on account's `\Junk` folder and the filter is on.
    async fn is_own_junk(&self, found: &Found) -> bool {
        let Some(account) = self.account.as_ref() else { return false };
        if !self.cfg.bayes || self.trainer.is_none() || found.owner != Owner::Account {
            return false;
        }
        match junk::special_folders(&self.store, account.id).await {
            Ok((junk, _)) => junk.contains(&found.folder.id),
            Err(e) => {
                self.log_error("IMAP: finding the Junk folder", &e);
                false
            }
        }
    }

    /// What the Bayesian filter is to learn from copying (or moving) these messages of the
    /// selected mailbox into `to`: spam when `to` is the account's `\Junk` folder, ham when
    /// they move out of it into anything but `\Trash`. The message files are named before the
    /// command runs (a move within the account leaves them where they are).
    async fn learning_for(&self, src_uids: &[u32], to: &Found, moving: bool) -> Vec<Job> {
        let (Some(account), Some(open)) = (self.account.as_ref(), self.selected.as_ref()) else { return Vec::new() };
        if !self.cfg.bayes || self.trainer.is_none() || open.owner != Owner::Account || to.owner != Owner::Account {
            return Vec::new();
        }
        let (junk, trash) = match junk::special_folders(&self.store, account.id).await {
            Ok(found) => found,
            Err(e) => {
                self.log_error("IMAP: finding the Junk folder", &e);
                return Vec::new();
            }
        };
        let (from_junk, to_junk) = (junk.contains(&open.folder.id), junk.contains(&to.folder.id));
        let class = if to_junk && !from_junk {
            Class::Spam
        } else if moving && from_junk && !to_junk && !trash.contains(&to.folder.id) {
            Class::Ham
        } else {
            return Vec::new();
        };
        src_uids
            .iter()
            .filter_map(|uid| open.meta.get(uid))
            .map(|m| self.job(class, Source::File(self.store.files.resolve(open.location(), &m.file_name))))
            .collect()
    }

    fn job(&self, class: Class, source: Source) -> Job {
        Job { domain_id: self.account.as_ref().map_or(0, |a| a.domain_id), class, source }
    }

    fn submit_learning(&self, jobs: Vec<Job>) {
        if let Some(trainer) = &self.trainer {
            for job in jobs {
                trainer.submit(job);
            }
        }
    }

    /// EXPUNGE, or UID EXPUNGE of the given UIDs (RFC 4315).
    pub(crate) async fn expunge(&mut self, uids: Option<&SequenceSet>) -> Outcome {
        let opts = self.update_options(true, uids.is_some());
        let Some(open) = self.selected.as_ref() else { return bad("No mailbox selected") };
        if open.view.read_only() {
            return no("[READ-ONLY] Mailbox is read-only");
        }
        if !open.rights.contains(Rights::EXPUNGE) {
            return no("[NOPERM] Permission denied");
        }
        let mut ids = Vec::new();
        let mut gone = Vec::new();
        for seq in 1..=open.view.exists() {
            let Some(e) = open.view.entry(seq) else { continue };
            if e.flags & hm_flags::DELETED == 0 || e.expunged {
                continue;
            }
            if let Some(set) = uids
                && !set.covers(e.uid)
            {
                continue;
            }
            ids.push(e.id);
            gone.push(e.uid);
        }
        let notices = open.notices();
        let modseq = if ids.is_empty() {
            None
        } else {
            Some(mailbox::expunge(&self.store, &open.folder, open.location(), &ids).await?)
        };
        if let Some(open) = self.selected.as_mut() {
            open.view.expunged_by_self(&gone, &mut self.out, opts);
            for uid in &gone {
                open.meta.remove(uid);
            }
            if let Some(modseq) = modseq {
                open.absorb_own_change(notices, modseq);
            }
        }
        Ok(if uids.is_some() { "UID EXPUNGE completed" } else { "EXPUNGE completed" }.into())
    }
}
