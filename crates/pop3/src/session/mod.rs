//! The POP3 server session as a sans-IO state machine: bytes in, [`Action`]s out.
//!
//! A [`Session`] never touches a socket, a clock, the database or a message file. The driver
//! feeds it what the client sent ([`Session::handle_input`]) and takes out what to do
//! ([`Session::poll_action`]): write a response, upgrade to TLS, check credentials, open the
//! maildrop, open and send a message, delete the marked messages, close. Decisions that need
//! the outside world come back through one answer method each, and the session carries on with
//! any pipelined input (RFC 2449 §6.6).
//!
//! ```
//! use altimail_pop3::session::{Action, MailboxEntry, Session, SessionConfig};
//!
//! let mut session = Session::new(SessionConfig::new());
//! session.handle_input(b"USER john@example.com\r\nPASS secret\r\nSTAT\r\n");
//! let mut wire = Vec::new();
//! while let Some(action) = session.poll_action() {
//!     match action {
//!         Action::Reply(response) => response.write_to(&mut wire),
//!         Action::Authenticate(credentials) => session.auth_result(Ok(credentials.username))?,
//!         Action::OpenMailbox(_) => {
//!             session.mailbox_opened(Ok(vec![MailboxEntry { id: 7, size: 320, uid: "1".into() }]))?
//!         }
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//! assert!(String::from_utf8(wire)?.ends_with("+OK Mailbox locked and ready\r\n+OK 1 320\r\n"));
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
//! # States (RFC 1939 §3)
//!
//! AUTHORIZATION until a logon succeeds and the maildrop is locked; TRANSACTION after. DELE
//! only marks a message; the marked messages are deleted in the UPDATE state, which only QUIT
//! enters ([`Action::Commit`]). A connection that drops, times out or is shut down deletes
//! nothing.
//!
//! # Security
//!
//! - After STLS, input buffered before the handshake is dropped and the state starts again
//!   (RFC 2595 §4); a command pipelined after STLS can never run inside TLS.
//! - On a STARTTLS-required port, or from an IP range that requires TLS for authentication,
//!   USER, PASS, APOP and AUTH are refused before TLS, and CAPA does not offer them.
//! - Memory is bounded: command lines by [`MAX_AUTH_LINE`], unprocessed input by
//!   [`MAX_BUFFERED_INPUT`] (then `-ERR` and close), and queued actions by taking pipelined
//!   commands one at a time as the driver polls.
//! - Credentials go to the driver in [`Action::Authenticate`] only; [`Action::Received`] lines
//!   have PASS, APOP and AUTH secrets masked.
//!
//! Layout: `auth` (USER, PASS, APOP, AUTH PLAIN and the logon answers), `stls`, `capa`,
//! `maildrop` (the message list and its marks), `transaction` (STAT, LIST, UIDL, DELE, RSET),
//! `retrieve` (RETR and TOP), `quit` (QUIT and the UPDATE state); `replies` holds every
//! response. Lines are framed by `altimail_core::lines`.

#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod action;
mod auth;
mod capa;
mod config;
mod maildrop;
mod quit;
pub mod replies;
mod retrieve;
mod stls;
mod transaction;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use altimail_core::lines::{Line, LineBuffer};

pub use action::{
    Action, AuthFailure, CloseReason, CommitFailed, MailboxEntry, MailboxFailure, MessageFailure, UnexpectedAnswer,
};
pub use config::{MAX_AUTH_LINE, MAX_BUFFERED_INPUT, MAX_COMMAND_LINE, PortSecurity, SessionConfig};

use crate::proto::{Command, Response, Verb, log_safe_command, log_safe_sasl_response, parse_command};
use maildrop::Maildrop;

/// The POP3 server side of one connection; see the module documentation.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    input: LineBuffer,
    actions: VecDeque<Action>,
    phase: Phase,
    state: State,
    tls: bool,
    closed: bool,
}

/// RFC 1939's states, with what each holds.
#[derive(Debug)]
enum State {
    /// Before logon: the name of an accepted USER command, if any.
    Authorization { user: Option<String> },
    /// After logon: the user as the driver named it, and the locked maildrop.
    Transaction { user: String, maildrop: Maildrop },
}

/// What the session does with the next input.
#[derive(Debug)]
enum Phase {
    /// Reading command lines.
    Command,
    /// Reading the client's response to the `+ ` of AUTH PLAIN.
    Sasl,
    /// Waiting for the driver's answer; input is kept.
    Waiting(Pending),
    /// The driver is running the TLS handshake; input is dropped.
    StartingTls,
}

/// The decision the driver owes, with what the session needs to act on the answer.
#[derive(Debug)]
enum Pending {
    /// Credentials, given with this user name.
    Auth { username: String },
    /// The maildrop of this user.
    Mailbox { user: String },
    /// A message to send with this status line and encoder.
    Message { status: Response, encoder: crate::proto::BodyEncoder },
    /// The deletions of QUIT.
    Commit,
}

impl Session {
    /// A new session; its first action is the greeting.
    pub fn new(config: SessionConfig) -> Self {
        let mut session = Session {
            input: LineBuffer::default(),
            actions: VecDeque::new(),
            phase: Phase::Command,
            state: State::Authorization { user: None },
            tls: config.security == PortSecurity::Implicit,
            closed: false,
            config,
        };
        session.reply(replies::greeting(&session.config));
        session
    }

    /// Takes bytes read from the client and starts processing them; poll the actions before
    /// handing in more.
    ///
    /// Input not yet processed is kept, up to [`MAX_BUFFERED_INPUT`] (more means the client is
    /// flooding: `-ERR` and close); input after [`Action::StartTls`] and before
    /// [`Session::tls_started`], or after [`Action::Close`], is dropped.
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
    /// input or an answer arrives. Pipelined commands are taken one at a time, as their
    /// actions are polled.
    pub fn poll_action(&mut self) -> Option<Action> {
        if self.actions.is_empty() {
            self.process();
        }
        self.actions.pop_front()
    }

    /// `true` when reading more input is useful now: not closed, not in a TLS handshake and not
    /// waiting for a decision (input read meanwhile is only buffered).
    pub fn wants_input(&self) -> bool {
        !self.closed && !matches!(self.phase, Phase::Waiting(_) | Phase::StartingTls)
    }

    /// Ends the session on the driver's account: `-ERR` then [`Action::Close`]. Messages marked
    /// for deletion stay (RFC 1939 §6).
    pub fn close_with(&mut self, reason: CloseReason) {
        let response = match reason {
            CloseReason::Timeout => replies::timeout(),
            CloseReason::Shutdown => replies::shutting_down(),
        };
        self.reply(response);
        self.close();
    }

    /// `true` once [`Action::Close`] has been emitted.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The logged-on user as the driver named it, once the maildrop is open.
    pub fn authenticated_user(&self) -> Option<&str> {
        match &self.state {
            State::Transaction { user, .. } => Some(user),
            State::Authorization { .. } => None,
        }
    }

    /// `true` when part of a command line (or of an AUTH response) has arrived and the rest
    /// has not: the driver's per-command deadline runs.
    pub fn is_mid_command(&self) -> bool {
        !self.closed && matches!(self.phase, Phase::Command | Phase::Sasl) && !self.input.pending().is_empty()
    }

    /// `true` when the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    fn push(&mut self, action: Action) {
        if !self.closed {
            self.actions.push_back(action);
        }
    }

    fn reply(&mut self, response: Response) {
        self.push(Action::Reply(response));
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

    /// Processes buffered input until it runs out, an action is queued or a decision is needed.
    fn process(&mut self) {
        while !self.closed && self.step() {}
        self.input.compact();
    }

    /// Handles the next line; `false` when nothing more can be done now. A line is only taken
    /// once the actions of the one before are polled, so pipelined commands never pile up
    /// responses (a thousand `LIST`s of a large maildrop in one packet).
    fn step(&mut self) -> bool {
        if !self.actions.is_empty() {
            return false;
        }
        match self.phase {
            Phase::Waiting(_) | Phase::StartingTls => false,
            Phase::Command | Phase::Sasl => match self.input.next_line(MAX_AUTH_LINE) {
                Some(line) => {
                    self.handle_line(line);
                    true
                }
                None => false,
            },
        }
    }

    fn handle_line(&mut self, line: Line) {
        let sasl = matches!(self.phase, Phase::Sasl);
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
                self.phase = Phase::Command;
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
        let too_long = line.len() > MAX_COMMAND_LINE;
        match parse_command(line) {
            Ok(command) if too_long && command.verb() != Verb::Auth => self.reply(replies::line_too_long()),
            Ok(command) => self.dispatch(command),
            Err(_) if too_long => self.reply(replies::line_too_long()),
            Err(error) => self.reply(replies::command_error(&error)),
        }
    }

    fn dispatch(&mut self, command: Command) {
        match command {
            Command::Capa => self.handle_capa(),
            Command::Noop => self.reply(replies::noop()),
            Command::Help => self.reply(replies::help()),
            Command::Quit => self.handle_quit(),
            command if matches!(self.state, State::Authorization { .. }) => match command {
                Command::User(name) => self.handle_user(name),
                Command::Pass(password) => self.handle_pass(password),
                Command::Apop { name, digest } => self.handle_apop(name, digest),
                Command::Auth { mechanism, initial_response } => {
                    self.handle_auth(mechanism.as_deref(), initial_response.as_deref())
                }
                Command::Stls => self.handle_stls(),
                _ => self.reply(replies::wrong_state()),
            },
            Command::Stat => self.handle_stat(),
            Command::List(number) => self.handle_list(number),
            Command::Uidl(number) => self.handle_uidl(number),
            Command::Retr(number) => self.handle_retrieve(number, None),
            Command::Top { message, lines } => self.handle_retrieve(message, Some(lines)),
            Command::Dele(number) => self.handle_dele(number),
            Command::Rset => self.handle_rset(),
            _ => self.reply(replies::wrong_state()),
        }
    }

    /// The maildrop, in TRANSACTION state.
    fn maildrop(&mut self) -> Option<&mut Maildrop> {
        match &mut self.state {
            State::Transaction { maildrop, .. } => Some(maildrop),
            State::Authorization { .. } => None,
        }
    }
}
