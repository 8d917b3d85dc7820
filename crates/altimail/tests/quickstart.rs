//! `altimail quickstart` end to end: run on a fresh installation, its printed DNS records
//! loaded into a test DNS server and checked (MX, SPF, and DKIM by verifying a message the
//! server signed and sent to a test peer), autoconfig and Autodiscover fetched with curl over
//! HTTP and HTTPS, a second run, and bad input.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use altimail_dns::HickoryDns;
use altimail_dns::testdns::{TestDns, Zone};
use altimail_testkit::ScratchDb;
use common::{Install, eventually, python};
use serde_json::Value;

/// A receiving SMTP server on `ip`:25 that keeps each message's data.
async fn peer(ip: &str) -> Arc<Mutex<Vec<String>>> {
    let listener = TcpListener::bind(format!("{ip}:25")).await.expect("bind port 25 (root needed)");
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let g = g.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 peer\r\n").await;
                let mut line = String::new();
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    let cmd = line.trim_end().to_ascii_uppercase();
                    let reply = if cmd.starts_with("EHLO") {
                        "250-peer\r\n250 8BITMIME\r\n"
                    } else if cmd == "DATA" {
                        let _ = w.write_all(b"354 go\r\n").await;
                        let mut data = String::new();
                        loop {
                            let mut l = String::new();
                            if r.read_line(&mut l).await.unwrap_or(0) == 0 || l == ".\r\n" {
                                break;
                            }
                            data.push_str(l.strip_prefix('.').unwrap_or(&l));
                        }
                        g.lock().unwrap().push(data);
                        "250 queued\r\n"
                    } else if cmd == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        "250 OK\r\n"
                    };
                    let _ = w.write_all(reply.as_bytes()).await;
                    line.clear();
                }
            });
        }
    });
    got
}

const SEND: &str = r#"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.login(sys.argv[2], sys.argv[3])
msg = ("From: Alice <%s>\r\nTo: <bob@peer.test>\r\nSubject: signed\r\n"
       "Message-ID: <quickstart@quick.test>\r\n\r\nHello from the quickstart.\r\n") % sys.argv[2]
s.sendmail(sys.argv[2], ["bob@peer.test"], msg)
s.quit()
"#;

const DKIM_VERIFY: &str = r#"
import sys, dkim
msg = open(sys.argv[1], "rb").read()
txt = open(sys.argv[2], "rb").read()
def dns(name, timeout=5):
    return txt if name.decode().rstrip(".") == sys.argv[3] else None
print("PASS" if dkim.verify(msg, dnsfunc=dns) else "FAIL")
"#;

fn records<'a>(report: &'a Value, kind: &str) -> Vec<(&'a str, &'a str)> {
    report["dns_records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == kind)
        .map(|r| (r["name"].as_str().unwrap(), r["value"].as_str().unwrap()))
        .collect()
}

fn curl(args: &[&str]) -> (bool, String) {
    let out = Command::new("curl").args(["-s", "-S", "-k", "--max-time", "20"]).args(args).output().expect("curl");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The text of the first `<name>` element after `after` in `xml`.
fn element<'a>(xml: &'a str, after: &str, name: &str) -> &'a str {
    let start = xml.find(after).unwrap_or_else(|| panic!("{after} in {xml}"));
    let rest = &xml[start..];
    let open = format!("<{name}>");
    let s = rest.find(&open).unwrap_or_else(|| panic!("{name} in {rest}")) + open.len();
    let e = rest[s..].find('<').unwrap() + s;
    &rest[s..e]
}

#[tokio::test(flavor = "multi_thread")]
async fn quickstart_output_publishes_working_records_and_clients_configure_themselves() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let i = Install::new(ScratchDb::sqlite());
    // A fresh installation: no `init` first, and no standard input.
    let report: Value = i.json(&["quickstart", "alice@quick.test"]);
    assert_eq!(report["hostname"], "mail.quick.test", "{report}");
    assert_eq!(report["address"], "alice@quick.test");
    let password = report["password"].as_str().expect("a generated password").to_owned();
    assert!(password.len() >= 16, "{password}");
    assert_eq!(i.json(&["setting", "get", "hostname"])["string"], "mail.quick.test");

    // The records, loaded into the test DNS server.
    let mx = records(&report, "MX");
    assert_eq!(mx, [("quick.test.", "10 mail.quick.test.")], "the MX points at the host name");
    let txt = records(&report, "TXT");
    let spf = txt.iter().find(|(n, v)| *n == "quick.test." && v.starts_with("v=spf1")).expect("SPF").1;
    mail_auth::spf::Spf::parse(spf.as_bytes()).unwrap_or_else(|e| panic!("SPF {spf:?} does not parse: {e}"));
    let (dkim_name, dkim_txt) = *txt.iter().find(|(n, _)| n.contains("._domainkey.")).expect("DKIM record");
    assert_eq!(dkim_name, "altimail._domainkey.quick.test.");
    use mail_auth::common::parse::TxtRecordParser;
    mail_auth::common::verify::DomainKey::parse(dkim_txt.as_bytes()).expect("the DKIM record parses");
    let dmarc = txt.iter().find(|(n, _)| *n == "_dmarc.quick.test.").expect("DMARC").1;
    assert!(dmarc.starts_with("v=DMARC1; p="), "{dmarc}");
    let cnames = records(&report, "CNAME");
    assert!(cnames.contains(&("autoconfig.quick.test.", "mail.quick.test.")), "{cnames:?}");
    assert!(cnames.contains(&("autodiscover.quick.test.", "mail.quick.test.")), "{cnames:?}");
    let srv = records(&report, "SRV");
    assert!(srv.contains(&("_autodiscover._tcp.quick.test.", "0 1 443 mail.quick.test.")), "{srv:?}");
    assert!(srv.contains(&("_imaps._tcp.quick.test.", "0 1 993 mail.quick.test.")), "{srv:?}");
    assert!(srv.contains(&("_submissions._tcp.quick.test.", "0 1 465 mail.quick.test.")), "{srv:?}");
    // Client settings from the new installation's ports; the login is the full address.
    let clients: Vec<(String, u64, String)> = report["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["login"], "alice@quick.test");
            assert_eq!(c["host"], "mail.quick.test");
            (
                c["protocol"].as_str().unwrap().to_owned(),
                c["port"].as_u64().unwrap(),
                c["security"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        clients,
        [
            ("imap".to_owned(), 993, "TLS".to_owned()),
            ("pop3".to_owned(), 995, "TLS".to_owned()),
            ("smtp (submission)".to_owned(), 465, "TLS".to_owned())
        ]
    );
    assert_eq!(report["certificate"]["self_signed"], true);
    assert!(report["certificate"]["certificate"].as_str().unwrap().ends_with("certificates/self-signed.crt"));
    let key_file = report["dkim_key_file"].as_str().unwrap();
    assert!(std::path::Path::new(key_file).starts_with(i.path("data")), "{key_file}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(key_file).unwrap().permissions().mode() & 0o077, 0, "the key is private");

    let mut zone = Zone::new()
        .ip("mail.quick.test", "127.0.0.1")
        .mx("peer.test", 10, "mx.peer.test")
        .ip("mx.peer.test", "127.0.5.2");
    for (name, value) in &mx {
        let (pref, host) = value.split_once(' ').unwrap();
        zone = zone.mx(name, pref.parse().unwrap(), host);
    }
    for (name, value) in &txt {
        zone = zone.txt(name, value);
    }
    for (name, target) in &cnames {
        zone = zone.cname(name, target);
    }
    for (name, value) in &srv {
        let fields: Vec<&str> = value.split(' ').collect();
        let [priority, weight, port, target] = fields[..] else { panic!("SRV {value:?}") };
        zone = zone.srv(name, priority.parse().unwrap(), weight.parse().unwrap(), port.parse().unwrap(), target);
    }
    let dns = TestDns::start(zone).await.unwrap();
    let resolver = HickoryDns::resolver(&[dns.addr]);
    let mx_hosts = resolver.mx("quick.test").await.unwrap();
    assert_eq!(mx_hosts, [(10, "mail.quick.test".to_owned())]);
    assert_eq!(resolver.a(&mx_hosts[0].1).await.unwrap(), ["127.0.0.1".parse::<std::net::Ipv4Addr>().unwrap()]);
    let published = resolver.txt("altimail._domainkey.quick.test").await.unwrap();
    assert_eq!(published, [dkim_txt.to_owned()]);
    // The client-discovery names lead to the mail host: CNAMEs resolve to its address, and each
    // SRV record names it with the port of its service.
    for alias in ["autoconfig.quick.test", "autodiscover.quick.test"] {
        let got = resolver.a(alias).await.unwrap_or_else(|e| panic!("{alias}: {e}"));
        assert_eq!(got, ["127.0.0.1".parse::<std::net::Ipv4Addr>().unwrap()], "{alias}");
    }
    let (_, handle) = HickoryDns::resolver_and_handle(&[dns.addr]);
    let handle = handle.expect("a resolver for the test DNS server");
    for (service, port) in [("_autodiscover._tcp", 443), ("_imaps._tcp", 993), ("_submissions._tcp", 465)] {
        let owner = format!("{service}.quick.test.");
        let found = handle.srv_lookup(owner.as_str()).await.unwrap_or_else(|e| panic!("{owner}: {e}"));
        // The answers in zone-file form, as quickstart prints them.
        let answers: Vec<String> = found.answers().iter().map(|r| r.data.to_string()).collect();
        assert_eq!(answers, [format!("0 1 {port} mail.quick.test.")], "{owner}");
    }

    // The server, with the test DNS; mail from alice goes out signed.
    let mut config = std::fs::read_to_string(&i.config).unwrap();
    config.push_str(&format!("\n[dns]\nservers = [\"{}\"]\n", dns.addr));
    std::fs::write(&i.config, config).unwrap();
    let delivered = peer("127.0.5.2").await;
    let (mut server, ports) =
        i.serve_on(&[("smtp", "none"), ("imap", "tls"), ("smtp", "starttls"), ("http", "none"), ("http", "tls")]);
    let (smtp, imap, submission, http, https) = (ports[0], ports[1], ports[2], ports[3], ports[4]);
    let (pw, port) = (password.clone(), smtp.to_string());
    let (code, out, err) =
        tokio::task::spawn_blocking(move || python(SEND, &[&port, "alice@quick.test", &pw])).await.unwrap();
    assert_eq!(code, 0, "{out}{err}");
    let got = delivered.clone();
    tokio::task::spawn_blocking(move || {
        eventually("bob@peer.test receives the mail", || !got.lock().unwrap().is_empty())
    })
    .await
    .unwrap();
    let message = delivered.lock().unwrap()[0].clone();
    assert!(message.contains("DKIM-Signature:") && message.contains("s=altimail"), "{message}");
    if altimail_testkit::have_python_module("dkim", "python3 -m pip install dkimpy") {
        let dir = tempfile::tempdir().unwrap();
        let (m, t) = (dir.path().join("m.eml"), dir.path().join("txt"));
        std::fs::write(&m, &message).unwrap();
        std::fs::write(&t, &published[0]).unwrap();
        let (code, out, err) =
            python(DKIM_VERIFY, &[m.to_str().unwrap(), t.to_str().unwrap(), "altimail._domainkey.quick.test"]);
        assert_eq!((code, out.trim()), (0, "PASS"), "dkimpy: {err}\n{message}");
    }

    // Autoconfig (Thunderbird) over HTTP and HTTPS names the host and the configured ports.
    for url in [
        format!("http://127.0.0.1:{http}/mail/config-v1.1.xml?emailaddress=alice%40quick.test"),
        format!("https://127.0.0.1:{https}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice@quick.test"),
    ] {
        let (ok, xml) = curl(&[&url]);
        assert!(ok, "{url}: {xml}");
        assert_eq!(element(&xml, "<incomingServer type=\"imap\">", "hostname"), "mail.quick.test", "{xml}");
        assert_eq!(element(&xml, "<incomingServer type=\"imap\">", "port"), imap.to_string(), "{xml}");
        assert_eq!(element(&xml, "<incomingServer type=\"imap\">", "socketType"), "SSL", "{xml}");
        assert_eq!(element(&xml, "<outgoingServer type=\"smtp\">", "port"), submission.to_string(), "{xml}");
        assert_eq!(element(&xml, "<outgoingServer type=\"smtp\">", "socketType"), "STARTTLS", "{xml}");
        assert_eq!(element(&xml, "<incomingServer type=\"imap\">", "username"), "%EMAILADDRESS%");
    }
    // The domain from the Host header (autoconfig.<domain>), as Thunderbird asks it.
    let (ok, xml) =
        curl(&["-H", "Host: autoconfig.quick.test", &format!("http://127.0.0.1:{http}/mail/config-v1.1.xml")]);
    assert!(ok && xml.contains("<domain>quick.test</domain>"), "{xml}");
    let (_, not_ours) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("http://127.0.0.1:{http}/mail/config-v1.1.xml?emailaddress=x@elsewhere.test"),
    ]);
    assert_eq!(not_ours, "404");

    // Autodiscover (Outlook): POST with the request schema.
    let request = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
        <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\
        <Request><EMailAddress>alice@quick.test</EMailAddress>\
        <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>\
        </Request></Autodiscover>";
    let (ok, xml) = curl(&[
        "-H",
        "Content-Type: text/xml",
        "--data-binary",
        request,
        &format!("https://127.0.0.1:{https}/autodiscover/autodiscover.xml"),
    ]);
    assert!(ok, "{xml}");
    assert_eq!(element(&xml, "<Type>IMAP</Type>", "Server"), "mail.quick.test", "{xml}");
    assert_eq!(element(&xml, "<Type>IMAP</Type>", "Port"), imap.to_string(), "{xml}");
    assert_eq!(element(&xml, "<Type>IMAP</Type>", "SSL"), "on", "{xml}");
    assert_eq!(element(&xml, "<Type>IMAP</Type>", "LoginName"), "alice@quick.test", "{xml}");
    assert_eq!(element(&xml, "<Type>SMTP</Type>", "Port"), submission.to_string(), "{xml}");
    assert_eq!(element(&xml, "<Type>SMTP</Type>", "Encryption"), "TLS", "{xml}");
    assert!(!xml.contains("<Type>POP3</Type>"), "no POP3 port is configured: {xml}");
    // Bounded and careful: an oversized body, a DTD, and a wrong method are refused.
    let status = |args: &[&str]| {
        let mut all = vec!["-o", "/dev/null", "-w", "%{http_code}"];
        all.extend_from_slice(args);
        curl(&all).1
    };
    let url = format!("http://127.0.0.1:{http}/autodiscover/autodiscover.xml");
    let big =
        format!("<Autodiscover><EMailAddress>alice@quick.test</EMailAddress>{}</Autodiscover>", " ".repeat(100_000));
    assert_eq!(status(&["--data-binary", &big, &url]), "413");
    let dtd =
        "<!DOCTYPE a [<!ENTITY e \"alice@quick.test\">]><Autodiscover><EMailAddress>&e;</EMailAddress></Autodiscover>";
    assert_eq!(status(&["--data-binary", dtd, &url]), "400");
    assert_eq!(status(&[&url]), "405");
    let big_header = format!("X-Filler: {}", "a".repeat(20_000));
    assert_eq!(status(&["-H", &big_header, &url]), "431");
    assert_eq!(status(&[&format!("http://127.0.0.1:{http}/nothing")]), "404");

    server.stop(std::time::Duration::from_secs(30));
}

/// On every database engine: the schema is created on an empty database, as `serve` does.
#[tokio::test(flavor = "multi_thread")]
async fn quickstart_twice_creates_nothing_twice_and_bad_input_is_refused() {
    for db in altimail_testkit::backends("quickstart").await {
        let i = Install::new(db);
        let first =
            i.ok(&["quickstart", "bob@twice.test", "--password", "a good password", "--hostname", "mx.twice.test"]);
        assert!(first.contains("bob@twice.test") && first.contains("mx.twice.test"), "{first}");
        assert!(first.contains("10 mx.twice.test."), "{first}");
        assert!(first.contains("v=DKIM1; k=rsa; p="), "{first}");
        assert!(first.contains("full address"), "{first}");
        assert!(!first.contains("a good password"), "a given password is not echoed: {first}");
        let key_file = i.json(&["domain", "show", "twice.test"])["dkim_private_key_file"].as_str().unwrap().to_owned();
        let key = std::fs::read(&key_file).unwrap();

        // Again, with the same password: refused, nothing changed.
        let err = i.fails(&["quickstart", "bob@twice.test", "--password", "another one"]);
        assert!(err.contains("already exists"), "{err}");
        // Again without a password: the same records and key, with notes; nothing new.
        let again: Value = i.json(&["quickstart", "bob@twice.test"]);
        assert_eq!(again["password"], Value::Null);
        assert_eq!(again["hostname"], "mx.twice.test");
        let notes = again["notes"].to_string();
        assert!(notes.contains("already existed"), "{notes}");
        assert!(notes.contains("DKIM key already existed"), "{notes}");
        assert_eq!(std::fs::read(&key_file).unwrap(), key, "no second key");
        assert_eq!(i.json(&["domain", "list"]).as_array().unwrap().len(), 1);
        assert_eq!(i.json(&["account", "list"]).as_array().unwrap().len(), 1);
        i.ok(&["account", "check-password", "bob@twice.test", "--password", "a good password"]);
        // A second account of the same domain reuses the domain and its key.
        let second: Value = i.json(&["quickstart", "carol@twice.test", "--dkim-selector", "other"]);
        assert!(second["password"].as_str().is_some());
        assert_eq!(second["dkim_key_file"], key_file);
        assert!(second["notes"].to_string().contains("no second key"), "{second}");
        assert_eq!(i.json(&["account", "list"]).as_array().unwrap().len(), 2);

        // The domain removed, its key file stays: quickstart again takes that key and completes.
        i.ok(&["domain", "remove", "twice.test", "--force"]);
        assert!(std::path::Path::new(&key_file).is_file(), "removing a domain leaves the server's key folder alone");
        let again: Value = i.json(&["quickstart", "dave@twice.test"]);
        assert_eq!(again["dkim_key_file"], key_file);
        assert!(again["notes"].to_string().contains("already there is used"), "{again}");
        assert_eq!(std::fs::read(&key_file).unwrap(), key, "the same key");
        i.ok(&["domain", "remove", "twice.test", "--force"]);

        for (args, expected) in [
            (vec!["quickstart", "not-an-address"], "not an e-mail address"),
            (vec!["quickstart", "root@localhost"], "not a DNS name"),
            (vec!["quickstart", "x@bad_domain.test"], ""),
            (vec!["quickstart", "x@new.test", "--hostname", "bad host"], "--hostname"),
            (vec!["quickstart", "x@new.test", "--dkim-selector", "a.b"], "--dkim-selector"),
            (vec!["quickstart", "x@new.test", "--password", ""], "empty"),
        ] {
            let err = i.fails(&args);
            assert!(err.contains(expected), "{args:?}: {err}");
        }
        assert_eq!(i.json(&["domain", "list"]).as_array().unwrap().len(), 0, "bad input created nothing");
        let (code, _, err) = i.run(&["quickstart"]);
        assert_eq!(code, 1, "{err}");
        i.db.cleanup().await;
    }
}
