//! Checking credentials: USER/PASS and AUTH PLAIN through [`Store::authenticate`] (as SMTP and
//! IMAP do), APOP against the clear text of passwords stored recoverably; failures count
//! towards auto-ban.

use altimail_core::password;
use altimail_core::time::now_local;
use altimail_net::{Connection, Severity};
use altimail_store::repo::accounts::{self, Account};
use altimail_store::repo::domains;
use altimail_store::{LogonRefused, Store, StoreError};
use md5::{Digest as _, Md5};

use crate::proto::{Credentials, Method};
use crate::session::AuthFailure;

/// Checks `credentials`; a refusal is recorded as a failed logon, and answers
/// [`AuthFailure::Banned`] when that reaches the auto-ban threshold.
pub(crate) async fn authenticate(
    store: &Store,
    conn: &Connection,
    credentials: &Credentials,
) -> Result<Account, AuthFailure> {
    let user = credentials.username.as_str();
    let result = match (credentials.method, &credentials.authzid, &credentials.timestamp) {
        (Method::Plain, Some(authzid), _) => {
            tracing::info!("pop3: AUTH PLAIN for {user} as {authzid} refused (no proxy authorisation)");
            Ok(Err(LogonRefused::BadPassword))
        }
        (Method::Apop, _, Some(timestamp)) => apop(store, user, timestamp, credentials.password.expose()).await,
        (Method::Apop, _, None) => Ok(Err(LogonRefused::BadPassword)),
        (Method::User | Method::Plain, _, _) => store.authenticate(user, credentials.password.expose()).await,
    };
    match result {
        Ok(Ok(account)) => Ok(account),
        Ok(Err(refused)) => {
            tracing::info!("pop3: logon as {user} from {} refused: {refused:?}", conn.peer_ip());
            if conn.logon_failed(user).await { Err(AuthFailure::Banned) } else { Err(AuthFailure::Bad) }
        }
        Err(e) => {
            conn.log.error(Severity::High, 5014, "POP3 logon", &e.to_string());
            Err(AuthFailure::TempFail)
        }
    }
}

/// APOP (RFC 1939 §7) with the checks of [`Store::authenticate`]: the logon name completed and
/// de-aliased, the domain and the account active. The stored password must have a clear text
/// (types 0 plain and 1 Blowfish); hashes cannot answer a digest.
async fn apop(
    store: &Store,
    name: &str,
    timestamp: &str,
    digest: &str,
) -> Result<Result<Account, LogonRefused>, StoreError> {
    let address = store.canonical_logon_name(name).await?;
    let Some(account) = accounts::find(&store.db, &address).await? else {
        return Ok(Err(LogonRefused::NoSuchAccount));
    };
    match domains::get(&store.db, account.domain_id).await? {
        Some(domain) if domain.active => {}
        _ => return Ok(Err(LogonRefused::DomainInactive)),
    }
    if !account.active {
        return Ok(Err(LogonRefused::AccountInactive));
    }
    let Some(clear) = password::plaintext_available(account.password_scheme, &account.password) else {
        return Ok(Err(LogonRefused::BadPassword));
    };
    if !apop_matches(timestamp, &clear, digest) {
        return Ok(Err(LogonRefused::BadPassword));
    }
    accounts::touch_logon(&store.db, account.id, now_local()).await?;
    Ok(Ok(account))
}

/// The APOP digest: lowercase hex of `MD5(timestamp + secret)`.
pub(crate) fn apop_digest(timestamp: &str, secret: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(timestamp.as_bytes());
    md5.update(secret.as_bytes());
    hex::encode(md5.finalize())
}

/// Compares a client's digest (hex, either case) in constant time.
fn apop_matches(timestamp: &str, secret: &str, digest: &str) -> bool {
    let expected = apop_digest(timestamp, secret);
    let given = digest.to_ascii_lowercase();
    expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1939_apop_example() {
        // RFC 1939 §7: shared secret "tanstaaf".
        let timestamp = "<1896.697170952@dbc.mtview.ca.us>";
        assert_eq!(apop_digest(timestamp, "tanstaaf"), "c4c9334bac560ecc979e58001b3e22fb");
        assert!(apop_matches(timestamp, "tanstaaf", "C4C9334BAC560ECC979E58001B3E22FB"));
        assert!(!apop_matches(timestamp, "tanstaaF", "c4c9334bac560ecc979e58001b3e22fb"));
        assert!(!apop_matches(timestamp, "tanstaaf", "c4c9334bac560ecc979e58001b3e22f"));
    }
}
