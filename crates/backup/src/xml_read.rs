//! Reads hMailServer backup XML as a stream of element openings and closings, whatever its
//! size: UTF-16LE with a byte-order mark (as hMailServer writes it), UTF-16BE, or UTF-8.

use std::io::{self, BufRead, BufReader, Read};

use quick_xml::events::Event;

use crate::BackupError;

/// Deeper nesting than this is refused (hMailServer's own archives are a dozen levels deep
/// plus the depth of nested IMAP folders).
pub const MAX_DEPTH: usize = 256;

/// One step through the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Open { name: String, attrs: Vec<(String, String)> },
    Close { name: String },
}

impl Node {
    /// The value of attribute `key` of an opening, "" when absent (as hMailServer reads it).
    pub fn attr(&self, key: &str) -> &str {
        match self {
            Node::Open { attrs, .. } => attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or(""),
            Node::Close { .. } => "",
        }
    }
}

/// A streaming reader of elements.
pub struct XmlReader<R: Read> {
    inner: quick_xml::Reader<BufReader<Utf8<R>>>,
    buf: Vec<u8>,
    /// An empty element's closing, returned by the next call.
    queued_close: Option<String>,
    depth: usize,
}

impl<R: Read> XmlReader<R> {
    pub fn new(source: R) -> Self {
        let mut inner = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, Utf8::new(source)));
        inner.config_mut().trim_text(true);
        XmlReader { inner, buf: Vec::new(), queued_close: None, depth: 0 }
    }

    /// The next element opening or closing; `None` at the end of the document.
    pub fn next_node(&mut self) -> Result<Option<Node>, BackupError> {
        if let Some(name) = self.queued_close.take() {
            self.depth -= 1;
            return Ok(Some(Node::Close { name }));
        }
        loop {
            self.buf.clear();
            let event = match self.inner.read_event_into(&mut self.buf) {
                Ok(ev) => ev,
                Err(e) => {
                    let at = self.inner.buffer_position();
                    return Err(BackupError::Format(format!("XML at byte {at}: {e}")));
                }
            };
            match event {
                Event::Start(e) | Event::Empty(e) if self.depth >= MAX_DEPTH => {
                    let _ = e;
                    return Err(BackupError::Format(format!("elements nested deeper than {MAX_DEPTH}")));
                }
                Event::Start(e) => {
                    self.depth += 1;
                    return Ok(Some(opening(&e)?));
                }
                Event::Empty(e) => {
                    let node = opening(&e)?;
                    if let Node::Open { name, .. } = &node {
                        self.queued_close = Some(name.clone());
                    }
                    self.depth += 1;
                    return Ok(Some(node));
                }
                Event::End(e) => {
                    self.depth = self.depth.saturating_sub(1);
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    return Ok(Some(Node::Close { name }));
                }
                Event::Eof => return Ok(None),
                _ => continue,
            }
        }
    }
}

fn opening(e: &quick_xml::events::BytesStart<'_>) -> Result<Node, BackupError> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| BackupError::Format(format!("element {name}: {err}")))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a
            .unescape_value()
            .map_err(|err| BackupError::Format(format!("element {name}, attribute {key}: {err}")))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Node::Open { name, attrs })
}

/// Turns UTF-16 (by its byte-order mark) into UTF-8 as it is read; UTF-8 passes through.
pub struct Utf8<R: Read> {
    source: R,
    mode: Option<Mode>,
    /// Bytes read but not yet decoded (an odd byte, a lone high surrogate).
    carry: Vec<u8>,
    /// Decoded text not yet handed out.
    out: Vec<u8>,
    out_pos: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Utf8,
    Utf16Le,
    Utf16Be,
}

impl<R: Read> Utf8<R> {
    pub fn new(source: R) -> Self {
        Utf8 { source, mode: None, carry: Vec::new(), out: Vec::new(), out_pos: 0 }
    }

    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = vec![0u8; 64 * 1024];
        let n = self.source.read(&mut chunk)?;
        chunk.truncate(n);
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(&chunk);
        if self.mode.is_none() {
            if bytes.len() < 3 && n > 0 {
                self.carry = bytes;
                return Ok(true);
            }
            let (mode, skip) = match bytes.as_slice() {
                [0xFF, 0xFE, ..] => (Mode::Utf16Le, 2),
                [0xFE, 0xFF, ..] => (Mode::Utf16Be, 2),
                [0xEF, 0xBB, 0xBF, ..] => (Mode::Utf8, 3),
                _ => (Mode::Utf8, 0),
            };
            self.mode = Some(mode);
            bytes.drain(..skip);
        }
        self.out.clear();
        self.out_pos = 0;
        match self.mode {
            Some(Mode::Utf8) | None => self.out = bytes,
            Some(mode) => {
                let whole = bytes.len() / 2 * 2;
                let mut units: Vec<u16> = bytes[..whole]
                    .chunks_exact(2)
                    .map(|c| {
                        if mode == Mode::Utf16Le {
                            u16::from_le_bytes([c[0], c[1]])
                        } else {
                            u16::from_be_bytes([c[0], c[1]])
                        }
                    })
                    .collect();
                let mut carry = bytes[whole..].to_vec();
                // A high surrogate at the end waits for its partner in the next chunk.
                if n > 0 && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
                    let u = units.pop().unwrap_or_default();
                    let mut kept =
                        if mode == Mode::Utf16Le { u.to_le_bytes().to_vec() } else { u.to_be_bytes().to_vec() };
                    kept.extend_from_slice(&carry);
                    carry = kept;
                }
                self.carry = carry;
                let text: String = char::decode_utf16(units).map(|r| r.unwrap_or('\u{FFFD}')).collect();
                self.out = text.into_bytes();
            }
        }
        Ok(n > 0 || !self.out.is_empty())
    }
}

impl<R: Read> Read for Utf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if !self.fill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// Reads a whole small document into nodes (tests and tools).
pub fn read_all(source: impl BufRead) -> Result<Vec<Node>, BackupError> {
    let mut r = XmlReader::new(source);
    let mut nodes = Vec::new();
    while let Some(n) = r.next_node()? {
        nodes.push(n);
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml_write::XmlWriter;

    #[test]
    fn reads_what_the_writer_writes_in_utf16() {
        let mut w = XmlWriter::new(Vec::new()).unwrap();
        w.open::<&str, &str>("Backup", &[]).unwrap();
        w.empty("Alias", &[("Name", "ü&😀"), ("Value", "line1\r\nline2")]).unwrap();
        let bytes = w.finish().unwrap();
        let nodes = read_all(&bytes[..]).unwrap();
        assert_eq!(nodes.len(), 4);
        assert_eq!(nodes[1].attr("Name"), "ü&😀");
        assert_eq!(nodes[1].attr("Value"), "line1\r\nline2");
        assert_eq!(nodes[1].attr("Missing"), "");
        assert_eq!(nodes[3], Node::Close { name: "Backup".into() });
    }

    #[test]
    fn surrogate_pairs_split_across_reads_survive() {
        // A reader handing out one byte at a time splits every code unit and pair.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        let mut w = XmlWriter::new(Vec::new()).unwrap();
        w.empty("A", &[("v", "x😀y")]).unwrap();
        let bytes = w.finish().unwrap();
        let mut text = String::new();
        Utf8::new(OneByte(&bytes)).read_to_string(&mut text).unwrap();
        assert!(text.contains("x😀y"));
    }

    #[test]
    fn utf8_and_garbage_are_handled() {
        let nodes = read_all(&b"<Backup><X a=\"1\"/></Backup>"[..]).unwrap();
        assert_eq!(nodes[1].attr("a"), "1");
        assert!(read_all(&b"<Backup><X a=\"1></Backup>"[..]).is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(read_all(deep.as_bytes()).is_err());
    }
}
