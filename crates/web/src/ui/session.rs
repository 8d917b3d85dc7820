//! Logged-on browsers: a random session id in a cookie, the caller it stands for, its CSRF token
//! and a one-shot message for the next page. Kept in memory (a restart logs everybody out);
//! a session ends at logout, after [`IDLE_LIMIT`] without a request, or [`SESSION_LIFETIME`]
//! after logon, whichever comes first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use altimail_admin::Caller;

/// The cookie holding the session id.
pub const SESSION_COOKIE: &str = "altimail_admin";
/// The cookie the logon form's CSRF token is checked against (there is no session yet).
pub(crate) const LOGON_COOKIE: &str = "altimail_logon";
/// A session ends after this long without a request.
pub const IDLE_LIMIT: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after logon, however busy.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Most sessions kept at once; the least recently used go first.
const MAX_SESSIONS: usize = 10_000;

/// A message shown once, on the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub error: bool,
    pub text: String,
}

impl Flash {
    pub fn notice(text: impl Into<String>) -> Flash {
        Flash { error: false, text: text.into() }
    }

    pub fn error(text: impl Into<String>) -> Flash {
        Flash { error: true, text: text.into() }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    caller: Caller,
    csrf: String,
    started: Instant,
    last: Instant,
    flash: Option<Flash>,
}

/// What a request learns from its session.
#[derive(Debug, Clone)]
pub struct Current {
    pub id: String,
    pub caller: Caller,
    pub csrf: String,
}

/// The sessions of the web administration.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Entry>>>,
}

impl Sessions {
    /// Opens a session for `caller`; returns its id (the cookie's value).
    pub fn open(&self, caller: Caller) -> String {
        let id = random_token();
        let now = Instant::now();
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, e| alive(e, now));
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, e)| e.last).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), Entry { caller, csrf: random_token(), started: now, last: now, flash: None });
        id
    }

    /// The live session `id`, touched now.
    pub fn current(&self, id: &str) -> Option<Current> {
        let now = Instant::now();
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map.get_mut(id)?;
        if !alive(entry, now) {
            map.remove(id);
            return None;
        }
        entry.last = now;
        Some(Current { id: id.to_owned(), caller: entry.caller.clone(), csrf: entry.csrf.clone() })
    }

    /// Takes the session's one-shot message.
    pub fn take_flash(&self, id: &str) -> Option<Flash> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).get_mut(id)?.flash.take()
    }

    /// Leaves a message for the session's next page.
    pub fn flash(&self, id: &str, flash: Flash) {
        if let Some(e) = self.inner.lock().unwrap_or_else(PoisonError::into_inner).get_mut(id) {
            e.flash = Some(flash);
        }
    }

    /// Ends a session (logout).
    pub fn close(&self, id: &str) {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }
}

fn alive(e: &Entry, now: Instant) -> bool {
    now.duration_since(e.last) < IDLE_LIMIT && now.duration_since(e.started) < SESSION_LIFETIME
}

/// 32 random bytes in hex.
pub(crate) fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two tokens in time independent of where they differ.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in a `Cookie` header.
pub(crate) fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|pair| pair.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value for the administration's path: HttpOnly, SameSite=Strict, Secure when
/// the browser reached us over TLS; `max_age` 0 deletes it.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: Option<Duration>, secure: bool) -> String {
    let mut s = format!("{name}={value}; Path=/admin; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={}", age.as_secs()));
    }
    if secure {
        s.push_str("; Secure");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_carry_their_caller_and_flash_until_closed() {
        let sessions = Sessions::default();
        let id = sessions.open(Caller::administrator("web"));
        let current = sessions.current(&id).expect("open");
        assert_eq!(current.caller.origin, "web");
        assert_eq!(current.csrf.len(), 64);
        assert_ne!(current.csrf, id);
        sessions.flash(&id, Flash::notice("saved"));
        assert_eq!(sessions.take_flash(&id), Some(Flash::notice("saved")));
        assert_eq!(sessions.take_flash(&id), None);
        sessions.close(&id);
        assert!(sessions.current(&id).is_none());
        assert!(sessions.current("made-up").is_none());
    }

    #[test]
    fn sessions_expire_when_idle_and_after_their_lifetime() {
        let start = Instant::now();
        let e = Entry {
            caller: Caller::administrator("web"),
            csrf: String::new(),
            started: start,
            last: start,
            flash: None,
        };
        assert!(alive(&e, start + IDLE_LIMIT - Duration::from_secs(1)));
        assert!(!alive(&e, start + IDLE_LIMIT));
        // Busy all along: still over after its lifetime.
        let busy = Entry { last: start + SESSION_LIFETIME - Duration::from_secs(1), ..e };
        assert!(alive(&busy, start + SESSION_LIFETIME - Duration::from_secs(1)));
        assert!(!alive(&busy, start + SESSION_LIFETIME));
    }

    #[test]
    fn cookies_are_found_by_name_and_written_strict() {
        assert_eq!(cookie("a=1; altimail_admin=xyz; b=2", SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie("altimail_admin_x=1", SESSION_COOKIE), None);
        let c = set_cookie(SESSION_COOKIE, "v", None, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("Secure"), "{c}");
        assert!(!set_cookie(SESSION_COOKIE, "v", None, false).contains("Secure"));
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("abc", "ab"));
    }
}
