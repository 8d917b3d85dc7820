//! Checking an archive: every message the XML names must have its file in the archive (or in
//! the "Raw" folder beside it), with the size the XML says when it says one.

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::Path;

use crate::format;
use crate::xml_read::{Node, XmlReader};
use crate::{BackupError, archive};

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub messages: u64,
    pub bytes: u64,
    /// Messages whose file is missing or has another size, one line each.
    pub problems: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Reads `archive_path` through (its 7z integrity checks run on every entry) and compares the
/// message files with the XML. Memory grows with the number of files (one short key each).
pub fn run(archive_path: &Path, temp_dir: &Path) -> Result<Report, BackupError> {
    let xml_path = temp_dir.join(format!("verify-{}.xml", uuid::Uuid::new_v4().simple()));
    let result = check(archive_path, &xml_path);
    let _ = fs::remove_file(&xml_path);
    result
}

fn check(archive_path: &Path, xml_path: &Path) -> Result<Report, BackupError> {
    // File name (lower case) → size, for every message file in the archive.
    let mut files: HashMap<String, u64> = HashMap::new();
    let mut found_xml = false;
    archive::for_each_file(archive_path, |name, data| {
        let base = crate::backup::base_name(name);
        if base.eq_ignore_ascii_case(format::XML_NAME) && !name.contains(['/', '\\']) {
            found_xml = true;
            let mut out = File::create(xml_path).map_err(|e| BackupError::io(xml_path, e))?;
            std::io::copy(data, &mut out).map_err(|e| BackupError::io(xml_path, e))?;
            return Ok(());
        }
        let n = std::io::copy(data, &mut std::io::sink()).map_err(|e| BackupError::Archive(format!("{name}: {e}")))?;
        files.insert(base.to_lowercase(), n);
        Ok(())
    })?;
    if !found_xml {
        return Err(BackupError::Format(format!("{} holds no {}", archive_path.display(), format::XML_NAME)));
    }
    let mut report = Report::default();
    let mut reader = XmlReader::new(File::open(xml_path).map_err(|e| BackupError::io(xml_path, e))?);
    let mut raw_dir = None;
    while let Some(node) = reader.next_node()? {
        let Node::Open { name, .. } = &node else { continue };
        if name == "DataFiles" && node.attr("Format").eq_ignore_ascii_case("raw") {
            let folder = node.attr("FolderName");
            if !folder.is_empty() && !folder.contains(['/', '\\']) && folder != ".." {
                let dir = archive_path.parent().unwrap_or(Path::new(".")).join(folder);
                index_dir(&dir, &mut files)?;
                raw_dir = Some(dir);
            }
        }
        if name != "Message" {
            continue;
        }
        report.messages += 1;
        let file = crate::backup::base_name(node.attr("Filename")).to_lowercase();
        let want: u64 = node.attr("Size").trim().parse().unwrap_or(0);
        match files.get(&file) {
            None => report.problems.push(format!("message {} has no file {file}", node.attr("ID"))),
            Some(&have) if want != 0 && have != want => report
                .problems
                .push(format!("message {} file {file}: {have} bytes, the XML says {want}", node.attr("ID"))),
            Some(&have) => report.bytes += have,
        }
    }
    let _ = raw_dir;
    Ok(report)
}

/// Adds the files under `dir` (iteratively) to `files`.
fn index_dir(dir: &Path, files: &mut HashMap<String, u64>) -> Result<(), BackupError> {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in fs::read_dir(&d).map_err(|e| BackupError::io(&d, e))? {
            let entry = entry.map_err(|e| BackupError::io(&d, e))?;
            let meta = entry.metadata().map_err(|e| BackupError::io(&entry.path(), e))?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                files.insert(entry.file_name().to_string_lossy().to_lowercase(), meta.len());
            }
        }
    }
    Ok(())
}
