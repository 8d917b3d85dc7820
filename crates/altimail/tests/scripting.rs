//! Event scripts end to end on every engine: an `EventHandlers.vbs` in the events folder,
//! `usescriptserver` on, `altimail serve`, clients on real sockets. Each wired event and each
//! Result code: OnClientConnect (SMTP, POP3), OnHELO (1, 2, 3), OnClientLogon (SMTP, POP3),
//! OnTooManyInvalidCommands, OnDeliveryFailed, OnRecipientUnknown,
//! OnSMTPData (2), OnAcceptMessage (1, 2, 3, Save with a header and an added recipient, a
//! runtime error and a runaway loop that do not lose the message), OnDeliveryStart and
//! OnDeliverMessage (1 deletes, Save changes the delivered message), the rule action "run
//! function", EventLog.Write, reloading a changed file. And a whole typical published script
//! (spam tagging with logging).

mod common;

use std::time::Duration;

use altimail_store::Store;
use altimail_testkit::{ScratchDb, backends};
use common::{Install, LineClient, example_com, inbox, wait_inbox};

const SCRIPT: &str = r#"Option Explicit

Sub OnClientConnect(oClient)
   EventLog.Write "connect " & oClient.IPAddress & " session " & (oClient.SessionID > 0)
End Sub

Sub OnHELO(oClient)
   Select Case oClient.HELO
      Case "reject1.test"
         Result.Value = 1
      Case "reject2.test"
         Result.Value = 2
         Result.Message = "Go away"
      Case "later.test"
         Result.Value = 3
         Result.Message = "Try later"
   End Select
End Sub

Sub OnClientLogon(oClient)
   EventLog.Write "logon " & oClient.Username & " " & oClient.Authenticated & " " & oClient.Port
End Sub

Sub OnRecipientUnknown(oClient, oMessage)
   EventLog.Write "unknown " & oMessage.Recipients(oMessage.Recipients.Count - 1).Address
End Sub

Sub OnSMTPData(oClient, oMessage)
   If oMessage.FromAddress = "nodata@remote.test" Then
      Result.Value = 2
      Result.Message = "No data from you"
   End If
End Sub

Sub OnAcceptMessage(oClient, oMessage)
   Dim x
   Select Case oMessage.Subject
      Case "reject1"
         Result.Value = 1
      Case "reject2"
         Result.Value = 2
         Result.Message = "Content refused"
      Case "reject3"
         Result.Value = 3
         Result.Message = "Come back later"
      Case "error"
         Result.Value = 2
         x = 1 / 0
      Case "loop"
         Result.Value = 2
         Do
         Loop
      Case "tag"
         oMessage.HeaderValue("X-Accepted-By") = oClient.HELO & " " & oMessage.Recipients.Count
         oMessage.AddRecipient "Anna", "anna@example.com"
         oMessage.Save
      Case "unsaved"
         oMessage.HeaderValue("X-Unsaved") = "1"
   End Select
End Sub

Sub OnDeliveryStart(oMessage)
   If oMessage.Subject = "vanish-start" Then Result.Value = 1
End Sub

Sub OnDeliverMessage(oMessage)
   If oMessage.Subject = "vanish" Then Result.Value = 1
   If oMessage.Subject = "stamp" Then
      oMessage.HeaderValue("X-Delivered-By") = "script " & oMessage.FromAddress
      oMessage.Save
   End If
End Sub

Sub OnTooManyInvalidCommands(oClient, oMessage)
   EventLog.Write "too many invalid commands from " & oClient.IPAddress
End Sub

Sub OnDeliveryFailed(oMessage, sRecipient, sErrorMessage)
   EventLog.Write "failed " & sRecipient & " " & (InStr(sErrorMessage, "550") > 0) & " " & oMessage.Subject
End Sub

Sub MyFunction(oMessage)
   oMessage.HeaderValue("X-Rule-Function") = "ran"
   oMessage.Save
End Sub
"#;

/// One SMTP transaction on a raw socket; returns the reply to the last step that was reached
/// (HELO, MAIL, RCPT, DATA or the end of the data).
fn transaction(port: u16, helo: &str, sender: &str, rcpt: &str, subject: &str) -> String {
    let (mut c, greeting) = LineClient::connect(port);
    assert!(greeting.starts_with("220"), "{greeting}");
    let reply = c.ask(&format!("HELO {helo}"));
    if !reply.starts_with("250") {
        return reply;
    }
    let reply = c.ask(&format!("MAIL FROM:<{sender}>"));
    if !reply.starts_with("250") {
        return reply;
    }
    let reply = c.ask(&format!("RCPT TO:<{rcpt}>"));
    if !reply.starts_with("250") {
        return reply;
    }
    let reply = c.ask("DATA");
    if !reply.starts_with("354") {
        return reply;
    }
    let end = c.ask(&format!("From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n\r\nHello.\r\n."));
    let _ = c.ask("QUIT");
    end
}

fn sent(port: u16, subject: &str) -> String {
    transaction(port, "client.test", "sender@remote.test", "john@example.com", subject)
}

fn events_log(i: &Install) -> String {
    let bytes = std::fs::read(i.path("logs/hmailserver_events.log")).unwrap_or_default();
    let units: Vec<u16> =
        bytes.get(2..).unwrap_or_default().chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16_lossy(&units)
}

fn error_log(i: &Install) -> String {
    let name = format!("ERROR_hmailserver_{}.log", chrono::Local::now().format("%Y-%m-%d"));
    std::fs::read_to_string(i.path("logs").join(name)).unwrap_or_default()
}

async fn texts(store: &Store, address: &str) -> Vec<String> {
    inbox(store, address).await.iter().map(|(_, p)| std::fs::read_to_string(p).unwrap_or_default()).collect()
}

fn with_subject<'a>(texts: &'a [String], subject: &str) -> Vec<&'a String> {
    let line = format!("Subject: {subject}\r\n");
    texts.iter().filter(|t| t.contains(&line)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_on_every_engine() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    for db in backends("scripting_e2e").await {
        scenario(db).await;
    }
}

async fn scenario(db: ScratchDb) {
    let e = db.engine;
    let i = Install::new(db);
    example_com(&i, &[("usescriptserver", "1"), ("disconnectinvalidclients", "1"), ("maximumincorrectcommands", "3")]);
    i.ok(&["account", "add", "anna@example.com", "--password", "secret-pw"]);
    i.ok(&["setting", "set", "altimailscripttimeoutms", "500", "--create"]);
    let rule = i.json(&["rule", "add", "script", "--account", "john@example.com"])["id"].to_string();
    i.ok(&["rule", "criterion", "add", &rule, "subject", "contains", "[script]"]);
    i.ok(&["rule", "action", "add", &rule, "run-function", "MyFunction"]);
    std::fs::create_dir_all(i.path("events")).unwrap();
    std::fs::write(i.path("events/EventHandlers.vbs"), SCRIPT).unwrap();
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    // far.test goes to a peer that refuses every recipient: OnDeliveryFailed.
    let peer = refusing_peer().await;
    store
        .db
        .execute(
            "INSERT INTO hm_routes (routedomainname, routedescription, routetargetsmthost, routetargetsmtport, \
             routenooftries, routeminutesbetweentry, routealladdresses, routeuseauthentication, \
             routeauthenticationusername, routeauthenticationpassword, routetreatsecurityaslocal, \
             routeconnectionsecurity, routetreatsenderaslocaldomain) \
             VALUES ('far.test', 'refusing peer', '127.0.0.1', ?, 0, 1, 1, 0, '', '', 0, 0, 0)",
            &[i64::from(peer).into()],
        )
        .await
        .unwrap();
    let (mut server, ports) = i.serve_on(&[("smtp", "none"), ("pop3", "none")]);
    let (smtp, pop3) = (ports[0], ports[1]);

    // OnHELO: each Result code; the session goes on after a refused HELO.
    assert!(transaction(smtp, "reject1.test", "", "", "").starts_with("554 5.7.1 Rejected"), "{e}");
    assert!(transaction(smtp, "reject2.test", "", "", "").starts_with("554 5.7.1 Go away"), "{e}");
    assert!(transaction(smtp, "later.test", "", "", "").starts_with("453 4.7.1 Try later"), "{e}");
    let (mut c, _) = LineClient::connect(smtp);
    assert!(c.ask("EHLO later.test").starts_with("453"), "{e}");
    assert!(c.ask("HELO fine.test").starts_with("250"), "{e}");
    let _ = c.ask("QUIT");

    // OnTooManyInvalidCommands: the fourth invalid command ends the session.
    let (mut c, _) = LineClient::connect(smtp);
    for _ in 0..3 {
        assert!(c.ask("BOGUS").starts_with("5"), "{e}");
    }
    c.send("BOGUS\r\n");
    // The last 5xx, the closing 421, then the end of the stream.
    while !c.try_line().unwrap_or_default().is_empty() {}
    common::eventually("OnTooManyInvalidCommands", || {
        events_log(&i).contains("too many invalid commands from 127.0.0.1")
    });

    // OnSMTPData: refused before 354.
    let r = transaction(smtp, "client.test", "nodata@remote.test", "john@example.com", "x");
    assert!(r.starts_with("554 5.7.1 No data from you"), "{e}: {r}");

    // OnRecipientUnknown.
    let r = transaction(smtp, "client.test", "sender@remote.test", "nobody@example.com", "x");
    assert!(r.starts_with("550"), "{e}: {r}");

    // OnAcceptMessage: each Result code refuses, nothing is stored.
    assert!(sent(smtp, "reject1").starts_with("554 5.7.1 Rejected"), "{e}");
    assert!(sent(smtp, "reject2").starts_with("554 5.7.1 Content refused"), "{e}");
    assert!(sent(smtp, "reject3").starts_with("453 4.7.1 Come back later"), "{e}");
    // A script that fails or runs past its budget does not decide anything: accepted.
    for subject in ["error", "loop", "tag", "unsaved", "stamp", "vanish", "vanish-start", "[script] rule", "last"] {
        let r = sent(smtp, subject);
        assert!(r.starts_with("250"), "{e}: {subject}: {r}");
    }
    // OnClientLogon over SMTP AUTH, and a message to far.test that fails there.
    let (code, out, err) = common::python(
        "import smtplib,sys\ns=smtplib.SMTP('127.0.0.1',int(sys.argv[1]),timeout=20)\ns.login('john@example.com','secret-pw')\n\
         s.sendmail('john@example.com',['x@far.test'],b'From: <john@example.com>\\r\\nSubject: far\\r\\n\\r\\nHi.\\r\\n')\ns.quit()",
        &[&smtp.to_string()],
    );
    assert_eq!(code, 0, "{e}: {out}{err}");

    // OnClientLogon over POP3, failed and successful.
    let (mut c, greeting) = LineClient::connect(pop3);
    assert!(greeting.starts_with("+OK"), "{e}: {greeting}");
    assert!(c.ask("USER john@example.com").starts_with("+OK"), "{e}");
    assert!(c.ask("PASS wrong").starts_with("-ERR"), "{e}");
    assert!(c.ask("USER john@example.com").starts_with("+OK"), "{e}");
    assert!(c.ask("PASS secret-pw").starts_with("+OK"), "{e}");
    let _ = c.ask("QUIT");

    // Delivered: error, loop, tag, unsaved, stamp, [script] rule, last (not vanish, vanish-start).
    wait_inbox(&store, "john@example.com", 7).await;
    let anna = wait_inbox(&store, "anna@example.com", 1).await;
    let john = texts(&store, "john@example.com").await;
    let last = with_subject(&john, "last");
    assert_eq!(last.len(), 1, "{e}");
    for gone in ["vanish", "vanish-start", "reject1", "reject2", "reject3"] {
        assert!(with_subject(&john, gone).is_empty(), "{e}: {gone} was delivered");
    }
    assert_eq!(with_subject(&john, "error").len(), 1, "{e}");
    assert_eq!(with_subject(&john, "loop").len(), 1, "{e}");
    let tagged = with_subject(&john, "tag");
    assert!(tagged[0].contains("X-Accepted-By: client.test 1\r\n"), "{e}: {}", tagged[0]);
    let anna_text = std::fs::read_to_string(&anna[0].1).unwrap();
    assert!(anna_text.contains("X-Accepted-By: client.test 1\r\n"), "{e}: {anna_text}");
    assert!(!with_subject(&john, "unsaved")[0].contains("X-Unsaved"), "{e}");
    let stamped = with_subject(&john, "stamp");
    assert!(stamped[0].contains("X-Delivered-By: script sender@remote.test\r\n"), "{e}: {}", stamped[0]);
    let ruled = with_subject(&john, "[script] rule");
    assert!(ruled[0].contains("X-Rule-Function: ran\r\n"), "{e}: {}", ruled[0]);
    assert!(!last[0].contains("X-Rule-Function"), "{e}");

    // The events log and the error log.
    common::eventually("events log", || events_log(&i).contains(&format!("logon john@example.com True {pop3}")));
    let log = events_log(&i);
    assert!(log.contains(&format!("\"logon john@example.com True {smtp}\"")), "{e}: {log}");
    assert!(log.contains(&format!("\"logon john@example.com False {pop3}\"")), "{e}: {log}");
    assert!(log.contains("\"connect 127.0.0.1 session True\""), "{e}: {log}");
    assert!(log.contains("\"unknown nobody@example.com\""), "{e}: {log}");
    common::eventually("OnDeliveryFailed", || events_log(&i).contains("\"failed x@far.test True far\""));
    common::eventually("error log", || error_log(&i).contains("budget exceeded"));
    let errors = error_log(&i);
    assert!(errors.contains("Code: HM4500"), "{e}: {errors}");
    assert!(errors.contains("Division by zero - Line: 48"), "{e}: {errors}");

    // A changed file is used from the next event on.
    std::fs::write(
        i.path("events/EventHandlers.vbs"),
        "Sub OnHELO(oClient)\r\n Result.Value = 3 : Result.Message = \"Reloaded\"\r\nEnd Sub\r\n",
    )
    .unwrap();
    common::eventually("reload", || transaction(smtp, "any.test", "", "", "").starts_with("453 4.7.1 Reloaded"));

    // OnClientConnect: Result 1 closes the connection before the greeting.
    std::fs::write(
        i.path("events/EventHandlers.vbs"),
        "Sub OnClientConnect(oClient)\r\n Result.Value = 1\r\nEnd Sub\r\n' closes every connection\r\n",
    )
    .unwrap();
    let greeting = |port: u16| {
        use std::io::Read;
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut got = Vec::new();
        let _ = (&stream).read_to_end(&mut got);
        String::from_utf8_lossy(&got).into_owned()
    };
    common::eventually("connection closed by the script", || greeting(smtp).is_empty());
    assert!(greeting(pop3).is_empty(), "{e}");

    server.stop(Duration::from_secs(20));
    store.db.close().await;
}

/// A whole script of the kind administrators publish: spam words in the subject are scored,
/// the message is tagged and saved, and a line goes to the events log.
#[tokio::test(flavor = "multi_thread")]
async fn published_spam_tagging_script() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let i = Install::new(ScratchDb::sqlite());
    example_com(&i, &[("usescriptserver", "1")]);
    std::fs::create_dir_all(i.path("events")).unwrap();
    std::fs::write(
        i.path("events/EventHandlers.vbs"),
        include_str!("../../vbscript-engine/tests/scripts/spam_tagging.vbs"),
    )
    .unwrap();
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    assert!(sent(ports[0], "You are a WINNER of our lottery").starts_with("250"));
    assert!(sent(ports[0], "Meeting notes").starts_with("250"));
    wait_inbox(&store, "john@example.com", 2).await;
    let john = texts(&store, "john@example.com").await;
    let spam = with_subject(&john, "[SPAM] You are a WINNER of our lottery");
    assert_eq!(spam.len(), 1, "{john:?}");
    assert!(spam[0].contains("X-Spam-Status: Yes, score=6\r\n"), "{}", spam[0]);
    let ham = with_subject(&john, "Meeting notes");
    assert!(!ham[0].contains("X-Spam-Status"), "{}", ham[0]);
    common::eventually("events log", || {
        events_log(&i).contains("\"Tagged message from <sender@remote.test> (score 6)\"")
    });
    server.stop(Duration::from_secs(20));
    store.db.close().await;
}

/// A peer on a free loopback port that answers 550 to every RCPT.
async fn refusing_peer() -> u16 {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 peer\r\n").await;
                let mut line = String::new();
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    let cmd = line.trim_end().to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-peer\r\n250 8BITMIME\r\n"
                    } else if cmd.starts_with("RCPT") {
                        b"550 5.1.1 No such user here\r\n"
                    } else if cmd == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else if cmd == "DATA" {
                        b"554 no valid recipients\r\n"
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = w.write_all(reply).await;
                    line.clear();
                }
            });
        }
    });
    port
}
