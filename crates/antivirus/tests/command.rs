//! The external scanner command, with small scripts standing in for a scanner.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use altimail_antivirus::command::{CommandScanner, CommandVerdict};
use altimail_antivirus::{AvError, AvOutcome, AvSettings, CommandError, scan};
use altimail_testkit::peers::EICAR;

fn script(dir: &std::path::Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

fn scanner(dir: &std::path::Path, line: String, code: i32) -> CommandScanner {
    CommandScanner {
        command_line: line,
        virus_exit_code: code,
        temp_dir: dir.to_owned(),
        time_limit: Duration::from_secs(20),
    }
}

#[tokio::test]
async fn the_exit_code_decides() {
    let dir = tempfile::tempdir().unwrap();
    // Exit 5 when the file holds EICAR's marker; the file is passed as --file=<path>.
    let detect = script(dir.path(), "detect", r#"f="${1#--file=}"; grep -q EICAR-STANDARD "$f" && exit 5; exit 0"#);
    let s = scanner(dir.path(), format!("{detect} --file=%FILE%"), 5);
    assert_eq!(s.scan(EICAR).await.unwrap(), CommandVerdict::Infected);
    assert_eq!(s.scan(b"clean").await.unwrap(), CommandVerdict::Clean);
    // Without %FILE% the path is appended.
    let plain = script(dir.path(), "plain", r#"grep -q EICAR-STANDARD "$1" && exit 3; exit 0"#);
    let s = scanner(dir.path(), plain, 3);
    assert_eq!(s.scan(EICAR).await.unwrap(), CommandVerdict::Infected);
    // The temporary files are gone afterwards.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("altimail-scan-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Through scan(): infected message deleted; an attachment's decoded contents are scanned
    // too (base64 hides the marker from a scanner that reads the raw message).
    let settings =
        AvSettings { custom: Some(scanner(dir.path(), format!("{detect} --file=%FILE%"), 5)), ..AvSettings::default() };
    let m = b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream; name=e.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nWDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU\r\nLUZJTEUhJEgrSCo=\r\n--b--\r\n";
    assert_eq!(scan(&settings, m).await.unwrap(), AvOutcome::Infected { virus: "Unknown".into() });
}

#[tokio::test]
async fn failures_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let slow = script(dir.path(), "slow", "sleep 30");
    let mut s = scanner(dir.path(), slow, 1);
    s.time_limit = Duration::from_millis(500);
    let started = std::time::Instant::now();
    assert!(matches!(s.scan(b"x").await, Err(CommandError::Timeout(..))));
    assert!(started.elapsed() < Duration::from_secs(10));
    let missing = scanner(dir.path(), "/nonexistent/scanner %FILE%".into(), 1);
    assert!(matches!(missing.scan(b"x").await, Err(CommandError::Launch(..))));
    let unclosed = scanner(dir.path(), "\"/bin/true".into(), 1);
    assert!(matches!(unclosed.scan(b"x").await, Err(CommandError::BadCommandLine)));
    let settings = AvSettings { custom: Some(missing), ..AvSettings::default() };
    assert!(matches!(scan(&settings, b"x").await, Err(AvError::Command(_))));
}
