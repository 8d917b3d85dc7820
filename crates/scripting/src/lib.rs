//! hMailServer's event scripts in Altimail Server: `EventHandlers.vbs` from the events
//! folder, run by the `altimail-vbscript` interpreter at hMailServer's points (REFERENCE.md §7).
//!
//! - [`Scripts`]: loading and reloading the file, the engine pool, budgets, error logging.
//! - [`Event`], [`Arg`]: the events and their arguments.
//! - [`objects`]: `Result`, `Client`, `Message`, `EventLog` and `CreateObject` factories.
//! - [`ScriptConfig`]: the settings (`usescriptserver`, `scriptlanguage`, budgets).
//!
//! The rule action "run function" goes through [`Scripts`] too: it implements
//! [`altimail_rules::ScriptEngine`].

mod config;
mod event;
pub mod objects;
mod rules;
mod scripts;

pub use config::{MEMORY_SETTING, STEPS_SETTING, ScriptConfig, TIMEOUT_SETTING};
pub use event::{Arg, Event};
pub use objects::{ClientInfo, EventResult, MessageInfo, MessageObject, SavedMessage, ScriptRecipient};
pub use scripts::{Scripts, VBSCRIPT_FILE};
