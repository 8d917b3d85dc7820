//! Outside programs the end-to-end tests drive (swaks, fetchmail, mutt, dkimpy): present, or a
//! visible skip. In CI (`CI` or `ALTIMAIL_REQUIRE_DB` set) a missing one fails the test instead,
//! so nothing is skipped silently where the suite is judged.

use std::io::Write;
use std::process::{Command, Stdio};

/// Writes `SKIP …` straight to the process's stderr: the test harness captures `eprintln!`
/// output of passing tests, which would hide the line.
pub fn skip_line(text: &str) {
    let _ = writeln!(std::io::stderr(), "SKIP {text}");
}

/// True when `program probe_args…` runs. Otherwise prints a SKIP line naming the Debian package
/// (`install`) and returns false, or panics when every test must run.
pub fn have_tool(program: &str, probe_args: &[&str], install: &str) -> bool {
    let runs = Command::new(program)
        .args(probe_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    runs || missing(&format!("{program}: not installed (apt-get install {install})"))
}

/// True when `python3 -c "import module"` works; otherwise as [`have_tool`].
pub fn have_python_module(module: &str, install: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok || missing(&format!("python3 module {module}: not installed ({install})"))
}

fn missing(what: &str) -> bool {
    if crate::must_test_every_engine() {
        panic!("{what}; it is required in CI");
    }
    skip_line(what);
    false
}
