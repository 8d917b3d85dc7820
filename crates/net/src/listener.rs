//! The listening sockets: one per `hm_tcpipports` row, kept in step with the table.
//!
//! hMailServer binds its ports once at start-up and needs a restart after a change. Here a
//! reconcile pass runs every second (by default): a new row is bound, a removed row stops
//! accepting, a changed row is rebound, and a TLS port whose certificate files changed gets the
//! new certificate for its next connections. So `altimail port add/remove/set` works on a
//! running server. A port that cannot be bound, or whose certificate cannot be loaded, is
//! reported once (tracing and hMailServer's error log, HM4316 / HM5113) with its cause in plain
//! words (permission, address in use, address not on this machine) and tried again on every
//! pass; the other ports are not affected. [`Listeners::problems`] lists the ports failing now,
//! so that the server can refuse to start without them.
//!
//! IPv6 sockets are bound with `IPV6_V6ONLY`, so a `::` row and a `0.0.0.0` row of the same port
//! number are two listeners side by side, as in hMailServer, where an IPv6 listener has its own
//! row.
//!
//! Each accepted connection gets its own task: TCP/IP log line, [`Policy::admit`] (a client no
//! IP range admits is closed without a byte, as hMailServer does; one over a connection limit
//! is told the server is busy, and one auto-ban has banned that it is banned, on ports without
//! implicit TLS), the TLS handshake on implicit-TLS
//! ports, then the [`SessionHandler`] registered for the port's protocol, or a built-in one that
//! answers "service not available".
//!
//! [`Listeners::shutdown`] stops accepting, raises the shutdown watch every [`Connection`]
//! carries, waits for sessions to finish and aborts those that do not in time.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

use altimail_core::codes::{Protocol, Security};
use altimail_core::ip;
use altimail_store::repo::ports::{self, Port};
use altimail_store::repo::settings::Settings;

use crate::NetError;
use crate::acme_challenges::{self, AcmeChallenges};
use crate::connection::{Connection, SessionHandler, Stream, next_session_id, service_unavailable};
use crate::deadline::write_all_by;
use crate::hmlog::{HmLog, SessionKind, Severity};
use crate::policy::{Admission, Policy, Refusal};
use crate::sessions::Sessions;
use crate::tls_configs::TlsConfigs;

/// Default time between two reconcile passes.
pub const RECONCILE_INTERVAL: Duration = Duration::from_secs(1);
/// Default limit for a TLS handshake (implicit TLS and STARTTLS).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the "too many connections" reply may take to write to a refused client.
const BUSY_REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Configures and starts [`Listeners`].
pub struct ListenersBuilder {
    policy: Policy,
    log: HmLog,
    data_dir: PathBuf,
    handlers: HashMap<Protocol, Arc<dyn SessionHandler>>,
    reconcile_interval: Duration,
    handshake_timeout: Duration,
    sync_log_settings: bool,
    acme: AcmeChallenges,
}

impl std::fmt::Debug for ListenersBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenersBuilder")
            .field("data_dir", &self.data_dir)
            .field("handlers", &self.handlers.keys().collect::<Vec<_>>())
            .field("reconcile_interval", &self.reconcile_interval)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("sync_log_settings", &self.sync_log_settings)
            .finish_non_exhaustive()
    }
}

impl ListenersBuilder {
    /// Serves sessions of `protocol` with `handler`. Protocols without a handler get one
    /// "service not available" line and are closed.
    pub fn with_handler(mut self, protocol: Protocol, handler: impl SessionHandler) -> Self {
        self.handlers.insert(protocol, Arc::new(handler));
        self
    }

    /// Sets the time between reconcile passes ([`RECONCILE_INTERVAL`] by default).
    pub fn with_reconcile_interval(mut self, interval: Duration) -> Self {
        self.reconcile_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Answers the TLS-ALPN-01 validations pending in `challenges` on every implicit-TLS port.
    pub fn with_acme_challenges(mut self, challenges: AcmeChallenges) -> Self {
        self.acme = challenges;
        self
    }

    /// Sets the TLS handshake limit ([`HANDSHAKE_TIMEOUT`] by default).
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Whether each reconcile pass applies the `logging` and `awstatsenabled` settings to the
    /// [`HmLog`] (on by default), so log changes take effect within a second as well.
    pub fn with_log_settings_sync(mut self, enabled: bool) -> Self {
        self.sync_log_settings = enabled;
        self
    }

    /// Binds the ports configured now and starts following the table. Ports that cannot be
    /// bound are reported and retried; this never fails.
    pub async fn start(self) -> Listeners {
        let (shutdown, _) = watch::channel(false);
        let ctx = Arc::new(Context {
            policy: self.policy,
            log: self.log,
            handlers: self.handlers,
            handshake_timeout: self.handshake_timeout,
            shutdown,
            sessions: Sessions::default(),
            acme: self.acme,
        });
        let state = Arc::new(Mutex::new(State {
            bound: HashMap::new(),
            failures: HashMap::new(),
            problems: HashMap::new(),
            tls: TlsConfigs::new(self.data_dir.join("certificates")),
            sync_log_settings: self.sync_log_settings,
        }));
        reconcile(&ctx, &mut *state.lock().await).await;
        let reconciler = tokio::spawn(reconcile_loop(ctx.clone(), state.clone(), self.reconcile_interval));
        Listeners { ctx, state, reconciler: Some(reconciler) }
    }
}

/// The server's listening sockets, following `hm_tcpipports`.
///
/// Dropping it without [`Listeners::shutdown`] stops the reconcile task and, soon after, the
/// accept loops; running sessions are left to finish on their own.
pub struct Listeners {
    ctx: Arc<Context>,
    state: Arc<Mutex<State>>,
    reconciler: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners").finish_non_exhaustive()
    }
}

/// What accept loops and sessions share.
struct Context {
    policy: Policy,
    log: HmLog,
    handlers: HashMap<Protocol, Arc<dyn SessionHandler>>,
    handshake_timeout: Duration,
    shutdown: watch::Sender<bool>,
    sessions: Sessions,
    acme: AcmeChallenges,
}

/// What only the reconcile pass touches.
struct State {
    bound: HashMap<i64, Bound>,
    /// The last failure reported per port id, so a failing port is reported once, not every
    /// second.
    failures: HashMap<i64, String>,
    /// The ports that failed in the last pass, with their cause.
    problems: HashMap<i64, PortProblem>,
    tls: TlsConfigs,
    sync_log_settings: bool,
}

/// A bound port with its accept loop.
struct Bound {
    port: Port,
    local: SocketAddr,
    /// Swapped by the reconcile pass when the certificate changes; read once per connection.
    tls: Arc<RwLock<Option<Arc<ServerConfig>>>>,
    accept: JoinHandle<()>,
}

impl Drop for Bound {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Listeners {
    /// Starts configuring listeners for the ports in `policy`'s database. The self-signed
    /// certificate lives in `{data_dir}/certificates`.
    pub fn builder(policy: Policy, log: HmLog, data_dir: impl Into<PathBuf>) -> ListenersBuilder {
        ListenersBuilder {
            policy,
            log,
            data_dir: data_dir.into(),
            handlers: HashMap::new(),
            reconcile_interval: RECONCILE_INTERVAL,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            sync_log_settings: true,
            acme: AcmeChallenges::default(),
        }
    }

    /// Runs a reconcile pass now instead of waiting for the next one.
    pub async fn reconcile(&self) {
        reconcile(&self.ctx, &mut *self.state.lock().await).await;
    }

    /// Reads the certificate and key of every TLS port again (even files whose modification
    /// time did not change) and runs a pass: new handshakes use the new certificates, running
    /// sessions keep theirs. A port whose new files cannot be loaded keeps serving with its
    /// previous certificate; the failure is logged again even if it was reported before.
    ///
    /// # Returns
    ///
    /// The failures of this pass (ports not listening, certificates not loaded), one line each.
    pub async fn reload_certificates(&self) -> Vec<String> {
        let mut state = self.state.lock().await;
        state.tls.forget();
        state.failures.clear();
        reconcile(&self.ctx, &mut state).await;
        // The missing IPv6 of the machine is no failure of the reload.
        let tolerable = |id: &i64| state.problems.get(id).is_some_and(PortProblem::is_tolerable);
        let mut failures: Vec<(i64, String)> =
            state.failures.iter().filter(|(id, _)| !tolerable(id)).map(|(id, t)| (*id, t.clone())).collect();
        failures.sort();
        failures.into_iter().map(|(_, text)| text).collect()
    }

    /// The configured ports that are not being listened on after the last pass, ordered by port
    /// id: their bind failed or their certificate could not be loaded.
    pub async fn problems(&self) -> Vec<PortProblem> {
        let state = self.state.lock().await;
        let mut problems: Vec<PortProblem> = state.problems.values().cloned().collect();
        problems.sort_by_key(|p| p.port.id);
        problems
    }

    /// The ports being listened on, with the address each is bound to, ordered by port id.
    pub async fn bound(&self) -> Vec<(Port, SocketAddr)> {
        let state = self.state.lock().await;
        let mut bound: Vec<_> = state.bound.values().map(|b| (b.port.clone(), b.local)).collect();
        bound.sort_by_key(|(port, _)| port.id);
        bound
    }

    /// Stops gracefully: stops accepting on every port, signals running sessions through
    /// [`Connection::shutdown`], and waits up to `timeout` for them to end.
    ///
    /// # Returns
    ///
    /// The number of sessions that were still running after `timeout` and were aborted.
    pub async fn shutdown(mut self, timeout: Duration) -> usize {
        if let Some(reconciler) = self.reconciler.take() {
            reconciler.abort();
            let _ = reconciler.await;
        }
        let bound: Vec<Bound> = self.state.lock().await.bound.drain().map(|(_, b)| b).collect();
        for b in bound {
            stop(b).await;
        }
        self.ctx.shutdown.send_replace(true);
        let aborted = self.ctx.sessions.drain(timeout).await;
        if aborted > 0 {
            tracing::warn!("shutdown: aborted {aborted} sessions still running after {timeout:?}");
        }
        aborted
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        if let Some(reconciler) = self.reconciler.take() {
            reconciler.abort();
        }
    }
}

async fn reconcile_loop(ctx: Arc<Context>, state: Arc<Mutex<State>>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate, and `start` has just run a pass.
    ticker.tick().await;
    loop {
        ticker.tick().await;
        reconcile(&ctx, &mut *state.lock().await).await;
    }
}

/// One pass: make the bound sockets match the table.
async fn reconcile(ctx: &Arc<Context>, state: &mut State) {
    let db = ctx.policy.db();
    let rows = match ports::list(db).await {
        Ok(rows) => rows,
        Err(e) => {
            report(ctx, state, 0, e.to_string(), None);
            return;
        }
    };
    state.failures.remove(&0);
    let settings = match ctx.policy.settings().await {
        Ok(settings) => settings,
        Err(e) => {
            tracing::warn!("reading settings: {e}; using defaults");
            Arc::new(Settings::default())
        }
    };
    if state.sync_log_settings {
        ctx.log.set_mask(settings.int("logging"));
        ctx.log.set_awstats(settings.bool("awstatsenabled"));
    }
    let host_name = settings.string("hostname");
    let versions = settings.int("SslVersions");

    let wanted: HashMap<i64, &Port> = rows.iter().map(|p| (p.id, p)).collect();
    let stale: Vec<i64> =
        state.bound.iter().filter(|(id, b)| wanted.get(*id).is_none_or(|p| **p != b.port)).map(|(id, _)| *id).collect();
    for id in stale {
        if let Some(b) = state.bound.remove(&id) {
            stop(b).await;
        }
    }
    state.failures.retain(|id, _| *id == 0 || wanted.contains_key(id));
    state.problems.clear();

    for port in &rows {
        let tls = if port.security.uses_tls() {
            match state.tls.for_port(db, port, &host_name, versions).await {
                Ok(config) => Some(config),
                Err(e) => {
                    // A running port keeps its previous certificate.
                    let text = format!(
                        "Failed to load certificate. Address: {}, Port: {}, Error: {e}",
                        port.address, port.port
                    );
                    // A port already listening keeps serving with its previous certificate.
                    if !state.bound.contains_key(&port.id) {
                        state.problems.insert(
                            port.id,
                            PortProblem {
                                port: port.clone(),
                                cause: ProblemCause::Certificate,
                                text: format!("{}: cannot load its certificate: {e}", describe_short(port)),
                            },
                        );
                    }
                    report(ctx, state, port.id, text, Some((5113, "TCPServer::InitSSL()")));
                    continue;
                }
            }
        } else {
            None
        };
        if let Some(b) = state.bound.get(&port.id) {
            let mut current = b.tls.write().unwrap_or_else(PoisonError::into_inner);
            let changed = match (&*current, &tls) {
                (Some(old), Some(new)) => !Arc::ptr_eq(old, new),
                (None, None) => false,
                _ => true,
            };
            if changed {
                tracing::info!("{}: new TLS certificate for the next connections", describe(port));
                *current = tls;
            }
            drop(current);
            state.failures.remove(&port.id);
            continue;
        }
        match bind(port) {
            Ok(listener) => {
                let local = listener.local_addr().unwrap_or_else(|_| SocketAddr::new(port.address, port.port));
                let tls = Arc::new(RwLock::new(tls));
                let accept = tokio::spawn(accept_loop(ctx.clone(), listener, port.clone(), tls.clone()));
                tracing::info!("listening on {local} ({})", describe(port));
                state.failures.remove(&port.id);
                state.bound.insert(port.id, Bound { port: port.clone(), local, tls, accept });
            }
            Err(e) => {
                let problem = PortProblem::bind(port, &e);
                let text = format!(
                    "Failed to bind to local port. Address: {}, Port: {}. {}",
                    port.address, port.port, problem.text
                );
                if problem.cause == ProblemCause::NoIpv6 {
                    // The default `::` listeners of a machine without IPv6: not an error.
                    if state.failures.get(&port.id) != Some(&text) {
                        tracing::warn!("{text}");
                        state.failures.insert(port.id, text);
                    }
                } else {
                    report(ctx, state, port.id, text, Some((4316, "TCPServer::Run()")));
                }
                state.problems.insert(port.id, problem);
            }
        }
    }
}

/// Reports a failure of port `id` (0: the table itself) unless the same one was reported last.
fn report(ctx: &Context, state: &mut State, id: i64, text: String, error_log: Option<(u32, &str)>) {
    if state.failures.get(&id) == Some(&text) {
        return;
    }
    // The error log also writes to tracing.
    match error_log {
        Some((code, source)) => ctx.log.error(Severity::High, code, source, &text),
        None => tracing::error!("{text}"),
    }
    state.failures.insert(id, text);
}

/// Why a configured port is not being listened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemCause {
    /// The bind needs a privilege the process lacks (ports below 1024 as a non-root user).
    PermissionDenied,
    /// Another socket listens on the address and port.
    AddressInUse,
    /// The address is not one of this machine's.
    AddressNotAvailable,
    /// A wildcard IPv6 listener (`::`) on a machine without IPv6.
    NoIpv6,
    /// The port's TLS certificate or key could not be loaded.
    Certificate,
    /// Anything else the operating system refused.
    Other,
}

/// A configured port that is not being listened on, with the cause in words an administrator
/// can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortProblem {
    /// The `hm_tcpipports` row.
    pub port: Port,
    /// What went wrong.
    pub cause: ProblemCause,
    /// One line naming the port, the cause and the way out.
    pub text: String,
}

impl PortProblem {
    /// `true` when the server can do without this port unasked: only a wildcard IPv6 listener on
    /// a machine without IPv6.
    pub fn is_tolerable(&self) -> bool {
        self.cause == ProblemCause::NoIpv6
    }

    fn bind(port: &Port, e: &NetError) -> PortProblem {
        let io = match e {
            NetError::Bind { source, .. } => Some(source),
            _ => None,
        };
        let errno = io.and_then(io::Error::raw_os_error);
        let wildcard_v6 = port.address == std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED);
        let os = io.map_or_else(|| e.to_string(), ToString::to_string);
        let what = describe_short(port);
        let (cause, text) = match errno {
            Some(EACCES) | Some(EPERM) if port.port < 1024 => (
                ProblemCause::PermissionDenied,
                format!(
                    "{what}: permission denied ({os}): ports below 1024 need root or the capability \
                     CAP_NET_BIND_SERVICE; run as root, or `setcap cap_net_bind_service=+ep` on the altimail \
                     binary, or move the port with `altimail port set {} --port N`",
                    port.id
                ),
            ),
            Some(EACCES) | Some(EPERM) => (ProblemCause::PermissionDenied, format!("{what}: permission denied ({os})")),
            Some(EADDRINUSE) => (
                ProblemCause::AddressInUse,
                format!(
                    "{what}: address already in use: another server (perhaps another altimail) is listening on \
                     port {} (`ss -ltnp 'sport = :{}'` shows which)",
                    port.port, port.port
                ),
            ),
            Some(EAFNOSUPPORT) | Some(EADDRNOTAVAIL) if wildcard_v6 => {
                (ProblemCause::NoIpv6, format!("{what}: IPv6 is not available on this machine ({os})"))
            }
            Some(EADDRNOTAVAIL) => (
                ProblemCause::AddressNotAvailable,
                format!(
                    "{what}: address not available: {} is not an address of this machine; change it with \
                     `altimail port set {} --address ADDRESS`",
                    port.address, port.id
                ),
            ),
            _ => (ProblemCause::Other, format!("{what}: cannot listen: {os}")),
        };
        PortProblem { port: port.clone(), cause, text }
    }
}

// Linux errno values (the same on the BSDs and macOS except EADDRINUSE/EADDRNOTAVAIL/EAFNOSUPPORT,
// which `io::ErrorKind` does not all name).
#[cfg(target_os = "linux")]
const EADDRINUSE: i32 = 98;
#[cfg(target_os = "linux")]
const EADDRNOTAVAIL: i32 = 99;
#[cfg(target_os = "linux")]
const EAFNOSUPPORT: i32 = 97;
#[cfg(not(target_os = "linux"))]
const EADDRINUSE: i32 = 48;
#[cfg(not(target_os = "linux"))]
const EADDRNOTAVAIL: i32 = 49;
#[cfg(not(target_os = "linux"))]
const EAFNOSUPPORT: i32 = 47;
const EACCES: i32 = 13;
const EPERM: i32 = 1;

/// "SMTP port 25 on 0.0.0.0 (port id 1)".
fn describe_short(port: &Port) -> String {
    format!(
        "{} port {} on {} (port id {})",
        port.protocol.name().to_ascii_uppercase(),
        port.port,
        port.address,
        port.id
    )
}

fn describe(port: &Port) -> String {
    format!("port id {}, {} {}, {}", port.id, port.protocol.name(), port.port, port.security.name())
}

fn bind(port: &Port) -> Result<TcpListener, NetError> {
    let addr = SocketAddr::new(port.address, port.port);
    let bind = || -> io::Result<TcpListener> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            let socket = TcpSocket::new_v6()?;
            // `::` takes IPv6 only, so that `0.0.0.0` on the same port can be bound beside it.
            socket2::SockRef::from(&socket).set_only_v6(true)?;
            socket
        };
        // Lets a changed port be bound again at once although its old connections linger in
        // TIME_WAIT; it does not let two sockets listen on one port.
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(1024)
    };
    bind().map_err(|source| NetError::Bind { addr, source })
}

async fn stop(mut bound: Bound) {
    bound.accept.abort();
    // Wait until the task (and with it the socket) is gone, so the port can be bound again.
    let _ = (&mut bound.accept).await;
    tracing::info!("stopped listening on {} ({})", bound.local, describe(&bound.port));
}

async fn accept_loop(
    ctx: Arc<Context>,
    listener: TcpListener,
    port: Port,
    tls: Arc<RwLock<Option<Arc<ServerConfig>>>>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors and the like: retrying at once would spin (axum's
                // `serve` sleeps a second for the same reason).
                tracing::error!("accepting on {}: {e}", describe(&port));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let tls = tls.read().unwrap_or_else(PoisonError::into_inner).clone();
        let session_id = next_session_id();
        let span = tracing::info_span!("session", id = session_id, %peer, port = port.port);
        ctx.sessions.spawn(serve(ctx.clone(), tcp, peer, port.clone(), tls, session_id).instrument(span));
    }
}

/// Errors that concern one connection that died before it was accepted, not the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

async fn serve(
    ctx: Arc<Context>,
    tcp: TcpStream,
    peer: SocketAddr,
    port: Port,
    tls: Option<Arc<ServerConfig>>,
    session_id: u64,
) {
    let local = match tcp.local_addr() {
        Ok(local) => local,
        Err(e) => {
            tracing::debug!("connection gone before it started: {e}");
            return;
        }
    };
    let peer_ip = ip::normalize(peer.ip());
    ctx.log.tcpip(&format!("TCP - {peer_ip} connected to {}:{}.", ip::normalize(local.ip()), port.port));
    let (range, guard) = match ctx.policy.admit(port.protocol, peer_ip).await {
        Admission::Admitted { range, guard } => (range, guard),
        Admission::Refused(refusal) => {
            ctx.log.tcpip(&format!("TCP - Connection dropped - {refusal}."));
            if refusal != Refusal::NoRange {
                ctx.log.debug(&format!(
                    "Client connection from {peer_ip} was not accepted. Blocked either by IP range or by connection limit."
                ));
            }
            tracing::info!("refused: {refusal}");
            // On implicit-TLS ports the client expects a handshake, not text: no handshake is
            // spent on a refused client, it sees the connection close.
            if let Some(line) = refusal.reply_line(port.protocol)
                && port.security != Security::Tls
            {
                tell_refused(&ctx, tcp, peer_ip, port.protocol, session_id, &line).await;
            }
            return;
        }
    };
    let _ = tcp.set_nodelay(true);
    let plain = Stream::Plain(tcp);
    let (stream, starttls) = match (port.security, tls) {
        (Security::None, _) => (plain, None),
        (Security::StartTlsOptional | Security::StartTlsRequired, tls) => (plain, tls),
        (Security::Tls, Some(config)) => match accept_implicit_tls(&ctx, plain, config).await {
            Ok(Some(stream)) => (stream, None),
            Ok(None) => return,
            Err(e) => {
                ctx.log.tcpip(&format!(
                    "TCPConnection - TLS handshake with client failed. Session: {session_id}, Message: {e}, Remote IP: {peer_ip}"
                ));
                tracing::info!("TLS handshake failed: {e}");
                return;
            }
        },
        (Security::Tls, None) => {
            // The reconcile pass binds TLS ports only with a configuration.
            tracing::error!("{}: no TLS configuration; closing", describe(&port));
            return;
        }
    };
    tracing::debug!("session started (range {})", range.name);
    let conn = Connection {
        stream,
        peer,
        local,
        port,
        range,
        guard,
        session_id,
        log: ctx.log.clone(),
        policy: ctx.policy.clone(),
        tls: starttls,
        shutdown: ctx.shutdown.subscribe(),
        handshake_timeout: ctx.handshake_timeout,
    };
    match ctx.handlers.get(&conn.port.protocol) {
        Some(handler) => handler.handle(conn).await,
        None => service_unavailable(conn).await,
    }
    tracing::debug!("session ended");
}

/// The handshake of an implicit-TLS port; `None` when it was a TLS-ALPN-01 validation, which
/// ends with the handshake.
async fn accept_implicit_tls(ctx: &Context, plain: Stream, config: Arc<ServerConfig>) -> io::Result<Option<Stream>> {
    match plain {
        Stream::Plain(tcp) if ctx.acme.has_tls_alpn() => {
            match acme_challenges::accept(tcp, config, &ctx.acme, ctx.handshake_timeout).await? {
                acme_challenges::Accepted::Session(stream) => Ok(Some(stream)),
                acme_challenges::Accepted::Validation => Ok(None),
            }
        }
        plain => plain.accept_tls(config, ctx.handshake_timeout).await.map(Some),
    }
}

/// Tells a refused client why in one line (a busy server or a banned address: SMTP `421`, POP3
/// `-ERR`, IMAP `* BYE`) and closes the connection.
async fn tell_refused(
    ctx: &Context,
    mut tcp: TcpStream,
    peer_ip: std::net::IpAddr,
    protocol: Protocol,
    session_id: u64,
    line: &str,
) {
    use tokio::io::AsyncWriteExt as _;
    ctx.log.session(SessionKind::server(protocol), session_id, peer_ip, &format!("SENT: {line}"));
    let written = write_all_by(&mut tcp, format!("{line}\r\n").as_bytes(), BUSY_REPLY_TIMEOUT).await;
    if let Err(e) = written {
        tracing::debug!("telling {peer_ip} why it is refused: {e}");
        return;
    }
    let _ = tokio::time::timeout(BUSY_REPLY_TIMEOUT, tcp.shutdown()).await;
}
