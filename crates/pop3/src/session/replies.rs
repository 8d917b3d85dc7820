//! Every response the POP3 server sends, as named constructors: the one file to review for
//! texts and response codes.
//!
//! Texts follow hMailServer 5.7 (`POP3Connection.cpp`) where a client or an administrator might
//! know them — the greeting, `Send your password`, `Mailbox locked and ready`, the logon
//! failures, `msg deleted`, the goodbye — and RFC 1939 wording elsewhere. Where hMailServer
//! departs from the RFC we follow the RFC: DELE of a deleted message and LIST of a deleted
//! message are errors, and RSET keeps the message numbers. Response codes (RFC 2449 §8,
//! RFC 3206) go on the errors a client can act on: `[AUTH]`, `[IN-USE]`, `[SYS/TEMP]`,
//! `[SYS/PERM]`. The driver builds its one refusal before any session exists from here too
//! ([`service_unavailable`]).

use super::config::SessionConfig;
use crate::proto::{CommandError, RespCode, Response, Verb};

fn err(text: &str) -> Response {
    Response::err(None, text)
}

fn err_code(code: RespCode, text: &str) -> Response {
    Response::err(Some(code), text)
}

// --- Connection --------------------------------------------------------------------------

/// `+OK <welcomepop3>` (`POP3` when the setting is empty), then the APOP timestamp if offered.
pub fn greeting(config: &SessionConfig) -> Response {
    let welcome = config.greeting.trim();
    let mut text = if welcome.is_empty() { "POP3".to_owned() } else { welcome.to_owned() };
    if let Some(timestamp) = &config.apop_timestamp {
        text.push(' ');
        text.push_str(timestamp);
    }
    Response::ok(text)
}

/// `+OK`: answer to QUIT, also after the deletions were made.
pub fn goodbye() -> Response {
    Response::ok("POP3 server saying goodbye...")
}

/// `-ERR [SYS/TEMP]`: the driver could not start the session (settings unavailable).
pub fn service_unavailable() -> Response {
    err_code(RespCode::SysTemp, "Service temporarily unavailable")
}

/// `-ERR`: idle timeout (hMailServer's text).
pub fn timeout() -> Response {
    err("Autologout; idle too long")
}

/// `-ERR [SYS/TEMP]`: server shutdown.
pub fn shutting_down() -> Response {
    err_code(RespCode::SysTemp, "Server shutting down")
}

/// `-ERR`: the client sent more than the session buffers while waiting (hMailServer's text).
pub fn flooding() -> Response {
    err("Excessive amount of data sent to server.")
}

// --- Any state -----------------------------------------------------------------------------

/// `+OK`: NOOP.
pub fn noop() -> Response {
    Response::ok("")
}

/// `+OK`: HELP (hMailServer's text).
pub fn help() -> Response {
    Response::ok("Normal POP3 commands allowed")
}

/// `+OK` and the capability lines (RFC 2449 §5).
pub fn capabilities(lines: Vec<String>) -> Response {
    Response::multiline("CAPA list follows", lines)
}

// --- Syntax and sequence -------------------------------------------------------------------

/// `-ERR`: a command that exists but not in this state (hMailServer's text).
pub fn wrong_state() -> Response {
    err("Invalid command in current state.")
}

/// The response to a command line that did not parse.
pub fn command_error(error: &CommandError) -> Response {
    match error {
        CommandError::Empty => err("Empty command."),
        CommandError::InvalidUtf8 => err("Command is not valid UTF-8."),
        CommandError::Unrecognized => err("Unknown command."),
        CommandError::MissingArgument(verb)
        | CommandError::UnexpectedArgument(verb)
        | CommandError::BadArgument(verb) => Response::err(None, format!("Syntax: {}", usage(*verb))),
    }
}

fn usage(verb: Verb) -> &'static str {
    match verb {
        Verb::User => "USER name",
        Verb::Pass => "PASS password",
        Verb::Apop => "APOP name digest",
        Verb::Auth => "AUTH mechanism [initial-response]",
        Verb::Capa => "CAPA",
        Verb::Stls => "STLS",
        Verb::Stat => "STAT",
        Verb::List => "LIST [msg]",
        Verb::Retr => "RETR msg",
        Verb::Top => "TOP msg lines",
        Verb::Uidl => "UIDL [msg]",
        Verb::Dele => "DELE msg",
        Verb::Rset => "RSET",
        Verb::Noop => "NOOP",
        Verb::Quit => "QUIT",
        Verb::Help => "HELP",
    }
}

/// `-ERR`: a command line over [`MAX_COMMAND_LINE`](super::MAX_COMMAND_LINE) octets.
pub fn line_too_long() -> Response {
    err("Line too long.")
}

// --- STLS (RFC 2595) -----------------------------------------------------------------------

/// `+OK`: go ahead with the TLS handshake.
pub fn stls_ok() -> Response {
    Response::ok("Begin TLS negotiation")
}

/// `-ERR`: STLS on a connection that is already TLS (RFC 2595 §4).
pub fn stls_active() -> Response {
    err("Command not permitted when TLS active")
}

/// `-ERR`: STLS on a port without it.
pub fn stls_not_offered() -> Response {
    err("STLS is not available on this port.")
}

/// `-ERR`: logon on a STARTTLS-required port before STLS (hMailServer's text).
pub fn stls_required() -> Response {
    err("STLS is required.")
}

/// `-ERR`: logon before TLS from an IP range that requires TLS for authentication
/// (hMailServer's text).
pub fn tls_required_for_auth() -> Response {
    err("A SSL/TLS-connection is required for authentication.")
}

// --- Logon ---------------------------------------------------------------------------------

/// `+OK`: USER accepted (hMailServer's text); the check comes with PASS.
pub fn send_password() -> Response {
    Response::ok("Send your password")
}

/// `-ERR`: PASS without USER.
pub fn need_user() -> Response {
    err("Send USER first.")
}

/// `-ERR`: APOP when the greeting had no timestamp.
pub fn apop_not_offered() -> Response {
    err("APOP is not enabled on this server.")
}

/// `+OK`: the maildrop is locked and its messages counted (hMailServer's text).
pub fn logged_in() -> Response {
    Response::ok("Mailbox locked and ready")
}

/// `-ERR [AUTH]`: wrong credentials (hMailServer's text; a user name without `@` gets its hint).
pub fn auth_failed(username: &str) -> Response {
    if username.contains('@') {
        err_code(RespCode::Auth, "Invalid user name or password.")
    } else {
        err_code(RespCode::Auth, "Invalid user name or password. Please use full email address as user name.")
    }
}

/// `-ERR [AUTH]`: too many failed logons; the connection closes (hMailServer's text).
pub fn auth_banned() -> Response {
    err_code(RespCode::Auth, "Invalid user name or password. Too many invalid logon attempts.")
}

/// `-ERR [SYS/TEMP]`: the credentials could not be checked.
pub fn auth_temporary_failure() -> Response {
    err_code(RespCode::SysTemp, "Unable to check credentials now. Please try again later.")
}

/// `-ERR [IN-USE]`: another session holds the maildrop (hMailServer's text).
pub fn mailbox_in_use() -> Response {
    err_code(RespCode::InUse, "Your mailbox is already locked")
}

/// `-ERR [SYS/TEMP]`: the maildrop could not be read.
pub fn mailbox_unavailable() -> Response {
    err_code(RespCode::SysTemp, "Unable to access mailbox.")
}

// --- AUTH (RFC 5034) -----------------------------------------------------------------------

/// `+OK` and the mechanisms, for `AUTH` without arguments (RFC 1734's listing).
pub fn sasl_mechanisms(mechanisms: &[&str]) -> Response {
    Response::multiline("List of supported mechanisms follows", mechanisms.iter().map(|m| (*m).to_owned()).collect())
}

/// `-ERR`: a mechanism not offered.
pub fn mechanism_unsupported() -> Response {
    err("Unsupported authentication mechanism.")
}

/// `+ `: the empty PLAIN challenge.
pub fn auth_continue() -> Response {
    Response::continuation("")
}

/// `-ERR`: the client cancelled with `*` (RFC 5034 §4).
pub fn auth_cancelled() -> Response {
    err("Authentication cancelled.")
}

/// `-ERR`: a response that is not base64.
pub fn auth_bad_base64() -> Response {
    err("Invalid base64 data.")
}

/// `-ERR`: a PLAIN message that is not `authzid NUL authcid NUL passwd`.
pub fn auth_malformed() -> Response {
    err("Invalid authentication data.")
}

// --- TRANSACTION ---------------------------------------------------------------------------

/// `+OK n octets` (RFC 1939 §5 drop listing).
pub fn stat(count: usize, octets: u64) -> Response {
    Response::ok(format!("{count} {octets}"))
}

/// `+OK n messages (m octets)` and one `msg size` line per message not deleted.
pub fn list_all(count: usize, octets: u64, lines: Vec<String>) -> Response {
    Response::multiline(format!("{count} messages ({octets} octets)"), lines)
}

/// `+OK msg size`.
pub fn list_one(number: u32, size: u64) -> Response {
    Response::ok(format!("{number} {size}"))
}

/// `+OK n messages (m octets)` and one `msg unique-id` line per message not deleted.
pub fn uidl_all(count: usize, octets: u64, lines: Vec<String>) -> Response {
    Response::multiline(format!("{count} messages ({octets} octets)"), lines)
}

/// `+OK msg unique-id`.
pub fn uidl_one(number: u32, uid: &str) -> Response {
    Response::ok(format!("{number} {uid}"))
}

/// `-ERR`: no message with this number (hMailServer's text).
pub fn no_such_message() -> Response {
    err("No such message")
}

/// `-ERR`: the message is marked as deleted (RFC 1939 §5).
pub fn already_deleted(number: u32) -> Response {
    Response::err(None, format!("Message {number} already deleted"))
}

/// `+OK`: DELE (hMailServer's text).
pub fn deleted() -> Response {
    Response::ok("msg deleted")
}

/// `+OK`: RSET, with the maildrop as it is again.
pub fn reset(count: usize, octets: u64) -> Response {
    Response::ok(format!("maildrop has {count} messages ({octets} octets)"))
}

/// `+OK size octets`: RETR, the message follows (hMailServer's text).
pub fn retrieving(size: u64) -> Response {
    Response::ok(format!("{size} octets"))
}

/// `+OK`: TOP, the header and lines follow.
pub fn top() -> Response {
    Response::ok("Top of message follows")
}

/// `-ERR [SYS/PERM]`: the message file is missing.
pub fn message_missing() -> Response {
    err_code(RespCode::SysPerm, "Message file is missing.")
}

/// `-ERR [SYS/TEMP]`: the message file could not be read now.
pub fn message_unavailable() -> Response {
    err_code(RespCode::SysTemp, "Unable to read message.")
}

/// `-ERR [SYS/TEMP]`: QUIT could not delete the marked messages (RFC 1939 §6).
pub fn commit_failed() -> Response {
    err_code(RespCode::SysTemp, "Some deleted messages not removed")
}
