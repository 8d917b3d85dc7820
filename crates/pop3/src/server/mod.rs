//! The tokio driver of the POP3 session: owns the socket, TLS, timeouts, the maildrop lock and
//! the store work the sans-IO [`Session`] asks for.
//!
//! One [`Pop3Server`] serves every POP3 port; register it with
//! `Listeners::builder(..).with_handler(Protocol::Pop3, Pop3Server::new(store))`. Per
//! connection it reads the settings (greeting, APOP), runs the session, and answers its
//! actions: logons through the store (failures count towards auto-ban), the INBOX (`mailbox`),
//! message files streamed through the session's encoder (a large message is never held in
//! memory and its body is never logged), deletions at QUIT. Every line received and every
//! status line sent goes to the hMailServer log as `POP3D` `RECEIVED:`/`SENT:`, with secrets
//! masked.
//!
//! Every read and write has a time limit ([`Pop3Limits`]: idle, per command line, logon,
//! write); a client that runs one out gets `-ERR` and a log line. On server shutdown the session
//! ends after the command in progress with `-ERR [SYS/TEMP]`. Either way nothing marked for
//! deletion is deleted.

mod config;
mod locks;
mod logon;
mod mailbox;
mod timeouts;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use altimail_net::deadline::{Expired, ReadClock, write_all_by};
use altimail_net::{Connection, SessionHandler};
use altimail_store::repo::accounts::Account;
use altimail_store::{ChallengeLogons, Store};

use crate::proto::BodyEncoder;
use crate::session::{Action, CloseReason, MailboxFailure, MessageFailure, Session, UnexpectedAnswer, replies};
use locks::MailboxLocks;
use mailbox::Mailbox;

pub use config::SETTING_APOP;
pub use timeouts::Pop3Limits;

/// Read buffer size, for the socket and for message files.
const READ_CHUNK: usize = 16 * 1024;
/// Output gathered before it is written (pipelined responses, a message being streamed).
const FLUSH_AT: usize = 64 * 1024;

/// The POP3 service: one per server, shared by every connection (it holds the maildrop locks).
#[derive(Debug, Clone)]
pub struct Pop3Server {
    store: Store,
    locks: MailboxLocks,
    /// Whether APOP can succeed for every account, so it may be offered.
    challenge_logons: ChallengeLogons,
    limits: Pop3Limits,
    /// The event scripts (OnClientConnect, OnClientLogon); without them no event is raised.
    scripts: Option<altimail_scripting::Scripts>,
}

impl Pop3Server {
    /// A POP3 service on this store.
    pub fn new(store: Store) -> Self {
        Pop3Server {
            store,
            locks: MailboxLocks::default(),
            challenge_logons: ChallengeLogons::default(),
            limits: Pop3Limits::default(),
            scripts: None,
        }
    }

    /// The same service with the event scripts.
    pub fn with_scripts(self, scripts: altimail_scripting::Scripts) -> Self {
        Pop3Server { scripts: Some(scripts), ..self }
    }

    /// The same service with other time limits (tests use short ones).
    pub fn with_limits(self, limits: Pop3Limits) -> Self {
        Pop3Server { limits, ..self }
    }
}

impl SessionHandler for Pop3Server {
    fn handle(&self, conn: Connection) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let server = self.clone();
        Box::pin(async move { server.serve(conn).await })
    }
}

/// What the driver holds besides the session: the account between logon and opening the
/// maildrop, the locked maildrop, and the message file opened for the next send.
#[derive(Default)]
struct Held {
    account: Option<Account>,
    mailbox: Option<Mailbox>,
    message: Option<tokio::fs::File>,
}

use altimail_scripting::{Arg, Event};

impl Pop3Server {
    async fn serve(&self, mut conn: Connection) {
        let settings = match conn.policy.settings().await {
            Ok(settings) => settings,
            Err(e) => {
                tracing::error!("pop3: settings unavailable: {e}");
                let mut out = Vec::new();
                replies::service_unavailable().write_to(&mut out);
                let _ = write(&mut conn, &out, self.limits.write).await;
                return;
            }
        };
        // OnClientConnect, before the greeting: Result.Value 1 closes the connection.
        if let Some(scripts) = &self.scripts {
            let answer = scripts.fire(&settings, Event::OnClientConnect, vec![Arg::Client(client(&conn, ""))]).await;
            if answer.is_some_and(|r| r.value == 1) {
                conn.log_line("Connection closed by the OnClientConnect script");
                return;
            }
        }
        let apop_possible = settings.bool(SETTING_APOP) && self.challenge_logons.possible(&self.store.db).await;
        let mut session = Session::new(config::session_config(&conn, &settings, apop_possible));
        let mut held = Held::default();
        let mut out: Vec<u8> = Vec::with_capacity(512);
        let mut buf = vec![0u8; READ_CHUNK];
        let shutdown = conn.shutdown_signal();
        tokio::pin!(shutdown);
        let mut stopping = false;
        let mut clock = ReadClock::new(self.limits.reads());
        let limit = self.limits.write;
        loop {
            while let Some(action) = session.poll_action() {
                let answered = match action {
                    Action::Reply(response) => {
                        let start = out.len();
                        response.write_to(&mut out);
                        log_sent(&conn, out.get(start..).unwrap_or_default());
                        if out.len() >= FLUSH_AT && flush(&mut conn, &mut out, limit).await.is_err() {
                            return;
                        }
                        Ok(())
                    }
                    Action::Received(line) => {
                        conn.log_line(&format!("RECEIVED: {line}"));
                        Ok(())
                    }
                    Action::StartTls => {
                        if flush(&mut conn, &mut out, limit).await.is_err() {
                            return;
                        }
                        conn = match conn.start_tls().await {
                            Ok(conn) => conn,
                            Err(e) => {
                                tracing::debug!("pop3: TLS handshake failed: {e}");
                                return;
                            }
                        };
                        session.tls_started()
                    }
                    Action::Authenticate(credentials) => {
                        let result = logon::authenticate(&self.store, &conn, &credentials).await;
                        if let Some(scripts) = &self.scripts {
                            let mut info = client(&conn, &credentials.username);
                            info.authenticated = result.is_ok();
                            scripts.fire(&settings, Event::OnClientLogon, vec![Arg::Client(info)]).await;
                        }
                        match result {
                            Ok(account) => {
                                let name = account.address.clone();
                                held.account = Some(account);
                                session.auth_result(Ok(name))
                            }
                            Err(failure) => session.auth_result(Err(failure)),
                        }
                    }
                    Action::OpenMailbox(_) => {
                        let result = match held.account.take() {
                            Some(account) => Mailbox::open(&self.store, &self.locks, account).await,
                            None => Err(MailboxFailure::TempFail),
                        };
                        match result {
                            Ok((mailbox, entries)) => {
                                // Logged on only once the maildrop is ours (an IN-USE refusal
                                // leaves the session in AUTHORIZATION, under the logon limit).
                                clock.logged_on();
                                held.mailbox = Some(mailbox);
                                session.mailbox_opened(Ok(entries))
                            }
                            Err(failure) => session.mailbox_opened(Err(failure)),
                        }
                    }
                    Action::OpenMessage(entry) => {
                        let result = match &held.mailbox {
                            Some(mailbox) => mailbox.open_message(&self.store, &conn, entry.id).await,
                            None => Err(MessageFailure::TempFail),
                        };
                        match result {
                            Ok(file) => {
                                held.message = Some(file);
                                session.message_opened(Ok(()))
                            }
                            Err(failure) => session.message_opened(Err(failure)),
                        }
                    }
                    Action::SendMessage(encoder) => {
                        let Some(file) = held.message.take() else {
                            tracing::error!("pop3: SendMessage without an opened message");
                            return;
                        };
                        if let Err(e) = send_message(&mut conn, &mut out, file, encoder, limit).await {
                            tracing::debug!("pop3: sending a message to {}: {e}", conn.peer);
                            return;
                        }
                        Ok(())
                    }
                    Action::Commit(ids) => {
                        let result = match &held.mailbox {
                            Some(mailbox) => mailbox.commit(&self.store, &ids).await,
                            None => Err(crate::session::CommitFailed),
                        };
                        session.committed(result)
                    }
                    Action::Close => {
                        let _ = flush(&mut conn, &mut out, limit).await;
                        let _ = tokio::time::timeout(limit, conn.stream.shutdown()).await;
                        return;
                    }
                };
                if let Err(UnexpectedAnswer(what)) = answered {
                    tracing::error!("pop3: driver bug: answered {what} out of turn");
                    return;
                }
            }
            if let Err(e) = flush(&mut conn, &mut out, limit).await {
                if e.kind() == io::ErrorKind::TimedOut {
                    conn.log_line("The client did not read for too long: connection closed");
                    tracing::info!("pop3: {} did not read for {limit:?}: closed", conn.peer);
                }
                return;
            }
            if session.is_closed() {
                return;
            }
            if session.is_mid_command() {
                clock.command_pending();
            } else {
                clock.command_done();
            }
            tokio::select! {
                read = clock.read(&mut conn.stream, &mut buf) => match read {
                    Ok(Ok(0)) | Ok(Err(_)) => return,
                    Ok(Ok(n)) => session.handle_input(buf.get(..n).unwrap_or_default()),
                    Err(expired) => {
                        let what = match expired {
                            Expired::Idle => "was idle",
                            Expired::Command => "took too long to send a command",
                            Expired::Logon => "did not log on in time",
                        };
                        conn.log_line(&format!("The client {what}: timeout"));
                        tracing::info!("pop3: {} {what}: timeout", conn.peer);
                        session.close_with(CloseReason::Timeout);
                    }
                },
                () = &mut shutdown, if !stopping => {
                    stopping = true;
                    session.close_with(CloseReason::Shutdown);
                }
            }
        }
    }
}

/// Streams an opened message through `encoder`; output is written whenever [`FLUSH_AT`] octets
/// have gathered, and the rest (with the final `.`) is left in `out`.
async fn send_message(
    conn: &mut Connection,
    out: &mut Vec<u8>,
    mut file: tokio::fs::File,
    mut encoder: BodyEncoder,
    limit: Duration,
) -> io::Result<()> {
    let mut chunk = vec![0u8; READ_CHUNK];
    while !encoder.is_done() {
        let n = file.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        encoder.encode(chunk.get(..n).unwrap_or_default(), out);
        if out.len() >= FLUSH_AT {
            flush(conn, out, limit).await?;
        }
    }
    encoder.finish(out);
    Ok(())
}

fn log_sent(conn: &Connection, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    conn.log_line(&format!("SENT: {}", text.trim_end()));
}

/// Writes and empties `out`.
async fn flush(conn: &mut Connection, out: &mut Vec<u8>, limit: Duration) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let result = write(conn, out, limit).await;
    out.clear();
    result
}

/// Writes `bytes`, giving up when the client does not read for `limit`.
async fn write(conn: &mut Connection, bytes: &[u8], limit: Duration) -> io::Result<()> {
    write_all_by(&mut conn.stream, bytes, limit).await?;
    match tokio::time::timeout(limit, conn.stream.flush()).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")),
    }
}

/// `oClient` for a POP3 session.
fn client(conn: &Connection, username: &str) -> altimail_scripting::ClientInfo {
    altimail_scripting::ClientInfo {
        ip_address: conn.peer_ip().to_string(),
        port: conn.local.port(),
        username: username.to_owned(),
        encrypted: conn.is_tls(),
        session_id: conn.session_id,
        ..Default::default()
    }
}
