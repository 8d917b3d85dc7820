//! What the session asks of its driver, and the values the driver answers with.

use super::config::TlsInfo;
use crate::proto::{Credentials, MailParams, Mailbox, RcptParams, Reply, ReversePath};

/// One thing for the driver to do, from [`Session::poll_action`](super::Session::poll_action).
///
/// Actions come out in the order they must be carried out. After an action that asks for a
/// decision, no further action comes out until the driver has answered with the method named
/// on the variant; the session keeps any pipelined input meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Write this reply to the client. The driver may gather consecutive replies into one write
    /// (PIPELINING), but must flush before carrying out any other action.
    Reply(Reply),
    /// Flush the replies, run the TLS handshake, then call
    /// [`tls_started`](super::Session::tls_started). Any input still buffered by the driver from
    /// before the handshake must be dropped as well (RFC 3207 §4.2, CVE-2011-0411). If the
    /// handshake fails, close the connection.
    StartTls,
    /// Check these credentials (and `authzid`, if any), then call
    /// [`auth_result`](super::Session::auth_result). Never log the password.
    Authenticate(Credentials),
    /// Decide whether this sender may open a transaction (policy, DNSBL, re-validation of the
    /// authenticated user), then call [`sender_checked`](super::Session::sender_checked).
    CheckSender {
        /// The reverse-path, qualified with the default domain if it had none.
        sender: ReversePath,
        /// Its parameters.
        params: MailParams,
    },
    /// Decide whether this recipient is accepted (local user, alias, list, route, relay rights,
    /// greylisting), then call [`recipient_checked`](super::Session::recipient_checked). The
    /// transaction so far is available from [`Session::transaction`](super::Session::transaction).
    CheckRecipient {
        /// The forward-path, qualified.
        recipient: Mailbox,
        /// Its parameters.
        params: RcptParams,
    },
    /// The client is about to send the body (DATA, or the first BDAT chunk has been read): decide
    /// whether it may (the anti-spam tests before transmission), then call
    /// [`data_checked`](super::Session::data_checked). Only with
    /// [`SessionConfig::check_before_data`](super::SessionConfig::check_before_data); the
    /// transaction so far is available from [`Session::transaction`](super::Session::transaction).
    CheckData,
    /// The client sent HELO or EHLO with this name: decide whether it is accepted, then call
    /// [`helo_checked`](super::Session::helo_checked). Only with
    /// [`SessionConfig::check_helo`](super::SessionConfig::check_helo).
    CheckHelo {
        /// The argument of HELO/EHLO.
        name: String,
        /// EHLO rather than HELO.
        esmtp: bool,
    },
    /// Store this message durably, then call
    /// [`message_accepted`](super::Session::message_accepted); the 250 is sent only after that.
    Message(Box<Message>),
    /// The body of the transaction in progress has passed
    /// [`SessionConfig::stream_threshold`](super::SessionConfig::stream_threshold): open the
    /// message's file and write its trace headers and `head`, the body so far. More of the body
    /// follows as [`Action::BodyPart`]; the end comes as an [`Action::Message`] whose
    /// [`Message::streamed`] is set, or as [`Action::DropBody`]. Needs no answer: a write that
    /// fails is answered at the end, with a temporary failure to the message.
    StreamBody {
        /// The envelope so far (for the trace headers).
        envelope: Box<Envelope>,
        /// The first octets of the body.
        head: Vec<u8>,
    },
    /// The next octets of a streamed body: append them to the message's file. Needs no answer.
    BodyPart(Vec<u8>),
    /// The transaction of a streamed body ended without a message (refused, reset, aborted):
    /// remove its file. Needs no answer.
    DropBody,
    /// Release the messages held for this ETRN node (RFC 1985), then call
    /// [`etrn_result`](super::Session::etrn_result).
    Etrn(String),
    /// Close the connection after writing the replies before it. Nothing follows.
    Close,
    /// A client line, log-safe (AUTH payloads replaced by `***`), for the protocol log. Only with
    /// [`SessionConfig::log_received`](super::SessionConfig::log_received). Needs no answer.
    Received(String),
}

/// One accepted recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The forward-path, qualified.
    pub address: Mailbox,
    /// Its DSN parameters.
    pub params: RcptParams,
}

/// Everything known about a message besides its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The HELO or EHLO argument.
    pub helo: String,
    /// The client said EHLO (for `Received: ... with ESMTP`).
    pub esmtp: bool,
    /// The reverse-path, qualified.
    pub sender: ReversePath,
    /// MAIL FROM parameters (SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH).
    pub params: MailParams,
    /// Accepted recipients, in order.
    pub recipients: Vec<Recipient>,
    /// The authenticated user, as the driver named it in `auth_result`.
    pub authenticated: Option<String>,
    /// The TLS layer, if any.
    pub tls: Option<TlsInfo>,
    /// The body came with BDAT rather than DATA.
    pub chunked: bool,
}

/// A complete message for the driver to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The envelope.
    pub envelope: Envelope,
    /// The content as received: dot-unstuffed and CRLF-normalised for DATA, verbatim for BDAT.
    /// No trace headers are added; that is the driver's job. When [`Message::streamed`], only
    /// the octets after the last [`Action::BodyPart`].
    pub body: Vec<u8>,
    /// The body was streamed ([`Action::StreamBody`]): `body` is its tail, to append to the file.
    pub streamed: bool,
}

/// Why an authentication attempt failed, as the driver found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// Wrong user name or password (or authzid not allowed): `535 5.7.8`.
    Bad,
    /// Too many failures, the client is banned: `535 5.7.8` and the connection is closed.
    Banned,
    /// The credentials could not be checked (database down): `454 4.7.0`.
    TempFail,
}

/// Why the driver ends a session on its own account; see
/// [`Session::close_with`](super::Session::close_with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client was idle too long, or took too long to send a command or a body:
    /// `421 4.4.2`.
    Timeout,
    /// The server is shutting down: `421 4.3.2`.
    Shutdown,
}

/// The driver called an answer method that the session was not waiting for: a bug in the
/// driver, never caused by the client. The call had no effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the session is not waiting for {0}")]
pub struct UnexpectedAnswer(pub &'static str);
