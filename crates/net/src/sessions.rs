//! The set of running session tasks, so shutdown can wait for them and then abort stragglers.
//!
//! A `JoinSet` behind a mutex: accept loops add tasks, and every addition first reaps finished
//! ones, so a long-running server does not accumulate results.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::task::{JoinError, JoinSet};

#[derive(Debug, Default)]
pub(crate) struct Sessions {
    tasks: Mutex<JoinSet<()>>,
}

impl Sessions {
    pub(crate) fn spawn(&self, session: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(finished) = tasks.try_join_next() {
            log_panic(finished);
        }
        tasks.spawn(session);
    }

    /// Waits up to `timeout` for every session to end, then aborts the rest.
    ///
    /// # Returns
    ///
    /// The number of sessions aborted.
    pub(crate) async fn drain(&self, timeout: Duration) -> usize {
        let mut tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        let all_done = async {
            while let Some(finished) = tasks.join_next().await {
                log_panic(finished);
            }
        };
        if tokio::time::timeout(timeout, all_done).await.is_ok() {
            return 0;
        }
        while tasks.try_join_next().is_some() {}
        let left = tasks.len();
        tasks.shutdown().await;
        left
    }
}

/// A session task that panicked ended its connection without a word: at least the log says so.
fn log_panic(finished: Result<(), JoinError>) {
    if let Err(e) = finished
        && e.is_panic()
    {
        tracing::error!("a session task panicked: {e}");
    }
}
