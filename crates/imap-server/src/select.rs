//! SELECT, EXAMINE, CLOSE and UNSELECT; finding a mailbox by name with its rights; keeping the
//! selected view in step with the store and writing its untagged updates.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use altimail_imap::command::SelectParam;
use altimail_imap::mailbox::{Entry, SelectedMailbox, UpdateOptions, write_flags};
use altimail_store::StoreError;
use altimail_store::repo::acl::{self, Rights};
use altimail_store::repo::folders::{self, Folder};
use altimail_store::repo::mailbox::{self, MailboxMessage};

use crate::names::{NameError, Owner, Path, Tree};
use crate::session::{Done, Open, Outcome, Session, bad, no};

/// What the view does not hold about a message.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub id: i64,
    /// CONDSTORE mod-sequence (the view keeps none, to stay small).
    pub modseq: u64,
    pub size: u64,
    pub internal_date: NaiveDateTime,
    pub file_name: String,
    /// Flags and keywords as last read from the store (the view holds what the client knows).
    pub flags: i64,
    pub keywords: Vec<String>,
}

/// A mailbox found by name.
pub(crate) struct Found {
    pub folder: Folder,
    pub owner: Owner,
    pub rights: Rights,
}

/// The system flags, in the order they are announced.
const SYSTEM_FLAGS: &str = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

/// `* FLAGS (...)` and `* OK [PERMANENTFLAGS (...)]` with the mailbox's keywords.
pub(crate) fn write_flag_lists(out: &mut Vec<u8>, keywords: &[String], read_only: bool) {
    let mut kw = String::new();
    for k in keywords {
        kw.push(' ');
        kw.push_str(k);
    }
    out.extend_from_slice(format!("* FLAGS ({SYSTEM_FLAGS}{kw})\r\n").as_bytes());
    if read_only {
        out.extend_from_slice(b"* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
    } else {
        out.extend_from_slice(format!("* OK [PERMANENTFLAGS ({SYSTEM_FLAGS}{kw} \\*)] Flags permitted\r\n").as_bytes());
    }
}

pub(crate) fn entry(m: &MailboxMessage) -> Entry {
    Entry { id: m.id, uid: m.uid, flags: m.flags, keywords: m.keywords.clone(), modseq: m.modseq }
}

pub(crate) fn meta(m: &MailboxMessage) -> Meta {
    Meta {
        id: m.id,
        modseq: m.modseq.max(1),
        size: m.size,
        internal_date: m.internal_date,
        file_name: m.file_name.clone(),
        flags: m.flags,
        keywords: m.keywords.clone(),
    }
}

impl Session {
    /// The account's folder tree, or the public one.
    pub(crate) async fn tree(&self, owner: Owner) -> Result<Tree, StoreError> {
        let account_id = match owner {
            Owner::Account => self.account.as_ref().map_or(0, |a| a.id),
            Owner::Public => 0,
        };
        Ok(Tree::new(folders::list(&self.store.db, account_id).await?))
    }

    /// Parses a mailbox name, answering `NO` for names that cannot exist.
    pub(crate) fn path(&self, wire: &str) -> Result<Path, Done> {
        self.namer().parse(wire).map_err(|e| match e {
            NameError::Encoding => Done::No("[CANNOT] Invalid mailbox name encoding".into()),
            NameError::Invalid(why) => Done::No(format!("[CANNOT] Invalid mailbox name: {why}")),
        })
    }

    /// The rights of the logged-on account on a folder of `tree`.
    pub(crate) async fn rights(&self, owner: Owner, folder: &Folder, tree: &Tree) -> Result<Rights, StoreError> {
        if owner == Owner::Account || !self.cfg.acl {
            return Ok(Rights::ALL);
        }
        let account_id = self.account.as_ref().map_or(0, |a| a.id);
        acl::rights(&self.store.db, account_id, folder, tree.folders()).await
    }

    /// An existing mailbox the account may see.
    pub(crate) async fn find_mailbox(&self, wire: &str) -> Result<Found, Done> {
        let path = self.path(wire)?;
        let tree = self.tree(path.owner).await?;
        let components: Vec<&str> = path.components.iter().map(String::as_str).collect();
        let Some(folder) = tree.find(&components) else {
            return no("[NONEXISTENT] Mailbox does not exist");
        };
        let rights = self.rights(path.owner, folder, &tree).await?;
        if !rights.contains(Rights::LOOKUP) && !rights.contains(Rights::READ) {
            return no("[NONEXISTENT] Mailbox does not exist");
        }
        Ok(Found { folder: folder.clone(), owner: path.owner, rights })
    }

    pub(crate) async fn select(&mut self, wire: &str, examine: bool, params: &[SelectParam]) -> Outcome {
        let mut qresync = None;
        for p in params {
            match p {
                SelectParam::CondStore => self.enabled.condstore = true,
                SelectParam::QResync { .. } if !self.enabled.qresync => return bad("QRESYNC is not enabled"),
                SelectParam::QResync { uid_validity, mod_seq, .. } => qresync = Some((*uid_validity, *mod_seq)),
            }
        }
        if self.selected.take().is_some() && self.enabled.qresync {
            self.out.extend_from_slice(b"* OK [CLOSED] Previous mailbox closed\r\n");
        }
        let found = self.find_mailbox(wire).await?;
        if !found.rights.contains(Rights::READ) {
            return no("[NOPERM] Permission denied");
        }
        let read_only = examine
            || !(found.rights.contains(Rights::SEEN)
                || found.rights.contains(Rights::WRITE)
                || found.rights.contains(Rights::DELETE_MESSAGES));
        let db = &self.store.db;
        let watch = self.store.changes.subscribe(found.folder.id);
        // Read before the messages: a change in between is read again at the next refresh.
        let synced_modseq = folders::highest_modseq(db, found.folder.id).await?;
        let messages = mailbox::messages(db, found.folder.id).await?;
        // EXAMINE shows \Recent without taking it from the session that will SELECT; SELECT
        // writes only when there is something to take.
        let bit = altimail_core::codes::flags::RECENT;
        let recent = if read_only {
            messages.iter().filter(|m| m.flags & bit != 0).map(|m| m.uid).collect()
        } else if messages.iter().any(|m| m.flags & bit != 0) {
            mailbox::claim_recent(db, found.folder.id).await?
        } else {
            Vec::new()
        };
        let mut keywords: Vec<String> = Vec::new();
        for k in messages.iter().flat_map(|m| m.keywords.iter()) {
            if !keywords.iter().any(|known| known.eq_ignore_ascii_case(k)) {
                keywords.push(k.clone());
            }
        }
        mailbox::sort_keywords(&mut keywords);
        let last_uid = messages.last().map_or(0, |m| m.uid);
        let uid_next = u32::try_from(found.folder.current_uid + 1).unwrap_or(u32::MAX).max(last_uid.saturating_add(1));
        let entries = messages.iter().map(entry).collect();
        let meta = messages.iter().map(|m| (m.uid, meta(m))).collect::<HashMap<_, _>>();
        let view = SelectedMailbox::new(
            found.folder.id,
            entries,
            &recent,
            found.folder.uid_validity(),
            uid_next,
            synced_modseq,
            read_only,
        );
        let owner_address = match found.owner {
            Owner::Account => self.account.as_ref().map(|a| a.address.clone()).unwrap_or_default(),
            Owner::Public => String::new(),
        };
        let out = &mut self.out;
        write_flag_lists(out, &keywords, read_only);
        out.extend_from_slice(format!("* {} EXISTS\r\n", view.exists()).as_bytes());
        if !self.enabled.rev2 {
            out.extend_from_slice(format!("* {} RECENT\r\n", view.recent()).as_bytes());
            if let Some(seq) = view.first_unseen() {
                out.extend_from_slice(format!("* OK [UNSEEN {seq}] First unseen\r\n").as_bytes());
            }
        }
        out.extend_from_slice(format!("* OK [UIDVALIDITY {}] UIDs valid\r\n", view.uid_validity()).as_bytes());
        out.extend_from_slice(format!("* OK [UIDNEXT {}] Predicted next UID\r\n", view.uid_next()).as_bytes());
        out.extend_from_slice(format!("* OK [HIGHESTMODSEQ {}] Highest\r\n", view.highest_modseq().max(1)).as_bytes());
        let mut open = Open {
            view,
            folder: found.folder,
            owner: found.owner,
            owner_address,
            rights: found.rights,
            watch,
            meta,
            keywords,
            synced_modseq,
        };
        if let Some((validity, since)) = qresync
            && validity == open.view.uid_validity()
        {
            self.resync(&mut open, since).await?;
        }
        self.selected = Some(open);
        let mode = if read_only { "READ-ONLY" } else { "READ-WRITE" };
        Ok(format!("[{mode}] {} completed", if examine { "EXAMINE" } else { "SELECT" }))
    }

    /// QRESYNC at SELECT (RFC 7162 §3.2.5): what vanished and what changed since `since`.
    async fn resync(&mut self, open: &mut Open, since: u64) -> Result<(), StoreError> {
        let mut vanished = mailbox::vanished_since(&self.store.db, open.folder.id, since).await?;
        vanished.sort_unstable();
        vanished.dedup();
        if !vanished.is_empty() {
            self.out.extend_from_slice(b"* VANISHED (EARLIER) ");
            self.out.extend_from_slice(&altimail_imap::query::compact_set(&vanished));
            self.out.extend_from_slice(b"\r\n");
        }
        for seq in 1..=open.view.exists() {
            let Some(e) = open.view.entry(seq) else { continue };
            let modseq = open.meta.get(&e.uid).map_or(1, |m| m.modseq);
            if modseq > since {
                let mut line = format!("* {seq} FETCH (UID {} FLAGS ", e.uid).into_bytes();
                write_flags(&mut line, e.flags, e.keywords, e.recent);
                line.extend_from_slice(format!(" MODSEQ ({modseq}))\r\n").as_bytes());
                self.out.extend_from_slice(&line);
            }
        }
        Ok(())
    }

    /// CLOSE (expunging silently when read-write) and UNSELECT.
    pub(crate) async fn close(&mut self, expunge: bool) -> Outcome {
        let Some(open) = self.selected.take() else {
            return bad("No mailbox selected");
        };
        if expunge && !open.view.read_only() && open.rights.contains(Rights::EXPUNGE) {
            let ids: Vec<i64> = (1..=open.view.exists())
                .filter_map(|seq| open.view.entry(seq))
                .filter(|e| e.flags & altimail_core::codes::flags::DELETED != 0)
                .map(|e| e.id)
                .collect();
            if !ids.is_empty() {
                mailbox::expunge(&self.store, &open.folder, open.location(), &ids).await?;
            }
        }
        Ok(if expunge { "CLOSE completed" } else { "UNSELECT completed" }.into())
    }

    /// Brings the view up to date with the store: always when `force`, else only when the
    /// change bus says the folder changed. Only what changed since the last sync is read: rows
    /// with a higher modseq, and the UIDs expunged since.
    pub(crate) async fn refresh(&mut self, force: bool) -> Result<(), StoreError> {
        let Some(open) = self.selected.as_mut() else { return Ok(()) };
        let changed = open.watch.has_changed().unwrap_or(false);
        if !changed && !force {
            return Ok(());
        }
        open.watch.borrow_and_update();
        let db = &self.store.db;
        let since = open.synced_modseq;
        let highest = folders::highest_modseq(db, open.folder.id).await?;
        if highest <= since {
            return Ok(());
        }
        let fresh = mailbox::changed_since(db, &open.folder, since).await?;
        let gone = mailbox::vanished_since(db, open.folder.id, since).await?;
        let arrived = fresh.iter().any(|m| !open.meta.contains_key(&m.uid));
        for uid in &gone {
            open.meta.remove(uid);
        }
        let mut uid_next = open.view.uid_next();
        for m in &fresh {
            uid_next = uid_next.max(m.uid.saturating_add(1));
            open.meta.insert(m.uid, meta(m));
        }
        let recent = if arrived && !open.view.read_only() {
            mailbox::claim_recent(db, open.folder.id).await?
        } else {
            Vec::new()
        };
        open.announce_keywords(fresh.iter().flat_map(|m| m.keywords.iter()), &mut self.out);
        let mut snapshot: Vec<Entry> = open
            .meta
            .iter()
            .map(|(&uid, m)| Entry { id: m.id, uid, flags: m.flags, keywords: m.keywords.clone(), modseq: m.modseq })
            .collect();
        snapshot.sort_unstable_by_key(|e| e.uid);
        open.view.sync(snapshot, &recent, highest, uid_next);
        open.synced_modseq = highest;
        Ok(())
    }

    pub(crate) fn update_options(&self, allow_expunge: bool, uid: bool) -> UpdateOptions {
        UpdateOptions {
            allow_expunge,
            qresync: self.enabled.qresync,
            condstore: self.enabled.condstore,
            rev2: self.enabled.rev2,
            uid_in_fetch: uid || self.enabled.rev2 || self.enabled.qresync,
        }
    }

    /// Writes the view's pending untagged updates.
    pub(crate) fn write_updates(&mut self, allow_expunge: bool) {
        let opts = self.update_options(allow_expunge, false);
        if let Some(open) = self.selected.as_mut() {
            open.view.write_updates(&mut self.out, opts);
        }
    }
}
