//! The TLS configuration of each TLS port, loaded once and reloaded when its files change.
//!
//! A port's certificate is its `hm_sslcertificates` row; certificate id 0, or an id whose row
//! is gone, means the server's own certificate: the one obtained from an ACME CA
//! (`{data}/certificates/acme.pem`) when there is one, else the self-signed certificate of
//! [`ensure_self_signed`]. Loaded configurations are kept per (certificate id, `SslVersions`)
//! together with the files' paths and modification times, so a renewed certificate (same
//! path, new mtime) is picked up on the next reconcile without rebinding the port, and an unchanged one is not parsed again every second.
//!
//! Loading reads two small files (and, once, generates a key) on the calling task; that is
//! short, and it only happens on the listener's reconcile task, never per connection.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use rustls::ServerConfig;

use altimail_store::Db;
use altimail_store::repo::certificates;
use altimail_store::repo::ports::Port;

use crate::NetError;
use crate::tls::{ACME_FILE, ensure_self_signed, server_config};

#[derive(Debug)]
pub(crate) struct TlsConfigs {
    self_signed_dir: PathBuf,
    loaded: HashMap<(i64, i64), Loaded>,
    warned_missing: HashSet<i64>,
}

#[derive(Debug, Clone)]
struct Loaded {
    cert: PathBuf,
    key: PathBuf,
    mtimes: (Option<SystemTime>, Option<SystemTime>),
    config: Arc<ServerConfig>,
}

impl TlsConfigs {
    /// Keeps the self-signed certificate in `self_signed_dir`.
    pub(crate) fn new(self_signed_dir: PathBuf) -> Self {
        TlsConfigs { self_signed_dir, loaded: HashMap::new(), warned_missing: HashSet::new() }
    }

    /// Forgets every loaded configuration, so the next pass reads each certificate and key
    /// again even when their modification times look unchanged (a reload on SIGHUP).
    pub(crate) fn forget(&mut self) {
        self.loaded.clear();
        self.warned_missing.clear();
    }

    /// The configuration for a TLS port; `host_name` names the self-signed certificate when one
    /// has to be generated, `versions` is the `SslVersions` setting.
    pub(crate) async fn for_port(
        &mut self,
        db: &Db,
        port: &Port,
        host_name: &str,
        versions: i64,
    ) -> Result<Arc<ServerConfig>, NetError> {
        let row = match port.certificate_id {
            0 => None,
            id => {
                let row = certificates::get(db, id).await?;
                if row.is_none() && self.warned_missing.insert(id) {
                    tracing::warn!(
                        "port {}: certificate {id} does not exist; using the self-signed certificate",
                        port.port
                    );
                }
                row
            }
        };
        let (id, cert, key) = match row {
            Some(c) => (c.id, PathBuf::from(c.certificate_file), PathBuf::from(c.private_key_file)),
            None => {
                let acme = self.self_signed_dir.join(ACME_FILE);
                if acme.is_file() {
                    (0, acme.clone(), acme)
                } else {
                    let (cert, key) = ensure_self_signed(&self.self_signed_dir, host_name)?;
                    (0, cert, key)
                }
            }
        };
        let mtimes = (mtime(&cert), mtime(&key));
        if let Some(done) = self.loaded.get(&(id, versions))
            && done.cert == cert
            && done.key == key
            && done.mtimes == mtimes
        {
            return Ok(done.config.clone());
        }
        let config = server_config(&cert, &key, versions)?;
        tracing::info!("loaded TLS certificate {}", cert.display());
        self.loaded.insert((id, versions), Loaded { cert, key, mtimes, config: config.clone() });
        Ok(config)
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
