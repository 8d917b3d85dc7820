//! The "run function" action's hook: a scripting engine calls a function of the administrator's
//! script with the message (hMailServer: `<FunctionName>(oMessage)`), which may change it.

/// Runs script functions for the "run function" rule action.
pub trait ScriptEngine: Send + Sync {
    /// Calls `function` with the message `raw`; returns the message as the script left it when
    /// it changed it, `None` when it did not (or when no script could run).
    fn run_function(&self, function: &str, raw: &[u8]) -> Option<Vec<u8>>;
}

/// The engine used while no scripting engine is configured: it logs that the function was
/// not run and leaves the message as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoScriptEngine;

impl ScriptEngine for NoScriptEngine {
    fn run_function(&self, function: &str, _raw: &[u8]) -> Option<Vec<u8>> {
        tracing::warn!("rule action: script function {function} not run: no script engine is configured");
        None
    }
}
