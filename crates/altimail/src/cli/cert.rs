//! `altimail cert status|renew`: the certificate obtained from the ACME CA (`[acme]`).
//!
//! The running server owns the orders (the CA validates through its listeners), so `renew`
//! leaves a request in the data folder and waits for the server's answer in its status file.

use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Subcommand;
use serde::Serialize;

use altimail_acme::{CertificateInfo, certificate_path, read_status, request_renewal};

use crate::cli::Output;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum CertCmd {
    /// The ACME settings, the certificate in place (names, issuer, validity, renewal date) and
    /// how the last attempt went.
    Status,
    /// Ask the running server to order a new certificate now, and wait for the outcome.
    Renew {
        /// How long to wait for the server's answer, in seconds.
        #[arg(long, default_value_t = 300)]
        wait: u64,
    },
}

#[derive(Debug, Serialize)]
struct StatusView {
    acme: String,
    directory: String,
    challenge: String,
    names: String,
    file: String,
    certificate_names: String,
    issuer: String,
    not_before: String,
    not_after: String,
    renew_from: String,
    last_attempt: String,
    last_result: String,
    next_attempt: String,
}

pub async fn run(command: CertCmd, config: &Config, out: &Output) -> anyhow::Result<()> {
    match command {
        CertCmd::Status => status(config, out),
        CertCmd::Renew { wait } => renew(config, out, Duration::from_secs(wait)).await,
    }
}

fn status(config: &Config, out: &Output) -> anyhow::Result<()> {
    let path = certificate_path(&config.data_dir);
    let info = CertificateInfo::read(&path)?;
    let last = read_status(&config.data_dir);
    let dash = || "-".to_owned();
    let view = StatusView {
        acme: if config.acme.is_some() { "on".into() } else { "off ([acme] enabled = true in altimail.toml)".into() },
        directory: config.acme.as_ref().map_or_else(dash, |a| a.directory.clone()),
        challenge: config.acme.as_ref().map_or_else(dash, |a| a.challenge.as_str().to_owned()),
        names: match &config.acme {
            Some(a) if a.names.is_empty() => "the host name (setting hostname)".into(),
            Some(a) => a.names.join(", "),
            None => dash(),
        },
        file: if info.is_some() { path.display().to_string() } else { format!("{} (none yet)", path.display()) },
        certificate_names: info.as_ref().map_or_else(dash, |i| i.names.join(", ")),
        issuer: info.as_ref().map_or_else(dash, |i| i.issuer.clone()),
        not_before: info.as_ref().map_or_else(dash, |i| i.not_before.to_rfc3339()),
        not_after: info.as_ref().map_or_else(dash, |i| i.not_after.to_rfc3339()),
        renew_from: info.as_ref().map_or_else(dash, |i| i.renew_at.to_rfc3339()),
        last_attempt: last.as_ref().map_or_else(dash, |s| s.last_attempt.to_rfc3339()),
        last_result: last
            .as_ref()
            .map_or_else(dash, |s| format!("{}: {}", if s.succeeded { "succeeded" } else { "failed" }, s.message)),
        next_attempt: last.as_ref().map_or_else(dash, |s| s.next_attempt.to_rfc3339()),
    };
    out.object(&view)
}

async fn renew(config: &Config, out: &Output, wait: Duration) -> anyhow::Result<()> {
    if config.acme.is_none() {
        bail!("ACME is off: set [acme] enabled = true (and names, contact) in altimail.toml, then restart the server");
    }
    if !server_running(config) {
        bail!(
            "the server is not running on {}: start it, it orders the certificate itself (the CA validates through its listeners)",
            config.data_dir.display()
        );
    }
    let asked = request_renewal(&config.data_dir)?;
    let started = Instant::now();
    loop {
        if let Some(status) = read_status(&config.data_dir)
            && status.last_attempt >= asked
        {
            if status.succeeded {
                return out.done(&status.message, &status);
            }
            bail!("{}", status.message);
        }
        if started.elapsed() >= wait {
            bail!("no answer from the server within {}s; see its log and `altimail cert status`", wait.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Whether a server holds the data folder's lock (`altimail.lock`, taken by `serve`).
fn server_running(config: &Config) -> bool {
    let Ok(file) = std::fs::File::open(config.data_dir.join("altimail.lock")) else {
        return false;
    };
    matches!(file.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock))
}
