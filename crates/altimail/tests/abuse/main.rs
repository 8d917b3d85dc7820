//! Abuse: what hostile or broken clients send, over real sockets, against a running server.
//!
//! Each test starts its own `altimail serve` on a scratch SQLite database and asserts that the
//! process stays up, that the offending session gets a protocol answer (or is closed where the
//! protocol has none), that a normal SMTP send, IMAP LOGIN and POP3 logon work right after, and,
//! where stated, that the server's resident memory stays under a bound.
//!
//! The server is the binary named by `ALTIMAIL_BIN` (`.ci/run` sets it to the release build,
//! whose memory and timing are the ones that matter), or else the debug build of this package,
//! so a plain `cargo test` works too. Tests that must wait for the server's minute-long
//! deadlines are `#[ignore]`d; `.ci/run` runs them with `--include-ignored`.

#[path = "../common/mod.rs"]
mod common;
mod support;

mod antispam;
mod imap_input;
mod large_bodies;
mod logon_memory;
mod nested_mime;
mod slow_clients;
mod submission;
mod write_timeout;
