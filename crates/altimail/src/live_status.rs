//! The running server's live figures for the administration's status: sessions per protocol
//! from the connection policy the listeners share, counters from [`altimail_core::stats`].

use chrono::NaiveDateTime;

use altimail_admin::{LiveStatus, MessageCounters, SessionCounts};
use altimail_core::codes::Protocol;
use altimail_core::stats::{self, Counter};
use altimail_net::Policy;

#[derive(Debug)]
pub(crate) struct ServerLive {
    policy: Policy,
    started: NaiveDateTime,
}

impl ServerLive {
    /// The figures of a server that starts now with the listeners' `policy`.
    pub(crate) fn new(policy: Policy) -> ServerLive {
        ServerLive { policy, started: altimail_core::time::now_local() }
    }
}

impl LiveStatus for ServerLive {
    fn started(&self) -> NaiveDateTime {
        self.started
    }

    fn sessions(&self) -> SessionCounts {
        SessionCounts {
            smtp: self.policy.connections(Protocol::Smtp),
            pop3: self.policy.connections(Protocol::Pop3),
            imap: self.policy.connections(Protocol::Imap),
            http: self.policy.connections(Protocol::Http),
        }
    }

    fn counters(&self) -> MessageCounters {
        MessageCounters {
            received: stats::get(Counter::Received),
            sent: stats::get(Counter::Sent),
            spam: stats::get(Counter::Spam),
            viruses: stats::get(Counter::Virus),
        }
    }
}
