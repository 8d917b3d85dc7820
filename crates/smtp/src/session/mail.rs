//! MAIL FROM (RFC 5321 §4.1.1.2).
//!
//! The session checks what needs no outside knowledge: sequence, `BODY=BINARYMIME` (not
//! advertised), a declared `SIZE=` over the limit (`552 5.3.4` at once, RFC 1870 §6), the null
//! sender setting, SMTPUTF8 for non-ASCII addresses (RFC 6531 §3.5) and qualification with the
//! default domain. Everything else is the driver's, through [`Action::CheckSender`].

use super::{Action, Pending, Session, Transaction, UnexpectedAnswer, replies};
use crate::proto::{BodyType, Domain, MailParams, Mailbox, Reply, ReversePath};

impl Session {
    pub(super) fn handle_mail(&mut self, from: ReversePath, params: MailParams) {
        if self.tx.is_some() {
            return self.reply(replies::sender_already_given());
        }
        self.sender_size_cap = None;
        if params.body == Some(BodyType::BinaryMime) {
            return self.reply(replies::binarymime_unsupported());
        }
        let cap = self.config.size_cap();
        if let Some(size) = params.size.filter(|&size| size > cap) {
            return self.reply(replies::message_too_big(size, cap));
        }
        let sender = match from {
            ReversePath::Null if !self.config.allow_null_sender => return self.reply(replies::null_sender_refused()),
            ReversePath::Null => ReversePath::Null,
            ReversePath::Mailbox(mailbox) => {
                if !mailbox.is_ascii() && !params.smtputf8 {
                    return self.reply(replies::non_ascii_address());
                }
                match self.qualify(mailbox, false) {
                    Some(mailbox) => ReversePath::Mailbox(mailbox),
                    None => return self.reply(replies::unqualified_sender()),
                }
            }
        };
        let pending = Pending::Sender(sender.clone(), params.clone());
        self.ask(Action::CheckSender { sender, params }, pending);
    }

    /// Adds the default domain to an unqualified address; `postmaster` (RFC 5321 §4.5.1) falls
    /// back to the host name when there is no default domain. `None` when it cannot be qualified.
    pub(super) fn qualify(&self, mailbox: Mailbox, is_recipient: bool) -> Option<Mailbox> {
        if mailbox.is_qualified() {
            return Some(mailbox);
        }
        let default = self.config.default_domain.as_deref().filter(|d| !d.is_empty());
        let postmaster = is_recipient && mailbox.local().eq_ignore_ascii_case("postmaster");
        let domain = default.or(postmaster.then_some(self.config.hostname.as_str()))?;
        Domain::parse(domain).ok().map(|domain| mailbox.qualified_with(domain))
    }

    /// The driver's answer to [`Action::CheckSender`]: `Ok(())` opens the transaction
    /// (`250 2.1.0`); `Err(reply)` refuses the sender with that reply (e.g.
    /// [`replies::credentials_no_longer_valid`]).
    pub fn sender_checked(&mut self, result: Result<(), Reply>) -> Result<(), UnexpectedAnswer> {
        let (sender, params) = self.answer("sender_checked", |pending| match pending {
            Pending::Sender(sender, params) => Ok((sender, params)),
            other => Err(other),
        })?;
        match result {
            Ok(()) => {
                let cap = self.sender_size_cap.take().map_or(self.config.size_cap(), |c| c.min(self.config.size_cap()));
                match params.size.filter(|&size| size > cap) {
                    Some(size) => self.reply(replies::message_too_big(size, cap)),
                    None => {
                        self.tx = Some(Transaction::new(sender, params, cap));
                        self.reply(replies::sender_ok());
                    }
                }
            }
            Err(reply) => self.reply(reply),
        }
        self.process();
        Ok(())
    }
}
