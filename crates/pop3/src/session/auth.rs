//! Logon: USER and PASS, APOP (RFC 1939 §7) and AUTH PLAIN (RFC 5034, RFC 4616), and the
//! driver's answers that move the session to TRANSACTION.
//!
//! Before TLS, on a STARTTLS-required port or from an IP range that requires TLS for
//! authentication, every logon command is refused without asking the driver (the password may
//! already have crossed the wire, but it is never checked, so it cannot be confirmed to an
//! eavesdropper). A refused logon goes back to the start of AUTHORIZATION: USER again
//! (RFC 1939 §7). A successful one asks the driver to lock and open the maildrop; only then is
//! the answer `+OK`.

use super::{Action, AuthFailure, MailboxEntry, MailboxFailure, Maildrop, Pending, Phase, PortSecurity, Session};
use super::{State, UnexpectedAnswer, replies};
use crate::proto::{Credentials, Method, Response, SaslError, Secret, decode_plain, decode_response};

/// The SASL mechanisms offered (RFC 5034): PLAIN only, under the same TLS rules as USER.
pub(super) const SASL_MECHANISMS: &[&str] = &["PLAIN"];

impl Session {
    /// The refusal a logon command gets now, if any: TLS is required first.
    pub(super) fn logon_refusal(&self) -> Option<Response> {
        if self.tls {
            None
        } else if self.config.security == PortSecurity::StartTlsRequired {
            Some(replies::stls_required())
        } else if self.config.auth_requires_tls {
            Some(replies::tls_required_for_auth())
        } else {
            None
        }
    }

    pub(super) fn handle_user(&mut self, name: String) {
        if let Some(refusal) = self.logon_refusal() {
            return self.reply(refusal);
        }
        self.state = State::Authorization { user: Some(name) };
        self.reply(replies::send_password());
    }

    pub(super) fn handle_pass(&mut self, password: Secret) {
        if let Some(refusal) = self.logon_refusal() {
            return self.reply(refusal);
        }
        let State::Authorization { user } = &mut self.state else { return self.reply(replies::wrong_state()) };
        let Some(username) = user.take() else { return self.reply(replies::need_user()) };
        self.authenticate(Credentials { method: Method::User, authzid: None, username, password, timestamp: None });
    }

    pub(super) fn handle_apop(&mut self, name: String, digest: String) {
        let Some(timestamp) = self.config.apop_timestamp.clone() else {
            return self.reply(replies::apop_not_offered());
        };
        if let Some(refusal) = self.logon_refusal() {
            return self.reply(refusal);
        }
        self.state = State::Authorization { user: None };
        self.authenticate(Credentials {
            method: Method::Apop,
            authzid: None,
            username: name,
            password: Secret::new(digest),
            timestamp: Some(timestamp),
        });
    }

    pub(super) fn handle_auth(&mut self, mechanism: Option<&str>, initial_response: Option<&str>) {
        if let Some(refusal) = self.logon_refusal() {
            return self.reply(refusal);
        }
        let Some(mechanism) = mechanism else { return self.reply(replies::sasl_mechanisms(SASL_MECHANISMS)) };
        if !SASL_MECHANISMS.iter().any(|offered| offered.eq_ignore_ascii_case(mechanism)) {
            return self.reply(replies::mechanism_unsupported());
        }
        self.state = State::Authorization { user: None };
        match initial_response {
            Some(response) => self.sasl_response(response),
            None => {
                self.reply(replies::auth_continue());
                self.phase = Phase::Sasl;
            }
        }
    }

    /// The client's line after `+ `.
    pub(super) fn handle_sasl_line(&mut self, line: &[u8]) {
        match std::str::from_utf8(line) {
            Ok(response) => self.sasl_response(response),
            Err(_) => self.reply(replies::auth_bad_base64()),
        }
    }

    fn sasl_response(&mut self, response: &str) {
        match decode_response(response).and_then(|message| decode_plain(&message)) {
            Ok(credentials) => self.authenticate(credentials),
            Err(SaslError::Cancelled) => self.reply(replies::auth_cancelled()),
            Err(SaslError::BadBase64) => self.reply(replies::auth_bad_base64()),
            Err(_) => self.reply(replies::auth_malformed()),
        }
    }

    fn authenticate(&mut self, credentials: Credentials) {
        let username = credentials.username.clone();
        self.ask(Action::Authenticate(credentials), Pending::Auth { username });
    }

    /// The driver's answer to [`Action::Authenticate`]: the user as the driver names it (the
    /// session then asks for [`Action::OpenMailbox`]), or a failure: `-ERR [AUTH]`
    /// ([`AuthFailure::Bad`]), `-ERR [AUTH]` and close ([`AuthFailure::Banned`]),
    /// `-ERR [SYS/TEMP]` ([`AuthFailure::TempFail`]).
    pub fn auth_result(&mut self, result: Result<String, AuthFailure>) -> Result<(), UnexpectedAnswer> {
        let username = self.answer("auth_result", |pending| match pending {
            Pending::Auth { username } => Ok(username),
            other => Err(other),
        })?;
        match result {
            Ok(user) => self.ask(Action::OpenMailbox(user.clone()), Pending::Mailbox { user }),
            Err(AuthFailure::Bad) => self.reply(replies::auth_failed(&username)),
            Err(AuthFailure::Banned) => {
                self.reply(replies::auth_banned());
                self.close();
            }
            Err(AuthFailure::TempFail) => self.reply(replies::auth_temporary_failure()),
        }
        self.process();
        Ok(())
    }

    /// The driver's answer to [`Action::OpenMailbox`]: the messages in order (message number 1
    /// is the first), or a failure: `-ERR [IN-USE]` ([`MailboxFailure::InUse`]), `-ERR [SYS/TEMP]`
    /// ([`MailboxFailure::TempFail`]); the session is then back at the start of AUTHORIZATION.
    pub fn mailbox_opened(
        &mut self,
        result: Result<Vec<MailboxEntry>, MailboxFailure>,
    ) -> Result<(), UnexpectedAnswer> {
        let user = self.answer("mailbox_opened", |pending| match pending {
            Pending::Mailbox { user } => Ok(user),
            other => Err(other),
        })?;
        match result {
            Ok(entries) => {
                self.state = State::Transaction { user, maildrop: Maildrop::new(entries) };
                self.reply(replies::logged_in());
            }
            Err(MailboxFailure::InUse) => self.reply(replies::mailbox_in_use()),
            Err(MailboxFailure::TempFail) => self.reply(replies::mailbox_unavailable()),
        }
        self.process();
        Ok(())
    }
}
