//! Log-safe forms of client lines.
//!
//! hMailServer logs every line it receives and masks passwords with `***`; so do we. A command
//! line keeps its verb and arguments except the SASL initial response of `AUTH`; a line sent
//! inside an AUTH exchange is replaced whole. Control characters are escaped (a CR or LF in a log
//! line would forge another line) and long lines are cut, as for POP3 and IMAP
//! (`altimail_core::redact`); which words are secrets is SMTP's own.

pub use altimail_core::redact::{MAX_LOGGED_LINE, REDACTED, log_safe_sasl_response};

use altimail_core::redact::escape_for_log;

/// The log-safe form of a command line (without CRLF).
pub fn log_safe_command(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let mut words = text.splitn(3, ' ');
    let verb = words.next().unwrap_or("");
    if verb.eq_ignore_ascii_case("AUTH") {
        let mechanism = words.next().unwrap_or("");
        return match words.next() {
            Some(_) => escape_for_log(&format!("{verb} {mechanism} {REDACTED}")),
            None => escape_for_log(&text),
        };
    }
    escape_for_log(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_auth_payloads() {
        let cases: &[(&[u8], &str)] = &[
            (b"AUTH PLAIN AHVzZXIAcGFzcw==", "AUTH PLAIN ***"),
            (b"auth login dXNlcg==", "auth login ***"),
            (b"AUTH LOGIN", "AUTH LOGIN"),
            (b"MAIL FROM:<a@b>", "MAIL FROM:<a@b>"),
            (b"EHLO x\rRCPT", "EHLO x\\rRCPT"),
            (b"NOOP \xff", "NOOP \u{fffd}"),
        ];
        for (line, logged) in cases {
            assert_eq!(log_safe_command(line), *logged);
        }
        assert_eq!(log_safe_sasl_response(b"c2VjcmV0"), "***");
    }

    #[test]
    fn cuts_long_lines() {
        let logged = log_safe_command(&[b'a'; 2000]);
        assert_eq!(logged.len(), MAX_LOGGED_LINE + 3);
        assert!(logged.ends_with("..."));
    }
}
