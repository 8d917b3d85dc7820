//! Runs a [`Client`] over a real connection: TCP (bound to `smtpdeliverybindtoip` when set),
//! implicit TLS or STARTTLS with tokio-rustls, timeouts, and the SMTPC log lines.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use altimail_net::HmLog;
use altimail_net::SessionKind;
use rustls::pki_types::ServerName;

use crate::client::{Action, Client, ClientConfig, Envelope, Input, Outcome};
use crate::reply::ReplyReader;
use crate::target::Host;

/// Time allowed for the TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed for each reply (RFC 5321 §4.5.3.2: 5 minutes for the greeting, MAIL and RCPT).
const REPLY_TIMEOUT: Duration = Duration::from_secs(300);
/// Time allowed for the reply to the end of the message data (RFC 5321 §4.5.3.2.6: 10 minutes).
const DATA_END_TIMEOUT: Duration = Duration::from_secs(600);
/// Time allowed for QUIT after the transaction.
const QUIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How connections are made.
#[derive(Clone)]
pub struct Connector {
    pub tls: Arc<rustls::ClientConfig>,
    pub bind_ip: Option<IpAddr>,
    pub log: HmLog,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

impl Conn {
    fn io(&mut self) -> Option<&mut dyn Io> {
        match self {
            Conn::Plain(s) => Some(s),
            Conn::Tls(s) => Some(s.as_mut()),
            Conn::Gone => None,
        }
    }
}

/// The result of one connection: the client's outcome, and whether the TLS handshake failed
/// (opportunistic STARTTLS then retries the same host in clear text).
#[derive(Debug)]
pub struct Delivered {
    pub outcome: Outcome,
    pub tls_failed: bool,
}

impl Connector {
    async fn connect(&self, addr: SocketAddr) -> std::io::Result<TcpStream> {
        let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        if let Some(ip) = self.bind_ip.filter(|ip| ip.is_ipv4() == addr.is_ipv4()) {
            socket.bind(SocketAddr::new(ip, 0))?;
        }
        match tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(addr)).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connection timed out")),
        }
    }

    async fn handshake(&self, host: &Host, tcp: TcpStream) -> std::io::Result<TlsStream<TcpStream>> {
        let name = ServerName::try_from(host.name.clone()).unwrap_or_else(|_| ServerName::IpAddress(host.ip.into()));
        let connect = TlsConnector::from(self.tls.clone()).connect(name, tcp);
        match tokio::time::timeout(REPLY_TIMEOUT, connect).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timed out")),
        }
    }

    /// Runs one transaction with `host`.
    pub async fn deliver(&self, host: &Host, config: ClientConfig, envelope: Envelope) -> Delivered {
        let session = altimail_net::next_session_id();
        let log = |text: &str| self.log.session(SessionKind::SmtpClient, session, host.ip, text);
        let implicit_tls = config.tls_from_start;
        let mut client = Client::new(config, envelope);
        let addr = SocketAddr::new(host.ip, host.port);
        let mut conn = match self.connect(addr).await {
            Ok(tcp) if implicit_tls => match self.handshake(host, tcp).await {
                Ok(tls) => Conn::Tls(Box::new(tls)),
                Err(e) => {
                    let input = Input::Broken(format!("TLS handshake with {addr} failed: {e}"));
                    return finish(client.handle(input), true);
                }
            },
            Ok(tcp) => Conn::Plain(tcp),
            Err(e) => {
                log(&format!("Failed to connect to {addr}: {e}"));
                return finish(client.handle(Input::Broken(format!("Connection to {addr} failed: {e}"))), false);
            }
        };
        let mut reader = ReplyReader::new();
        let mut input = read_reply(&mut conn, &mut reader, &log, REPLY_TIMEOUT).await;
        let mut tls_failed = false;
        loop {
            match client.handle(input) {
                Action::Send { bytes, log: line } => {
                    if !line.is_empty() {
                        log(&format!("SENT: {line}"));
                    }
                    let Some(io) = conn.io() else { return finish(client.handle(gone()), tls_failed) };
                    let wait = if client.awaiting_data_end() { DATA_END_TIMEOUT } else { REPLY_TIMEOUT };
                    input = match tokio::time::timeout(REPLY_TIMEOUT, io.write_all(&bytes)).await {
                        Ok(Ok(())) => read_reply(&mut conn, &mut reader, &log, wait).await,
                        Ok(Err(e)) => Input::Broken(format!("write failed: {e}")),
                        Err(_) => Input::Broken("write timed out".into()),
                    };
                }
                Action::StartTls => {
                    if reader.has_pending() {
                        input = Input::Broken("data after the STARTTLS reply".into());
                        continue;
                    }
                    let Conn::Plain(tcp) = std::mem::replace(&mut conn, Conn::Gone) else {
                        input = gone();
                        continue;
                    };
                    input = match self.handshake(host, tcp).await {
                        Ok(tls) => {
                            conn = Conn::Tls(Box::new(tls));
                            Input::TlsReady
                        }
                        Err(e) => {
                            tls_failed = true;
                            log(&format!("TLS handshake failed: {e}"));
                            Input::Broken(format!("TLS handshake failed: {e}"))
                        }
                    };
                }
                Action::Done(outcome) => {
                    for w in &outcome.warnings {
                        tracing::warn!("delivery to {addr}: {w}");
                        log(&format!("Warning: {w}"));
                    }
                    if outcome.quit
                        && let Some(io) = conn.io()
                    {
                        log("SENT: QUIT");
                        let quit = async {
                            io.write_all(b"QUIT\r\n").await?;
                            let mut buf = [0u8; 512];
                            let _ = io.read(&mut buf).await?;
                            io.shutdown().await
                        };
                        let _ = tokio::time::timeout(QUIT_TIMEOUT, quit).await;
                    }
                    return Delivered { outcome, tls_failed };
                }
            }
        }
    }
}

fn gone() -> Input {
    Input::Broken("connection closed".into())
}

fn finish(action: Action, tls_failed: bool) -> Delivered {
    match action {
        Action::Done(outcome) => Delivered { outcome, tls_failed },
        // The client ends on Broken input; anything else is a bug worth a temporary failure.
        _ => Delivered { outcome: Outcome { try_next_host: true, ..Outcome::default() }, tls_failed },
    }
}

async fn read_reply(conn: &mut Conn, reader: &mut ReplyReader, log: &impl Fn(&str), wait: Duration) -> Input {
    loop {
        match reader.next_reply() {
            Ok(Some(reply)) => {
                log(&format!(
                    "RECEIVED: {}",
                    reply.lines.iter().map(|l| format!("{} {l}", reply.code)).collect::<Vec<_>>().join("\r\n")
                ));
                return Input::Reply(reply);
            }
            Ok(None) => {}
            Err(e) => return Input::Broken(e.to_string()),
        }
        let Some(io) = conn.io() else { return gone() };
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(wait, io.read(&mut buf)).await {
            Ok(Ok(0)) => return gone(),
            Ok(Ok(n)) => reader.feed(&buf[..n]),
            Ok(Err(e)) => return Input::Broken(format!("read failed: {e}")),
            Err(_) => return Input::Broken("timed out waiting for the server".into()),
        }
    }
}
