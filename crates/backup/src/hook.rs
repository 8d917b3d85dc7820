//! What a finished backup or restore tells the rest of the server.
//!
//! hMailServer raises the script events `OnBackupCompleted` and `OnBackupFailed` here. Altimail
//! has no scripting engine yet: callers pass a hook, and the scripting engine will plug its
//! events into this same function when it exists.

/// How a backup or restore ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    /// With hMailServer's reason text, e.g. "The specified backup directory is not accessible: …".
    Failed(String),
}

/// Called once with the outcome of each backup and restore.
pub type Hook<'a> = &'a (dyn Fn(&Outcome) + Send + Sync);

/// A hook that does nothing.
pub fn no_hook(_: &Outcome) {}
