//! Connection policy: which clients may open a session, how many sessions run at once, and
//! auto-ban after failed logons (REFERENCE.md §5.1; hMailServer's `TCPServer::HandleAccept`,
//! `SessionManager::CreateSession`, `AccountLogon`).
//!
//! On accept, hMailServer finds the highest-priority IP range containing the client, drops the
//! connection without a banner when there is none or when the range lacks the protocol's bit,
//! and then counts the session against `maxsmtpconnections` / `maxpop3connections` /
//! `maximapconnections` (0 = unlimited). [`Policy::admit`] does the same, then counts the session
//! against Altimail's per-client limit `altimailmaxconnectionsperip` (sessions of one protocol
//! from one IP address; 0 = unlimited, 50 when the row is missing), so that one client cannot
//! hold every slot. It returns the range (the sessions need its relay and authentication bits)
//! with a [`ConnectionGuard`] that gives the slots back when dropped.
//!
//! Auto-ban never bans whom `altimailtrustedranges` names (unless set: the machine itself,
//! 127.0.0.0/8 and ::1, and the range "My computer"): their failed logons are not counted, and
//! a ban made earlier (by hMailServer, say) does not apply to them. Other banned clients are
//! told so ([`Refusal::Banned`]) instead of seeing the connection close.
//!
//! Ranges and settings are read from the database at most once per second ([`REFRESH`]) and
//! shared between connections, so `altimail range …` or `altimail setting …` on a running
//! server applies within a second without a query per connection. When a refresh fails the
//! previous snapshot stays in use; with no snapshot at all, connections are refused.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use tokio::sync::Mutex;

use altimail_core::codes::Protocol;
use altimail_core::{ip, time};
use altimail_store::repo::logon_failures::{self, AutoBan, Outcome};
use altimail_store::repo::ranges::{self, Range, Trusted};
use altimail_store::repo::settings::Settings;
use altimail_store::{Db, StoreError};

/// How old a cached snapshot of ranges or settings may get before it is read again.
pub const REFRESH: Duration = Duration::from_secs(1);

/// The connection policy of one server. Cheap to clone; clones share caches and counters.
#[derive(Debug, Clone)]
pub struct Policy {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    ranges: Mutex<Snapshot<Vec<Range>>>,
    settings: Mutex<Snapshot<Settings>>,
    live: Arc<Counters>,
}

#[derive(Debug)]
struct Snapshot<T> {
    value: Option<Arc<T>>,
    loaded: Option<Instant>,
}

impl<T> Default for Snapshot<T> {
    fn default() -> Self {
        Snapshot { value: None, loaded: None }
    }
}

/// Live sessions per protocol (indexed by [`slot`]) and per protocol and client address.
#[derive(Debug, Default)]
struct Counters {
    total: [AtomicU64; 4],
    /// Only addresses with live sessions have an entry, so the map is never larger than the
    /// number of sessions.
    per_ip: std::sync::Mutex<HashMap<(usize, IpAddr), u64>>,
}

impl Counters {
    fn per_ip(&self) -> std::sync::MutexGuard<'_, HashMap<(usize, IpAddr), u64>> {
        self.per_ip.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn slot(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Smtp => 0,
        Protocol::Pop3 => 1,
        Protocol::Imap => 2,
        Protocol::Http => 3,
    }
}

/// The setting that limits simultaneous sessions of `protocol`.
pub fn limit_setting(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Smtp => "maxsmtpconnections",
        Protocol::Pop3 => "maxpop3connections",
        Protocol::Imap => "maximapconnections",
        Protocol::Http => "altimailmaxhttpconnections",
    }
}

/// The setting that limits simultaneous sessions of one protocol from one client address
/// (Altimail's own; 0 = unlimited).
pub const PER_IP_LIMIT_SETTING: &str = "altimailmaxconnectionsperip";

/// The decision on one accepted connection.
#[derive(Debug)]
pub enum Admission {
    /// The session may start.
    Admitted {
        /// The IP range that applies to the client for the whole session.
        range: Range,
        /// Holds the session's slot under the protocol's connection limit.
        guard: ConnectionGuard,
    },
    /// Close the connection without writing anything.
    Refused(Refusal),
}

/// Why a connection was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// No IP range contains the client's address.
    NoRange,
    /// The matching range does not allow the protocol (auto-ban ranges allow nothing).
    ProtocolNotAllowed {
        /// The range's name.
        range: String,
        /// The protocol asked for.
        protocol: Protocol,
    },
    /// The protocol's `max…connections` setting is reached.
    LimitReached {
        /// The protocol asked for.
        protocol: Protocol,
        /// The limit in effect.
        limit: u64,
    },
    /// The client already holds `altimailmaxconnectionsperip` sessions of the protocol.
    PerIpLimitReached {
        /// The protocol asked for.
        protocol: Protocol,
        /// The client's address.
        ip: IpAddr,
        /// The limit in effect.
        limit: u64,
    },
    /// An auto-ban range (`Auto-ban: …`) covers the client.
    Banned {
        /// The range's name.
        range: String,
        /// The client's address.
        ip: IpAddr,
        /// When the ban ends (server local time), if it expires.
        until: Option<NaiveDateTime>,
    },
    /// The IP ranges could not be read and no earlier snapshot exists.
    Unavailable(String),
}

impl Refusal {
    /// Whether the client is told why (a busy server) instead of being dropped without a byte:
    /// only for the connection limits. Clients that no range admits get nothing, as in
    /// hMailServer.
    pub fn is_busy(&self) -> bool {
        matches!(self, Refusal::LimitReached { .. } | Refusal::PerIpLimitReached { .. })
    }

    /// The line that tells the client why it is refused (SMTP `421`, POP3 `-ERR`, IMAP
    /// `* BYE`), for a busy server and for a banned address; `None` when the client gets
    /// nothing (no range admits it, or its range leaves the protocol out).
    pub fn reply_line(&self, protocol: Protocol) -> Option<String> {
        if self.is_busy() {
            return Some(crate::connection::busy_line(protocol).to_owned());
        }
        let Refusal::Banned { ip, until, .. } = self else { return None };
        let text = match until {
            Some(until) => format!(
                "Your address {ip} is temporarily banned after too many failed logons, until {} (server time)",
                until.format("%Y-%m-%d %H:%M")
            ),
            None => format!("Your address {ip} is banned after too many failed logons"),
        };
        Some(match protocol {
            Protocol::Smtp => format!("421 4.7.0 {text}"),
            Protocol::Pop3 => format!("-ERR [SYS/TEMP] {text}"),
            Protocol::Imap => format!("* BYE [UNAVAILABLE] {text}"),
            // Written as the busy reply is: the line end after the last header ends the head.
            Protocol::Http => format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n{text}",
                text.len() + 2
            ),
        })
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // hMailServer's TCP/IP log wording.
            Refusal::NoRange => f.write_str("No matching IP range"),
            Refusal::ProtocolNotAllowed { range, protocol } => {
                write!(f, "IP range {range} does not allow {}", protocol.name().to_ascii_uppercase())
            }
            Refusal::LimitReached { protocol, limit } => {
                write!(f, "Maximum number of {} connections ({limit}) reached", protocol.name().to_ascii_uppercase())
            }
            Refusal::PerIpLimitReached { protocol, ip, limit } => write!(
                f,
                "Maximum number of {} connections from {ip} ({limit}) reached",
                protocol.name().to_ascii_uppercase()
            ),
            Refusal::Banned { range, ip, until: Some(until) } => {
                write!(f, "{ip} is banned by IP range {range} until {}", until.format("%Y-%m-%d %H:%M:%S"))
            }
            Refusal::Banned { range, ip, until: None } => write!(f, "{ip} is banned by IP range {range}"),
            Refusal::Unavailable(e) => write!(f, "IP ranges unavailable: {e}"),
        }
    }
}

/// One admitted session's slots under its protocol's connection limits; dropping it frees them.
#[derive(Debug)]
pub struct ConnectionGuard {
    counters: Arc<Counters>,
    protocol: Protocol,
    /// The client address counted in `per_ip`, once it is.
    ip: Option<IpAddr>,
}

impl ConnectionGuard {
    /// The protocol whose counter this guard holds.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.counters.total[slot(self.protocol)].fetch_sub(1, Ordering::AcqRel);
        if let Some(ip) = self.ip {
            let mut per_ip = self.counters.per_ip();
            if let Some(n) = per_ip.get_mut(&(slot(self.protocol), ip)) {
                *n -= 1;
                if *n == 0 {
                    per_ip.remove(&(slot(self.protocol), ip));
                }
            }
        }
    }
}

impl Policy {
    /// A policy over the database `db`. Nothing is read until the first call.
    pub fn new(db: Db) -> Self {
        Policy {
            inner: Arc::new(Inner {
                db,
                ranges: Mutex::new(Snapshot::default()),
                settings: Mutex::new(Snapshot::default()),
                live: Arc::new(Counters::default()),
            }),
        }
    }

    /// The database this policy reads.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Decides on a connection from `peer` to a listener of `protocol`. IPv4-mapped IPv6
    /// addresses are treated as IPv4. On `Admitted`, keep the guard for the session's lifetime.
    pub async fn admit(&self, protocol: Protocol, peer: IpAddr) -> Admission {
        let peer = ip::normalize(peer);
        let ranges = match self.ranges().await {
            Ok(ranges) => ranges,
            Err(e) => return Admission::Refused(Refusal::Unavailable(e.to_string())),
        };
        let settings = self.settings().await.ok();
        let now = time::now_local();
        let mut range = ranges::matching(&ranges, peer, now);
        if let Some(ban) = range.filter(|r| r.is_auto_ban()) {
            let trusted = trusted(settings.as_deref());
            if !ranges::spared(&ranges, &trusted, peer, now) {
                let until = ban.expires.then_some(ban.expires_time);
                return Admission::Refused(Refusal::Banned { range: ban.name.clone(), ip: peer, until });
            }
            // A ban made before the address was trusted (or by hMailServer) does not apply.
            tracing::debug!("{peer} is loopback or trusted: ignoring IP range {}", ban.name);
            range = ranges::matching_unbanned(&ranges, peer, now);
        }
        let Some(range) = range else {
            return Admission::Refused(Refusal::NoRange);
        };
        if !range.allows(protocol.range_bit()) {
            return Admission::Refused(Refusal::ProtocolNotAllowed { range: range.name.clone(), protocol });
        }
        // Without settings, count but do not limit: the ranges above already decided access.
        let (limit, per_ip_limit) = match &settings {
            Some(settings) => (
                u64::try_from(settings.int(limit_setting(protocol))).unwrap_or(0),
                u64::try_from(settings.int(PER_IP_LIMIT_SETTING)).unwrap_or(0),
            ),
            None => (0, 0),
        };
        let live = &self.inner.live;
        let now_live = live.total[slot(protocol)].fetch_add(1, Ordering::AcqRel) + 1;
        let mut guard = ConnectionGuard { counters: live.clone(), protocol, ip: None };
        if limit > 0 && now_live > limit {
            drop(guard);
            return Admission::Refused(Refusal::LimitReached { protocol, limit });
        }
        {
            let mut per_ip = live.per_ip();
            let from_peer = per_ip.entry((slot(protocol), peer)).or_insert(0);
            if per_ip_limit > 0 && *from_peer >= per_ip_limit {
                drop(per_ip);
                drop(guard);
                return Admission::Refused(Refusal::PerIpLimitReached { protocol, ip: peer, limit: per_ip_limit });
            }
            *from_peer += 1;
        }
        guard.ip = Some(peer);
        Admission::Admitted { range: range.clone(), guard }
    }

    /// The auto-ban range in force for `peer`, unless auto-ban spares it: for listeners that
    /// are not mail protocols (the administration API), which refuse banned clients as well.
    pub async fn ban_of(&self, peer: IpAddr) -> Option<Range> {
        let peer = ip::normalize(peer);
        let ranges = self.ranges().await.ok()?;
        let settings = self.settings().await.ok();
        let now = time::now_local();
        let ban = ranges::matching(&ranges, peer, now).filter(|r| r.is_auto_ban())?;
        if ranges::spared(&ranges, &trusted(settings.as_deref()), peer, now) {
            return None;
        }
        Some(ban.clone())
    }

    /// The number of admitted sessions of `protocol` still running.
    pub fn connections(&self, protocol: Protocol) -> u64 {
        self.inner.live.total[slot(protocol)].load(Ordering::Acquire)
    }

    /// The number of admitted sessions of `protocol` from `ip` still running.
    pub fn connections_from(&self, protocol: Protocol, ip: IpAddr) -> u64 {
        self.inner.live.per_ip().get(&(slot(protocol), ip::normalize(ip))).copied().unwrap_or(0)
    }

    /// Records a failed logon by `ip` as user `user` and applies auto-ban
    /// (`AutoBanOnLogonFailureEnabled`, `MaxInvalidLogonAttempts`, `LogonAttemptsWithinMinutes`,
    /// `AutoBanMinutes`).
    ///
    /// # Returns
    ///
    /// `true` when the threshold was reached and the session must disconnect the client. An
    /// `Auto-ban: <user>` range is then in force for this and every later connection (unless
    /// `AutoBanMinutes` is 0). A database failure is logged and returns `false`. Failures from
    /// loopback addresses and trusted ranges are not counted: they never lead to a ban.
    pub async fn logon_failed(&self, ip_addr: IpAddr, user: &str) -> bool {
        let settings = match self.settings().await {
            Ok(settings) => settings,
            Err(e) => {
                tracing::error!("auto-ban: settings unavailable: {e}");
                return false;
            }
        };
        if self.spared(ip_addr, &settings).await {
            tracing::debug!("auto-ban: {ip_addr} is loopback or in a trusted IP range; not counted");
            return false;
        }
        let auto_ban = AutoBan {
            enabled: settings.bool("AutoBanOnLogonFailureEnabled"),
            max_attempts: settings.int("MaxInvalidLogonAttempts"),
            within_minutes: settings.int("LogonAttemptsWithinMinutes"),
            ban_minutes: settings.int("AutoBanMinutes"),
        };
        let ip_addr = ip::normalize(ip_addr);
        match logon_failures::record(&self.inner.db, auto_ban, ip_addr, user, time::now_local()).await {
            Ok(Outcome::Counted) => false,
            Ok(Outcome::Banned(Some(range))) => {
                tracing::warn!("auto-ban: {ip_addr} banned for {} minutes as range {range:?}", auto_ban.ban_minutes);
                self.invalidate_ranges().await;
                true
            }
            Ok(Outcome::Banned(None)) => {
                tracing::info!("auto-ban: {ip_addr} reached {} failed logons; disconnecting", auto_ban.max_attempts);
                true
            }
            Err(e) => {
                tracing::error!("auto-ban: recording a failed logon from {ip_addr}: {e}");
                false
            }
        }
    }

    /// Whether auto-ban spares `ip` (see [`ranges::spared`]). When the ranges cannot be read,
    /// only the trusted addresses and blocks count.
    async fn spared(&self, ip_addr: IpAddr, settings: &Settings) -> bool {
        let trusted = trusted(Some(settings));
        match self.ranges().await {
            Ok(all) => ranges::spared(&all, &trusted, ip_addr, time::now_local()),
            Err(_) => trusted.in_blocks(ip::normalize(ip_addr)),
        }
    }

    /// The IP ranges, at most [`REFRESH`] old.
    pub async fn ranges(&self) -> Result<Arc<Vec<Range>>, StoreError> {
        let db = &self.inner.db;
        cached(&self.inner.ranges, "IP ranges", || ranges::list(db)).await
    }

    /// The settings, at most [`REFRESH`] old.
    pub async fn settings(&self) -> Result<Arc<Settings>, StoreError> {
        let db = &self.inner.db;
        cached(&self.inner.settings, "settings", || Settings::load(db)).await
    }

    /// Makes the next call read the IP ranges again (after this process changed them).
    pub async fn invalidate_ranges(&self) {
        self.inner.ranges.lock().await.loaded = None;
    }

    /// Makes the next call read the settings again.
    pub async fn invalidate_settings(&self) {
        self.inner.settings.lock().await.loaded = None;
    }
}

/// Whom auto-ban spares (the default when the settings are unreadable).
fn trusted(settings: Option<&Settings>) -> Trusted {
    match settings {
        Some(settings) => Trusted::parse(&settings.string(ranges::TRUSTED_SETTING)),
        None => Trusted::parse(ranges::DEFAULT_TRUSTED),
    }
}

/// Returns the snapshot in `slot`, reading it again when older than [`REFRESH`]. The lock is
/// held while reading, so concurrent callers wait for one query instead of each sending one.
async fn cached<T, F, Fut>(slot: &Mutex<Snapshot<T>>, what: &str, load: F) -> Result<Arc<T>, StoreError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut snapshot = slot.lock().await;
    if let (Some(value), Some(loaded)) = (&snapshot.value, snapshot.loaded)
        && loaded.elapsed() < REFRESH
    {
        return Ok(value.clone());
    }
    match load().await {
        Ok(fresh) => {
            let fresh = Arc::new(fresh);
            snapshot.value = Some(fresh.clone());
            snapshot.loaded = Some(Instant::now());
            Ok(fresh)
        }
        Err(e) => match snapshot.value.clone() {
            Some(stale) => {
                tracing::warn!("reading {what}: {e}; using the previous snapshot");
                // Try again after another interval rather than on every connection.
                snapshot.loaded = Some(Instant::now());
                Ok(stale)
            }
            None => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use altimail_store::repo::settings;
    use altimail_store::{DbConfig, Store};

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let config = DbConfig::Sqlite { path: dir.path().join("hm.db") };
        let store = Store::open(&config, dir.path().join("data"), true).await.unwrap();
        (dir, store)
    }

    fn refused(admission: Admission) -> Refusal {
        match admission {
            Admission::Refused(r) => r,
            Admission::Admitted { range, .. } => panic!("admitted by {}", range.name),
        }
    }

    fn admitted(admission: Admission) -> (Range, ConnectionGuard) {
        match admission {
            Admission::Admitted { range, guard } => (range, guard),
            Admission::Refused(r) => panic!("refused: {r}"),
        }
    }

    #[tokio::test]
    async fn default_ranges_and_mapped_addresses() {
        let (_dir, store) = store().await;
        let policy = Policy::new(store.db.clone());
        let (range, _guard) = admitted(policy.admit(Protocol::Smtp, "127.0.0.1".parse().unwrap()).await);
        assert_eq!(range.name, "My computer");
        let (range, _guard2) = admitted(policy.admit(Protocol::Imap, "::ffff:127.0.0.1".parse().unwrap()).await);
        assert_eq!(range.name, "My computer", "IPv4-mapped addresses are IPv4");
        let (range, _guard3) = admitted(policy.admit(Protocol::Pop3, "203.0.113.9".parse().unwrap()).await);
        assert_eq!(range.name, "Internet");
        assert_eq!(refused(policy.admit(Protocol::Smtp, "::1".parse().unwrap()).await), Refusal::NoRange);
        assert_eq!(policy.connections(Protocol::Smtp), 1);
        assert_eq!(policy.connections(Protocol::Imap), 1);
    }

    #[tokio::test]
    async fn range_without_protocol_bit_refuses() {
        let (_dir, store) = store().await;
        let mut mine = ranges::require(&store.db, "My computer").await.unwrap();
        mine.options &= !altimail_core::codes::range::IMAP;
        ranges::update(&store.db, &mine).await.unwrap();
        let policy = Policy::new(store.db.clone());
        let refusal = refused(policy.admit(Protocol::Imap, "127.0.0.1".parse().unwrap()).await);
        assert_eq!(refusal, Refusal::ProtocolNotAllowed { range: "My computer".into(), protocol: Protocol::Imap });
        assert_eq!(refusal.to_string(), "IP range My computer does not allow IMAP");
        assert_eq!(policy.connections(Protocol::Imap), 0);
    }

    #[tokio::test]
    async fn limit_counts_live_sessions() {
        let (_dir, store) = store().await;
        settings::set_integer(&store.db, "maxpop3connections", 2).await.unwrap();
        let policy = Policy::new(store.db.clone());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let (_, first) = admitted(policy.admit(Protocol::Pop3, ip).await);
        let (_, second) = admitted(policy.admit(Protocol::Pop3, ip).await);
        assert_eq!(
            refused(policy.admit(Protocol::Pop3, ip).await),
            Refusal::LimitReached { protocol: Protocol::Pop3, limit: 2 }
        );
        assert_eq!(policy.connections(Protocol::Pop3), 2, "a refusal does not keep a slot");
        let (_, _smtp) = admitted(policy.admit(Protocol::Smtp, ip).await);
        drop(first);
        let (_, _third) = admitted(policy.admit(Protocol::Pop3, ip).await);
        drop(second);
        assert_eq!(policy.connections(Protocol::Pop3), 1);
    }

    #[tokio::test]
    async fn per_ip_limit_counts_sessions_of_one_protocol_from_one_address() {
        let (_dir, store) = store().await;
        let policy = Policy::new(store.db.clone());
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let mut default = Vec::new();
        for _ in 0..50 {
            default.push(admitted(policy.admit(Protocol::Imap, ip).await));
        }
        assert_eq!(
            refused(policy.admit(Protocol::Imap, mapped).await),
            Refusal::PerIpLimitReached { protocol: Protocol::Imap, ip, limit: 50 },
            "50 when the setting has no row; an IPv4-mapped address is the same client"
        );
        drop(default);
        assert_eq!(policy.connections_from(Protocol::Imap, ip), 0);

        settings::set_integer(&store.db, PER_IP_LIMIT_SETTING, 2).await.unwrap();
        policy.invalidate_settings().await;
        let (_, first) = admitted(policy.admit(Protocol::Imap, ip).await);
        let (_, _second) = admitted(policy.admit(Protocol::Imap, mapped).await);
        let refusal = refused(policy.admit(Protocol::Imap, ip).await);
        assert!(refusal.is_busy());
        assert_eq!(refusal.to_string(), "Maximum number of IMAP connections from 192.0.2.7 (2) reached");
        assert_eq!(policy.connections(Protocol::Imap), 2, "a refusal keeps no slot");
        assert_eq!(policy.connections_from(Protocol::Imap, ip), 2);
        let (_, _other_ip) = admitted(policy.admit(Protocol::Imap, "192.0.2.8".parse().unwrap()).await);
        let (_, _other_protocol) = admitted(policy.admit(Protocol::Pop3, ip).await);
        drop(first);
        let (_, _third) = admitted(policy.admit(Protocol::Imap, ip).await);

        settings::set_integer(&store.db, PER_IP_LIMIT_SETTING, 0).await.unwrap();
        policy.invalidate_settings().await;
        let mut unlimited = Vec::new();
        for _ in 0..100 {
            unlimited.push(admitted(policy.admit(Protocol::Imap, ip).await));
        }
        assert_eq!(policy.connections_from(Protocol::Imap, ip), 102);
        drop(unlimited);
        assert_eq!(policy.connections_from(Protocol::Imap, ip), 2);
    }

    #[tokio::test]
    async fn changes_apply_after_the_refresh_interval() {
        let (_dir, store) = store().await;
        let policy = Policy::new(store.db.clone());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        drop(admitted(policy.admit(Protocol::Smtp, ip).await));
        let mut mine = ranges::require(&store.db, "My computer").await.unwrap();
        mine.options = 0;
        ranges::update(&store.db, &mine).await.unwrap();
        tokio::time::sleep(REFRESH + Duration::from_millis(100)).await;
        assert!(matches!(refused(policy.admit(Protocol::Smtp, ip).await), Refusal::ProtocolNotAllowed { .. }));
    }

    #[tokio::test]
    async fn logon_failures_ban_after_the_threshold() {
        let (_dir, store) = store().await;
        settings::set_integer(&store.db, "MaxInvalidLogonAttempts", 3).await.unwrap();
        let policy = Policy::new(store.db.clone());
        let ip: IpAddr = "::ffff:192.0.2.9".parse().unwrap();
        drop(admitted(policy.admit(Protocol::Imap, ip).await));
        assert!(!policy.logon_failed(ip, "bob@example.com").await);
        assert!(!policy.logon_failed(ip, "bob@example.com").await);
        assert!(policy.logon_failed(ip, "bob@example.com").await);
        let ban = ranges::require(&store.db, "Auto-ban: bob@example.com").await.unwrap();
        assert_eq!(ban.lower, "192.0.2.9".parse::<IpAddr>().unwrap());
        assert!(ban.expires);
        let refusal = refused(policy.admit(Protocol::Imap, ip).await);
        assert_eq!(
            refusal,
            Refusal::Banned {
                range: "Auto-ban: bob@example.com".into(),
                ip: "192.0.2.9".parse().unwrap(),
                until: Some(ban.expires_time)
            }
        );
        let line = refusal.reply_line(Protocol::Smtp).unwrap();
        assert!(line.starts_with("421 4.7.0 Your address 192.0.2.9 is temporarily banned"), "{line}");
        assert!(refusal.reply_line(Protocol::Pop3).unwrap().starts_with("-ERR [SYS/TEMP] Your address"));
        assert!(refusal.reply_line(Protocol::Imap).unwrap().starts_with("* BYE [UNAVAILABLE] Your address"));
        assert!(!policy.logon_failed(ip, "bob@example.com").await, "the failure count starts again");
    }

    #[tokio::test]
    async fn loopback_and_trusted_ranges_are_never_banned() {
        let (_dir, store) = store().await;
        settings::set_integer(&store.db, "MaxInvalidLogonAttempts", 2).await.unwrap();
        let office = Range {
            id: 0,
            name: "Office".into(),
            priority: 20,
            lower: "198.51.100.0".parse().unwrap(),
            upper: "198.51.100.255".parse().unwrap(),
            options: 11,
            expires: false,
            expires_time: altimail_store::db::never(),
        };
        ranges::create(&store.db, &office).await.unwrap();
        let policy = Policy::new(store.db.clone());
        for ip in ["127.0.0.1", "127.0.0.5", "::ffff:127.0.0.1", "::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            for _ in 0..5 {
                assert!(!policy.logon_failed(ip, "me").await, "{ip}");
            }
        }
        assert!(ranges::list(&store.db).await.unwrap().iter().all(|r| !r.is_auto_ban()));

        // Office becomes trusted: its clients are spared, and so is one an older ban covers.
        let office_ip: IpAddr = "198.51.100.7".parse().unwrap();
        assert!(!policy.logon_failed(office_ip, "boss").await);
        assert!(policy.logon_failed(office_ip, "boss").await, "not trusted yet");
        settings::set_string(&store.db, ranges::TRUSTED_SETTING, "127.0.0.0/8, ::1, My computer, office")
            .await
            .unwrap();
        policy.invalidate_settings().await;
        policy.invalidate_ranges().await;
        for _ in 0..5 {
            assert!(!policy.logon_failed(office_ip, "boss").await);
        }
        let (range, _guard) = admitted(policy.admit(Protocol::Imap, office_ip).await);
        assert_eq!(range.name, "Office", "the ban made before it was trusted is ignored");

        // Narrowed to 127.0.0.1: 127.0.0.5 is an address like any other.
        settings::set_string(&store.db, ranges::TRUSTED_SETTING, "127.0.0.1").await.unwrap();
        policy.invalidate_settings().await;
        let other: IpAddr = "127.0.0.5".parse().unwrap();
        assert!(!policy.logon_failed(other, "me").await);
        assert!(policy.logon_failed(other, "me").await);
        policy.invalidate_ranges().await;
        assert!(matches!(refused(policy.admit(Protocol::Smtp, other).await), Refusal::Banned { .. }));
        let (range, _guard) = admitted(policy.admit(Protocol::Smtp, "127.0.0.1".parse().unwrap()).await);
        assert_eq!(range.name, "My computer");
    }

    #[tokio::test]
    async fn auto_ban_disabled_never_disconnects() {
        let (_dir, store) = store().await;
        settings::set_integer(&store.db, "AutoBanOnLogonFailureEnabled", 0).await.unwrap();
        let policy = Policy::new(store.db.clone());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..5 {
            assert!(!policy.logon_failed(ip, "eve").await);
        }
        assert!(ranges::find(&store.db, "Auto-ban: eve").await.unwrap().is_none());
    }
}
