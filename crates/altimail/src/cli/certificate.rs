//! `altimail certificate …`

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;

use altimail_store::Store;
use altimail_store::repo::certificates;

use super::output::Output;

#[derive(Debug, Subcommand)]
pub enum CertificateCmd {
    /// Register a PEM certificate (chain) and its PEM private key.
    Add {
        /// A name for the certificate.
        name: String,
        /// The PEM certificate file (the chain, the server's certificate first).
        #[arg(long, value_name = "FILE")]
        cert: PathBuf,
        /// The PEM private key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// List certificates.
    List,
    /// Remove a certificate (refused while a port uses it).
    Remove {
        /// The certificate's id (see `altimail certificate list`).
        id: i64,
    },
}

pub async fn run(cmd: CertificateCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        CertificateCmd::Add { name, cert, key } => {
            for (what, file) in [("certificate", &cert), ("key", &key)] {
                let text =
                    std::fs::read_to_string(file).with_context(|| format!("cannot read {what} {}", file.display()))?;
                if !text.contains("-----BEGIN") {
                    bail!("{} is not a PEM file", file.display());
                }
            }
            let cert = std::path::absolute(&cert)?;
            let key = std::path::absolute(&key)?;
            let c = certificates::create(db, &name, &cert.display().to_string(), &key.display().to_string()).await?;
            out.done(&format!("certificate {} added as id {}", c.name, c.id), &c)
        }
        CertificateCmd::List => {
            let all = certificates::list(db).await?;
            let rows = all
                .iter()
                .map(|c| vec![c.id.to_string(), c.name.clone(), c.certificate_file.clone(), c.private_key_file.clone()])
                .collect();
            out.table(&all, &["ID", "NAME", "CERTIFICATE-FILE", "PRIVATE-KEY-FILE"], rows)
        }
        CertificateCmd::Remove { id } => {
            let Some(c) = certificates::get(db, id).await? else { bail!("no certificate {id}") };
            certificates::delete(db, id).await?;
            out.done(&format!("certificate {id} removed"), &c)
        }
    }
}
