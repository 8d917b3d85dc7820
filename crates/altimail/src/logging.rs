//! The server's own log (stderr, or the journal under systemd): its filter can change while the
//! server runs, from `[log] level` in altimail.toml on SIGHUP. `RUST_LOG`, when set, wins over
//! the file, at the start and on every reload.

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

type Reload = Box<dyn Fn(EnvFilter) -> Result<(), String> + Send + Sync>;

static RELOAD: OnceLock<Reload> = OnceLock::new();

/// Human-readable logs on stderr (`RUST_LOG` overrides the level). Administration commands only
/// print warnings, so their output stays clean for scripts.
pub fn init(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .with_filter_reloading();
    let handle = builder.reload_handle();
    if builder.try_init().is_ok() {
        let _ = RELOAD.set(Box::new(move |filter| handle.reload(filter).map_err(|e| e.to_string())));
    }
}

/// Whether `RUST_LOG` decides the filter.
pub fn from_environment() -> bool {
    std::env::var_os(EnvFilter::DEFAULT_ENV).is_some_and(|v| !v.is_empty())
}

/// Checks a filter such as `info` or `warn,altimail_smtp=debug`.
pub fn parse(level: &str) -> Result<EnvFilter, String> {
    EnvFilter::try_new(level).map_err(|e| e.to_string())
}

/// Applies `level` (already checked with [`parse`]) unless `RUST_LOG` is set.
pub fn apply(level: &str) {
    if from_environment() {
        return;
    }
    let Some(reload) = RELOAD.get() else { return };
    match parse(level).and_then(reload) {
        Ok(()) => {}
        Err(e) => tracing::error!("log level {level:?}: {e}"),
    }
}
