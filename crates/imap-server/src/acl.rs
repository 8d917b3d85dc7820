//! ACL (RFC 4314) on hMailServer's `hm_acl`: rights on public folders for users, groups and
//! anyone. An account always has every right on its own folders.

use altimail_store::StoreError;
use altimail_store::repo::acl::{self, Rights};

use crate::names::Owner;
use crate::select::Found;
use crate::session::{Done, Outcome, Session, bad, no};

/// Every right, as LISTRIGHTS offers them (each may be granted on its own).
const ALL_LETTERS: &str = "l r s w i p k x t e a";

impl Session {
    /// The mailbox, if ACL is on and the account may administer it.
    async fn administered(&self, wire: &str) -> Result<Found, Done> {
        if !self.cfg.acl {
            return bad("ACL is disabled");
        }
        let found = self.find_mailbox(wire).await?;
        if !found.rights.contains(Rights::ADMIN) {
            return no("[NOPERM] Permission denied");
        }
        Ok(found)
    }

    fn mailbox_arg(wire: &str) -> Vec<u8> {
        let mut out = Vec::new();
        altimail_imap::wire::string(&mut out, wire.as_bytes());
        out
    }

    pub(crate) async fn get_acl(&mut self, wire: &str) -> Outcome {
        let found = self.administered(wire).await?;
        let mut line = b"* ACL ".to_vec();
        line.extend_from_slice(&Self::mailbox_arg(wire));
        if found.owner == Owner::Account
            && let Some(account) = &self.account
        {
            line.push(b' ');
            altimail_imap::wire::astring(&mut line, account.address.as_bytes());
            line.push(b' ');
            line.extend_from_slice(Rights::ALL.letters().as_bytes());
        }
        for entry in acl::list(&self.store.db, found.folder.id).await? {
            line.push(b' ');
            altimail_imap::wire::astring(&mut line, entry.identifier.as_bytes());
            line.push(b' ');
            altimail_imap::wire::astring(&mut line, entry.rights.letters().as_bytes());
        }
        line.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(&line);
        Ok("GETACL completed".into())
    }

    pub(crate) async fn set_acl(&mut self, wire: &str, identifier: &str, rights: &str) -> Outcome {
        let found = self.administered(wire).await?;
        let (mode, letters) = match rights.as_bytes().first() {
            Some(b'+') => (1, &rights[1..]),
            Some(b'-') => (-1, &rights[1..]),
            _ => (0, rights),
        };
        // RFC 4314 §2.1.1: the obsolete `c` and `d` stand for k/x and t/e.
        let letters: String = letters
            .chars()
            .map(|c| match c {
                'c' => "kx".to_owned(),
                'd' => "te".to_owned(),
                c => c.to_string(),
            })
            .collect();
        let Some(given) = Rights::from_letters(&letters) else { return bad("Invalid rights") };
        let db = &self.store.db;
        let current = acl::list(db, found.folder.id)
            .await?
            .into_iter()
            .find(|e| e.identifier.eq_ignore_ascii_case(identifier))
            .map_or(Rights::default(), |e| e.rights);
        let new = match mode {
            1 => Rights(current.0 | given.0),
            -1 => Rights(current.0 & !given.0),
            _ => given,
        };
        match acl::set(db, found.folder.id, identifier, new).await {
            Ok(()) => Ok("SETACL completed".into()),
            Err(StoreError::NotFound(_)) => no("No such user or group"),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn delete_acl(&mut self, wire: &str, identifier: &str) -> Outcome {
        let found = self.administered(wire).await?;
        acl::delete(&self.store.db, found.folder.id, identifier).await?;
        Ok("DELETEACL completed".into())
    }

    pub(crate) async fn list_rights(&mut self, wire: &str, identifier: &str) -> Outcome {
        self.administered(wire).await?;
        let mut line = b"* LISTRIGHTS ".to_vec();
        line.extend_from_slice(&Self::mailbox_arg(wire));
        line.push(b' ');
        altimail_imap::wire::astring(&mut line, identifier.as_bytes());
        line.extend_from_slice(format!(" \"\" {ALL_LETTERS}\r\n").as_bytes());
        self.out.extend_from_slice(&line);
        Ok("LISTRIGHTS completed".into())
    }

    pub(crate) async fn my_rights(&mut self, wire: &str) -> Outcome {
        if !self.cfg.acl {
            return bad("ACL is disabled");
        }
        let found = self.find_mailbox(wire).await?;
        let mut line = b"* MYRIGHTS ".to_vec();
        line.extend_from_slice(&Self::mailbox_arg(wire));
        line.push(b' ');
        altimail_imap::wire::astring(&mut line, found.rights.letters().as_bytes());
        line.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(&line);
        Ok("MYRIGHTS completed".into())
    }
}
