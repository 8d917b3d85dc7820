//! ClamAV through a real clamd of the test's own (TCP and unix socket), and the whole
//! [`scan`] on top of it.

use std::time::Duration;

use altimail_antivirus::clamd_reply::Reply;
use altimail_antivirus::{AvAction, AvError, AvOutcome, AvSettings, Clamd, ClamdAddress, ClamdError, scan};
use altimail_testkit::peers::{self, EICAR, EICAR_SIGNATURE};

fn client(address: ClamdAddress) -> Clamd {
    Clamd { address, timeout: Duration::from_secs(30), max_connections: 4 }
}

fn with_attachment(name: &str, contents: &[u8]) -> Vec<u8> {
    let mut m = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: Report\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
        --b1\r\nContent-Type: application/octet-stream\r\n"
        .to_vec();
    m.extend_from_slice(format!("Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n").as_bytes());
    m.extend_from_slice(contents);
    m.extend_from_slice(b"\r\n--b1--\r\n");
    m
}

#[tokio::test]
async fn clamd_finds_eicar_over_tcp_and_a_unix_socket() {
    let Some(clamd) = peers::Clamd::start("1M") else { return };
    eprintln!("clamd answered after {:?}", clamd.started_in);
    let tcp = client(ClamdAddress::Tcp { host: "127.0.0.1".into(), port: clamd.port });
    let unix = client(ClamdAddress::Unix(clamd.socket.clone()));
    let clean = b"From: a@example.com\r\nSubject: hi\r\n\r\nNothing to see.\r\n";
    for c in [&tcp, &unix] {
        assert_eq!(c.scan(EICAR).await.unwrap(), Reply::Found(EICAR_SIGNATURE.into()), "{}", c.address);
        assert_eq!(c.scan(clean).await.unwrap(), Reply::Clean, "{}", c.address);
        // Inside a MIME attachment (base64) clamd decodes it.
        let encoded =
            b"WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU\r\nLUZJTEUhJEgrSCo=";
        let m = String::from_utf8(with_attachment("x.com", encoded)).unwrap().replace(
            "Content-Type: application/octet-stream\r\n",
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n",
        );
        assert_eq!(c.scan(m.as_bytes()).await.unwrap(), Reply::Found(EICAR_SIGNATURE.into()));
    }
    // Larger than clamd's StreamMaxLength (1M): clamd says so, and we read its answer.
    let big = vec![b'a'; 3 * 1024 * 1024];
    assert_eq!(tcp.scan(&big).await.unwrap(), Reply::SizeLimit);
    // Many scans at once share the bounded connections.
    let mut scans = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let c = tcp.clone();
        scans.spawn(async move { c.scan(EICAR).await });
    }
    while let Some(r) = scans.join_next().await {
        assert_eq!(r.unwrap().unwrap(), Reply::Found(EICAR_SIGNATURE.into()));
    }

    // The whole scan: delete (Infected) or strip (Rewritten).
    let mut settings = AvSettings { clamav: Some(tcp.clone()), ..AvSettings::default() };
    let infected = with_attachment("eicar.txt", EICAR);
    assert_eq!(scan(&settings, &infected).await.unwrap(), AvOutcome::Infected { virus: EICAR_SIGNATURE.into() });
    assert_eq!(scan(&settings, clean).await.unwrap(), AvOutcome::Clean);
    // A virus in a message without attachments cannot be stripped: it is deleted.
    settings.action = AvAction::StripAttachments;
    let mut plain = b"Subject: x\r\n\r\n".to_vec();
    plain.extend_from_slice(EICAR);
    assert!(matches!(scan(&settings, &plain).await.unwrap(), AvOutcome::Infected { .. }));
    match scan(&settings, &infected).await.unwrap() {
        AvOutcome::Rewritten { message, removed, virus } => {
            assert_eq!(virus.as_deref(), Some(EICAR_SIGNATURE));
            assert_eq!(removed, ["eicar.txt"]);
            let text = String::from_utf8_lossy(&message);
            assert!(text.contains("Subject: Virus found: Report"), "{text}");
            assert!(text.contains("The attachment(s) of this message was removed"), "{text}");
            assert!(text.contains("filename=\"eicar.txt.txt\""), "{text}");
            assert!(!text.contains("EICAR-STANDARD"), "{text}");
            assert!(text.contains("See attached."), "{text}");
        }
        other => panic!("{other:?}"),
    }
    // Over avmaxmsgsize: not scanned.
    settings.action = AvAction::DeleteMessage;
    settings.max_size_kb = 1;
    let mut padded = infected.clone();
    padded.extend(std::iter::repeat_n(b'x', 4096));
    assert_eq!(scan(&settings, &padded).await.unwrap(), AvOutcome::Clean);
    // Within avmaxmsgsize but over clamd's own limit: an error (the SMTP layer answers 451),
    // never an acceptance unscanned.
    settings.max_size_kb = 0;
    let err = scan(&settings, &big).await.unwrap_err();
    assert!(matches!(err, AvError::Clamd(ClamdError::SizeLimit(..))), "{err}");
    assert!(err.to_string().contains("INSTREAM size limit exceeded"), "{err}");
    // Over avmaxmsgsize (hMailServer's limit): not scanned, as hMailServer.
    settings.max_size_kb = (big.len() / 1024 - 1) as u64;
    assert_eq!(scan(&settings, &big).await.unwrap(), AvOutcome::Clean);

    // clamd stopped: an error, never a silent pass.
    let socket = clamd.socket.clone();
    drop(clamd);
    let err = unix.scan(EICAR).await.unwrap_err();
    assert!(matches!(err, ClamdError::Connect(..)), "{err}");
    let err = scan(&settings, &infected).await.unwrap_err();
    assert!(matches!(err, AvError::Clamd(ClamdError::Connect(..))), "{err}");
    assert!(err.to_string().contains("Unable to connect to ClamAV server"), "{err}");
    assert!(!socket.exists() || client(ClamdAddress::Unix(socket)).scan(b"x").await.is_err());
}

#[tokio::test]
async fn clamd_down_is_an_error() {
    let port = peers::free_port();
    let c = client(ClamdAddress::Tcp { host: "127.0.0.1".into(), port });
    assert!(matches!(c.scan(EICAR).await, Err(ClamdError::Connect(..))));
    let c = client(ClamdAddress::Unix("/nonexistent/clamd.sock".into()));
    assert!(matches!(c.scan(EICAR).await, Err(ClamdError::Connect(..))));
}

#[tokio::test]
async fn a_silent_clamd_times_out() {
    // Accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let c = Clamd {
        address: ClamdAddress::Tcp { host: "127.0.0.1".into(), port },
        timeout: Duration::from_millis(300),
        max_connections: 4,
    };
    assert!(matches!(c.scan(b"small").await, Err(ClamdError::Timeout(..))));
    hold.abort();
}
