//! Bearer tokens: issued at logon, valid for [`TOKEN_LIFETIME`], kept in memory (a restart logs
//! everybody out). A token stands for the caller it was issued to; what that caller may do is
//! decided again by the service on every call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use altimail_admin::Caller;

/// How long a token is valid after it was issued.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Most tokens kept at once; the oldest go first when more are issued.
const MAX_TOKENS: usize = 10_000;

/// The tokens issued and not yet expired.
#[derive(Clone, Default)]
pub struct Tokens {
    inner: Arc<Mutex<HashMap<String, (Caller, Instant)>>>,
}

impl Tokens {
    /// Issues a new token for `caller`.
    pub fn issue(&self, caller: Caller) -> String {
        let token = random_token();
        let now = Instant::now();
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, (_, expires)| *expires > now);
        if map.len() >= MAX_TOKENS
            && let Some(oldest) = map.iter().min_by_key(|(_, (_, e))| *e).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(token.clone(), (caller, now + TOKEN_LIFETIME));
        token
    }

    /// The caller a valid token was issued to.
    pub fn caller(&self, token: &str) -> Option<Caller> {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(token).filter(|(_, expires)| *expires > Instant::now()).map(|(c, _)| c.clone())
    }

    /// Ends a token before it expires (log off).
    pub fn revoke(&self, token: &str) {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).remove(token);
    }
}

/// 32 random bytes in hex.
fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_caller_until_revoked() {
        let tokens = Tokens::default();
        let t = tokens.issue(Caller::administrator("test"));
        assert_eq!(t.len(), 64);
        assert_eq!(tokens.caller(&t).map(|c| c.origin), Some("test".to_owned()));
        assert!(tokens.caller("nope").is_none());
        tokens.revoke(&t);
        assert!(tokens.caller(&t).is_none());
    }
}
