//! Content scanners of Altimail Server (hMailServer's `Common/AntiVirus`): ClamAV through
//! clamd, an external scanner command, and attachment blocking.
//!
//! [`AvSettings`] is read once from the database; [`scan`] takes it and the message and
//! returns an [`AvOutcome`] (clean, infected, or a rewritten message) or an [`AvError`] when a
//! required scanner gave no verdict. [`notify::virus_notice`] builds the notice hMailServer
//! sends to sender and recipients of a deleted message.
//!
//! ```no_run
//! # async fn f(store: &altimail_store::Store, message: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! let settings = altimail_antivirus::AvSettings::load(store, std::path::Path::new("/tmp")).await?;
//! match altimail_antivirus::scan(&settings, message).await? {
//!     altimail_antivirus::AvOutcome::Clean => {}
//!     altimail_antivirus::AvOutcome::Infected { virus } => println!("deleted: {virus}"),
//!     altimail_antivirus::AvOutcome::Rewritten { message, .. } => println!("{} bytes", message.len()),
//! }
//! # Ok(()) }
//! ```
//!
//! Layout: [`clamd_reply`] (clamd's replies, no I/O), [`clamd`] (the client), [`command`]
//! (external scanner), [`attachments`] and [`wildcard`] (finding and replacing attachments),
//! [`settings`] and [`cache`] (rebuilt per `hm_settings` snapshot), [`verdict`], [`notify`].

pub mod attachments;
pub mod cache;
pub mod clamd;
pub mod clamd_reply;
pub mod command;
pub mod notify;
pub mod settings;
pub mod verdict;

pub use cache::SettingsCache;
pub use clamd::{Clamd, ClamdAddress, ClamdError};
pub use command::{CommandError, CommandScanner};
pub use settings::{AvAction, AvSettings, Texts};
pub use verdict::{AvError, AvOutcome, block_attachments, find_virus, scan};
