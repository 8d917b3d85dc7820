//! POP3 for Altimail Server: RFC 1939 with CAPA and response codes (RFC 2449, RFC 3206), STLS
//! (RFC 2595) and AUTH PLAIN (RFC 5034), on hMailServer's mailboxes.
//!
//! Three layers, each usable on its own:
//!
//! - [`proto`]: the sans-IO wire protocol. [`proto::parse_command`] turns a line into a
//!   [`proto::Command`]; a [`proto::Response`] writes itself; a [`proto::BodyEncoder`]
//!   dot-stuffs a stored message (or its TOP cut) as it streams.
//! - [`session`]: the sans-IO state machine of one connection. A [`session::Session`] takes
//!   bytes and gives [`session::Action`]s — write this, check these credentials, open the
//!   maildrop, send this message, delete these at QUIT — and never does I/O itself, so whole
//!   dialogues run in unit tests and under the fuzzer.
//! - [`server`]: the tokio driver. [`server::Pop3Server`] is the `SessionHandler` for POP3 ports:
//!   it carries out the actions on an `altimail_net::Connection` against the store, exactly as
//!   hMailServer would: INBOX only, sizes from `messagesize`, UIDL = the IMAP UID, one POP3
//!   session per mailbox, deletions only at QUIT.
//!
//! ```
//! use altimail_pop3::session::{Action, Session, SessionConfig};
//!
//! let mut session = Session::new(SessionConfig::new());
//! session.handle_input(b"CAPA\r\nQUIT\r\n");
//! let mut wire = Vec::new();
//! while let Some(action) = session.poll_action() {
//!     if let Action::Reply(response) = action {
//!         response.write_to(&mut wire);
//!     }
//! }
//! let wire = String::from_utf8(wire)?;
//! assert!(wire.starts_with("+OK POP3\r\n+OK CAPA list follows\r\nTOP\r\nUSER\r\n"));
//! assert!(wire.ends_with("+OK POP3 server saying goodbye...\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![warn(unreachable_pub)]

pub mod proto;
pub mod server;
pub mod session;
