//! `hm_servermessages`: the texts of mail the server writes itself (bounces, notices).

use crate::StoreError;
use crate::db::Db;

/// The text named `name` (e.g. `SEND_FAILED_NOTIFICATION`), or `None` when the row is missing.
pub async fn text(db: &Db, name: &str) -> Result<Option<String>, StoreError> {
    let row = db.fetch_optional("SELECT smtext FROM hm_servermessages WHERE smname = ?", &[name.into()]).await?;
    row.map(|r| r.text("smtext")).transpose()
}
