//! Windows paths of an hMailServer installation mapped to where its folders are on this machine.
//!
//! `C:\Program Files\hMailServer\Data\example.com` under a copy of the installation folder at
//! `/srv/hmail` becomes `/srv/hmail/Data/example.com`, with each folder name spelt as it is on
//! disk: Windows matched names without case, so the INI may say `data` for a folder `Data`.

use std::path::{Path, PathBuf};

/// The components of a Windows path, without drive or UNC prefix handling beyond splitting:
/// `C:\A\b\` → `["c:", "a", "b"]` for comparing (lowercased), and as written for joining.
fn components(win: &str) -> Vec<&str> {
    win.split(['\\', '/']).filter(|c| !c.is_empty()).collect()
}

/// The rest of `path` below `prefix` (both Windows paths, compared without case), or `None`
/// when `path` is not inside `prefix`.
pub fn below<'a>(path: &'a str, prefix: &str) -> Option<Vec<&'a str>> {
    let path = components(path);
    let prefix = components(prefix);
    if prefix.is_empty() || path.len() < prefix.len() {
        return None;
    }
    let same = path.iter().zip(&prefix).all(|(a, b)| a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase());
    same.then(|| path[prefix.len()..].to_vec())
}

/// The Windows folder that holds `win` (`C:\A\Data` → `C:\A`).
pub fn parent(win: &str) -> Option<String> {
    let parts = components(win);
    (parts.len() > 1).then(|| parts[..parts.len() - 1].join("\\"))
}

/// `base` joined with `rest`, each name replaced by the existing entry that differs only in
/// case when the exact one does not exist.
pub fn join_as_on_disk(base: &Path, rest: &[&str]) -> PathBuf {
    let mut path = base.to_path_buf();
    let mut looking = true;
    for name in rest {
        let exact = path.join(name);
        if !looking || exact.exists() {
            path = exact;
            continue;
        }
        let want = name.to_lowercase();
        let hit = std::fs::read_dir(&path)
            .ok()
            .and_then(|entries| entries.flatten().find(|e| e.file_name().to_string_lossy().to_lowercase() == want));
        match hit {
            Some(entry) => path = entry.path(),
            None => {
                // Nothing below a missing folder can exist either.
                looking = false;
                path = exact;
            }
        }
    }
    path
}

/// Maps a Windows path through the first `(windows prefix, local folder)` pair it lies under.
pub fn map(win: &str, roots: &[(String, PathBuf)]) -> Option<PathBuf> {
    roots.iter().find_map(|(prefix, local)| below(win, prefix).map(|rest| join_as_on_disk(local, &rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_compares_without_case_and_ignores_separators() {
        assert_eq!(
            below("C:\\Program Files\\hMailServer\\Data\\", "c:\\program files\\HMAILSERVER"),
            Some(vec!["Data"])
        );
        assert_eq!(below("D:\\Mail", "C:\\Program Files\\hMailServer"), None);
        assert_eq!(below("C:\\Program Files\\hMailServer", "C:\\Program Files\\hMailServer"), Some(vec![]));
        assert_eq!(parent("C:\\A\\Data\\").as_deref(), Some("C:\\A"));
    }

    #[test]
    fn folder_names_as_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("Data/Example.com")).unwrap();
        let roots = vec![("C:\\Program Files\\hMailServer".to_owned(), dir.path().to_path_buf())];
        assert_eq!(
            map("C:\\PROGRAM FILES\\hMailServer\\data\\example.COM", &roots),
            Some(dir.path().join("Data/Example.com"))
        );
        assert_eq!(
            map("C:\\Program Files\\hMailServer\\Logs", &roots),
            Some(dir.path().join("Logs")),
            "a folder that is not there keeps the INI's spelling"
        );
        assert_eq!(map("E:\\Elsewhere", &roots), None);
    }
}
