//! The selected-mailbox view: the messages of the selected folder in sequence order, as this
//! session's client knows them.
//!
//! The store is the truth. The server loads a fresh snapshot of the folder before each command
//! and when the store's change bus says the folder changed, hands it to
//! [`SelectedMailbox::sync`], and lets [`SelectedMailbox::write_updates`] write the untagged
//! responses that tell the client. Pure data, no I/O:
//!
//! ```
//! use altimail_imap::mailbox::{Entry, SelectedMailbox, UpdateOptions};
//!
//! let entry = |uid| Entry { id: i64::from(uid), uid, flags: 0, keywords: Vec::new(), modseq: 1 };
//! let mut view = SelectedMailbox::new(1, vec![entry(1), entry(2)], &[], 77, 3, 1, false);
//! view.sync(vec![entry(2), entry(3)], &[3], 1, 4);
//! let mut out = Vec::new();
//! view.write_updates(&mut out, UpdateOptions { allow_expunge: true, ..UpdateOptions::default() });
//! assert_eq!(out, b"* 1 EXPUNGE\r\n* 2 EXISTS\r\n* 1 RECENT\r\n");
//! ```
//!
//! Rules it keeps:
//!
//! * Sequence numbers only change when the client is told. An expunged message keeps its place
//!   and number until an EXPUNGE (or VANISHED) may be sent, which is not during FETCH, STORE and
//!   SEARCH by sequence number (RFC 9051 §7.5.1, RFC 3501 §7.4.1). New messages are addressable
//!   only after their EXISTS.
//! * EXPUNGE lines go highest number first, so each is right when applied in order.
//! * A session's own STORE is answered by the STORE itself; [`SelectedMailbox::set_flags`]
//!   keeps the next sync from echoing it (RFC 7162 §3.2 for CONDSTORE).
//! * `\Recent` belongs to the session that first saw the message (RFC 3501 §2.3.2); the caller
//!   decides which session that is and passes the UIDs in.
//!
//! The view is stored column-wise (13 bytes per message, keywords only where present) and a
//! sync is one merge over sorted UIDs, so idle sessions on large mailboxes stay cheap.

mod entry;
mod flags;
mod resolve;
mod sync;
mod uid_set;
mod updates;
mod view;

pub use entry::{Entry, EntryRef};
pub use flags::{ANSWERED, DELETED, DRAFT, FLAGGED, SEEN, SYSTEM, apply_store, is_keyword, to_bits, write_flags};
pub use resolve::BadSet;
pub use uid_set::{runs, write_compact_set, write_runs};
pub use updates::UpdateOptions;
pub use view::SelectedMailbox;

#[cfg(test)]
mod tests;
