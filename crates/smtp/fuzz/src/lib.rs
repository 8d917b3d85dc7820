//! Helpers shared by the SMTP fuzz targets.

/// Pieces of SMTP that reach deep parser and session states quickly.
const ALPHABET: &[&[u8]] = &[
    b"\r\n",
    b"\r",
    b"\n",
    b".",
    b" ",
    b"<",
    b">",
    b"@",
    b":",
    b",",
    b"\"",
    b"\\",
    b"[",
    b"]",
    b"=",
    b"+",
    b"*",
    b"EHLO x",
    b"HELO x",
    b"MAIL FROM:",
    b"RCPT TO:",
    b"DATA",
    b"BDAT ",
    b" LAST",
    b"RSET",
    b"NOOP",
    b"QUIT",
    b"VRFY ",
    b"EXPN ",
    b"HELP",
    b"STARTTLS",
    b"AUTH ",
    b"PLAIN",
    b"LOGIN",
    b"ETRN ",
    b"0",
    b"1",
    b"7",
    b"99",
    b"a",
    b"example.com",
    b"IPv6:",
    b"::1",
    b"192.0.2.1",
    b"postmaster",
    b"SIZE=",
    b"BODY=8BITMIME",
    b"BODY=BINARYMIME",
    b"SMTPUTF8",
    b"RET=HDRS",
    b"ENVID=",
    b"AUTH=<>",
    b"NOTIFY=",
    b"SUCCESS,DELAY",
    b"NEVER",
    b"ORCPT=rfc822;",
    b"+2B",
    b"\xc3\xa4",
    b"\xff",
    b"\0",
    b"AHUAcw==",
    b"dXNlcg==",
    b"c2VjcmV0",
    b"\r\n.\r\n",
];

/// Maps each input byte to a piece of [`ALPHABET`].
pub fn into_alphabet(data: &[u8]) -> Vec<u8> {
    data.iter().flat_map(|&byte| ALPHABET[usize::from(byte) % ALPHABET.len()].iter().copied()).collect()
}

/// Checks that `wire` is a sequence of well-formed reply lines.
pub fn assert_well_formed_replies(wire: &[u8]) {
    assert!(wire.is_empty() || wire.ends_with(b"\r\n"), "replies end with CRLF");
    for line in wire.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        let line = line.strip_suffix(b"\r").expect("every line ends with CRLF");
        assert!(line.len() >= 4 && line.len() <= 512, "reply line length {}", line.len());
        assert!(line[..3].iter().all(u8::is_ascii_digit), "reply code");
        assert!(line[3] == b' ' || line[3] == b'-', "reply separator");
        assert!(!line.contains(&b'\r'), "no bare CR in a reply");
    }
}
