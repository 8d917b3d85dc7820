//! The SpamAssassin client against a real spamd of the test's own.

use std::time::Duration;

use altimail_antispam::Finding;
use altimail_antispam::spamassassin::{REASON, SaError, SpamAssassin};
use altimail_testkit::peers::{self, GTUBE};

fn client(port: u16) -> SpamAssassin {
    SpamAssassin {
        host: "127.0.0.1".into(),
        port,
        score: 5,
        merge_score: false,
        max_size_kb: 1024,
        timeout: Duration::from_secs(60),
    }
}

fn message(body: &str) -> Vec<u8> {
    format!(
        "Return-Path: <old@example.org>\r\nFrom: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: Lunch\r\n\
         Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <lunch.1@example.com>\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn spamd_scores_gtube_and_passes_ordinary_mail() {
    let Some(spamd) = peers::Spamd::start() else { return };
    eprintln!("spamd answered after {:?}", spamd.started_in);
    let sa = client(spamd.port);

    let spam = sa.check(&message(GTUBE), "alice@example.com").await.unwrap().unwrap();
    assert!(spam.is_spam);
    assert!(spam.score >= 1000.0, "{}", spam.score);
    assert_eq!(spam.finding(&sa), Some(Finding::new("SpamAssassin", 5, REASON)));
    let merged = SpamAssassin { merge_score: true, ..sa.clone() };
    assert_eq!(spam.finding(&merged).map(|f| f.score), Some(spam.score.trunc() as i32));
    let text = String::from_utf8_lossy(&spam.message);
    assert!(text.contains("X-Spam-Status: Yes"), "{text}");
    assert!(spam.headers.iter().any(|(n, _)| n == "X-Spam-Status"), "{:?}", spam.headers);
    // The temporary Return-Path is gone, and so is the one the message had.
    assert!(!text.contains("Return-Path:"), "{text}");
    assert!(text.contains("Subject: Lunch"), "{text}");

    let ham = sa.check(&message("See you at noon."), "alice@example.com").await.unwrap().unwrap();
    assert!(!ham.is_spam, "{}", String::from_utf8_lossy(&ham.message));
    assert_eq!(ham.finding(&sa), None);
    assert!(ham.headers.iter().any(|(n, v)| n == "X-Spam-Status" && v.starts_with("No")), "{:?}", ham.headers);
    assert!(String::from_utf8_lossy(&ham.message).ends_with("See you at noon.\r\n"));

    // Over antispammaxsize: not sent.
    let small = SpamAssassin { max_size_kb: 1, ..sa.clone() };
    let big = message(&format!("{GTUBE}\r\n{}", "x".repeat(4096)));
    assert_eq!(small.check(&big, "alice@example.com").await.unwrap(), None);

    // spamd gone: an error with hMailServer's text; the caller goes on unscored.
    drop(spamd);
    let err = sa.check(&message(GTUBE), "alice@example.com").await.unwrap_err();
    assert!(matches!(err, SaError::Connect(..)), "{err}");
    assert!(err.log_text().starts_with("The SpamAssassin tests did not complete."), "{}", err.log_text());
}

#[tokio::test]
async fn spamd_down_or_silent_is_an_error() {
    let sa = client(peers::free_port());
    assert!(matches!(sa.check(&message("hi"), "a@b").await, Err(SaError::Connect(..))));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let silent = SpamAssassin { timeout: Duration::from_millis(300), ..client(port) };
    assert!(matches!(silent.check(&message("hi"), "a@b").await, Err(SaError::Timeout(..))));
    hold.abort();
}
