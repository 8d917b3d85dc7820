//! STARTTLS (RFC 3207).
//!
//! On `220` the session stops reading and emits [`Action::StartTls`]. Whatever the client sent
//! after the STARTTLS line arrived in plain text and is dropped at
//! [`Session::tls_started`] (RFC 3207 §4.2; CVE-2011-0411 was a server that executed such
//! pipelined commands inside the TLS session). The state goes back to the start: no HELO, no
//! authentication, no transaction (RFC 3207 §4.2).

use super::{Action, Phase, Session, TlsInfo, UnexpectedAnswer, replies};

impl Session {
    pub(super) fn handle_starttls(&mut self) {
        if self.tls.is_some() {
            return self.reply(replies::tls_already_active());
        }
        if !self.is_starttls_offered() {
            return self.reply(replies::tls_not_offered());
        }
        self.reply(replies::start_tls());
        self.push(Action::StartTls);
        self.phase = Phase::StartingTls;
        self.input.clear();
    }

    /// The driver's answer to [`Action::StartTls`]: the handshake succeeded. Drops any input
    /// from before the handshake and resets the session to its initial state; the client sends
    /// EHLO again.
    pub fn tls_started(&mut self, info: TlsInfo) -> Result<(), UnexpectedAnswer> {
        if !matches!(self.phase, Phase::StartingTls) || self.closed {
            return Err(UnexpectedAnswer("tls_started"));
        }
        self.input.clear();
        self.phase = Phase::Command;
        self.helo = None;
        self.user = None;
        self.drop_transaction();
        self.tls = Some(info);
        Ok(())
    }
}
