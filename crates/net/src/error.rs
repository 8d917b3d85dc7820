//! The crate's error type.
//!
//! Failures of this layer are the server's own (files, certificates, sockets, the database),
//! never a peer's: a client that misbehaves during a handshake or is refused by policy is a normal
//! outcome, logged and closed, not an error value.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use altimail_store::StoreError;

/// Why setting up a listener or its TLS material failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A certificate, key or log file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file (or directory) concerned.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A PEM file holds nothing usable of the expected kind.
    #[error("{path}: {reason}")]
    Pem {
        /// The PEM file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the certificate chain or private key (for example, they do not match).
    #[error("{cert}: {source}")]
    Tls {
        /// The certificate file the configuration was built from.
        cert: PathBuf,
        /// rustls's reason.
        source: rustls::Error,
    },
    /// The self-signed certificate could not be generated.
    #[error("generating a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The database could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },
}

impl NetError {
    pub(crate) fn file(path: impl Into<PathBuf>, source: io::Error) -> Self {
        NetError::File { path: path.into(), source }
    }
}
