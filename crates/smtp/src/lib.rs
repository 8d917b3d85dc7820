//! SMTP for Altimail Server.
//!
//! - `proto`: the sans-IO wire protocol — command parsing, replies, DATA and BDAT receivers.
//! - `session`: the sans-IO server session state machine; bytes in, actions out.
//! - `server`: the tokio driver: sockets, TLS, database decisions, the spool.

pub mod proto;
pub mod server;
pub mod session;
