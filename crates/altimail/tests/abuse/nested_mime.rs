//! A message nested 5,000 multiparts deep from a local sender whose domain adds a signature:
//! the signature step walks the MIME structure, and the message must still be accepted (or
//! refused with a reply) and delivered whole.

use altimail_store::DbConfig;

use crate::common::python;
use crate::support::Target;

/// `DB`: turns on example.com's signature, for local mail too.
const SIGN_DOMAIN: &str = r#"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE hm_domains SET domainenablesignature = 1, domainsignaturemethod = 3, "
           "domainsignatureplaintext = 'Example Corp', domainsignaturehtml = '<b>Example Corp</b>', "
           "domainaddsignaturestoreplies = 1, domainaddsignaturestolocalemail = 1 WHERE domainname = 'example.com'")
db.commit()
assert db.total_changes == 1
"#;

/// `SMTP POP3 DEPTH`: sends john's deeply nested message to mary, prints the SMTP outcome and,
/// when it was accepted, whether mary's copy holds the innermost part and every closing boundary.
const SEND_DEEP: &str = r#"
import poplib, smtplib, sys, time
smtp, pop3, depth = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
opening = "".join('--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (k, k + 1) for k in range(depth))
inner = "--b%d\r\nContent-Type: text/plain\r\n\r\nThe innermost text.\r\n--b%d--\r\n" % (depth, depth)
closing = "".join("--b%d--\r\n" % k for k in reversed(range(depth)))
message = ("From: <john@example.com>\r\nTo: <mary@example.com>\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n' + opening + inner + closing)
try:
    s = smtplib.SMTP("127.0.0.1", smtp, timeout=120)
    s.sendmail("john@example.com", ["mary@example.com"], message)
    s.quit()
    print("accepted")
except smtplib.SMTPResponseException as e:
    print("refused", e.smtp_code)
    sys.exit(0)
except (smtplib.SMTPServerDisconnected, ConnectionError, OSError) as e:
    print("dropped", e)
    sys.exit(0)
deadline = time.time() + 30
while True:
    p = poplib.POP3("127.0.0.1", pop3, timeout=30)
    p.user("mary@example.com")
    p.pass_("secret-pw")
    count = p.stat()[0]
    if count:
        stored = b"\r\n".join(p.retr(1)[1]).decode()
        p.quit()
        break
    p.quit()
    if time.time() > deadline:
        sys.exit("accepted but not delivered within 30 s")
    time.sleep(0.3)
print("innermost:", "The innermost text." in stored)
print("closed:", stored.count("--b") >= 2 * depth)
"#;

#[test]
fn smtp_5000_nested_multiparts_with_a_domain_signature() {
    let mut t = Target::start(|i| {
        let DbConfig::Sqlite { path } = &i.db.config else { unreachable!("the abuse tests run on SQLite") };
        let (code, out, err) = python(SIGN_DOMAIN, &[path.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
    });
    let (code, out, err) = python(SEND_DEEP, &[&t.ports.smtp.to_string(), &t.ports.pop3.to_string(), "5000"]);
    t.assert_up("5,000 nested multiparts");
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.starts_with("dropped"), "the session was dropped without a reply: {out}");
    if out.starts_with("accepted") {
        assert!(out.contains("innermost: True") && out.contains("closed: True"), "delivered damaged: {out}");
    } else {
        assert!(out.starts_with("refused 5"), "{out}");
    }
    t.assert_healthy("after 5,000 nested multiparts");
}
