//! Helpers shared by the delivery fuzz targets.

/// Pieces of MIME that reach the multipart and transfer-encoding code quickly.
const ALPHABET: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b" ",
    b"\t",
    b":",
    b";",
    b"=",
    b"\"",
    b"Content-Type: ",
    b"multipart/mixed",
    b"multipart/alternative",
    b"text/plain",
    b"text/html",
    b"; boundary=",
    b"; charset=iso-8859-1",
    b"b",
    b"--b",
    b"--b--",
    b"--",
    b"Content-Transfer-Encoding: ",
    b"base64",
    b"quoted-printable",
    b"Content-Disposition: attachment",
    b"</body>",
    b"=C3=A4",
    b"=\r\n",
    b"aGVsbG8=",
    b"Subject: ",
    b"In-Reply-To: <a@b>",
    b"X-hMailServer-LoopCount: ",
    b"Auto-Submitted: auto-replied",
    b"Date: ",
    b"99999999999999999999",
    b"\xc3\xa4",
    b"\xff",
    b"\0",
];

/// Maps each input byte to a piece of [`ALPHABET`].
pub fn into_alphabet(data: &[u8]) -> Vec<u8> {
    data.iter().flat_map(|&byte| ALPHABET[usize::from(byte) % ALPHABET.len()].iter().copied()).collect()
}

/// `inner` as the only part of `levels` nested multiparts.
pub fn nested(levels: usize, inner: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(inner.len() + levels * 64);
    for i in 0..levels {
        m.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes());
    }
    m.extend_from_slice(inner);
    for i in (0..levels).rev() {
        m.extend_from_slice(format!("\r\n--b{i}--\r\n").as_bytes());
    }
    m
}
