//! The systemd service manager protocol (`sd_notify(3)`), written out rather than linked: a few
//! `KEY=VALUE` lines in one datagram to the unix socket named by `NOTIFY_SOCKET`.
//!
//! * `READY=1` once every listener is bound and the database is open (`Type=notify`);
//! * `RELOADING=1` with `MONOTONIC_USEC`, then `READY=1`, around a SIGHUP reload;
//! * `STOPPING=1` when a stop begins;
//! * `WATCHDOG=1` at half of `WATCHDOG_USEC`, sent only while the server is healthy, so that
//!   systemd restarts a server whose runtime or database hangs (`WatchdogSec=`).
//!
//! Without `NOTIFY_SOCKET` (not started by systemd) every call does nothing. A socket name
//! starting with `@` is in Linux's abstract namespace.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Where state changes are sent, when the server runs under a service manager.
#[derive(Debug)]
pub struct Notifier {
    socket: Option<(UnixDatagram, String)>,
}

impl Notifier {
    /// The socket named by `NOTIFY_SOCKET`, if any. The variable is left in the environment:
    /// the server starts no child that should notify in its name.
    pub fn from_env() -> Notifier {
        let Some(path) = std::env::var_os("NOTIFY_SOCKET").and_then(|p| p.into_string().ok()) else {
            return Notifier { socket: None };
        };
        match UnixDatagram::unbound() {
            Ok(socket) => Notifier { socket: Some((socket, path)) },
            Err(e) => {
                tracing::warn!("NOTIFY_SOCKET={path}: cannot create a socket: {e}; systemd is not told the state");
                Notifier { socket: None }
            }
        }
    }

    /// Whether a service manager listens.
    pub fn is_active(&self) -> bool {
        self.socket.is_some()
    }

    /// Sends `state` (newline-separated `KEY=VALUE` lines). A failure is logged, never fatal.
    pub fn notify(&self, state: &str) {
        let Some((socket, path)) = &self.socket else { return };
        if let Err(e) = send(socket, path, state.as_bytes()) {
            tracing::warn!("telling systemd {:?} through {path}: {e}", state.lines().next().unwrap_or_default());
        }
    }

    /// `RELOADING=1` with the time of the request (systemd 253 and later want it).
    pub fn reloading(&self) {
        match monotonic_usec() {
            Some(usec) => self.notify(&format!("RELOADING=1\nMONOTONIC_USEC={usec}")),
            None => self.notify("RELOADING=1"),
        }
    }
}

fn send(socket: &UnixDatagram, path: &str, payload: &[u8]) -> std::io::Result<usize> {
    if let Some(name) = path.strip_prefix('@') {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            return socket.send_to_addr(payload, &addr);
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = name;
            return Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "abstract sockets are Linux-only"));
        }
    }
    socket.send_to(payload, path)
}

fn monotonic_usec() -> Option<u128> {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let secs = u128::try_from(now.tv_sec).ok()?;
    let nanos = u128::try_from(now.tv_nsec).ok()?;
    Some(secs * 1_000_000 + nanos / 1_000)
}

/// The time between two `WATCHDOG=1` pings: half of `WATCHDOG_USEC`, when it is set and meant
/// for this process (`WATCHDOG_PID` absent or ours), as `sd_watchdog_enabled(3)` decides.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    if usec == 0 {
        return None;
    }
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.trim().parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    Some(Duration::from_micros(usec / 2).max(Duration::from_millis(10)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_reach_path_and_abstract_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let server = UnixDatagram::bind(&path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        send(&client, path.to_str().unwrap(), b"READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");

        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let name = format!("altimail-notify-test-{}", std::process::id());
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
            let server = UnixDatagram::bind_addr(&addr).unwrap();
            send(&client, &format!("@{name}"), b"STOPPING=1").unwrap();
            let n = server.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"STOPPING=1");
        }
    }

    #[test]
    fn monotonic_time_is_known() {
        assert!(monotonic_usec().is_some_and(|t| t > 0));
    }
}
