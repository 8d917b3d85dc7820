//! Writes XML the way hMailServer's backup does: UTF-16LE with a byte-order mark, no
//! declaration, every element on its own line (CRLF) indented by tabs, each attribute followed
//! by a space (`<Alias Name="a" Value="b" Active="1" />`), and `& " ' < >` as entity references.
//! Elements are streamed: nothing but the chain of open elements is kept in memory.

use std::io::{self, Write};

/// A streaming writer of hMailServer-style XML.
pub struct XmlWriter<W: Write> {
    out: W,
    /// Text not yet encoded to UTF-16.
    pending: String,
    /// Open elements, and whether each has had a child yet.
    open: Vec<(String, bool)>,
}

const FLUSH_AT: usize = 64 * 1024;

impl<W: Write> XmlWriter<W> {
    /// Starts the document (the byte-order mark and the document's leading line break).
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&[0xFF, 0xFE])?;
        let mut w = XmlWriter { out, pending: String::new(), open: Vec::new() };
        w.pending.push_str("\r\n");
        Ok(w)
    }

    /// Opens an element with its attributes; it is closed by [`XmlWriter::close`].
    pub fn open<K: AsRef<str>, V: AsRef<str>>(&mut self, name: &str, attrs: &[(K, V)]) -> io::Result<()> {
        if let Some((_, has_children)) = self.open.last_mut()
            && !*has_children
        {
            *has_children = true;
            self.pending.push('>');
        }
        self.pending.push_str("\r\n");
        for _ in 0..self.open.len() {
            self.pending.push('\t');
        }
        self.pending.push('<');
        self.pending.push_str(name);
        if !attrs.is_empty() {
            self.pending.push(' ');
        }
        for (k, v) in attrs {
            self.pending.push_str(k.as_ref());
            self.pending.push_str("=\"");
            escape_into(&mut self.pending, v.as_ref());
            self.pending.push_str("\" ");
        }
        self.open.push((name.to_string(), false));
        self.flush_if_large()
    }

    /// An element without children.
    pub fn empty<K: AsRef<str>, V: AsRef<str>>(&mut self, name: &str, attrs: &[(K, V)]) -> io::Result<()> {
        self.open(name, attrs)?;
        self.close()
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) -> io::Result<()> {
        let Some((name, has_children)) = self.open.pop() else {
            return Err(io::Error::other("no open element to close"));
        };
        if has_children {
            self.pending.push_str("\r\n");
            for _ in 0..self.open.len() {
                self.pending.push('\t');
            }
            self.pending.push_str("</");
            self.pending.push_str(&name);
            self.pending.push('>');
        } else {
            self.pending.push_str("/>");
        }
        self.flush_if_large()
    }

    /// How many elements are open.
    pub fn depth(&self) -> usize {
        self.open.len()
    }

    /// Closes whatever is still open and returns the output, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        while !self.open.is_empty() {
            self.close()?;
        }
        self.encode()?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn flush_if_large(&mut self) -> io::Result<()> {
        if self.pending.len() >= FLUSH_AT { self.encode() } else { Ok(()) }
    }

    fn encode(&mut self) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(self.pending.len() * 2);
        for unit in self.pending.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        self.pending.clear();
        self.out.write_all(&bytes)
    }
}

fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8(bytes: &[u8]) -> String {
        assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
        let units: Vec<u16> = bytes[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16(&units).unwrap()
    }

    #[test]
    fn lays_out_like_hmailserver() {
        let mut w = XmlWriter::new(Vec::new()).unwrap();
        w.open::<&str, &str>("Backup", &[]).unwrap();
        w.open("BackupInformation", &[("Mode", "3"), ("Version", "5.7")]).unwrap();
        w.close().unwrap();
        w.open::<&str, &str>("Domains", &[]).unwrap();
        w.empty("Domain", &[("Name", "a&b\"<c>'")]).unwrap();
        let out = utf8(&w.finish().unwrap());
        assert_eq!(
            out,
            "\r\n\r\n<Backup>\r\n\t<BackupInformation Mode=\"3\" Version=\"5.7\" />\r\n\t<Domains>\r\n\t\t\
             <Domain Name=\"a&amp;b&quot;&lt;c&gt;&apos;\" />\r\n\t</Domains>\r\n</Backup>"
        );
    }
}
