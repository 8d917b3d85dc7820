//! Removal of expired greylisting triplets, every `GreylistingRecordExpirationInterval` minutes.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::NaiveDateTime;

use altimail_store::StoreError;
use altimail_store::db::Db;
use altimail_store::repo::greylisting;

use super::decide::PURGING;

/// Removes the triplets whose delete time has passed at `now`; returns how many.
pub async fn purge(db: &Db, now: NaiveDateTime) -> Result<u64, StoreError> {
    PURGING.store(true, Ordering::Relaxed);
    let result = greylisting::purge_expired(db, now).await;
    PURGING.store(false, Ordering::Relaxed);
    result
}

/// Starts a task purging expired triplets every `interval` (hMailServer's default: 240
/// minutes), the first time after one interval. Abort the handle to stop it.
pub fn spawn_purge(db: Db, interval: Duration) -> tokio::task::JoinHandle<()> {
    let interval = interval.max(Duration::from_secs(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            tick.tick().await;
            match purge(&db, altimail_core::time::now_local()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("removed {n} expired greylisting triplet(s)"),
                Err(e) => tracing::warn!("could not remove expired greylisting triplets: {e}"),
            }
        }
    })
}
