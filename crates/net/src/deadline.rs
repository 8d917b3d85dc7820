//! Read and write deadlines that a slow client cannot stretch.
//!
//! A plain idle timeout restarts with every byte, so a client that trickles one byte every few
//! seconds holds its session (and its buffers) for ever. [`ReadClock`] adds two deadlines that
//! start once and only move when the session says so:
//!
//! * the **command** deadline, started by the first byte of a command (a line, a literal, a
//!   message body) and cleared when the whole command has arrived;
//! * the **logon** deadline, started at connect and cleared at logon: an unauthenticated
//!   session ends at that time whatever it is doing.
//!
//! Every read waits until the earliest of those and the idle limit; [`ReadClock::expired`]
//! says which one ran out so the session can answer with the right words. Writes get their
//! own limit through [`write_all_by`].

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// The limits a session's reads run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// How long the client may send nothing at all.
    pub idle: Duration,
    /// How long one command may take to arrive, from its first byte.
    pub command: Duration,
    /// How long the session may stay without a logon, from connect; `None` for sessions that
    /// never log on (an MX's SMTP session).
    pub logon: Option<Duration>,
}

/// Which deadline ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// The client sent nothing for the idle limit.
    Idle,
    /// A command took longer than its limit to arrive.
    Command,
    /// The session did not log on in time.
    Logon,
}

/// The deadlines of one session's reads; see the module documentation.
#[derive(Debug, Clone)]
pub struct ReadClock {
    limits: ReadLimits,
    command_by: Option<Instant>,
    logon_by: Option<Instant>,
}

impl ReadClock {
    /// Starts the clock at connect.
    pub fn new(limits: ReadLimits) -> Self {
        let logon_by = limits.logon.map(|d| Instant::now() + d);
        ReadClock { limits, command_by: None, logon_by }
    }

    /// The limits in force.
    pub fn limits(&self) -> ReadLimits {
        self.limits
    }

    /// The session logged on: the logon deadline no longer applies.
    pub fn logged_on(&mut self) {
        self.logon_by = None;
    }

    /// Input that does not yet make a whole command is pending: starts the command deadline,
    /// unless it is already running (more bytes of the same command never extend it).
    pub fn command_pending(&mut self) {
        if self.command_by.is_none() {
            self.command_by = Some(Instant::now() + self.limits.command);
        }
    }

    /// Starts the command deadline with an explicit allowance (a message body, whose size
    /// decides how long it may take), replacing any running one.
    pub fn command_pending_for(&mut self, allowance: Duration) {
        self.command_by = Some(Instant::now() + allowance);
    }

    /// The whole command has arrived.
    pub fn command_done(&mut self) {
        self.command_by = None;
    }

    /// Whether a command deadline is running.
    pub fn in_command(&self) -> bool {
        self.command_by.is_some()
    }

    /// When the next read must have returned.
    pub fn read_deadline(&self) -> Instant {
        let mut by = Instant::now() + self.limits.idle;
        for d in [self.command_by, self.logon_by].into_iter().flatten() {
            by = by.min(d);
        }
        by
    }

    /// Which deadline has run out at `now` (the logon deadline first, then the command's,
    /// else idle: a read that timed out without either having passed was idle).
    pub fn expired(&self, now: Instant) -> Expired {
        if self.logon_by.is_some_and(|d| d <= now) {
            Expired::Logon
        } else if self.command_by.is_some_and(|d| d <= now) {
            Expired::Command
        } else {
            Expired::Idle
        }
    }

    /// Reads into `buf` until the current deadline; `Err(expired)` when it ran out first.
    pub async fn read<R: AsyncRead + Unpin>(
        &self,
        stream: &mut R,
        buf: &mut [u8],
    ) -> Result<io::Result<usize>, Expired> {
        match tokio::time::timeout_at(self.read_deadline(), stream.read(buf)).await {
            Ok(read) => Ok(read),
            Err(_) => Err(self.expired(Instant::now())),
        }
    }
}

/// Writes all of `data` within `limit`: a client that stops reading cannot hold the session's
/// task (and its output buffer) for ever. A timeout is an [`io::ErrorKind::TimedOut`] error.
pub async fn write_all_by<W: AsyncWrite + Unpin>(stream: &mut W, data: &[u8], limit: Duration) -> io::Result<()> {
    match tokio::time::timeout(limit, stream.write_all(data)).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ReadLimits = ReadLimits {
        idle: Duration::from_secs(300),
        command: Duration::from_secs(60),
        logon: Some(Duration::from_secs(120)),
    };

    #[tokio::test(start_paused = true)]
    async fn trickled_bytes_do_not_extend_a_command() {
        let mut clock = ReadClock::new(ReadLimits { logon: None, ..LIMITS });
        clock.command_pending();
        let first = clock.read_deadline();
        tokio::time::advance(Duration::from_secs(30)).await;
        clock.command_pending();
        assert_eq!(clock.read_deadline(), first);
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(clock.expired(Instant::now()), Expired::Command);
        clock.command_done();
        assert_eq!(clock.read_deadline(), Instant::now() + LIMITS.idle);
    }

    #[tokio::test(start_paused = true)]
    async fn logon_deadline_holds_until_logon() {
        let mut clock = ReadClock::new(LIMITS);
        tokio::time::advance(Duration::from_secs(119)).await;
        assert_eq!(clock.read_deadline(), Instant::now() + Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(clock.expired(Instant::now()), Expired::Logon);
        clock.logged_on();
        assert_eq!(clock.expired(Instant::now()), Expired::Idle);
    }

    #[tokio::test(start_paused = true)]
    async fn read_reports_which_deadline_ran_out() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let mut clock = ReadClock::new(ReadLimits { logon: None, ..LIMITS });
        clock.command_pending();
        let mut buf = [0u8; 8];
        assert_eq!(clock.read(&mut server, &mut buf).await.unwrap_err(), Expired::Command);
        client.write_all(b"x").await.unwrap();
        clock.command_done();
        assert_eq!(clock.read(&mut server, &mut buf).await.unwrap().unwrap(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_never_reads_times_the_write_out() {
        let (_client, mut server) = tokio::io::duplex(16);
        let err = write_all_by(&mut server, &[0u8; 1024], Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }
}
