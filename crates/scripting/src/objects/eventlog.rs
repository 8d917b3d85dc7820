//! hMailServer's `EventLog` object: `EventLog.Write(text)` appends a line to
//! `hmailserver_events.log` in the log folder, in hMailServer's layout
//! (`<thread>\t"<time>"\t"<text>"`, UTF-16LE with a byte order mark, CRLF).

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use altimail_vbscript::{HostError, HostObject, Value};

use super::to_string;

/// The events log of one server; shared by every engine.
#[derive(Debug, Clone)]
pub struct EventLog {
    path: Arc<PathBuf>,
    /// Lines from several engines are written one at a time.
    lock: Arc<Mutex<()>>,
}

impl EventLog {
    pub const FILE_NAME: &'static str = "hmailserver_events.log";

    pub fn new(log_dir: impl Into<PathBuf>) -> EventLog {
        EventLog { path: Arc::new(log_dir.into().join(Self::FILE_NAME)), lock: Arc::new(Mutex::new(())) }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Appends one line. A failure is reported through `tracing`, never to the script.
    pub fn write(&self, text: &str) {
        let time = chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.3f");
        let text = text.replace("\r\n", "[nl]").replace(['\r', '\n'], "[nl]");
        let line = format!("{}\t\"{time}\"\t\"{text}\"\r\n", thread_number());
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let written = (|| -> std::io::Result<()> {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&*self.path)?;
            let mut bytes = Vec::with_capacity(line.len() * 2 + 2);
            if file.metadata()?.len() == 0 {
                bytes.extend_from_slice(&[0xFF, 0xFE]);
            }
            bytes.extend(line.encode_utf16().flat_map(u16::to_le_bytes));
            file.write_all(&bytes)
        })();
        if let Err(e) = written {
            tracing::warn!("cannot write {}: {e}", self.path.display());
        }
    }
}

impl HostObject for EventLog {
    fn type_name(&self) -> &str {
        "EventLog"
    }

    fn call_method(&self, name: &str, args: &mut [Value]) -> Result<Value, HostError> {
        match name {
            "write" => {
                let text = args.first().map(to_string).transpose()?.unwrap_or_default();
                self.write(&text);
                Ok(Value::Empty)
            }
            _ => Err(HostError::NoSuchMember(name.to_owned())),
        }
    }
}

/// A small number per thread, in place of hMailServer's Windows thread id.
fn thread_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static NUMBER: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    NUMBER.with(|n| *n)
}
