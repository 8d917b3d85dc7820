//! The header reader and the report writer on arbitrary originals: nothing panics, every header
//! value found is unfolded, and a report is a well-formed multipart/report whose header block
//! the reader reads back.
#![no_main]

use altimail_delivery::generated::{Delivered, Original, fill_template, success_report};
use altimail_delivery::headers::Headers;
use altimail_delivery::report::{Action, Report, may_bounce};
use altimail_delivery_fuzz::into_alphabet;
use libfuzzer_sys::fuzz_target;

fn check(raw: &[u8]) {
    let headers = Headers::parse(raw);
    assert!(headers.len <= raw.len());
    for name in ["Subject", "Date", "X-hMailServer-LoopCount", "Auto-Submitted"] {
        if let Some(v) = headers.get(name) {
            assert!(!v.contains('\n'), "unfolded");
        }
    }
    let _ = (headers.loop_count(), headers.is_automatic(), may_bounce("a@b", &headers, 5));
    let _ = fill_template("%MACRO_SENT% %MACRO_SUBJECT% %MACRO_ORIGINAL_HEADER%", raw, "r");
    for ret in ["", "HDRS"] {
        let delivered = [Delivered { recipient: "b@c".into(), orcpt: "rfc822;b@c".into(), action: Action::Delivered }];
        let report = success_report("mx.test", "a@b", Original { raw, envid: "E", ret }, &delivered);
        let back = Headers::parse(&report);
        assert_eq!(back.get("Auto-Submitted"), Some("auto-generated"));
        assert!(back.get("Content-Type").is_some_and(|c| c.starts_with("multipart/report")));
        assert!(report.ends_with(b"--\r\n"));
    }
    let entries = [];
    let _ = Report {
        host: "mx.test",
        to: "a@b",
        subject: "s",
        text: "t",
        envid: "",
        arrival_date: None,
        entries: &entries,
        original: raw,
        ret: "HDRS",
    }
    .write();
}

fuzz_target!(|data: &[u8]| {
    check(data);
    check(&into_alphabet(data));
});
