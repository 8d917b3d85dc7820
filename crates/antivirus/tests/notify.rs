//! The notice to sender and recipients of a message deleted for a virus.

use altimail_antivirus::notify::{notice_recipients, virus_notice};
use altimail_antivirus::{AvSettings, Texts};
use mail_parser::MessageParser;

#[test]
fn notices_use_hmailservers_text() {
    let original = b"From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: Invoice\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\nbody\r\n";
    let n = virus_notice(
        &Texts::default(),
        original,
        "mailer-daemon@example.net",
        "bob@example.net",
        "Mon, 7 Dec 2026 10:00:05 +0000",
        "notice.1@example.net",
    );
    let text = String::from_utf8(n.clone()).unwrap();
    assert!(text.contains("Subject: Virus found: Invoice\r\n"), "{text}");
    assert!(text.contains("Auto-Submitted: auto-generated\r\n"), "{text}");
    let parsed = MessageParser::default().parse(&n).unwrap();
    assert_eq!(
        parsed.body_text(0).unwrap(),
        "The message below contained a virus and did not\r\nreach some or all of the intended recipients.\r\n\r\n   From: Alice <alice@example.com>\r\n   To: bob@example.net\r\n   Sent: Mon, 7 Dec 2026 10:00:00 +0000\r\n   Subject: Invoice\r\n\r\nhMailServer\r\n"
    );

    let rcpts = vec!["bob@example.net".to_owned(), "carol@example.net".to_owned()];
    let both = AvSettings { notify_sender: true, notify_receiver: true, ..AvSettings::default() };
    assert_eq!(
        notice_recipients(&both, "alice@example.com", &rcpts),
        ["bob@example.net", "carol@example.net", "alice@example.com"]
    );
    assert!(notice_recipients(&both, "", &rcpts).is_empty());
    let none = AvSettings::default();
    assert!(notice_recipients(&none, "alice@example.com", &rcpts).is_empty());
}
