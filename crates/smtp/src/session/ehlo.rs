//! EHLO and HELO (RFC 5321 §4.1.1.1) and the extensions advertised.
//!
//! EHLO answers with the host name and one keyword per line: PIPELINING (RFC 2920), SIZE
//! (RFC 1870; bare when unlimited), 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034),
//! SMTPUTF8 (RFC 6531), CHUNKING (RFC 3030), DSN (RFC 3461), STARTTLS (RFC 3207, only where
//! offered and not yet active), AUTH (RFC 4954, only when allowed right now) and HELP. HELO gets
//! the host name alone. Both reset a transaction in progress (RFC 5321 §4.1.4).

use super::{Action, Helo, Pending, PortSecurity, Session, UnexpectedAnswer, replies};
use crate::proto::Mechanism;

impl Session {
    pub(super) fn handle_ehlo(&mut self, name: String, esmtp: bool) {
        self.drop_transaction();
        if self.config.check_helo {
            return self.ask(Action::CheckHelo { name: name.clone(), esmtp }, Pending::Helo(name, esmtp));
        }
        self.greet(name, esmtp);
    }

    /// The driver's answer to [`Action::CheckHelo`]: the greeting, or `reply` (the command is
    /// refused and the session goes on, as hMailServer does for OnHELO's Result).
    pub fn helo_checked(&mut self, result: Result<(), crate::proto::Reply>) -> Result<(), UnexpectedAnswer> {
        let (name, esmtp) = self.answer("helo_checked", |pending| match pending {
            Pending::Helo(name, esmtp) => Ok((name, esmtp)),
            other => Err(other),
        })?;
        match result {
            Ok(()) => self.greet(name, esmtp),
            Err(reply) => self.reply(reply),
        }
        self.process();
        Ok(())
    }

    fn greet(&mut self, name: String, esmtp: bool) {
        self.helo = Some(Helo { name, esmtp });
        let reply = if esmtp { replies::ehlo(self.ehlo_lines()) } else { replies::helo(&self.config) };
        self.reply(reply);
    }

    fn ehlo_lines(&self) -> Vec<String> {
        let mut lines = vec![self.config.hostname.clone(), "PIPELINING".to_owned()];
        lines.push(match self.config.max_message_size {
            0 => "SIZE".to_owned(),
            max => format!("SIZE {max}"),
        });
        lines.extend(["8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "DSN"].map(str::to_owned));
        if self.is_starttls_offered() {
            lines.push("STARTTLS".to_owned());
        }
        let mechanisms = self.auth_mechanisms();
        if !mechanisms.is_empty() {
            let names: Vec<&str> = mechanisms.iter().map(|m| m.as_str()).collect();
            lines.push(format!("AUTH {}", names.join(" ")));
        }
        lines.push("HELP".to_owned());
        lines
    }

    pub(super) fn is_starttls_offered(&self) -> bool {
        self.tls.is_none()
            && matches!(self.config.security, PortSecurity::StartTlsOptional | PortSecurity::StartTlsRequired)
    }

    /// Whether AUTH may be used right now, and why not.
    pub(super) fn auth_blocked(&self) -> Option<AuthBlock> {
        if !self.config.auth_enabled {
            Some(AuthBlock::Disabled)
        } else if self.is_tls_missing() {
            Some(AuthBlock::StartTlsFirst)
        } else if self.config.auth_requires_tls && self.tls.is_none() {
            Some(AuthBlock::NeedsTls)
        } else {
            None
        }
    }

    /// The mechanisms offered right now: PLAIN (with TLS, or when plain text is allowed), LOGIN
    /// and CRAM-MD5 (when the driver gave a challenge), or none when AUTH is not allowed now.
    pub(super) fn auth_mechanisms(&self) -> Vec<Mechanism> {
        if self.auth_blocked().is_some() {
            return Vec::new();
        }
        let mut mechanisms = Vec::with_capacity(3);
        if self.tls.is_some() || self.config.allow_plain_without_tls {
            mechanisms.push(Mechanism::Plain);
        }
        mechanisms.push(Mechanism::Login);
        if self.config.cram_md5_challenge.is_some() {
            mechanisms.push(Mechanism::CramMd5);
        }
        mechanisms
    }
}

/// Why AUTH is refused before looking at the mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AuthBlock {
    /// Not offered on this port.
    Disabled,
    /// A STARTTLS-required port before TLS.
    StartTlsFirst,
    /// The IP range requires TLS for AUTH.
    NeedsTls,
}
