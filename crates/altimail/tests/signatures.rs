//! Domain and account signatures end to end: a local sender's message, sent with Python's
//! smtplib, arrives in the recipient's INBOX signed, as hMailServer's SignatureAdder does it.

mod common;

use std::time::Duration;

use altimail_store::repo::{accounts, folders, messages};
use altimail_store::{Location, Store};
use altimail_testkit::ScratchDb;
use common::{Install, python};

const SEND: &str = r#"
import smtplib, sys
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.mime.application import MIMEApplication
port, sender, rcpt, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
alt = MIMEMultipart("alternative")
alt.attach(MIMEText("Hällo plain.\n", "plain", "utf-8"))
alt.attach(MIMEText("<html><body><p>Hällo html.</p></body></html>\n", "html", "utf-8"))
msg = MIMEMultipart("mixed")
msg.attach(alt)
att = MIMEApplication(b"attachment-bytes", Name="a.bin")
att["Content-Disposition"] = 'attachment; filename="a.bin"'
msg.attach(att)
msg["From"], msg["To"], msg["Subject"] = sender, rcpt, subject
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.sendmail(sender, [rcpt], msg.as_bytes())
s.quit()
print("sent")
"#;

/// A message of 5,000 nested multiparts around one text part.
const SEND_DEEP: &str = r#"
import smtplib, sys
port, sender, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
levels = 5000
opening = ["Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(levels)]
closing = ["\r\n--b%d--\r\n" % i for i in reversed(range(levels))]
head = "From: %s\r\nTo: %s\r\nSubject: deep\r\nMIME-Version: 1.0\r\n" % (sender, rcpt)
data = head + "".join(opening) + "Content-Type: text/plain\r\n\r\ninnermost" + "".join(closing)
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
s.sendmail(sender, [rcpt], data.encode())
s.quit()
print("sent")
"#;

const READ: &str = r#"
import email, sys
from email import policy
msg = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=policy.default)
print("PLAIN:" + msg.get_body(("plain",)).get_content())
print("HTML:" + msg.get_body(("html",)).get_content())
for part in msg.iter_attachments():
    print("ATT:" + part.get_content().decode())
"#;

/// The INBOX message files of an account.
async fn inbox_files(store: &Store, address: &str, n: usize) -> Vec<std::path::PathBuf> {
    let a = accounts::find(&store.db, address).await.unwrap().unwrap();
    let inbox = folders::ensure_inbox(&store.db, a.id).await.unwrap();
    for _ in 0..100 {
        let got: Vec<_> = messages::in_folder(&store.db, a.id, inbox.id)
            .await
            .unwrap()
            .iter()
            .map(|m| store.files.resolve(Location::Account(&a.address), &m.file_name))
            .collect();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{address}: fewer than {n} messages after 10 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn local_sender_mail_is_signed() {
    let i = Install::new(ScratchDb::sqlite());
    i.ok(&["init"]);
    i.ok(&["domain", "add", "example.com"]);
    i.ok(&["account", "add", "john@example.com", "--password", "secret-pw"]);
    i.ok(&["account", "add", "mary@example.com", "--password", "secret-pw"]);
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    store
        .db
        .execute(
            "UPDATE hm_domains SET domainenablesignature = 1, domainsignaturemethod = 3, \
             domainsignatureplaintext = 'Example Corp', domainsignaturehtml = '<b>Example Corp</b>', \
             domainaddsignaturestoreplies = 1, domainaddsignaturestolocalemail = 0",
            &[],
        )
        .await
        .unwrap();
    store
        .db
        .execute(
            "UPDATE hm_accounts SET accountenablesignature = 1, accountpersonfirstname = 'John', \
             accountpersonlastname = 'Doe', accountsignatureplaintext = '-- %User.FirstName% %User.LastName% <%User.Address%>' \
             WHERE accountaddress = 'john@example.com'",
            &[],
        )
        .await
        .unwrap();
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    let port = ports[0].to_string();

    // Local-only mail while signatures to local email are off: not signed.
    let (code, out, err) = python(SEND, &[&port, "john@example.com", "mary@example.com", "first"]);
    assert_eq!(code, 0, "{out}{err}");
    let files = inbox_files(&store, "mary@example.com", 1).await;
    let first = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!first.contains("Example Corp"), "{first}");

    store.db.execute("UPDATE hm_domains SET domainaddsignaturestolocalemail = 1", &[]).await.unwrap();
    let (code, out, err) = python(SEND, &[&port, "john@example.com", "mary@example.com", "second"]);
    assert_eq!(code, 0, "{out}{err}");
    let files = inbox_files(&store, "mary@example.com", 2).await;
    let second = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .find(|t| t.contains("Subject: second"))
        .expect("second message");
    let path = files.iter().find(|f| std::fs::read_to_string(f).unwrap() == second).unwrap();
    // Python's MIMEText base64-encodes LF text: the signature follows its line ends.
    let (code, parsed, err) = python(READ, &[path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}\n{second}");
    assert!(
        parsed.contains("PLAIN:Hällo plain.\n\n-- John Doe <john@example.com>\n\nExample Corp\nHTML:"),
        "{parsed}\n{second}"
    );
    assert!(
        parsed.contains(
            "HTML:<html><body><p>Hällo html.</p><br/>\n-- John Doe <john@example.com><br><br><b>Example Corp</b></body></html>\n"
        ),
        "{parsed}\n{second}"
    );
    assert!(parsed.contains("ATT:attachment-bytes"), "{parsed}");

    // Multiparts nested 5,000 deep: too deep to sign, so delivered as sent; the server goes on.
    let (code, out, err) = python(SEND_DEEP, &[&port, "john@example.com", "mary@example.com"]);
    assert_eq!(code, 0, "{out}{err}");
    let files = inbox_files(&store, "mary@example.com", 3).await;
    let deep = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .find(|t| t.contains("Subject: deep"))
        .expect("deep message");
    assert!(deep.contains("innermost\r\n--b4999--") && !deep.contains("Example Corp"), "unsigned");
    assert!(server.stop(Duration::from_secs(25)).success(), "{}", server.stderr());
}
