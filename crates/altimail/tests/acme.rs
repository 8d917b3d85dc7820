//! Certificates from an ACME CA: Pebble (Let's Encrypt's test CA, Debian's `pebble`) on
//! loopback, resolving the server's names through the test DNS server to 127.0.0.1 and
//! validating them on the server's own listeners: HTTP-01 on the plain `http` port, TLS-ALPN-01
//! on the implicit-TLS `http` port (what 443 is in production). The new certificate reaches
//! IMAPS and SMTPS while a session stays connected; a CA that does not answer is logged and the
//! certificate in place stays.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use altimail_dns::testdns::{TestDns, Zone};
use altimail_testkit::ScratchDb;
use common::{Install, Server, eventually_within, example_com, free_port, wait_listening};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

const NAMES: [&str; 2] = ["mail.example.com", "autoconfig.example.com"];

/// A Pebble process with its own configuration and HTTPS certificate; killed when dropped.
struct Pebble {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// The PEM of the CA that signed Pebble's HTTPS certificate (for `[acme] directory_ca`).
    https_ca: PathBuf,
    port: u16,
    management: u16,
    config: PathBuf,
    dns: String,
}

impl Pebble {
    /// Writes the configuration (validations go to `http_port` and `tls_port` on the address
    /// the DNS server at `dns` gives) without starting Pebble.
    fn configure(dns: &str, http_port: u16, tls_port: u16) -> Pebble {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Pebble HTTPS test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        let https_ca = dir.path().join("https-ca.pem");
        std::fs::write(&https_ca, ca.pem()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        let (port, management) = (free_port(), free_port());
        let config = dir.path().join("pebble.json");
        let json = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{port}"),
                "managementListenAddress": format!("127.0.0.1:{management}"),
                "certificate": dir.path().join("cert.pem"),
                "privateKey": dir.path().join("key.pem"),
                "httpPort": http_port,
                "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }
        });
        std::fs::write(&config, json.to_string()).unwrap();
        Pebble { child: None, dir, https_ca, port, management, config, dns: dns.to_owned() }
    }

    fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.port)
    }

    fn start(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("pebble.log")).unwrap();
        let child = Command::new("pebble")
            .args(["-config", self.config.to_str().unwrap(), "-dnsserver", &self.dns])
            // No artificial delays, no rejected nonces, and every order validated afresh.
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("pebble is installed (apt-get install pebble)");
        self.child = Some(child);
        wait_listening(self.port);
        wait_listening(self.management);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The root Pebble issues under (made at its start), from its management interface.
    fn issuing_root(&self) -> CertificateDer<'static> {
        let out = Command::new("curl")
            .args(["-sSf", "--cacert", self.https_ca.to_str().unwrap()])
            .arg(format!("https://127.0.0.1:{}/roots/0", self.management))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        CertificateDer::from_pem_slice(&out.stdout).unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The test DNS server, answering 127.0.0.1 for the names, on a runtime of its own.
fn dns() -> (tokio::runtime::Runtime, TestDns) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut zone = Zone::new();
    for name in NAMES {
        zone = zone.ip(name, "127.0.0.1");
    }
    let dns = runtime.block_on(TestDns::start(zone)).unwrap();
    (runtime, dns)
}

fn acme_section(pebble: &Pebble, challenge: &str) -> String {
    format!(
        "\n[acme]\nenabled = true\ndirectory = \"{}\"\ncontact = [\"postmaster@example.com\"]\nnames = [\"{}\", \"{}\"]\nchallenge = \"{challenge}\"\ndirectory_ca = \"{}\"\n",
        pebble.directory(),
        NAMES[0],
        NAMES[1],
        pebble.https_ca.display()
    )
}

fn append_config(i: &Install, text: &str) {
    let base = std::fs::read_to_string(&i.config).unwrap();
    std::fs::write(&i.config, format!("{base}{text}")).unwrap();
}

fn acme_file(i: &Install) -> PathBuf {
    i.path("data/certificates/acme.pem")
}

/// The leaf certificate of a PEM file.
fn leaf(path: &Path) -> CertificateDer<'static> {
    CertificateDer::pem_file_iter(path).unwrap().next().unwrap().unwrap()
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// An implicit-TLS session to `port` for `mail.example.com`, verified against `roots`; returns
/// the stream after the greeting (which must start with `greeting`) and the presented leaf.
fn connect(port: u16, roots: &[CertificateDer<'static>], greeting: &str) -> (BufReader<Tls>, CertificateDer<'static>) {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let name = ServerName::try_from(NAMES[0]).unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut reader = BufReader::new(rustls::StreamOwned::new(conn, tcp));
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with(greeting), "{line}");
    let presented = reader.get_ref().conn.peer_certificates().unwrap()[0].clone().into_owned();
    (reader, presented)
}

/// Sends one IMAP command and returns the lines up to its tagged answer.
fn imap(stream: &mut BufReader<Tls>, tagged: &str) -> String {
    stream.get_mut().write_all(format!("{tagged}\r\n").as_bytes()).unwrap();
    stream.get_mut().flush().unwrap();
    let tag = format!("{} ", tagged.split(' ').next().unwrap());
    let mut all = String::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "connection closed: {all}");
        all.push_str(&line);
        if line.starts_with(&tag) {
            return all;
        }
    }
}

/// A self-signed certificate for the names that has a quarter of its lifetime left (valid from
/// three days ago until tomorrow), as the one from the previous order would be.
fn expiring_certificate() -> (CertificateDer<'static>, String) {
    use chrono::Datelike;
    let day = |d: chrono::NaiveDate| {
        rcgen::date_time_ymd(d.year(), u8::try_from(d.month()).unwrap(), u8::try_from(d.day()).unwrap())
    };
    let today = chrono::Utc::now().date_naive();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(NAMES.map(str::to_owned).to_vec()).unwrap();
    params.not_before = day(today - chrono::Days::new(3));
    params.not_after = day(today + chrono::Days::new(1));
    let cert = params.self_signed(&key).unwrap();
    (cert.der().clone(), format!("{}{}", cert.pem(), key.serialize_pem()))
}

#[test]
fn http_01_certificate_is_obtained_renewed_into_live_listeners_and_kept_when_the_ca_is_down() {
    let (_runtime, dns) = dns();
    let i = Install::new(ScratchDb::sqlite());
    example_com(&i, &[]);
    let ports = i.ports_on(&[("http", "none"), ("imap", "tls"), ("smtp", "tls")]);
    let (http, imaps, smtps) = (ports[0], ports[1], ports[2]);
    let mut pebble = Pebble::configure(&dns.addr.to_string(), http, free_port());
    pebble.start();
    append_config(&i, &acme_section(&pebble, "http-01"));
    let server = Server::start(&i);
    for p in &ports {
        wait_listening(*p);
    }

    // No certificate yet: the server orders one at once and answers HTTP-01 itself.
    eventually_within("the first certificate", Duration::from_secs(90), || {
        acme_file(&i).exists() || {
            server.stderr().contains("ACME: ")
                && server.stderr().contains("next attempt")
                && panic!("{}\n{}", server.stderr(), pebble.log())
        }
    });
    eventually_within("the ports reloaded", Duration::from_secs(10), || {
        server.stderr().contains("ACME: the TLS ports present the new certificate")
    });
    let root = pebble.issuing_root();
    let first = leaf(&acme_file(&i));
    let (mut session, presented) = connect(imaps, std::slice::from_ref(&root), "* OK");
    assert_eq!(presented, first, "IMAPS presents the ACME certificate, valid for {NAMES:?} under Pebble's root");
    assert!(imap(&mut session, "a1 LOGIN john@example.com secret-pw").contains("a1 OK"));
    assert_eq!(connect(smtps, std::slice::from_ref(&root), "220").1, first, "SMTPS too");
    let status = i.json(&["cert", "status"]);
    assert_eq!(status["certificate_names"], "autoconfig.example.com, mail.example.com", "{status}");
    assert!(status["last_result"].as_str().unwrap().starts_with("succeeded"), "{status}");
    assert!(server.stderr().contains("answered an HTTP-01 validation request"), "{}", server.stderr());

    // Renewal while the IMAPS session stays connected.
    let renewed = i.ok(&["cert", "renew"]);
    assert!(renewed.contains("new certificate for"), "{renewed}");
    let second = leaf(&acme_file(&i));
    assert_ne!(second, first);
    eventually_within("IMAPS presents the new certificate", Duration::from_secs(10), || {
        connect(imaps, std::slice::from_ref(&root), "* OK").1 == second
    });
    assert_eq!(connect(smtps, std::slice::from_ref(&root), "220").1, second);
    assert!(imap(&mut session, "a2 SELECT INBOX").contains("a2 OK"), "the old session goes on");

    // The CA does not answer: said in the log and by `cert renew`, the certificate stays.
    pebble.stop();
    let (code, _, err) = i.run(&["cert", "renew"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot reach the ACME directory"), "{err}");
    let log = server.stderr();
    assert!(log.contains("ACME: cannot reach the ACME directory"), "{log}");
    assert!(log.contains("the current certificate stays in place"), "{log}");
    assert_eq!(leaf(&acme_file(&i)), second);
    assert_eq!(connect(imaps, std::slice::from_ref(&root), "* OK").1, second);
    assert!(imap(&mut session, "a3 NOOP").contains("a3 OK"));
    let status = i.json(&["cert", "status"]);
    assert!(status["last_result"].as_str().unwrap().starts_with("failed: cannot reach"), "{status}");
}

#[test]
fn tls_alpn_01_renews_an_expiring_certificate_on_a_live_server() {
    let (_runtime, dns) = dns();
    let i = Install::new(ScratchDb::sqlite());
    example_com(&i, &[]);
    let ports = i.ports_on(&[("http", "tls"), ("imap", "tls")]);
    let (https, imaps) = (ports[0], ports[1]);
    let mut pebble = Pebble::configure(&dns.addr.to_string(), free_port(), https);
    append_config(&i, &acme_section(&pebble, "tls-alpn-01"));
    // The certificate of an earlier order, with a quarter of its lifetime left.
    let (old, old_pem) = expiring_certificate();
    std::fs::create_dir_all(i.path("data/certificates")).unwrap();
    std::fs::write(acme_file(&i), old_pem).unwrap();

    // The CA is down when the server starts: the renewal it starts at once fails, the
    // expiring certificate keeps serving.
    let server = Server::start(&i);
    for p in &ports {
        wait_listening(*p);
    }
    eventually_within("the failed attempt is logged", Duration::from_secs(30), || {
        server.stderr().contains("ACME: cannot reach the ACME directory")
    });
    let log = server.stderr();
    assert!(log.contains("a third of its lifetime is left"), "{log}");
    let (mut session, presented) = connect(imaps, std::slice::from_ref(&old), "* OK");
    assert_eq!(presented, old);
    assert!(imap(&mut session, "a1 LOGIN john@example.com secret-pw").contains("a1 OK"));

    // With the CA back, TLS-ALPN-01 on the implicit-TLS http port.
    pebble.start();
    let (code, renewed, err) = i.run(&["cert", "renew"]);
    assert_eq!(code, 0, "{err}\n{}\n{}", server.stderr(), pebble.log());
    assert!(renewed.contains("new certificate for"), "{renewed}");
    assert!(server.stderr().contains("answered a TLS-ALPN-01 validation for"), "{}", server.stderr());
    let root = pebble.issuing_root();
    let new = leaf(&acme_file(&i));
    eventually_within("IMAPS presents the new certificate", Duration::from_secs(10), || {
        connect(imaps, std::slice::from_ref(&root), "* OK").1 == new
    });
    assert!(imap(&mut session, "a2 SELECT INBOX").contains("a2 OK"), "the old session goes on");
    let status = i.json(&["cert", "status"]);
    assert!(status["last_result"].as_str().unwrap().starts_with("succeeded"), "{status}");
    assert!(status["issuer"].as_str().unwrap().contains("Pebble"), "{status}");
}

#[test]
fn a_name_that_does_not_validate_is_reported_with_the_cas_problem() {
    let (_runtime, dns) = dns();
    let i = Install::new(ScratchDb::sqlite());
    example_com(&i, &[]);
    let ports = i.ports_on(&[("http", "none"), ("imap", "tls")]);
    let mut pebble = Pebble::configure(&dns.addr.to_string(), ports[0], free_port());
    pebble.start();
    // nowhere.example.com is not in the DNS.
    let section = acme_section(&pebble, "http-01").replace(NAMES[1], "nowhere.example.com");
    append_config(&i, &section);
    let server = Server::start(&i);
    for p in &ports {
        wait_listening(*p);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !server.stderr().contains("ACME: http-01 validation of nowhere.example.com failed: ") {
        assert!(std::time::Instant::now() < deadline, "no failure logged:\n{}\n{}", server.stderr(), pebble.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = server.stderr();
    assert!(log.contains("urn:ietf:params:acme:error:"), "the CA's problem type: {log}");
    assert!(log.contains("next attempt in 300s"), "{log}");
    assert!(!acme_file(&i).exists());
    let status = i.json(&["cert", "status"]);
    assert!(status["last_result"].as_str().unwrap().contains("nowhere.example.com failed"), "{status}");
    // The TLS port goes on with the self-signed certificate.
    wait_listening(ports[1]);
    assert!(log.contains("self-signed.crt"), "{log}");
}
