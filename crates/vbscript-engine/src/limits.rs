//! The budgets of a script: what one call may use before it is stopped with an error.

use std::time::Duration;

/// Budgets per call of the engine ([`crate::Engine::call`] or [`crate::Engine::run_main`]).
///
/// The defaults are generous for event handlers (which take microseconds) and small enough
/// that a runaway script cannot hold a server thread or its memory for long.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Statements and loop turns per call.
    pub max_steps: u64,
    /// Wall-clock time per call.
    pub max_duration: Duration,
    /// Bytes of strings and array elements made per call, counted as they are made (so an
    /// upper bound of what the call holds at any moment).
    pub max_allocated_bytes: usize,
    /// Length of one string, in bytes.
    pub max_string_bytes: usize,
    /// Elements of one array.
    pub max_array_elements: usize,
    /// Nested calls of script procedures (and `Eval` / `ExecuteGlobal`).
    pub max_call_depth: usize,
    /// Size of a script's source (also for `ExecuteGlobal` and `Eval`).
    pub max_source_bytes: usize,
    /// Tokens of one statement (lines joined by `_` count as one).
    pub max_tokens_per_statement: usize,
    /// Depth of an operator expression after grouping.
    pub max_expression_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 10_000_000,
            max_duration: Duration::from_secs(10),
            max_allocated_bytes: 256 * 1024 * 1024,
            max_string_bytes: 16 * 1024 * 1024,
            max_array_elements: 1_000_000,
            max_call_depth: 200,
            max_source_bytes: 4 * 1024 * 1024,
            max_tokens_per_statement: 4_000,
            max_expression_depth: 1_000,
        }
    }
}
