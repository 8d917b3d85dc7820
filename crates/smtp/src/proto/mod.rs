//! The SMTP wire protocol, sans-IO: command lines in, parsed [`Command`]s out; [`Reply`] values
//! in, wire bytes out; and the two body receivers, [`DataReceiver`] for DATA (dot-unstuffing,
//! smuggling-safe end detection) and [`BdatReceiver`] for BDAT chunks.
//!
//! Nothing here knows about session state or reply codes: errors are values ([`CommandError`],
//! [`PathError`], [`ParamError`], [`SaslError`]) that `crate::session` maps to replies.
//!
//! ```
//! use altimail_smtp::proto::{Command, parse_command, Reply};
//!
//! let command = parse_command(b"MAIL FROM:<a@example.com> SIZE=1000")?;
//! let Command::Mail { from, params } = command else { unreachable!() };
//! assert_eq!(from.to_string(), "a@example.com");
//! assert_eq!(params.size, Some(1000));
//! assert_eq!(Reply::new(250, Some((2, 1, 0)), "OK").to_bytes(), b"250 2.1.0 OK\r\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Layout: `command` (the verbs and their arguments), `path` (RFC 5321 paths), `params`
//! (ESMTP parameters), `xtext`, `sasl` (AUTH PLAIN, LOGIN and CRAM-MD5), `reply`, `data` and `bdat`
//! (body receivers), `redact` (log-safe client lines), `error`.

#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod bdat;
mod command;
mod data;
mod error;
mod params;
mod path;
mod redact;
mod reply;
mod sasl;
mod xtext;

pub use bdat::{BdatReceiver, BdatStatus};
pub use command::{Command, parse_command};
pub use data::{DataFlaws, DataReceiver, DataStatus};
pub use error::{CommandError, Verb};
pub use params::{
    BodyType, MAX_ENVID_LENGTH, MAX_ORCPT_LENGTH, MailAuth, MailParams, Notify, Orcpt, ParamError, RcptParams, Ret,
};
pub use path::{
    Domain, MAX_DOMAIN_LENGTH, MAX_LABEL_LENGTH, MAX_LOCAL_PART_LENGTH, MAX_PATH_LENGTH, Mailbox, PathError,
    ReversePath, parse_forward_path, parse_reverse_path,
};
pub use redact::{MAX_LOGGED_LINE, REDACTED, log_safe_command, log_safe_sasl_response};
pub use reply::{EnhancedCode, Reply};
pub use sasl::{
    Credentials, Mechanism, SaslError, Secret, decode_login_field, decode_plain, decode_response, encode_challenge,
};
pub use xtext::{decode_xtext, encode_xtext};
