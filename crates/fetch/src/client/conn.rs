//! The tokio driver of the POP3 client: a TCP (or TLS) connection that sends [`Command`]s and
//! reads replies through the sans-IO [`Decoder`], logging every line as hMailServer's `POP3C`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use altimail_net::{HmLog, SessionKind};

use super::proto::{Command, Decoder, ProtoError, Status};

/// How long one read or write may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a conversation with the remote server ended early.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("timed out talking to the server")]
    Timeout,
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server closed the connection")]
    Closed,
    #[error("TLS: {0}")]
    Tls(String),
    #[error(transparent)]
    Protocol(#[from] ProtoError),
    /// The server answered `-ERR` where `+OK` was needed.
    #[error("{command}: the server answered -ERR {text}")]
    Refused { command: String, text: String },
    #[error("{0}")]
    Unsupported(String),
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Between taking the plain stream and installing the TLS one.
    Gone,
}

/// Writes `POP3C` lines for one session.
#[derive(Clone)]
pub struct Transcript {
    log: HmLog,
    session: u64,
    remote: IpAddr,
}

impl Transcript {
    fn line(&self, text: &str) {
        self.log.session(SessionKind::Pop3Client, self.session, self.remote, text);
    }
}

/// One connection to a POP3 server.
pub struct Connection {
    stream: Stream,
    decoder: Decoder,
    read_buf: Box<[u8]>,
    transcript: Option<Transcript>,
    host: String,
    peer: SocketAddr,
}

impl Connection {
    /// Connects to `host:port`; with `tls` set the connection is TLS from the first byte.
    pub async fn connect(
        host: &str,
        port: u16,
        tls: Option<Arc<rustls::ClientConfig>>,
        max_body: usize,
        log: Option<(HmLog, u64)>,
    ) -> Result<Connection, ClientError> {
        let target = format!("{host}:{port}");
        let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&target)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(ClientError::Connect(target, e)),
            Err(_) => return Err(ClientError::Connect(target, std::io::ErrorKind::TimedOut.into())),
        };
        let peer = tcp.peer_addr()?;
        let transcript = log.map(|(log, session)| Transcript { log, session, remote: peer.ip() });
        let mut conn = Connection {
            stream: Stream::Plain(tcp),
            decoder: Decoder::new(max_body),
            read_buf: vec![0u8; 64 * 1024].into_boxed_slice(),
            transcript,
            host: host.to_owned(),
            peer,
        };
        if let Some(config) = tls {
            conn.start_tls(config).await?;
        }
        Ok(conn)
    }

    /// The remote address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Runs the TLS handshake on the plain connection (implicit TLS, or after `STLS +OK`).
    pub async fn start_tls(&mut self, config: Arc<rustls::ClientConfig>) -> Result<(), ClientError> {
        if self.decoder.has_pending() {
            return Err(ClientError::Tls("the server sent data before the TLS handshake".into()));
        }
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(ClientError::Tls("the connection is already encrypted".into()));
        };
        let name = ServerName::try_from(self.host.clone())
            .map_err(|e| ClientError::Tls(format!("invalid server name {:?}: {e}", self.host)))?;
        let handshake = TlsConnector::from(config).connect(name, tcp);
        let tls = match tokio::time::timeout(IO_TIMEOUT, handshake).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(ClientError::Tls(e.to_string())),
            Err(_) => return Err(ClientError::Timeout),
        };
        self.stream = Stream::Tls(Box::new(tls));
        Ok(())
    }

    /// Sends `command` and reads its status line (not the body).
    pub async fn send(&mut self, command: &Command) -> Result<Status, ClientError> {
        self.log(&format!("SENT: {}", command.log_text()));
        let bytes = command.encode();
        match &mut self.stream {
            Stream::Plain(s) => write_all(s, &bytes).await?,
            Stream::Tls(s) => write_all(s.as_mut(), &bytes).await?,
            Stream::Gone => return Err(ClientError::Closed),
        }
        self.read_status().await
    }

    /// Sends `command`, requires `+OK`, and returns its status text.
    pub async fn ok(&mut self, command: &Command) -> Result<String, ClientError> {
        match self.send(command).await? {
            Status::Ok(text) => Ok(text),
            Status::Err(text) => Err(ClientError::Refused { command: command.log_text(), text }),
        }
    }

    /// Sends a multi-line command, requires `+OK`, and returns the body.
    pub async fn multiline(&mut self, command: &Command) -> Result<Vec<u8>, ClientError> {
        self.ok(command).await?;
        self.body().await
    }

    /// Reads the multi-line body that follows a positive status.
    pub async fn body(&mut self) -> Result<Vec<u8>, ClientError> {
        loop {
            if let Some(body) = self.decoder.body()? {
                return Ok(body);
            }
            self.fill().await?;
        }
    }

    /// Reads one status line.
    pub async fn read_status(&mut self) -> Result<Status, ClientError> {
        loop {
            if let Some(status) = self.decoder.status()? {
                self.log(&format!("RECEIVED: {}", status.log_text()));
                return Ok(status);
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), ClientError> {
        let buf = &mut self.read_buf;
        let n = match &mut self.stream {
            Stream::Plain(s) => timed(s.read(buf)).await?,
            Stream::Tls(s) => timed(s.read(buf)).await?,
            Stream::Gone => return Err(ClientError::Closed),
        };
        if n == 0 {
            return Err(ClientError::Closed);
        }
        self.decoder.feed(&self.read_buf[..n]);
        Ok(())
    }

    fn log(&self, text: &str) {
        if let Some(t) = &self.transcript {
            t.line(text);
        }
    }

    /// Writes a free-form line to the POP3C log (errors and notes).
    pub fn note(&self, text: &str) {
        self.log(text);
    }

    /// Closes the connection without QUIT.
    pub async fn shutdown(mut self) {
        let _ = match &mut self.stream {
            Stream::Plain(s) => s.shutdown().await,
            Stream::Tls(s) => s.shutdown().await,
            Stream::Gone => Ok(()),
        };
    }
}

async fn write_all<S: AsyncWrite + Unpin>(s: &mut S, bytes: &[u8]) -> Result<(), ClientError> {
    timed(s.write_all(bytes)).await?;
    timed(s.flush()).await
}

async fn timed<T>(f: impl std::future::Future<Output = std::io::Result<T>>) -> Result<T, ClientError> {
    match tokio::time::timeout(IO_TIMEOUT, f).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(ClientError::Timeout),
    }
}
