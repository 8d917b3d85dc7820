//! STARTTLS, LOGIN and AUTHENTICATE PLAIN (with SASL-IR), and what follows a logon: the INBOX
//! and the special-use folders are made when missing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use altimail_core::sasl::split_plain;
use altimail_core::time::now_local;
use altimail_store::repo::accounts::Account;
use altimail_store::repo::folders::{self, TOP_LEVEL};
use altimail_store::repo::special_use;
use altimail_store::{LogonRefused, StoreError};

use crate::session::{Outcome, Session, bad, no};

/// The special-use folders every account gets at first logon, with the names an existing
/// folder may already have (Outlook's and Apple's included); the first name is the one created.
const SPECIAL_FOLDERS: &[(&str, &[&str])] = &[
    ("\\Sent", &["Sent", "Sent Items", "Sent Messages", "Sent Mail"]),
    ("\\Drafts", &["Drafts", "Draft"]),
    ("\\Trash", &["Trash", "Deleted Items", "Deleted Messages"]),
    ("\\Junk", &["Junk", "Spam", "Junk E-mail", "Junk Email"]),
    ("\\Archive", &["Archive", "Archives"]),
];

impl Session {
    /// STARTTLS when it cannot be done (the upgrade itself is the connection loop's).
    pub(crate) async fn starttls(&mut self) -> Outcome {
        if self.conn.is_tls() { bad("TLS is already active") } else { bad("STARTTLS is not available on this port") }
    }

    pub(crate) async fn login(&mut self, username: &[u8], password: &[u8]) -> Outcome {
        if let Some(refusal) = self.tls_refusal() {
            return refusal;
        }
        let (Ok(user), Ok(pass)) = (std::str::from_utf8(username), std::str::from_utf8(password)) else {
            return no("[AUTHENTICATIONFAILED] Invalid user name or password.");
        };
        self.logon(user, pass, None).await
    }

    pub(crate) async fn authenticate(&mut self, mechanism: &str, initial: Option<String>) -> Outcome {
        if !mechanism.eq_ignore_ascii_case("PLAIN") || !self.cfg.sasl_plain {
            return no("Unsupported authentication mechanism");
        }
        if let Some(refusal) = self.tls_refusal() {
            return refusal;
        }
        let response = match initial {
            Some(r) if self.cfg.sasl_ir => r,
            Some(_) => return bad("SASL-IR is not enabled"),
            None => {
                self.out.extend_from_slice(b"+ \r\n");
                let line = match self.next_command().await {
                    Ok(line) => line,
                    Err(stop) => {
                        // A deadline or a refused literal still gets its BYE.
                        self.end(stop).await;
                        self.closing = true;
                        return bad("Connection ended during authentication");
                    }
                };
                String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned()
            }
        };
        if response == "*" {
            return bad("Authentication cancelled");
        }
        let decoded = if response == "=" { Ok(Vec::new()) } else { BASE64.decode(response.trim()) };
        let Ok(decoded) = decoded else {
            return bad("Invalid base64 in the authentication response");
        };
        let Some(parts) = split_plain(&decoded) else {
            return no("[AUTHENTICATIONFAILED] Invalid user name or password.");
        };
        self.logon(&parts.username, &parts.password, parts.authzid.as_deref()).await
    }

    /// Refuses credentials sent in the clear where TLS is required.
    fn tls_refusal(&self) -> Option<Outcome> {
        if self.conn.is_tls() {
            return None;
        }
        if self.cfg.starttls_required {
            return Some(bad("STARTTLS is required."));
        }
        if self.cfg.auth_requires_tls {
            return Some(no("[PRIVACYREQUIRED] A TLS connection is required to log on."));
        }
        None
    }

    /// Checks the credentials; `authzid` logs the master user on as another account.
    async fn logon(&mut self, user: &str, pass: &str, authzid: Option<&str>) -> Outcome {
        let checked = self.store.authenticate(user, pass).await;
        let refused = match checked {
            Ok(Ok(account)) => match authzid {
                None => return self.logged_on(account).await,
                Some(target) => match self.proxy_target(&account, target).await {
                    Ok(Some(target)) => return self.logged_on(target).await,
                    Ok(None) => LogonRefused::BadPassword,
                    Err(e) => return Err(e.into()),
                },
            },
            Ok(Err(refused)) => refused,
            Err(e) => {
                self.log_error("IMAP logon", &e);
                return no("[UNAVAILABLE] Temporary failure, try again later");
            }
        };
        tracing::info!("imap: logon as {user} from {} refused: {refused:?}", self.conn.peer_ip());
        if self.conn.logon_failed(user).await {
            self.send_logged(b"* BYE Too many invalid logon attempts.\r\n");
            self.closing = true;
            return no("Goodbye");
        }
        let hint = if user.contains('@') { "" } else { " Please use the full e-mail address as user name." };
        no(format!("[AUTHENTICATIONFAILED] Invalid user name or password.{hint}"))
    }

    /// RFC 4616 proxy logon: only `ImapMasterUser@domain` may act for accounts of that domain.
    async fn proxy_target(&self, authenticated: &Account, target: &str) -> Result<Option<Account>, StoreError> {
        let master = &self.cfg.master_user;
        if master.is_empty() {
            return Ok(None);
        }
        let (Some((local, domain)), Some((_, target_domain))) =
            (authenticated.address.split_once('@'), target.split_once('@'))
        else {
            return Ok(None);
        };
        if !local.eq_ignore_ascii_case(master) || !domain.eq_ignore_ascii_case(target_domain) {
            return Ok(None);
        }
        let address = self.store.canonical_logon_name(target).await?;
        let account = altimail_store::repo::accounts::find(&self.store.db, &address).await?;
        Ok(account.filter(|a| a.active))
    }

    async fn logged_on(&mut self, account: Account) -> Outcome {
        if let Err(e) = self.prepare_folders(&account).await {
            self.log_error("IMAP logon: preparing folders", &e);
        }
        self.account = Some(account);
        self.raise_limits();
        Ok(format!("[CAPABILITY {}] Logged in", self.capabilities()))
    }

    /// The INBOX, and once per account the special-use folders (an existing folder with a
    /// usual name is marked rather than a new one made). Special-use rows are written after the
    /// INBOX exists, so an account that has them needs nothing more (one query per logon).
    async fn prepare_folders(&self, account: &Account) -> Result<(), StoreError> {
        let db = &self.store.db;
        if !special_use::list(db, account.id).await?.is_empty() {
            return Ok(());
        }
        folders::ensure_inbox(db, account.id).await?;
        let existing = folders::list(db, account.id).await?;
        for (attribute, names) in SPECIAL_FOLDERS {
            let found = existing
                .iter()
                .find(|f| f.parent_id == TOP_LEVEL && names.iter().any(|n| f.name.eq_ignore_ascii_case(n)));
            let folder = match found {
                Some(f) => f.clone(),
                None => match folders::create(db, account.id, TOP_LEVEL, names[0], now_local()).await {
                    Ok(f) => f,
                    Err(e) if e.is_unique_violation() || matches!(e, StoreError::Conflict(_)) => continue,
                    Err(e) => return Err(e),
                },
            };
            special_use::set(db, folder.id, &[(*attribute).to_owned()]).await?;
        }
        Ok(())
    }
}
