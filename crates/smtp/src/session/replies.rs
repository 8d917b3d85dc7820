//! Every reply the SMTP server sends, as named constructors: the one file to review for codes
//! and texts.
//!
//! Enhanced status codes (RFC 2034, RFC 3463) go on every 2xx, 4xx and 5xx reply except the
//! greeting and the HELO/EHLO replies (RFC 2034 §3); 3xx replies have none. Texts follow
//! hMailServer 5.7 where a client or an administrator might know them (size limit, bare LF,
//! relay refusal), and RFC wording elsewhere. The driver builds its refusals from here too
//! ([`unknown_user`], [`relay_denied`], [`local_error`]…), so no code is decided anywhere else.

use super::config::SessionConfig;
use crate::proto::{CommandError, ParamError, Reply, Verb, encode_challenge};

fn reply(code: u16, enhanced: (u8, u16, u16), text: impl Into<String>) -> Reply {
    Reply::new(code, Some(enhanced), text)
}

/// Longest piece of client-supplied text echoed in a reply, in characters, so that a reply line
/// stays within 512 octets (RFC 5321 §4.5.3.1.5).
const MAX_ECHO: usize = 100;

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO) {
        Some((end, _)) => format!("{}...", text.get(..end).unwrap_or("")),
        None => text.to_owned(),
    }
}

// --- Connection ---------------------------------------------------------------------------

/// `220 <greeting>`: `<hostname> ESMTP` when the setting is empty; ` ESMTP` appended when
/// missing, as hMailServer does.
pub fn greeting(config: &SessionConfig) -> Reply {
    let text = config.greeting.trim();
    let text = if text.is_empty() {
        format!("{} ESMTP", config.hostname)
    } else if text.ends_with(" ESMTP") {
        text.to_owned()
    } else {
        format!("{text} ESMTP")
    };
    Reply::new(220, None, text)
}

/// `221 2.0.0`: answer to QUIT.
pub fn closing() -> Reply {
    reply(221, (2, 0, 0), "Goodbye")
}

/// `421 4.7.0`: the client passed the invalid-command limit.
pub fn too_many_invalid_commands() -> Reply {
    reply(421, (4, 7, 0), "Too many invalid commands")
}

/// `421 4.7.0`: the client sent more than the session buffers while waiting.
pub fn flooding() -> Reply {
    reply(421, (4, 7, 0), "Excessive amounts of data sent to server")
}

/// `421 4.4.2`: idle timeout.
pub fn timeout() -> Reply {
    reply(421, (4, 4, 2), "Connection timeout")
}

/// `421 4.3.2`: server shutdown.
pub fn shutting_down() -> Reply {
    reply(421, (4, 3, 2), "Service shutting down")
}

// --- Greeting commands and simple verbs ----------------------------------------------------

/// `250` EHLO reply with its keyword lines.
pub fn ehlo(lines: Vec<String>) -> Reply {
    Reply::multiline(250, None, lines)
}

/// `250` HELO reply: the host name, no keywords.
pub fn helo(config: &SessionConfig) -> Reply {
    Reply::new(250, None, config.hostname.clone())
}

/// `250 2.0.0 OK`: NOOP and RSET.
pub fn ok() -> Reply {
    reply(250, (2, 0, 0), "OK")
}

/// `214 2.0.0`: HELP.
pub fn help() -> Reply {
    reply(214, (2, 0, 0), "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH ETRN")
}

/// `252 2.5.0`: VRFY never discloses whether an account exists (RFC 5321 §3.5.3).
pub fn vrfy() -> Reply {
    reply(252, (2, 5, 0), "Cannot VRFY user, but will accept message and attempt delivery")
}

/// `502 5.5.1`: EXPN is not offered (lists are not disclosed).
pub fn expn() -> Reply {
    reply(502, (5, 5, 1), "EXPN is not supported")
}

// --- Sequencing ------------------------------------------------------------------------------

/// `503 5.5.1`: a command before HELO/EHLO.
pub fn need_helo() -> Reply {
    reply(503, (5, 5, 1), "Bad sequence of commands: send HELO or EHLO first")
}

/// `503 5.5.1`: MAIL inside a transaction.
pub fn sender_already_given() -> Reply {
    reply(503, (5, 5, 1), "Bad sequence of commands: issue a reset if you want to start over")
}

/// `503 5.5.1`: RCPT, DATA or BDAT without MAIL.
pub fn need_mail() -> Reply {
    reply(503, (5, 5, 1), "Bad sequence of commands: need MAIL command first")
}

/// `554 5.5.1`: DATA or BDAT when no recipient was accepted (RFC 5321 §3.3, RFC 2920 §3.1).
pub fn no_valid_recipients() -> Reply {
    reply(554, (5, 5, 1), "No valid recipients")
}

/// `503 5.5.1`: DATA after BDAT in one transaction (RFC 3030 §2).
pub fn data_after_bdat() -> Reply {
    reply(503, (5, 5, 1), "Bad sequence of commands: DATA is not allowed after BDAT")
}

/// `530 5.7.0`: a STARTTLS-required port before TLS.
pub fn must_start_tls() -> Reply {
    reply(530, (5, 7, 0), "Must issue a STARTTLS command first")
}

// --- Syntax ----------------------------------------------------------------------------------

/// The reply to a command line that did not parse.
pub fn command_error(error: &CommandError) -> Reply {
    match error {
        CommandError::Empty => reply(500, (5, 5, 2), "Syntax error: empty command"),
        CommandError::InvalidUtf8 => reply(500, (5, 5, 2), "Syntax error: command is not valid UTF-8"),
        CommandError::Unrecognized => reply(500, (5, 5, 1), "Command unrecognized"),
        CommandError::MissingArgument(verb)
        | CommandError::UnexpectedArgument(verb)
        | CommandError::BadArgument(verb) => reply(501, (5, 5, 4), format!("Syntax: {}", usage(*verb))),
        CommandError::BadSender(path) => reply(501, (5, 1, 7), format!("Invalid sender address: {path}")),
        CommandError::BadRecipient(path) => reply(501, (5, 1, 3), format!("Invalid recipient address: {path}")),
        CommandError::Param(param @ (ParamError::Unknown(_) | ParamError::Duplicate(_) | ParamError::Malformed)) => {
            reply(555, (5, 5, 4), format!("Parameter not recognized: {}", clip(&param.to_string())))
        }
        CommandError::Param(param) => reply(501, (5, 5, 4), format!("Syntax error: {}", clip(&param.to_string()))),
    }
}

fn usage(verb: Verb) -> &'static str {
    match verb {
        Verb::Ehlo => "EHLO hostname",
        Verb::Helo => "HELO hostname",
        Verb::Mail => "MAIL FROM:<address> [parameters]",
        Verb::Rcpt => "RCPT TO:<address> [parameters]",
        Verb::Data => "DATA",
        Verb::Bdat => "BDAT size [LAST]",
        Verb::Rset => "RSET",
        Verb::Noop => "NOOP [text]",
        Verb::Quit => "QUIT",
        Verb::Vrfy => "VRFY address",
        Verb::Expn => "EXPN list",
        Verb::Help => "HELP [topic]",
        Verb::StartTls => "STARTTLS",
        Verb::Auth => "AUTH mechanism [initial-response]",
        Verb::Etrn => "ETRN domain",
    }
}

/// `500 5.5.2`: a command line over the limit (RFC 5321 §4.5.3.1.4).
pub fn line_too_long() -> Reply {
    reply(500, (5, 5, 2), "Line too long")
}

// --- MAIL and RCPT ---------------------------------------------------------------------------

/// `250 2.1.0`: sender accepted.
pub fn sender_ok() -> Reply {
    reply(250, (2, 1, 0), "Sender OK")
}

/// `250 2.1.5`: recipient accepted.
pub fn recipient_ok() -> Reply {
    reply(250, (2, 1, 5), "Recipient OK")
}

/// `550 5.7.1`: `MAIL FROM:<>` refused (setting `allowmailfromnull` off).
pub fn null_sender_refused() -> Reply {
    reply(550, (5, 7, 1), "Sender address must be specified")
}

/// `501 5.1.7`: a sender without domain and no default domain.
pub fn unqualified_sender() -> Reply {
    reply(501, (5, 1, 7), "Sender address must be fully qualified")
}

/// `501 5.1.3`: a recipient without domain and no default domain.
pub fn unqualified_recipient() -> Reply {
    reply(501, (5, 1, 3), "Recipient address must be fully qualified")
}

/// `553 5.6.7`: a non-ASCII address without SMTPUTF8 (RFC 6531 §3.5).
pub fn non_ascii_address() -> Reply {
    reply(553, (5, 6, 7), "Non-ASCII addresses require the SMTPUTF8 parameter")
}

/// `555 5.5.4`: `BODY=BINARYMIME`, which is not advertised.
pub fn binarymime_unsupported() -> Reply {
    reply(555, (5, 5, 4), "BODY=BINARYMIME is not supported")
}

/// `552 5.3.4`: the declared or received size is over the limit (RFC 1870 §6), with
/// hMailServer's text.
pub fn message_too_big(size: u64, max: u64) -> Reply {
    reply(
        552,
        (5, 3, 4),
        format!(
            "Message size exceeds fixed maximum message size. Size: {} KB, Max size: {} KB",
            size.div_ceil(1024),
            max / 1024
        ),
    )
}

/// `452 4.5.3`: one recipient too many (RFC 5321 §4.5.3.1.10).
pub fn too_many_recipients() -> Reply {
    reply(452, (4, 5, 3), "Too many recipients")
}

/// `550 5.1.1`: no such local user (for the driver).
pub fn unknown_user() -> Reply {
    reply(550, (5, 1, 1), "Unknown user")
}

/// `550 5.7.1`: relaying refused by the IP range (for the driver).
pub fn relay_denied() -> Reply {
    reply(550, (5, 7, 1), "Delivery is not allowed to this address")
}

/// `530 5.7.0`: the IP range requires SMTP authentication (for the driver).
pub fn auth_required() -> Reply {
    reply(530, (5, 7, 0), "SMTP authentication is required")
}

/// `550 5.7.1`: the authenticated account is gone or disabled (for the driver, at MAIL).
pub fn credentials_no_longer_valid() -> Reply {
    reply(550, (5, 7, 1), "Login credentials no longer valid. Please re-authenticate")
}

/// `451 4.7.1`: greylisted (for the driver).
pub fn greylisted() -> Reply {
    reply(451, (4, 7, 1), "Please try again later")
}

/// `451 4.3.0`: a local failure (database, spool, DNS); no details for the client (for the driver).
pub fn local_error() -> Reply {
    reply(451, (4, 3, 0), "Requested action aborted: local error in processing")
}

// --- DATA and BDAT ---------------------------------------------------------------------------

/// `354`: go ahead with the body.
pub fn start_data() -> Reply {
    Reply::new(354, None, "End data with <CR><LF>.<CR><LF>")
}

/// `250 2.0.0`: a non-last BDAT chunk arrived.
pub fn chunk_received(size: u64) -> Reply {
    reply(250, (2, 0, 0), format!("{size} octets received"))
}

/// `250 2.0.0`: the message is stored.
pub fn queued(queue_id: &str) -> Reply {
    reply(250, (2, 0, 0), format!("Queued as {}", clip(queue_id)))
}

/// `554 5.6.0`: bare CR or LF in DATA with `smtpallowincorrectlineendings` off.
pub fn bare_line_endings() -> Reply {
    reply(554, (5, 6, 0), "Rejected - Message containing bare CR or LF characters (lines must end with CRLF)")
}

/// `554 5.6.0`: a DATA line over the limit.
pub fn data_line_too_long() -> Reply {
    reply(554, (5, 6, 0), "Too long line was received. Transmission aborted")
}

// --- STARTTLS --------------------------------------------------------------------------------

/// `220 2.0.0`: go ahead with the handshake.
pub fn start_tls() -> Reply {
    reply(220, (2, 0, 0), "Ready to start TLS")
}

/// `502 5.5.1`: STARTTLS is not offered on this port.
pub fn tls_not_offered() -> Reply {
    reply(502, (5, 5, 1), "STARTTLS is not available")
}

/// `503 5.5.1`: STARTTLS on a TLS connection.
pub fn tls_already_active() -> Reply {
    reply(503, (5, 5, 1), "TLS is already active")
}

// --- AUTH ------------------------------------------------------------------------------------

/// `334`: a SASL challenge, base64-encoded here.
pub fn auth_challenge(challenge: &[u8]) -> Reply {
    Reply::new(334, None, encode_challenge(challenge))
}

/// `235 2.7.0`.
pub fn auth_succeeded() -> Reply {
    reply(235, (2, 7, 0), "Authentication successful")
}

/// `535 5.7.8`: wrong credentials.
pub fn auth_failed() -> Reply {
    reply(535, (5, 7, 8), "Authentication failed. Restarting authentication process")
}

/// `535 5.7.8`: the client was banned; the connection is closed after it.
pub fn auth_banned() -> Reply {
    reply(535, (5, 7, 8), "Authentication failed. Too many invalid logon attempts")
}

/// `454 4.7.0`: the credentials could not be checked.
pub fn auth_temporary_failure() -> Reply {
    reply(454, (4, 7, 0), "Temporary authentication failure")
}

/// `501 5.7.0`: the client cancelled with `*` (RFC 4954 §4).
pub fn auth_cancelled() -> Reply {
    reply(501, (5, 7, 0), "Authentication cancelled")
}

/// `501 5.5.2`: a SASL response that is not base64.
pub fn auth_bad_base64() -> Reply {
    reply(501, (5, 5, 2), "Invalid base64 data")
}

/// `501 5.5.2`: decoded credentials that make no sense.
pub fn auth_malformed() -> Reply {
    reply(501, (5, 5, 2), "Malformed authentication data")
}

/// `501 5.5.2`: an initial response with a mechanism that has none, such as CRAM-MD5
/// (RFC 4954 §4).
pub fn auth_initial_response_not_allowed() -> Reply {
    reply(501, (5, 5, 2), "Initial response not allowed for this mechanism")
}

/// `503 5.5.1`: AUTH after a successful AUTH (RFC 4954 §4).
pub fn already_authenticated() -> Reply {
    reply(503, (5, 5, 1), "Already authenticated")
}

/// `503 5.5.1`: AUTH inside a mail transaction (RFC 4954 §4).
pub fn auth_in_transaction() -> Reply {
    reply(503, (5, 5, 1), "AUTH is not permitted during a mail transaction")
}

/// `502 5.5.1`: AUTH is not offered on this port.
pub fn auth_not_enabled() -> Reply {
    reply(502, (5, 5, 1), "Authentication not enabled")
}

/// `504 5.5.4`: a mechanism not offered now.
pub fn auth_mechanism_unsupported() -> Reply {
    reply(504, (5, 5, 4), "Unrecognized authentication type")
}

/// `538 5.7.11`: the IP range requires TLS before AUTH (RFC 4954 §6).
pub fn auth_needs_tls() -> Reply {
    reply(538, (5, 7, 11), "Encryption required for requested authentication mechanism")
}

// --- ETRN ------------------------------------------------------------------------------------

/// `250 2.0.0`: ETRN accepted (for the driver), hMailServer's text.
pub fn etrn_started(node: &str) -> Reply {
    reply(250, (2, 0, 0), format!("OK, message queuing started for {}", clip(node)))
}

/// `458 4.3.0`: nothing can be released for this node (for the driver, RFC 1985 §5).
pub fn etrn_unavailable(node: &str) -> Reply {
    reply(458, (4, 3, 0), format!("Unable to queue messages for node {}", clip(node)))
}

/// `459 4.7.1`: the node is not an ETRN route (for the driver, RFC 1985 §5).
pub fn etrn_not_allowed(node: &str) -> Reply {
    reply(459, (4, 7, 1), format!("Node {} not allowed", clip(node)))
}
