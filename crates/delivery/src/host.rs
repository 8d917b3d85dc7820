//! The server's host name: the `hostname` setting, else the machine's name.

use altimail_store::repo::settings::Settings;

pub fn host_name(settings: &Settings) -> String {
    let configured = settings.string("hostname");
    if !configured.trim().is_empty() {
        return configured.trim().to_owned();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
