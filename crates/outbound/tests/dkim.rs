//! DKIM signing per sender domain, verified by an independent implementation: Python's dkimpy
//! (`pip install dkimpy pynacl`), given the public key as the selector's TXT record.

mod support;

use std::path::Path;
use std::process::Command;

use altimail_dns::testdns::Zone;
use altimail_store::repo::domains;
use altimail_testkit::ScratchDb;
use support::{Peer, Script, fixture};

const VERIFY: &str = r#"
import sys, dkim
msg = open(sys.argv[1], "rb").read()
txt = open(sys.argv[2], "rb").read()
def dns(name, timeout=5):
    return txt if name.decode().rstrip(".") == sys.argv[3] else None
print("PASS" if dkim.verify(msg, dnsfunc=dns) else "FAIL")
"#;

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl").args(args).output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn b64(bytes: &[u8]) -> String {
    support::base64_encode(bytes)
}

/// Writes a key of `kind` ("rsa" or "ed25519") to `dir`; returns (key file, TXT record).
fn make_key(dir: &Path, kind: &str) -> (String, String) {
    let key = dir.join(format!("{kind}.pem"));
    let key_s = key.to_str().unwrap().to_owned();
    if kind == "rsa" {
        openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", &key_s]);
        let spki = openssl(&["pkey", "-in", &key_s, "-pubout", "-outform", "DER"]);
        (key_s, format!("v=DKIM1; k=rsa; p={}", b64(&spki)))
    } else {
        openssl(&["genpkey", "-algorithm", "ed25519", "-out", &key_s]);
        let spki = openssl(&["pkey", "-in", &key_s, "-pubout", "-outform", "DER"]);
        (key_s, format!("v=DKIM1; k=ed25519; p={}", b64(&spki[spki.len() - 32..])))
    }
}

/// dkimpy (with PyNaCl for Ed25519) is the independent verifier.
fn have_dkimpy() -> bool {
    altimail_testkit::have_python_module("dkim, nacl", "python3 -m pip install dkimpy pynacl")
}

fn dkimpy_verifies(dir: &Path, message: &[u8], txt: &str, name: &str) -> String {
    let m = dir.join("signed.eml");
    let t = dir.join("txt");
    std::fs::write(&m, message).unwrap();
    std::fs::write(&t, txt).unwrap();
    let out = Command::new("python3")
        .args(["-c", VERIFY, m.to_str().unwrap(), t.to_str().unwrap(), name])
        .output()
        .expect("python3");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn signed_copy(kind: &str, options: i64, ip: &str) -> (String, String, tempfile::TempDir) {
    let keys = tempfile::tempdir().unwrap();
    let (key_file, txt) = make_key(keys.path(), kind);
    let zone = Zone::new().mx("dkim.test", 10, "mx.dkim.test").ip("mx.dkim.test", ip);
    let db = ScratchDb::sqlite();
    let f = fixture(&db, zone).await;
    let mut d = domains::Domain::new("us.test");
    d.antispam_options = options;
    d.dkim_selector = "sel".into();
    d.dkim_private_key_file = key_file;
    domains::create(&f.store.db, &d).await.unwrap();
    let peer = Peer::start(ip, Script::default()).await;
    f.submit("alice@us.test", &["x@dkim.test"], "Hello  there,\r\n\r\nwith  spaces \r\nand a bare\nline\r\n\r\n\r\n")
        .await;
    f.worker.run_once().await.unwrap();
    let seen = peer.transactions();
    assert_eq!(seen.len(), 1);
    (String::from_utf8(seen[0].data.clone()).unwrap(), txt, keys)
}

#[tokio::test]
async fn rsa_sha256_relaxed_signature_verifies_with_dkimpy() {
    if !have_dkimpy() {
        return;
    }
    let (data, txt, keys) = signed_copy("rsa", 2, "127.0.1.15").await;
    assert!(data.starts_with("DKIM-Signature:"), "{data}");
    let header = data.split("\r\n\r\n").next().unwrap();
    assert!(header.contains("a=rsa-sha256") && header.contains("d=us.test") && header.contains("s=sel"), "{header}");
    assert!(header.contains("c=relaxed/relaxed"), "{header}");
    assert!(!header.contains("l="), "never the l= tag: {header}");
    let verdict = dkimpy_verifies(keys.path(), data.as_bytes(), &txt, "sel._domainkey.us.test");
    assert_eq!(verdict.trim(), "PASS", "{verdict}");
    // A changed body fails: the verifier really checks.
    let tampered = data.replace("with  spaces", "with spaces!");
    assert!(dkimpy_verifies(keys.path(), tampered.as_bytes(), &txt, "sel._domainkey.us.test").contains("FAIL"));
}

#[tokio::test]
async fn ed25519_simple_signature_verifies_with_dkimpy() {
    if !have_dkimpy() {
        return;
    }
    let (data, txt, keys) = signed_copy("ed25519", 2 | 4 | 8, "127.0.1.16").await;
    let header = data.split("\r\n\r\n").next().unwrap();
    assert!(header.contains("a=ed25519-sha256") && header.contains("c=simple/simple"), "{header}");
    let verdict = dkimpy_verifies(keys.path(), data.as_bytes(), &txt, "sel._domainkey.us.test");
    assert_eq!(verdict.trim(), "PASS", "{verdict}");
}

#[tokio::test]
async fn unsigned_without_the_option_bit() {
    let (data, _, _keys) = signed_copy("rsa", 0, "127.0.1.17").await;
    assert!(!data.contains("DKIM-Signature"), "{data}");
}
