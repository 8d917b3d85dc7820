//! ENVELOPE, BODY/BODYSTRUCTURE and section lookup compared with RFC examples and with the
//! outputs Dovecot's own tests expect (`src/lib-imap/test-imap-bodystructure.c`). Dovecot
//! measures messages with CRLF line ends, so its LF inputs are converted before scanning.

use altimail_imap::fetch::SectionText;
use altimail_imap::message::{Decoder, MessageStructure, Scanner, SectionData, TransferEncoding, convert_binary_parts};
use proptest::prelude::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

fn body_structure(msg: &[u8], extended: bool) -> String {
    let mut out = Vec::new();
    MessageStructure::parse(msg).body_structure(&mut out, extended);
    String::from_utf8(out).unwrap()
}

fn envelope(msg: &[u8]) -> String {
    let mut out = Vec::new();
    MessageStructure::parse(msg).envelope(&mut out);
    String::from_utf8(out).unwrap()
}

fn section(msg: &[u8], part: &[u32], text: Option<SectionText>) -> Option<String> {
    let data = MessageStructure::parse(msg).section(part, text.as_ref())?;
    Some(match data {
        SectionData::Range { start, end } => String::from_utf8(msg[start as usize..end as usize].to_vec()).unwrap(),
        SectionData::Bytes(b) => String::from_utf8(b).unwrap(),
    })
}

/// Checks BODYSTRUCTURE and BODY against Dovecot's expectations (given without the outer
/// parentheses, as Dovecot's tests write them).
fn check_dovecot(message: &str, want_bodystructure: &str, want_body: &str) {
    let msg = crlf(message);
    assert_eq!(body_structure(&msg, true), format!("({want_bodystructure})"), "BODYSTRUCTURE of {message:?}");
    assert_eq!(body_structure(&msg, false), format!("({want_body})"), "BODY of {message:?}");
}

const DOVECOT_NESTED: &str = "From: user@domain.org
Date: Sat, 24 Mar 2007 23:00:00 +0200
Mime-Version: 1.0
Content-Type: multipart/mixed; boundary=\"foo
 bar\"

Root MIME prologue

--foo bar
Content-Type: text/x-myown; charset=us-ascii; foo=\"quoted\\\"string\"
Content-ID: <foo@example.com>
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: inline; foo=bar
Content-Description: hellodescription
Content-Language: en, fi, se
Content-Location: http://example.com/test.txt

hello

--foo bar
Content-Type: message/rfc822

From: sub@domain.org
To: sub-to1@domain.org, sub-to2@domain.org
Date: Sun, 12 Aug 2012 12:34:56 +0300
Subject: submsg
Content-Type: multipart/alternative; boundary=\"sub1\"

Sub MIME prologue
--sub1
Content-Type: text/html
Content-Transfer-Encoding: 8bit

<p>Hello world</p>

--sub1
Content-Type: text/plain
Content-Transfer-Encoding: ?invalid

Hello another world

--sub1--
Sub MIME epilogue

--foo bar--
Root MIME epilogue
";

#[test]
fn dovecot_simple_text() {
    check_dovecot(
        "From: user@domain.org\nDate: Sat, 24 Mar 2017 23:00:00 +0200\nMime-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\nbody\n",
        r#""text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL"#,
        r#""text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1"#,
    );
    check_dovecot(
        "From: user@domain.org\nDate: Sat, 24 Mar 2017 23:00:00 +0200\nMime-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nbody\n\n",
        r#""text" "plain" ("charset" "utf-8") NIL NIL "8bit" 8 2 NIL NIL NIL NIL"#,
        r#""text" "plain" ("charset" "utf-8") NIL NIL "8bit" 8 2"#,
    );
}

#[test]
fn dovecot_folded_boundary_and_epilogue() {
    check_dovecot(
        "From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nMime-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n--foo bar\nContent-Type: text/x-myown; charset=us-ascii\n\nhello\n\n--foo bar--\n\n",
        r#"("text" "x-myown" ("charset" "us-ascii") NIL NIL "7bit" 7 1 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL"#,
        r#"("text" "x-myown" ("charset" "us-ascii") NIL NIL "7bit" 7 1) "mixed""#,
    );
}

#[test]
fn dovecot_message_rfc822_attachment() {
    let inner = r#"("message" "rfc822" NIL NIL NIL "7bit" 133 ("Sat, 24 Mar 2017 23:00:00 +0200" NIL ((NIL NIL "user" "domain.org")) ((NIL NIL "user" "domain.org")) ((NIL NIL "user" "domain.org")) NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1"#;
    check_dovecot(
        "From: user@domain.org\nDate: Sat, 24 Mar 2017 23:00:00 +0200\nMime-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"foo bar\"\n\n--foo bar\nContent-Type: text/plain; charset=us-ascii\n\nSee attached...\n\n--foo bar\nContent-Type: message/rfc822\n\nFrom: user@domain.org\nDate: Sat, 24 Mar 2017 23:00:00 +0200\nMime-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\nbody\n\n--foo bar--\n\n",
        &format!(
            r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 17 1 NIL NIL NIL NIL){inner} NIL NIL NIL NIL) 6 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL"#
        ),
        &format!(r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 17 1){inner}) 6) "mixed""#),
    );
}

#[test]
fn dovecot_attachment_and_language() {
    let msg = "From: user@domain.org\nDate: Sat, 24 Mar 2017 23:00:00 +0200\nMime-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"foo bar\"\n\n--foo bar\nContent-Type: text/plain; charset=us-ascii; format=\"flowed\";\n  delsp=\"no\"\nContent-Language: la\n\nLorem ipsum\n\n--foo bar\nContent-Type: image/png\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"pigeon.png\"\n\niVBORw0KGgoAAAANSUhEUgAAAB8AAAAf\n--foo bar--\n";
    check_dovecot(
        msg,
        r#"("text" "plain" ("charset" "us-ascii" "format" "flowed" "delsp" "no") NIL NIL "7bit" 13 1 NIL NIL ("la") NIL)("image" "png" NIL NIL NIL "base64" 32 NIL ("attachment" ("filename" "pigeon.png")) NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL"#,
        r#"("text" "plain" ("charset" "us-ascii" "format" "flowed" "delsp" "no") NIL NIL "7bit" 13 1)("image" "png" NIL NIL NIL "base64" 32) "mixed""#,
    );
}

#[test]
fn dovecot_nested_multipart_in_message() {
    check_dovecot(
        DOVECOT_NESTED,
        r#"("text" "x-myown" ("charset" "us-ascii" "foo" "quoted\"string") "<foo@example.com>" "hellodescription" "7bit" 7 1 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("inline" ("foo" "bar")) ("en" "fi" "se") "http://example.com/test.txt")("message" "rfc822" NIL NIL NIL "7bit" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "8bit" 20 1 NIL NIL NIL NIL)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1 NIL NIL NIL NIL) "alternative" ("boundary" "sub1") NIL NIL NIL) 21 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL"#,
        r#"("text" "x-myown" ("charset" "us-ascii" "foo" "quoted\"string") "<foo@example.com>" "hellodescription" "7bit" 7 1)("message" "rfc822" NIL NIL NIL "7bit" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "8bit" 20 1)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1) "alternative") 21) "mixed""#,
    );
}

#[test]
fn dovecot_multipart_without_parts() {
    check_dovecot(
        "Content-Type: multipart/mixed; boundary=\"foo\"\n\n",
        r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" ("boundary" "foo") NIL NIL NIL"#,
        r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed""#,
    );
}

/// RFC 3501 §7.4.2 and RFC 9051 §7.5.2 example ENVELOPE.
#[test]
fn rfc_example_envelope() {
    let msg = crlf(
        "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\nFrom: Terry Gray <gray@cac.washington.edu>\nSubject: IMAP4rev1 WG mtg summary and minutes\nTo: imap@cac.washington.edu\ncc: minutes@CNRI.Reston.VA.US,\n  John Klensin <KLENSIN@MIT.EDU>\nMessage-Id: <B27397-0100000@cac.washington.edu>\n\nbody\n",
    );
    assert_eq!(
        envelope(&msg),
        r#"("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>")"#
    );
}

#[test]
fn envelope_missing_headers_groups_and_folding() {
    assert_eq!(envelope(b"\r\nbody"), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    let msg = crlf(
        "Subject: =?utf-8?q?caf=C3=A9?=\n =?utf-8?q?_au_lait?=\nFrom: a@x.org\nSender: s@x.org\nReply-To:\nTo: undisclosed-recipients:;\nBcc: Friends: b@y.org, \"C, D\" <c@y.org>;\nIn-Reply-To: <1@x>\n\n",
    );
    assert_eq!(
        envelope(&msg),
        r#"(NIL "=?utf-8?q?caf=C3=A9?= =?utf-8?q?_au_lait?=" ((NIL NIL "a" "x.org")) ((NIL NIL "s" "x.org")) ((NIL NIL "a" "x.org")) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL ((NIL NIL "Friends" NIL)(NIL NIL "b" "y.org")("C, D" NIL "c" "y.org")(NIL NIL NIL NIL)) "<1@x>" NIL)"#
    );
}

const ALTERNATIVE: &str = "From: a@x.org
Subject: alt
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=\"==alt==\"

--==alt==
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

caf=C3=A9
--==alt==
Content-Type: text/html; charset=utf-8

<p>caf\u{e9}</p>
--==alt==--
";

#[test]
fn multipart_alternative() {
    let msg = crlf(ALTERNATIVE);
    assert_eq!(
        body_structure(&msg, true),
        r#"(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 9 0 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 12 0 NIL NIL NIL NIL) "alternative" ("boundary" "==alt==") NIL NIL NIL)"#
    );
    assert_eq!(section(&msg, &[1], None).as_deref(), Some("caf=C3=A9"));
    assert_eq!(section(&msg, &[2], None).as_deref(), Some("<p>caf\u{e9}</p>"));
    assert_eq!(
        section(&msg, &[1], Some(SectionText::Mime)).as_deref(),
        Some("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
    );
    assert_eq!(section(&msg, &[3], None), None);
    assert_eq!(section(&msg, &[1, 1], None), None);
    assert_eq!(section(&msg, &[1], Some(SectionText::Header)), None);

    let s = MessageStructure::parse(&msg);
    let b = s.binary(&[1]).unwrap();
    assert_eq!(b.encoding, TransferEncoding::QuotedPrintable);
    let mut out = Vec::new();
    let mut d = Decoder::new(b.encoding);
    d.decode(&msg[b.start as usize..b.end as usize], &mut out);
    d.finish(&mut out);
    assert_eq!(out, "café".as_bytes());
    assert_eq!(s.binary(&[]).unwrap().end, msg.len() as u64);
    assert_eq!(s.binary(&[7]), None);
}

#[test]
fn mixed_with_rfc2231_attachment_and_nested_multipart() {
    let msg = crlf(
        "From: a@x.org
Content-Type: multipart/mixed; boundary=outer

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain

plain
--inner
Content-Type: text/html

<b>html</b>
--inner--
--outer
Content-Type: application/pdf; name*0*=utf-8''%E2%82%AC; name*1*=%20rates.pdf
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
 filename*0*=utf-8''%E2%82%AC;
 filename*1*=%20rates.pdf

aGVsbG8=
--outer--
",
    );
    assert_eq!(
        body_structure(&msg, true),
        r#"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 0 NIL NIL NIL NIL)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 11 0 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL)("application" "pdf" ("name*" "utf-8''%E2%82%AC%20rates.pdf") NIL NIL "base64" 8 NIL ("attachment" ("filename*" "utf-8''%E2%82%AC%20rates.pdf")) NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)"#
    );
    assert_eq!(section(&msg, &[1, 2], None).as_deref(), Some("<b>html</b>"));
    assert_eq!(section(&msg, &[1], None).as_deref().map(|s| s.starts_with("--inner\r\n")), Some(true));
    let s = MessageStructure::parse(&msg);
    let b = s.binary(&[2]).unwrap();
    assert_eq!(b.encoding, TransferEncoding::Base64);
    assert_eq!(&msg[b.start as usize..b.end as usize], b"aGVsbG8=");
}

#[test]
fn message_rfc822_sections() {
    let msg = crlf(DOVECOT_NESTED);
    let text = |part: &[u32], t: Option<SectionText>| section(&msg, part, t);
    assert_eq!(text(&[1], None).as_deref(), Some("hello\r\n"));
    assert_eq!(
        text(&[2], Some(SectionText::HeaderFields(vec!["subject".into(), "FROM".into()]))).as_deref(),
        Some("From: sub@domain.org\r\nSubject: submsg\r\n\r\n")
    );
    assert_eq!(
        text(&[2], Some(SectionText::Header))
            .as_deref()
            .map(|h| h.starts_with("From: sub@domain.org\r\n") && h.ends_with("\"sub1\"\r\n\r\n")),
        Some(true)
    );
    assert_eq!(text(&[2], Some(SectionText::Text)).as_deref().map(|t| t.starts_with("Sub MIME prologue")), Some(true));
    assert_eq!(text(&[2], Some(SectionText::Mime)).as_deref(), Some("Content-Type: message/rfc822\r\n\r\n"));
    assert_eq!(text(&[2, 1], None).as_deref(), Some("<p>Hello world</p>\r\n"));
    assert_eq!(text(&[2, 2], Some(SectionText::Mime)).as_deref().map(|m| m.contains("?invalid")), Some(true));
    assert_eq!(text(&[2, 3], None), None);
    assert_eq!(text(&[2, 1, 1], None), None);
    assert_eq!(
        text(&[], Some(SectionText::HeaderFieldsNot(vec!["content-type".into(), "date".into(), "from".into()])))
            .as_deref(),
        Some("Mime-Version: 1.0\r\n\r\n")
    );
    assert_eq!(text(&[], Some(SectionText::HeaderFields(vec!["x-none".into()]))).as_deref(), Some("\r\n"));
    assert_eq!(text(&[], None).map(|m| m.len()), Some(msg.len()));
    assert_eq!(text(&[], Some(SectionText::Text)).as_deref().map(|t| t.starts_with("Root MIME prologue")), Some(true));
}

#[test]
fn single_part_numbers() {
    let msg = b"Subject: x\r\n\r\nbody\r\n";
    assert_eq!(section(msg, &[1], None).as_deref(), Some("body\r\n"));
    assert_eq!(section(msg, &[], Some(SectionText::Header)).as_deref(), Some("Subject: x\r\n\r\n"));
    assert_eq!(section(msg, &[], Some(SectionText::Text)).as_deref(), Some("body\r\n"));
    assert_eq!(section(msg, &[2], None), None);
    assert_eq!(section(msg, &[1, 1], None), None);
}

#[test]
fn bare_lf_message() {
    let msg = ALTERNATIVE.as_bytes();
    assert_eq!(
        body_structure(msg, false),
        r#"(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 9 0)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 12 0) "alternative")"#
    );
    assert_eq!(section(msg, &[2], None).as_deref(), Some("<p>caf\u{e9}</p>"));
    assert_eq!(
        section(msg, &[], Some(SectionText::HeaderFields(vec!["Subject".into()]))).as_deref(),
        Some("Subject: alt\n\r\n")
    );
}

#[test]
fn no_blank_line_after_header() {
    // The first line that is not a header field starts the body.
    let msg = b"Subject: x\r\nthis is body\r\nmore\r\n";
    assert_eq!(section(msg, &[], Some(SectionText::Header)).as_deref(), Some("Subject: x\r\n"));
    assert_eq!(section(msg, &[], Some(SectionText::Text)).as_deref(), Some("this is body\r\nmore\r\n"));
    assert_eq!(body_structure(msg, false), r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 20 2)"#);
    // Only a header, no body at all.
    let msg = b"Subject: x\r\nFrom: a@b";
    assert_eq!(section(msg, &[], Some(SectionText::Header)).as_deref(), Some("Subject: x\r\nFrom: a@b"));
    assert_eq!(section(msg, &[], Some(SectionText::Text)).as_deref(), Some(""));
    assert_eq!(
        envelope(msg),
        r#"(NIL "x" ((NIL NIL "a" "b")) ((NIL NIL "a" "b")) ((NIL NIL "a" "b")) NIL NIL NIL NIL NIL)"#
    );
}

#[test]
fn parts_without_headers() {
    let msg = crlf(
        "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nno header, blank line\n--b\nno header, no blank line\n--b--\n",
    );
    assert_eq!(
        body_structure(&msg, false),
        r#"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 0)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 24 0) "mixed")"#
    );
    assert_eq!(section(&msg, &[1], Some(SectionText::Mime)).as_deref(), Some("\r\n"));
    assert_eq!(section(&msg, &[2], Some(SectionText::Mime)).as_deref(), Some(""));
    assert_eq!(section(&msg, &[2], None).as_deref(), Some("no header, no blank line"));
}

#[test]
fn digest_defaults_to_message_rfc822() {
    let msg = crlf("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nfirst\n--d--\n");
    assert_eq!(
        body_structure(&msg, false),
        r#"(("message" "rfc822" NIL NIL NIL "7bit" 21 (NIL "one" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 0) 2) "digest")"#
    );
    assert_eq!(section(&msg, &[1, 1], None).as_deref(), Some("first"));
    assert_eq!(section(&msg, &[1], Some(SectionText::Text)).as_deref(), Some("first"));
}

#[test]
fn encoded_message_rfc822_is_opaque() {
    let msg = crlf("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA0KDQpi\n");
    assert_eq!(
        body_structure(&msg, false),
        r#"("message" "rfc822" NIL NIL NIL "base64" 22 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) 1)"#
    );
}

#[test]
fn unterminated_multipart_and_outer_boundary_closes_inner() {
    let msg = crlf(
        "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n\n--i\n\ninner\n--o\n\nsecond\n",
    );
    assert_eq!(section(&msg, &[1, 1], None).as_deref(), Some("inner"));
    assert_eq!(section(&msg, &[2], None).as_deref(), Some("second\r\n"));
}

#[test]
fn deep_nesting_is_cut_off() {
    let depth = 200;
    let mut msg = Vec::new();
    for i in 0..depth {
        msg.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes());
    }
    msg.extend_from_slice(b"\r\nleaf\r\n");
    let s = MessageStructure::parse(&msg);
    assert!(s.part_count() <= altimail_imap::message::MAX_DEPTH + 1);
    let mut out = Vec::new();
    s.body_structure(&mut out, true);
    assert!(!out.is_empty());

    let mut many = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
    for _ in 0..(altimail_imap::message::MAX_PARTS + 10) {
        many.extend_from_slice(b"--b\r\n\r\nx\r\n");
    }
    assert!(MessageStructure::parse(&many).part_count() <= altimail_imap::message::MAX_PARTS);
}

#[test]
fn memory_stays_bounded_by_headers() {
    let head =
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n";
    let mut s = Scanner::new();
    s.feed(head);
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..50 {
        s.feed(&chunk);
    }
    s.feed(b"\r\n--b--\r\n");
    let st = s.finish();
    let start = head.len() as u64;
    assert_eq!(st.section(&[1], None), Some(SectionData::Range { start, end: start + (50 << 20) }));
    // The structure holds the two header blocks and offsets, nothing of the 50 MB body.
    let mut out = Vec::new();
    st.body_structure(&mut out, true);
    assert!(format!("{st:?}").len() < 2048);
}

#[test]
fn header_accessors() {
    let s = MessageStructure::parse(&crlf("Subject: a\n b\nReceived: 1\nReceived: 2\n\n"));
    assert_eq!(s.header_value("SUBJECT").as_deref(), Some(&b"a b"[..]));
    assert_eq!(s.header_values("received"), vec![b"1".to_vec(), b"2".to_vec()]);
    assert_eq!(s.header_value("To"), None);
}

fn scan_chunked(msg: &[u8], cuts: &[usize]) -> MessageStructure {
    let mut s = Scanner::new();
    let mut at = 0;
    for &c in cuts {
        let c = c.min(msg.len()).max(at);
        s.feed(&msg[at..c]);
        at = c;
    }
    s.feed(&msg[at..]);
    s.finish()
}

#[test]
fn every_split_point_gives_the_same_structure() {
    for msg in [crlf(DOVECOT_NESTED), DOVECOT_NESTED.as_bytes().to_vec(), crlf(ALTERNATIVE)] {
        let whole = MessageStructure::parse(&msg);
        for cut in 0..=msg.len() {
            assert_eq!(scan_chunked(&msg, &[cut]), whole, "split at {cut}");
        }
        let mut s = Scanner::new();
        for b in &msg {
            s.feed(std::slice::from_ref(b));
        }
        assert_eq!(s.finish(), whole, "byte at a time");
    }
}

fn mimeish() -> impl Strategy<Value = Vec<u8>> {
    let tokens = prop::sample::select(vec![
        "Content-Type: multipart/mixed; boundary=b\r\n",
        "Content-Type: multipart/digest; boundary=c\r\n",
        "Content-Type: message/rfc822\r\n",
        "Content-Type: text/plain; name*0*=a; name*1=b\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "Content-Disposition: attachment; filename=\"x\"\r\n",
        "From: \"a\" <b@c>, g: d@e;\r\n",
        " folded\r\n",
        "\r\n",
        "\n",
        "\r",
        "--b\r\n",
        "--b--\r\n",
        "--c\r\n",
        "--c--",
        "body text\r\n",
        "(",
        "\"",
        ":",
        "=?",
    ]);
    prop::collection::vec(tokens, 0..40).prop_map(|t| t.concat().into_bytes())
}

fn exercise(s: &MessageStructure) {
    let mut out = Vec::new();
    s.envelope(&mut out);
    s.body_structure(&mut out, true);
    s.body_structure(&mut out, false);
    for part in [&[][..], &[1], &[1, 1], &[2], &[1, 2, 1]] {
        for text in [None, Some(SectionText::Mime), Some(SectionText::Header), Some(SectionText::Text)] {
            if let Some(SectionData::Range { start, end }) = s.section(part, text.as_ref()) {
                assert!(start <= end && end <= s.size());
            }
        }
        if let Some(b) = s.binary(part) {
            assert!(b.start <= b.end && b.end <= s.size());
        }
    }
}

proptest! {
    #[test]
    fn chunking_never_changes_the_structure(msg in mimeish(), cuts in prop::collection::vec(0usize..600, 0..6)) {
        let mut cuts = cuts;
        cuts.sort_unstable();
        let whole = MessageStructure::parse(&msg);
        prop_assert_eq!(scan_chunked(&msg, &cuts), whole.clone());
        exercise(&whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(msg in prop::collection::vec(any::<u8>(), 0..400)) {
        exercise(&MessageStructure::parse(&msg));
    }

    #[test]
    fn decoders_never_panic_and_ignore_chunking(input in prop::collection::vec(any::<u8>(), 0..200), cut in 0usize..200) {
        for enc in [TransferEncoding::Base64, TransferEncoding::QuotedPrintable] {
            let cut = cut.min(input.len());
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let mut d = Decoder::new(enc);
            d.decode(&input, &mut a);
            d.finish(&mut a);
            let mut d = Decoder::new(enc);
            d.decode(&input[..cut], &mut b);
            d.decode(&input[cut..], &mut b);
            d.finish(&mut b);
            prop_assert_eq!(a, b);
        }
    }
}

fn decoded(msg: &[u8], part: &[u32]) -> Vec<u8> {
    let s = MessageStructure::parse(msg);
    let b = s.binary(part).unwrap();
    let mut d = Decoder::new(b.encoding);
    let mut out = Vec::new();
    d.decode(&msg[b.start as usize..b.end as usize], &mut out);
    d.finish(&mut out);
    out
}

/// imaptest's fetch-binary-mime-qp: soft line breaks after transport padding, padding dropped.
#[test]
fn imaptest_binary_quoted_printable() {
    let msg = crlf(
        "From: user@domain.org\nMime-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n\
         Root MIME prologue\n\n--foo bar\nContent-Type: text/x-myown; charset=us-ascii\n\
         Content-Transfer-Encoding: quoted-printable\n\nhello  \nbar=\n\nfoo\t=\nbar\nfoo\t \t= \n=62\n\
         foo = \t\nbar\nfoo =\n=62\nfoo  \nbar=\n\nfoo_bar\n\n--foo bar--\nRoot MIME epilogue\n",
    );
    let out = decoded(&msg, &[1]);
    assert_eq!(out.len(), 65);
    assert_eq!(out, crlf("hello\nbar\nfoo\tbar\nfoo\t \tb\nfoo bar\nfoo b\nfoo\nbar\nfoo_bar\n"));
    assert_eq!(&out[40..], crlf("oo b\nfoo\nbar\nfoo_bar\n").as_slice());
}

/// imaptest's append-binary: a `binary` part appended as `~{n}` is stored as base64, so
/// `BODY[1]` holds no NUL and `BINARY[1]` gives back the 7 original bytes.
#[test]
fn imaptest_append_binary_conversion() {
    let mut msg = crlf(
        "From: user@domain.org\nMime-Version: 1.0\nContent-Type: application/octet-stream\n\
         Content-Transfer-Encoding: binary\n\n",
    );
    msg.extend_from_slice(b"\0-\xe4\n\r\n\n");
    let stored = convert_binary_parts(&msg).unwrap();
    let s = MessageStructure::parse(&stored);
    let Some(SectionData::Range { start, end }) = s.section(&[1], None) else { panic!("no range") };
    assert!(!stored[start as usize..end as usize].contains(&0));
    assert_eq!(decoded(&stored, &[1]), b"\0-\xe4\n\r\n\n");
    assert_eq!(decoded(&msg, &[1]), b"\0-\xe4\n\r\n\n");
}
