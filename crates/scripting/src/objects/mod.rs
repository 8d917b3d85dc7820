//! The objects scripts see: `Result`, `Client` (`oClient`), `Message` (`oMessage`),
//! `EventLog`, and what `CreateObject` makes.

mod client;
mod eventlog;
mod factories;
pub mod headers;
mod message;
mod result;

pub use client::{ClientInfo, ClientObject};
pub use eventlog::EventLog;
pub use factories::register;
pub use message::{MessageInfo, MessageObject, SavedMessage, ScriptRecipient};
pub use result::{EventResult, ResultObject};

use altimail_vbscript::{HostError, Value};

/// A value as text, as VBScript converts it (Null and Empty become "").
fn to_string(value: &Value) -> Result<String, HostError> {
    match value {
        Value::Null | Value::Empty => Ok(String::new()),
        other => Ok(other.to_str().map_err(HostError::from)?.to_string()),
    }
}
