//! SIGHUP: read altimail.toml and the TLS certificates again without stopping.
//!
//! What can change on a running server changes (the `[log]` level; every TLS port's
//! certificate, for the next handshakes). What needs a restart (folders, database, DNS
//! servers, storage, the API's address) is named in the log: "X changed: takes effect after a
//! restart". A file that does not parse, or a certificate that does not load, leaves the
//! running one in place and is logged as an error.

use altimail_net::{HmLog, Listeners};

use crate::config::Config;

/// What a reload did, for the log and the tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Settings applied now.
    pub applied: Vec<String>,
    /// Settings that changed in the file but wait for a restart.
    pub after_restart: Vec<String>,
    /// The file could not be read: the running configuration stays.
    pub config_error: Option<String>,
    /// Ports whose certificate could not be loaded (they keep the previous one), or that fail.
    pub certificate_errors: Vec<String>,
}

/// Reads the configuration file again, applies what can be applied, and reloads the TLS
/// certificates. `running` becomes the new configuration where it was applied.
pub async fn reload(running: &mut Config, listeners: &Listeners, log: &HmLog) -> Outcome {
    let mut outcome = Outcome::default();
    match &running.source {
        None => tracing::info!("SIGHUP: no configuration file (--config) to read again; reloading certificates"),
        Some(path) => match Config::load(Some(path)) {
            Ok(new) => {
                let (applied, after_restart) = compare(running, &new);
                if applied.iter().any(|a| a.starts_with("[log] level")) {
                    crate::logging::apply(&new.log_level);
                    running.log_level = new.log_level.clone();
                }
                outcome.applied = applied;
                outcome.after_restart = after_restart;
            }
            Err(e) => {
                let text = format!("{e:#}");
                tracing::error!("SIGHUP: {text}; the running configuration stays in force");
                log.application(&format!("Reloading the configuration failed: {text}"));
                outcome.config_error = Some(text);
            }
        },
    }
    for a in &outcome.applied {
        tracing::info!("SIGHUP: {a}");
    }
    for r in &outcome.after_restart {
        tracing::warn!("SIGHUP: {r} changed: takes effect after a restart");
    }
    outcome.certificate_errors = listeners.reload_certificates().await;
    if outcome.certificate_errors.is_empty() {
        tracing::info!("SIGHUP: certificates reloaded");
    } else {
        tracing::error!(
            "SIGHUP: {} problem(s) after reloading the certificates; a port whose certificate did not load keeps its previous one",
            outcome.certificate_errors.len()
        );
    }
    log.application("Configuration and certificates reloaded (SIGHUP)");
    outcome
}

/// (applied now, waiting for a restart), in words.
fn compare(old: &Config, new: &Config) -> (Vec<String>, Vec<String>) {
    let mut applied = Vec::new();
    if old.log_level != new.log_level {
        if crate::logging::from_environment() {
            applied
                .push(format!("[log] level is now {:?} in the file, but RUST_LOG is set and decides", new.log_level));
        } else {
            applied.push(format!("[log] level: {:?} -> {:?}", old.log_level, new.log_level));
        }
    }
    let mut restart = Vec::new();
    let mut check = |changed: bool, what: &str| {
        if changed {
            restart.push(what.to_owned());
        }
    };
    check(old.data_dir != new.data_dir, "[directories] data");
    check(old.logs_dir != new.logs_dir, "[directories] logs");
    check(old.temp_dir != new.temp_dir, "[directories] temp");
    check(old.events_dir != new.events_dir, "[directories] events");
    check(old.database != new.database, "[database]");
    check(old.dns_servers != new.dns_servers, "[dns] servers");
    check(old.flush != new.flush, "[storage] flush");
    check(old.api_listen != new.api_listen, "[api] listen");
    check(old.acme != new.acme, "[acme]");
    (applied, restart)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(dir: &tempfile::TempDir, text: &str) -> Config {
        let path = dir.path().join("altimail.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path)).unwrap()
    }

    #[test]
    fn changes_are_sorted_into_live_and_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        let old = load(&dir, "[log]\nlevel = \"info\"\n");
        let new = load(
            &dir,
            "[log]\nlevel = \"debug\"\n[dns]\nservers = [\"127.0.0.1:53\"]\n[storage]\nflush = \"each-file\"\n",
        );
        let (applied, restart) = compare(&old, &new);
        if !crate::logging::from_environment() {
            assert_eq!(applied, ["[log] level: \"info\" -> \"debug\""]);
        }
        assert_eq!(restart, ["[dns] servers", "[storage] flush"]);
        assert_eq!(compare(&old, &old), (vec![], vec![]));
    }
}
