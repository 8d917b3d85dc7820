//! What the session asks of its driver, and the values the driver answers with.

use crate::proto::{BodyEncoder, Credentials, Response};

/// One thing for the driver to do, from [`Session::poll_action`](super::Session::poll_action).
///
/// Actions come out in the order they must be carried out. After an action that asks for a
/// decision, no further action comes out until the driver has answered with the method named
/// on the variant; the session keeps any pipelined input meanwhile (RFC 2449 §6.6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Write this response to the client. The driver may gather consecutive responses into one
    /// write (PIPELINING), but must flush before carrying out any other action that waits.
    Reply(Response),
    /// Flush the responses, run the TLS handshake, then call
    /// [`tls_started`](super::Session::tls_started). Any input still buffered by the driver from
    /// before the handshake must be dropped as well (RFC 2595 §4, CVE-2011-0411). If the
    /// handshake fails, close the connection.
    StartTls,
    /// Check these credentials, then call [`auth_result`](super::Session::auth_result). Failed
    /// checks count towards auto-ban. Never log the password.
    Authenticate(Credentials),
    /// Lock and open the maildrop of this user (the name the driver gave in `auth_result`),
    /// then call [`mailbox_opened`](super::Session::mailbox_opened) with its messages in order.
    /// The lock must last until the connection ends, however it ends.
    OpenMailbox(String),
    /// Open this message's content for reading, then call
    /// [`message_opened`](super::Session::message_opened). The content is sent with the
    /// [`Action::SendMessage`] that follows a successful answer.
    OpenMessage(MailboxEntry),
    /// Write the content opened for the last [`Action::OpenMessage`] through this encoder: feed
    /// it the stored bytes in order until they run out or [`BodyEncoder::is_done`], then call
    /// [`BodyEncoder::finish`]. Needs no answer. The status line before it is already written;
    /// if reading fails half-way the response cannot be completed, so close the connection.
    SendMessage(BodyEncoder),
    /// Delete these messages (the [`MailboxEntry::id`]s of those marked with DELE) as one
    /// operation, then call [`committed`](super::Session::committed). This is the UPDATE state
    /// of RFC 1939 §6; it only follows QUIT, never a dropped connection.
    Commit(Vec<i64>),
    /// Close the connection after writing the responses before it. Nothing follows.
    Close,
    /// A client line, log-safe (PASS, AUTH and APOP secrets replaced by `***`), for the protocol
    /// log. Only with [`SessionConfig::log_received`](super::SessionConfig::log_received). Needs
    /// no answer.
    Received(String),
}

/// One message of an opened maildrop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxEntry {
    /// The driver's identifier of the message (`hm_messages.messageid`), given back in
    /// [`Action::OpenMessage`] and [`Action::Commit`].
    pub id: i64,
    /// The size in octets that STAT, LIST and RETR report.
    pub size: u64,
    /// The unique-id that UIDL reports: 1 to 70 characters from `!` to `~` (RFC 1939 §7).
    pub uid: String,
}

/// Why a logon failed, as the driver found. Each answer is `-ERR [AUTH]` or `-ERR [SYS/TEMP]`
/// (RFC 3206); the client is never told which part was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// Wrong user name or password, an inactive account or domain, an APOP digest that does not
    /// match or an account without a clear-text password for APOP.
    Bad,
    /// Too many failures: the client is banned and the connection closes.
    Banned,
    /// The credentials could not be checked (database down).
    TempFail,
}

/// Why a maildrop could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MailboxFailure {
    /// Another POP3 session holds it: `-ERR [IN-USE]` (RFC 2449 §8.1.1).
    InUse,
    /// The message list could not be read: `-ERR [SYS/TEMP]`.
    TempFail,
}

/// Why a message could not be opened for RETR or TOP. The session goes on either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageFailure {
    /// The message file is gone: `-ERR [SYS/PERM]`.
    Missing,
    /// It could not be read now: `-ERR [SYS/TEMP]`.
    TempFail,
}

/// The deletions of an [`Action::Commit`] failed: `-ERR [SYS/TEMP]`, and nothing was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the marked messages could not be deleted")]
pub struct CommitFailed;

/// Why the driver ends a session on its own account; see
/// [`Session::close_with`](super::Session::close_with). Nothing marked for deletion is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client was idle too long (RFC 1939 §3: the autologout timer).
    Timeout,
    /// The server is shutting down.
    Shutdown,
}

/// The driver called an answer method that the session was not waiting for: a bug in the
/// driver, never caused by the client. The call had no effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the session is not waiting for {0}")]
pub struct UnexpectedAnswer(pub &'static str);
