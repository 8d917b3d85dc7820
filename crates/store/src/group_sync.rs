//! Making a group of new message files durable at once.
//!
//! The spool's group commit and local delivery write many files (with
//! [`MessageFiles::write_unsynced`]) and then need all of them on disk, names included, before
//! they commit the rows that refer to them. An fdatasync per file and an fsync per directory
//! cost a device flush each; on Linux one `syncfs(2)` of the file system writes everything back
//! and flushes once ([`Flush::FileSystem`], the default).
//!
//! syncfs reports a write-back error once per descriptor: to the first syncfs on it after the
//! error (or, for a descriptor opened later, only if nobody has seen the error yet). So:
//! - each writer keeps its own [`GroupSync`], with one descriptor per file system, so another
//!   writer's syncfs cannot take an error meant for it;
//! - a descriptor is trusted only for files whose writing started after it was opened and after
//!   its last reported error (an error reported to one group may belong to a file of the next
//!   group, already written): other files are synced one by one, with an fdatasync of a fresh
//!   descriptor, which reports any error on that file nobody has seen;
//! - before Linux 5.8 syncfs reported no write-back errors at all: there, every file is synced
//!   one by one.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::files::{Flush, MessageFiles, sync_each};

/// A file written with [`MessageFiles::write_unsynced`], and when its writing started.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub started: Instant,
}

impl Written {
    /// Notes the start of writing `path`: call it before the write.
    pub fn starting(path: PathBuf) -> Written {
        Written { path, started: Instant::now() }
    }
}

/// One writer's way of making groups of new files durable. Not shared between writers.
#[derive(Debug)]
pub struct GroupSync {
    /// syncfs is used (Linux 5.8 or later and [`Flush::FileSystem`]).
    use_syncfs: bool,
    /// Per file system (device number): a directory descriptor, and the moment from which files
    /// started are covered by its syncfs.
    handles: HashMap<u64, (File, Instant)>,
}

impl GroupSync {
    /// Opens the data directory's descriptor now, before this writer writes anything there.
    pub fn new(files: &MessageFiles) -> GroupSync {
        let use_syncfs = files.flush() == Flush::FileSystem && syncfs_reports_errors();
        let mut sync = GroupSync { use_syncfs, handles: HashMap::new() };
        if use_syncfs {
            let _ = sync.trusted_since(files.data_dir());
        }
        sync
    }

    /// Makes `files` (written earlier) durable with their directory entries.
    pub fn sync(&mut self, files: &[Written]) -> io::Result<()> {
        if !self.use_syncfs {
            return sync_each(&files.iter().map(|w| w.path.clone()).collect::<Vec<_>>());
        }
        let mut one_by_one = Vec::new();
        let mut devices = Vec::new();
        // Files of a group mostly share a few folders: each is looked at once.
        let mut dirs: HashMap<&Path, (u64, Instant)> = HashMap::new();
        for w in files {
            let dir = w.path.parent().unwrap_or(Path::new("."));
            let (device, since) = match dirs.get(dir) {
                Some(known) => *known,
                None => *dirs.entry(dir).or_insert(self.trusted_since(dir)?),
            };
            if w.started > since {
                if !devices.contains(&device) {
                    devices.push(device);
                }
            } else {
                one_by_one.push(w.path.clone());
            }
        }
        sync_each(&one_by_one)?;
        for device in devices {
            let Some((handle, _)) = self.handles.get(&device) else { continue };
            if let Err(e) = syncfs(handle) {
                // The error may belong to a file written for a later group: trust this
                // descriptor again only for files started from now on.
                if let Some(entry) = self.handles.get_mut(&device) {
                    entry.1 = Instant::now();
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// The device of `dir`, and from when on its descriptor covers files (opened now if new).
    fn trusted_since(&mut self, dir: &Path) -> io::Result<(u64, Instant)> {
        let device = device_of(dir)?;
        if let Some((_, since)) = self.handles.get(&device) {
            return Ok((device, *since));
        }
        let handle = File::open(dir)?;
        let since = Instant::now();
        self.handles.insert(device, (handle, since));
        Ok((device, since))
    }
}

#[cfg(unix)]
fn device_of(dir: &Path) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(std::fs::metadata(dir)?.dev())
}

#[cfg(not(unix))]
fn device_of(_dir: &Path) -> io::Result<u64> {
    Ok(0)
}

#[cfg(target_os = "linux")]
fn syncfs(handle: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs only reads the descriptor, which `handle` keeps open.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn syncfs(_handle: &File) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "syncfs is Linux only"))
}

/// Linux 5.8 or later: syncfs returns write-back errors.
#[cfg(target_os = "linux")]
fn syncfs_reports_errors() -> bool {
    // SAFETY: uname fills the zeroed struct it is given.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut name) } != 0 {
        return false;
    }
    // SAFETY: uname leaves `release` NUL-terminated.
    let release = unsafe { std::ffi::CStr::from_ptr(name.release.as_ptr()) }.to_string_lossy().into_owned();
    let ok = kernel_at_least(&release, (5, 8));
    if !ok {
        tracing::warn!(
            "Linux {release} does not report write-back errors from syncfs: message files are synced one by one"
        );
    }
    ok
}

#[cfg(not(target_os = "linux"))]
fn syncfs_reports_errors() -> bool {
    false
}

/// Whether a kernel release string ("6.1.0-18-amd64") is at least `(major, minor)`.
fn kernel_at_least(release: &str, want: (u32, u32)) -> bool {
    let mut parts = release.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty());
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
    major.is_some_and(|major| (major, minor) >= want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_releases() {
        assert!(kernel_at_least("6.1.0-18-amd64", (5, 8)));
        assert!(kernel_at_least("5.8.0", (5, 8)));
        assert!(kernel_at_least("5.10", (5, 8)));
        assert!(!kernel_at_least("5.4.0-150-generic", (5, 8)));
        assert!(!kernel_at_least("4.19.0", (5, 8)));
        assert!(!kernel_at_least("", (5, 8)));
    }
}
