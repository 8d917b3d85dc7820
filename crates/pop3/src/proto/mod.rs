//! The POP3 wire protocol, sans-IO: command lines in, parsed [`Command`]s out; [`Response`]
//! values in, wire bytes out; and the [`BodyEncoder`] that turns a stored message into a
//! dot-stuffed multi-line response body, whole (RETR) or cut after the header and n lines (TOP).
//!
//! Nothing here knows about session state or reply texts: errors are values ([`CommandError`],
//! [`SaslError`]) that `crate::session` maps to `-ERR` lines.
//!
//! ```
//! use altimail_pop3::proto::{BodyEncoder, Command, Response, parse_command};
//!
//! assert_eq!(parse_command(b"TOP 3 10")?, Command::Top { message: 3, lines: 10 });
//! assert_eq!(Response::ok("2 320").to_bytes(), b"+OK 2 320\r\n");
//!
//! let mut wire = Vec::new();
//! let mut body = BodyEncoder::whole();
//! body.encode(b"Subject: x\r\n\r\n.hidden\r\n", &mut wire);
//! body.finish(&mut wire);
//! assert_eq!(wire, b"Subject: x\r\n\r\n..hidden\r\n.\r\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Layout: `command` (the verbs and their arguments), `error`, `response` (status lines and
//! multi-line responses, RFC 2449 response codes), `body` (message bodies), `credentials` and
//! `sasl` (USER/PASS, APOP and AUTH PLAIN), `redact` (log-safe client lines).

#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod body;
mod command;
mod credentials;
mod error;
mod redact;
mod response;
mod sasl;

pub use body::BodyEncoder;
pub use command::{Command, parse_command};
pub use credentials::{Credentials, Method, Secret};
pub use error::{CommandError, Verb};
pub use redact::{MAX_LOGGED_LINE, REDACTED, log_safe_command, log_safe_sasl_response};
pub use response::{MAX_RESPONSE_LINE, RespCode, Response, Status};
pub use sasl::{SaslError, decode_plain, decode_response};
