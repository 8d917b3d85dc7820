//! `hm_servermessages`: the texts of mail the server writes itself (bounces, notices).

use crate::StoreError;
use crate::db::Db;

/// The text named `name` (e.g. `SEND_FAILED_NOTIFICATION`), or `None` when the row is missing.
pub async fn text(db: &Db, name: &str) -> Result<Option<String>, StoreError> {
    let row = db.fetch_optional("SELECT smtext FROM hm_servermessages WHERE smname = ?", &[name.into()]).await?;
    row.map(|r| r.text("smtext")).transpose()
}

/// One server message: its name and text.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerMessage {
    pub name: String,
    pub text: String,
}

/// Every server message, by name.
pub async fn list(db: &Db) -> Result<Vec<ServerMessage>, StoreError> {
    let rows = db.fetch_all("SELECT smname, smtext FROM hm_servermessages ORDER BY smname", &[]).await?;
    rows.iter().map(|r| Ok(ServerMessage { name: r.text("smname")?, text: r.text("smtext")? })).collect()
}

/// Changes the text of the existing message `name`.
pub async fn set_text(db: &Db, name: &str, text: &str) -> Result<(), StoreError> {
    // Looked up first: MySQL counts an UPDATE to the same text as no row changed.
    if self::text(db, name).await?.is_none() {
        return Err(StoreError::NotFound(format!("no server message {name}")));
    }
    db.execute("UPDATE hm_servermessages SET smtext = ? WHERE smname = ?", &[text.into(), name.into()]).await?;
    Ok(())
}
