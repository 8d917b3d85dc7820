//! hMailServer's `Result` object: what a handler tells the server (`Value`, `Message`,
//! `Parameter`), fresh for every call.

use std::sync::{Mutex, PoisonError};

use altimail_vbscript::{HostError, HostObject, Value};

use super::to_string;

/// What the script left in `Result` (all defaults when it did not touch it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventResult {
    pub value: i64,
    pub message: String,
    pub parameter: i64,
}

/// The `Result` object of one call.
#[derive(Debug, Default)]
pub struct ResultObject {
    state: Mutex<EventResult>,
}

impl ResultObject {
    /// A Result whose Value starts at `value` (0, or 2 for OnClientValidatePassword).
    pub fn starting_at(value: i64) -> ResultObject {
        ResultObject { state: Mutex::new(EventResult { value, ..EventResult::default() }) }
    }

    pub fn result(&self) -> EventResult {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl HostObject for ResultObject {
    fn type_name(&self) -> &str {
        "Result"
    }

    fn get_property(&self, name: &str, _args: &[Value]) -> Result<Value, HostError> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match name {
            "value" | "" => Ok(long(state.value)),
            "message" => Ok(Value::from(state.message.clone())),
            "parameter" => Ok(long(state.parameter)),
            _ => Err(HostError::NoSuchMember(name.to_owned())),
        }
    }

    fn set_property(&self, name: &str, _args: &[Value], value: Value) -> Result<(), HostError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match name {
            "value" | "" => state.value = value.to_i64().map_err(HostError::from)?,
            "message" => state.message = to_string(&value)?,
            "parameter" => state.parameter = value.to_i64().map_err(HostError::from)?,
            _ => return Err(HostError::NoSuchMember(name.to_owned())),
        }
        Ok(())
    }
}

fn long(n: i64) -> Value {
    i32::try_from(n).map(Value::Long).unwrap_or(Value::Double(n as f64))
}
