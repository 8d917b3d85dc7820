//! The set of running session tasks, so shutdown can wait for them and then abort stragglers.
//!
//! A `JoinSet` behind a mutex: accept loops add tasks, and every addition first reaps finished
//! ones, so a long-running server does not accumulate results.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinSet;

#[derive(Debug, Default)]
pub(crate) struct Sessions {
    tasks: Mutex<JoinSet<()>>,
}

impl Sessions {
    pub(crate) fn spawn(&self, session: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(session);
    }

    /// Waits up to `timeout` for every session to end, then aborts the rest.
    ///
    /// # Returns
    ///
    /// The number of sessions aborted.
    pub(crate) async fn drain(&self, timeout: Duration) -> usize {
        let mut tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        let all_done = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(timeout, all_done).await.is_ok() {
            return 0;
        }
        while tasks.try_join_next().is_some() {}
        let left = tasks.len();
        tasks.shutdown().await;
        left
    }
}
