//! The clamd client: `INSTREAM` over TCP or a unix socket, with a timeout on the connect and
//! on every write and read, and at most a configured number of connections at once.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use crate::clamd_reply::{Framing, Reply, ReplyError, ReplyReader, chunk_header};

/// Bytes per `INSTREAM` chunk (clamd's default `StreamMaxLength` is 25 MB; chunks stay small
/// so a slow clamd holds little of ours).
pub const CHUNK: usize = 64 * 1024;

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    /// `ClamAVHost` and `ClamAVPort`.
    Tcp { host: String, port: u16 },
    /// A unix socket (`altimailclamavsocket`, clamd's `LocalSocket`).
    Unix(PathBuf),
}

impl std::fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClamdAddress::Tcp { host, port } => write!(f, "{host}:{port}"),
            ClamdAddress::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// How to reach clamd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clamd {
    pub address: ClamdAddress,
    /// For the connect, each write and the wait for the reply (hMailServer: 15-90 s).
    pub timeout: Duration,
    /// Connections open at once across the process (the first value seen counts).
    pub max_connections: usize,
}

/// Why a scan gave no verdict.
#[derive(Debug, thiserror::Error)]
pub enum ClamdError {
    #[error("Unable to connect to ClamAV server at {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("ClamAV server at {0} did not answer within {1:?}")]
    Timeout(String, Duration),
    #[error("ClamAV server at {0}: {1}")]
    Io(String, std::io::Error),
    #[error("ClamAV server at {0}: {1}")]
    Reply(String, ReplyError),
    #[error("ClamAV server at {0} reported an error: {1}")]
    Scanner(String, String),
    /// clamd stopped reading at its `StreamMaxLength`: the data was not scanned.
    #[error(
        "ClamAV server at {0} refused {1} bytes (INSTREAM size limit exceeded): not scanned; set avmaxmsgsize at most clamd's StreamMaxLength"
    )]
    SizeLimit(String, usize),
}

fn slots(max: usize) -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(max.clamp(1, 1000)))
}

impl Clamd {
    /// Scans `data`. `Ok(Reply::SizeLimit)` when clamd refuses streams this long.
    pub async fn scan(&self, data: &[u8]) -> Result<Reply, ClamdError> {
        let at = self.address.to_string();
        let wait = self.timeout.max(Duration::from_secs(1)) * 2;
        let _permit = match timeout(wait, slots(self.max_connections).acquire()).await {
            Ok(Ok(p)) => p,
            _ => return Err(ClamdError::Timeout(format!("{at} (waiting for a free connection)"), wait)),
        };
        let reply = match &self.address {
            ClamdAddress::Tcp { host, port } => {
                let stream = timeout(self.timeout, tokio::net::TcpStream::connect((host.as_str(), *port)))
                    .await
                    .map_err(|_| ClamdError::Timeout(at.clone(), self.timeout))?
                    .map_err(|e| ClamdError::Connect(at.clone(), e))?;
                self.exchange(stream, data, &at).await?
            }
            ClamdAddress::Unix(path) => {
                let stream = timeout(self.timeout, tokio::net::UnixStream::connect(path))
                    .await
                    .map_err(|_| ClamdError::Timeout(at.clone(), self.timeout))?
                    .map_err(|e| ClamdError::Connect(at.clone(), e))?;
                self.exchange(stream, data, &at).await?
            }
        };
        match reply {
            Reply::Error(text) => Err(ClamdError::Scanner(at, text)),
            other => Ok(other),
        }
    }

    async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut stream: S,
        data: &[u8],
        at: &str,
    ) -> Result<Reply, ClamdError> {
        let sent = self.send(&mut stream, data, at).await;
        // When clamd stops reading (size limit) it still answers before closing: read the
        // reply even after a failed write.
        let reply = self.receive(&mut stream, at).await;
        match (sent, reply) {
            (_, Ok(reply)) => Ok(reply),
            (Err(e), Err(_)) => Err(e),
            (Ok(()), Err(e)) => Err(e),
        }
    }

    async fn send<S: AsyncWrite + Unpin>(&self, stream: &mut S, data: &[u8], at: &str) -> Result<(), ClamdError> {
        self.write(stream, Framing::Nul.command(), at).await?;
        for chunk in data.chunks(CHUNK) {
            // CHUNK fits in u32.
            self.write(stream, &chunk_header(chunk.len() as u32), at).await?;
            self.write(stream, chunk, at).await?;
        }
        self.write(stream, &chunk_header(0), at).await?;
        timeout(self.timeout, stream.flush())
            .await
            .map_err(|_| ClamdError::Timeout(at.to_owned(), self.timeout))?
            .map_err(|e| ClamdError::Io(at.to_owned(), e))
    }

    async fn write<S: AsyncWrite + Unpin>(&self, stream: &mut S, bytes: &[u8], at: &str) -> Result<(), ClamdError> {
        timeout(self.timeout, stream.write_all(bytes))
            .await
            .map_err(|_| ClamdError::Timeout(at.to_owned(), self.timeout))?
            .map_err(|e| ClamdError::Io(at.to_owned(), e))
    }

    async fn receive<S: AsyncRead + Unpin>(&self, stream: &mut S, at: &str) -> Result<Reply, ClamdError> {
        let mut reader = ReplyReader::new(Framing::Nul);
        let mut buf = [0u8; 512];
        loop {
            let n = timeout(self.timeout, stream.read(&mut buf))
                .await
                .map_err(|_| ClamdError::Timeout(at.to_owned(), self.timeout))?
                .map_err(|e| ClamdError::Io(at.to_owned(), e))?;
            if n == 0 {
                return reader.finish().map_err(|e| ClamdError::Reply(at.to_owned(), e));
            }
            if let Some(reply) = reader.feed(&buf[..n]).map_err(|e| ClamdError::Reply(at.to_owned(), e))? {
                return Ok(reply);
            }
        }
    }
}
