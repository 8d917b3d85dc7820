//! The 7z container: written entry by entry (each file its own block, so memory stays small
//! whatever the number and size of the files) and read as a stream of entries.
//!
//! Entries are compressed with LZMA2 at a fast level, or stored (7z's COPY method) when
//! compression is off; hMailServer's 7-Zip reads both.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sevenz_rust2::encoder_options::Lzma2Options;
use sevenz_rust2::{
    ArchiveEntry, ArchiveReader, ArchiveWriter, EncoderConfiguration, EncoderMethod, Password, SourceReader,
};

use crate::BackupError;

/// An archive being written.
pub struct Writer {
    inner: ArchiveWriter<File>,
    /// Files waiting to be packed together into one solid block: small messages compress far
    /// faster and better together than one by one. Each is held open, so its content is the
    /// one it had when it was added, whatever happens to its name meanwhile.
    batch: Vec<(ArchiveEntry, File)>,
    batch_bytes: u64,
}

/// A solid block is closed after this many files or bytes: memory and open files stay bounded.
const BATCH_FILES: usize = 256;
const BATCH_BYTES: u64 = 16 * 1024 * 1024;

impl Writer {
    /// Creates the archive file; `compress` picks LZMA2 (level 1: fast, still shrinks mail
    /// text by half or more) over storing.
    pub fn create(path: &Path, compress: bool) -> Result<Writer, BackupError> {
        let file = File::create(path).map_err(|e| BackupError::io(path, e))?;
        let mut inner = ArchiveWriter::new(file).map_err(BackupError::archive)?;
        let method: EncoderConfiguration =
            if compress { Lzma2Options::from_level(1).into() } else { EncoderConfiguration::new(EncoderMethod::COPY) };
        inner.set_content_methods(vec![method]);
        Ok(Writer { inner, batch: Vec::new(), batch_bytes: 0 })
    }

    /// Adds one file named `name` (with `/` separators) whose content is read from `data`, in
    /// a block of its own.
    pub fn add(
        &mut self,
        name: &str,
        data: impl Read,
        modified: Option<std::time::SystemTime>,
    ) -> Result<u64, BackupError> {
        self.flush_batch()?;
        let entry =
            self.inner.push_archive_entry(new_entry(name, modified), Some(data)).map_err(BackupError::archive)?;
        Ok(entry.size)
    }

    /// Adds the open file `file` of `size` bytes as `name`, packed into one solid block with
    /// the files added around it.
    pub fn add_file(
        &mut self,
        name: &str,
        file: File,
        size: u64,
        modified: Option<std::time::SystemTime>,
    ) -> Result<(), BackupError> {
        self.batch.push((new_entry(name, modified), file));
        self.batch_bytes += size;
        if self.batch.len() >= BATCH_FILES || self.batch_bytes >= BATCH_BYTES {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<(), BackupError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let (entries, files): (Vec<ArchiveEntry>, Vec<File>) = std::mem::take(&mut self.batch).into_iter().unzip();
        self.batch_bytes = 0;
        let readers: Vec<_> =
            files.into_iter().map(|f| SourceReader::from(std::io::BufReader::with_capacity(16 * 1024, f))).collect();
        self.inner.push_archive_entries(entries, readers).map_err(BackupError::archive)?;
        Ok(())
    }

    /// Writes the archive's header and closes the file (synced to disk).
    pub fn finish(mut self) -> Result<(), BackupError> {
        self.flush_batch()?;
        let file = self.inner.finish().map_err(|e| BackupError::Archive(e.to_string()))?;
        file.sync_all().map_err(|e| BackupError::Archive(e.to_string()))
    }
}

fn new_entry(name: &str, modified: Option<std::time::SystemTime>) -> ArchiveEntry {
    let mut entry = ArchiveEntry::new_file(name);
    if let Some(t) = modified
        && let Ok(nt) = sevenz_rust2::NtTime::try_from(t)
    {
        entry.has_last_modified_date = true;
        entry.last_modified_date = nt;
    }
    entry
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
