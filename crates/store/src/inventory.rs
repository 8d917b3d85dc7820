//! What a database holds, and whether the message files its rows name are on disk: the survey
//! taken before moving an installation. Reads only; never changes the database.

use std::path::PathBuf;

use crate::StoreError;
use crate::db::Db;
use crate::files::{Location, MessageFiles};

/// Rows read per statement while walking the messages.
const PAGE: i64 = 1000;
/// Missing files listed by name; beyond this they are only counted.
const LISTED_MISSING: usize = 100;

/// The survey of one database and data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Inventory {
    pub domains: i64,
    pub accounts: i64,
    pub aliases: i64,
    pub distribution_lists: i64,
    /// Messages in account mailboxes.
    pub mailbox_messages: i64,
    /// Messages in public folders.
    pub public_messages: i64,
    /// Messages in the delivery queue.
    pub queued_messages: i64,
    /// The sizes the database records, summed.
    pub bytes_in_database: i64,
    /// The sizes of the files found on disk, summed.
    pub bytes_on_disk: u64,
    /// How many message files are missing.
    pub missing_files: i64,
    /// The first [`LISTED_MISSING`] of them.
    pub missing: Vec<MissingFile>,
}

impl Inventory {
    pub fn messages(&self) -> i64 {
        self.mailbox_messages + self.public_messages + self.queued_messages
    }
}

/// A message row whose file is not where it should be.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MissingFile {
    pub message_id: i64,
    /// The account's address, `#Public`, or `queue`.
    pub owner: String,
    pub path: PathBuf,
}

/// Counts the objects of the database and looks for every message's file under `files`.
pub async fn survey(db: &Db, files: &MessageFiles) -> Result<Inventory, StoreError> {
    let mut inv = Inventory {
        domains: count(db, "hm_domains").await?,
        accounts: count(db, "hm_accounts").await?,
        aliases: count(db, "hm_aliases").await?,
        distribution_lists: count(db, "hm_distributionlists").await?,
        ..Inventory::default()
    };
    let mut after = 0i64;
    loop {
        let sql = format!(
            "SELECT m.messageid, m.messagetype, m.messageaccountid, m.messagefolderid, m.messagefilename, \
             m.messagesize, a.accountaddress FROM hm_messages m \
             LEFT JOIN hm_accounts a ON a.accountid = m.messageaccountid \
             WHERE m.messageid > ? ORDER BY m.messageid LIMIT {PAGE}"
        );
        let rows = db.fetch_all(&sql, &[after.into()]).await?;
        for row in &rows {
            let id = row.int("messageid")?;
            after = id;
            let account_id = row.int("messageaccountid")?;
            let address = row.opt_text("accountaddress")?.unwrap_or_default();
            let (location, owner) = if row.int("messagetype")? == 2 && account_id > 0 {
                inv.mailbox_messages += 1;
                (Location::Account(&address), address.clone())
            } else if row.int("messagetype")? == 2 {
                inv.public_messages += 1;
                (Location::Public, crate::files::PUBLIC_FOLDER_DIR.to_owned())
            } else {
                inv.queued_messages += 1;
                (Location::Queue, "queue".to_owned())
            };
            inv.bytes_in_database += row.int("messagesize")?;
            let path = files.resolve(location, &row.text("messagefilename")?);
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => inv.bytes_on_disk += meta.len(),
                _ => {
                    inv.missing_files += 1;
                    if inv.missing.len() < LISTED_MISSING {
                        inv.missing.push(MissingFile { message_id: id, owner, path });
                    }
                }
            }
        }
        if (rows.len() as i64) < PAGE {
            return Ok(inv);
        }
    }
}

async fn count(db: &Db, table: &str) -> Result<i64, StoreError> {
    let row = db.fetch_optional(&format!("SELECT COUNT(*) AS n FROM {table}"), &[]).await?;
    Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0))
}
