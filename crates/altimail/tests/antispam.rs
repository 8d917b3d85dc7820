//! Anti-spam end to end: `altimail serve` with `[dns]` pointing at an in-process DNS server
//! that publishes SPF, DKIM and DMARC records, mail sent over real SMTP from 127.0.0.1 (the "My
//! computer" range, which has the anti-spam bit), on SQLite, PostgreSQL and MariaDB.

mod common;

use std::time::Duration;

use altimail_dns::testdns::{TestDns, Zone};
use altimail_testkit::backends;
use common::{Install, LineClient, example_com, wait_inbox};
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;

fn base64(data: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn zone(dkim_record: &str) -> Zone {
    Zone::new()
        .txt("pass.test", "v=spf1 ip4:127.0.0.0/8 -all")
        .txt("fail.test", "v=spf1 ip4:192.0.2.1 -all")
        .txt("signed.test", "v=spf1 ip4:127.0.0.0/8 -all")
        .txt("sel._domainkey.signed.test", dkim_record)
        .txt("quarantine.test", "v=spf1 ip4:192.0.2.1 -all")
        .txt("_dmarc.quarantine.test", "v=DMARC1; p=quarantine")
        .txt("reject.test", "v=spf1 ip4:192.0.2.1 -all")
        .txt("_dmarc.reject.test", "v=DMARC1; p=reject")
}

/// One SMTP transaction; returns the reply to DATA and, when it was 354, the reply to the end
/// of the body. `auth` logs on as john@example.com first.
fn send(port: u16, from: &str, message: &str, auth: bool) -> (String, String) {
    let (mut c, greeting) = LineClient::connect(port);
    assert!(greeting.starts_with("220"), "{greeting}");
    c.send("EHLO client.test\r\n");
    c.until("250 ");
    if auth {
        let blob = base64(b"\0john@example.com\0secret-pw");
        let r = c.ask(&format!("AUTH PLAIN {blob}"));
        assert!(r.starts_with("235"), "{r}");
    }
    let r = c.ask(&format!("MAIL FROM:<{from}>"));
    assert!(r.starts_with("250"), "{r}");
    let r = c.ask("RCPT TO:<john@example.com>");
    assert!(r.starts_with("250"), "{r}");
    let data = c.ask("DATA");
    if !data.starts_with("354") {
        c.ask("QUIT");
        return (data, String::new());
    }
    c.send(message);
    let end = c.ask(".");
    c.ask("QUIT");
    (data, end)
}

fn message(from: &str, subject: &str, extra: &str) -> String {
    format!("{extra}From: {from}\r\nTo: john@example.com\r\nSubject: {subject}\r\n\r\nHello {subject}.\r\n")
}

/// Changes a setting; the server reads settings at most a second old, per session.
fn set(i: &Install, name: &str, value: &str) {
    i.ok(&["setting", "set", name, value]);
}

fn settle() {
    std::thread::sleep(Duration::from_millis(1300));
}

/// The server's directory index checks the database again before answering once its last
/// check is over two seconds old (younger, it answers and checks in the background).
fn settle_directory() {
    std::thread::sleep(Duration::from_millis(2300));
}

#[tokio::test(flavor = "multi_thread")]
async fn spam_tests_over_smtp() {
    for db in backends("antispam").await {
        let e = db.engine;
        let der = Ed25519Key::generate_pkcs8().unwrap();
        let key = Ed25519Key::from_pkcs8_der(&der).unwrap();
        let record = format!("v=DKIM1; k=ed25519; p={}", base64(&key.public_key()));
        let dns = TestDns::start(zone(&record)).await.unwrap();
        let i = Install::new(db);
        example_com(
            &i,
            &[
                ("usespf", "1"),
                ("ASDKIMVerificationEnabled", "1"),
                ("altimaildmarcenabled", "1"),
                ("antispamprependsubject", "1"),
                ("authallowplaintext", "1"),
            ],
        );
        let mut config = std::fs::read_to_string(&i.config).unwrap();
        config.push_str(&format!("\n[dns]\nservers = [\"{}\"]\n", dns.addr));
        std::fs::write(&i.config, config).unwrap();
        let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
        let port = ports[0];
        let store = altimail_store::Store::open(&i.db.config, i.path("data"), false).await.unwrap();
        let mut delivered = 0;
        let mut next = |what: &str| {
            delivered += 1;
            let _ = what;
            delivered
        };

        // 1. SPF pass; a forged Authentication-Results naming us is removed, another kept.
        let forged = "Authentication-Results: mx.example.com; spf=pass; dkim=pass\r\nAuthentication-Results: other.example; spf=none\r\n";
        let (data, end) = send(port, "a@pass.test", &message("a@pass.test", "one", forged), false);
        assert!(data.starts_with("354") && end.starts_with("250"), "{e}: {data} {end}");
        let n = next("one");
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(
            text.contains("Authentication-Results: mx.example.com;\r\n\tspf=pass smtp.mailfrom=a@pass.test"),
            "{e}: {text}"
        );
        assert_eq!(text.matches("Authentication-Results: mx.example.com;").count(), 1, "{e}: {text}");
        assert!(text.contains("Authentication-Results: other.example; spf=none"), "{e}: {text}");
        assert!(!text.contains("X-hMailServer-Spam"), "{e}: {text}");

        // 2. DKIM-signed message verified.
        let plain = message("a@signed.test", "two", "");
        let signature = DkimSigner::from_key(Ed25519Key::from_pkcs8_der(&der).unwrap())
            .domain("signed.test")
            .selector("sel")
            .headers(["From", "To", "Subject"])
            .sign(plain.as_bytes())
            .unwrap();
        let signed = format!("{}{plain}", signature.to_header());
        let (_, end) = send(port, "a@signed.test", &signed, false);
        assert!(end.starts_with("250"), "{e}: {end}");
        let n = next("two");
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(text.contains("dkim=pass header.d=signed.test"), "{e}: {text}");
        assert!(!text.contains("X-hMailServer-Spam"), "{e}: {text}");

        // 2b. A large message (streamed to its file as it arrives) gets the header too, and
        // loses the forged one; the post-transmission tests skip it (over antispammaxsize).
        let big_body = format!("{}\r\n", "x".repeat(998)).repeat(1600);
        let big = format!("{forged}From: a@pass.test\r\nTo: john@example.com\r\nSubject: big\r\n\r\n{big_body}");
        let (_, end) = send(port, "a@pass.test", &big, false);
        assert!(end.starts_with("250"), "{e}: {end}");
        let n = next("big");
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(text.len() > 1_500_000, "{e}");
        assert!(text.contains("Authentication-Results: mx.example.com;\r\n\tspf=pass"), "{e}");
        assert_eq!(text.matches("Authentication-Results: mx.example.com;").count(), 1, "{e}");
        assert!(text.contains("Authentication-Results: other.example; spf=none"), "{e}");

        // 3. Tampered signed message: DKIM 5 + SPF fail 3 (from fail.test) = 8: marked.
        let tampered = signed.replace("Hello two.", "Buy now.");
        let (_, end) = send(port, "a@fail.test", &tampered, false);
        assert!(end.starts_with("250"), "{e}: {end}");
        let n = next("three");
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(text.contains("X-hMailServer-Spam: YES\r\n"), "{e}: {text}");
        assert!(text.contains("X-hMailServer-Reason-1: Blocked by SPF. ("), "{e}: {text}");
        assert!(text.contains("X-hMailServer-Reason-2: Rejected by DKIM. - (Score: 5)\r\n"), "{e}: {text}");
        assert!(text.contains("X-hMailServer-Reason-Score: 8\r\n"), "{e}: {text}");
        assert!(text.contains("Subject: [SPAM] two"), "{e}: {text}");
        assert!(text.contains("spf=fail"), "{e}: {text}");

        // 4. DMARC quarantine: SPF fail 3 + DMARC 5 = 8, marked.
        let (_, end) = send(port, "a@quarantine.test", &message("a@quarantine.test", "four", ""), false);
        assert!(end.starts_with("250"), "{e}: {end}");
        let n = next("four");
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(text.contains("Rejected by DMARC. (quarantine.test policy quarantine) - (Score: 5)"), "{e}: {text}");
        assert!(text.contains("dmarc=fail header.from=quarantine.test"), "{e}: {text}");

        // 5. DMARC reject, set to refuse: 550 5.7.1 at the end of data, nothing stored.
        set(&i, "altimaildmarcreject", "1");
        settle();
        let (data, end) = send(port, "a@reject.test", &message("a@reject.test", "five", ""), false);
        assert!(data.starts_with("354"), "{e}: {data}");
        assert!(end.starts_with("550 5.7.1 Rejected by DMARC."), "{e}: {end}");

        // 6. SPF fail at the delete threshold: 550 before the body.
        set(&i, "usespfscore", "20");
        settle();
        let (data, _) = send(port, "a@fail.test", &message("a@fail.test", "six", ""), false);
        assert!(data.starts_with("550 5.7.1 Blocked by SPF. ("), "{e}: {data}");

        // 7. White-listed sender: not tested.
        i.ok(&["whitelist", "add", "127.0.0.1", "--address", "*@fail.test"]);
        let listed = i.json(&["whitelist", "list"]);
        assert_eq!(listed.as_array().unwrap().len(), 1, "{e}: {listed}");
        settle();
        let (data, end) = send(port, "b@fail.test", &message("b@fail.test", "seven", ""), false);
        assert!(data.starts_with("354") && end.starts_with("250"), "{e}: {data} {end}");
        let n = next("seven");
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(!text.contains("X-hMailServer-Spam"), "{e}: {text}");
        let id = listed[0]["id"].to_string();
        i.ok(&["whitelist", "remove", &id]);
        assert_eq!(i.json(&["whitelist", "list"]).as_array().unwrap().len(), 0, "{e}");

        // 8. Authenticated client: not tested.
        let (data, end) = send(port, "c@fail.test", &message("c@fail.test", "eight", ""), true);
        assert!(data.starts_with("354") && end.starts_with("250"), "{e}: {data} {end}");
        next("eight");

        // 9. Range without the anti-spam bit: not tested.
        i.ok(&["range", "set", "My computer", "--deny", "anti-spam"]);
        settle();
        let (data, end) = send(port, "d@fail.test", &message("d@fail.test", "nine", ""), false);
        assert!(data.starts_with("354") && end.starts_with("250"), "{e}: {data} {end}");
        let n = next("nine");
        let got = wait_inbox(&store, "john@example.com", n).await;
        let text = std::fs::read_to_string(&got[n - 1].1).unwrap();
        assert!(!text.contains("Authentication-Results: mx.example.com"), "{e}: {text}");

        // The status line of each tested message is in the application log.
        let logs = std::fs::read_dir(i.path("logs")).unwrap();
        let all: String =
            logs.filter_map(|f| std::fs::read_to_string(f.unwrap().path()).ok()).collect::<Vec<_>>().join("\n");
        assert!(all.contains("Anti-spam: SPF=fail(3), DKIM=fail(5), DMARC=none; total score 8"), "{e}: {all}");

        server.stop(Duration::from_secs(10));
        store.db.close().await;
    }
}

/// MAIL FROM and RCPT TO; when the RCPT is accepted the message goes through DATA. Returns the
/// reply to RCPT and the reply to the end of the body (empty when it did not get that far).
fn rcpt_then_send(port: u16, from: &str, subject: &str) -> (String, String) {
    rcpt_to_then_send(port, from, "john@example.com", subject)
}

/// [`rcpt_then_send`] to `to`.
fn rcpt_to_then_send(port: u16, from: &str, to: &str, subject: &str) -> (String, String) {
    let (mut c, greeting) = LineClient::connect(port);
    assert!(greeting.starts_with("220"), "{greeting}");
    c.send("EHLO client.test\r\n");
    c.until("250 ");
    let r = c.ask(&format!("MAIL FROM:<{from}>"));
    assert!(r.starts_with("250"), "{r}");
    let rcpt = c.ask(&format!("RCPT TO:<{to}>"));
    if !rcpt.starts_with("250") {
        c.ask("QUIT");
        return (rcpt, String::new());
    }
    let data = c.ask("DATA");
    assert!(data.starts_with("354"), "{data}");
    c.send(&message(from, subject, ""));
    let end = c.ask(".");
    c.ask("QUIT");
    (rcpt, end)
}

#[tokio::test(flavor = "multi_thread")]
async fn greylisting_over_smtp() {
    for db in backends("greylist").await {
        let e = db.engine;
        let dns = TestDns::start(zone("v=DKIM1; p=")).await.unwrap();
        let i = Install::new(db);
        example_com(&i, &[("usegreylisting", "1"), ("usespf", "1")]);
        i.ok(&["domain", "set", "example.com", "--greylisting", "yes"]);
        let mut config = std::fs::read_to_string(&i.config).unwrap();
        config.push_str(&format!("\n[dns]\nservers = [\"{}\"]\n", dns.addr));
        std::fs::write(&i.config, config).unwrap();
        let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
        let port = ports[0];
        let store = altimail_store::Store::open(&i.db.config, i.path("data"), false).await.unwrap();

        // 1. A new triplet: 451; again while blocked: 451, counted.
        let (rcpt, _) = rcpt_then_send(port, "a@fail.test", "one");
        assert!(rcpt.starts_with("451") && rcpt.contains("Please try again later."), "{e}: {rcpt}");
        let (rcpt, _) = rcpt_then_send(port, "a@fail.test", "one");
        assert!(rcpt.starts_with("451"), "{e}: {rcpt}");
        let rows = store
            .db
            .fetch_all("SELECT glblockedcount FROM hm_greylisting_triplets WHERE glsenderaddress = 'a@fail.test'", &[])
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{e}");
        assert_eq!(rows[0].int("glblockedcount").unwrap(), 2, "{e}");

        // 2. After the block end the same triplet passes and the message is delivered.
        store
            .db
            .execute("UPDATE hm_greylisting_triplets SET glblockendtime = glcreatetime WHERE glsenderaddress = 'a@fail.test'", &[])
            .await
            .unwrap();
        let (rcpt, end) = rcpt_then_send(port, "a@fail.test", "one");
        assert!(rcpt.starts_with("250") && end.starts_with("250"), "{e}: {rcpt} {end}");
        wait_inbox(&store, "john@example.com", 1).await;

        // 3. SPF pass bypasses greylisting; the SPF result asked for at RCPT is the one the
        // header reports (asked for once).
        let (rcpt, end) = rcpt_then_send(port, "b@pass.test", "two");
        assert!(rcpt.starts_with("250") && end.starts_with("250"), "{e}: {rcpt} {end}");
        let got = wait_inbox(&store, "john@example.com", 2).await;
        let text = std::fs::read_to_string(&got[1].1).unwrap();
        assert!(text.contains("spf=pass smtp.mailfrom=b@pass.test"), "{e}: {text}");
        let rows = store
            .db
            .fetch_all("SELECT glid FROM hm_greylisting_triplets WHERE glsenderaddress = 'b@pass.test'", &[])
            .await
            .unwrap();
        assert!(rows.is_empty(), "{e}");

        // 3b. A domain alias of a greylisted domain is greylisted too (the domain is found in
        // the server's directory index, which sees the new alias within two seconds).
        i.ok(&["domain", "alias", "add", "example.com", "example.net"]);
        settle_directory();
        let (rcpt, _) = rcpt_to_then_send(port, "d@fail.test", "john@example.net", "alias");
        assert!(rcpt.starts_with("451"), "{e}: {rcpt}");
        let rows = store
            .db
            .fetch_all(
                "SELECT glrecipientaddress FROM hm_greylisting_triplets WHERE glsenderaddress = 'd@fail.test'",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{e}");
        assert_eq!(rows[0].text("glrecipientaddress").unwrap(), "john@example.com", "{e}");

        // 4. Greylisting off for the domain: accepted at once (once the server has seen the
        // change).
        i.ok(&["domain", "set", "example.com", "--greylisting", "no"]);
        settle_directory();
        let (rcpt, end) = rcpt_then_send(port, "c@fail.test", "three");
        assert!(rcpt.starts_with("250") && end.starts_with("250"), "{e}: {rcpt} {end}");
        wait_inbox(&store, "john@example.com", 3).await;

        // 5. The null sender is greylisted after DATA, as in hMailServer: a bounce is not
        // refused recipient by recipient; its RCPT gets 250 and the end of its body 450.
        i.ok(&["domain", "set", "example.com", "--greylisting", "yes"]);
        settle_directory();
        let (rcpt, end) = rcpt_then_send(port, "", "bounce");
        assert!(rcpt.starts_with("250"), "{e}: {rcpt}");
        assert!(end.starts_with("450") && end.contains("Please try again later."), "{e}: {end}");
        let null_triplets = "SELECT glblockedcount FROM hm_greylisting_triplets WHERE glsenderaddress = ''";
        let rows = store.db.fetch_all(null_triplets, &[]).await.unwrap();
        assert_eq!(rows.len(), 1, "{e}");
        // Nothing of the refused bounce was stored.
        let queued = store.db.fetch_all("SELECT messageid FROM hm_messages WHERE messagetype = 1", &[]).await.unwrap();
        assert!(queued.is_empty(), "{e}");
        store
            .db
            .execute("UPDATE hm_greylisting_triplets SET glblockendtime = glcreatetime WHERE glsenderaddress = ''", &[])
            .await
            .unwrap();
        let (rcpt, end) = rcpt_then_send(port, "", "bounce");
        assert!(rcpt.starts_with("250") && end.starts_with("250"), "{e}: {rcpt} {end}");
        wait_inbox(&store, "john@example.com", 4).await;

        let logs = std::fs::read_dir(i.path("logs")).unwrap();
        let all: String =
            logs.filter_map(|f| std::fs::read_to_string(f.unwrap().path()).ok()).collect::<Vec<_>>().join("\n");
        assert!(all.contains("Greylisting: 127.0.0.1 from a@fail.test to john@example.com deferred"), "{e}: {all}");
        assert!(
            all.contains("Greylisting: 127.0.0.1 from <> to john@example.com deferred (answered after DATA)"),
            "{e}: {all}"
        );

        server.stop(Duration::from_secs(10));
        store.db.close().await;
    }
}

/// The text of the `n`-th delivered message (1-based) once it is there.
async fn nth(store: &altimail_store::Store, n: usize) -> String {
    let got = wait_inbox(store, "john@example.com", n).await;
    std::fs::read_to_string(&got[n - 1].1).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn spamassassin_over_smtp() {
    let Some(spamd) = altimail_testkit::peers::Spamd::start() else { return };
    let gtube = format!(
        "From: a@sa.test\r\nTo: john@example.com\r\nSubject: gtube\r\n\r\n{}\r\n",
        altimail_testkit::peers::GTUBE
    );
    for db in backends("spamassassin").await {
        let e = db.engine;
        let i = Install::new(db);
        let port_setting = spamd.port.to_string();
        example_com(
            &i,
            &[
                ("spamassassinenabled", "1"),
                ("spamassassinhost", "127.0.0.1"),
                ("spamassassinport", &port_setting),
                ("spamassassinscore", "5"),
                ("spammarkthreshold", "5"),
                ("spamdeletethreshold", "0"),
            ],
        );
        let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
        let port = ports[0];
        let store = altimail_store::Store::open(&i.db.config, i.path("data"), false).await.unwrap();

        // 1. GTUBE, no delete threshold: delivered, marked, with SpamAssassin's headers.
        let (data, end) = send(port, "a@sa.test", &gtube, false);
        assert!(data.starts_with("354") && end.starts_with("250"), "{e}: {data} {end}");
        let text = nth(&store, 1).await;
        assert!(text.contains("X-hMailServer-Spam: YES\r\n"), "{e}: {text}");
        assert!(text.contains("Tagged as Spam by SpamAssassin - (Score: 5)"), "{e}: {text}");
        assert!(text.contains("X-Spam-Status: Yes"), "{e}: {text}");
        assert!(text.contains("X-Spam-Flag: YES"), "{e}: {text}");

        // 2. An ordinary message: not marked.
        let (_, end) = send(port, "a@sa.test", &message("a@sa.test", "plain", ""), false);
        assert!(end.starts_with("250"), "{e}: {end}");
        let text = nth(&store, 2).await;
        assert!(!text.contains("X-hMailServer-Spam"), "{e}: {text}");
        assert!(text.contains("X-Spam-Status: No"), "{e}: {text}");

        // 2b. A body over 1 MiB (streamed to its file as it arrives) within antispammaxsize:
        // tested from its file at its end, stored as spamd returned it, marked.
        set(&i, "antispammaxsize", "4096");
        settle();
        let filler = ("f".repeat(76) + "\r\n").repeat(1536 * 1024 / 78);
        let large_gtube = format!(
            "From: a@sa.test\r\nTo: john@example.com\r\nSubject: large gtube\r\n\r\n{}\r\n{filler}",
            altimail_testkit::peers::GTUBE
        );
        let (_, end) = send(port, "a@sa.test", &large_gtube, false);
        assert!(end.starts_with("250"), "{e}: {end}");
        let text = nth(&store, 3).await;
        assert!(text.contains("X-hMailServer-Spam: YES"), "{e}: {}", &text[..2000.min(text.len())]);
        assert!(text.contains("X-Spam-Flag: YES"), "{e}");
        assert!(text.len() > 1536 * 1024 - 4096, "{e}: {} octets", text.len());
        // ... and over antispammaxsize: the post-transmission tests are skipped.
        set(&i, "antispammaxsize", "1024");
        settle();
        let (_, end) = send(port, "a@sa.test", &large_gtube, false);
        assert!(end.starts_with("250"), "{e}: {end}");
        let text = nth(&store, 4).await;
        assert!(!text.contains("X-Spam-Flag") && !text.contains("X-hMailServer-Spam"), "{e}");
        assert!(text.contains("Subject: large gtube\r\n"), "{e}");
        assert!(text.ends_with(&filler), "{e}");

        // 3. Delete threshold at spamassassinscore: refused after the body.
        set(&i, "spamdeletethreshold", "5");
        settle();
        let (data, end) = send(port, "a@sa.test", &gtube, false);
        assert!(data.starts_with("354"), "{e}: {data}");
        assert!(end.starts_with("554") && end.contains("Tagged as Spam by SpamAssassin"), "{e}: {end}");

        // 4. spamd unreachable: accepted unscored, hMailServer's error text in the log.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = closed.local_addr().unwrap().port().to_string();
        drop(closed);
        set(&i, "spamassassinport", &dead);
        settle();
        let (_, end) = send(port, "a@sa.test", &gtube, false);
        assert!(end.starts_with("250"), "{e}: {end}");
        let text = nth(&store, 5).await;
        assert!(!text.contains("X-hMailServer-Spam"), "{e}: {text}");
        let logs = std::fs::read_dir(i.path("logs")).unwrap();
        let all: String =
            logs.filter_map(|f| std::fs::read_to_string(f.unwrap().path()).ok()).collect::<Vec<_>>().join("\n");
        assert!(all.contains("The SpamAssassin tests did not complete."), "{e}: {all}");

        server.stop(Duration::from_secs(10));
        store.db.close().await;
    }
}

const SPAM_WORDS: &[&str] = &[
    "cheap", "pills", "viagra", "casino", "bonus", "prize", "winner", "click", "offer", "discount", "pharmacy", "free",
];
const HAM_WORDS: &[&str] =
    &["meeting", "project", "tuesday", "minutes", "report", "agenda", "regards", "colleagues", "schedule", "budget"];

/// A message made of `words`, varied by `n`.
fn corpus_message(words: &[&str], n: usize) -> String {
    let body: Vec<&str> = (0..40).map(|k| words[(k * 7 + n) % words.len()]).collect();
    format!(
        "From: s{n}@corpus.test\r\nTo: john@example.com\r\nSubject: {} {}\r\nMessage-ID: <{n}.{}@corpus.test>\r\n\r\n{}\r\n",
        words[n % words.len()],
        words[(n + 3) % words.len()],
        words[0],
        body.join(" ")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bayes_over_smtp() {
    for db in backends("bayes-smtp").await {
        let e = db.engine;
        let i = Install::new(db);
        example_com(&i, &[("altimailbayesenabled", "1")]);
        let dir = i.path("corpus");
        std::fs::create_dir_all(&dir).unwrap();
        for (class, words) in [("spam", SPAM_WORDS), ("ham", HAM_WORDS)] {
            let mut args = vec!["bayes".to_owned(), "train".to_owned(), format!("--{class}")];
            for n in 0..20 {
                let path = dir.join(format!("{class}{n}.eml"));
                std::fs::write(&path, corpus_message(words, n)).unwrap();
                args.push(path.to_string_lossy().into_owned());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            i.ok(&args);
        }
        let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
        let port = ports[0];
        let store = altimail_store::Store::open(&i.db.config, i.path("data"), false).await.unwrap();

        let spammy = "From: x@other.test\r\nTo: john@example.com\r\nSubject: cheap pills\r\n\r\ncheap viagra pills casino bonus, click for a free prize offer\r\n";
        let (_, end) = send(port, "x@other.test", spammy, false);
        assert!(end.starts_with("250"), "{e}: {end}");
        let text = nth(&store, 1).await;
        assert!(text.contains("X-hMailServer-Spam: YES"), "{e}: {text}");
        assert!(text.contains("X-hMailServer-Reason-1: Bayesian filter: spam probability"), "{e}: {text}");

        let hammy = "From: y@other.test\r\nTo: john@example.com\r\nSubject: project meeting\r\n\r\nthe project meeting on tuesday: agenda, minutes and budget report. regards\r\n";
        let (_, end) = send(port, "y@other.test", hammy, false);
        assert!(end.starts_with("250"), "{e}: {end}");
        let text = nth(&store, 2).await;
        assert!(!text.contains("X-hMailServer-Spam"), "{e}: {text}");

        server.stop(Duration::from_secs(10));
        store.db.close().await;
    }
}
