//! The time limits of an SMTP connection, so that no client can hold a session (and its
//! buffers) for ever, however slowly it sends or however little it reads.
//!
//! Reads run under [`altimail_net::deadline::ReadClock`]: the idle limit between commands
//! (RFC 5321 §4.5.3.2 suggests 5 minutes), a limit on each command line from its first octet
//! (trickled octets never extend it), and for a DATA body or a BDAT chunk a limit that grows
//! with what has arrived: [`SmtpLimits::body_base`] plus the time the octets so far would take
//! at [`SmtpLimits::body_rate`] (RFC 5321 §4.5.3.2.6 gives 10 minutes for the end of data; a
//! client that keeps sending at a real rate gets all the time its message needs, one that
//! trickles does not). Every write runs under [`SmtpLimits::write`].

use std::time::Duration;

use altimail_net::deadline::{ReadClock, ReadLimits};
use tokio::time::Instant;

use crate::session::Reading;

/// The time limits of one SMTP connection; [`SmtpLimits::default`] is what the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmtpLimits {
    /// How long the client may send nothing between commands.
    pub idle: Duration,
    /// How long one command line may take to arrive, from its first octet.
    pub command: Duration,
    /// The time a body (DATA, or one BDAT chunk) gets whatever its size.
    pub body_base: Duration,
    /// The slowest rate, in octets per second, at which a body earns more time.
    pub body_rate: u64,
    /// How long one write may wait for the client to read.
    pub write: Duration,
}

impl Default for SmtpLimits {
    fn default() -> Self {
        SmtpLimits {
            idle: Duration::from_secs(300),
            command: Duration::from_secs(120),
            body_base: Duration::from_secs(600),
            body_rate: 1024,
            write: Duration::from_secs(120),
        }
    }
}

/// The read deadlines of one connection, kept in step with what the session is reading.
#[derive(Debug)]
pub(crate) struct Deadlines {
    clock: ReadClock,
    limits: SmtpLimits,
    /// When the body being read started to arrive.
    body_since: Option<Instant>,
}

impl Deadlines {
    pub(crate) fn new(limits: SmtpLimits) -> Self {
        let clock = ReadClock::new(ReadLimits { idle: limits.idle, command: limits.command, logon: None });
        Deadlines { clock, limits, body_since: None }
    }

    /// Sets the deadlines for what the session is in the middle of reading.
    pub(crate) fn track(&mut self, reading: Reading) {
        match reading {
            Reading::Idle => {
                self.body_since = None;
                self.clock.command_done();
            }
            Reading::Command => {
                if self.body_since.take().is_some() {
                    self.clock.command_done();
                }
                self.clock.command_pending();
            }
            Reading::Body { received } => {
                let now = Instant::now();
                let since = *self.body_since.get_or_insert(now);
                let earned = Duration::from_secs(received / self.limits.body_rate.max(1));
                let by = since + self.limits.body_base + earned;
                self.clock.command_pending_for(by.saturating_duration_since(now));
            }
        }
    }

    pub(crate) fn clock(&self) -> &ReadClock {
        &self.clock
    }

    pub(crate) fn write_limit(&self) -> Duration {
        self.limits.write
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use altimail_net::deadline::Expired;

    const LIMITS: SmtpLimits = SmtpLimits {
        idle: Duration::from_secs(300),
        command: Duration::from_secs(120),
        body_base: Duration::from_secs(600),
        body_rate: 1000,
        write: Duration::from_secs(120),
    };

    #[tokio::test(start_paused = true)]
    async fn a_trickled_line_runs_out_at_its_deadline() {
        let mut deadlines = Deadlines::new(LIMITS);
        deadlines.track(Reading::Command);
        tokio::time::advance(Duration::from_secs(100)).await;
        deadlines.track(Reading::Command);
        tokio::time::advance(Duration::from_secs(21)).await;
        assert_eq!(deadlines.clock().expired(Instant::now()), Expired::Command);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_earns_time_by_what_it_sends() {
        let mut deadlines = Deadlines::new(LIMITS);
        deadlines.track(Reading::Body { received: 0 });
        let start = Instant::now();
        assert_eq!(deadlines.clock().read_deadline(), start + Duration::from_secs(300), "idle comes first");
        tokio::time::advance(Duration::from_secs(590)).await;
        // 2 MB at 1000 octets a second earn 2000 s more.
        deadlines.track(Reading::Body { received: 2_000_000 });
        tokio::time::advance(Duration::from_secs(1000)).await;
        assert_eq!(deadlines.clock().expired(Instant::now()), Expired::Idle);
        tokio::time::advance(Duration::from_secs(1100)).await;
        assert_eq!(deadlines.clock().expired(Instant::now()), Expired::Command);
        deadlines.track(Reading::Idle);
        assert_eq!(deadlines.clock().read_deadline(), Instant::now() + LIMITS.idle);
    }
}
