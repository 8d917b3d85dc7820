//! Log-safe forms of client lines, shared by the SMTP, POP3 and IMAP sessions.
//!
//! hMailServer logs every line it receives and masks passwords with `***`; so do we. Which words
//! of a command are secrets depends on the protocol, so each session picks them out and builds
//! the line with [`REDACTED`] in their place; this module escapes control characters (a CR or LF
//! in a log line would forge another line) and cuts long lines.
//!
//! ```
//! use altimail_core::redact::{escape_for_log, log_safe_sasl_response};
//!
//! assert_eq!(escape_for_log("NOOP\rQUIT"), "NOOP\\rQUIT");
//! assert_eq!(log_safe_sasl_response(b"c2VjcmV0"), "***");
//! ```

/// Longest logged line, in characters, before `...` is appended.
pub const MAX_LOGGED_LINE: usize = 512;

/// What stands in for a secret in a logged line.
pub const REDACTED: &str = "***";

/// The log-safe form of a line sent inside an AUTH exchange: always [`REDACTED`].
pub fn log_safe_sasl_response(_line: &[u8]) -> String {
    REDACTED.to_owned()
}

/// `text` with control characters escaped (`\r`, `\n`, `\u{1b}`…) and cut after
/// [`MAX_LOGGED_LINE`] characters, `...` marking the cut.
pub fn escape_for_log(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_LOGGED_LINE + 3));
    for (count, c) in text.chars().enumerate() {
        if count == MAX_LOGGED_LINE {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters() {
        assert_eq!(escape_for_log("a\r\nb\tc\u{1b}"), "a\\r\\nb\\tc\\u{1b}");
        assert_eq!(escape_for_log("NOOP \u{fffd}"), "NOOP \u{fffd}");
    }

    #[test]
    fn cuts_long_lines() {
        let logged = escape_for_log(&"é".repeat(2000));
        assert_eq!(logged.chars().count(), MAX_LOGGED_LINE + 3);
        assert!(logged.ends_with("..."));
        assert_eq!(escape_for_log(&"a".repeat(MAX_LOGGED_LINE)), "a".repeat(MAX_LOGGED_LINE));
    }
}
