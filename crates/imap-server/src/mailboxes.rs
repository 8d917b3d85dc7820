//! CREATE, DELETE, RENAME, SUBSCRIBE/UNSUBSCRIBE, LIST (with LIST-EXTENDED, LIST-STATUS,
//! SPECIAL-USE), LSUB and STATUS.

use std::collections::HashMap;

use altimail_core::time::now_local;
use altimail_imap::command::{ListReturn, ListSelect, StatusItem};
use altimail_imap::list_pattern::ListPattern;
use altimail_imap::wire;
use altimail_store::StoreError;
use altimail_store::repo::acl::Rights;
use altimail_store::repo::folders::{self, Folder, TOP_LEVEL};
use altimail_store::repo::{mailbox, special_use, subscriptions};

use crate::names::{Owner, Tree, quoted_delimiter};
use crate::session::{Done, Outcome, Session, bad, no};

/// Special-use attributes a client may ask for at CREATE (RFC 6154).
const SPECIAL_USES: &[&str] = &["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"];

/// The creation time of a new folder, which is its UIDVALIDITY: a second after the last one
/// handed out when needed, so a mailbox deleted and made again at once gets a new UIDVALIDITY.
fn creation_time() -> chrono::NaiveDateTime {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = now_local();
    let secs = now.and_utc().timestamp();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = secs.max(last + 1);
        match LAST.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return chrono::DateTime::from_timestamp(next, 0).map_or(now, |t| t.naive_utc()),
            Err(seen) => last = seen,
        }
    }
}

/// One mailbox as LIST shows it.
#[derive(Clone)]
struct Listed {
    name: String,
    attributes: Vec<String>,
    subscribed: bool,
    /// The folder behind it (None for the virtual public root).
    folder: Option<Folder>,
    selectable: bool,
}

impl Session {
    fn account_id(&self) -> i64 {
        self.account.as_ref().map_or(0, |a| a.id)
    }

    pub(crate) async fn create(&mut self, wire_name: &str, special_use: &[String]) -> Outcome {
        let path = self.path(wire_name)?;
        for attr in special_use {
            if !SPECIAL_USES.iter().any(|s| s.eq_ignore_ascii_case(attr)) {
                return no("[USEATTR] Unsupported special-use attribute");
            }
        }
        if path.owner == Owner::Account && path.components.len() == 1 && path.components[0] == "INBOX" {
            return no("[ALREADYEXISTS] INBOX always exists");
        }
        if path.owner == Owner::Account && path.components.first().is_some_and(|c| c.starts_with('#')) {
            return no("[CANNOT] Folder names may not start with #");
        }
        let components: Vec<&str> = path.components.iter().map(String::as_str).collect();
        let Some((_, parents)) = components.split_last() else {
            // `#Public` alone: the namespace root is not a folder.
            return no("[ALREADYEXISTS] The public namespace always exists");
        };
        let tree = self.tree(path.owner).await?;
        if tree.find(&components).is_some() {
            return no("[ALREADYEXISTS] Mailbox already exists");
        }
        let owner_id = match path.owner {
            Owner::Account => self.account_id(),
            Owner::Public => 0,
        };
        // The deepest existing ancestor decides the rights on public folders.
        let mut parent = TOP_LEVEL;
        let mut depth = 0;
        for name in parents {
            match tree.child(parent, name) {
                Some(f) => parent = f.id,
                None => break,
            }
            depth += 1;
        }
        if path.owner == Owner::Public {
            let allowed = match tree.get(parent) {
                Some(p) => self.rights(Owner::Public, p, &tree).await?.contains(Rights::CREATE),
                None => false,
            };
            if !allowed {
                return no("[NOPERM] Permission denied");
            }
        }
        let db = &self.store.db;
        let mut created = None;
        for name in &components[depth..] {
            match folders::create(db, owner_id, parent, name, creation_time()).await {
                Ok(f) => {
                    // hMailServer subscribes new folders; IMAP leaves that to SUBSCRIBE.
                    folders::set_subscribed(db, f.id, false).await?;
                    parent = f.id;
                    created = Some(f);
                }
                Err(StoreError::Conflict(_)) => return no("[ALREADYEXISTS] Mailbox already exists"),
                Err(StoreError::Invalid(why)) => return no(format!("[CANNOT] {why}")),
                Err(e) => return Err(e.into()),
            }
        }
        // A subscription kept for this name while it did not exist now belongs to the folder.
        if let Some(f) = &created
            && path.owner == Owner::Account
            && subscriptions::remove(db, owner_id, &self.stored_path(&path.components)).await?
        {
            folders::set_subscribed(db, f.id, true).await?;
        }
        if let Some(f) = created
            && !special_use.is_empty()
        {
            let attrs: Vec<String> = special_use
                .iter()
                .filter_map(|a| SPECIAL_USES.iter().find(|s| s.eq_ignore_ascii_case(a)).map(|s| (*s).to_owned()))
                .collect();
            special_use::set(db, f.id, &attrs).await?;
        }
        Ok("CREATE completed".into())
    }

    pub(crate) async fn delete(&mut self, wire_name: &str) -> Outcome {
        let found = self.find_mailbox(wire_name).await?;
        if found.owner == Owner::Account && found.folder.parent_id == TOP_LEVEL && found.folder.name == "INBOX" {
            return no("[CANNOT] INBOX cannot be deleted");
        }
        if !found.rights.contains(Rights::DELETE_MAILBOX) {
            return no("[NOPERM] Permission denied");
        }
        let tree = self.tree(found.owner).await?;
        if tree.has_children(found.folder.id) {
            return no("[CANNOT] Mailbox has children, delete them first");
        }
        if self.selected.as_ref().is_some_and(|o| o.folder.id == found.folder.id) {
            self.selected = None;
        }
        folders::delete(&self.store, &found.folder, self.location_of(found.owner)).await?;
        if found.owner == Owner::Account && found.folder.subscribed {
            // The subscription outlives the mailbox (RFC 9051 §6.3.4).
            let name = self.stored_path(&tree.components(found.folder.id));
            subscriptions::add(&self.store.db, self.account_id(), &name).await?;
        }
        Ok("DELETE completed".into())
    }

    pub(crate) async fn rename(&mut self, from: &str, to: &str) -> Outcome {
        let found = self.find_mailbox(from).await?;
        let target = self.path(to)?;
        if target.owner != found.owner {
            return no("[CANNOT] Cannot move a mailbox between namespaces");
        }
        if !found.rights.contains(Rights::DELETE_MAILBOX) {
            return no("[NOPERM] Permission denied");
        }
        let components: Vec<&str> = target.components.iter().map(String::as_str).collect();
        let Some((last, parents)) = components.split_last() else {
            return no("[CANNOT] The public namespace root cannot be a rename target");
        };
        let tree = self.tree(found.owner).await?;
        if tree.find(&components).is_some() {
            return no("[ALREADYEXISTS] Target mailbox already exists");
        }
        if found.owner == Owner::Account && components.first() == Some(&"INBOX") && components.len() == 1 {
            return no("[ALREADYEXISTS] Target mailbox already exists");
        }
        let is_inbox =
            found.owner == Owner::Account && found.folder.parent_id == TOP_LEVEL && found.folder.name == "INBOX";
        let owner_id = match found.owner {
            Owner::Account => self.account_id(),
            Owner::Public => 0,
        };
        // Make the target's missing parents; refuse to move a mailbox under itself.
        let db = &self.store.db;
        let mut parent = TOP_LEVEL;
        for name in parents {
            parent = match tree.child(parent, name) {
                Some(f) if f.id == found.folder.id => return no("[CANNOT] Cannot move a mailbox into itself"),
                Some(f) => f.id,
                None => folders::create(db, owner_id, parent, name, creation_time()).await?.id,
            };
            if !is_inbox && tree.subtree(found.folder.id).iter().any(|f| f.id == parent) {
                return no("[CANNOT] Cannot move a mailbox into itself");
            }
        }
        if is_inbox {
            // RFC 9051 §6.3.6: INBOX's messages move to the new mailbox, INBOX stays, empty.
            let new = match folders::create(db, owner_id, parent, last, creation_time()).await {
                Ok(f) => f,
                Err(StoreError::Conflict(_)) => return no("[ALREADYEXISTS] Target mailbox already exists"),
                Err(e) => return Err(e.into()),
            };
            let ids: Vec<i64> = mailbox::messages(db, found.folder.id).await?.iter().map(|m| m.id).collect();
            if !ids.is_empty() {
                let loc = self.location_of(Owner::Account);
                mailbox::move_messages(&self.store, &found.folder, loc, &ids, &new, loc).await?;
            }
            return Ok("RENAME completed".into());
        }
        match folders::rename(db, found.folder.id, parent, last).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return no("[ALREADYEXISTS] Target mailbox already exists"),
            Err(StoreError::Invalid(why)) => return no(format!("[CANNOT] {why}")),
            Err(e) => return Err(e.into()),
        }
        Ok("RENAME completed".into())
    }

    /// SUBSCRIBE and UNSUBSCRIBE. A name of the account's own tree may be subscribed before
    /// it exists, and stays subscribed after it is deleted (RFC 9051 §6.3.7).
    pub(crate) async fn subscribe(&mut self, wire_name: &str, on: bool) -> Outcome {
        let done = if on { "SUBSCRIBE completed" } else { "UNSUBSCRIBE completed" };
        let missing = match self.find_mailbox(wire_name).await {
            Ok(found) => {
                folders::set_subscribed(&self.store.db, found.folder.id, on).await?;
                return Ok(done.into());
            }
            Err(Done::No(text)) if text.starts_with("[NONEXISTENT]") => text,
            Err(other) => return Err(other),
        };
        let path = self.path(wire_name)?;
        if path.owner != Owner::Account {
            return Err(Done::No(missing));
        }
        let (db, name) = (&self.store.db, self.stored_path(&path.components));
        if on {
            subscriptions::add(db, self.account_id(), &name).await?;
        } else if !subscriptions::remove(db, self.account_id(), &name).await? {
            return Err(Done::No(missing));
        }
        Ok(done.into())
    }

    /// A path of the account's tree as subscriptions keep it: stored names joined by the delimiter.
    fn stored_path<S: AsRef<str>>(&self, components: &[S]) -> String {
        let parts: Vec<&str> = components.iter().map(AsRef::as_ref).collect();
        parts.join(&self.cfg.delimiter.to_string())
    }

    /// Subscribed names without a mailbox, as LIST (SUBSCRIBED) and LSUB show them.
    async fn missing_subscriptions(&self) -> Result<Vec<Listed>, Done> {
        let namer = self.namer();
        let names = subscriptions::list(&self.store.db, self.account_id()).await?;
        Ok(names
            .into_iter()
            .map(|stored| Listed {
                name: namer.to_wire(&stored),
                attributes: vec!["\\NonExistent".into()],
                subscribed: true,
                folder: None,
                selectable: false,
            })
            .collect())
    }

    /// Every mailbox the account can see, in tree order, with its base attributes.
    async fn listable(&self) -> Result<Vec<Listed>, Done> {
        let namer = self.namer();
        let mut out = Vec::new();
        let special: HashMap<i64, Vec<String>> = {
            let mut m: HashMap<i64, Vec<String>> = HashMap::new();
            for (id, attr) in special_use::list(&self.store.db, self.account_id()).await? {
                m.entry(id).or_default().push(attr);
            }
            m
        };
        for owner in [Owner::Account, Owner::Public] {
            let tree = self.tree(owner).await?;
            let root_at = out.len();
            for f in dfs(&tree) {
                let rights = self.rights(owner, f, &tree).await?;
                if !rights.contains(Rights::LOOKUP) && !rights.contains(Rights::READ) {
                    continue;
                }
                let mut attributes =
                    vec![if tree.has_children(f.id) { "\\HasChildren" } else { "\\HasNoChildren" }.to_owned()];
                let selectable = rights.contains(Rights::READ);
                if !selectable {
                    attributes.push("\\Noselect".into());
                }
                if let Some(uses) = special.get(&f.id) {
                    attributes.extend(uses.iter().cloned());
                }
                out.push(Listed {
                    name: namer.join(owner, &tree.components(f.id)),
                    attributes,
                    subscribed: f.subscribed,
                    folder: Some(f.clone()),
                    selectable,
                });
            }
            // The public namespace's root, when the account can see something in it.
            if owner == Owner::Public && out.len() > root_at {
                let root = Listed {
                    name: namer.join(Owner::Public, &[]),
                    attributes: vec!["\\Noselect".into(), "\\HasChildren".into()],
                    subscribed: false,
                    folder: None,
                    selectable: false,
                };
                out.insert(root_at, root);
            }
        }
        Ok(out)
    }

    pub(crate) async fn list(
        &mut self,
        select: &[ListSelect],
        reference: &str,
        patterns: &[String],
        returns: &[ListReturn],
    ) -> Outcome {
        let d = self.cfg.delimiter;
        let subscribed_only = select.contains(&ListSelect::Subscribed);
        let recursive = select.contains(&ListSelect::RecursiveMatch);
        let special_only = select.contains(&ListSelect::SpecialUse);
        if recursive && !subscribed_only && !special_only {
            return bad("RECURSIVEMATCH needs another selection option");
        }
        if patterns.len() == 1 && patterns[0].is_empty() {
            let line = format!("* LIST (\\Noselect) {} \"\"\r\n", quoted_delimiter(d));
            self.out.extend_from_slice(line.as_bytes());
            return Ok("LIST completed".into());
        }
        let want_subscribed = subscribed_only || returns.contains(&ListReturn::Subscribed);
        let status_items = returns.iter().find_map(|r| match r {
            ListReturn::Status(items) => Some(items.clone()),
            _ => None,
        });
        let matchers: Vec<ListPattern> = patterns.iter().map(|p| ListPattern::new(reference, p, d)).collect();
        let mut all = self.listable().await?;
        if subscribed_only {
            all.extend(self.missing_subscriptions().await?);
        }
        let mut lines: Vec<(Listed, Option<&'static str>)> = Vec::new();
        for (i, item) in all.iter().enumerate() {
            let matched = matchers.iter().any(|m| m.matches(&item.name));
            if subscribed_only {
                if matched && item.subscribed {
                    lines.push((item.clone(), None));
                } else if matched && recursive {
                    // A parent whose descendant is subscribed (RFC 5258 CHILDINFO).
                    // Only for descendants the patterns do not list themselves.
                    let prefix = format!("{}{d}", item.name);
                    if all[i + 1..].iter().any(|o| {
                        o.subscribed && o.name.starts_with(&prefix) && !matchers.iter().any(|m| m.matches(&o.name))
                    }) {
                        lines.push((item.clone(), Some("SUBSCRIBED")));
                    }
                }
                continue;
            }
            if !matched {
                continue;
            }
            if special_only && !item.attributes.iter().any(|a| SPECIAL_USES.contains(&a.as_str())) {
                continue;
            }
            lines.push((item.clone(), None));
        }
        for (item, childinfo) in lines {
            let mut attrs = item.attributes.clone();
            if subscribed_only && !item.subscribed {
                attrs.retain(|a| a != "\\Subscribed");
            }
            if want_subscribed && item.subscribed {
                attrs.push("\\Subscribed".into());
            }
            let mut line = format!("* LIST ({}) {} ", attrs.join(" "), quoted_delimiter(d)).into_bytes();
            wire::string(&mut line, item.name.as_bytes());
            if let Some(info) = childinfo {
                line.extend_from_slice(format!(" (\"CHILDINFO\" (\"{info}\"))").as_bytes());
            }
            line.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(&line);
            if let (Some(items), Some(folder), true) = (&status_items, &item.folder, item.selectable) {
                self.status_line(&item.name, folder, items).await?;
            }
        }
        Ok("LIST completed".into())
    }

    pub(crate) async fn lsub(&mut self, reference: &str, pattern: &str) -> Outcome {
        let d = self.cfg.delimiter;
        let matcher = ListPattern::new(reference, pattern, d);
        let mut all = self.listable().await?;
        all.extend(self.missing_subscriptions().await?);
        for (i, item) in all.iter().enumerate() {
            if !matcher.matches(&item.name) {
                continue;
            }
            // RFC 3501 §6.3.9: a parent that is not subscribed but has subscribed children
            // matched by `%` is shown as \Noselect.
            let prefix = format!("{}{d}", item.name);
            let parent_only =
                !item.subscribed && all[i + 1..].iter().any(|o| o.subscribed && o.name.starts_with(&prefix));
            if item.subscribed || (parent_only && pattern.ends_with('%')) {
                let attrs = if item.subscribed && item.folder.is_some() { "" } else { "\\Noselect" };
                let mut line = format!("* LSUB ({attrs}) {} ", quoted_delimiter(d)).into_bytes();
                wire::string(&mut line, item.name.as_bytes());
                line.extend_from_slice(b"\r\n");
                self.out.extend_from_slice(&line);
            }
        }
        Ok("LSUB completed".into())
    }

    pub(crate) async fn status(&mut self, wire_name: &str, items: &[StatusItem]) -> Outcome {
        let found = self.find_mailbox(wire_name).await?;
        if !found.rights.contains(Rights::READ) {
            return no("[NOPERM] Permission denied");
        }
        if items.contains(&StatusItem::HighestModSeq) {
            self.enabled.condstore = true;
        }
        let name = self.namer().join(found.owner, &self.tree(found.owner).await?.components(found.folder.id));
        self.status_line(&name, &found.folder, items).await?;
        Ok("STATUS completed".into())
    }

    async fn status_line(&mut self, name: &str, folder: &Folder, items: &[StatusItem]) -> Result<(), Done> {
        let s = mailbox::status(&self.store.db, folder).await?;
        let mut parts = Vec::new();
        for item in items {
            parts.push(match item {
                StatusItem::Messages => format!("MESSAGES {}", s.messages),
                StatusItem::Recent => format!("RECENT {}", s.recent),
                StatusItem::UidNext => format!("UIDNEXT {}", s.uid_next),
                StatusItem::UidValidity => format!("UIDVALIDITY {}", s.uid_validity),
                StatusItem::Unseen => format!("UNSEEN {}", s.unseen),
                StatusItem::Deleted => format!("DELETED {}", s.deleted),
                StatusItem::Size => format!("SIZE {}", s.size),
                StatusItem::HighestModSeq => format!("HIGHESTMODSEQ {}", s.highest_modseq.max(1)),
                StatusItem::AppendLimit => format!("APPENDLIMIT {}", self.cfg.append_limit),
            });
        }
        let mut line = b"* STATUS ".to_vec();
        wire::string(&mut line, name.as_bytes());
        line.extend_from_slice(format!(" ({})\r\n", parts.join(" ")).as_bytes());
        self.out.extend_from_slice(&line);
        Ok(())
    }
}

/// Folders depth-first, parents before children, INBOX first and siblings by name.
fn dfs(tree: &Tree) -> Vec<&Folder> {
    let mut out = Vec::new();
    let mut stack: Vec<&Folder> = sorted_children(tree, TOP_LEVEL);
    stack.reverse();
    while let Some(f) = stack.pop() {
        out.push(f);
        if out.len() > 100_000 {
            break;
        }
        let mut kids = sorted_children(tree, f.id);
        kids.reverse();
        stack.extend(kids);
    }
    out
}

fn sorted_children(tree: &Tree, parent: i64) -> Vec<&Folder> {
    let mut kids: Vec<&Folder> = tree.children(parent).filter(|f| f.id != parent).collect();
    kids.sort_by(|a, b| (a.name != "INBOX", &a.name).cmp(&(b.name != "INBOX", &b.name)));
    kids
}
