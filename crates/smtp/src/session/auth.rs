//! AUTH (RFC 4954) with PLAIN (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195).
//!
//! Refusals before any exchange: AUTH not enabled on the port (`502`), a STARTTLS-required port
//! before TLS (`530`), an IP range that requires TLS for AUTH (`538 5.7.11`), a second AUTH
//! (`503`), AUTH inside a transaction (`503`), a mechanism not offered now (`504`; PLAIN without
//! TLS when plain text is not allowed gets `538`). An exchange is a 334 challenge per missing
//! piece; `*` cancels it (`501`), bad base64 gets `501`. The credentials go to the driver as
//! [`Action::Authenticate`] and never anywhere else.
//!
//! CRAM-MD5 is offered when the driver put a challenge in
//! [`SessionConfig::cram_md5_challenge`](super::SessionConfig::cram_md5_challenge): `334` carries
//! it base64-encoded, the client answers `username SP hex-digest` and the driver gets the digest
//! with the challenge in [`Credentials`]. The mechanism has no initial response, so
//! `AUTH CRAM-MD5 <anything>` is refused with `501` (RFC 4954 §4).

use super::ehlo::AuthBlock;
use super::{Action, AuthFailure, Pending, Phase, Session, UnexpectedAnswer, replies};
use crate::proto::{Credentials, Mechanism, SaslError, Secret, decode_login_field, decode_plain, decode_response};

/// Where an AUTH exchange stands: the client's next line answers this challenge.
#[derive(Debug)]
pub(crate) enum SaslStep {
    /// PLAIN without initial response: the whole message.
    PlainMessage,
    /// LOGIN: the user name.
    LoginUser,
    /// LOGIN: the password for this user.
    LoginPassword(String),
    /// CRAM-MD5: the answer to this challenge.
    CramMd5(String),
}

/// LOGIN's first challenge.
const USERNAME_PROMPT: &[u8] = b"Username:";
/// LOGIN's second challenge.
const PASSWORD_PROMPT: &[u8] = b"Password:";

impl Session {
    pub(super) fn handle_auth(&mut self, mechanism: &str, initial_response: Option<&str>) {
        match self.auth_blocked() {
            Some(AuthBlock::Disabled) => return self.reply(replies::auth_not_enabled()),
            Some(AuthBlock::StartTlsFirst) => return self.reply(replies::must_start_tls()),
            Some(AuthBlock::NeedsTls) => return self.reply(replies::auth_needs_tls()),
            None => {}
        }
        if self.user.is_some() {
            return self.reply(replies::already_authenticated());
        }
        if self.tx.is_some() {
            return self.reply(replies::auth_in_transaction());
        }
        let offered = self.auth_mechanisms();
        let mechanism = match Mechanism::parse(mechanism) {
            Some(mechanism) if offered.contains(&mechanism) => mechanism,
            Some(Mechanism::Plain) => return self.reply(replies::auth_needs_tls()),
            _ => return self.reply(replies::auth_mechanism_unsupported()),
        };
        match (mechanism, initial_response) {
            (Mechanism::Plain, None) => self.challenge(b"", SaslStep::PlainMessage),
            (Mechanism::Plain, Some(response)) => self.sasl_response(SaslStep::PlainMessage, response),
            (Mechanism::Login, None) => self.challenge(USERNAME_PROMPT, SaslStep::LoginUser),
            (Mechanism::Login, Some(response)) => self.sasl_response(SaslStep::LoginUser, response),
            (Mechanism::CramMd5, None) => {
                // Offered only with a challenge, so there is one.
                let challenge = self.config.cram_md5_challenge.clone().unwrap_or_default();
                self.challenge(challenge.as_bytes(), SaslStep::CramMd5(challenge.clone()));
            }
            (Mechanism::CramMd5, Some(_)) => self.reply(replies::auth_initial_response_not_allowed()),
        }
    }

    /// A line inside an AUTH exchange.
    pub(super) fn handle_sasl_line(&mut self, line: &[u8]) {
        let Phase::Sasl(step) = std::mem::replace(&mut self.phase, Phase::Command) else { return };
        match std::str::from_utf8(line) {
            Ok(response) => self.sasl_response(step, response),
            Err(_) => self.reply(replies::auth_bad_base64()),
        }
    }

    fn challenge(&mut self, challenge: &[u8], step: SaslStep) {
        self.reply(replies::auth_challenge(challenge));
        self.phase = Phase::Sasl(step);
    }

    fn sasl_response(&mut self, step: SaslStep, response: &str) {
        let outcome = match step {
            SaslStep::PlainMessage => decode_response(response).and_then(|message| decode_plain(&message)).map(Some),
            SaslStep::LoginUser => decode_login_field(response).map(|user| {
                self.challenge(PASSWORD_PROMPT, SaslStep::LoginPassword(user));
                None
            }),
            SaslStep::LoginPassword(username) => decode_login_field(response).map(|password| {
                Some(Credentials {
                    mechanism: Mechanism::Login,
                    authzid: None,
                    username,
                    password: Secret::new(password),
                    challenge: None,
                })
            }),
            SaslStep::CramMd5(challenge) => Credentials::decode_cram_md5(response, &challenge).map(Some),
        };
        match outcome {
            Ok(Some(credentials)) => self.ask(Action::Authenticate(credentials), Pending::Auth),
            Ok(None) => {}
            Err(SaslError::Cancelled) => self.reply(replies::auth_cancelled()),
            Err(SaslError::BadBase64) => self.reply(replies::auth_bad_base64()),
            Err(_) => self.reply(replies::auth_malformed()),
        }
    }

    /// The driver's answer to [`Action::Authenticate`]: the user name to record (as the driver
    /// canonicalises it) and `235`, or a failure: `535` ([`AuthFailure::Bad`]), `535` and close
    /// ([`AuthFailure::Banned`]), `454` ([`AuthFailure::TempFail`]).
    pub fn auth_result(&mut self, result: Result<String, AuthFailure>) -> Result<(), UnexpectedAnswer> {
        self.answer("auth_result", |pending| match pending {
            Pending::Auth => Ok(()),
            other => Err(other),
        })?;
        match result {
            Ok(user) => {
                self.user = Some(user);
                self.reply(replies::auth_succeeded());
            }
            Err(AuthFailure::Bad) => self.reply(replies::auth_failed()),
            Err(AuthFailure::Banned) => {
                self.reply(replies::auth_banned());
                self.close();
            }
            Err(AuthFailure::TempFail) => self.reply(replies::auth_temporary_failure()),
        }
        self.process();
        Ok(())
    }
}
