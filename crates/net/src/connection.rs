//! What a protocol session receives: an admitted [`Connection`] and the [`SessionHandler`]
//! trait the SMTP, POP3 and IMAP drivers implement.
//!
//! The listener owns the socket until the policy admitted the client and, on implicit-TLS ports,
//! until the handshake finished; the handler owns it from the first byte of the greeting. The
//! handler also owns STARTTLS: it replies to the command, discards anything it buffered after
//! the command line (RFC 3207 §4.2, the CVE-2011-0411 command injection), and then calls
//! [`Connection::start_tls`] or [`Stream::accept_tls`].

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::server::TlsStream;

use altimail_core::codes::Protocol;
use altimail_core::ip;
use altimail_store::repo::ports::Port;
use altimail_store::repo::ranges::Range;

use crate::hmlog::{HmLog, SessionKind};
use crate::policy::{ConnectionGuard, Policy};

/// A session's byte stream: plain TCP, or TLS over TCP after an implicit-TLS handshake or
/// STARTTLS.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// True once the stream is TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// The TLS state (negotiated version, cipher suite, SNI name) once the stream is TLS.
    pub fn tls_session(&self) -> Option<&rustls::ServerConnection> {
        match self {
            Stream::Plain(_) => None,
            Stream::Tls(tls) => Some(tls.get_ref().1),
        }
    }

    /// The underlying TCP socket.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => tls.get_ref().0,
        }
    }

    /// Runs a server-side TLS handshake over a plain stream, giving up after `timeout`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the stream is already TLS, `TimedOut` after `timeout`, or the
    /// handshake's own error (the client went away, spoke no TLS, offered nothing in common).
    pub async fn accept_tls(self, config: Arc<ServerConfig>, timeout: Duration) -> io::Result<Stream> {
        let tcp = match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(_) => return Err(io::Error::new(io::ErrorKind::InvalidInput, "the stream is already TLS")),
        };
        let handshake = tokio_rustls::TlsAcceptor::from(config).accept(tcp);
        match tokio::time::timeout(timeout, handshake).await {
            Ok(Ok(tls)) => Ok(Stream::Tls(Box::new(tls))),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out")),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// An admitted client connection, handed to the [`SessionHandler`] of its port's protocol.
///
/// Dropping it closes the socket and frees the connection slot (`guard`).
#[derive(Debug)]
#[non_exhaustive]
pub struct Connection {
    /// The byte stream; already TLS on implicit-TLS ports.
    pub stream: Stream,
    /// The client's address as the socket reports it (see [`Connection::peer_ip`]).
    pub peer: SocketAddr,
    /// Our address the client connected to.
    pub local: SocketAddr,
    /// The `hm_tcpipports` row of the listener.
    pub port: Port,
    /// The IP range that applies to the client (relay, authentication and TLS rules).
    pub range: Range,
    /// The session's slot under the protocol's connection limit.
    pub guard: ConnectionGuard,
    /// The session id written in protocol log lines (unique within the process).
    pub session_id: u64,
    /// hMailServer-format logs.
    pub log: HmLog,
    /// The connection policy, for failed logons.
    pub policy: Policy,
    /// The TLS configuration for STARTTLS: `Some` on ports with security 2 or 3 while the
    /// stream is still plain.
    pub tls: Option<Arc<ServerConfig>>,
    /// Becomes `true` when the server shuts down: finish the current command, say goodbye
    /// (SMTP `421 4.3.0`, IMAP `* BYE`, POP3 `-ERR`) and return.
    pub shutdown: watch::Receiver<bool>,
    /// The longest a STARTTLS handshake may take.
    pub handshake_timeout: Duration,
}

impl Connection {
    /// The client's IP address, IPv4-mapped IPv6 shown as IPv4.
    pub fn peer_ip(&self) -> IpAddr {
        ip::normalize(self.peer.ip())
    }

    /// The port's protocol.
    pub fn protocol(&self) -> Protocol {
        self.port.protocol
    }

    /// True once the stream is TLS.
    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// True when STARTTLS/STLS may be offered: the port allows it and the stream is still plain.
    pub fn can_start_tls(&self) -> bool {
        self.tls.is_some() && !self.is_tls()
    }

    /// True once the server is shutting down.
    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// A future that completes when the server starts shutting down; `Send` and independent of
    /// `self`, so it can sit in a `select!` next to a read on [`Connection::stream`].
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut shutdown = self.shutdown.clone();
        async move {
            if shutdown.wait_for(|stopping| *stopping).await.is_err() {
                // The listeners are gone without a shutdown: no signal will ever come.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Writes a protocol line for this session (`"SMTPD"`, `"POP3D"` or `"IMAPD"`), e.g.
    /// `RECEIVED: EHLO client` or `SENT: 250 OK`.
    pub fn log_line(&self, text: &str) {
        self.log.session(SessionKind::server(self.port.protocol), self.session_id, self.peer_ip(), text);
    }

    /// Records a failed logon from this client; `true` means disconnect it now
    /// (see [`Policy::logon_failed`]).
    pub async fn logon_failed(&self, user: &str) -> bool {
        self.policy.logon_failed(self.peer_ip(), user).await
    }

    /// Upgrades a plain stream to TLS after the STARTTLS reply was written and flushed, and
    /// after anything read past the STARTTLS command line was discarded.
    ///
    /// # Errors
    ///
    /// `Unsupported` when the port has no STARTTLS (or the stream is already TLS), `TimedOut`
    /// after [`Connection::handshake_timeout`], or the handshake's error; the connection is then
    /// gone and the session ends.
    pub async fn start_tls(self) -> io::Result<Connection> {
        let Some(config) = self.tls.clone().filter(|_| !self.is_tls()) else {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "STARTTLS is not available on this connection"));
        };
        let Connection {
            stream,
            peer,
            local,
            port,
            range,
            guard,
            session_id,
            log,
            policy,
            shutdown,
            handshake_timeout,
            ..
        } = self;
        let stream = stream.accept_tls(config, handshake_timeout).await?;
        Ok(Connection {
            stream,
            peer,
            local,
            port,
            range,
            guard,
            session_id,
            log,
            policy,
            tls: None,
            shutdown,
            handshake_timeout,
        })
    }
}

/// Runs sessions of one protocol. Implemented by the SMTP, POP3 and IMAP drivers, and by any
/// `Fn(Connection) -> impl Future<Output = ()>` closure.
///
/// The handler owns the connection until the returned future completes; it writes the greeting,
/// enforces timeouts, watches [`Connection::shutdown`], and closes the stream.
pub trait SessionHandler: Send + Sync + 'static {
    /// Serves one session.
    fn handle(&self, conn: Connection) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

impl<F, Fut> SessionHandler for F
where
    F: Fn(Connection) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn handle(&self, conn: Connection) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(self(conn))
    }
}

/// A new session id. Ids are shared by inbound sessions and outbound client sessions, as in
/// hMailServer (`Application::GetUniqueID`), and start at 1.
pub fn next_session_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The reply of a protocol whose service is not running.
pub(crate) fn service_unavailable_line(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Smtp => "421 4.3.2 Service not available",
        Protocol::Pop3 => "-ERR Service not available",
        Protocol::Imap => "* BYE Service not available",
        Protocol::Http => "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n",
    }
}

/// The reply to a client refused because a connection limit is reached: it may try again later.
pub(crate) fn busy_line(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Smtp => "421 4.7.0 Too many connections, try again later",
        Protocol::Pop3 => "-ERR [SYS/TEMP] Too many connections, try again later",
        Protocol::Imap => "* BYE [UNAVAILABLE] Too many connections, try again later",
        Protocol::Http => {
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 60\r\nContent-Length: 0\r\nConnection: close\r\n"
        }
    }
}

/// The handler for protocols that have none registered: one "service not available" line, then
/// close.
pub(crate) async fn service_unavailable(mut conn: Connection) {
    let line = service_unavailable_line(conn.port.protocol);
    conn.log_line(&format!("SENT: {line}"));
    let write = async {
        conn.stream.write_all(format!("{line}\r\n").as_bytes()).await?;
        conn.stream.shutdown().await
    };
    if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(10), write).await {
        tracing::debug!("writing to {}: {e}", conn.peer);
    }
}
