//! ETRN (RFC 1985): ask the server to start delivering the messages held for a node.
//!
//! hMailServer holds messages for routes whose description starts with "ETRN"; which node maps
//! to which route, and the reply, are the driver's (`replies::etrn_started`,
//! `replies::etrn_not_allowed`, `replies::etrn_unavailable`).

use super::{Action, Pending, Session, UnexpectedAnswer};
use crate::proto::Reply;

impl Session {
    pub(super) fn handle_etrn(&mut self, node: String) {
        self.ask(Action::Etrn(node), Pending::Etrn);
    }

    /// The driver's answer to [`Action::Etrn`]: the reply to send.
    pub fn etrn_result(&mut self, reply: Reply) -> Result<(), UnexpectedAnswer> {
        self.answer("etrn_result", |pending| match pending {
            Pending::Etrn => Ok(()),
            other => Err(other),
        })?;
        self.reply(reply);
        self.process();
        Ok(())
    }
}
