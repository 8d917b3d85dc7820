//! An external scanner program (`customvirusscannerexecutable`): the message is written to a
//! temporary file, the command runs with `%FILE%` replaced by its path (without a shell), and
//! an exit code equal to `customviursscannerreturnvalue` means a virus was found.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

/// The macro replaced by the file's path.
pub const FILE_MACRO: &str = "%FILE%";

/// A scanner command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandScanner {
    /// The command line as configured (`/usr/bin/clamscan --no-summary %FILE%`).
    pub command_line: String,
    /// The exit code that means "virus found".
    pub virus_exit_code: i32,
    /// Where the temporary file goes (the server's temp directory).
    pub temp_dir: PathBuf,
    /// The program is killed when it runs longer.
    pub time_limit: Duration,
}

/// What the scanner said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandVerdict {
    Clean,
    Infected,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("the scanner command line is empty or has an unclosed quote")]
    BadCommandLine,
    #[error("could not write the file to scan in {0}: {1}")]
    TempFile(PathBuf, std::io::Error),
    #[error("Unable to launch executable {0}: {1}")]
    Launch(String, std::io::Error),
    #[error("the scanner {0} ran longer than {1:?} and was stopped")]
    Timeout(String, Duration),
    #[error("the scanner {0} ended without an exit code (killed by a signal)")]
    NoExitCode(String),
}

/// Splits a command line into arguments: whitespace separates them, and single or double
/// quotes keep spaces inside one argument (the quotes themselves are dropped). No escapes, so
/// Windows-style paths with backslashes stay as written. `None` for an unclosed quote.
pub fn split_arguments(line: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_arg = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_arg = true;
            }
            None if c.is_whitespace() => {
                if in_arg {
                    args.push(std::mem::take(&mut current));
                    in_arg = false;
                }
            }
            None => {
                current.push(c);
                in_arg = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_arg {
        args.push(current);
    }
    Some(args)
}

/// The program and its arguments for scanning `file`: `%FILE%` replaced in every argument, or
/// the path appended when no argument names it (as hMailServer does).
pub fn arguments_for(command_line: &str, file: &Path) -> Option<Vec<String>> {
    let mut args = split_arguments(command_line)?;
    if args.is_empty() {
        return None;
    }
    let path = file.to_string_lossy();
    if args.iter().any(|a| a.contains(FILE_MACRO)) {
        for a in &mut args {
            *a = a.replace(FILE_MACRO, &path);
        }
    } else {
        args.push(path.into_owned());
    }
    Some(args)
}

impl CommandScanner {
    /// Scans `data`. The temporary file is removed afterwards in every case.
    pub async fn scan(&self, data: &[u8]) -> Result<CommandVerdict, CommandError> {
        let file = tempfile::Builder::new()
            .prefix("altimail-scan-")
            .suffix(".eml")
            .tempfile_in(&self.temp_dir)
            .map_err(|e| CommandError::TempFile(self.temp_dir.clone(), e))?;
        let path = file.path().to_owned();
        let mut out = tokio::fs::File::create(&path).await.map_err(|e| CommandError::TempFile(path.clone(), e))?;
        out.write_all(data).await.map_err(|e| CommandError::TempFile(path.clone(), e))?;
        out.flush().await.map_err(|e| CommandError::TempFile(path.clone(), e))?;
        drop(out);
        let args = arguments_for(&self.command_line, &path).ok_or(CommandError::BadCommandLine)?;
        let program = args[0].clone();
        let mut child = tokio::process::Command::new(&program)
            .args(&args[1..])
            .current_dir(&self.temp_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| CommandError::Launch(program.clone(), e))?;
        let status = match tokio::time::timeout(self.time_limit, child.wait()).await {
            Ok(status) => status.map_err(|e| CommandError::Launch(program.clone(), e))?,
            Err(_) => {
                let _ = child.kill().await;
                return Err(CommandError::Timeout(program, self.time_limit));
            }
        };
        drop(file);
        let code = status.code().ok_or_else(|| CommandError::NoExitCode(program.clone()))?;
        tracing::debug!("Scanner: {}. Return code: {code}", self.command_line);
        Ok(if code == self.virus_exit_code { CommandVerdict::Infected } else { CommandVerdict::Clean })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_without_a_shell() {
        assert_eq!(split_arguments("scan -v %FILE%").unwrap(), ["scan", "-v", "%FILE%"]);
        assert_eq!(
            split_arguments(r#""C:\Program Files\scan.exe" --file="%FILE%" 'a b'"#).unwrap(),
            [r"C:\Program Files\scan.exe", "--file=%FILE%", "a b"]
        );
        assert_eq!(split_arguments("a ''  b").unwrap(), ["a", "", "b"]);
        assert_eq!(split_arguments("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_arguments("scan \"open"), None);
        assert_eq!(split_arguments("x; rm -rf /").unwrap(), ["x;", "rm", "-rf", "/"]);
    }

    #[test]
    fn the_file_macro_is_replaced_or_appended() {
        let f = Path::new("/tmp/a b.eml");
        assert_eq!(arguments_for("scan --in=%FILE%", f).unwrap(), ["scan", "--in=/tmp/a b.eml"]);
        assert_eq!(arguments_for("scan -q", f).unwrap(), ["scan", "-q", "/tmp/a b.eml"]);
        assert_eq!(arguments_for("", f), None);
    }
}
