//! The stable stand-ins of the `message`, `headers` and `list_pattern` fuzz targets: arbitrary
//! and adversarial input (deep nesting, huge repetition) through the MIME scanner, every header
//! parser and the LIST pattern matcher never panics, overflows the stack or disagrees with the
//! simple definitions.

mod exercise;

use proptest::prelude::*;

/// MIME-shaped lines: boundaries, nested multiparts and encapsulated messages, encodings.
fn mime_like() -> impl Strategy<Value = Vec<u8>> {
    let lines = prop::sample::select(vec![
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
        "Content-Type: multipart/digest; boundary=b\r\n",
        "Content-Type: multipart/alternative; boundary=\"c\"\r\n",
        "Content-Type: message/rfc822\r\n",
        "Content-Type: message/global\r\n",
        "Content-Type: text/plain; charset*0*=utf-8''%C3; charset*1=\"x\"\r\n",
        "Content-Transfer-Encoding: base64\r\n",
        "Content-Transfer-Encoding: quoted-printable\r\n",
        "Content-Transfer-Encoding: binary\r\n",
        "Content-Disposition: attachment; filename=\"a.txt\"\r\n",
        "Content-Language: en, fr\r\n",
        "From: \"A\" <a@b.c>, (comment (nested)) d@e\r\n",
        "To: group: x@y, z@w;\r\n",
        "Subject: =?utf-8?q?caf=C3=A9?=\r\n",
        " folded\r\n",
        "\r\n",
        "\n",
        "--b\r\n",
        "--b--\r\n",
        "--c\r\n",
        "--c--\r\n",
        "body text\r\n",
        "aGVsbG8=\r\n",
        "=C3=A9=\r\n",
        "\u{0}\u{ff}",
        "x",
    ]);
    prop::collection::vec(lines, 0..60).prop_map(|v| v.concat().into_bytes())
}

/// Header values with the characters their parsers treat specially.
fn header_values() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "\"",
        "\\",
        "(",
        ")",
        "<",
        ">",
        "@",
        ",",
        ";",
        ":",
        ".",
        "[",
        "]",
        "=",
        "*",
        "'",
        "%",
        "?",
        " ",
        "\t",
        "\n",
        "=?",
        "?=",
        "=?utf-8?B?",
        "=?iso-8859-1?Q?",
        "Re: ",
        "Fwd: ",
        "[blob] ",
        "(fwd)",
        "a",
        "\u{e9}",
        "\u{0}",
        "Mon, 31 Feb 2020 25:61:61 +9999",
        "1 Jan 1900 00:00 GMT",
        "<id@host>",
        "text/plain",
        "name*0*=",
        "name*1=",
        "us-ascii''%",
        "99999999999999999999",
    ]);
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat().into_bytes())
}

/// Multiparts and encapsulated messages nested `depth` deep, ending in a text part.
fn nested(depth: usize, multipart: bool) -> Vec<u8> {
    let mut m = Vec::new();
    for level in 0..depth {
        if multipart {
            m.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n").as_bytes(),
            );
        } else {
            m.extend_from_slice(b"Subject: x\r\nContent-Type: message/rfc822\r\n\r\n");
        }
    }
    m.extend_from_slice(b"Content-Type: text/plain\r\n\r\nleaf\r\n");
    m
}

#[test]
fn deep_nesting_and_repetition() {
    for multipart in [true, false] {
        exercise::message(&nested(20_000, multipart), 4096);
    }
    let mut comments = b"From: ".to_vec();
    comments.extend(std::iter::repeat_n(b'(', 100_000));
    exercise::headers(&comments);
    exercise::headers(&b"a@b, ".repeat(20_000));
    exercise::headers(&b"Re: [x] Fwd: ".repeat(10_000));
    exercise::headers(&b"; a*0*=b".repeat(10_000));
    exercise::headers(&b"=?utf-8?q?=C3=A9?= ".repeat(10_000));
    exercise::list_pattern("", &"*".repeat(100_000), "INBOX", '.');
    exercise::list_pattern("", &"*%".repeat(50_000), "a.b.c", '.');
    exercise::list_pattern(&"%".repeat(50_000), "x", &"a".repeat(10_000), '/');
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn messages(bytes in mime_like(), chunk in 1usize..64) {
        exercise::message(&bytes, chunk);
    }

    #[test]
    fn arbitrary_messages(bytes in prop::collection::vec(any::<u8>(), 0..1024), chunk in 1usize..64) {
        exercise::message(&bytes, chunk);
    }

    #[test]
    fn headers(values in header_values()) {
        exercise::headers(&values);
    }

    #[test]
    fn list_patterns(
        reference in "[a%*.é/]{0,4}",
        pattern in "[aIiNnBbOoXx%*.é/]{0,10}",
        name in "[aIiNnBbOoXx.é/]{0,12}",
        slash in any::<bool>(),
    ) {
        exercise::list_pattern(&reference, &pattern, &name, if slash { '/' } else { '.' });
    }
}

/// A digest whose one part has no headers and whose body looks like a header block followed by
/// an empty encapsulated message: mail-parser reaches an internal `debug_assert!` on it (its
/// release code recovers and returns what it parsed). Found by `messages` above.
#[test]
fn digest_part_without_headers() {
    let m = b"Content-Type: multipart/digest; boundary=b\r\n\r\n--b\r\n\r\nContent-Type: message/rfc822\r\n\r\n\r\n--b--\r\n";
    for chunk in [1, 7, 4096] {
        exercise::message(m, chunk);
    }
}
