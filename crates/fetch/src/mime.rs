//! The few header operations a download needs: every value of some header fields, the addresses
//! in an address list (for MIME-recipient routing), the sender, and prepending our headers.

/// All values (unfolded, trimmed) of the header fields named in `names` (compared without
/// case), in message order.
pub fn header_values(raw: &[u8], names: &[&str]) -> Vec<String> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in raw.split(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        if text.is_empty() {
            break;
        }
        if text.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push(' ');
                last.1.push_str(text.trim());
            }
        } else if let Some((name, value)) = text.split_once(':') {
            fields.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    fields.into_iter().filter(|(n, _)| names.iter().any(|w| w.trim().eq_ignore_ascii_case(n))).map(|(_, v)| v).collect()
}

/// The addresses in an address-list header value: `a@b, "Doe, J" <j@d>, group: x@y;`.
pub fn addresses(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut cur, mut quoted, mut angle, mut comment) = (String::new(), false, false, 0u32);
    for c in value.chars() {
        match c {
            '"' if comment == 0 => quoted = !quoted,
            '(' if !quoted => comment += 1,
            ')' if !quoted && comment > 0 => comment -= 1,
            '<' if !quoted && comment == 0 => angle = true,
            '>' if !quoted && comment == 0 => angle = false,
            ',' | ';' if !quoted && !angle && comment == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    parts.iter().filter_map(|p| one_address(p)).collect()
}

fn one_address(part: &str) -> Option<String> {
    let candidate = match (part.rfind('<'), part.rfind('>')) {
        (Some(a), Some(b)) if a < b => part[a + 1..b].to_owned(),
        _ => {
            // No angle brackets: drop comments and a group name (`group: addr`).
            let no_comment: String = strip_comments(part);
            no_comment.rsplit_once(':').map_or(no_comment.as_str(), |(_, a)| a).to_owned()
        }
    };
    let address = candidate.trim().trim_matches('"').trim();
    let valid = address.contains('@') && !address.contains(char::is_whitespace) && address.len() <= 255;
    valid.then(|| address.to_owned())
}

fn strip_comments(s: &str) -> String {
    let mut depth = 0u32;
    s.chars()
        .filter(|&c| match c {
            '(' => {
                depth += 1;
                false
            }
            ')' if depth > 0 => {
                depth -= 1;
                false
            }
            _ => depth == 0,
        })
        .collect()
}

/// The envelope sender for a downloaded message: `Return-Path`, else the `From` address, else
/// the null sender.
pub fn sender(raw: &[u8]) -> String {
    for name in ["Return-Path", "From"] {
        if let Some(a) = header_values(raw, &[name]).first().and_then(|v| addresses(v).into_iter().next()) {
            return a;
        }
    }
    String::new()
}

/// `raw` with `headers` (complete lines, CRLF-terminated) in front.
pub fn prepend(headers: &str, raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.len() + raw.len());
    out.extend_from_slice(headers.as_bytes());
    out.extend_from_slice(raw);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_unfolded_and_all_returned() {
        let raw =
            b"To: a@x.test,\r\n b@x.test\r\nCc: <c@x.test>\r\nto: d@x.test\r\nSubject: s\r\n\r\nTo: body@x.test\r\n";
        let v = header_values(raw, &["To", "CC"]);
        assert_eq!(v, ["a@x.test, b@x.test", "<c@x.test>", "d@x.test"]);
    }

    #[test]
    fn address_lists() {
        assert_eq!(
            addresses(r#""Doe, John" <john@x.test>, mary@x.test (Mary), team: p@x.test, q@x.test;, nobody"#),
            ["john@x.test", "mary@x.test", "p@x.test", "q@x.test"]
        );
        assert!(addresses("undisclosed-recipients:;").is_empty());
    }

    #[test]
    fn sender_prefers_return_path() {
        assert_eq!(sender(b"From: A <a@x.test>\r\nReturn-Path: <r@x.test>\r\n\r\n"), "r@x.test");
        assert_eq!(sender(b"From: A <a@x.test>\r\n\r\n"), "a@x.test");
        assert_eq!(sender(b"Subject: none\r\n\r\n"), "");
    }

    proptest::proptest! {
        /// Any message: no panic, values unfolded, every address found is one address. (Stable
        /// stand-in for the `mime_headers` fuzz target.)
        #[test]
        fn arbitrary_headers_never_panic(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            text in "((To|Cc|From|Return-Path): ([\"(),;:<>@ a-z\u{e4}\\\\]{0,16})(\r\n|\r\n |\n)?){0,8}",
        ) {
            for raw in [raw.as_slice(), text.as_bytes()] {
                for v in header_values(raw, &["To", "Cc"]) {
                    proptest::prop_assert!(!v.contains('\n'));
                    for a in addresses(&v) {
                        proptest::prop_assert!(a.contains('@') && !a.contains(char::is_whitespace) && a.len() <= 255);
                    }
                }
                let s = sender(raw);
                proptest::prop_assert!(s.is_empty() || s.contains('@'));
            }
        }
    }
}
