//! RCPT TO (RFC 5321 §4.1.1.3).
//!
//! The session checks sequence, the recipient limit (`452 4.5.3`, RFC 5321 §4.5.3.1.10: the
//! client sends the rest in another transaction), SMTPUTF8 and qualification (`<postmaster>`
//! is always accepted, RFC 5321 §4.5.1). Whether the address exists or may be relayed to is the
//! driver's, through [`Action::CheckRecipient`].

use super::{Action, Pending, Recipient, Session, UnexpectedAnswer, replies};
use crate::proto::{Mailbox, RcptParams, Reply};

impl Session {
    pub(super) fn handle_rcpt(&mut self, to: Mailbox, params: RcptParams) {
        let Some(tx) = &self.tx else { return self.reply(replies::need_mail()) };
        if tx.recipients.len() >= self.config.recipient_cap() {
            return self.reply(replies::too_many_recipients());
        }
        if !to.is_ascii() && !tx.params.smtputf8 {
            return self.reply(replies::non_ascii_address());
        }
        let Some(recipient) = self.qualify(to, true) else { return self.reply(replies::unqualified_recipient()) };
        let pending = Pending::Recipient(Recipient { address: recipient.clone(), params: params.clone() });
        self.ask(Action::CheckRecipient { recipient, params }, pending);
    }

    /// The driver's answer to [`Action::CheckRecipient`]: `Ok(())` adds the recipient
    /// (`250 2.1.5`); `Err(reply)` refuses it (e.g. [`replies::unknown_user`],
    /// [`replies::relay_denied`], [`replies::greylisted`]). The transaction goes on either way.
    pub fn recipient_checked(&mut self, result: Result<(), Reply>) -> Result<(), UnexpectedAnswer> {
        let recipient = self.answer("recipient_checked", |pending| match pending {
            Pending::Recipient(recipient) => Ok(recipient),
            other => Err(other),
        })?;
        match (result, &mut self.tx) {
            (Ok(()), Some(tx)) => {
                tx.recipients.push(recipient);
                self.reply(replies::recipient_ok());
            }
            (Ok(()), None) => self.reply(replies::need_mail()),
            (Err(reply), _) => self.reply(reply),
        }
        self.process();
        Ok(())
    }
}
