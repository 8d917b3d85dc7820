//! Log-safe forms of client lines.
//!
//! hMailServer logs every line it receives and masks POP3 passwords with `***`
//! (`PasswordRemover::PRPOP3`); so do we, and we also mask the initial response of `AUTH`, the
//! APOP digest and every line of an AUTH exchange. Control characters are escaped (a CR or LF in
//! a log line would forge another line) and long lines are cut, as for SMTP and IMAP
//! (`altimail_core::redact`); which words are secrets is POP3's own.

pub use altimail_core::redact::{MAX_LOGGED_LINE, REDACTED, log_safe_sasl_response};

use altimail_core::redact::escape_for_log;

/// The log-safe form of a command line (without its line ending).
pub fn log_safe_command(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let trimmed = text.trim_start_matches(' ');
    let (verb, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
    if verb.eq_ignore_ascii_case("PASS") {
        return escape_for_log(&format!("{verb} {REDACTED}"));
    }
    if verb.eq_ignore_ascii_case("AUTH") {
        let mut args = rest.split(' ').filter(|a| !a.is_empty());
        if let (Some(mechanism), Some(_)) = (args.next(), args.next()) {
            return escape_for_log(&format!("{verb} {mechanism} {REDACTED}"));
        }
    }
    if verb.eq_ignore_ascii_case("APOP")
        && let Some((name, _)) = rest.trim_end_matches(' ').rsplit_once(' ')
    {
        return escape_for_log(&format!("{verb} {name} {REDACTED}"));
    }
    escape_for_log(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets() {
        let cases: &[(&[u8], &str)] = &[
            (b"PASS secret", "PASS ***"),
            (b"pass two words", "pass ***"),
            (b"PASS", "PASS ***"),
            (b"AUTH PLAIN AGpvaG4Ac2VjcmV0", "AUTH PLAIN ***"),
            (b"AUTH PLAIN", "AUTH PLAIN"),
            (b"APOP john c4c9334bac560ecc979e58001b3e22fb", "APOP john ***"),
            (b"USER john@example.com", "USER john@example.com"),
            (b"RETR 1\rRETR 2", "RETR 1\\rRETR 2"),
            (b"NOOP \xff", "NOOP \u{fffd}"),
        ];
        for (line, logged) in cases {
            assert_eq!(log_safe_command(line), *logged);
        }
        assert_eq!(log_safe_sasl_response(b"AGpvaG4Ac2VjcmV0"), "***");
    }

    #[test]
    fn cuts_long_lines() {
        let logged = log_safe_command(&[b'a'; 2000]);
        assert_eq!(logged.len(), MAX_LOGGED_LINE + 3);
        assert!(logged.ends_with("..."));
    }
}
