//! Domain and account signatures, as hMailServer's `SignatureAdder` adds them to mail from a
//! local sender: the plain signature at the end of the first text/plain body part, the HTML one
//! in the first text/html body part (before `</body>`, else at the end). Quoted-printable and
//! base64 parts are decoded, signed and re-encoded in the same encoding; attachments are left alone.

use altimail_store::Store;
use altimail_store::repo::signatures;
use base64::Engine;
use std::ops::Range;

/// hMailServer's `domainsignaturemethod`.
const SET_IF_NOT_IN_ACCOUNT: i64 = 1;
const OVERWRITE_ACCOUNT: i64 = 2;
const APPEND_TO_ACCOUNT: i64 = 3;

/// The signature rows of a sender, as read from the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub account: Option<AccountSig>,
    pub domain_enabled: bool,
    pub domain_method: i64,
    pub domain_plain: String,
    pub domain_html: String,
    pub add_to_replies: bool,
    pub add_to_local: bool,
}

/// An account's signature and the names its macros use, as the store reads them.
pub use altimail_store::repo::signatures::AccountSignature as AccountSig;

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

/// hMailServer's "local" message: every recipient is on the sender's own domain.
pub fn is_local(sender: &str, recipients: &[&str]) -> bool {
    let d = domain_of(sender);
    recipients.iter().all(|r| domain_of(r).eq_ignore_ascii_case(d))
}

/// A reply, as hMailServer tells one: a non-empty References or In-Reply-To header.
pub fn is_reply(message: &[u8]) -> bool {
    let (head, _) = split_head(message);
    headers(head).iter().any(|(n, v)| {
        (n.eq_ignore_ascii_case("references") || n.eq_ignore_ascii_case("in-reply-to")) && !v.trim().is_empty()
    })
}

fn plain_to_html(plain: &str) -> String {
    plain.replace("\r\n", "<br>\r\n")
}

fn replace_no_case(s: &str, macro_name: &str, value: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let m = macro_name.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    while let Some(i) = lower[pos..].find(&m) {
        out.push_str(&s[pos..pos + i]);
        out.push_str(value);
        pos += i + m.len();
    }
    out.push_str(&s[pos..]);
    out
}

/// Expands `%User.FirstName%`, `%User.LastName%` and `%User.Address%` (case-insensitive).
pub fn expand_macros(s: &str, first: &str, last: &str, address: &str) -> String {
    let s = replace_no_case(s, "%User.FirstName%", first);
    let s = replace_no_case(&s, "%User.LastName%", last);
    replace_no_case(&s, "%User.Address%", address)
}

/// Decides the signature (plain, HTML) for a message, following `SignatureAdder::SetSignature`.
/// `None` when nothing is to be added. Macros are expanded.
pub fn decide(settings: &Settings, sender: &str, recipients: &[&str], message: &[u8]) -> Option<(String, String)> {
    if !settings.add_to_local && is_local(sender, recipients) {
        return None;
    }
    let mut plain = String::new();
    let mut html = String::new();
    if let Some(a) = settings.account.as_ref().filter(|a| a.enabled) {
        plain = a.plain.clone();
        html = a.html.clone();
        if !plain.is_empty() && html.is_empty() {
            html = plain_to_html(&plain);
        }
    }
    if settings.domain_enabled {
        let dplain = settings.domain_plain.clone();
        let mut dhtml = settings.domain_html.clone();
        if !dplain.is_empty() && dhtml.is_empty() {
            dhtml = plain_to_html(&dplain);
        }
        match settings.domain_method {
            SET_IF_NOT_IN_ACCOUNT => {
                if plain.is_empty() {
                    plain = dplain;
                }
                if html.is_empty() {
                    html = dhtml;
                }
            }
            APPEND_TO_ACCOUNT => {
                plain = format!("{plain}\r\n\r\n{dplain}");
                html = format!("{html}<br><br>{dhtml}");
            }
            OVERWRITE_ACCOUNT => {
                plain = dplain;
                html = dhtml;
            }
            _ => {}
        }
    }
    if plain.is_empty() && html.is_empty() {
        return None;
    }
    if !settings.add_to_replies && is_reply(message) {
        return None;
    }
    if let Some(a) = &settings.account {
        plain = expand_macros(&plain, &a.first_name, &a.last_name, &a.address);
        html = expand_macros(&html, &a.first_name, &a.last_name, &a.address);
    }
    Some((plain, html))
}

/// Reads the sender's account and domain signature settings. `None` when the sender's domain is
/// not a local domain (hMailServer signs only mail from its own domains).
pub async fn load(store: &Store, sender: &str) -> Result<Option<Settings>, altimail_store::StoreError> {
    let db = &store.db;
    let Some((local, mut domain)) = sender.rsplit_once('@').map(|(l, d)| (l.to_owned(), d.to_owned())) else {
        return Ok(None);
    };
    // hMailServer applies domain aliases to the sender before looking the domain up.
    if let Some(alias) = altimail_store::repo::domain_aliases::find(db, &domain).await?
        && let Some(d) = altimail_store::repo::domains::get(db, alias.domain_id).await?
    {
        domain = d.name;
    }
    let address = format!("{local}@{domain}");
    let Some(d) = signatures::domain(db, &domain).await? else {
        return Ok(None);
    };
    let account = signatures::account(db, &address).await?;
    Ok(Some(Settings {
        account,
        domain_enabled: d.enabled,
        domain_method: d.method,
        domain_plain: d.plain,
        domain_html: d.html,
        add_to_replies: d.add_to_replies,
        add_to_local: d.add_to_local,
    }))
}

/// The signature for a message from `sender` to `recipients`, or `None`. Errors are logged and
/// treated as "no signature": a signature never stops a message.
pub async fn for_sender(store: &Store, sender: &str, recipients: &[&str], message: &[u8]) -> Option<(String, String)> {
    match load(store, sender).await {
        Ok(Some(s)) => decide(&s, sender, recipients, message),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("signature: could not read settings for {sender}: {e}");
            None
        }
    }
}

// ---- MIME ----

fn split_head(msg: &[u8]) -> (&[u8], &[u8]) {
    if msg.starts_with(b"\r\n") {
        return (&msg[..0], &msg[2..]);
    }
    match find(msg, b"\r\n\r\n") {
        Some(i) => (&msg[..i + 2], &msg[i + 4..]),
        None => (msg, &msg[msg.len()..]),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Unfolded (name, value) header pairs.
fn headers(head: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((n, v)) = line.split_once(':') {
            out.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    out
}

fn header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    hs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// A parameter of a structured header value, e.g. `boundary`.
fn param(value: &str, name: &str) -> Option<String> {
    for p in value.split(';').skip(1) {
        let (n, v) = p.split_once('=')?;
        if n.trim().eq_ignore_ascii_case(name) {
            let v = v.trim();
            return Some(v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v).to_owned());
        }
    }
    None
}

/// How deep multiparts may nest on the way to the part that gets the signature (as deep as the
/// IMAP structure scanner looks). A message that needs more is left unsigned: a signature is
/// never worth unbounded work, and each level rescans its body.
pub const MAX_DEPTH: usize = 64;

struct Sig<'a> {
    plain: &'a str,
    html: &'a str,
    plain_done: bool,
    html_done: bool,
}

/// Adds the signatures to a message (CRLF line ends); returns the new message. A message whose
/// text parts lie deeper than [`MAX_DEPTH`] multipart levels is returned unchanged (and logged).
pub fn add(message: &[u8], plain: &str, html: &str) -> Vec<u8> {
    let mut sig = Sig { plain, html, plain_done: plain.is_empty(), html_done: html.is_empty() };
    match edits(message, &mut sig) {
        Ok(edits) => splice(message, edits),
        Err(TooDeep) => {
            tracing::warn!("signature: multiparts nested deeper than {MAX_DEPTH} levels; message left unsigned");
            message.to_vec()
        }
    }
}

/// The signature walker met multiparts nested deeper than [`MAX_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TooDeep;

/// One change to the message: the bytes at `range` become `bytes`.
struct Edit {
    range: Range<usize>,
    bytes: Vec<u8>,
}

/// Walks the MIME tree depth-first in document order with an explicit stack (the depth of a
/// message is the sender's choice, so no recursion) and returns the edits, in message order,
/// that put the signatures into the first text/plain and text/html body parts.
fn edits(message: &[u8], sig: &mut Sig) -> Result<Vec<Edit>, TooDeep> {
    let mut edits = Vec::new();
    // Entities still to visit, the next one last: (byte range in `message`, nesting depth).
    let mut pending = vec![(0..message.len(), 0usize)];
    while let Some((range, depth)) = pending.pop() {
        if sig.plain_done && sig.html_done {
            break;
        }
        if depth > MAX_DEPTH {
            return Err(TooDeep);
        }
        let ent = &message[range.clone()];
        let (head, body) = split_head(ent);
        let body_start = range.end - body.len();
        let hs = headers(head);
        let ctype = header(&hs, "content-type").unwrap_or("text/plain");
        let mime = ctype.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let attachment = header(&hs, "content-disposition")
            .map(|d| d.trim().to_ascii_lowercase().starts_with("attachment"))
            .unwrap_or(false);
        let new_body = if mime.starts_with("multipart/") {
            if let Some(b) = param(ctype, "boundary") {
                let parts = parts(body, &b);
                pending.extend(parts.into_iter().rev().map(|p| (body_start + p.start..body_start + p.end, depth + 1)));
            }
            continue;
        } else if attachment {
            continue;
        } else if mime == "text/plain" && !sig.plain_done {
            sig.plain_done = true;
            let s = format!("\r\n{}", sig.plain);
            leaf(body, &hs, |t| {
                let s = sig_bytes(&line_ends_like(&s, t), &hs);
                t.extend_from_slice(&s)
            })
        } else if mime == "text/html" && !sig.html_done {
            sig.html_done = true;
            let s = format!("<br/>\r\n{}", sig.html);
            leaf(body, &hs, |t| {
                let s = sig_bytes(&line_ends_like(&s, t), &hs);
                let lower = t.to_ascii_lowercase();
                match lower.windows(7).rposition(|w| w == b"</body>") {
                    Some(i) => {
                        t.splice(i..i, s);
                    }
                    None => t.extend_from_slice(&s),
                }
            })
        } else {
            continue;
        };
        // An entity without the empty line after its header gets one before its new body.
        let bytes = if head.len() == ent.len() {
            let mut b = Vec::with_capacity(new_body.len() + 2);
            b.extend_from_slice(b"\r\n");
            b.extend_from_slice(&new_body);
            b
        } else {
            new_body
        };
        edits.push(Edit { range: body_start..range.end, bytes });
    }
    Ok(edits)
}

/// `message` with `edits` (disjoint, in message order) applied.
fn splice(message: &[u8], edits: Vec<Edit>) -> Vec<u8> {
    let grown: usize = edits.iter().map(|e| e.bytes.len()).sum();
    let mut out = Vec::with_capacity(message.len() + grown);
    let mut pos = 0;
    for e in edits {
        out.extend_from_slice(&message[pos..e.range.start]);
        out.extend_from_slice(&e.bytes);
        pos = e.range.end;
    }
    out.extend_from_slice(&message[pos..]);
    out
}

/// The signature with bare LF line ends when the decoded text uses them (base64 text from some
/// clients), so a part never mixes CRLF and LF.
fn line_ends_like(sig: &str, text: &[u8]) -> String {
    if text.contains(&b'\n') && find(text, b"\r\n").is_none() { sig.replace("\r\n", "\n") } else { sig.to_owned() }
}

/// The byte ranges (in `body`) of the body parts of a multipart body: each part lies between a
/// delimiter line and the CRLF before the next one (RFC 2046 §5.1.1).
fn parts(body: &[u8], boundary: &str) -> Vec<Range<usize>> {
    let delim = format!("--{boundary}");
    let closing_delim = format!("{delim}--");
    // Byte offsets of each delimiter line's start and end.
    let mut starts = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let end = find(&body[pos..], b"\r\n").map(|i| pos + i).unwrap_or(body.len());
        if is_delimiter(&body[pos..end], delim.as_bytes()) {
            starts.push((pos, end));
        }
        pos = end + 2;
    }
    let mut parts = Vec::with_capacity(starts.len());
    for (k, &(s, e)) in starts.iter().enumerate() {
        let closing = body[s..e].starts_with(closing_delim.as_bytes());
        let next = starts.get(k + 1).map(|n| n.0).unwrap_or(body.len());
        let content_start = (e + 2).min(body.len());
        if closing || content_start >= next {
            continue;
        }
        let part_end = if next >= content_start + 2 && k + 1 < starts.len() { next - 2 } else { next };
        parts.push(content_start..part_end);
    }
    parts
}

/// A delimiter line: `--boundary`, optionally `--` after it, then only transport padding, so a
/// boundary that is a prefix of a nested one does not match the nested one's lines.
fn is_delimiter(line: &[u8], delim: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(delim) else {
        return false;
    };
    let rest = rest.strip_prefix(b"--").unwrap_or(rest);
    rest.iter().all(|c| *c == b' ' || *c == b'\t')
}

/// The signature in the part's charset: Latin-1 family charsets get Latin-1 bytes when the
/// signature fits; everything else gets UTF-8.
fn sig_bytes(sig: &str, hs: &[(String, String)]) -> Vec<u8> {
    let charset = header(hs, "content-type").and_then(|v| param(v, "charset")).unwrap_or_default().to_ascii_lowercase();
    let latin = matches!(charset.as_str(), "iso-8859-1" | "latin1" | "iso_8859-1" | "windows-1252" | "cp1252");
    if latin && sig.chars().all(|c| (c as u32) < 0x80 || (0xA0..0x100).contains(&(c as u32))) {
        sig.chars().map(|c| c as u32 as u8).collect()
    } else {
        sig.as_bytes().to_vec()
    }
}

fn leaf(body: &[u8], hs: &[(String, String)], change: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let cte = header(hs, "content-transfer-encoding").unwrap_or("").trim().to_ascii_lowercase();
    match cte.as_str() {
        "base64" => {
            let clean: Vec<u8> = body.iter().copied().filter(|c| !c.is_ascii_whitespace()).collect();
            let Ok(mut text) = base64::engine::general_purpose::STANDARD.decode(&clean) else {
                return body.to_vec();
            };
            change(&mut text);
            let enc = base64::engine::general_purpose::STANDARD.encode(&text);
            let mut out = Vec::new();
            for chunk in enc.as_bytes().chunks(76) {
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out
        }
        "quoted-printable" => {
            let mut text = qp_decode(body);
            change(&mut text);
            qp_encode(&text)
        }
        _ => {
            let mut text = body.to_vec();
            // Keep a trailing line end after the signature.
            let had_crlf = text.ends_with(b"\r\n");
            change(&mut text);
            if had_crlf && !text.ends_with(b"\r\n") {
                text.extend_from_slice(b"\r\n");
            }
            text
        }
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn qp_decode(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c == b'=' {
            if body[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if let (Some(h), Some(l)) = (body.get(i + 1).and_then(|&c| hex(c)), body.get(i + 2).and_then(|&c| hex(c))) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn qp_encode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 11 / 10);
    let mut line_len = 0;
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(b"\r\n") {
            // Trailing whitespace before a line break must be encoded.
            if let Some(&last) = out.last()
                && (last == b' ' || last == b'\t')
                && line_len > 0
            {
                out.pop();
                out.extend_from_slice(format!("={last:02X}").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            line_len = 0;
            i += 2;
            continue;
        }
        let c = text[i];
        let enc: Vec<u8> = if (c == b'\t' || (32..=126).contains(&c)) && c != b'=' {
            vec![c]
        } else {
            format!("={c:02X}").into_bytes()
        };
        if line_len + enc.len() > 75 {
            out.extend_from_slice(b"=\r\n");
            line_len = 0;
        }
        out.extend_from_slice(&enc);
        line_len += enc.len();
        i += 1;
    }
    if let Some(&last) = out.last()
        && (last == b' ' || last == b'\t')
    {
        out.pop();
        out.extend_from_slice(format!("={last:02X}").as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(b: &[u8]) -> String {
        String::from_utf8(b.to_vec()).unwrap()
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn plain_message_without_content_type() {
        let m = b"From: a@x.com\r\nSubject: hi\r\n\r\nHello\r\n";
        let out = s(&add(m, "-- \r\nJohn", "<b>John</b>"));
        assert_eq!(out, "From: a@x.com\r\nSubject: hi\r\n\r\nHello\r\n\r\n-- \r\nJohn\r\n");
    }

    #[test]
    fn html_before_body_end_or_at_end() {
        let m = b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hi</p></BODY></html>\r\n";
        let out = s(&add(m, "plain", "<i>Sig</i>"));
        assert!(out.ends_with("<p>Hi</p><br/>\r\n<i>Sig</i></BODY></html>\r\n"), "{out}");
        assert!(!out.contains("plain"));
        let m = b"Content-Type: text/html\r\n\r\n<p>Hi</p>";
        assert_eq!(s(&add(m, "", "<i>Sig</i>")), "Content-Type: text/html\r\n\r\n<p>Hi</p><br/>\r\n<i>Sig</i>");
    }

    #[test]
    fn alternative_inside_mixed_attachment_untouched() {
        let att = b64("text/plain attachment body");
        let m = format!(
            "Content-Type: multipart/mixed; boundary=\"MIX\"\r\n\r\npreamble\r\n--MIX\r\n\
             Content-Type: multipart/alternative; boundary=ALT\r\n\r\n--ALT\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nplain body\r\n--ALT\r\n\
             Content-Type: text/html\r\n\r\n<html><body>html body</body></html>\r\n--ALT--\r\n\r\n--MIX\r\n\
             Content-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment; filename=a.txt\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{att}\r\n--MIX--\r\nepilogue\r\n"
        );
        let out = s(&add(m.as_bytes(), "PSIG", "HSIG"));
        let expected = m
            .replace("plain body\r\n--ALT", "plain body\r\nPSIG\r\n--ALT")
            .replace("html body</body>", "html body<br/>\r\nHSIG</body>");
        assert_eq!(out, expected);
    }

    #[test]
    fn first_text_part_only_and_inline_attachment_not_first() {
        let m = "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\none\r\n--B\r\n\
                 Content-Type: text/plain\r\n\r\ntwo\r\n--B--\r\n";
        let out = s(&add(m.as_bytes(), "SIG", ""));
        assert_eq!(out.matches("SIG").count(), 1);
        assert!(out.contains("one\r\nSIG\r\n--B"));
    }

    #[test]
    fn quoted_printable_roundtrip() {
        let m = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
                 Gr=C3=BC=C3=9Fe, a =3D b and a long line that goes on and on and on and on and =\r\nsoft-wrapped\r\n";
        let out = add(m.as_bytes(), "Grüße – Jöhn", "");
        let (_, body) = split_head(&out);
        let decoded = s(&qp_decode(body));
        assert_eq!(
            decoded,
            "Grüße, a = b and a long line that goes on and on and on and on and soft-wrapped\r\n\r\nGrüße – Jöhn"
        );
        for line in s(body).split("\r\n") {
            assert!(line.len() <= 76, "{line}");
            assert!(line.is_ascii());
        }
    }

    #[test]
    fn qp_encodes_trailing_space() {
        assert_eq!(s(&qp_encode(b"a \r\nb\t")), "a=20\r\nb=09");
    }

    #[test]
    fn base64_html_part() {
        let html = "<html><body>Héllo</body></html>";
        let m = format!(
            "Content-Type: multipart/alternative; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--X\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--X--\r\n",
            b64("Héllo\r\n"),
            b64(html)
        );
        let out = s(&add(m.as_bytes(), "Sïg", "<b>Sïg</b>"));
        let parts: Vec<&str> = out.split("--X").collect();
        let body_of = |p: &str| {
            let body = p.split_once("\r\n\r\n").unwrap().1;
            let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            s(&base64::engine::general_purpose::STANDARD.decode(clean).unwrap())
        };
        assert_eq!(body_of(parts[1]), "Héllo\r\n\r\nSïg");
        assert_eq!(body_of(parts[2]), "<html><body>Héllo<br/>\r\n<b>Sïg</b></body></html>");
    }

    #[test]
    fn base64_with_bare_lf_keeps_lf() {
        let m = format!("Content-Transfer-Encoding: base64\r\n\r\n{}\r\n", b64("a\nb\n"));
        let out = add(m.as_bytes(), "x\r\ny", "");
        let body = s(&out).split_once("\r\n\r\n").unwrap().1.trim().to_owned();
        assert_eq!(s(&base64::engine::general_purpose::STANDARD.decode(body).unwrap()), "a\nb\n\nx\ny");
    }

    #[test]
    fn latin1_part_gets_latin1_signature() {
        let m = b"Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nH=E9\r\n";
        let out = s(&add(m, "Jos\u{e9}", ""));
        assert!(out.ends_with("\r\n\r\nH=E9\r\n\r\nJos=E9"), "{out}");
    }

    #[test]
    fn boundary_prefix_of_nested_boundary() {
        let m = "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\
                 Content-Type: multipart/alternative; boundary=BX\r\n\r\n--BX\r\nContent-Type: text/plain\r\n\r\n\
                 p\r\n--BX--\r\n--B--\r\n";
        let out = s(&add(m.as_bytes(), "SIG", ""));
        assert_eq!(out, m.replace("p\r\n--BX--", "p\r\nSIG\r\n--BX--"));
    }

    /// `levels` multiparts, each the only part of the one above, around a text/plain part.
    fn nested(levels: usize) -> Vec<u8> {
        let mut m = Vec::new();
        for i in 0..levels {
            m.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes());
        }
        m.extend_from_slice(b"Content-Type: text/plain\r\n\r\ndeep\r\n");
        for i in (0..levels).rev() {
            m.extend_from_slice(format!("--b{i}--\r\n").as_bytes());
        }
        m
    }

    #[test]
    fn nesting_up_to_the_limit_is_signed() {
        let m = nested(MAX_DEPTH);
        let out = s(&add(&m, "SIG", ""));
        assert_eq!(out, s(&m).replace("deep\r\n", "deep\r\nSIG\r\n"));
    }

    #[test]
    fn deeper_nesting_is_left_unsigned_without_recursion() {
        // Thousands of levels: the walker keeps its own stack, so this neither overflows the
        // thread's stack nor signs anything.
        for levels in [MAX_DEPTH + 1, 5_000] {
            let m = nested(levels);
            assert_eq!(add(&m, "SIG", "<b>SIG</b>"), m);
        }
    }

    #[test]
    fn text_parts_before_deep_nesting_are_signed() {
        let deep = s(&nested(5_000));
        let m = format!(
            "Content-Type: multipart/mixed; boundary=TOP\r\n\r\n--TOP\r\nContent-Type: text/plain\r\n\r\n\
             first\r\n--TOP\r\n{deep}--TOP--\r\n"
        );
        let out = s(&add(m.as_bytes(), "SIG", ""));
        assert_eq!(out, m.replace("first\r\n", "first\r\nSIG\r\n"));
    }

    proptest::proptest! {
        /// Any bytes: no panic, the top-level header block kept as it was, and no change at all
        /// without a signature. Bytes drawn from MIME's alphabet reach the multipart code.
        #[test]
        fn arbitrary_messages_never_panic(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            mime in "((Content-Type: (multipart/(mixed|alternative); boundary=\"?[ab]\"?|text/(plain|html)(; charset=iso-8859-1)?)|Content-Transfer-Encoding: (base64|quoted-printable)|Content-Disposition: attachment|--[ab](--)?|[a-z=<>/ ]{0,12})\r\n){0,24}",
        ) {
            for m in [raw.as_slice(), mime.as_bytes()] {
                let out = add(m, "plain sig", "<i>html sig</i>");
                let (head, _) = split_head(m);
                proptest::prop_assert!(out.starts_with(head));
                proptest::prop_assert_eq!(add(m, "", ""), m);
            }
        }
    }

    #[test]
    fn macros_case_insensitive() {
        assert_eq!(
            expand_macros("%user.firstname% %User.LastName% <%USER.ADDRESS%>", "John", "Doe", "john@x.com"),
            "John Doe <john@x.com>"
        );
    }

    fn settings(method: i64) -> Settings {
        Settings {
            account: Some(AccountSig {
                address: "john@x.com".into(),
                enabled: true,
                plain: "Acc %User.FirstName%".into(),
                html: String::new(),
                first_name: "John".into(),
                last_name: "Doe".into(),
            }),
            domain_enabled: true,
            domain_method: method,
            domain_plain: "Dom\r\nLine".into(),
            domain_html: String::new(),
            add_to_replies: true,
            add_to_local: true,
        }
    }

    const MSG: &[u8] = b"Subject: x\r\n\r\nbody\r\n";

    #[test]
    fn method_set_if_not_in_account() {
        let st = settings(SET_IF_NOT_IN_ACCOUNT);
        assert_eq!(decide(&st, "john@x.com", &["a@y.com"], MSG).unwrap(), ("Acc John".into(), "Acc John".into()));
        let mut st = st;
        st.account.as_mut().unwrap().enabled = false;
        assert_eq!(
            decide(&st, "john@x.com", &["a@y.com"], MSG).unwrap(),
            ("Dom\r\nLine".into(), "Dom<br>\r\nLine".into())
        );
    }

    #[test]
    fn method_overwrite() {
        let st = settings(OVERWRITE_ACCOUNT);
        assert_eq!(
            decide(&st, "john@x.com", &["a@y.com"], MSG).unwrap(),
            ("Dom\r\nLine".into(), "Dom<br>\r\nLine".into())
        );
    }

    #[test]
    fn method_append() {
        let mut st = settings(APPEND_TO_ACCOUNT);
        st.domain_html = "<b>Dom</b>".into();
        assert_eq!(
            decide(&st, "john@x.com", &["a@y.com"], MSG).unwrap(),
            ("Acc John\r\n\r\nDom\r\nLine".into(), "Acc John<br><br><b>Dom</b>".into())
        );
    }

    #[test]
    fn nothing_configured() {
        let mut st = settings(SET_IF_NOT_IN_ACCOUNT);
        st.domain_enabled = false;
        st.account.as_mut().unwrap().enabled = false;
        assert_eq!(decide(&st, "john@x.com", &["a@y.com"], MSG), None);
    }

    #[test]
    fn replies() {
        let mut st = settings(OVERWRITE_ACCOUNT);
        st.add_to_replies = false;
        let reply = b"Subject: Re: x\r\nIn-Reply-To: <a@b>\r\n\r\nbody\r\n";
        let refs = b"Subject: x\r\nReferences:\r\n <a@b>\r\n\r\nbody\r\n";
        let empty = b"Subject: x\r\nReferences: \r\n\r\nbody\r\n";
        assert_eq!(decide(&st, "john@x.com", &["a@y.com"], reply), None);
        assert_eq!(decide(&st, "john@x.com", &["a@y.com"], refs), None);
        assert!(decide(&st, "john@x.com", &["a@y.com"], empty).is_some());
        assert!(decide(&st, "john@x.com", &["a@y.com"], MSG).is_some());
        st.add_to_replies = true;
        assert!(decide(&st, "john@x.com", &["a@y.com"], reply).is_some());
    }

    #[test]
    fn local_only_recipients() {
        let mut st = settings(OVERWRITE_ACCOUNT);
        st.add_to_local = false;
        // Every recipient on the sender's domain: local, not signed.
        assert_eq!(decide(&st, "john@x.com", &["a@X.com", "b@x.com"], MSG), None);
        // One recipient elsewhere (even another local domain): signed.
        assert!(decide(&st, "john@x.com", &["a@x.com", "b@other.com"], MSG).is_some());
        st.add_to_local = true;
        assert!(decide(&st, "john@x.com", &["a@x.com"], MSG).is_some());
    }
}
