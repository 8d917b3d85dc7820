//! hMailServer's log files, line for line (REFERENCE.md §8; `Logger.cpp`, `ErrorManager.cpp`,
//! `AWStats.cpp` in hMailServer).
//!
//! Tools that administrators already run against hMailServer's logs (log viewers, fail2ban
//! filters, AWStats) keep working only if every byte matches, so the layouts are fixed here
//! and nowhere else. These files are separate from `tracing` output, which is ours.
//!
//! * `hmailserver_<date>.log`: protocol, TCP/IP, application and debug lines, each kind only
//!   when its bit is set in the `logging` mask, and a copy of every error while logging is on.
//! * `ERROR_hmailserver_<date>.log`: every error, whatever the mask.
//! * `hmailserver_awstats.log`: one line per delivery, when AWStats logging is on.
//!
//! The date is the local date when the line is logged, so files roll over at local midnight.
//! Logging never blocks the caller: lines are formatted by the caller and written, in order, by
//! one writer thread (`hmlog_writer`), which joins the lines waiting for the same file into one
//! `write` on an append-mode file. Like hMailServer, the main file is kept open between writes
//! only with mask bit 256 ("keep files open"); all others are opened per write. When the writer
//! falls too far behind, lines are dropped and counted rather than making sessions wait
//! ([`HmLog::dropped_lines`]). [`HmLog::flush`] waits until every line logged before it is
//! written; dropping the last clone does the same. A failure to write is reported once through
//! `tracing` and never reaches the caller: a full disk must not stop mail.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use altimail_core::codes::Protocol;
use altimail_core::ip;

use crate::hmlog_writer::{Line, LogWriter};

/// Bits of the `logging` setting (hMailServer's `LSEnabled`, `LSSMTP`, …).
pub mod log_mask {
    /// Logging is on; without this bit the whole mask counts as 0.
    pub const ENABLED: i64 = 1;
    /// SMTPD and SMTPC lines.
    pub const SMTP: i64 = 2;
    /// POP3D and POP3C lines.
    pub const POP3: i64 = 4;
    /// TCPIP lines.
    pub const TCPIP: i64 = 8;
    /// APPLICATION lines.
    pub const APPLICATION: i64 = 16;
    /// DEBUG lines.
    pub const DEBUG: i64 = 32;
    /// IMAPD lines.
    pub const IMAP: i64 = 64;
    /// Keep the main log file open between lines.
    pub const KEEP_FILES_OPEN: i64 = 256;
}

/// The kind of a protocol conversation line, which is also its first field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// `SMTPD`: a client talking to our SMTP server.
    SmtpServer,
    /// `SMTPC`: our delivery talking to another server.
    SmtpClient,
    /// `POP3D`: a client talking to our POP3 server.
    Pop3Server,
    /// `POP3C`: our external-account fetcher talking to another server.
    Pop3Client,
    /// `IMAPD`: a client talking to our IMAP server.
    ImapServer,
    /// `HTTPD`: a client of the web listener (Altimail's own; logged with the TCP/IP bit).
    HttpServer,
}

impl SessionKind {
    /// The server-side kind for a listener's protocol.
    pub fn server(protocol: Protocol) -> Self {
        match protocol {
            Protocol::Smtp => SessionKind::SmtpServer,
            Protocol::Pop3 => SessionKind::Pop3Server,
            Protocol::Imap => SessionKind::ImapServer,
            Protocol::Http => SessionKind::HttpServer,
        }
    }

    /// The label written as the line's first field.
    pub fn label(self) -> &'static str {
        match self {
            SessionKind::SmtpServer => "SMTPD",
            SessionKind::SmtpClient => "SMTPC",
            SessionKind::Pop3Server => "POP3D",
            SessionKind::Pop3Client => "POP3C",
            SessionKind::ImapServer => "IMAPD",
            SessionKind::HttpServer => "HTTPD",
        }
    }

    fn mask_bit(self) -> i64 {
        match self {
            SessionKind::SmtpServer | SessionKind::SmtpClient => log_mask::SMTP,
            SessionKind::Pop3Server | SessionKind::Pop3Client => log_mask::POP3,
            SessionKind::ImapServer => log_mask::IMAP,
            SessionKind::HttpServer => log_mask::TCPIP,
        }
    }
}

/// Severity of an error line, with hMailServer's numbers (`ErrorManager::eSeverity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// 1: the server cannot go on as configured.
    Critical = 1,
    /// 2: a feature stopped working (a port could not be opened, a certificate not loaded).
    High = 2,
    /// 3: one operation failed.
    Medium = 3,
    /// 4: worth knowing.
    Low = 4,
}

impl Severity {
    /// The name written after the number.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Critical => "Critical",
            Severity::High => "High",
            Severity::Medium => "Medium",
            Severity::Low => "Low",
        }
    }
}

/// hMailServer-format log files in one directory. Cheap to clone; clones share the mask and
/// the writer thread.
///
/// ```
/// use altimail_net::{HmLog, log_mask};
/// let dir = std::env::temp_dir().join(format!("hmlog-doc-{}", std::process::id()));
/// let log = HmLog::new(&dir, log_mask::ENABLED | log_mask::TCPIP);
/// log.tcpip("TCP - 1.2.3.4 connected to 10.0.0.1:25.");
/// log.flush();
/// assert!(std::fs::read_to_string(log.main_log_path())?.contains("\"TCPIP\"\t"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct HmLog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    mask: AtomicI64,
    awstats: AtomicBool,
    writer: LogWriter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Main,
    Error,
    AwStats,
}

impl HmLog {
    /// Logs into `dir` (created on the first write) with the `logging` setting's `mask`.
    /// AWStats logging starts off.
    pub fn new(dir: impl Into<PathBuf>, mask: i64) -> Self {
        let log = HmLog {
            inner: Arc::new(Inner {
                dir: dir.into(),
                mask: AtomicI64::new(0),
                awstats: AtomicBool::new(false),
                writer: LogWriter::start(),
            }),
        };
        log.set_mask(mask);
        log
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Applies a new `logging` mask to this log and all its clones. As in hMailServer, a mask
    /// without bit 1 ([`log_mask::ENABLED`]) is stored as 0.
    pub fn set_mask(&self, mask: i64) {
        let mask = if mask & log_mask::ENABLED != 0 { mask } else { 0 };
        let old = self.inner.mask.swap(mask, Ordering::Relaxed);
        if old & log_mask::KEEP_FILES_OPEN != 0 && mask & log_mask::KEEP_FILES_OPEN == 0 {
            self.inner.writer.close_main();
        }
    }

    /// Waits until every line logged before this call is in its file. Blocks the calling thread
    /// (briefly, unless the disk stalls): for shutdown and tests, not for sessions.
    pub fn flush(&self) {
        self.inner.writer.flush();
    }

    /// Lines dropped since the start because the writer could not keep up (each drop is also
    /// reported through `tracing`).
    pub fn dropped_lines(&self) -> u64 {
        self.inner.writer.dropped()
    }

    /// The mask in effect (0 while logging is off).
    pub fn mask(&self) -> i64 {
        self.inner.mask.load(Ordering::Relaxed)
    }

    /// True when lines of the kind `bit` (a [`log_mask`] constant) are being written.
    pub fn is_enabled(&self, bit: i64) -> bool {
        self.mask() & bit != 0
    }

    /// Turns the AWStats log (setting `awstatsenabled`) on or off.
    pub fn set_awstats(&self, enabled: bool) {
        self.inner.awstats.store(enabled, Ordering::Relaxed);
    }

    /// True when AWStats lines are being written.
    pub fn is_awstats_enabled(&self) -> bool {
        self.inner.awstats.load(Ordering::Relaxed)
    }

    /// Today's main log file (COM `Logging.CurrentDefaultLog`).
    pub fn main_log_path(&self) -> PathBuf {
        self.path(Target::Main, &today())
    }

    /// Today's error log file (COM `Logging.CurrentErrorLog`).
    pub fn error_log_path(&self) -> PathBuf {
        self.path(Target::Error, &today())
    }

    /// The AWStats log file (COM `Logging.CurrentAwstatsLog`).
    pub fn awstats_log_path(&self) -> PathBuf {
        self.path(Target::AwStats, "")
    }

    /// A protocol conversation line:
    /// `"SMTPD"\t<thread>\t<session>\t"<time>"\t"<remote ip>"\t"<text>"`.
    ///
    /// `text` is what hMailServer writes there, usually `RECEIVED: <line>` or `SENT: <reply>`
    /// with passwords already masked by the caller.
    pub fn session(&self, kind: SessionKind, session_id: u64, remote: IpAddr, text: &str) {
        if !self.is_enabled(kind.mask_bit()) {
            return;
        }
        let stamp = Stamp::now();
        let line = format!(
            "\"{}\"\t{}\t{session_id}\t\"{}\"\t\"{}\"\t\"{}\"\r\n",
            kind.label(),
            thread_number(),
            stamp.time,
            ip::normalize(remote),
            clean(text)
        );
        self.write(Target::Main, &stamp.date, line);
    }

    /// A `"TCPIP"` line, e.g. `TCP - 1.2.3.4 connected to 10.0.0.1:25.`
    pub fn tcpip(&self, text: &str) {
        self.plain("TCPIP", log_mask::TCPIP, text);
    }

    /// An `"APPLICATION"` line.
    pub fn application(&self, text: &str) {
        self.plain("APPLICATION", log_mask::APPLICATION, text);
    }

    /// A `"DEBUG"` line.
    pub fn debug(&self, text: &str) {
        self.plain("DEBUG", log_mask::DEBUG, text);
    }

    /// An error, always written to the error log and, while logging is enabled, to the main log:
    /// `"ERROR"\t<thread>\t"<time>"\t"Severity: 2 (High), Code: HM4316, Source: <source>,
    /// Description: <description>"`.
    ///
    /// `code` is hMailServer's error number where one exists (its `Errors.txt`), so searches for
    /// `HM4316` keep finding bind failures.
    ///
    /// The same error also goes to `tracing` (the console), so its cause is never only in a
    /// file the administrator may not know about.
    pub fn error(&self, severity: Severity, code: u32, source: &str, description: &str) {
        tracing::error!("{source}: {description} (HM{code})");
        let stamp = Stamp::now();
        let text = format!(
            "Severity: {} ({}), Code: HM{code}, Source: {source}, Description: {description}",
            severity as i32,
            severity.name()
        );
        let line = format!("\"ERROR\"\t{}\t\"{}\"\t\"{}\"\r\n", thread_number(), stamp.time, clean(&text));
        if self.is_enabled(log_mask::ENABLED) {
            self.write(Target::Error, &stamp.date, line.clone());
            self.write(Target::Main, &stamp.date, line);
        } else {
            self.write(Target::Error, &stamp.date, line);
        }
    }

    /// An AWStats line for a delivered message (`AWStats::LogDeliverySuccess`): code 250.
    pub fn awstats_delivered(&self, sender_ip: IpAddr, recipient_ip: IpAddr, from: &str, to: &str, bytes: u64) {
        self.awstats(sender_ip, &ip::normalize(recipient_ip).to_string(), from, to, 250, bytes);
    }

    /// An AWStats line for a refused or failed delivery (`AWStats::LogDeliveryFailure`): the
    /// recipient server is logged as `127.0.0.1` and the size as 0, as hMailServer does.
    pub fn awstats_failed(&self, sender_ip: IpAddr, from: &str, to: &str, code: u16) {
        self.awstats(sender_ip, "127.0.0.1", from, to, code, 0);
    }

    fn awstats(&self, sender_ip: IpAddr, recipient_ip: &str, from: &str, to: &str, code: u16, bytes: u64) {
        if !self.is_awstats_enabled() {
            return;
        }
        let now = chrono::Local::now();
        let line = format!(
            "{}\t{}\t{}\t{}\t{recipient_ip}\tSMTP\t?\t{code}\t{bytes}\r\n",
            now.format("%Y-%m-%d %H:%M:%S"),
            awstats_address(from),
            awstats_address(to),
            ip::normalize(sender_ip),
        );
        self.write(Target::AwStats, "", line);
    }

    fn plain(&self, label: &str, bit: i64, text: &str) {
        if !self.is_enabled(bit) {
            return;
        }
        let stamp = Stamp::now();
        let line = format!("\"{label}\"\t{}\t\"{}\"\t\"{}\"\r\n", thread_number(), stamp.time, clean(text));
        self.write(Target::Main, &stamp.date, line);
    }

    fn path(&self, target: Target, date: &str) -> PathBuf {
        let name = match target {
            Target::Main => format!("hmailserver_{date}.log"),
            Target::Error => format!("ERROR_hmailserver_{date}.log"),
            Target::AwStats => "hmailserver_awstats.log".to_owned(),
        };
        self.inner.dir.join(name)
    }

    fn write(&self, target: Target, date: &str, line: String) {
        self.inner.writer.send(Line {
            path: self.path(target, date),
            main: target == Target::Main,
            keep_open: target == Target::Main && self.is_enabled(log_mask::KEEP_FILES_OPEN),
            text: line,
        });
    }
}

/// The time fields of one line, taken once so the file name and the line agree at midnight.
struct Stamp {
    date: String,
    time: String,
}

impl Stamp {
    fn now() -> Self {
        let now = chrono::Local::now();
        Stamp { date: now.format("%Y-%m-%d").to_string(), time: now.format("%Y-%m-%d %H:%M:%S%.3f").to_string() }
    }
}

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

/// hMailServer replaces CRLF with `[nl]`. A lone CR or LF is replaced too, so that one call
/// always makes exactly one line (hMailServer would split such a line in two).
fn clean(text: &str) -> String {
    text.replace("\r\n", "[nl]").replace(['\r', '\n'], "[nl]")
}

/// Addresses in AWStats lines lose `<`, `>`, spaces and tabs (`AWStats::Log_`).
fn awstats_address(address: &str) -> String {
    address.chars().filter(|c| !matches!(c, '<' | '>' | ' ' | '\t')).collect()
}

/// A small number for the current OS thread, standing in for hMailServer's Windows thread id.
fn thread_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static NUMBER: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    NUMBER.with(|n| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::fs;

    const ALL: i64 = log_mask::ENABLED
        | log_mask::SMTP
        | log_mask::POP3
        | log_mask::TCPIP
        | log_mask::APPLICATION
        | log_mask::DEBUG
        | log_mask::IMAP;

    fn lines(path: &Path) -> Vec<String> {
        let text = fs::read_to_string(path).unwrap();
        assert!(text.ends_with("\r\n"), "lines end with CRLF: {text:?}");
        text.strip_suffix("\r\n").unwrap().split("\r\n").map(str::to_owned).collect()
    }

    /// Checks `"<time>"` and a numeric thread field, and returns the fields.
    fn fields(line: &str) -> Vec<&str> {
        line.split('\t').collect()
    }

    fn assert_thread(field: &str) {
        assert!(!field.is_empty() && field.bytes().all(|b| b.is_ascii_digit()), "thread field {field:?}");
    }

    fn assert_time(field: &str) {
        let inner = field.strip_prefix('"').and_then(|f| f.strip_suffix('"')).unwrap();
        assert_eq!(inner.len(), 23, "{inner}");
        chrono::NaiveDateTime::parse_from_str(inner, "%Y-%m-%d %H:%M:%S%.3f").unwrap();
    }

    #[test]
    fn every_line_kind_has_hmailservers_layout() {
        let dir = tempfile::tempdir().unwrap();
        let log = HmLog::new(dir.path(), ALL);
        let ip: IpAddr = "1.2.3.4".parse().unwrap();
        log.session(SessionKind::SmtpServer, 42, ip, "RECEIVED: EHLO a\r\nb");
        log.session(SessionKind::SmtpClient, 43, ip, "SENT: QUIT");
        log.session(SessionKind::Pop3Server, 44, ip, "SENT: +OK");
        log.session(SessionKind::Pop3Client, 45, ip, "SENT: USER x");
        log.session(SessionKind::ImapServer, 46, "::ffff:10.0.0.1".parse().unwrap(), "SENT: * OK");
        log.tcpip("TCP - 1.2.3.4 connected to 10.0.0.1:25.");
        log.application("SMTPDeliverer - Message 1: Delivering");
        log.debug("Creating session 7");
        log.error(Severity::High, 4316, "TCPServer::Run()", "Failed to bind.\r\nSecond line");

        log.flush();
        let got = lines(&log.main_log_path());
        assert_eq!(got.len(), 9, "{got:#?}");
        let expected_sessions = [
            ("\"SMTPD\"", "42", "\"1.2.3.4\"", "\"RECEIVED: EHLO a[nl]b\""),
            ("\"SMTPC\"", "43", "\"1.2.3.4\"", "\"SENT: QUIT\""),
            ("\"POP3D\"", "44", "\"1.2.3.4\"", "\"SENT: +OK\""),
            ("\"POP3C\"", "45", "\"1.2.3.4\"", "\"SENT: USER x\""),
            ("\"IMAPD\"", "46", "\"10.0.0.1\"", "\"SENT: * OK\""),
        ];
        for (line, (label, session, ip, text)) in got.iter().zip(expected_sessions) {
            let f = fields(line);
            assert_eq!(f.len(), 6, "{line}");
            assert_eq!(f[0], label);
            assert_thread(f[1]);
            assert_eq!(f[2], session);
            assert_time(f[3]);
            assert_eq!((f[4], f[5]), (ip, text));
        }
        let expected_plain = [
            ("\"TCPIP\"", "\"TCP - 1.2.3.4 connected to 10.0.0.1:25.\""),
            ("\"APPLICATION\"", "\"SMTPDeliverer - Message 1: Delivering\""),
            ("\"DEBUG\"", "\"Creating session 7\""),
            (
                "\"ERROR\"",
                "\"Severity: 2 (High), Code: HM4316, Source: TCPServer::Run(), Description: Failed to bind.[nl]Second line\"",
            ),
        ];
        for (line, (label, text)) in got[5..].iter().zip(expected_plain) {
            let f = fields(line);
            assert_eq!(f.len(), 4, "{line}");
            assert_eq!(f[0], label);
            assert_thread(f[1]);
            assert_time(f[2]);
            assert_eq!(f[3], text);
        }
        let errors = lines(&log.error_log_path());
        assert_eq!(errors, vec![got[8].clone()], "the error log holds the same line");
        let name = log.main_log_path().file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name, format!("hmailserver_{}.log", chrono::Local::now().format("%Y-%m-%d")));
    }

    #[test]
    fn mask_selects_kinds_and_errors_are_always_written() {
        let dir = tempfile::tempdir().unwrap();
        let log = HmLog::new(dir.path(), log_mask::SMTP | log_mask::TCPIP);
        assert_eq!(log.mask(), 0, "without bit 1 the mask is ignored");
        log.tcpip("not written");
        log.error(Severity::Medium, 5001, "src", "always");
        log.flush();
        assert!(!log.main_log_path().exists());
        let errors = lines(&log.error_log_path());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].ends_with("\"Severity: 3 (Medium), Code: HM5001, Source: src, Description: always\""));

        let clone = log.clone();
        clone.set_mask(log_mask::ENABLED | log_mask::TCPIP);
        assert_eq!(log.mask(), log_mask::ENABLED | log_mask::TCPIP, "clones share the mask");
        log.tcpip("written");
        log.session(SessionKind::SmtpServer, 1, "1.2.3.4".parse().unwrap(), "SMTP bit is off");
        log.debug("debug bit is off");
        log.error(Severity::Low, 1, "src", "copied");
        log.flush();
        let main = lines(&log.main_log_path());
        assert_eq!(main.len(), 2, "{main:#?}");
        assert!(main[0].starts_with("\"TCPIP\"\t") && main[0].ends_with("\"written\""));
        assert!(main[1].starts_with("\"ERROR\"\t") && main[1].contains("Severity: 4 (Low)"));
        assert_eq!(lines(&log.error_log_path()).len(), 2);
    }

    #[test]
    fn kept_open_file_is_reopened_after_removal() {
        let dir = tempfile::tempdir().unwrap();
        let log = HmLog::new(dir.path().join("sub"), log_mask::ENABLED | log_mask::TCPIP | log_mask::KEEP_FILES_OPEN);
        log.tcpip("one");
        log.tcpip("two");
        log.flush();
        assert_eq!(lines(&log.main_log_path()).len(), 2);
        fs::remove_file(log.main_log_path()).unwrap();
        log.tcpip("three");
        log.flush();
        let main = lines(&log.main_log_path());
        assert_eq!(main.len(), 1);
        assert!(main[0].ends_with("\"three\""));
    }

    #[test]
    fn awstats_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = HmLog::new(dir.path(), 0);
        let sender: IpAddr = "192.0.2.1".parse().unwrap();
        log.awstats_delivered(sender, "198.51.100.7".parse().unwrap(), "<a b@x.com>", "c@y.com", 1234);
        log.flush();
        assert!(!log.awstats_log_path().exists(), "off by default");
        log.set_awstats(true);
        log.awstats_delivered(sender, "198.51.100.7".parse().unwrap(), "<a b@x.com>", "<c@y.com>", 1234);
        log.awstats_failed(sender, "a@x.com", "nobody@y.com", 550);
        log.flush();
        let got = lines(&log.awstats_log_path());
        assert_eq!(got.len(), 2);
        let f = fields(&got[0]);
        chrono::NaiveDateTime::parse_from_str(f[0], "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(&f[1..], ["ab@x.com", "c@y.com", "192.0.2.1", "198.51.100.7", "SMTP", "?", "250", "1234"]);
        let f = fields(&got[1]);
        assert_eq!(&f[1..], ["a@x.com", "nobody@y.com", "192.0.2.1", "127.0.0.1", "SMTP", "?", "550", "0"]);
    }

    #[test]
    fn lines_from_many_threads_arrive_whole_and_in_each_threads_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = HmLog::new(dir.path(), log_mask::ENABLED | log_mask::TCPIP | log_mask::KEEP_FILES_OPEN);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || (0..500).for_each(|i| log.tcpip(&format!("t{t} line {i}"))))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        log.flush();
        let got = lines(&log.main_log_path());
        assert_eq!(got.len(), 8 * 500);
        for t in 0..8 {
            let order: Vec<usize> = got
                .iter()
                .filter_map(|l| l.split(&format!("\"t{t} line ")).nth(1))
                .map(|rest| rest.trim_end_matches('"').parse().unwrap())
                .collect();
            assert_eq!(order, (0..500).collect::<Vec<_>>(), "thread {t}");
        }
        assert_eq!(log.dropped_lines(), 0);
    }

    #[test]
    fn thread_numbers_are_per_thread() {
        let here = thread_number();
        assert_eq!(here, thread_number());
        let there = std::thread::spawn(thread_number).join().unwrap();
        assert_ne!(here, there);
    }
}
