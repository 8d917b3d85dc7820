//! Every way of splitting the input gives the same dialogue; no input makes the session panic.

use altimail_testkit::splits::{assert_every_split_gives_the_same_result, cut_at};
use proptest::prelude::*;

use super::*;

/// A dialogue touching every input path: commands, AUTH exchange, DATA with stuffing and tricky
/// line endings, BDAT chunks, refused commands, STARTTLS last.
const DIALOGUE: &[u8] = b"EHLO client.example\r\nAUTH LOGIN\r\ndXNlcg==\r\nc2VjcmV0\r\n\
MAIL FROM:<a@example.org> SIZE=100\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<unknown@example.com>\r\nDATA\r\n\
Subject: x\r\n\r\n..stuffed\r\n.\n\r.\r\n\r\n.\r\n\
MAIL FROM:<>\r\nRCPT TO:<c@example.com>\r\nBDAT 5\r\n.\r\n\r\nBDAT 3 LAST\r\nabc\
FOO\r\nNOOP\nRSET\r\nSTARTTLS\r\n";

fn starttls_config() -> SessionConfig {
    let mut optional = config();
    optional.security = PortSecurity::StartTlsOptional;
    optional
}

/// Wire output, messages and events of a run fed in `chunks`.
fn run(chunks: &[&[u8]]) -> (String, Vec<Message>, Vec<String>) {
    let mut harness = Harness::new(starttls_config());
    let out = harness.send_chunks(chunks);
    (out, harness.messages, harness.events)
}

#[test]
fn the_dialogue_itself() {
    let (out, messages, events) = run(&[DIALOGUE]);
    assert_eq!(
        codes(&out),
        [250, 334, 334, 235, 250, 250, 550, 354, 250, 250, 250, 250, 250, 500, 250, 250, 220],
        "{out}"
    );
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].body, b"Subject: x\r\n\r\n.stuffed\r\n\r\n\r\n.\r\n\r\n");
    assert_eq!(messages[1].body, b".\r\n\r\nabc");
    assert_eq!(events.last().map(String::as_str), Some("starttls"));
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

/// Fragments that reach deep states quickly (the SMTP alphabet of the fuzz target).
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"EHLO x\r\n".to_vec()),
        Just(b"HELO x\r\n".to_vec()),
        Just(b"MAIL FROM:<a@b.example>\r\n".to_vec()),
        Just(b"MAIL FROM:<> SMTPUTF8\r\n".to_vec()),
        Just(b"RCPT TO:<c@d.example>\r\n".to_vec()),
        Just(b"RCPT TO:<unknown@d.example>\r\n".to_vec()),
        Just(b"DATA\r\n".to_vec()),
        Just(b"BDAT 3\r\n".to_vec()),
        Just(b"BDAT 2 LAST\r\n".to_vec()),
        Just(b"AUTH LOGIN\r\n".to_vec()),
        Just(b"AUTH PLAIN\r\n".to_vec()),
        Just(b"dXNlcg==\r\n".to_vec()),
        Just(b"*\r\n".to_vec()),
        Just(b"STARTTLS\r\n".to_vec()),
        Just(b"RSET\r\n".to_vec()),
        Just(b"QUIT\r\n".to_vec()),
        Just(b"ETRN x\r\n".to_vec()),
        Just(b"\r\n.\r\n".to_vec()),
        Just(b".".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Stable stand-in for the `session` fuzz target: arbitrary input never panics, every reply
    /// is well-formed and the buffered input stays bounded.
    #[test]
    fn arbitrary_input_never_panics(fragments in proptest::collection::vec(fragment(), 0..40), limited in any::<bool>()) {
        let mut config = starttls_config();
        if limited {
            config.max_invalid_commands = 5;
            config.allow_bare_line_endings = false;
        }
        let mut harness = Harness::new(config);
        for fragment in &fragments {
            let out = harness.send(fragment);
            prop_assert!(out.is_empty() || out.ends_with("\r\n"));
            for line in out.split_terminator("\r\n") {
                prop_assert!(line.len() >= 4 && line.len() <= 512, "bad reply line {:?}", line);
                prop_assert!(line.get(..3).is_some_and(|code| code.bytes().all(|b| b.is_ascii_digit())));
                prop_assert!(!line.contains('\r') && !line.contains('\n'));
            }
            prop_assert!(harness.session.input.pending().len() <= MAX_BUFFERED_INPUT);
        }
        prop_assert!(harness.messages.len() <= fragments.len());
    }
}
