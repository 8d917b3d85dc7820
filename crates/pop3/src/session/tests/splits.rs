//! Every way of splitting the input gives the same dialogue; no input makes the session panic.

use altimail_testkit::splits::{assert_every_split_gives_the_same_result, cut_at};
use proptest::prelude::*;

use super::*;

/// A dialogue touching every input path: refused and accepted logons, an AUTH exchange, every
/// transaction command, a missing file, pipelined commands, deletions at QUIT.
const DIALOGUE: &[u8] = b"CAPA\r\nUSER john@example.com\r\nPASS wrong\r\nAUTH PLAIN\r\n*\r\n\
AUTH PLAIN\r\nAGpvaG5AZXhhbXBsZS5jb20Ac2VjcmV0\r\nSTAT\r\nLIST\r\nUIDL 2\r\nRETR 1\r\nTOP 2 2\n\
RETR 3\r\nDELE 1\r\nDELE 1\r\nFOO\r\nNOOP\nRSET\r\nDELE 2\r\nQUIT\r\n";

/// Wire output and events of a run fed in `chunks`.
fn run(chunks: &[&[u8]]) -> (String, Vec<String>) {
    let mut harness = Harness::new(config());
    let out = harness.send_chunks(chunks);
    (out, harness.events)
}

#[test]
fn the_dialogue_itself() {
    let (out, events) = run(&[DIALOGUE]);
    assert_eq!(
        statuses(&out),
        [
            "+OK",
            "+OK",
            "-ERR [AUTH]",
            "+",
            "-ERR",
            "+",
            "+OK",
            "+OK",
            "+OK",
            "+OK",
            "+OK",
            "+OK",
            "-ERR [SYS/PERM]",
            "+OK",
            "-ERR",
            "-ERR",
            "+OK",
            "+OK",
            "+OK",
            "+OK"
        ],
        "{out}"
    );
    assert_eq!(events, ["open john@example.com", "commit [12]", "close"]);
}

#[test]
fn every_split_point_gives_the_same_result() {
    assert_every_split_gives_the_same_result(DIALOGUE, run);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_splits_give_the_same_result(cuts in proptest::collection::vec(0..DIALOGUE.len(), 0..8)) {
        prop_assert_eq!(run(&cut_at(DIALOGUE, &cuts)), run(&[DIALOGUE]));
    }
}

/// Fragments that reach deep states quickly (the POP3 alphabet of the fuzz target).
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"USER john@example.com\r\n".to_vec()),
        Just(b"USER locked@x\r\n".to_vec()),
        Just(b"PASS secret\r\n".to_vec()),
        Just(b"PASS wrong\r\n".to_vec()),
        Just(b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n".to_vec()),
        Just(b"AUTH PLAIN\r\n".to_vec()),
        Just(b"AGpvaG5AZXhhbXBsZS5jb20Ac2VjcmV0\r\n".to_vec()),
        Just(b"*\r\n".to_vec()),
        Just(b"STLS\r\n".to_vec()),
        Just(b"CAPA\r\n".to_vec()),
        Just(b"STAT\r\n".to_vec()),
        Just(b"LIST\r\n".to_vec()),
        Just(b"UIDL 2\r\n".to_vec()),
        Just(b"RETR 1\r\n".to_vec()),
        Just(b"RETR 3\r\n".to_vec()),
        Just(b"TOP 2 1\r\n".to_vec()),
        Just(b"DELE 2\r\n".to_vec()),
        Just(b"RSET\r\n".to_vec()),
        Just(b"QUIT\r\n".to_vec()),
        Just(b".".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b" ".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Stable stand-in for the `session` fuzz target: arbitrary input never panics, every status
    /// line is well-formed and the buffered input stays bounded.
    #[test]
    fn arbitrary_input_never_panics(
        fragments in proptest::collection::vec(fragment(), 0..40),
        security in 0u8..4,
        apop in any::<bool>(),
        tls_for_auth in any::<bool>(),
    ) {
        let mut config = config();
        config.security = match security {
            0 => PortSecurity::Plain,
            1 => PortSecurity::Implicit,
            2 => PortSecurity::StartTlsOptional,
            _ => PortSecurity::StartTlsRequired,
        };
        config.apop_timestamp = apop.then(|| TIMESTAMP.to_owned());
        config.auth_requires_tls = tls_for_auth;
        let mut harness = Harness::new(config);
        for fragment in &fragments {
            let out = harness.send(fragment);
            prop_assert!(out.is_empty() || out.ends_with("\r\n"));
            for line in out.split_terminator("\r\n") {
                prop_assert!(line.len() + 2 <= crate::proto::MAX_RESPONSE_LINE, "long line {:?}", line);
                prop_assert!(!line.contains('\r') && !line.contains('\n'));
            }
            prop_assert!(harness.session.input.pending().len() <= MAX_BUFFERED_INPUT);
        }
        let commits = harness.events.iter().filter(|e| e.starts_with("commit")).count();
        prop_assert!(commits <= 1);
    }
}
