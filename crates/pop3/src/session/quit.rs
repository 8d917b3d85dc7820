//! QUIT and the UPDATE state (RFC 1939 §6).
//!
//! QUIT in AUTHORIZATION just says goodbye. QUIT in TRANSACTION asks the driver to delete the
//! marked messages as one operation ([`Action::Commit`]) and says goodbye once that is done; if
//! it fails, `-ERR [SYS/TEMP]` says so. Either way the connection closes. Without QUIT nothing
//! is deleted.

use super::{Action, CommitFailed, Pending, Session, State, UnexpectedAnswer, replies};

impl Session {
    pub(super) fn handle_quit(&mut self) {
        let marked = match &self.state {
            State::Transaction { maildrop, .. } => maildrop.marked(),
            State::Authorization { .. } => Vec::new(),
        };
        if marked.is_empty() {
            self.reply(replies::goodbye());
            return self.close();
        }
        self.ask(Action::Commit(marked), Pending::Commit);
    }

    /// The driver's answer to [`Action::Commit`]: `+OK` goodbye, or `-ERR [SYS/TEMP]`; then
    /// [`Action::Close`].
    pub fn committed(&mut self, result: Result<(), CommitFailed>) -> Result<(), UnexpectedAnswer> {
        self.answer("committed", |pending| match pending {
            Pending::Commit => Ok(()),
            other => Err(other),
        })?;
        self.reply(match result {
            Ok(()) => replies::goodbye(),
            Err(CommitFailed) => replies::commit_failed(),
        });
        self.close();
        Ok(())
    }
}
