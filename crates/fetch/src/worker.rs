//! The scheduler: every few seconds, each active external account whose `fanexttry` has come is
//! locked (`falocked`), downloaded, and rescheduled `faminutes` later, whatever the outcome.
//! Due accounts are downloaded [`PARALLEL`] at a time; a row that cannot be read (say, an
//! undecryptable `fapassword`) is logged, skipped and rescheduled, never stopping the others.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use altimail_core::time::now_local;
use altimail_delivery::Spool;
use altimail_net::HmLog;
use altimail_store::repo::fetch_accounts::{self, FetchAccount, Unreadable};
use altimail_store::{Store, StoreError};

use crate::download::{FetchError, Report};

/// How often the scheduler looks for due accounts.
pub const POLL: Duration = Duration::from_secs(5);

/// How many accounts are downloaded at once, so that one slow server does not hold up the rest.
pub const PARALLEL: usize = 4;

/// Downloads external accounts into local mailboxes through the spool.
#[derive(Clone)]
pub struct Fetcher {
    pub(crate) store: Store,
    pub(crate) spool: Spool,
    pub(crate) log: HmLog,
    /// The server's temporary directory (for external virus scanners' files).
    pub(crate) temp_dir: PathBuf,
    /// Notified to look for due accounts at once.
    pub wake: Arc<Notify>,
}

impl Fetcher {
    pub fn new(store: Store, spool: Spool, log: HmLog) -> Fetcher {
        Fetcher { store, spool, log, temp_dir: std::env::temp_dir(), wake: Arc::new(Notify::new()) }
    }

    /// The same fetcher with the server's temporary directory.
    pub fn with_temp_dir(self, temp_dir: PathBuf) -> Fetcher {
        Fetcher { temp_dir, ..self }
    }

    /// Runs until `shutdown` turns true. Clears stale locks first (nothing can be downloading
    /// at start-up). A download in progress at shutdown is finished, not cut off.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        match fetch_accounts::unlock_all(&self.store.db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("unlocked {n} external account(s) left locked by an earlier run"),
            Err(e) => tracing::warn!("could not unlock external accounts: {e}"),
        }
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.run_due_until(now_local(), &shutdown).await {
                tracing::warn!("external accounts: {e}");
            }
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Downloads every account due at `now`, up to [`PARALLEL`] at a time; returns how many ran.
    pub async fn run_due(&self, now: NaiveDateTime) -> Result<usize, StoreError> {
        let (_keep, never) = watch::channel(false);
        self.run_due_until(now, &never).await
    }

    /// [`Fetcher::run_due`], starting no further download once `shutdown` is true (those in
    /// progress are finished). A row that cannot be read is logged and rescheduled `faminutes`
    /// later; it does not stop the others, nor does a failure of one account.
    async fn run_due_until(&self, now: NaiveDateTime, shutdown: &watch::Receiver<bool>) -> Result<usize, StoreError> {
        let due = fetch_accounts::due_rows(&self.store.db, now).await?;
        for bad in due.unreadable {
            self.skip_unreadable(bad).await;
        }
        let mut running = JoinSet::new();
        let mut ran = 0;
        let mut accounts = due.accounts.into_iter();
        loop {
            while running.len() < PARALLEL && !*shutdown.borrow() {
                let Some(fa) = accounts.next() else { break };
                let me = self.clone();
                running.spawn(async move {
                    let result = match fetch_accounts::try_lock_due(&me.store.db, fa.id, now).await {
                        Ok(true) => me.run_locked(&fa).await.map(Some),
                        Ok(false) => Ok(None),
                        Err(e) => Err(e),
                    };
                    (fa, result)
                });
            }
            let Some(joined) = running.join_next().await else { break };
            match joined {
                Ok((_, Ok(Some(_)))) => ran += 1,
                Ok((_, Ok(None))) => {}
                Ok((fa, Err(e))) => tracing::warn!(account = %fa.name, "external account {}: {e}", fa.id),
                Err(e) => tracing::error!("external account download task: {e}"),
            }
        }
        Ok(ran)
    }

    /// Logs a due row that cannot be read and moves it `faminutes` (or 30) minutes on.
    async fn skip_unreadable(&self, bad: Unreadable) {
        let id = bad.id.map_or_else(|| "?".to_owned(), |id| id.to_string());
        tracing::warn!("external account {id} skipped: {}", bad.error);
        self.log.application(&format!("ExternalAccount - id {id} skipped: {}", bad.error));
        if let Some(id) = bad.id {
            let next = now_local() + chrono::Duration::minutes(bad.minutes.unwrap_or(30).max(1));
            if let Err(e) = fetch_accounts::postpone(&self.store.db, id, next).await {
                tracing::warn!("external account {id}: could not reschedule: {e}");
            }
        }
    }

    /// Locks, downloads and reschedules one account. `Ok(None)` when another worker holds its
    /// lock; `Ok(Some(Err(_)))` when the download failed (it has been logged and rescheduled).
    pub async fn run_account(&self, fa: &FetchAccount) -> Result<Option<Result<Report, FetchError>>, StoreError> {
        if !fetch_accounts::try_lock(&self.store.db, fa.id).await? {
            return Ok(None);
        }
        self.run_locked(fa).await.map(Some)
    }

    /// Downloads and reschedules an account whose lock the caller took.
    async fn run_locked(&self, fa: &FetchAccount) -> Result<Result<Report, FetchError>, StoreError> {
        let db = &self.store.db;
        let result = self.download(fa).await;
        match &result {
            Ok(r) => {
                tracing::info!(
                    account = %fa.name, downloaded = r.downloaded, deleted = r.deleted,
                    "external account downloaded"
                );
                if r.downloaded > 0 {
                    self.spool.queued.notify_one();
                }
            }
            Err(e) => {
                tracing::warn!(account = %fa.name, server = %fa.server_address, "external account download failed: {e}");
                self.log.application(&format!(
                    "ExternalAccount - {}: download from {}:{} failed: {e}",
                    fa.name, fa.server_address, fa.server_port
                ));
            }
        }
        let next = now_local() + chrono::Duration::minutes(fa.minutes.max(1));
        fetch_accounts::finish(db, fa.id, next).await?;
        Ok(result)
    }

    /// Locks and downloads the account with id `id` now, whatever its schedule.
    pub async fn run_now(&self, id: i64) -> Result<Option<Result<Report, FetchError>>, StoreError> {
        let fa = fetch_accounts::require(&self.store.db, id).await?;
        self.run_account(&fa).await
    }
}
