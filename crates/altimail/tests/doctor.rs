//! `altimail doctor` against a running server and a test DNS server: all fine when the records
//! `quickstart` printed are published, and each problem named, with what to do, when not.

mod common;

use std::time::Duration;

use altimail_dns::testdns::{TestDns, Zone};
use altimail_testkit::ScratchDb;
use common::{Install, Server, wait_listening};
use serde_json::Value;

/// The zone of a server at 192.0.2.10 (a documentation address: nothing connects to it; the
/// resolver answers "localhost" for every loopback PTR) named mail.doctor.test, with the records of `report`
/// (quickstart's JSON) except those whose owner starts with one of `leave_out`.
fn zone(report: &Value, leave_out: &[&str], ptr: &str) -> Zone {
    let mut zone = Zone::new().ip("mail.doctor.test", "192.0.2.10").ptr("192.0.2.10", ptr);
    for r in report["dns_records"].as_array().unwrap() {
        let (name, kind, value) =
            (r["name"].as_str().unwrap(), r["type"].as_str().unwrap(), r["value"].as_str().unwrap());
        if leave_out.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        zone = match kind {
            "MX" => {
                let (pref, host) = value.split_once(' ').unwrap();
                zone.mx(name, pref.parse().unwrap(), host)
            }
            "TXT" => zone.txt(name, value),
            _ => zone,
        };
    }
    zone
}

fn use_dns(i: &Install, base: &str, dns: &TestDns) {
    std::fs::write(&i.config, format!("{base}\n[dns]\nservers = [\"{}\"]\n", dns.addr)).unwrap();
}

/// The findings of `doctor --json` and its exit code.
fn doctor(i: &Install) -> (i32, Vec<Value>, String) {
    let (code, out, err) = i.run(&["--json", "doctor"]);
    let findings: Vec<Value> = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, findings, err)
}

fn not_ok(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f["level"] != "ok")
        .map(|f| format!("{} {}: {} -> {}", f["level"], f["area"], f["text"], f["fix"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_passes_a_healthy_installation_and_names_each_problem_with_its_fix() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let i = Install::new(ScratchDb::sqlite());
    let report = i.json(&["quickstart", "alice@doctor.test", "--hostname", "mail.doctor.test"]);
    let base = std::fs::read_to_string(&i.config).unwrap();
    let good = TestDns::start(zone(&report, &[], "mail.doctor.test")).await.unwrap();
    let bad = TestDns::start(zone(&report, &["altimail._domainkey.", "_dmarc."], "elsewhere.test")).await.unwrap();
    use_dns(&i, &base, &good);
    let ports =
        i.ports_on(&[("smtp", "none"), ("smtp", "starttls"), ("imap", "tls"), ("pop3", "starttls"), ("http", "tls")]);
    let mut server = Server::start(&i);
    for p in &ports {
        wait_listening(*p);
    }

    // Everything as it should be: exit 0, every finding ok.
    let (code, findings, err) = doctor(&i);
    // The shared test machine's disk may really be nearly full: that finding is the machine's.
    let disk_ok = findings.iter().any(|f| f["area"] == "disk" && f["level"] == "ok");
    let areas: Vec<&str> = findings.iter().map(|f| f["area"].as_str().unwrap()).collect();
    for area in ["database", "disk", "port", "certificate", "dns"] {
        assert!(areas.contains(&area), "{area} checked: {findings:?}");
    }
    let findings: Vec<Value> = findings.into_iter().filter(|f| f["area"] != "disk" || disk_ok).collect();
    assert_eq!((code, not_ok(&findings)), (if disk_ok { 0 } else { 1 }, vec![]), "{err}\n{}", server.stderr());
    let texts: Vec<&str> = findings.iter().map(|f| f["text"].as_str().unwrap()).collect();
    let starttls_checked = texts.iter().filter(|t| t.contains("TLS presents the configured certificate")).count();
    assert_eq!(starttls_checked, 4, "implicit TLS and STARTTLS ports: {texts:?}");
    assert!(texts.iter().any(|t| t.contains("schema hMailServer 5704") && t.contains("(current)")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("PTR of 192.0.2.10 is mail.doctor.test")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("DKIM key published at altimail._domainkey.doctor.test")), "{texts:?}");
    // The text form: one line per finding.
    let plain = i.run(&["doctor"]).1;
    assert!(plain.lines().all(|l| l.starts_with("ok ") || (!disk_ok && l.contains("disk"))), "{plain}");

    // DNS without DKIM and DMARC, and a PTR naming another host.
    use_dns(&i, &base, &bad);
    let (code, findings, err) = doctor(&i);
    assert_eq!(code, 1, "{findings:?}");
    assert!(err.contains("problem(s)"), "{err}");
    let problems = not_ok(&findings).join("\n");
    assert!(
        problems.contains("DKIM record is missing")
            && problems.contains("publish `altimail._domainkey.doctor.test. TXT v=DKIM1; k=rsa; p="),
        "{problems}"
    );
    assert!(
        problems.contains("DMARC record is missing") && problems.contains("_dmarc.doctor.test. TXT v=DMARC1"),
        "{problems}"
    );
    assert!(problems.contains("PTR of 192.0.2.10 is elsewhere.test, not mail.doctor.test"), "{problems}");
    assert!(problems.contains("reverse DNS"), "{problems}");
    assert_eq!(not_ok(&findings).iter().filter(|p| !p.contains("\"disk\"")).count(), 3, "{problems}");
    let plain = i.run(&["doctor"]).1;
    assert!(plain.lines().any(|l| l.starts_with("PROBLEM") && l.contains("DMARC")), "{plain}");
    assert!(plain.lines().any(|l| l.trim_start().starts_with("-> publish `_dmarc.doctor.test.")), "{plain}");

    // A certificate that expires in ten days on the IMAPS port: a warning with what to do.
    use_dns(&i, &base, &good);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let until = chrono::Utc::now() + chrono::Days::new(10);
    use chrono::Datelike;
    params.not_after = rcgen::date_time_ymd(until.year(), until.month() as u8, until.day() as u8);
    let cert = params.self_signed(&key).unwrap();
    let (cert_file, key_file) = (i.path("short.crt"), i.path("short.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    i.ok(&["certificate", "add", "short", "--cert", cert_file.to_str().unwrap(), "--key", key_file.to_str().unwrap()]);
    let cert_id = i.json(&["certificate", "list"])[0]["id"].to_string();
    let imaps_id =
        i.json(&["port", "list"]).as_array().unwrap().iter().find(|p| p["protocol"] == "imap").unwrap()["id"]
            .to_string();
    i.ok(&["port", "set", &imaps_id, "--certificate", &cert_id]);
    common::eventually("the IMAPS port presents the new certificate", || {
        let (_, findings, _) = doctor(&i);
        findings
            .iter()
            .any(|f| f["level"] == "ok" && f["text"].as_str().unwrap().starts_with(&format!("IMAP {}", ports[2])))
    });
    let (code, findings, _) = doctor(&i);
    assert_eq!(code, 1);
    let warnings: Vec<String> = not_ok(&findings).into_iter().filter(|p| !p.contains("\"disk\"")).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("\"warning\" \"certificate\"") && warnings[0].contains("expires in"),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("systemctl reload altimail"), "{warnings:?}");

    // The server stopped: every port is a problem.
    assert!(server.stop(Duration::from_secs(30)).success());
    let (code, findings, _) = doctor(&i);
    assert_eq!(code, 1);
    let down = findings.iter().filter(|f| f["level"] == "problem" && f["area"] == "port").count();
    assert_eq!(down, ports.len(), "{findings:?}");
    assert!(not_ok(&findings).iter().any(|p| p.contains("cannot connect") && p.contains("systemctl start altimail")));
}

/// On every database engine: the database line names the schema; an empty database is a problem.
#[tokio::test(flavor = "multi_thread")]
async fn doctor_reports_the_database_and_its_schema_on_every_engine() {
    for db in altimail_testkit::backends("doctor").await {
        let engine = db.engine;
        let i = Install::new(db);
        let (code, findings, _) = doctor(&i);
        assert_eq!(code, 1, "{engine}");
        let database = findings.iter().find(|f| f["area"] == "database").unwrap();
        assert_eq!(database["level"], "problem", "{engine}: {database}");
        assert!(database["text"].as_str().unwrap().contains("has no schema"), "{engine}: {database}");
        i.ok(&["init"]);
        let (code, findings, _) = doctor(&i);
        assert_eq!(code, 1, "{engine}: no host name yet");
        let database = findings.iter().find(|f| f["area"] == "database").unwrap();
        assert_eq!(database["level"], "ok", "{engine}: {database}");
        assert!(database["text"].as_str().unwrap().contains("(current)"), "{engine}: {database}");
        let dns = findings.iter().find(|f| f["area"] == "dns").unwrap();
        assert!(dns["text"].as_str().unwrap().contains("host name is not set"), "{engine}: {dns}");
    }
}
