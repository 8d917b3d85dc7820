//! IMAP server protocol core for Altimail, sans-IO (see `STYLE.md` §2).
//!
//! Two layers, both free of sockets, tasks and clocks:
//!
//! * [`fragment::Fragmenter`] assembles raw client bytes into complete commands, handling
//!   synchronising literals `{n}` (asks the caller to send `+ `), LITERAL+ `{n+}`, LITERAL- and
//!   binary literals `~{n}`, with caller-given caps. A refused command is discarded in step with
//!   the client and reported as a [`fragment::FragmentError`] carrying the tag to answer.
//! * [`parse::parse_command`] turns one complete command into a typed [`command::Command`].
//!   Errors are values ([`error::ParseError`]) that the session answers with `BAD`.
//!
//! [`list_pattern`] matches LIST patterns; [`mutf7`] converts modified UTF-7 mailbox names (RFC 3501 §5.1.3).
//!
//! "Need more bytes" is `Ok(None)`, never an error, and no input panics.

pub mod command;
pub mod cursor;
pub mod error;
pub mod fetch;
pub mod fragment;
pub mod list_pattern;
pub mod mailbox;
pub mod message;
pub mod mutf7;
pub mod parse;
pub mod query;
pub mod search;
pub mod sequence;
pub mod wire;

pub use command::{Command, CommandBody};
pub use error::ParseError;
pub use fragment::{Fragmenter, Frame, Limits};
pub use parse::parse_command;
