//! CAPA (RFC 2449 §5): what this server offers, now.
//!
//! hMailServer lists `USER`, `UIDL` and `TOP` (and `STLS` on STARTTLS ports); we add the RFC 2449
//! capabilities we implement: `RESP-CODES` and `AUTH-RESP-CODE` (the codes in `-ERR [..]`),
//! `PIPELINING`, `SASL PLAIN` and `IMPLEMENTATION`. The list follows the state: logon
//! capabilities (`USER`, `SASL`, `STLS`) only in AUTHORIZATION, and `USER` and `SASL` only when
//! a logon would not be refused for want of TLS, so a client never tries to send its password in
//! the clear (RFC 2595 §4). A client must ask again after STLS.

use super::auth::SASL_MECHANISMS;
use super::{Session, State, replies};

/// The `IMPLEMENTATION` capability's argument.
const IMPLEMENTATION: &str = "Altimail";

impl Session {
    pub(super) fn handle_capa(&mut self) {
        let authorization = matches!(self.state, State::Authorization { .. });
        let logon = authorization && self.logon_refusal().is_none();
        let mut lines = vec!["TOP".to_owned()];
        if logon {
            lines.push("USER".to_owned());
            lines.push(format!("SASL {}", SASL_MECHANISMS.join(" ")));
        }
        if authorization && self.is_stls_offered() {
            lines.push("STLS".to_owned());
        }
        for fixed in ["UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"] {
            lines.push(fixed.to_owned());
        }
        lines.push(format!("IMPLEMENTATION {IMPLEMENTATION}"));
        self.reply(replies::capabilities(lines));
    }
}
