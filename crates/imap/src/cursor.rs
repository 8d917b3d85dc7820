//! Byte cursor with the IMAP lexical primitives (atoms, strings, literals, numbers).

use crate::error::ParseError;

/// Reads IMAP tokens from a complete command (literals inline after their `{n}\r\n`).
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// `ATOM-CHAR`: any CHAR except atom-specials.
pub fn is_atom_char(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !matches!(b, b'(' | b')' | b'{' | b' ' | b'%' | b'*' | b'"' | b'\\' | b']')
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }
    /// Current offset.
    pub fn pos(&self) -> usize {
        self.pos
    }
    /// Advance `n` bytes (at most to the end).
    pub fn skip(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }
    /// Next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }
    /// Remaining bytes.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }
    /// An `Expected` error at the current offset.
    pub fn expected(&self, what: &'static str) -> ParseError {
        ParseError::Expected { what, at: self.pos }
    }
    /// Consume `b` if it is next.
    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// Require byte `b`.
    pub fn expect(&mut self, b: u8, what: &'static str) -> Result<(), ParseError> {
        if self.eat(b) { Ok(()) } else { Err(self.expected(what)) }
    }
    /// Require one space.
    pub fn sp(&mut self) -> Result<(), ParseError> {
        self.expect(b' ', "SP")
    }
    /// Consume a case-insensitive keyword if it is next and not followed by an atom char.
    pub fn eat_keyword(&mut self, kw: &str) -> bool {
        let k = kw.as_bytes();
        let end = self.pos + k.len();
        if end <= self.buf.len()
            && self.buf[self.pos..end].eq_ignore_ascii_case(k)
            && !self.buf.get(end).is_some_and(|&b| is_atom_char(b) && b != b'[')
        {
            self.pos = end;
            true
        } else {
            false
        }
    }
    /// Require the end of the command: CRLF (or bare LF) and nothing after.
    pub fn end(&mut self) -> Result<(), ParseError> {
        self.eat(b'\r');
        if !self.eat(b'\n') {
            return Err(ParseError::Trailing(self.pos));
        }
        if self.pos != self.buf.len() {
            return Err(ParseError::Trailing(self.pos));
        }
        Ok(())
    }
    /// True at CRLF / LF / end of input.
    pub fn at_end(&self) -> bool {
        matches!(self.peek(), None | Some(b'\r') | Some(b'\n'))
    }
    /// Bytes while `f` holds (may be empty).
    pub fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        &self.buf[start..self.pos]
    }
    /// An `atom` (one or more ATOM-CHARs).
    pub fn atom(&mut self) -> Result<&'a [u8], ParseError> {
        let a = self.take_while(is_atom_char);
        if a.is_empty() { Err(self.expected("atom")) } else { Ok(a) }
    }
    /// An atom as an upper-cased ASCII string.
    pub fn atom_upper(&mut self) -> Result<String, ParseError> {
        Ok(String::from_utf8_lossy(self.atom()?).to_ascii_uppercase())
    }
    /// A `number` (u32).
    pub fn number(&mut self) -> Result<u32, ParseError> {
        let at = self.pos;
        let d = self.take_while(|b| b.is_ascii_digit());
        if d.is_empty() {
            return Err(self.expected("number"));
        }
        std::str::from_utf8(d).ok().and_then(|s| s.parse().ok()).ok_or(ParseError::BadNumber(at))
    }
    /// A `number64` (u64).
    pub fn number64(&mut self) -> Result<u64, ParseError> {
        let at = self.pos;
        let d = self.take_while(|b| b.is_ascii_digit());
        if d.is_empty() {
            return Err(self.expected("number"));
        }
        std::str::from_utf8(d).ok().and_then(|s| s.parse().ok()).ok_or(ParseError::BadNumber(at))
    }
    /// A `nz-number`.
    pub fn nz_number(&mut self) -> Result<u32, ParseError> {
        let at = self.pos;
        match self.number()? {
            0 => Err(ParseError::BadNumber(at)),
            n => Ok(n),
        }
    }
    /// A quoted string, unescaped.
    pub fn quoted(&mut self) -> Result<Vec<u8>, ParseError> {
        self.expect(b'"', "quoted string")?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b @ (b'"' | b'\\')) => {
                            out.push(b);
                            self.pos += 1;
                        }
                        _ => return Err(self.expected("quoted-special")),
                    }
                }
                Some(b'\r' | b'\n') | None => return Err(self.expected("closing quote")),
                Some(b) => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }
    /// A literal `{n}` / `{n+}` / `~{n}` followed by CRLF and n bytes. Returns (bytes, binary).
    pub fn literal(&mut self) -> Result<(&'a [u8], bool), ParseError> {
        let binary = self.eat(b'~');
        self.expect(b'{', "literal")?;
        let n = self.number64()?;
        self.eat(b'+');
        self.expect(b'}', "}")?;
        self.eat(b'\r');
        self.expect(b'\n', "CRLF after literal")?;
        let n = usize::try_from(n).map_err(|_| ParseError::BadNumber(self.pos))?;
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or(self.expected("literal data"))?;
        let data = &self.buf[self.pos..end];
        self.pos = end;
        Ok((data, binary))
    }
    /// A `string`: quoted or literal.
    pub fn string(&mut self) -> Result<Vec<u8>, ParseError> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => Ok(self.literal()?.0.to_vec()),
            Some(b'~') if self.buf.get(self.pos + 1) == Some(&b'{') => Ok(self.literal()?.0.to_vec()),
            _ => Err(self.expected("string")),
        }
    }
    /// An `astring`: atom (ASTRING-CHAR incl. `]`) or string.
    pub fn astring(&mut self) -> Result<Vec<u8>, ParseError> {
        // `~` is an atom character unless a binary literal `~{` starts (RFC 3516).
        let binary_literal = self.peek() == Some(b'~') && self.buf.get(self.pos + 1) == Some(&b'{');
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            Some(b'~') if binary_literal => self.string(),
            _ => {
                let a = self.take_while(|b| is_atom_char(b) || b == b']');
                if a.is_empty() { Err(self.expected("astring")) } else { Ok(a.to_vec()) }
            }
        }
    }
    /// An astring that must be UTF-8.
    pub fn astring_utf8(&mut self) -> Result<String, ParseError> {
        let at = self.pos;
        String::from_utf8(self.astring()?).map_err(|_| ParseError::InvalidUtf8(at))
    }
    /// A string that must be UTF-8.
    pub fn string_utf8(&mut self) -> Result<String, ParseError> {
        let at = self.pos;
        String::from_utf8(self.string()?).map_err(|_| ParseError::InvalidUtf8(at))
    }
    /// An `nstring`: NIL or string.
    pub fn nstring(&mut self) -> Result<Option<Vec<u8>>, ParseError> {
        if self.eat_keyword("NIL") { Ok(None) } else { self.string().map(Some) }
    }
    /// A `list-mailbox`: list-chars (incl. `%` and `*`) or string.
    pub fn list_mailbox(&mut self) -> Result<String, ParseError> {
        let at = self.pos;
        let binary_literal = self.peek() == Some(b'~') && self.buf.get(self.pos + 1) == Some(&b'{');
        let v = match self.peek() {
            Some(b'"' | b'{') => self.string()?,
            Some(b'~') if binary_literal => self.string()?,
            _ => {
                let a = self.take_while(|b| is_atom_char(b) || matches!(b, b']' | b'%' | b'*'));
                if a.is_empty() {
                    return Err(self.expected("list-mailbox"));
                }
                a.to_vec()
            }
        };
        String::from_utf8(v).map_err(|_| ParseError::InvalidUtf8(at))
    }
    /// A parenthesised, space-separated list; `item` parses one element.
    pub fn paren_list<T>(
        &mut self,
        allow_empty: bool,
        mut item: impl FnMut(&mut Self) -> Result<T, ParseError>,
    ) -> Result<Vec<T>, ParseError> {
        self.expect(b'(', "(")?;
        let mut out = Vec::new();
        if self.eat(b')') {
            return if allow_empty { Ok(out) } else { Err(self.expected("list item")) };
        }
        loop {
            out.push(item(self)?);
            if self.eat(b')') {
                return Ok(out);
            }
            self.sp()?;
        }
    }
}
