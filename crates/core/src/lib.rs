//! Plain types shared by every part of Altimail Server: hMailServer's numeric codes and bit masks
//! ([`codes`]), addresses ([`address`]), its IP-address columns ([`ip`]), account passwords
//! ([`password`]) and the reversible Blowfish it uses for stored credentials ([`blowfish`]); and
//! the protocol pieces the SMTP, POP3 and IMAP sessions share: input line framing ([`lines`]),
//! SASL response decoding ([`sasl`]) and log-safe client lines ([`redact`]); hMailServer's
//! `*`/`?` wildcards ([`wildcard`]).
//!
//! Nothing here does I/O.
//!
//! ```
//! use altimail_core::password::{hash, verify, PasswordScheme};
//! let stored = hash(PasswordScheme::Sha256, "secret");
//! assert!(verify(PasswordScheme::Sha256.code(), &stored, "secret"));
//! ```

pub mod address;
pub mod blowfish;
pub mod codes;
pub mod ip;
pub mod lines;
pub mod password;
pub mod redact;
pub mod sasl;
pub mod stats;
pub mod time;
pub mod wildcard;
