//! Script errors: VBScript's error numbers and messages, with the line they happened on.

use std::fmt;

/// An error of a script, at compile time or at run time.
///
/// `number` is VBScript's error number (`Err.Number`), so a script that tests it sees the
/// numbers it would see on Windows. `line` is 1-based, 0 when unknown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ScriptError {
    pub number: i32,
    pub description: String,
    pub line: u32,
    pub kind: ErrorKind,
}

/// What kind of error this is, which decides whether `On Error Resume Next` may swallow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The script does not parse or uses something this interpreter does not support.
    Compile,
    /// An ordinary run-time error: `On Error Resume Next` continues after it.
    Runtime,
    /// A budget was exceeded (steps, time, memory, call depth): always ends the call.
    Limit,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::Compile => "compilation error",
            ErrorKind::Runtime => "runtime error",
            ErrorKind::Limit => "limit exceeded",
        };
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        write!(f, "{kind} {}: {}", self.number, self.description)
    }
}

impl ScriptError {
    pub fn runtime(number: i32, description: impl Into<String>) -> Self {
        ScriptError { number, description: description.into(), line: 0, kind: ErrorKind::Runtime }
    }

    pub fn compile(description: impl Into<String>, line: u32) -> Self {
        ScriptError { number: 1002, description: description.into(), line, kind: ErrorKind::Compile }
    }

    pub fn limit(description: impl Into<String>) -> Self {
        ScriptError { number: 7, description: description.into(), line: 0, kind: ErrorKind::Limit }
    }

    /// Sets the line if the error does not have one yet.
    pub fn at_line(mut self, line: u32) -> Self {
        if self.line == 0 {
            self.line = line;
        }
        self
    }

    pub fn type_mismatch(what: &str) -> Self {
        Self::runtime(13, format!("Type mismatch: '{what}'"))
    }

    pub fn overflow() -> Self {
        Self::runtime(6, "Overflow")
    }

    pub fn division_by_zero() -> Self {
        Self::runtime(11, "Division by zero")
    }

    pub fn invalid_call(what: &str) -> Self {
        Self::runtime(5, format!("Invalid procedure call or argument: '{what}'"))
    }

    pub fn subscript_out_of_range() -> Self {
        Self::runtime(9, "Subscript out of range")
    }

    pub fn object_required(what: &str) -> Self {
        Self::runtime(424, format!("Object required: '{what}'"))
    }

    pub fn undefined_variable(name: &str) -> Self {
        Self::runtime(500, format!("Variable is undefined: '{name}'"))
    }

    pub fn wrong_arguments(name: &str) -> Self {
        Self::runtime(450, format!("Wrong number of arguments or invalid property assignment: '{name}'"))
    }

    pub fn unsupported_member(name: &str) -> Self {
        Self::runtime(438, format!("Object doesn't support this property or method: '{name}'"))
    }

    pub fn is_catchable(&self) -> bool {
        self.kind == ErrorKind::Runtime
    }
}

/// What a host object answers when a call on it fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HostError {
    /// The object has no such property or method: the interpreter may try the other kind
    /// of member (a property read falls back to a method call and the other way round).
    #[error("Object doesn't support this property or method: '{0}'")]
    NoSuchMember(String),
    /// Any other failure, as a VBScript error number and description.
    #[error("{1}")]
    Failed(i32, String),
}

impl HostError {
    pub fn failed(description: impl Into<String>) -> Self {
        HostError::Failed(5, description.into())
    }
}

impl From<HostError> for ScriptError {
    fn from(error: HostError) -> Self {
        match error {
            HostError::NoSuchMember(name) => ScriptError::unsupported_member(&name),
            HostError::Failed(number, description) => ScriptError::runtime(number, description),
        }
    }
}

impl From<ScriptError> for HostError {
    fn from(error: ScriptError) -> Self {
        HostError::Failed(error.number, error.description)
    }
}
