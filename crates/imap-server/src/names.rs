//! Mailbox names: the folder trees (the account's and the public one) as IMAP paths, name
//! resolution (LIST patterns are `altimail_imap::list_pattern`).
//!
//! hMailServer keeps one row per level, each name in modified UTF-7 exactly as on the wire. A
//! path is the names from the top joined by the delimiter; public folders appear under the
//! public namespace prefix (`#Public.`). With UTF8=ACCEPT enabled, names travel as UTF-8 and are
//! converted at the edge.

use std::collections::HashMap;

use altimail_imap::mutf7;
use altimail_store::Location;
use altimail_store::repo::folders::{Folder, TOP_LEVEL};

/// Deepest folder nesting hMailServer allows.
pub(crate) const MAX_DEPTH: usize = 25;

/// One tree of folders (an account's, or the public one) indexed for path work.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    folders: Vec<Folder>,
    by_id: HashMap<i64, usize>,
    children: HashMap<i64, Vec<usize>>,
}

impl Tree {
    pub(crate) fn new(folders: Vec<Folder>) -> Tree {
        let by_id = folders.iter().enumerate().map(|(i, f)| (f.id, i)).collect();
        let mut children: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, f) in folders.iter().enumerate() {
            children.entry(f.parent_id).or_default().push(i);
        }
        Tree { folders, by_id, children }
    }

    pub(crate) fn folders(&self) -> &[Folder] {
        &self.folders
    }

    pub(crate) fn get(&self, id: i64) -> Option<&Folder> {
        self.by_id.get(&id).and_then(|&i| self.folders.get(i))
    }

    pub(crate) fn children(&self, id: i64) -> impl Iterator<Item = &Folder> {
        self.children.get(&id).into_iter().flatten().filter_map(|&i| self.folders.get(i))
    }

    pub(crate) fn has_children(&self, id: i64) -> bool {
        self.children.get(&id).is_some_and(|c| !c.is_empty())
    }

    /// The child of `parent` named `name` (INBOX at the top matched in any case).
    pub(crate) fn child(&self, parent: i64, name: &str) -> Option<&Folder> {
        let inbox = parent == TOP_LEVEL && name.eq_ignore_ascii_case("INBOX");
        self.children(parent).find(|f| f.name == name || (inbox && f.name.eq_ignore_ascii_case("INBOX")))
    }

    /// The folder at `components`, from the top.
    pub(crate) fn find(&self, components: &[&str]) -> Option<&Folder> {
        let mut parent = TOP_LEVEL;
        let mut found = None;
        for name in components {
            let f = self.child(parent, name)?;
            parent = f.id;
            found = Some(f);
        }
        found
    }

    /// The names from the top down to `id` (empty if unknown or looping).
    pub(crate) fn components(&self, id: i64) -> Vec<&str> {
        let mut out = Vec::new();
        let mut at = id;
        while let Some(f) = self.get(at) {
            out.push(f.name.as_str());
            if out.len() > MAX_DEPTH + 1 {
                return Vec::new();
            }
            at = f.parent_id;
        }
        out.reverse();
        out
    }

    /// `id` and all folders below it, parents before children.
    pub(crate) fn subtree(&self, id: i64) -> Vec<&Folder> {
        let mut out: Vec<&Folder> = self.get(id).into_iter().collect();
        let mut i = 0;
        while i < out.len() && out.len() < 100_000 {
            let parent = out[i].id;
            out.extend(self.children(parent));
            i += 1;
        }
        out
    }
}

/// Which tree a path lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Account,
    Public,
}

impl Owner {
    /// Where the tree's message files live; `address` is the owning account's.
    pub(crate) fn location(self, address: &str) -> Location<'_> {
        match self {
            Owner::Account => Location::Account(address),
            Owner::Public => Location::Public,
        }
    }
}

/// The delimiter as a quoted string, as LIST, LSUB and NAMESPACE show it.
pub(crate) fn quoted_delimiter(d: char) -> String {
    if d == '\\' || d == '"' { format!("\"\\{d}\"") } else { format!("\"{d}\"") }
}

/// A mailbox name split into its tree and components (modified UTF-7, as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    pub owner: Owner,
    pub components: Vec<String>,
}

/// Why a name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameError {
    /// Not valid modified UTF-7 (or UTF-8).
    Encoding,
    /// Empty component, too deep, or too long.
    Invalid(&'static str),
}

/// Converts between wire names and stored names and splits paths.
#[derive(Debug, Clone)]
pub(crate) struct Namer {
    pub delimiter: char,
    pub public_name: String,
    /// UTF8=ACCEPT is enabled: names on the wire are UTF-8.
    pub utf8: bool,
}

impl Namer {
    /// A wire name to its stored form (modified UTF-7).
    pub(crate) fn to_stored(&self, wire: &str) -> Result<String, NameError> {
        if self.utf8 {
            // RFC 6855 §3: a client that enabled UTF8=ACCEPT sends UTF-8; an `&` is literal.
            Ok(mutf7::encode(wire))
        } else {
            mutf7::decode(wire).map_err(|_| NameError::Encoding)?;
            Ok(wire.to_owned())
        }
    }

    /// A stored name to its wire form.
    pub(crate) fn to_wire(&self, stored: &str) -> String {
        if self.utf8 { mutf7::decode(stored).unwrap_or_else(|_| stored.to_owned()) } else { stored.to_owned() }
    }

    /// Splits a wire name into a path. A trailing delimiter is dropped (CREATE `a.b.`).
    pub(crate) fn parse(&self, wire: &str) -> Result<Path, NameError> {
        let stored = self.to_stored(wire)?;
        let stored = stored.strip_suffix(self.delimiter).unwrap_or(&stored);
        if stored.is_empty() {
            return Err(NameError::Invalid("empty mailbox name"));
        }
        let mut components: Vec<String> = stored.split(self.delimiter).map(str::to_owned).collect();
        let owner = if components.first().is_some_and(|c| c.eq_ignore_ascii_case(&self.public_name)) {
            components.remove(0);
            Owner::Public
        } else {
            Owner::Account
        };
        if owner == Owner::Account && components.first().is_some_and(|c| c.eq_ignore_ascii_case("INBOX")) {
            components[0] = "INBOX".to_owned();
        }
        if components.iter().any(|c| c.is_empty()) {
            return Err(NameError::Invalid("empty hierarchy level"));
        }
        if components.len() > MAX_DEPTH {
            return Err(NameError::Invalid("too many hierarchy levels"));
        }
        if components.iter().any(|c| c.chars().count() > 255) {
            return Err(NameError::Invalid("name too long"));
        }
        Ok(Path { owner, components })
    }

    /// The wire name of a folder's components in a tree.
    pub(crate) fn join(&self, owner: Owner, components: &[&str]) -> String {
        let d = self.delimiter.to_string();
        let stored = match owner {
            Owner::Account => components.join(&d),
            Owner::Public if components.is_empty() => self.public_name.clone(),
            Owner::Public => format!("{}{d}{}", self.public_name, components.join(&d)),
        };
        self.to_wire(&stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let n = Namer { delimiter: '.', public_name: "#Public".into(), utf8: false };
        let p = n.parse("inbox.Sub").unwrap();
        assert_eq!((p.owner, p.components.clone()), (Owner::Account, vec!["INBOX".to_owned(), "Sub".to_owned()]));
        let p = n.parse("#public.Shared").unwrap();
        assert_eq!((p.owner, p.components.clone()), (Owner::Public, vec!["Shared".to_owned()]));
        assert!(n.parse("a..b").is_err());
        assert!(n.parse("caf&AOk").is_err());
        assert_eq!(n.parse("a.b.").unwrap().components.len(), 2);
        let u = Namer { utf8: true, ..n };
        assert_eq!(u.parse("café").unwrap().components, vec!["caf&AOk-".to_owned()]);
        assert_eq!(u.join(Owner::Account, &["caf&AOk-"]), "café");
    }
}
