//! Parse errors: values naming what was wrong, answered by the session with `BAD`.

/// Why a complete command could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The line has no valid tag.
    #[error("missing or invalid tag")]
    MissingTag,
    /// The command name is not one we know.
    #[error("unknown command {0}")]
    UnknownCommand(String),
    /// A grammar element was expected at a byte offset.
    #[error("expected {what} at offset {at}")]
    Expected {
        /// What the grammar wanted.
        what: &'static str,
        /// Byte offset in the command.
        at: usize,
    },
    /// A number is out of range.
    #[error("invalid number at offset {0}")]
    BadNumber(usize),
    /// A date or date-time is invalid.
    #[error("invalid date at offset {0}")]
    BadDate(usize),
    /// Text that must be UTF-8 is not.
    #[error("invalid UTF-8 at offset {0}")]
    InvalidUtf8(usize),
    /// Bytes remain after a complete command.
    #[error("unexpected bytes at offset {0}")]
    Trailing(usize),
}
