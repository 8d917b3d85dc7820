//! STLS (RFC 2595 §4).
//!
//! Only in AUTHORIZATION state and only on ports that offer it. On `+OK` the session stops
//! reading and emits [`Action::StartTls`]. Whatever the client sent after the STLS line arrived
//! in plain text and is dropped at [`Session::tls_started`] (CVE-2011-0411 was a server that
//! executed such pipelined commands inside the TLS session). A USER given before is forgotten.

use super::{Action, Phase, PortSecurity, Session, State, UnexpectedAnswer, replies};

impl Session {
    /// `true` when STLS may be used now: the port offers it and the connection is still plain.
    pub(super) fn is_stls_offered(&self) -> bool {
        !self.tls && matches!(self.config.security, PortSecurity::StartTlsOptional | PortSecurity::StartTlsRequired)
    }

    pub(super) fn handle_stls(&mut self) {
        if self.tls {
            return self.reply(replies::stls_active());
        }
        if !self.is_stls_offered() {
            return self.reply(replies::stls_not_offered());
        }
        self.reply(replies::stls_ok());
        self.push(Action::StartTls);
        self.phase = Phase::StartingTls;
        self.input.clear();
    }

    /// The driver's answer to [`Action::StartTls`]: the handshake succeeded. Drops any input
    /// from before the handshake and starts AUTHORIZATION again.
    pub fn tls_started(&mut self) -> Result<(), UnexpectedAnswer> {
        if !matches!(self.phase, Phase::StartingTls) || self.closed {
            return Err(UnexpectedAnswer("tls_started"));
        }
        self.input.clear();
        self.phase = Phase::Command;
        self.state = State::Authorization { user: None };
        self.tls = true;
        Ok(())
    }
}
