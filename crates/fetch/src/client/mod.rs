//! A POP3 client (RFC 1939, CAPA from RFC 2449, STLS from RFC 2595, AUTH PLAIN from RFC 5034).
//!
//! - [`proto`]: sans-IO — commands as bytes, the [`proto::Decoder`] that splits the server's
//!   byte stream into status lines and dot-unstuffed bodies, UIDL and CAPA parsing.
//! - [`session`]: sans-IO — the download dialogue as a state machine (greeting, STLS,
//!   USER/PASS, UIDL, RETR/DELE per a plan, QUIT), driven by inputs and giving actions.
//! - [`conn`]: the tokio driver, plain or TLS, logging `POP3C` lines.

pub mod conn;
pub mod proto;
pub mod session;

pub use conn::{ClientError, Connection};
pub use proto::{Command, Status, UidlEntry};
