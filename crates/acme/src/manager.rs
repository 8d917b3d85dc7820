//! The loop that keeps the certificate current while the server runs.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use altimail_net::AcmeChallenges;

use crate::error::AcmeError;
use crate::files::{CertificateInfo, Status, certificate_path, take_request, write_certificate, write_status};
use crate::order::obtain;
use crate::schedule::Backoff;
use crate::settings::AcmeSettings;

/// The longest one attempt may take, account and validation included.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(300);
/// How often the loop wakes to look at the renewal request file and the clock.
const TICK: Duration = Duration::from_secs(2);

/// Obtains and renews the certificate of [`AcmeSettings`]'s names.
#[derive(Debug)]
pub struct Manager {
    settings: AcmeSettings,
    names: Vec<String>,
    data_dir: PathBuf,
    challenges: AcmeChallenges,
    backoff: Backoff,
}

impl Manager {
    /// A manager for `names` (the settings' names, or the host name when they are empty),
    /// keeping its files in `data_dir` and answering through `challenges`.
    pub fn new(settings: AcmeSettings, names: Vec<String>, data_dir: PathBuf, challenges: AcmeChallenges) -> Manager {
        Manager { settings, names, data_dir, challenges, backoff: Backoff::default() }
    }

    /// Retries after failures start at `first` and double up to `most` (5 minutes and 6 hours
    /// by default).
    pub fn with_backoff(mut self, first: Duration, most: Duration) -> Manager {
        self.backoff = Backoff::new(first, most);
        self
    }

    /// The names the certificate is for.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Why a new certificate is needed now, or when the current one is due.
    fn due(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
        match CertificateInfo::read(&certificate_path(&self.data_dir)) {
            Ok(None) => Err("no certificate yet".into()),
            Ok(Some(info)) if !info.covers(&self.names) => {
                Err(format!("the certificate is for {}, not {}", info.names.join(", "), self.names.join(", ")))
            }
            Ok(Some(info)) if now >= info.renew_at => {
                Err(format!("a third of its lifetime is left (it expires {})", info.not_after.to_rfc3339()))
            }
            Ok(Some(info)) => Ok(info.renew_at),
            Err(e) => Err(format!("the certificate cannot be read ({e})")),
        }
    }

    /// Orders a certificate now and puts it in place; returns what was written.
    ///
    /// # Errors
    ///
    /// Whatever stopped the order; the file in place is left as it was.
    pub async fn renew_now(&self) -> Result<CertificateInfo, AcmeError> {
        let attempt = obtain(&self.settings, &self.names, &self.data_dir, &self.challenges);
        let issued = tokio::time::timeout(ATTEMPT_LIMIT, attempt)
            .await
            .map_err(|_| AcmeError::TimedOut(ATTEMPT_LIMIT.as_secs()))??;
        let path = write_certificate(&self.data_dir, &issued.chain_pem, &issued.key_pem)?;
        CertificateInfo::read(&path)?.ok_or_else(|| AcmeError::Files(format!("{}: gone after writing", path.display())))
    }

    /// Runs until `stop` turns true: renews when due, when the names change or when
    /// `altimail cert renew` asks, calls `renewed` after each new certificate is in place (the
    /// server reloads its TLS ports then), and retries failures with a growing delay.
    pub async fn run(mut self, renewed: impl Fn() + Send, mut stop: watch::Receiver<bool>) {
        tracing::info!(
            "ACME: certificate for {} from {} ({})",
            self.names.join(", "),
            self.settings.directory,
            self.settings.challenge.as_str()
        );
        let mut retry_at: Option<DateTime<Utc>> = None;
        loop {
            let now = Utc::now();
            let requested = take_request(&self.data_dir);
            let reason = match (requested, self.due(now)) {
                (true, _) => Some("renewal requested (altimail cert renew)".to_owned()),
                (false, Err(why)) if retry_at.is_none_or(|at| now >= at) => Some(why),
                _ => None,
            };
            if let Some(reason) = reason {
                tracing::info!("ACME: ordering a certificate for {}: {reason}", self.names.join(", "));
                let (succeeded, message, next) = match self.renew_now().await {
                    Ok(info) => {
                        self.backoff.succeeded();
                        retry_at = None;
                        let message = format!(
                            "new certificate for {} from {}, valid until {}, renewal from {}",
                            info.names.join(", "),
                            info.issuer,
                            info.not_after.to_rfc3339(),
                            info.renew_at.to_rfc3339()
                        );
                        tracing::info!("ACME: {message}");
                        renewed();
                        (true, message, info.renew_at)
                    }
                    Err(e) => {
                        let delay = self.backoff.failed();
                        let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
                        retry_at = Some(at);
                        let kept = match CertificateInfo::read(&certificate_path(&self.data_dir)) {
                            Ok(Some(_)) => "the current certificate stays in place",
                            _ => "the TLS ports keep their current certificate",
                        };
                        tracing::error!("ACME: {e}; {kept}; next attempt in {}s", delay.as_secs());
                        (false, e.to_string(), at)
                    }
                };
                write_status(
                    &self.data_dir,
                    &Status { last_attempt: Utc::now(), succeeded, message, next_attempt: next },
                );
            }
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }
}
