//! Test fixtures: a store with the worker, a scripted SMTP peer bound on 127.0.x.y:25, and the
//! in-process DNS server.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use altimail_delivery::{NewMessage, Recipient, Spool};
use altimail_dns::HickoryDns;
use altimail_dns::testdns::{TestDns, Zone};
use altimail_net::HmLog;
use altimail_outbound::RemoteDelivery;
use altimail_store::repo::{messages, settings};
use altimail_store::{Location, Store};

/// What a peer saw in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub helo: String,
    pub tls: bool,
    pub auth: Option<String>,
    pub mail: String,
    pub rcpts: Vec<String>,
    /// Every RCPT command line of the transaction, parameters included.
    pub rcpt_lines: Vec<String>,
    pub data: Vec<u8>,
}

/// How a peer answers.
#[derive(Clone)]
pub struct Script {
    /// The reply to RCPT TO for an address.
    pub rcpt: Arc<dyn Fn(&str) -> String + Send + Sync>,
    /// Extra EHLO keywords.
    pub caps: Vec<String>,
    /// TLS offered through STARTTLS.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// AUTH PLAIN/LOGIN required with these credentials.
    pub auth: Option<(String, String)>,
    /// Reply to the end of data.
    pub data_reply: String,
    /// Never answer the end of data (a delivery that hangs).
    pub hang_after_data: bool,
    /// The greeting line.
    pub greeting: String,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            rcpt: Arc::new(|_| "250 OK".into()),
            caps: Vec::new(),
            tls: None,
            auth: None,
            data_reply: "250 Queued".into(),
            hang_after_data: false,
            greeting: "220 peer ESMTP".into(),
        }
    }
}

/// A test SMTP server.
pub struct Peer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Connections accepted.
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Peer {
    pub async fn start(ip: &str, script: Script) -> Peer {
        // A peer just dropped may still hold the port for a moment.
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(format!("{ip}:25")).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("bind {ip}:25 (root needed for port 25): {e}"),
            }
        };
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let script = script.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = session(stream, script, log).await;
                });
            }
        });
        Peer { addr, seen, connections, task }
    }

    pub fn connection_count(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn transactions(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Every recipient accepted in a completed transaction, in order.
    pub fn delivered_to(&self) -> Vec<String> {
        self.transactions().into_iter().flat_map(|t| t.rcpts).collect()
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn session(stream: tokio::net::TcpStream, script: Script, log: Arc<Mutex<Vec<Seen>>>) -> std::io::Result<()> {
    let mut io: BufReader<Box<dyn Io>> = BufReader::new(Box::new(stream));
    io.get_mut().write_all(format!("{}\r\n", script.greeting).as_bytes()).await?;
    if !script.greeting.starts_with("220") {
        return Ok(());
    }
    let mut t = Seen::default();
    let mut authed = script.auth.is_none();
    loop {
        let mut line = String::new();
        if io.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            t.helo = cmd[5..].to_owned();
            let mut lines = vec!["peer".to_owned(), "SIZE 10000000".into(), "8BITMIME".into()];
            if script.tls.is_some() && !t.tls {
                lines.push("STARTTLS".into());
            }
            if script.auth.is_some() {
                lines.push("AUTH PLAIN LOGIN".into());
            }
            lines.extend(script.caps.iter().cloned());
            let n = lines.len();
            lines.iter().enumerate().map(|(i, l)| format!("250{}{l}\r\n", if i + 1 == n { ' ' } else { '-' })).collect()
        } else if upper == "STARTTLS" {
            io.get_mut().write_all(b"220 go ahead\r\n").await?;
            let Some(acceptor) = script.tls.clone() else { continue };
            let tls = acceptor.accept(io.into_inner()).await?;
            io = BufReader::new(Box::new(tls));
            t.tls = true;
            continue;
        } else if upper.starts_with("AUTH PLAIN ") {
            let (user, pass) = script.auth.clone().unwrap_or_default();
            let expected = base64_encode(format!("\0{user}\0{pass}").as_bytes());
            if cmd[11..] == expected {
                authed = true;
                t.auth = Some(user);
                "235 ok".into()
            } else {
                "535 bad credentials".into()
            }
        } else if upper.starts_with("MAIL FROM:") {
            if !authed {
                "530 authentication required".into()
            } else {
                t.mail = cmd[10..].to_owned();
                t.rcpts.clear();
                t.rcpt_lines.clear();
                "250 OK".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            let addr = cmd[8..].split_whitespace().next().unwrap_or("").trim_matches(['<', '>']).to_owned();
            t.rcpt_lines.push(cmd.clone());
            let reply = (script.rcpt)(&addr);
            if reply.starts_with('2') {
                t.rcpts.push(addr);
            }
            reply
        } else if upper == "DATA" {
            io.get_mut().write_all(b"354 go\r\n").await?;
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                if io.read_until(b'\n', &mut l).await? == 0 {
                    return Ok(());
                }
                if l == b".\r\n" {
                    break;
                }
                data.extend_from_slice(&l);
            }
            if script.hang_after_data {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
            t.data = data;
            if script.data_reply.starts_with('2') {
                log.lock().unwrap().push(t.clone());
            }
            script.data_reply.clone()
        } else if upper.starts_with("BDAT ") {
            let n: usize = upper.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
            let mut data = vec![0u8; n];
            io.read_exact(&mut data).await?;
            t.data = data;
            log.lock().unwrap().push(t.clone());
            script.data_reply.clone()
        } else if upper == "QUIT" {
            io.get_mut().write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if upper == "RSET" {
            "250 OK".into()
        } else {
            "502 unknown".into()
        };
        let reply = if reply.ends_with("\r\n") { reply } else { format!("{reply}\r\n") };
        io.get_mut().write_all(reply.as_bytes()).await?;
    }
}

pub fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A store, a spool, the DNS server and the worker under test.
pub struct Fixture {
    pub store: Store,
    pub spool: Spool,
    pub worker: RemoteDelivery,
    pub dns: TestDns,
    pub dirs: tempfile::TempDir,
    pub log: HmLog,
}

pub async fn fixture(db: &altimail_testkit::ScratchDb, zone: Zone) -> Fixture {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dirs = tempfile::tempdir().unwrap();
    let store = Store::open(&db.config, dirs.path().join("data"), true).await.unwrap();
    settings::set_string(&store.db, "hostname", "mx.us.test").await.unwrap();
    let spool = Spool::start(store.clone());
    let log = HmLog::new(dirs.path().join("logs"), 0xFFFF);
    let dns = TestDns::start(zone).await.unwrap();
    let resolver = HickoryDns::resolver(&[dns.addr]);
    let worker = RemoteDelivery::new(store.clone(), spool.clone(), log.clone(), resolver);
    Fixture { store, spool, worker, dns, dirs, log }
}

impl Fixture {
    pub async fn submit(&self, from: &str, to: &[&str], body: &str) -> i64 {
        let data = format!("From: <{from}>\r\nSubject: test\r\nMessage-ID: <t@us.test>\r\n\r\n{body}").into_bytes();
        let recipients = to.iter().map(|a| Recipient::remote(a, a)).collect();
        self.spool
            .submit(NewMessage { sender: from.into(), recipients, extras: Default::default(), data })
            .await
            .unwrap()
    }

    /// Remote recipients still queued for message `id`.
    pub async fn queued(&self, id: i64) -> Vec<String> {
        altimail_delivery::queue::recipients(&self.store.db, id).await.unwrap().into_iter().map(|r| r.address).collect()
    }

    pub async fn message(&self, id: i64) -> Option<messages::Message> {
        messages::get(&self.store.db, id).await.unwrap()
    }

    /// Makes message `id` due now (the test clock: its next try is moved back).
    pub async fn make_due(&self, id: i64) {
        altimail_store::repo::queue::make_due(&self.store.db, id).await.unwrap();
    }

    /// Queued messages other than `except` (bounces), with their contents.
    pub async fn others(&self, except: i64) -> Vec<(messages::Message, String)> {
        let mut out = Vec::new();
        for m in messages::queue(&self.store.db).await.unwrap() {
            if m.id != except {
                let path = self.store.files.resolve(Location::Queue, &m.file_name);
                out.push((m, std::fs::read_to_string(path).unwrap_or_default()));
            }
        }
        out
    }

    pub fn smtpc_log(&self) -> String {
        self.log.flush();
        let mut all = String::new();
        for e in std::fs::read_dir(self.dirs.path().join("logs")).into_iter().flatten().flatten() {
            all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
        all
    }
}

/// A TLS acceptor with a fresh self-signed certificate.
pub fn self_signed_acceptor() -> tokio_rustls::TlsAcceptor {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let ck = rcgen::generate_simple_self_signed(vec!["peer.test".to_owned()]).unwrap();
    let cert = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A route row: `security` 0–3, credentials stored Blowfish-encrypted as hMailServer does.
pub async fn add_route(
    store: &Store,
    pattern: &str,
    target: &str,
    port: i64,
    tries: i64,
    security: i64,
    auth: Option<(&str, &str)>,
) {
    let (use_auth, user, pass) = match auth {
        Some((u, p)) => (true, u.to_owned(), altimail_core::blowfish::hm_encrypt(p)),
        None => (false, String::new(), String::new()),
    };
    store
        .db
        .insert(
            "INSERT INTO hm_routes (routedomainname, routedescription, routetargetsmthost, routetargetsmtport, \
             routenooftries, routeminutesbetweentry, routealladdresses, routeuseauthentication, \
             routeauthenticationusername, routeauthenticationpassword, routetreatsecurityaslocal, \
             routeconnectionsecurity, routetreatsenderaslocaldomain) \
             VALUES (?, 'test route', ?, ?, ?, 30, 1, ?, ?, ?, 0, ?, 0)",
            &[
                pattern.into(),
                target.into(),
                port.into(),
                tries.into(),
                use_auth.into(),
                user.as_str().into(),
                pass.as_str().into(),
                security.into(),
            ],
            "routeid",
        )
        .await
        .unwrap();
}
