//! Teaching the Bayesian filter from the Junk folder: a message COPYed, MOVEd or APPENDed into
//! the account's `\Junk` folder is learnt as spam; one MOVEd out of it into any folder but
//! `\Trash` is learnt as ham (which takes it out of spam first).
//!
//! The learning runs in one background task fed by a bounded queue, so the command is answered
//! without waiting; when the queue is full the job is dropped with a log line. Each message file
//! is read once, only as far as the tokenizer looks.

use std::path::PathBuf;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use altimail_antispam::bayes::{self, BayesSettings, MAX_SCAN_BYTES};
use altimail_store::repo::bayes::Class;
use altimail_store::repo::settings::Settings;
use altimail_store::repo::special_use;
use altimail_store::{Store, StoreError};

/// Jobs waiting at most; more are dropped.
const QUEUE: usize = 256;

/// Where the message to learn is.
#[derive(Debug)]
pub(crate) enum Source {
    File(PathBuf),
    /// An APPENDed message, already cut to what the tokenizer reads.
    Bytes(Vec<u8>),
}

#[derive(Debug)]
pub(crate) struct Job {
    /// The domain of the account that filed the message (the table, when tables are per domain).
    pub domain_id: i64,
    pub class: Class,
    pub source: Source,
}

/// The queue of the learning task, shared by every session.
#[derive(Debug, Clone)]
pub(crate) struct Trainer {
    queue: mpsc::Sender<Job>,
}

impl Trainer {
    /// Starts the learning task, when there is a runtime to run it on.
    pub(crate) fn start(store: Store) -> Option<Trainer> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let (queue, jobs) = mpsc::channel(QUEUE);
        handle.spawn(work(store, jobs));
        Some(Trainer { queue })
    }

    /// Queues a job; drops it when the queue is full.
    pub(crate) fn submit(&self, job: Job) {
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(job)) => {
                tracing::warn!("bayes: learning queue full, not learning a message as {:?}", job.class);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => tracing::warn!("bayes: learning task has stopped"),
        }
    }
}

async fn work(store: Store, mut jobs: mpsc::Receiver<Job>) {
    while let Some(job) = jobs.recv().await {
        if let Err(e) = learn(&store, job).await {
            tracing::warn!("bayes: learning failed: {e}");
        }
    }
}

async fn learn(store: &Store, job: Job) -> Result<(), StoreError> {
    let settings = BayesSettings::from_settings(&Settings::load(&store.db).await?);
    if !settings.enabled {
        return Ok(());
    }
    let raw = match job.source {
        Source::Bytes(b) => b,
        Source::File(path) => match read_head(&path).await {
            Ok(b) => b,
            Err(e) => {
                tracing::info!("bayes: cannot read {}: {e}", path.display());
                return Ok(());
            }
        },
    };
    let scope = settings.scope(job.domain_id);
    let learnt = bayes::learn(&store.db, scope, &raw, job.class).await?;
    tracing::debug!("bayes: learnt a message as {:?} in scope {scope}: {learnt:?}", job.class);
    Ok(())
}

/// The first [`MAX_SCAN_BYTES`] of a file.
async fn read_head(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let file = tokio::fs::File::open(path).await?;
    let mut buf = Vec::new();
    file.take(MAX_SCAN_BYTES as u64).read_to_end(&mut buf).await?;
    Ok(buf)
}

/// The account's `\Junk` and `\Trash` folder ids.
pub(crate) async fn special_folders(store: &Store, account_id: i64) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    let mut junk = Vec::new();
    let mut trash = Vec::new();
    for (folder, attribute) in special_use::list(&store.db, account_id).await? {
        if attribute.eq_ignore_ascii_case("\\Junk") {
            junk.push(folder);
        } else if attribute.eq_ignore_ascii_case("\\Trash") {
            trash.push(folder);
        }
    }
    Ok((junk, trash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_jobs_instead_of_waiting() {
        let (queue, mut jobs) = mpsc::channel(QUEUE);
        let trainer = Trainer { queue };
        for _ in 0..QUEUE + 10 {
            trainer.submit(Job { domain_id: 1, class: Class::Spam, source: Source::Bytes(b"x".to_vec()) });
        }
        let mut queued = 0;
        while jobs.try_recv().is_ok() {
            queued += 1;
        }
        assert_eq!(queued, QUEUE);
    }
}
