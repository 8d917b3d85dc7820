//! The 7z container: written entry by entry (each file its own block, so memory stays small
//! whatever the number and size of the files) and read as a stream of entries.
//!
//! Entries are compressed with LZMA2 at a fast level, or stored (7z's COPY method) when
//! compression is off; hMailServer's 7-Zip reads both.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sevenz_rust2::encoder_options::Lzma2Options;
use sevenz_rust2::{ArchiveEntry, ArchiveReader, ArchiveWriter, EncoderConfiguration, EncoderMethod, Password};

use crate::BackupError;

/// An archive being written.
pub struct Writer {
    inner: ArchiveWriter<File>,
}

impl Writer {
    /// Creates the archive file; `compress` picks LZMA2 (level 1: fast, still shrinks mail
    /// text by half or more) over storing.
    pub fn create(path: &Path, compress: bool) -> Result<Writer, BackupError> {
        let file = File::create(path).map_err(|e| BackupError::io(path, e))?;
        let mut inner = ArchiveWriter::new(file).map_err(BackupError::archive)?;
        let method: EncoderConfiguration =
            if compress { Lzma2Options::from_level(1).into() } else { EncoderConfiguration::new(EncoderMethod::COPY) };
        inner.set_content_methods(vec![method]);
        Ok(Writer { inner })
    }

    /// Adds one file named `name` (with `/` separators) whose content is read from `data`.
    pub fn add(
        &mut self,
        name: &str,
        data: impl Read,
        modified: Option<std::time::SystemTime>,
    ) -> Result<u64, BackupError> {
        let mut entry = ArchiveEntry::new_file(name);
        if let Some(t) = modified
            && let Ok(nt) = sevenz_rust2::NtTime::try_from(t)
        {
            entry.has_last_modified_date = true;
            entry.last_modified_date = nt;
        }
        let entry = self.inner.push_archive_entry(entry, Some(data)).map_err(BackupError::archive)?;
        Ok(entry.size)
    }

    /// Writes the archive's header and closes the file (synced to disk).
    pub fn finish(self) -> Result<(), BackupError> {
        let file = self.inner.finish().map_err(|e| BackupError::Archive(e.to_string()))?;
        file.sync_all().map_err(|e| BackupError::Archive(e.to_string()))
    }
}

/// Calls `each` for every file of the archive, in archive order, with a reader of its
/// content; directories are skipped.
pub fn for_each_file(
    path: &Path,
    mut each: impl FnMut(&str, &mut dyn Read) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let mut reader = ArchiveReader::open(path, Password::from_raw(&[])).map_err(|e| match e {
        sevenz_rust2::Error::Io(err, _) if err.kind() == io::ErrorKind::NotFound => BackupError::io(path, err),
        other => BackupError::Archive(format!("{}: {other}", path.display())),
    })?;
    let mut failure: Option<BackupError> = None;
    let result = reader.for_each_entries(|entry, data| {
        if entry.is_directory {
            return Ok(true);
        }
        match each(entry.name(), data) {
            Ok(()) => Ok(true),
            Err(e) => {
                failure = Some(e);
                Err(sevenz_rust2::Error::Other("stopped".into()))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    result.map_err(|e| BackupError::Archive(format!("{}: {e}", path.display())))
}
