//! STAT, LIST, UIDL, DELE and RSET (RFC 1939 §5, §7): answered from the maildrop alone.
//!
//! A message marked with DELE no longer exists for the client until RSET: it is left out of
//! listings, and naming it is an error.

use super::maildrop::Unavailable;
use super::{Session, replies};

impl Session {
    pub(super) fn handle_stat(&mut self) {
        let Some(drop) = self.maildrop() else { return self.reply(replies::wrong_state()) };
        let (count, octets) = drop.totals();
        self.reply(replies::stat(count, octets));
    }

    pub(super) fn handle_list(&mut self, number: Option<u32>) {
        let Some(drop) = self.maildrop() else { return self.reply(replies::wrong_state()) };
        let response = match number {
            None => {
                let (count, octets) = drop.totals();
                let lines = drop.visible().map(|(n, entry)| format!("{n} {}", entry.size)).collect();
                replies::list_all(count, octets, lines)
            }
            Some(n) => match drop.get(n) {
                Ok(entry) => replies::list_one(n, entry.size),
                Err(why) => unavailable(n, why),
            },
        };
        self.reply(response);
    }

    pub(super) fn handle_uidl(&mut self, number: Option<u32>) {
        let Some(drop) = self.maildrop() else { return self.reply(replies::wrong_state()) };
        let response = match number {
            None => {
                let (count, octets) = drop.totals();
                let lines = drop.visible().map(|(n, entry)| format!("{n} {}", entry.uid)).collect();
                replies::uidl_all(count, octets, lines)
            }
            Some(n) => match drop.get(n) {
                Ok(entry) => replies::uidl_one(n, &entry.uid),
                Err(why) => unavailable(n, why),
            },
        };
        self.reply(response);
    }

    pub(super) fn handle_dele(&mut self, number: u32) {
        let Some(drop) = self.maildrop() else { return self.reply(replies::wrong_state()) };
        let response = match drop.delete(number) {
            Ok(()) => replies::deleted(),
            Err(why) => unavailable(number, why),
        };
        self.reply(response);
    }

    pub(super) fn handle_rset(&mut self) {
        let Some(drop) = self.maildrop() else { return self.reply(replies::wrong_state()) };
        drop.reset();
        let (count, octets) = drop.totals();
        self.reply(replies::reset(count, octets));
    }
}

/// The error for a message number that names nothing usable.
pub(super) fn unavailable(number: u32, why: Unavailable) -> crate::proto::Response {
    match why {
        Unavailable::NoSuchMessage => replies::no_such_message(),
        Unavailable::Deleted => replies::already_deleted(number),
    }
}
