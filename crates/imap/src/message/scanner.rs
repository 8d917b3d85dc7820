//! Streaming MIME scanner: finds part boundaries while keeping only header blocks in memory.
//!
//! The file is read line by line. Only a short prefix of each body line is kept, enough to
//! recognise a boundary delimiter, so a 50 MB attachment costs a few hundred bytes. Per
//! RFC 2046 §5.1.1 the line end before a delimiter belongs to the delimiter, so a part's body
//! stops before it. Delimiters are matched exactly (`--boundary`, optional `--`, then only
//! whitespace), innermost multipart first, and a delimiter of an outer multipart also closes
//! the inner ones left open. Bare LF line ends work as CRLF does.

use super::header::{self, MimeValue};
use super::{Kind, MessageStructure, Part};

/// Deepest nesting of multiparts and encapsulated messages that is parsed (the message is
/// level 0). Deeper content stays opaque body of its parent.
pub const MAX_DEPTH: usize = 64;

/// Most MIME entities tracked in one message. Further delimiters are treated as body.
pub const MAX_PARTS: usize = 10_000;

/// Header bytes kept per part (256 KiB); longer header blocks are cut short in memory only,
/// offsets stay exact.
const MAX_PART_HEADER: usize = 256 * 1024;

/// Header bytes kept for the whole message (8 MiB), so that many parts cannot add up.
const MAX_TOTAL_HEADER: usize = 8 * 1024 * 1024;

/// Longest boundary accepted (RFC 2046 §5.1.1 allows 70; some senders go further).
const MAX_BOUNDARY: usize = 200;

/// Header line prefix kept even past the header caps, to tell header lines from body lines.
const HEADER_LINE_PREFIX: usize = 1000;

/// Body line prefix kept: a delimiter, `--`, and room for transport padding.
const BODY_LINE_PREFIX: usize = MAX_BOUNDARY + 2 + 2 + 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Body,
}

/// A part not closed yet. Only the innermost can be in its header.
#[derive(Debug)]
struct Open {
    part: u32,
    state: State,
    depth: usize,
    /// `--boundary` while this multipart accepts new body parts.
    delimiter: Option<Vec<u8>>,
    /// LF count before `body_start`.
    lf_at_body: u64,
    /// The default Content-Type here is `message/rfc822` (RFC 2046 §5.1.5).
    in_digest: bool,
    /// A header field was seen, so a line starting with whitespace continues it.
    seen_field: bool,
}

/// Feeds a message file in chunks and returns its [`MessageStructure`].
///
/// ```
/// use altimail_imap::message::Scanner;
/// let mut scanner = Scanner::new();
/// scanner.feed(b"Subject: hi\r\n\r\nhel");
/// scanner.feed(b"lo\r\n");
/// let structure = scanner.finish();
/// assert_eq!(structure.size(), 22);
/// ```
#[derive(Debug)]
pub struct Scanner {
    parts: Vec<Part>,
    open: Vec<Open>,
    /// Offset of the next byte fed.
    pos: u64,
    /// Offset where the current line starts.
    line_start: u64,
    /// Kept prefix of the current line (line end included when it fits).
    line: Vec<u8>,
    /// The current line is longer than what `line` kept.
    line_cut: bool,
    /// Last byte fed, to see a CR split from its LF by a chunk edge.
    last: u8,
    /// Length of the previous line's ending (0 at the start, 1 for LF, 2 for CRLF).
    prev_eol: u64,
    /// LF count before `line_start`.
    lf: u64,
    header_total: usize,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

fn new_part(header_start: u64) -> Part {
    Part {
        header: Vec::new(),
        header_start,
        body_start: header_start,
        body_end: header_start,
        body_lines: 0,
        content_type: MimeValue::default(),
        kind: Kind::Basic,
        children: Vec::new(),
    }
}

impl Scanner {
    /// A scanner at the start of a message.
    pub fn new() -> Scanner {
        Scanner {
            parts: vec![new_part(0)],
            open: vec![Open {
                part: 0,
                state: State::Header,
                depth: 0,
                delimiter: None,
                lf_at_body: 0,
                in_digest: false,
                seen_field: false,
            }],
            pos: 0,
            line_start: 0,
            line: Vec::with_capacity(BODY_LINE_PREFIX),
            line_cut: false,
            last: 0,
            prev_eol: 0,
            lf: 0,
            header_total: 0,
        }
    }

    /// Feeds the next bytes of the file. Chunks may split lines anywhere.
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while !rest.is_empty() {
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let eol =
                        if i > 0 { rest[i - 1] == b'\r' } else { self.last == b'\r' && self.pos > self.line_start };
                    self.keep(&rest[..=i]);
                    self.pos += i as u64 + 1;
                    self.last = b'\n';
                    self.end_line(if eol { 2 } else { 1 });
                    rest = &rest[i + 1..];
                }
                None => {
                    self.keep(rest);
                    self.pos += rest.len() as u64;
                    self.last = rest[rest.len() - 1];
                    break;
                }
            }
        }
    }

    /// Ends the message (a last line without line end counts as a line) and returns its
    /// structure, closing every part still open at the end of the file.
    pub fn finish(mut self) -> MessageStructure {
        if self.pos > self.line_start {
            self.process_line(0);
        }
        let end = self.pos;
        while let Some(o) = self.open.pop() {
            self.close(o, end, self.lf, end);
        }
        for p in &mut self.parts {
            p.header.shrink_to_fit();
        }
        MessageStructure { parts: self.parts, size: self.pos }
    }

    fn top(&self) -> &Open {
        // The message itself is only closed by `finish`, which consumes the scanner.
        self.open.last().expect("the message part stays open until finish")
    }

    fn keep(&mut self, bytes: &[u8]) {
        let cap = match self.top().state {
            State::Body => BODY_LINE_PREFIX,
            State::Header => self.header_budget().max(HEADER_LINE_PREFIX),
        };
        let room = cap.saturating_sub(self.line.len());
        if bytes.len() > room {
            self.line.extend_from_slice(&bytes[..room]);
            self.line_cut = true;
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    fn end_line(&mut self, eol: u64) {
        self.process_line(eol);
        self.lf += 1;
        self.prev_eol = eol;
        self.line.clear();
        self.line_cut = false;
        self.line_start = self.pos;
    }

    fn process_line(&mut self, eol: u64) {
        let line = std::mem::take(&mut self.line);
        let content = if self.line_cut { &line[..] } else { &line[..line.len() - eol as usize] };
        let line_end = self.pos;
        let lf_after = self.lf + u64::from(eol > 0);
        if !self.line_cut
            && let Some((k, close)) = self.match_delimiter(content)
        {
            self.delimiter(k, close, line_end);
            self.line = line;
            return;
        }
        loop {
            let top = self.top();
            if top.state == State::Body {
                break;
            }
            let idx = top.part as usize;
            if content.is_empty() && !self.line_cut {
                self.store_header(idx, &line);
                self.end_header(line_end, lf_after);
                break;
            }
            let continuation = matches!(content.first(), Some(b' ' | b'\t')) && top.seen_field;
            if continuation || is_field_start(content) {
                self.store_header(idx, &line);
                if let Some(top) = self.open.last_mut() {
                    top.seen_field = true;
                }
                break;
            }
            // Not a header line: the header ends without a blank line and this line is body,
            // or the header of an encapsulated message, so it is looked at again.
            self.end_header(self.line_start, self.lf);
        }
        self.line = line;
    }

    /// Header bytes the innermost part may still keep.
    fn header_budget(&self) -> usize {
        let part = &self.parts[self.top().part as usize];
        MAX_PART_HEADER.saturating_sub(part.header.len()).min(MAX_TOTAL_HEADER.saturating_sub(self.header_total))
    }

    /// Keeps a whole header line if the caps allow; the blank line is always kept.
    fn store_header(&mut self, idx: usize, line: &[u8]) {
        if self.line_cut || (line.len() > self.header_budget() && line.len() > 2) {
            return;
        }
        self.header_total += line.len();
        self.parts[idx].header.extend_from_slice(line);
    }

    fn match_delimiter(&self, content: &[u8]) -> Option<(usize, bool)> {
        for (k, o) in self.open.iter().enumerate().rev() {
            let Some(d) = &o.delimiter else { continue };
            let Some(rest) = content.strip_prefix(d.as_slice()) else { continue };
            let (close, pad) = match rest.strip_prefix(b"--") {
                Some(pad) => (true, pad),
                None => (false, rest),
            };
            // RFC 2046 §5.1.1: only linear whitespace may follow a delimiter.
            if pad.iter().all(|&b| b == b' ' || b == b'\t') {
                return Some((k, close));
            }
        }
        None
    }

    /// A delimiter of the multipart at `open[k]`: closes the parts inside it, then opens the
    /// next body part, or (close delimiter) leaves the multipart in its epilogue.
    fn delimiter(&mut self, k: usize, close: bool, line_end: u64) {
        let end = self.line_start.saturating_sub(self.prev_eol);
        let lf_at_end = self.lf.saturating_sub(u64::from(self.prev_eol > 0));
        while self.open.len() > k + 1 {
            if let Some(o) = self.open.pop() {
                self.close(o, end, lf_at_end, self.line_start);
            }
        }
        if close || self.parts.len() >= MAX_PARTS {
            self.open[k].delimiter = None;
            return;
        }
        let parent = &self.open[k];
        let (parent_idx, depth) = (parent.part, parent.depth + 1);
        let in_digest = self.parts[parent_idx as usize].content_type.subtype.eq_ignore_ascii_case(b"digest");
        let child = self.push_part(line_end);
        self.parts[parent_idx as usize].children.push(child);
        self.open.push(Open {
            part: child,
            state: State::Header,
            depth,
            delimiter: None,
            lf_at_body: 0,
            in_digest,
            seen_field: false,
        });
    }

    fn push_part(&mut self, header_start: u64) -> u32 {
        self.parts.push(new_part(header_start));
        (self.parts.len() - 1) as u32
    }

    /// The header of the innermost open part ends; its body starts at `body_start`.
    fn end_header(&mut self, body_start: u64, lf_at_body: u64) {
        let Some(top) = self.open.last_mut() else { return };
        top.state = State::Body;
        top.lf_at_body = lf_at_body;
        let (idx, depth, in_digest) = (top.part as usize, top.depth, top.in_digest);
        let part = &mut self.parts[idx];
        part.body_start = body_start;
        part.content_type = content_type_of(&part.header, in_digest);
        part.kind = kind_of(&part.content_type);
        let ct = &part.content_type;
        if part.kind == Kind::Multipart {
            let boundary = ct.param("boundary").filter(|b| !b.is_empty() && b.len() <= MAX_BOUNDARY);
            if let Some(b) = boundary
                && depth < MAX_DEPTH
            {
                let mut d = Vec::with_capacity(b.len() + 2);
                d.extend_from_slice(b"--");
                d.extend_from_slice(b);
                top.delimiter = Some(d);
            }
        } else if part.kind == Kind::Message {
            // An encoded message is opaque until decoded; RFC 2046 §5.2.1 only allows
            // 7bit, 8bit and binary here anyway.
            let encoded = header::first(&part.header, "Content-Transfer-Encoding")
                .and_then(|v| header::token_value(&v))
                .is_some_and(|e| e.eq_ignore_ascii_case(b"base64") || e.eq_ignore_ascii_case(b"quoted-printable"));
            if !encoded && depth < MAX_DEPTH && self.parts.len() < MAX_PARTS {
                let child = self.push_part(body_start);
                self.parts[idx].children.push(child);
                self.open.push(Open {
                    part: child,
                    state: State::Header,
                    depth: depth + 1,
                    delimiter: None,
                    lf_at_body: 0,
                    in_digest: false,
                    seen_field: false,
                });
            }
        }
    }

    /// Closes a part whose body ends at `end`. A part still in its header has a header up to
    /// `header_end` and an empty body.
    fn close(&mut self, o: Open, end: u64, lf_at_end: u64, header_end: u64) {
        let p = &mut self.parts[o.part as usize];
        if o.state == State::Header {
            p.body_start = header_end;
            p.body_end = header_end;
            p.body_lines = 0;
            p.content_type = content_type_of(&p.header, o.in_digest);
            p.kind = kind_of(&p.content_type);
        } else if end >= p.body_start {
            p.body_end = end;
            p.body_lines = lf_at_end.saturating_sub(o.lf_at_body);
        } else {
            p.body_end = p.body_start;
            p.body_lines = 0;
        }
    }
}

fn kind_of(ct: &MimeValue) -> Kind {
    if ct.value.eq_ignore_ascii_case(b"multipart") {
        Kind::Multipart
    } else if ct.value.eq_ignore_ascii_case(b"message")
        && (ct.subtype.eq_ignore_ascii_case(b"rfc822") || ct.subtype.eq_ignore_ascii_case(b"global"))
    {
        Kind::Message
    } else {
        Kind::Basic
    }
}

/// `name:` with a name of printable characters, maybe followed by whitespace before the colon
/// (obsolete syntax, RFC 5322 §4.5).
fn is_field_start(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else { return false };
    let name = &line[..colon];
    let name_end = name.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(0, |i| i + 1);
    name_end > 0 && name[..name_end].iter().all(|&b| (0x21..=0x7e).contains(&b))
}

/// Content-Type of a part, or its default: `message/rfc822` in a digest, else
/// `text/plain; charset=us-ascii` (RFC 2045 §5.2, RFC 2046 §5.1.5).
pub(crate) fn content_type_of(header: &[u8], in_digest: bool) -> MimeValue {
    if let Some(ct) = header::first(header, "Content-Type").and_then(|v| header::content_type(&v)) {
        return ct;
    }
    if in_digest {
        MimeValue { value: b"message".to_vec(), subtype: b"rfc822".to_vec(), params: Vec::new() }
    } else {
        MimeValue {
            value: b"text".to_vec(),
            subtype: b"plain".to_vec(),
            params: vec![(b"charset".to_vec(), b"us-ascii".to_vec())],
        }
    }
}
