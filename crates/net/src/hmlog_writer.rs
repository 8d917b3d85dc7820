//! The one thread that writes hMailServer's log files, so that logging never blocks a session.
//!
//! Sessions format their lines and hand them over through a bounded queue ([`LogWriter::send`]
//! never waits). The writer takes whatever has queued up, joins consecutive lines for the same
//! file into one `write`, and writes them in the order they were sent. When the queue is full
//! (the disk stalls, or lines come faster than it takes them), new lines are dropped and
//! counted rather than making the sender wait; the count is reported once the writer catches
//! up. [`LogWriter::flush`] waits until everything sent before it is written; dropping the last
//! [`LogWriter`] writes what is queued and ends the thread.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Lines that may wait for the writer; past that, new lines are dropped. At a few hundred bytes a
/// line, a full queue holds a few MiB.
const QUEUE_LINES: usize = 16 * 1024;
/// Lines taken from the queue at once (the rest wait for the next round).
const BATCH_LINES: usize = 1024;

/// One line, with where and how it is written.
#[derive(Debug)]
pub(crate) struct Line {
    /// The file.
    pub path: PathBuf,
    /// Whether this is a line of the main log: the main log is the only file kept open.
    pub main: bool,
    /// Whether the main log is kept open between writes (mask bit 256); for other lines of the
    /// main log, a kept-open file is closed first.
    pub keep_open: bool,
    /// The whole line, CRLF included.
    pub text: String,
}

#[derive(Debug)]
enum Entry {
    Line(Line),
    /// Close the kept-open main log ("keep files open" was switched off).
    CloseMain,
    /// Answer once everything before has been written.
    Flush(SyncSender<()>),
}

#[derive(Debug, Default)]
struct Counters {
    /// Dropped since the writer last reported.
    unreported: AtomicU64,
    /// Dropped since the start.
    total: AtomicU64,
}

/// The sending side; see the module documentation.
#[derive(Debug)]
pub(crate) struct LogWriter {
    queue: Option<SyncSender<Entry>>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

impl LogWriter {
    /// Starts the writer thread.
    pub(crate) fn start() -> Self {
        let (queue, entries) = mpsc::sync_channel(QUEUE_LINES);
        let counters = Arc::new(Counters::default());
        let for_thread = counters.clone();
        let thread = std::thread::Builder::new()
            .name("hmlog-writer".into())
            .spawn(move || run(&entries, &for_thread))
            .map_err(|e| tracing::error!("cannot start the hMailServer log writer: {e}; log lines will be dropped"))
            .ok();
        LogWriter { queue: thread.as_ref().map(|_| queue), counters, thread }
    }

    /// Queues a line; drops (and counts) it when the queue is full.
    pub(crate) fn send(&self, line: Line) {
        self.try_send(Entry::Line(line));
    }

    /// Closes the kept-open main log at the writer's next round.
    pub(crate) fn close_main(&self) {
        self.try_send(Entry::CloseMain);
    }

    fn try_send(&self, entry: Entry) {
        let sent = match &self.queue {
            Some(queue) => queue.try_send(entry),
            None => Err(TrySendError::Disconnected(entry)),
        };
        let unsent = match sent {
            Ok(()) => return,
            Err(TrySendError::Full(entry) | TrySendError::Disconnected(entry)) => entry,
        };
        if matches!(unsent, Entry::Line(_)) {
            self.counters.unreported.fetch_add(1, Ordering::Relaxed);
            self.counters.total.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every line sent before this call is written (or dropped). Blocks the calling
    /// thread: for shutdown and tests, not for sessions.
    pub(crate) fn flush(&self) {
        let Some(queue) = &self.queue else { return };
        let (done, wait) = mpsc::sync_channel(1);
        if queue.send(Entry::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Lines dropped since the start because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.counters.total.load(Ordering::Relaxed)
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish what is queued and end.
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The main log file while it is kept open.
struct OpenFile {
    path: PathBuf,
    file: File,
}

/// What the writer thread keeps between rounds.
#[derive(Default)]
struct State {
    open_main: Option<OpenFile>,
    /// Whether the last write failed, so a failing disk is reported once, not per line.
    failing: bool,
}

fn run(entries: &Receiver<Entry>, counters: &Counters) {
    let mut state = State::default();
    let mut batch = Vec::with_capacity(BATCH_LINES);
    while let Ok(first) = entries.recv() {
        batch.push(first);
        while batch.len() < BATCH_LINES {
            match entries.try_recv() {
                Ok(entry) => batch.push(entry),
                Err(_) => break,
            }
        }
        write_batch(&mut state, batch.drain(..));
        let dropped = counters.unreported.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!("hMailServer log: {dropped} lines dropped, the log files could not be written fast enough");
        }
    }
}

/// Writes a round of entries in order, consecutive lines for the same file in one write.
fn write_batch(state: &mut State, batch: impl Iterator<Item = Entry>) {
    // Lines joined so far, all for the same file written the same way.
    let mut group: Option<Line> = None;
    for entry in batch {
        match entry {
            Entry::Line(line) => {
                let joins = group
                    .as_ref()
                    .is_some_and(|g| g.path == line.path && g.main == line.main && g.keep_open == line.keep_open);
                match &mut group {
                    Some(g) if joins => g.text.push_str(&line.text),
                    _ => {
                        if let Some(done) = group.replace(line) {
                            write_lines(state, &done);
                        }
                    }
                }
            }
            Entry::CloseMain => {
                if let Some(done) = group.take() {
                    write_lines(state, &done);
                }
                state.open_main = None;
            }
            Entry::Flush(answer) => {
                if let Some(done) = group.take() {
                    write_lines(state, &done);
                }
                let _ = answer.send(());
            }
        }
    }
    if let Some(done) = group.take() {
        write_lines(state, &done);
    }
}

fn write_lines(state: &mut State, lines: &Line) {
    let result = if lines.keep_open {
        write_kept_open(&mut state.open_main, &lines.path, &lines.text)
    } else {
        if lines.main {
            state.open_main = None;
        }
        open_append(&lines.path).and_then(|mut f| f.write_all(lines.text.as_bytes()))
    };
    match result {
        Ok(()) if state.failing => {
            state.failing = false;
            tracing::info!("hMailServer log {} is writable again", lines.path.display());
        }
        Ok(()) => {}
        Err(e) if !state.failing => {
            state.failing = true;
            tracing::warn!("cannot write hMailServer log {}: {e}", lines.path.display());
        }
        Err(_) => {}
    }
}

/// Writes through the kept-open main file, reopening it after the date changed or after someone
/// moved the file away (hMailServer checks the same two things).
fn write_kept_open(slot: &mut Option<OpenFile>, path: &Path, text: &str) -> io::Result<()> {
    if !matches!(slot, Some(f) if f.path == path && path.exists()) {
        *slot = None;
    }
    let open = match slot {
        Some(open) => open,
        None => slot.insert(OpenFile { file: open_append(path)?, path: path.to_path_buf() }),
    };
    open.file.write_all(text.as_bytes())
}

fn open_append(path: &Path) -> io::Result<File> {
    let open = || OpenOptions::new().create(true).append(true).open(path);
    match open() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            open()
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(path: &Path, text: &str) -> Line {
        Line { path: path.to_path_buf(), main: true, keep_open: false, text: format!("{text}\r\n") }
    }

    #[test]
    fn lines_reach_their_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.log"), dir.path().join("sub/b.log"));
        let writer = LogWriter::start();
        for i in 0..2000 {
            writer.send(line(if i % 7 == 0 { &b } else { &a }, &i.to_string()));
        }
        writer.flush();
        let expect = |keep: fn(&i32) -> bool| (0..2000).filter(keep).map(|i| format!("{i}\r\n")).collect::<String>();
        assert_eq!(fs::read_to_string(&a).unwrap(), expect(|i| i % 7 != 0));
        assert_eq!(fs::read_to_string(&b).unwrap(), expect(|i| i % 7 == 0));
        assert_eq!(writer.dropped(), 0);
    }

    #[test]
    fn dropping_the_writer_writes_what_is_queued() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let writer = LogWriter::start();
        for i in 0..100 {
            writer.send(line(&path, &i.to_string()));
        }
        drop(writer);
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 100);
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        // A writer whose thread is not running: nothing leaves the queue.
        let (queue, entries) = mpsc::sync_channel(QUEUE_LINES);
        let writer = LogWriter { queue: Some(queue), counters: Arc::default(), thread: None };
        let started = std::time::Instant::now();
        for i in 0..QUEUE_LINES + 10 {
            writer.send(line(&path, &i.to_string()));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "sending never waits");
        assert_eq!(writer.dropped(), 10);
        drop(writer);
        let counters = Counters::default();
        counters.unreported.store(10, Ordering::Relaxed);
        run(&entries, &counters);
        let written = fs::read_to_string(&path).unwrap();
        assert_eq!(written.lines().count(), QUEUE_LINES, "the queued lines are all written");
        assert!(written.starts_with("0\r\n1\r\n") && written.ends_with(&format!("{}\r\n", QUEUE_LINES - 1)));
        assert_eq!(counters.unreported.load(Ordering::Relaxed), 0, "the drops were reported");
    }
}
