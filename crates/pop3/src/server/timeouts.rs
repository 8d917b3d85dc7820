//! The time limits of a POP3 connection, so that no client can hold a session (and its
//! buffers, and before logon a connection slot) for ever, however slowly it sends or however
//! little it reads.
//!
//! Reads run under [`altimail_net::deadline::ReadClock`]: the idle limit (RFC 1939 §3: an
//! autologout timer of at least 10 minutes), a limit on each command line from its first octet
//! (trickled octets never extend it), and a logon limit from connect until the logon succeeds.
//! Every write runs under [`Pop3Limits::write`].

use std::time::Duration;

use altimail_net::deadline::ReadLimits;

/// The time limits of one POP3 connection; [`Pop3Limits::default`] is what the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pop3Limits {
    /// How long the client may send nothing.
    pub idle: Duration,
    /// How long one command line may take to arrive, from its first octet.
    pub command: Duration,
    /// How long the client has from connect to a successful logon.
    pub logon: Duration,
    /// How long one write may wait for the client to read.
    pub write: Duration,
}

impl Default for Pop3Limits {
    fn default() -> Self {
        Pop3Limits {
            idle: Duration::from_secs(600),
            command: Duration::from_secs(120),
            logon: Duration::from_secs(180),
            write: Duration::from_secs(120),
        }
    }
}

impl Pop3Limits {
    /// The limits of the reads.
    pub(crate) fn reads(&self) -> ReadLimits {
        ReadLimits { idle: self.idle, command: self.command, logon: Some(self.logon) }
    }
}
