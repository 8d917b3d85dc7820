//! Helpers shared by the POP3 fuzz targets.

/// Pieces of POP3 that reach deep parser and session states quickly.
const ALPHABET: &[&[u8]] = &[
    b"\r\n",
    b"\r",
    b"\n",
    b".",
    b" ",
    b"0",
    b"1",
    b"2",
    b"3",
    b"9",
    b"4294967296",
    b"USER john@example.com",
    b"USER locked@x",
    b"PASS secret",
    b"PASS ",
    b"APOP john ",
    b"c4c9334bac560ecc979e58001b3e22fb",
    b"AUTH",
    b"AUTH PLAIN",
    b"AUTH PLAIN AGpvaG5AZXhhbXBsZS5jb20Ac2VjcmV0",
    b"AGpvaG5AZXhhbXBsZS5jb20Ac2VjcmV0",
    b"=",
    b"*",
    b"CAPA",
    b"STLS",
    b"STAT",
    b"LIST",
    b"LIST ",
    b"RETR ",
    b"TOP ",
    b"UIDL",
    b"UIDL ",
    b"DELE ",
    b"RSET",
    b"NOOP",
    b"HELP",
    b"QUIT",
    b"\xc3\xa4",
    b"\xff",
    b"\0",
];

/// Maps each input byte to a piece of [`ALPHABET`].
pub fn into_alphabet(data: &[u8]) -> Vec<u8> {
    data.iter().flat_map(|&byte| ALPHABET[usize::from(byte) % ALPHABET.len()].iter().copied()).collect()
}

/// Checks that every line of `wire` ends with CRLF, has no bare CR and fits RFC 2449's 512
/// octets.
pub fn assert_well_formed_lines(wire: &[u8]) {
    assert!(wire.is_empty() || wire.ends_with(b"\r\n"), "responses end with CRLF");
    for line in wire.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        let line = line.strip_suffix(b"\r").expect("every line ends with CRLF");
        assert!(line.len() + 2 <= 512, "response line length {}", line.len());
        assert!(!line.contains(&b'\r'), "no bare CR in a response");
    }
}
