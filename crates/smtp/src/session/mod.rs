//! The SMTP server session as a sans-IO state machine: bytes in, [`Action`]s out.
//!
//! A [`Session`] never touches a socket, a clock, the database or the spool. The driver feeds it
//! what the client sent ([`Session::handle_input`]) and takes out what to do
//! ([`Session::poll_action`]): write a reply, upgrade to TLS, check credentials, a sender or a
//! recipient, store a message, close. Decisions that need the outside world come back through
//! one answer method each, and the session carries on with any pipelined input (RFC 2920).
//!
//! ```
//! use altimail_smtp::session::{Action, Session, SessionConfig};
//!
//! let mut session = Session::new(SessionConfig::new("mx.example.com"));
//! session.handle_input(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n");
//! let mut wire = Vec::new();
//! while let Some(action) = session.poll_action() {
//!     match action {
//!         Action::Reply(reply) => reply.write_to(&mut wire),
//!         Action::CheckSender { .. } => session.sender_checked(Ok(()))?,
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//! assert!(String::from_utf8(wire)?.ends_with("250 2.1.0 Sender OK\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Order of calls
//!
//! 1. Create the session; the greeting is the first action.
//! 2. Loop: call `poll_action` until it returns `None`, carrying out each action in order and
//!    answering those that ask for a decision (see [`Action`]); then read from the socket if
//!    [`Session::wants_input`] and call `handle_input`.
//! 3. Stop after [`Action::Close`]. On idle timeout or shutdown call [`Session::close_with`]
//!    and drain the actions.
//!
//! # Security
//!
//! - The DATA end is only `<CRLF>.<CRLF>` (see [`crate::proto::DataReceiver`]): SMTP smuggling
//!   variants never end a message, and with `allow_bare_line_endings` off they are refused.
//! - After STARTTLS, input buffered before the handshake is dropped and the state is reset
//!   (RFC 3207 §4.2); a command pipelined after STARTTLS can never run inside TLS.
//! - Memory is bounded: command lines by [`MAX_AUTH_LINE`], bodies by
//!   [`SessionConfig::stream_threshold`] (larger ones go to the driver's file as they arrive,
//!   see [`Action::StreamBody`]), input pipelined while the driver decides by
//!   [`MAX_BUFFERED_INPUT`] (then `421` and close).
//! - Credentials go to the driver in [`Action::Authenticate`] only; the session logs nothing,
//!   and [`Action::Received`] lines have AUTH payloads masked.
//!
//! Layout: one file per verb (`ehlo`, `mail`, `rcpt`, `data` for DATA and BDAT, `auth`,
//! `starttls`, `etrn`), each with the answer method of its decision; `replies` holds every reply;
//! `transaction` is the transaction in progress. Lines are framed by `altimail_core::lines`.

#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod action;
mod auth;
mod config;
mod data;
mod ehlo;
mod etrn;
mod mail;
mod rcpt;
pub mod replies;
mod starttls;
mod transaction;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use altimail_core::lines::{Line, LineBuffer};

pub use action::{Action, AuthFailure, CloseReason, Envelope, Message, Recipient, UnexpectedAnswer};
pub use config::{
    DEFAULT_MAX_COMMAND_LINE, DEFAULT_MAX_DATA_LINE, DEFAULT_STREAM_THRESHOLD, MAX_AUTH_LINE, MAX_BUFFERED_INPUT,
    MAX_RECIPIENTS_CEILING, PortSecurity, SessionConfig, TlsInfo, UNLIMITED_MESSAGE_CEILING,
};
pub use data::{Reading, STREAM_PART};
pub use transaction::Transaction;

use crate::proto::{
    BdatReceiver, Command, DataReceiver, MailParams, Reply, ReversePath, Verb, log_safe_command,
    log_safe_sasl_response, parse_command,
};
use auth::SaslStep;
use data::BdatChunk;

/// The SMTP server side of one connection; see the module documentation.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    input: LineBuffer,
    actions: VecDeque<Action>,
    phase: Phase,
    helo: Option<Helo>,
    tls: Option<TlsInfo>,
    user: Option<String>,
    tx: Option<Transaction>,
    /// A lower size limit set by the driver for the transaction being opened.
    sender_size_cap: Option<u64>,
    invalid_commands: u32,
    closed: bool,
    /// The server is stopping: the transaction in progress may finish, no new one starts.
    stopping: bool,
}

#[derive(Debug)]
struct Helo {
    name: String,
    esmtp: bool,
}

/// What the session does with the next input.
#[derive(Debug)]
enum Phase {
    /// Reading command lines.
    Command,
    /// Reading SASL response lines of an AUTH exchange.
    Sasl(SaslStep),
    /// Reading a DATA body.
    Data(DataReceiver),
    /// Reading a BDAT chunk.
    Bdat(BdatChunk),
    /// Waiting for the driver's answer; input is kept.
    Waiting(Pending),
    /// The driver is running the TLS handshake; input is dropped.
    StartingTls,
}

/// The decision the driver owes, with what the session needs to act on the answer.
#[derive(Debug)]
enum Pending {
    Auth,
    Sender(ReversePath, MailParams),
    Recipient(Recipient),
    /// [`Action::CheckData`]: what to do once allowed.
    Data(data::DataStart),
    Message,
    Etrn,
    Helo(String, bool),
}

impl Session {
    /// A new session; its first action is the greeting.
    pub fn new(config: SessionConfig) -> Self {
        let tls = match &config.security {
            PortSecurity::Implicit(info) => Some(info.clone()),
            _ => None,
        };
        let mut session = Session {
            input: LineBuffer::default(),
            actions: VecDeque::new(),
            phase: Phase::Command,
            helo: None,
            tls,
            user: None,
            tx: None,
            sender_size_cap: None,
            invalid_commands: 0,
            closed: false,
            stopping: false,
            config,
        };
        session.reply(replies::greeting(&session.config));
        session
    }

    /// Takes bytes read from the client and processes as much as possible.
    ///
    /// Input that arrives while a decision is pending is kept (up to [`MAX_BUFFERED_INPUT`]);
    /// input after [`Action::StartTls`] and before [`Session::tls_started`], or after
    /// [`Action::Close`], is dropped.
    pub fn handle_input(&mut self, bytes: &[u8]) {
        if self.closed || matches!(self.phase, Phase::StartingTls) {
            return;
        }
        self.input.push(bytes);
        self.process();
        if !self.closed && self.input.pending().len() > MAX_BUFFERED_INPUT {
            self.reply(replies::flooding());
            self.close();
        }
    }

    /// The next thing for the driver to do, in order; `None` when there is nothing until more
    /// input or an answer arrives.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// `true` when reading more input is useful now: not closed, not in a TLS handshake and not
    /// waiting for a decision (input read meanwhile is only buffered).
    pub fn wants_input(&self) -> bool {
        !self.closed && !matches!(self.phase, Phase::Waiting(_) | Phase::StartingTls)
    }

    /// Ends the session on the driver's account: `421` then [`Action::Close`].
    pub fn close_with(&mut self, reason: CloseReason) {
        let reply = match reason {
            CloseReason::Timeout => replies::timeout(),
            CloseReason::Shutdown => replies::shutting_down(),
        };
        self.reply(reply);
        self.close();
    }

    /// The server is stopping gracefully. A session with no transaction in progress (nothing
    /// between MAIL and the reply to the message, no AUTH exchange, no pipelined input waiting)
    /// ends at once with `421`. Otherwise the transaction goes on to its reply (a message being
    /// sent gets its `250`) and the next command is answered `421` (QUIT still gets `221`).
    pub fn begin_shutdown(&mut self) {
        if self.closed || self.stopping {
            return;
        }
        self.stopping = true;
        if self.tx.is_none() && matches!(self.phase, Phase::Command) && self.input.pending().is_empty() {
            self.close_with(CloseReason::Shutdown);
        }
    }

    /// `true` once [`Action::Close`] has been emitted.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// True once the session ended because the client sent too many invalid commands.
    pub fn too_many_invalid_commands(&self) -> bool {
        let limit = self.config.max_invalid_commands;
        limit > 0 && self.invalid_commands > limit
    }

    /// The HELO/EHLO argument, once given.
    pub fn helo(&self) -> Option<&str> {
        self.helo.as_ref().map(|helo| helo.name.as_str())
    }

    /// The authenticated user, as the driver named it.
    pub fn authenticated_user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The TLS layer, if the connection is encrypted.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// The transaction in progress.
    pub fn transaction(&self) -> Option<&Transaction> {
        self.tx.as_ref()
    }

    /// Lowers the message size limit for the transaction in progress, or for the one being
    /// opened when called before [`Session::sender_checked`] (hMailServer applies the sender
    /// domain's `domainmaxmessagesize`). A declared `SIZE=` over it is refused at MAIL.
    pub fn limit_message_size(&mut self, max_bytes: u64) {
        match &mut self.tx {
            Some(tx) => tx.size_cap = tx.size_cap.min(max_bytes),
            None => self.sender_size_cap = Some(max_bytes),
        }
    }

    fn push(&mut self, action: Action) {
        if !self.closed {
            self.actions.push_back(action);
        }
    }

    /// Queues a reply; replies ≥ 500 count towards the invalid-command limit.
    fn reply(&mut self, reply: Reply) {
        let invalid = reply.is_permanent();
        self.push(Action::Reply(reply));
        if invalid && !self.closed {
            self.invalid_commands = self.invalid_commands.saturating_add(1);
            let limit = self.config.max_invalid_commands;
            if limit > 0 && self.invalid_commands > limit {
                self.push(Action::Reply(replies::too_many_invalid_commands()));
                self.close();
            }
        }
    }

    fn close(&mut self) {
        self.push(Action::Close);
        self.closed = true;
        self.input.clear();
    }

    /// Waits for the driver after emitting `request`.
    fn ask(&mut self, request: Action, pending: Pending) {
        self.push(request);
        self.phase = Phase::Waiting(pending);
    }

    /// Takes the pending decision if `extract` recognises it as the one this answer is for, and
    /// resumes command reading; otherwise changes nothing.
    fn answer<T>(
        &mut self,
        name: &'static str,
        extract: impl FnOnce(Pending) -> Result<T, Pending>,
    ) -> Result<T, UnexpectedAnswer> {
        let phase = std::mem::replace(&mut self.phase, Phase::Command);
        let Phase::Waiting(pending) = phase else {
            self.phase = phase;
            return Err(UnexpectedAnswer(name));
        };
        match extract(pending) {
            Ok(value) if !self.closed => Ok(value),
            Ok(_) => Err(UnexpectedAnswer(name)),
            Err(pending) => {
                self.phase = Phase::Waiting(pending);
                Err(UnexpectedAnswer(name))
            }
        }
    }

    fn is_tls_missing(&self) -> bool {
        self.tls.is_none() && self.config.security == PortSecurity::StartTlsRequired
    }

    /// Processes buffered input until it runs out or a decision is needed.
    fn process(&mut self) {
        while !self.closed && self.step() {}
        self.input.compact();
    }

    /// Handles the next line or body bytes; `false` when nothing more can be done now.
    fn step(&mut self) -> bool {
        match self.phase {
            Phase::Waiting(_) | Phase::StartingTls => false,
            Phase::Data(_) | Phase::Bdat(_) => self.feed_body(),
            Phase::Command | Phase::Sasl(_) => {
                let cap = MAX_AUTH_LINE.max(self.config.max_command_line);
                match self.input.next_line(cap) {
                    Some(line) => {
                        self.handle_line(line);
                        true
                    }
                    None => false,
                }
            }
        }
    }

    fn handle_line(&mut self, line: Line) {
        let sasl = matches!(self.phase, Phase::Sasl(_));
        match line {
            Line::TooLong => {
                if self.config.log_received {
                    self.push(Action::Received("(line too long, discarded)".to_owned()));
                }
                self.phase = Phase::Command;
                self.reply(replies::line_too_long());
            }
            Line::Complete(line) if sasl => {
                if self.config.log_received {
                    self.push(Action::Received(log_safe_sasl_response(&line)));
                }
                self.handle_sasl_line(&line);
            }
            Line::Complete(line) => {
                if self.config.log_received {
                    self.push(Action::Received(log_safe_command(&line)));
                }
                self.handle_command_line(&line);
            }
        }
    }

    fn handle_command_line(&mut self, line: &[u8]) {
        let command = match parse_command(line) {
            Ok(command) => command,
            Err(error) => {
                let reply = if line.len() + 2 > self.config.max_command_line {
                    replies::line_too_long()
                } else {
                    replies::command_error(&error)
                };
                return self.reply(reply);
            }
        };
        if line.len() + 2 > self.config.max_command_line && command.verb() != Verb::Auth {
            if let Command::Bdat { size, .. } = command {
                // The chunk follows regardless; read it so the session stays in step.
                return self.refuse_chunk(size, replies::line_too_long());
            }
            return self.reply(replies::line_too_long());
        }
        self.dispatch(command);
    }

    fn dispatch(&mut self, command: Command) {
        if self.stopping && self.tx.is_none() && command != Command::Quit {
            // A BDAT chunk follows its command on the wire: it is not read, the session ends.
            return self.close_with(CloseReason::Shutdown);
        }
        match command {
            Command::Ehlo(name) => self.handle_ehlo(name, true),
            Command::Helo(name) => self.handle_ehlo(name, false),
            Command::Quit => {
                self.reply(replies::closing());
                self.close();
            }
            Command::Noop => self.reply(replies::ok()),
            Command::Rset => {
                self.drop_transaction();
                self.reply(replies::ok());
            }
            Command::Help(_) => self.reply(replies::help()),
            Command::Bdat { size, last } => self.handle_bdat(size, last),
            _ if self.helo.is_none() => self.reply(replies::need_helo()),
            Command::StartTls => self.handle_starttls(),
            _ if self.is_tls_missing() => self.reply(replies::must_start_tls()),
            Command::Vrfy(_) => self.reply(replies::vrfy()),
            Command::Expn(_) => self.reply(replies::expn()),
            Command::Mail { from, params } => self.handle_mail(from, params),
            Command::Rcpt { to, params } => self.handle_rcpt(to, params),
            Command::Data => self.handle_data(),
            Command::Auth { mechanism, initial_response } => self.handle_auth(&mechanism, initial_response.as_deref()),
            Command::Etrn(node) => self.handle_etrn(node),
        }
    }

    /// Starts reading a BDAT chunk that will be refused with `reply` once read.
    fn refuse_chunk(&mut self, size: u64, reply: Reply) {
        self.phase = Phase::Bdat(BdatChunk {
            receiver: BdatReceiver::new(size, 0),
            size,
            total: size,
            last: false,
            refusal: Some(reply),
        });
    }
}
