//! Checking a user name and password the way hMailServer does for SMTP AUTH, POP3 and IMAP:
//! the default domain completes bare user names, domain aliases map to their domain, the domain
//! and the account must be active, and an empty password never matches. A password stored with
//! an older scheme is re-hashed with the preferred one after a successful logon.

use altimail_core::address;
use altimail_core::password::{self, PasswordScheme};
use altimail_core::time::now_local;

use crate::directory_index::{DirectoryIndex, Snapshot};
use crate::repo::{accounts, domains, settings::Settings};
use crate::{Store, StoreError};

/// How stale `accountlastlogontime` may get before a logon writes it again.
const LOGON_TIME_RESOLUTION_SECS: i64 = 60;

/// Why a logon was refused. Protocols answer all of them the same way (no account probing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogonRefused {
    NoSuchAccount,
    DomainInactive,
    AccountInactive,
    BadPassword,
}

impl Store {
    /// The account address a logon name stands for: `user` → `user@defaultdomain`, and
    /// `user@alias-domain` → `user@domain`.
    pub async fn canonical_logon_name(&self, name: &str) -> Result<String, StoreError> {
        let name = name.trim();
        let full = match address::split(name) {
            Some(_) => name.to_owned(),
            None => {
                let default = Settings::load(&self.db).await?.string("defaultdomain");
                if default.is_empty() {
                    return Ok(name.to_owned());
                }
                format!("{name}@{default}")
            }
        };
        let Some((local, domain)) = address::split(&full) else { return Ok(full) };
        let index = DirectoryIndex::of(&self.db).snapshot(&self.db).await?;
        if let Some(real) = index.domain_of_alias(domain) {
            return Ok(format!("{local}@{}", real.name));
        }
        Ok(full)
    }

    /// Checks a logon. On success returns the account, records the logon time and upgrades a
    /// legacy password hash to the preferred scheme.
    pub async fn authenticate(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Result<accounts::Account, LogonRefused>, StoreError> {
        // Most logons name the account's own address: look that up first, and resolve the
        // default domain and domain aliases only when it is not one.
        let index = DirectoryIndex::of(&self.db).snapshot(&self.db).await?;
        let direct = match address::split(name.trim()) {
            Some(_) => self.account_by_address(&index, name.trim()).await?,
            None => None,
        };
        let found = match direct {
            Some(account) => Some(account),
            None => self.account_by_address(&index, &self.canonical_logon_name(name).await?).await?,
        };
        let Some(mut account) = found else {
            return Ok(Err(LogonRefused::NoSuchAccount));
        };
        let domain = match index.domain_by_id(account.domain_id) {
            Some(d) => Some(d.clone()),
            // A domain added since the index's last check.
            None => domains::get(&self.db, account.domain_id).await?,
        };
        match domain {
            Some(d) if d.active => {}
            _ => return Ok(Err(LogonRefused::DomainInactive)),
        }
        if !account.active {
            return Ok(Err(LogonRefused::AccountInactive));
        }
        if !verify_off_runtime(&account, password).await {
            return Ok(Err(LogonRefused::BadPassword));
        }
        let preferred = self.password_scheme().await?;
        if password::needs_rehash(account.password_scheme, preferred) {
            // Plain and Blowfish compare case-insensitively: keep the stored spelling, not the
            // one typed, so the password does not change under the user.
            let clear = password::plaintext_available(account.password_scheme, &account.password)
                .unwrap_or_else(|| password.to_owned());
            // `None` only when the hashing thread failed: the upgrade then waits for the next logon.
            if let Some(stored) = hash_off_runtime(preferred, clear).await {
                account.password = stored;
                account.password_scheme = preferred.code();
                self.db
                    .execute(
                        "UPDATE hm_accounts SET accountpassword = ?, accountpwencryption = ? WHERE accountid = ?",
                        &[account.password.clone().into(), account.password_scheme.into(), account.id.into()],
                    )
                    .await?;
            }
        }
        // The logon time is written at most once a minute: clients that reconnect all the time
        // would otherwise cost a durable write each.
        let now = now_local();
        if now - account.last_logon >= chrono::Duration::seconds(LOGON_TIME_RESOLUTION_SECS) {
            accounts::touch_logon(&self.db, account.id, now).await?;
            account.last_logon = now;
        }
        Ok(Ok(account))
    }

    /// The account with this address: found by the directory index and read by its primary
    /// key (so the password and flags are the database's own), or searched by address when the
    /// index does not know it yet or no longer agrees (added, renamed or removed since its
    /// last check).
    async fn account_by_address(
        &self,
        index: &Snapshot,
        address: &str,
    ) -> Result<Option<accounts::Account>, StoreError> {
        if let Some(key) = index.account(address)
            && let Some(account) = accounts::get(&self.db, key.id).await?
            && account.address.to_lowercase() == address.to_lowercase()
        {
            return Ok(Some(account));
        }
        accounts::find(&self.db, address).await
    }
}

/// Checks a password (unless it was verified moments ago, see `logon_cache`). Argon2id checks
/// run on the password threads (`password_workers`: a few at a time, each in working memory it
/// keeps), never on the async threads; the other schemes cost microseconds and run here.
async fn verify_off_runtime(account: &accounts::Account, password: &str) -> bool {
    if crate::logon_cache::recently_verified(account.id, &account.password, password) {
        return true;
    }
    if account.password_scheme == PasswordScheme::Argon2id.code() {
        let (id, stored, password) = (account.id, account.password.clone(), password.to_owned());
        crate::password_workers::run(move |memory| {
            let ok = password::verify_with(memory, PasswordScheme::Argon2id.code(), &stored, &password);
            if ok {
                crate::logon_cache::remember(id, &stored, &password);
            }
            ok
        })
        .await
        .unwrap_or(false)
    } else {
        let ok = account.verify_password(password);
        if ok {
            crate::logon_cache::remember(account.id, &account.password, password);
        }
        ok
    }
}

/// The stored form of `clear` under `scheme`, hashed on the password threads for Argon2id.
/// `None` only when the hashing thread failed.
async fn hash_off_runtime(scheme: PasswordScheme, clear: String) -> Option<String> {
    if scheme != PasswordScheme::Argon2id {
        return Some(password::hash(scheme, &clear));
    }
    crate::password_workers::run(move |memory| password::hash_with(memory, scheme, &clear)).await
}
