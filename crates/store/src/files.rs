//! The message files of the data directory, in hMailServer's layout.
//!
//! ```text
//! {data}/{GUID}.eml                                   queued messages (hm_messages type 1/3)
//! {data}/{domain}/{localpart}/{XX}/{GUID}.eml         account mailboxes (XX = GUID chars 1-2)
//! {data}/#Public/{XX}/{GUID}.eml                      public folders
//! ```
//!
//! `hm_messages.messagefilename` holds only `{GUID}.eml`; installations older than 5.3 stored an
//! absolute path, which is honoured (see [`MessageFiles::resolve`]). Every write is durable:
//! temporary file, fsync, rename, fsync of the directory.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::StoreError;

/// The folder name of the public-folder tree on disk (fixed, whatever its IMAP name).
pub const PUBLIC_FOLDER_DIR: &str = "#Public";

/// Folders of the data directory that belong to the server, not to a domain: the DKIM keys
/// `quickstart` writes and the self-signed certificate. A domain of the same name (one label,
/// any case) keeps its mail elsewhere in no way, so removing it must not remove these.
pub const SERVER_DIRS: [&str; 2] = ["dkim", "certificates"];

/// Where a message lives, which decides its directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location<'a> {
    /// In the delivery queue: the data directory itself.
    Queue,
    /// In the mailbox of the account with this address.
    Account(&'a str),
    /// In a public folder.
    Public,
}

/// Paths and durable writes under one data directory.
#[derive(Debug, Clone)]
pub struct MessageFiles {
    data_dir: PathBuf,
    flush: Flush,
}

/// How a group of new message files is made durable (see [`crate::group_sync::GroupSync`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flush {
    /// One `syncfs(2)` per file system (Linux; elsewhere the same as `EachFile`): one writeback
    /// and device flush for the whole group, but also for anything else dirty on that file
    /// system.
    #[default]
    FileSystem,
    /// An fdatasync of each file and an fsync of each directory: only our files, a flush each.
    EachFile,
}

/// A new hMailServer-style file name: `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}.eml`, uppercase.
pub fn new_file_name() -> String {
    let guid = uuid::Uuid::new_v4().hyphenated().to_string().to_ascii_uppercase();
    format!("{{{guid}}}.eml")
}

/// The sub-directory of a file name: characters 1–2 (the first two GUID digits after `{`).
fn bucket(file_name: &str) -> &str {
    file_name.get(1..3).filter(|b| b.chars().all(|c| c.is_ascii_alphanumeric())).unwrap_or("00")
}

/// True for values stored by hMailServer before 5.3: `X:\...` or `\\server\...` (or a Unix path).
fn is_absolute_legacy(stored: &str) -> bool {
    stored.starts_with('/') || stored.starts_with("\\\\") || stored.as_bytes().get(1) == Some(&b':')
}

impl MessageFiles {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        MessageFiles { data_dir: data_dir.into(), flush: Flush::default() }
    }

    /// The same files, made durable the `flush` way.
    pub fn with_flush(self, flush: Flush) -> Self {
        MessageFiles { flush, ..self }
    }

    /// How groups of new files are made durable ([`crate::group_sync::GroupSync`]).
    pub fn flush(&self) -> Flush {
        self.flush
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The directory that holds messages at `location` with file name `file_name`.
    pub fn dir_for(&self, location: Location<'_>, file_name: &str) -> PathBuf {
        match location {
            Location::Queue => self.data_dir.clone(),
            Location::Public => self.data_dir.join(PUBLIC_FOLDER_DIR).join(bucket(file_name)),
            Location::Account(address) => {
                let (local, domain) = altimail_core::address::split(address).unwrap_or((address, ""));
                self.data_dir.join(safe_component(domain)).join(safe_component(local)).join(bucket(file_name))
            }
        }
    }

    /// The folder of the account `address`: `{data}/{domain}/{user}`, or the existing folder
    /// whose name differs only in case.
    pub fn account_dir(&self, address: &str) -> PathBuf {
        let (local, domain) = altimail_core::address::split(address).unwrap_or((address, ""));
        self.existing_or_case_insensitive(self.data_dir.join(safe_component(domain)).join(safe_component(local)))
    }

    /// The folder of the domain `name` (`{data}/{domain}`), or the existing one whose name
    /// differs only in case; `None` for a name that would be the public folders', the queue's or
    /// one of the server's own folders ([`SERVER_DIRS`]).
    pub fn domain_dir(&self, name: &str) -> Option<PathBuf> {
        let component = safe_component(name);
        if component == "_"
            || component.eq_ignore_ascii_case(PUBLIC_FOLDER_DIR)
            || SERVER_DIRS.iter().any(|d| component.eq_ignore_ascii_case(d))
        {
            return None;
        }
        Some(self.existing_or_case_insensitive(self.data_dir.join(component)))
    }

    /// The path of a new file at `location`.
    pub fn path_for(&self, location: Location<'_>, file_name: &str) -> PathBuf {
        self.dir_for(location, file_name).join(file_name)
    }

    /// The path of a stored `messagefilename`. Partial names are placed by `location`; legacy
    /// absolute paths are used as they are when they exist, else mapped into this data directory
    /// (a Windows `...\Data\domain\user\XX\file` keeps its last four components), else looked up
    /// by file name where the partial name would be.
    pub fn resolve(&self, location: Location<'_>, stored: &str) -> PathBuf {
        if !is_absolute_legacy(stored) {
            return self.existing_or_case_insensitive(self.path_for(location, stored));
        }
        let as_is = PathBuf::from(stored);
        if stored.starts_with('/') && as_is.exists() {
            return as_is;
        }
        let parts: Vec<&str> = stored.split(['\\', '/']).filter(|p| !p.is_empty()).collect();
        let file = parts.last().copied().unwrap_or(stored);
        let keep = match location {
            Location::Queue => 1,
            Location::Public => 3,
            Location::Account(_) => 4,
        };
        if parts.len() >= keep {
            let mapped = parts[parts.len() - keep..].iter().fold(self.data_dir.clone(), |p, c| p.join(c));
            if mapped.exists() {
                return mapped;
            }
        }
        self.existing_or_case_insensitive(self.path_for(location, file))
    }

    /// hMailServer ran on case-insensitive file systems: an account `John@Example.com` may own a
    /// folder `example.com/john`. Falls back to a case-insensitive walk when the exact path is
    /// missing.
    fn existing_or_case_insensitive(&self, path: PathBuf) -> PathBuf {
        if path.exists() {
            return path;
        }
        let Ok(rel) = path.strip_prefix(&self.data_dir) else { return path };
        let mut found = self.data_dir.clone();
        for part in rel.components() {
            let name = part.as_os_str();
            let exact = found.join(name);
            if exact.exists() {
                found = exact;
                continue;
            }
            let want = name.to_string_lossy().to_lowercase();
            let hit = fs::read_dir(&found)
                .ok()
                .and_then(|entries| entries.flatten().find(|e| e.file_name().to_string_lossy().to_lowercase() == want));
            match hit {
                Some(e) => found = e.path(),
                None => return path,
            }
        }
        found
    }

    /// Writes `bytes` to `path` durably: a temporary file in the same directory, fsync, rename,
    /// fsync of the directory. Creates the directories on the way.
    pub fn write_durable(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        Self::write_synced(path, bytes)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        sync_dir(dir).map_err(|e| StoreError::io(dir, e))
    }

    /// Like [`MessageFiles::write_durable`] but without the final fsync of the directory, for
    /// callers that sync the directory once for many files (group commit).
    pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let dir = path.parent().ok_or_else(|| StoreError::Invalid(format!("{} has no directory", path.display())))?;
        create_dirs_durable(dir)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp"));
        let result = (|| -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            // fdatasync: the data and the size; the name is made durable by the directory sync.
            f.sync_data()?;
            drop(f);
            fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(|e| StoreError::io(path, e))
    }

    /// Writes `bytes` to a new file at `path` (creating its directories durably) without
    /// syncing it: for callers that write many files and then make them durable together
    /// ([`crate::group_sync::GroupSync`]) before anything refers to them.
    /// A crash before that leaves at worst a file nothing points at.
    pub fn write_unsynced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let dir = path.parent().ok_or_else(|| StoreError::Invalid(format!("{} has no directory", path.display())))?;
        create_dirs_durable(dir)?;
        // create_new: a name is never written twice (and an existing file never removed below).
        let mut f =
            fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| StoreError::io(path, e))?;
        if let Err(e) = f.write_all(bytes) {
            drop(f);
            let _ = fs::remove_file(path);
            return Err(StoreError::io(path, e));
        }
        Ok(())
    }

    /// Async form of [`MessageFiles::write_durable`], run on the blocking pool.
    pub async fn write_durable_async(path: PathBuf, bytes: Vec<u8>) -> Result<(), StoreError> {
        tokio::task::spawn_blocking(move || Self::write_durable(&path, &bytes))
            .await
            .map_err(|e| StoreError::Invalid(format!("write task failed: {e}")))?
    }
}

impl MessageFiles {
    /// Makes `dst` a durable duplicate of the (already durable) file `src`: a hard link when the
    /// file system allows it (message files are never changed in place, only replaced), else a
    /// copy written like [`MessageFiles::write_durable`]. The directory of `dst` is fsynced.
    pub fn link_or_copy_durable(src: &Path, dst: &Path) -> Result<(), StoreError> {
        let dir = dst.parent().ok_or_else(|| StoreError::Invalid(format!("{} has no directory", dst.display())))?;
        create_dirs_durable(dir)?;
        if fs::hard_link(src, dst).is_err() {
            let bytes = fs::read(src).map_err(|e| StoreError::io(src, e))?;
            Self::write_synced(dst, &bytes)?;
        }
        sync_dir(dir).map_err(|e| StoreError::io(dir, e))
    }

    /// Async form of [`MessageFiles::link_or_copy_durable`], run on the blocking pool.
    pub async fn link_or_copy_durable_async(src: PathBuf, dst: PathBuf) -> Result<(), StoreError> {
        tokio::task::spawn_blocking(move || Self::link_or_copy_durable(&src, &dst))
            .await
            .map_err(|e| StoreError::Invalid(format!("copy task failed: {e}")))?
    }
}

/// A path component that cannot climb out of the data directory.
fn safe_component(s: &str) -> String {
    let cleaned: String = s.chars().map(|c| if c == '/' || c == '\\' || c == '\0' { '_' } else { c }).collect();
    match cleaned.as_str() {
        "" | "." | ".." => "_".into(),
        _ => cleaned,
    }
}

/// Creates `dir` and its parents, fsyncing each parent whose entry list changed.
fn create_dirs_durable(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs_durable(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(StoreError::io(dir, e)),
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent).map_err(|e| StoreError::io(parent, e))?;
    }
    Ok(())
}

/// fdatasync of each file, then fsync of each of their directories.
pub fn sync_each(paths: &[PathBuf]) -> io::Result<()> {
    let mut dirs = std::collections::HashSet::new();
    for path in paths {
        sync_file(path)?;
        dirs.insert(path.parent().unwrap_or(Path::new(".")).to_path_buf());
    }
    dirs.iter().try_for_each(|d| sync_dir(d))
}

/// fdatasync of a file written earlier (see [`MessageFiles::write_unsynced`]).
fn sync_file(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_data()
}

/// fsync of a directory, so a rename or a new entry in it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_look_like_hmailserver_guids() {
        let n = new_file_name();
        assert_eq!(n.len(), 42, "{n}");
        assert!(n.starts_with('{') && n.ends_with("}.eml"));
        assert_eq!(n, n.to_ascii_uppercase().replace(".EML", ".eml"));
    }

    #[test]
    fn layout_matches_hmailserver() {
        let files = MessageFiles::new("/data");
        let name = "{6F9619FF-8B86-D011-B42D-00C04FC964FF}.eml";
        assert_eq!(files.path_for(Location::Queue, name), PathBuf::from("/data").join(name));
        assert_eq!(
            files.path_for(Location::Account("john@example.com"), name),
            PathBuf::from("/data/example.com/john/6F").join(name)
        );
        assert_eq!(files.path_for(Location::Public, name), PathBuf::from("/data/#Public/6F").join(name));
        assert_eq!(files.path_for(Location::Account("../x@.."), name), PathBuf::from("/data/_/.._x/6F").join(name));
    }

    #[test]
    fn domains_never_own_the_servers_folders() {
        let files = MessageFiles::new("/data");
        assert_eq!(files.domain_dir("example.com"), Some(PathBuf::from("/data/example.com")));
        for name in ["#public", "DKIM", "dkim", "Certificates", "certificates"] {
            assert_eq!(files.domain_dir(name), None, "{name}");
        }
    }

    #[test]
    fn durable_write_and_legacy_resolution() {
        let tmp = tempfile::tempdir().unwrap();
        let files = MessageFiles::new(tmp.path());
        let name = new_file_name();
        let path = files.path_for(Location::Account("John@Example.com"), &name);
        MessageFiles::write_durable(&path, b"Subject: x\r\n\r\nbody\r\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"Subject: x\r\n\r\nbody\r\n");
        // Another spelling of the same account finds the folder.
        assert_eq!(files.resolve(Location::Account("john@example.com"), &name), path);
        // A Windows absolute path from an old installation maps into this data directory.
        let legacy = format!("C:\\Program Files\\hMailServer\\Data\\Example.com\\John\\{}\\{name}", &name[1..3]);
        assert_eq!(files.resolve(Location::Account("John@Example.com"), &legacy), path);
        // No temporary file is left behind.
        let left: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn unsynced_writes_are_synced_as_a_group_either_way() {
        use crate::group_sync::Written;
        let tmp = tempfile::tempdir().unwrap();
        for flush in [Flush::FileSystem, Flush::EachFile] {
            // The data directory does not exist yet when the GroupSync is made.
            let files = MessageFiles::new(tmp.path().join(format!("{flush:?}"))).with_flush(flush);
            let mut sync = crate::group_sync::GroupSync::new(&files);
            let paths: Vec<PathBuf> = ["a@example.com", "b@example.com", "a@example.com"]
                .iter()
                .map(|a| files.path_for(Location::Account(a), &new_file_name()))
                .collect();
            let mut written = Vec::new();
            for p in &paths {
                written.push(Written::starting(p.clone()));
                MessageFiles::write_unsynced(p, b"x").unwrap();
            }
            // A name is never written twice.
            assert!(MessageFiles::write_unsynced(&paths[0], b"y").is_err(), "{flush:?}");
            assert_eq!(fs::read(&paths[0]).unwrap(), b"x", "{flush:?}");
            // So the first group is synced file by file; files started later get one syncfs.
            sync.sync(&written).unwrap();
            let later: Vec<Written> = paths.iter().map(|p| Written::starting(p.clone())).collect();
            sync.sync(&later).unwrap();
            let missing = vec![Written::starting(tmp.path().join("nowhere").join("x.eml"))];
            assert!(sync.sync(&missing).is_err(), "{flush:?}");
        }
    }
}
