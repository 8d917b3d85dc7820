#![no_main]

use altimail_backup::xml_read::{MAX_DEPTH, Node, XmlReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = XmlReader::new(data);
    let mut depth = 0usize;
    // Every node consumes input, so the walk ends; the bound only guards against a reader that
    // would stop making progress.
    for _ in 0..=data.len() * 2 + 2 {
        match reader.next_node() {
            Ok(Some(Node::Open { .. })) => {
                depth += 1;
                assert!(depth <= MAX_DEPTH, "nesting past the limit was accepted");
            }
            Ok(Some(Node::Close { .. })) => depth = depth.saturating_sub(1),
            Ok(None) | Err(_) => return,
        }
    }
    panic!("the reader kept returning nodes without reaching the end");
});
