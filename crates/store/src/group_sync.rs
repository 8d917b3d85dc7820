//! Making a group of new message files durable at once.
//!
//! The spool's group commit and local delivery write many files (with
//! [`MessageFiles::write_unsynced`]) and then need all of them on disk, names included, before
//! they commit the rows that refer to them. An fdatasync per file and an fsync per directory
//! cost a device flush each; on Linux one `syncfs(2)` of the file system writes everything back
//! and flushes once ([`Flush::FileSystem`], the default).
//!
//! syncfs reports a write-back error to a descriptor only if the error happened after that
//! descriptor was opened, or if nobody else has seen the error yet. A descriptor opened just
//! before the call could therefore miss an error that another writer's syncfs has already
//! reported. So each writer keeps its own [`GroupSync`], with one descriptor per file system,
//! opened before it writes any file there (for the data directory: when the `GroupSync` is
//! made). The first time a group reaches a file system without a descriptor yet, that group is
//! synced file by file, and the descriptor is kept for the next groups.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::files::{Flush, MessageFiles, sync_each};

/// One writer's way of making groups of new files durable. Not shared between writers.
#[derive(Debug)]
pub struct GroupSync {
    flush: Flush,
    /// A directory descriptor per file system (by device number), for syncfs.
    handles: HashMap<u64, File>,
}

impl GroupSync {
    /// Opens the data directory's descriptor now, before this writer writes anything there.
    pub fn new(files: &MessageFiles) -> GroupSync {
        let mut sync = GroupSync { flush: files.flush(), handles: HashMap::new() };
        if sync.flush == Flush::FileSystem {
            let _ = sync.handle_for(files.data_dir());
        }
        sync
    }

    /// Makes `paths` (files written earlier) durable with their directory entries.
    pub fn sync(&mut self, paths: &[PathBuf]) -> io::Result<()> {
        if self.flush == Flush::EachFile || !cfg!(target_os = "linux") {
            return sync_each(paths);
        }
        // By file system: those with a descriptor get one syncfs, the others are synced file
        // by file this time.
        let mut by_device: HashMap<u64, Vec<PathBuf>> = HashMap::new();
        let mut first_time = Vec::new();
        for path in paths {
            let dir = path.parent().unwrap_or(Path::new("."));
            match self.handle_for(dir)? {
                (device, true) => by_device.entry(device).or_default().push(path.clone()),
                (_, false) => first_time.push(path.clone()),
            }
        }
        sync_each(&first_time)?;
        for device in by_device.keys() {
            if let Some(handle) = self.handles.get(device) {
                syncfs(handle)?;
            }
        }
        Ok(())
    }

    /// The device of `dir`, and whether a descriptor for it was already open (it is now).
    fn handle_for(&mut self, dir: &Path) -> io::Result<(u64, bool)> {
        let device = device_of(dir)?;
        if self.handles.contains_key(&device) {
            return Ok((device, true));
        }
        self.handles.insert(device, File::open(dir)?);
        Ok((device, false))
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
    unreachable!("syncfs is only used on Linux")
}
