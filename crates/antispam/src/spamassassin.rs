//! The SpamAssassin test: the message goes to spamd with `PROCESS SPAMC/1.2`, as hMailServer
//! sends it (a temporary `Return-Path:` header on top so SpamAssassin's SPF and rules see the
//! envelope sender), and comes back with SpamAssassin's `X-Spam-*` headers, which stay on the
//! message (the temporary Return-Path is taken off again).
//!
//! The message is spam when `X-Spam-Status` starts with `Yes` (or spamd's `Spam: True`
//! response header says so). The score added to the tally is `spamassassinscore`, or
//! SpamAssassin's own score (its whole part, as hMailServer reads it) with
//! `spamassassinmergescore`. The reason is hMailServer's `Tagged as Spam by SpamAssassin`.
//!
//! [`parse_response`] reads spamd's answer without I/O; [`SpamAssassin::check`] is the client.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use crate::score::Finding;

/// hMailServer's reason text for the finding.
pub const REASON: &str = "Tagged as Spam by SpamAssassin";
/// hMailServer's error text when spamd gave no answer (error 5508); the message goes on
/// unscored.
pub const NOT_COMPLETED: &str = "The SpamAssassin tests did not complete. Please confirm that the configuration (host name and port) is valid and that SpamAssassin is running.";
/// The largest `antispammaxsize` hMailServer honours (256 MB).
pub const MAX_SIZE_KB: u64 = 256 * 1024;
/// spamd connections open at once across the process.
pub const MAX_CONNECTIONS: usize = 10;

/// How to reach spamd and how to count its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpamAssassin {
    /// `spamassassinhost`, `spamassassinport`.
    pub host: String,
    pub port: u16,
    /// `spamassassinscore`: the score added when not merging.
    pub score: i32,
    /// `spamassassinmergescore`: add SpamAssassin's own score instead.
    pub merge_score: bool,
    /// `antispammaxsize` in KB: larger messages are not sent (0 = hMailServer's cap).
    pub max_size_kb: u64,
    /// For the connect, each write and each read (hMailServer: 30-90 s).
    pub timeout: Duration,
}

impl SpamAssassin {
    /// The configuration from setting lookups (`int`, `string` by hm_settings name); `None`
    /// when `spamassassinenabled` is off.
    pub fn from_settings(int: impl Fn(&str) -> i64, string: impl Fn(&str) -> String) -> Option<SpamAssassin> {
        if int("spamassassinenabled") == 0 {
            return None;
        }
        let host = string("spamassassinhost");
        Some(SpamAssassin {
            host: if host.trim().is_empty() { "127.0.0.1".to_owned() } else { host.trim().to_owned() },
            port: u16::try_from(int("spamassassinport")).ok().filter(|p| *p != 0).unwrap_or(783),
            score: i32::try_from(int("spamassassinscore")).unwrap_or(5),
            merge_score: int("spamassassinmergescore") != 0,
            max_size_kb: u64::try_from(int("antispammaxsize")).unwrap_or(1024),
            timeout: Duration::from_secs(90),
        })
    }

    fn size_limit(&self) -> u64 {
        let kb = if self.max_size_kb == 0 { MAX_SIZE_KB } else { self.max_size_kb.min(MAX_SIZE_KB) };
        kb * 1024
    }
}

/// What spamd made of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct SaResult {
    pub is_spam: bool,
    /// SpamAssassin's score (`score=` of X-Spam-Status, or the `Spam:` response header).
    pub score: f64,
    /// The message as spamd returned it, without the temporary Return-Path: deliver this one.
    pub message: Vec<u8>,
    /// The header fields SpamAssassin added (`X-Spam-*`), name and raw value.
    pub headers: Vec<(String, String)>,
}

impl SaResult {
    /// The finding for the tally when the message is spam.
    pub fn finding(&self, config: &SpamAssassin) -> Option<Finding> {
        if !self.is_spam {
            return None;
        }
        let score = if config.merge_score { whole_part(self.score) } else { config.score };
        Some(Finding::new("SpamAssassin", score, REASON))
    }
}

fn whole_part(score: f64) -> i32 {
    if score.is_finite() { score.trunc().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32 } else { 0 }
}

#[derive(Debug, thiserror::Error)]
pub enum SaError {
    #[error("could not connect to SpamAssassin at {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("SpamAssassin at {0} did not answer within {1:?}")]
    Timeout(String, Duration),
    #[error("SpamAssassin at {0}: {1}")]
    Io(String, std::io::Error),
    #[error("the response from SpamAssassin was not valid: {0}")]
    Protocol(String),
}

impl SaError {
    /// hMailServer's log text for a test that did not complete.
    pub fn log_text(&self) -> String {
        format!("{NOT_COMPLETED} ({self})")
    }
}

/// spamd's answer, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The processed message.
    pub body: Vec<u8>,
    /// `Spam: True ; 15.0 / 5.0` when spamd sent it: (is spam, score).
    pub spam: Option<(bool, f64)>,
}

/// Parses a whole spamd response: `SPAMD/1.x 0 EX_OK`, header lines, a blank line, the body.
/// The body must be as long as `Content-length` says.
pub fn parse_response(raw: &[u8]) -> Result<Response, SaError> {
    let bad = |what: &str| SaError::Protocol(what.to_owned());
    let head_end = find(raw, b"\r\n\r\n").ok_or_else(|| bad("no end of the response header"))?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let mut words = status.split_whitespace();
    let (proto, code) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    if !proto.starts_with("SPAMD/") {
        return Err(bad(&format!("expected SPAMD/1.1 0 EX_OK, got {status:?}")));
    }
    if code != "0" {
        return Err(bad(&format!("spamd answered {status:?}")));
    }
    let mut length: Option<usize> = None;
    let mut spam = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().map_err(|_| bad(&format!("bad Content-length {value:?}")))?);
        } else if name.trim().eq_ignore_ascii_case("spam") {
            // `True ; 15.0 / 5.0`
            let (flag, rest) = value.split_once(';').unwrap_or((value, ""));
            let score = rest.split('/').next().and_then(|s| s.trim().parse().ok()).unwrap_or(0.0);
            spam = Some((flag.trim().eq_ignore_ascii_case("true") || flag.trim().eq_ignore_ascii_case("yes"), score));
        }
    }
    let body = &raw[head_end + 4..];
    let length = length.ok_or_else(|| bad("no Content-length"))?;
    if body.len() != length {
        return Err(bad(&format!("Content-length {length} but {} bytes came", body.len())));
    }
    Ok(Response { body: body.to_vec(), spam })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The header block of `message`: (name, raw value with folding kept) in order, and where the
/// body starts.
fn header_fields(message: &[u8]) -> (Vec<(String, String, std::ops::Range<usize>)>, usize) {
    let mut fields: Vec<(String, String, std::ops::Range<usize>)> = Vec::new();
    let mut at = 0;
    while at < message.len() {
        let end = message[at..].iter().position(|&b| b == b'\n').map_or(message.len(), |p| at + p + 1);
        let line = &message[at..end];
        if line == b"\r\n" || line == b"\n" {
            return (fields, end);
        }
        if (line[0] == b' ' || line[0] == b'\t') && !fields.is_empty() {
            if let Some(last) = fields.last_mut() {
                last.1.push_str(&String::from_utf8_lossy(line));
                last.2.end = end;
            }
        } else if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = String::from_utf8_lossy(&line[..colon]).trim().to_owned();
            let value = String::from_utf8_lossy(&line[colon + 1..]).to_string();
            fields.push((name, value, at..end));
        } else {
            return (fields, at);
        }
        at = end;
    }
    (fields, message.len())
}

/// `message` without its `name` header fields.
fn without_field(message: &[u8], name: &str) -> Vec<u8> {
    let (fields, _) = header_fields(message);
    let mut out = Vec::with_capacity(message.len());
    let mut at = 0;
    for (n, _, range) in fields {
        if n.eq_ignore_ascii_case(name) {
            out.extend_from_slice(&message[at..range.start]);
            at = range.end;
        }
    }
    out.extend_from_slice(&message[at..]);
    out
}

/// What the message's `X-Spam-Status` says: (spam, score).
pub fn spam_status(value: &str) -> (bool, f64) {
    let v = value.trim();
    let is_spam = v.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("yes"));
    let score = v
        .to_ascii_lowercase()
        .find("score=")
        .and_then(|i| v.get(i + 6..))
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect::<String>())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    (is_spam, score)
}

fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(MAX_CONNECTIONS))
}

impl SpamAssassin {
    /// Sends `message` (envelope sender `envelope_from`) to spamd. `Ok(None)` when it is larger
    /// than `antispammaxsize` and is not tested.
    pub async fn check(&self, message: &[u8], envelope_from: &str) -> Result<Option<SaResult>, SaError> {
        if message.len() as u64 > self.size_limit() {
            return Ok(None);
        }
        let at = format!("{}:{}", self.host, self.port);
        let _permit = match timeout(self.timeout, slots().acquire()).await {
            Ok(Ok(p)) => p,
            _ => return Err(SaError::Timeout(format!("{at} (waiting for a free connection)"), self.timeout)),
        };
        // Existing Return-Path fields go (RFC 5321 §4.4); ours goes on top for spamd only.
        let mut sent = format!("Return-Path: <{}>\r\n", envelope_from.replace(['\r', '\n'], "")).into_bytes();
        sent.extend_from_slice(&without_field(message, "Return-Path"));
        let mut stream = timeout(self.timeout, tokio::net::TcpStream::connect((self.host.as_str(), self.port)))
            .await
            .map_err(|_| SaError::Timeout(at.clone(), self.timeout))?
            .map_err(|e| SaError::Connect(at.clone(), e))?;
        let mut request = format!("PROCESS SPAMC/1.2\r\nContent-length: {}\r\n\r\n", sent.len()).into_bytes();
        request.extend_from_slice(&sent);
        for chunk in request.chunks(64 * 1024) {
            timeout(self.timeout, stream.write_all(chunk))
                .await
                .map_err(|_| SaError::Timeout(at.clone(), self.timeout))?
                .map_err(|e| SaError::Io(at.clone(), e))?;
        }
        let _ = timeout(self.timeout, stream.shutdown()).await;
        // SpamAssassin adds headers (and may wrap the message in a report): allow it room,
        // but not without bound.
        let cap = sent.len().saturating_mul(2).saturating_add(1024 * 1024);
        let mut raw = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = timeout(self.timeout, stream.read(&mut buf))
                .await
                .map_err(|_| SaError::Timeout(at.clone(), self.timeout))?
                .map_err(|e| SaError::Io(at.clone(), e))?;
            if n == 0 {
                break;
            }
            if raw.len() + n > cap {
                return Err(SaError::Protocol(format!("response longer than {cap} bytes")));
            }
            raw.extend_from_slice(&buf[..n]);
        }
        let response = parse_response(&raw)?;
        Ok(Some(result_of(response)))
    }
}

/// The result from spamd's response: the processed message without the temporary
/// Return-Path, SpamAssassin's headers, and the verdict.
pub fn result_of(response: Response) -> SaResult {
    let message = without_field(&response.body, "Return-Path");
    let (fields, _) = header_fields(&message);
    let headers: Vec<(String, String)> = fields
        .iter()
        // Compared as bytes: a name of arbitrary text need not have a char boundary at 7.
        .filter(|(n, _, _)| n.len() > 7 && n.as_bytes()[..7].eq_ignore_ascii_case(b"x-spam-"))
        .map(|(n, v, _)| (n.clone(), v.trim().to_owned()))
        .collect();
    let status = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("x-spam-status")).map(|(_, v)| spam_status(v));
    let (is_spam, score) = match (response.spam, status) {
        (Some((spam, score)), _) => (spam, score),
        (None, Some(s)) => s,
        (None, None) => (false, 0.0),
    };
    SaResult { is_spam, score, message, headers }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_parse() {
        let r =
            parse_response(b"SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\nSpam: True ; 15.0 / 5.0\r\n\r\nhello").unwrap();
        assert_eq!(r.body, b"hello");
        assert_eq!(r.spam, Some((true, 15.0)));
        let r = parse_response(b"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n").unwrap();
        assert_eq!(r.spam, None);
        assert!(parse_response(b"SPAMD/1.0 76 Bad header line\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(parse_response(b"SPAMD/1.1 0 EX_OK\r\nContent-length: 9\r\n\r\nshort").is_err());
        assert!(parse_response(b"SPAMD/1.1 0 EX_OK\r\nContent-length: x\r\n\r\n").is_err());
        assert!(parse_response(b"SPAMD/1.1 0 EX_OK").is_err());
    }

    #[test]
    fn status_headers_give_verdict_and_score() {
        assert_eq!(spam_status(" Yes, score=1000.0 required=5.0 tests=GTUBE"), (true, 1000.0));
        assert_eq!(spam_status("No, score=-0.1 required=5.0"), (false, -0.1));
        assert_eq!(spam_status("yes"), (true, 0.0));
        assert_eq!(spam_status(""), (false, 0.0));
        assert_eq!(whole_part(15.9), 15);
        assert_eq!(whole_part(f64::NAN), 0);
        assert_eq!(whole_part(1e300), i32::MAX);
    }

    #[test]
    fn the_temporary_return_path_goes_and_sa_headers_stay() {
        let body = b"Return-Path: <a@b>\r\nX-Spam-Status: Yes, score=7.2 required=5.0 tests=X,\r\n\tY\r\nX-Spam-Flag: YES\r\nSubject: hi\r\n\r\nbody\r\nReturn-Path: not a header\r\n".to_vec();
        let r = result_of(Response { body, spam: None });
        assert!(r.is_spam);
        assert_eq!(r.score, 7.2);
        assert!(r.message.starts_with(b"X-Spam-Status: Yes"));
        assert!(r.message.ends_with(b"Return-Path: not a header\r\n"));
        assert_eq!(r.headers.len(), 2);
        let sa = SpamAssassin {
            host: "127.0.0.1".into(),
            port: 783,
            score: 5,
            merge_score: false,
            max_size_kb: 1024,
            timeout: Duration::from_secs(1),
        };
        assert_eq!(r.finding(&sa), Some(Finding::new("SpamAssassin", 5, REASON)));
        let merged = SpamAssassin { merge_score: true, ..sa };
        assert_eq!(r.finding(&merged).map(|f| f.score), Some(7));
    }

    #[test]
    fn settings_by_hmailserver_name() {
        let ints = |n: &str| match n {
            "spamassassinenabled" => 1,
            "spamassassinscore" => 3,
            "spamassassinmergescore" => 1,
            "spamassassinport" => 7830,
            "antispammaxsize" => 512,
            _ => 0,
        };
        let sa = SpamAssassin::from_settings(ints, |_| String::new()).unwrap();
        assert_eq!((sa.host.as_str(), sa.port, sa.score, sa.merge_score), ("127.0.0.1", 7830, 3, true));
        assert_eq!(sa.size_limit(), 512 * 1024);
        assert_eq!(SpamAssassin::from_settings(|_| 0, |_| String::new()), None);
        let huge = SpamAssassin { max_size_kb: u64::MAX / 2048, ..sa };
        assert_eq!(huge.size_limit(), MAX_SIZE_KB * 1024);
    }

    #[test]
    fn header_names_with_multibyte_chars_at_the_prefix_end_do_not_panic() {
        // "X-Spam" then 'é' (two bytes): byte 7 falls inside the character.
        let body = "X-Spam\u{e9}x: 1\r\nX-Spam-Flag: YES\r\n\r\nbody".as_bytes();
        let mut raw = format!("SPAMD/1.1 0 EX_OK\r\nContent-length: {}\r\n\r\n", body.len()).into_bytes();
        raw.extend_from_slice(body);
        let r = result_of(parse_response(&raw).unwrap());
        assert_eq!(r.headers, vec![("X-Spam-Flag".to_owned(), "YES".to_owned())]);
    }

    #[test]
    fn arbitrary_responses_never_panic() {
        let alphabet: &[&[u8]] =
            &[b"SPAMD/1.1 0 EX_OK", b"\r\n", b"Content-length: 3", b"Spam: True ; x / y", b":", b"abc", &[0xff]];
        for n in 0u32..20_000 {
            let mut input = Vec::new();
            let mut k = n;
            while k > 0 {
                input.extend_from_slice(alphabet[(k % alphabet.len() as u32) as usize]);
                k /= alphabet.len() as u32;
            }
            if let Ok(r) = parse_response(&input) {
                let _ = result_of(r);
            }
            let _ = header_fields(&input);
            let _ = without_field(&input, "Spam");
        }
    }
}
