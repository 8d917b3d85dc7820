//! Large bodies go to the driver as they arrive: the octets streamed are exactly the body the
//! in-memory path would have kept, and a transaction that ends without a message drops them.

use proptest::prelude::*;

use super::*;

fn streaming(threshold: usize) -> SessionConfig {
    let mut config = config();
    config.max_message_size = 0;
    config.stream_threshold = threshold;
    config
}

#[test]
fn a_large_data_body_is_streamed_in_bounded_parts() {
    let mut harness = Harness::new(streaming(1000));
    harness.open_transaction();
    let line = format!("{}\r\n", "x".repeat(98));
    let body: String = line.repeat(10_000);
    let mut out = harness.send("DATA\r\n");
    for chunk in format!("{body}..dot\r\n.\r\n").as_bytes().chunks(4096) {
        out += &harness.send(chunk);
        assert!(harness.session.transaction().is_none_or(|tx| tx.body.len() < STREAM_PART + 4096));
    }
    assert_eq!(codes(&out), [354, 250], "{out}");
    assert_eq!(harness.events.iter().filter(|e| *e == "stream").count(), 1);
    assert!(harness.largest_part <= STREAM_PART + 4096, "{}", harness.largest_part);
    let message = &harness.messages[0];
    assert!(message.streamed);
    assert_eq!(message.body, format!("{body}.dot\r\n").as_bytes());
}

#[test]
fn a_small_body_stays_in_memory() {
    let mut harness = Harness::new(streaming(1000));
    harness.open_transaction();
    assert_eq!(codes(&harness.send("DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n")), [354, 250]);
    assert!(!harness.messages[0].streamed);
    assert!(!harness.events.iter().any(|e| e == "stream"));
}

#[test]
fn a_refused_streamed_body_is_dropped() {
    let mut config = streaming(100);
    config.max_message_size = 1000;
    let mut harness = Harness::new(config);
    harness.open_transaction();
    let out = harness.send(format!("DATA\r\n{}\r\n.\r\nNOOP\r\n", "y".repeat(2000)));
    assert_eq!(codes(&out), [354, 552, 250], "{out}");
    assert!(harness.messages.is_empty());
    assert_eq!(harness.events.iter().filter(|e| *e == "drop body").count(), 1);
    assert!(harness.stream.is_none());
}

#[test]
fn bdat_chunks_stream_and_rset_drops_them() {
    let mut harness = Harness::new(streaming(100));
    harness.open_transaction();
    let out = harness.send(format!("BDAT 300\r\n{}BDAT 300\r\n{}", "a".repeat(300), "b".repeat(300)));
    assert_eq!(codes(&out), [250, 250], "{out}");
    assert_eq!(harness.session.transaction().map(Transaction::body_len), Some(600));
    assert_eq!(codes(&harness.send("RSET\r\n")), [250]);
    assert_eq!(harness.events.iter().filter(|e| *e == "drop body").count(), 1);

    harness.open_transaction();
    let out = harness.send(format!("BDAT 300\r\n{}BDAT 5 LAST\r\nabcde", "c".repeat(300)));
    assert_eq!(codes(&out), [250, 250], "{out}");
    assert_eq!(harness.messages[0].body, format!("{}abcde", "c".repeat(300)).as_bytes());
    assert!(harness.messages[0].streamed);
}

#[test]
fn reading_tells_the_driver_what_is_in_progress() {
    let mut harness = Harness::new(config());
    assert_eq!(harness.session.reading(), Reading::Idle);
    harness.send("EHL");
    assert_eq!(harness.session.reading(), Reading::Command);
    harness.send("O x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
    assert_eq!(harness.session.reading(), Reading::Body { received: 0 });
    harness.send("abc");
    assert_eq!(harness.session.reading(), Reading::Body { received: 3 });
    harness.send("\r\n.\r\n");
    assert_eq!(harness.session.reading(), Reading::Idle);
    harness.send("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT 4\r\nab");
    assert_eq!(harness.session.reading(), Reading::Body { received: 2 });
    harness.send("cdBDAT 10 LAST\r\nxyz");
    assert_eq!(harness.session.reading(), Reading::Body { received: 7 });
}

/// Pieces of dialogue around DATA and BDAT bodies, with line endings and dots in them.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"EHLO x\r\n".to_vec()),
        Just(b"MAIL FROM:<a@b.example>\r\n".to_vec()),
        Just(b"RCPT TO:<c@d.example>\r\n".to_vec()),
        Just(b"DATA\r\n".to_vec()),
        Just(b"BDAT 7\r\n".to_vec()),
        Just(b"BDAT 40 LAST\r\n".to_vec()),
        Just(b"RSET\r\n".to_vec()),
        Just(b"\r\n.\r\n".to_vec()),
        Just(b"\r\n..\r\n".to_vec()),
        Just(b".".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

/// Wire output and messages (bodies whole) of `input` fed in `chunks`-sized pieces.
fn run(config: SessionConfig, input: &[u8], chunk: usize) -> (String, Vec<Message>, Option<Vec<u8>>) {
    let mut harness = Harness::new(config);
    let out: String = input.chunks(chunk.max(1)).map(|piece| harness.send(piece)).collect();
    let messages = harness.messages.into_iter().map(|m| Message { streamed: false, ..m }).collect();
    (out, messages, harness.stream)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Stable stand-in for the `streaming` fuzz target: whatever the threshold and however the
    /// input is cut, the dialogue and the messages are those of the in-memory path.
    #[test]
    fn streaming_gives_the_in_memory_result(
        fragments in proptest::collection::vec(fragment(), 0..40),
        threshold in 1usize..64,
        chunk in 1usize..100,
        limited in any::<bool>(),
    ) {
        let input: Vec<u8> = fragments.concat();
        let mut base = config();
        base.max_message_size = if limited { 120 } else { 0 };
        base.allow_bare_line_endings = !limited;
        let in_memory = run(SessionConfig { stream_threshold: usize::MAX, ..base.clone() }, &input, chunk);
        let streamed = run(SessionConfig { stream_threshold: threshold, ..base }, &input, chunk);
        prop_assert_eq!(&streamed.0, &in_memory.0);
        prop_assert_eq!(&streamed.1, &in_memory.1);
        prop_assert!(in_memory.2.is_none());
        // A stream still open belongs to the transaction in progress, which has not ended.
        if let Some(open) = &streamed.2 {
            prop_assert!(!open.is_empty());
        }
    }
}
