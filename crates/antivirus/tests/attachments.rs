//! Blocked attachments: found by decoded file name, replaced by hMailServer's notice, the
//! rest of the message kept byte for byte.

use altimail_antivirus::attachments::{self, MAX_PARTS};
use altimail_antivirus::{AvOutcome, AvSettings, block_attachments, scan};
use mail_parser::{MessageParser, MimeHeaders};

fn blocking() -> AvSettings {
    AvSettings {
        attachment_blocking: true,
        blocked: ["*.exe", "*.bat", "*.scr"].map(String::from).to_vec(),
        ..AvSettings::default()
    }
}

const NESTED: &str = "From: a@example.com\r\nTo: b@example.com\r\nSubject: Files\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
preamble\r\n\
--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n\
--inner\r\nContent-Type: text/plain\r\n\r\nHello\r\n\
--inner\r\nContent-Type: text/html\r\n\r\n<p>Hello</p>\r\n\
--inner--\r\n\
--outer\r\nContent-Type: multipart/mixed; boundary=\"deep\"\r\n\r\n\
--deep\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename*=utf-8''%E2%82%ACuro%20setup.EXE\r\n\
Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n\
--deep\r\nContent-Type: application/octet-stream; name*0=\"run\"; name*1=\".bat\"\r\n\r\n@echo off\r\n\
--deep--\r\n\
--outer\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n\
Content-Disposition: attachment; filename=\"report.pdf\"\r\n\r\n%PDF-1.4 keep me\r\n\
--outer--\r\nepilogue\r\n";

#[test]
fn blocked_names_are_found_in_nested_parts_with_rfc2231_names() {
    let names: Vec<String> = attachments::list(NESTED.as_bytes()).into_iter().filter_map(|a| a.name).collect();
    assert_eq!(names, ["€uro setup.EXE", "run.bat", "report.pdf"]);
    let blocked: Vec<String> =
        attachments::blocked(NESTED.as_bytes(), &blocking().blocked).into_iter().filter_map(|a| a.name).collect();
    assert_eq!(blocked, ["€uro setup.EXE", "run.bat"]);
}

#[test]
fn blocked_attachments_are_replaced_and_the_rest_is_kept() {
    let (rewritten, removed) = block_attachments(&blocking(), NESTED.as_bytes()).unwrap();
    assert_eq!(removed, ["€uro setup.EXE", "run.bat"]);
    let text = String::from_utf8(rewritten.clone()).unwrap();
    // Untouched: headers, the text parts, the PDF, preamble and epilogue.
    assert!(text.starts_with(&NESTED[..NESTED.find("--outer\r\nContent-Type: multipart/mixed").unwrap()]));
    assert!(text.contains(
        "--outer\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n\r\n%PDF-1.4 keep me\r\n--outer--\r\nepilogue\r\n"
    ));
    assert!(!text.contains("TVqQAAMAAAAEAAAA") && !text.contains("@echo off"), "{text}");
    // The replacements parse as text attachments named <name>.txt with hMailServer's text.
    let parsed = MessageParser::default().parse(&rewritten).unwrap();
    let mut found = Vec::new();
    for part in &parsed.parts {
        if let Some(name) = part.attachment_name() {
            found.push((name.to_owned(), part.text_contents().map(str::to_owned)));
        }
    }
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, "€uro setup.EXE.txt");
    assert_eq!(
        found[0].1.as_deref(),
        Some(
            "The attachment €uro setup.EXE was blocked for delivery by the e-mail server. Please contact your system administrator if you have any questions regarding this.\r\n\r\nhMailServer\r\n"
        )
    );
    assert_eq!(found[1].0, "run.bat.txt");
    assert!(found[1].1.as_deref().unwrap().starts_with("The attachment run.bat was blocked"));
    assert_eq!(found[2].0, "report.pdf");
    // Nothing blocked: no rewrite.
    assert_eq!(block_attachments(&blocking(), b"Subject: x\r\n\r\nbody\r\n"), None);
    let off = AvSettings { attachment_blocking: false, ..blocking() };
    assert_eq!(block_attachments(&off, NESTED.as_bytes()), None);
}

#[tokio::test]
async fn scan_reports_the_rewrite() {
    match scan(&blocking(), NESTED.as_bytes()).await.unwrap() {
        AvOutcome::Rewritten { removed, virus, .. } => {
            assert_eq!(removed.len(), 2);
            assert_eq!(virus, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(scan(&blocking(), b"Subject: x\r\n\r\nbody\r\n").await.unwrap(), AvOutcome::Clean);
}

#[test]
fn a_message_that_is_itself_the_attachment() {
    let m = b"From: a@example.com\r\nSubject: tool\r\nContent-Type: application/octet-stream;\r\n\tname=\"tool.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n";
    let (rewritten, removed) = block_attachments(&blocking(), m).unwrap();
    assert_eq!(removed, ["tool.exe"]);
    let text = String::from_utf8(rewritten.clone()).unwrap();
    assert!(text.starts_with("From: a@example.com\r\nSubject: tool\r\nContent-Type: text/plain"), "{text}");
    assert!(!text.contains("TVqQ"), "{text}");
    let parsed = MessageParser::default().parse(&rewritten).unwrap();
    assert_eq!(parsed.root_part().attachment_name(), Some("tool.exe.txt"));
    assert!(
        parsed.body_text(0).unwrap_or_default().contains("The attachment tool.exe was blocked") || {
            parsed.parts[0].text_contents().unwrap_or_default().contains("The attachment tool.exe was blocked")
        }
    );
}

#[test]
fn hostile_structures_are_bounded() {
    // Deep nesting and many parts: no stack overflow, no more than MAX_PARTS examined.
    let mut deep = String::from("Subject: deep\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
    for i in 0..3000 {
        deep.push_str(&format!("--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{}\"\r\n\r\n", i + 1));
    }
    deep.push_str("--b3000\r\nContent-Type: application/x-msdownload; name=\"x.exe\"\r\n\r\nMZ\r\n");
    let _ = attachments::list(deep.as_bytes());
    let mut many = String::from("Subject: many\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
    for i in 0..(MAX_PARTS + 500) {
        many.push_str(&format!("--b\r\nContent-Type: application/octet-stream; name=\"f{i}.exe\"\r\n\r\nx\r\n"));
    }
    many.push_str("--b--\r\n");
    let found = attachments::list(many.as_bytes());
    assert!(found.len() <= MAX_PARTS);
    let (rewritten, removed) = block_attachments(&blocking(), many.as_bytes()).unwrap();
    assert_eq!(removed.len(), found.len());
    assert!(MessageParser::default().parse(&rewritten).is_some());
}
