//! RETR and TOP (RFC 1939 §7): the driver opens the message, then streams it through the
//! [`BodyEncoder`](crate::proto::BodyEncoder) the session hands it.
//!
//! The status line is only sent once the message could be opened, so a missing file gets a
//! clean `-ERR [SYS/PERM]` and the session goes on. RETR does not set `\Seen`, as in
//! hMailServer.

use super::transaction::unavailable;
use super::{Action, MessageFailure, Pending, Session, UnexpectedAnswer, replies};
use crate::proto::BodyEncoder;

impl Session {
    /// RETR (`lines` is `None`) or TOP.
    pub(super) fn handle_retrieve(&mut self, number: u32, lines: Option<u32>) {
        let Some(drop) = self.maildrop() else { return self.reply(replies::wrong_state()) };
        let entry = match drop.get(number) {
            Ok(entry) => entry.clone(),
            Err(why) => return self.reply(unavailable(number, why)),
        };
        let (status, encoder) = match lines {
            None => (replies::retrieving(entry.size), BodyEncoder::whole()),
            Some(lines) => (replies::top(), BodyEncoder::top(lines)),
        };
        self.ask(Action::OpenMessage(entry), Pending::Message { status, encoder });
    }

    /// The driver's answer to [`Action::OpenMessage`]: on success the status line and
    /// [`Action::SendMessage`] follow; on failure `-ERR [SYS/PERM]` ([`MessageFailure::Missing`])
    /// or `-ERR [SYS/TEMP]` ([`MessageFailure::TempFail`]).
    pub fn message_opened(&mut self, result: Result<(), MessageFailure>) -> Result<(), UnexpectedAnswer> {
        let (status, encoder) = self.answer("message_opened", |pending| match pending {
            Pending::Message { status, encoder } => Ok((status, encoder)),
            other => Err(other),
        })?;
        match result {
            Ok(()) => {
                self.reply(status);
                self.push(Action::SendMessage(encoder));
            }
            Err(MessageFailure::Missing) => self.reply(replies::message_missing()),
            Err(MessageFailure::TempFail) => self.reply(replies::message_unavailable()),
        }
        self.process();
        Ok(())
    }
}
