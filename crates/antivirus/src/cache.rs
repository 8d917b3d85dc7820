//! The anti-virus settings of the running server, rebuilt only when the `hm_settings` snapshot
//! they come from is replaced (the connection policy reads that snapshot again at most once a
//! second), so a message costs no database query for them.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Mutex;

use altimail_store::repo::settings::Settings;
use altimail_store::{Store, StoreError};

use crate::settings::AvSettings;

/// The [`AvSettings`] built from the latest `hm_settings` snapshot seen.
#[derive(Debug)]
pub struct SettingsCache {
    temp_dir: PathBuf,
    slot: Mutex<Option<(Arc<Settings>, Arc<AvSettings>)>>,
}

impl SettingsCache {
    /// `temp_dir` is the server's temporary directory (for external scanners' files).
    pub fn new(temp_dir: PathBuf) -> SettingsCache {
        SettingsCache { temp_dir, slot: Mutex::new(None) }
    }

    /// The settings for `snapshot`: those built before when it is the same snapshot, otherwise
    /// built now (reading the texts and the blocked attachments). The lock is held while
    /// reading, so concurrent messages wait for one read instead of each sending one.
    pub async fn get(&self, store: &Store, snapshot: &Arc<Settings>) -> Result<Arc<AvSettings>, StoreError> {
        let mut slot = self.slot.lock().await;
        if let Some((seen, built)) = slot.as_ref()
            && Arc::ptr_eq(seen, snapshot)
        {
            return Ok(built.clone());
        }
        let built = Arc::new(AvSettings::load_with(store, snapshot, &self.temp_dir).await?);
        *slot = Some((snapshot.clone(), built.clone()));
        Ok(built)
    }
}
