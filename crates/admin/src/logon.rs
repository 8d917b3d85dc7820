//! Logging on to the administration: as `Administrator` with the administrator password, or as
//! an account with its own password (its admin level then decides what it may do).
//!
//! hMailServer keeps the administrator password in `hMailServer.ini` (`[Security]
//! AdministratorPassword`, MD5 or salted SHA-256). Altimail has no such file: the hash is the
//! setting [`ADMINISTRATOR_PASSWORD_SETTING`], Argon2id when set by Altimail; a 32- or
//! 70-character value copied from hMailServer.ini (MD5, salted SHA-256) is accepted as it is.
//! Unlike hMailServer, an empty value is not an empty password: logons as `Administrator` are
//! refused until a password is set (`altimail admin password`).

use altimail_core::password::{self, PasswordScheme};
use altimail_store::repo::{accounts, settings};

use crate::{ADMINISTRATOR, Admin, AdminError, Caller, audit};

/// The setting holding the administrator password's hash.
pub const ADMINISTRATOR_PASSWORD_SETTING: &str = "altimailadministratorpassword";

/// The scheme a stored administrator password hash is in, by its form (as hMailServer's
/// `Crypt::GetHashType` goes by length).
fn scheme_of(stored: &str) -> PasswordScheme {
    if stored.starts_with("$argon2") {
        PasswordScheme::Argon2id
    } else if stored.len() == 32 {
        PasswordScheme::Md5
    } else {
        PasswordScheme::Sha256
    }
}

/// An Argon2id hash of nothing anybody types, checked against for unknown user names.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| password::hash(PasswordScheme::Argon2id, "\u{0}no account has this password"))
}

/// Checks a password off the async threads (Argon2id takes tens of milliseconds).
pub(crate) async fn verify_blocking(scheme: i64, stored: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || password::verify(scheme, &stored, &password)).await.unwrap_or(false)
}

impl Admin {
    /// Sets the administrator password (server administrators only).
    pub async fn set_administrator_password(&self, caller: &Caller, new: &str) -> Result<(), AdminError> {
        self.require_server(caller, "administrator_password.update", ADMINISTRATOR).await?;
        if new.is_empty() {
            return Err(AdminError::Invalid("the password is empty".into()));
        }
        let owned = new.to_owned();
        let hash = tokio::task::spawn_blocking(move || password::hash(PasswordScheme::Argon2id, &owned))
            .await
            .map_err(|e| AdminError::Invalid(format!("hashing the password: {e}")))?;
        settings::set_string(&self.store.db, ADMINISTRATOR_PASSWORD_SETTING, &hash).await?;
        audit::change(caller, "administrator_password.update", ADMINISTRATOR);
        Ok(())
    }

    /// Whether an administrator password is set.
    pub async fn administrator_password_set(&self) -> Result<bool, AdminError> {
        let stored = settings::get(&self.store.db, ADMINISTRATOR_PASSWORD_SETTING).await?;
        Ok(stored.is_some_and(|s| !s.string.trim().is_empty()))
    }

    /// Logs on `user` (`Administrator`, any case, or an account's address) with `password`,
    /// for calls from `origin`. Wrong names and passwords give the same error.
    pub async fn authenticate(&self, user: &str, password: &str, origin: &str) -> Result<Caller, AdminError> {
        let refused = || {
            tracing::warn!(target: "audit", who = %user, from = %origin, "administration logon refused");
            AdminError::Unauthenticated("wrong user name or password".into())
        };
        if user.eq_ignore_ascii_case(ADMINISTRATOR) {
            let stored = settings::get(&self.store.db, ADMINISTRATOR_PASSWORD_SETTING)
                .await?
                .map(|s| s.string.trim().to_owned())
                .unwrap_or_default();
            if stored.is_empty() || !verify_blocking(scheme_of(&stored).code(), stored, password.to_owned()).await {
                return Err(refused());
            }
            tracing::info!(target: "audit", who = %ADMINISTRATOR, from = %origin, "administration logon");
            return Ok(Caller::administrator(origin));
        }
        let Some(account) = accounts::find(&self.store.db, user).await? else {
            // As long as a wrong password, so that the time taken does not tell which names exist.
            verify_blocking(PasswordScheme::Argon2id.code(), dummy_hash().to_owned(), password.to_owned()).await;
            return Err(refused());
        };
        if !account.active
            || !verify_blocking(account.password_scheme, account.password.clone(), password.to_owned()).await
        {
            return Err(refused());
        }
        tracing::info!(target: "audit", who = %account.address, from = %origin, "administration logon");
        Ok(Caller::account(&account, origin))
    }
}
