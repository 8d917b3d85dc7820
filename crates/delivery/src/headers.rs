//! Just enough header parsing for delivery decisions (auto-reply suppression, loop counting,
//! bounce subjects): unfolded header fields of a raw message, looked up without case.

/// The header fields of a message, in order, unfolded, values trimmed.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    fields: Vec<(String, String)>,
    /// Byte length of the header block including the empty line after it.
    pub len: usize,
}

impl Headers {
    /// Parses the header block at the start of `raw` (stops at the first empty line).
    pub fn parse(raw: &[u8]) -> Headers {
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut pos = 0;
        while pos < raw.len() {
            let end = raw[pos..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| pos + i + 1);
            let line = &raw[pos..end];
            pos = end;
            let text = String::from_utf8_lossy(line);
            let text = text.trim_end_matches(['\r', '\n']);
            if text.is_empty() {
                break;
            }
            if text.starts_with([' ', '\t']) {
                if let Some(last) = fields.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(text.trim());
                }
                continue;
            }
            if let Some((name, value)) = text.split_once(':') {
                fields.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        Headers { fields, len: pos }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// `X-hMailServer-LoopCount`, the number of times generated mail went round.
    pub fn loop_count(&self) -> i64 {
        self.get("X-hMailServer-LoopCount").and_then(|v| v.trim().parse().ok()).unwrap_or(0)
    }

    /// True for mail no automatic answer should go to (RFC 3834 §2; hMailServer checks
    /// Auto-Submitted; mailing-list and bulk markers are checked too).
    pub fn is_automatic(&self) -> bool {
        let auto = self.get("Auto-Submitted").is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"));
        let bulk = self
            .get("Precedence")
            .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "bulk" | "list" | "junk"));
        auto || bulk || self.has("List-Id") || self.has("List-Unsubscribe")
    }

    /// The whole header block as text (for bounce bodies).
    pub fn text(&self, raw: &[u8]) -> String {
        String::from_utf8_lossy(&raw[..self.len.min(raw.len())]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_and_finds() {
        let raw = b"Subject: hello\r\n  world\r\nX-hMailServer-LoopCount: 2\r\nPrecedence: bulk\r\n\r\nbody\r\nSubject: no\r\n";
        let h = Headers::parse(raw);
        assert_eq!(h.get("subject"), Some("hello world"));
        assert_eq!(h.loop_count(), 2);
        assert!(h.is_automatic());
        assert_eq!(h.len, raw.len() - "body\r\nSubject: no\r\n".len());
        assert!(!Headers::parse(b"Auto-Submitted: no\r\n\r\n").is_automatic());
        assert!(Headers::parse(b"Auto-Submitted: auto-replied\r\n\r\n").is_automatic());
    }

    proptest::proptest! {
        /// The reader and the reports built on it, on any original: no panic, values unfolded,
        /// and the report's own header block reads back. (Stable stand-in for the `reports`
        /// fuzz target.)
        #[test]
        fn arbitrary_originals_never_panic(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            text in "((Subject|Date|X-hMailServer-LoopCount|Auto-Submitted|Precedence|List-Id)?:?[ \t]?[a-z0-9\u{e4}]{0,8}(\r\n|\n|\r\n )?){0,16}",
        ) {
            use crate::generated::{Delivered, Original, success_report};
            use crate::report::Action;
            for raw in [raw.as_slice(), text.as_bytes()] {
                let h = Headers::parse(raw);
                proptest::prop_assert!(h.len <= raw.len());
                proptest::prop_assert!(h.get("Subject").is_none_or(|v| !v.contains('\n')));
                let _ = (h.loop_count(), h.is_automatic(), h.text(raw));
                for ret in ["", "HDRS"] {
                    let delivered = [Delivered { recipient: "b@c".into(), orcpt: String::new(), action: Action::Delivered }];
                    let report = success_report("mx.test", "a@b", Original { raw, envid: "", ret }, &delivered);
                    let back = Headers::parse(&report);
                    proptest::prop_assert_eq!(back.get("Auto-Submitted"), Some("auto-generated"));
                }
            }
        }
    }
}
