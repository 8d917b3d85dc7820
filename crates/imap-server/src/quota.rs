//! QUOTA (RFC 9208): one root per account, `""`, from `accountmaxsize` (MB), in KB.

use altimail_store::repo::messages;

use crate::names::Owner;
use crate::session::{Outcome, Session, bad, no};

impl Session {
    /// `* QUOTA "" (STORAGE used max)`, or `()` when the account has no limit.
    async fn quota_line(&mut self) -> Result<(), crate::session::Done> {
        let Some(account) = self.account.as_ref() else { return Ok(()) };
        let line = if account.max_size_mb > 0 {
            let used = messages::account_size(&self.store.db, account.id).await?.max(0) as u64;
            format!("* QUOTA \"\" (STORAGE {} {})\r\n", used.div_ceil(1024), account.max_size_mb as u64 * 1024)
        } else {
            "* QUOTA \"\" ()\r\n".to_owned()
        };
        self.out.extend_from_slice(line.as_bytes());
        Ok(())
    }

    pub(crate) async fn get_quota_root(&mut self, wire: &str) -> Outcome {
        if !self.cfg.quota {
            return bad("QUOTA is disabled");
        }
        let found = self.find_mailbox(wire).await?;
        let mut line = b"* QUOTAROOT ".to_vec();
        altimail_imap::wire::string(&mut line, wire.as_bytes());
        if found.owner == Owner::Account {
            line.extend_from_slice(b" \"\"\r\n");
            self.out.extend_from_slice(&line);
            self.quota_line().await?;
        } else {
            line.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(&line);
        }
        Ok("GETQUOTAROOT completed".into())
    }

    pub(crate) async fn get_quota(&mut self, root: &str) -> Outcome {
        if !self.cfg.quota {
            return bad("QUOTA is disabled");
        }
        if !root.is_empty() {
            return no("[NONEXISTENT] No such quota root");
        }
        self.quota_line().await?;
        Ok("GETQUOTA completed".into())
    }
}
