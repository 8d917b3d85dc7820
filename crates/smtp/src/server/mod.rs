//! The tokio driver of the SMTP session: owns the socket, TLS, timeouts and the database work
//! the sans-IO [`Session`] asks for, and hands accepted messages to the spool.
//!
//! Every read and write has a time limit ([`SmtpLimits`]); a client that runs one out gets
//! `421 4.4.2` and a log line. A body larger than the session's stream threshold (1 MiB) is
//! written to its spool file as it arrives ([`Action::StreamBody`]), trace headers first, so N
//! concurrent large uploads do not cost N message sizes of memory; the anti-spam and anti-virus
//! checks read it back from that file, each within its own size setting. Domain and account
//! signatures are added only to bodies held in memory: adding one means rewriting the body,
//! which a streamed message is never held whole for.

mod antispam;
mod antivirus;
mod config;
mod received;
mod scripts;
mod timeouts;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use altimail_core::password;
use altimail_delivery::resolve::{self, Sender};
use altimail_delivery::{EnvelopeExtras, NewMessage, Recipient as QueuedRecipient, Spool, SpoolFile};
use altimail_net::deadline::{Expired, write_all_by};
use altimail_net::{Connection, SessionHandler, Severity};
use altimail_store::directory_index::DirectoryIndex;
use altimail_store::repo::{accounts, domains};
use altimail_store::{ChallengeLogons, LogonRefused, Store};

use crate::proto::{BodyType, Mechanism, Notify, Reply, Ret};
use crate::session::{Action, AuthFailure, CloseReason, Envelope, Session};
use timeouts::Deadlines;

pub use antispam::AntiSpam;
pub use antivirus::AntiVirus;
pub use received::received_header;
pub use scripts::Scripts;
pub use timeouts::SmtpLimits;

/// Read buffer size.
const READ_CHUNK: usize = 16 * 1024;

/// The SMTP service: one per server, shared by every connection.
#[derive(Clone)]
pub struct SmtpServer {
    store: Store,
    spool: Spool,
    /// Whether CRAM-MD5 can succeed for every account, so it may be offered.
    challenge_logons: ChallengeLogons,
    limits: SmtpLimits,
    /// The anti-spam tests; without them no test runs.
    antispam: Option<AntiSpam>,
    /// Attachment blocking and virus scanning; without it neither runs.
    antivirus: Option<AntiVirus>,
    /// The event scripts; without them no event is raised.
    scripts: Option<Scripts>,
}

impl SmtpServer {
    pub fn new(store: Store, spool: Spool) -> Self {
        SmtpServer {
            store,
            spool,
            challenge_logons: ChallengeLogons::default(),
            limits: SmtpLimits::default(),
            antispam: None,
            antivirus: None,
            scripts: None,
        }
    }

    /// The same service with the event scripts (see [`Scripts`]).
    pub fn with_scripts(self, scripts: Scripts) -> Self {
        SmtpServer { scripts: Some(scripts), ..self }
    }

    /// The same service with attachment blocking and virus scanning (see [`AntiVirus`]).
    pub fn with_antivirus(self, antivirus: AntiVirus) -> Self {
        SmtpServer { antivirus: Some(antivirus), ..self }
    }

    /// The same service with the anti-spam tests (see [`AntiSpam`]).
    pub fn with_antispam(self, antispam: AntiSpam) -> Self {
        SmtpServer { antispam: Some(antispam), ..self }
    }

    /// The same service with other time limits (tests use short ones).
    pub fn with_limits(self, limits: SmtpLimits) -> Self {
        SmtpServer { limits, ..self }
    }
}

impl SessionHandler for SmtpServer {
    fn handle(&self, conn: Connection) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let server = self.clone();
        Box::pin(async move { server.serve(conn).await })
    }
}

/// Why a CRAM-MD5 logon was refused.
enum CramRefused {
    /// As for any mechanism.
    Logon(LogonRefused),
    /// The account's password is stored hashed: no digest can be checked against it.
    NotRecoverable,
}

/// What the driver remembers about the open transaction: the resolution of each accepted RCPT,
/// and the file of a streamed body.
#[derive(Default)]
struct Transaction {
    sender: String,
    recipients: Vec<QueuedRecipient>,
    body: StreamedBody,
    /// The anti-spam state, when the tests apply.
    spam: Option<antispam::SpamState>,
    /// The anti-spam context started at RCPT time by greylisting (its SPF result), handed to
    /// the tests before the body.
    spam_ctx: Option<altimail_antispam::Context>,
    /// The domain of the first local recipient, for the Bayesian filter's per-domain table.
    local_domain: Option<i64>,
    /// A null sender's recipient was greylisted: the message is refused once its body has come.
    greylisted_after_data: bool,
    /// A streamed body whose anti-spam tests and header edits wait for its end.
    spam_file: Option<antispam::StreamSplit>,
}

/// The spool file of a body streamed as it arrives.
#[derive(Default)]
enum StreamedBody {
    /// No body is being streamed.
    #[default]
    None,
    /// The file written so far (boxed: most transactions never stream).
    Writing(Box<SpoolFile>),
    /// Writing failed (logged): the message gets a temporary failure at its end.
    Failed,
}

fn temp_failure() -> Reply {
    Reply::new(451, Some((4, 3, 0)), "Requested action aborted: local error in processing")
}

fn resolve_reply(r: resolve::Reply) -> Reply {
    let enhanced = {
        let mut parts = r.enhanced.split('.').map(|p| p.parse::<u16>().unwrap_or(0));
        let class = parts.next().unwrap_or(0) as u8;
        Some((class, parts.next().unwrap_or(0), parts.next().unwrap_or(0)))
    };
    Reply::new(r.code, enhanced, r.text)
}

impl SmtpServer {
    async fn serve(&self, mut conn: Connection) {
        let settings = match conn.policy.settings().await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("smtp: settings unavailable: {e}");
                let reply = b"421 4.3.0 Service temporarily unavailable\r\n";
                let _ = write_all_by(&mut conn.stream, reply, self.limits.write).await;
                return;
            }
        };
        let host = altimail_delivery::host_name(&settings);
        let scripts = self.scripts.as_ref();
        if let Some(s) = scripts {
            s.configure(&settings);
        }
        // OnClientConnect, before the greeting: Result.Value 1 closes the connection.
        let connected =
            scripts::fire(scripts, &settings, scripts::Event::OnClientConnect, vec![scripts::client_arg(&conn, None)])
                .await;
        if connected.is_some_and(|r| r.value == 1) {
            conn.log_line("Connection closed by the OnClientConnect script");
            let _ = tokio::time::timeout(self.limits.write, conn.stream.shutdown()).await;
            return;
        }
        let offer_cram_md5 = self.challenge_logons.possible(&self.store.db).await;
        // The anti-spam settings are read per session.
        let checker = match &self.antispam {
            Some(a) => Some(a.checker(&self.store, &settings).await),
            None => None,
        };
        let greylist_policy = altimail_antispam::greylist::Policy::from_settings(&settings);
        let mut session_config = config::session_config(&conn, &settings, &host, offer_cram_md5);
        session_config.check_before_data =
            checker.is_some() && conn.range.options & altimail_core::codes::range::ANTI_SPAM != 0;
        let handles = |event| scripts.is_some_and(|s| s.handles(event));
        session_config.check_before_data |= handles(scripts::Event::OnSMTPData);
        session_config.check_helo = handles(scripts::Event::OnHELO);
        let mut session = Session::new(session_config);
        let mut tx = Transaction::default();
        let mut out: Vec<u8> = Vec::with_capacity(512);
        let mut buf = vec![0u8; READ_CHUNK];
        let mut shutdown = conn.shutdown.clone();
        let mut stopping = false;
        let mut deadlines = Deadlines::new(self.limits);
        let write_limit = deadlines.write_limit();
        loop {
            while let Some(action) = session.poll_action() {
                match action {
                    Action::Reply(reply) => {
                        let start = out.len();
                        reply.write_to(&mut out);
                        log_sent(&conn, &out[start..]);
                    }
                    Action::Received(line) => conn.log_line(&format!("RECEIVED: {line}")),
                    Action::StartTls => {
                        if flush(&mut conn, &mut out, write_limit).await.is_err() {
                            return;
                        }
                        conn = match conn.start_tls().await {
                            Ok(c) => c,
                            Err(e) => {
                                tracing::debug!("smtp: TLS handshake failed: {e}");
                                return;
                            }
                        };
                        let info = config::tls_info(&conn).unwrap_or_default();
                        let _ = session.tls_started(info);
                        tx = Transaction::default();
                    }
                    Action::Authenticate(creds) => {
                        let result = match (creds.mechanism, creds.challenge.as_deref()) {
                            (Mechanism::CramMd5, Some(challenge)) => {
                                self.authenticate_cram_md5(&conn, &creds.username, challenge, creds.password.expose())
                                    .await
                            }
                            _ => {
                                self.authenticate(
                                    &conn,
                                    &creds.username,
                                    creds.password.expose(),
                                    creds.authzid.as_deref(),
                                )
                                .await
                            }
                        };
                        if scripts.is_some() {
                            let mut client = scripts::client(&conn, Some(&session));
                            client.username = creds.username.clone();
                            client.authenticated = result.is_ok();
                            let args = vec![altimail_scripting::Arg::Client(client)];
                            scripts::fire(scripts, &settings, scripts::Event::OnClientLogon, args).await;
                        }
                        let _ = session.auth_result(result);
                    }
                    Action::CheckSender { sender, params } => {
                        tx = Transaction { sender: sender.to_string(), ..Transaction::default() };
                        let result = self.check_sender(&mut session, &tx.sender, params.size).await;
                        let _ = session.sender_checked(result);
                    }
                    Action::CheckRecipient { recipient, params } => {
                        let original = recipient.to_string();
                        let spam = match &checker {
                            Some(c) if antispam_applies(&conn) => Some((c, &greylist_policy, host.as_str())),
                            _ => None,
                        };
                        let result = self.check_recipient(&conn, &session, &mut tx, &original, &params, spam).await;
                        if let Err(reply) = &result
                            && reply.code == 550
                            && scripts.is_some_and(|s| s.handles(scripts::Event::OnRecipientUnknown))
                        {
                            let mut unknown = tx.recipients.clone();
                            unknown.push(QueuedRecipient::local(&original, 0, &original));
                            let message = scripts::message(&tx.sender, &unknown, Vec::new());
                            let args = vec![
                                scripts::client_arg(&conn, Some(&session)),
                                altimail_scripting::Arg::Message(message),
                            ];
                            scripts::fire(scripts, &settings, scripts::Event::OnRecipientUnknown, args).await;
                        }
                        let _ = session.recipient_checked(result);
                    }
                    Action::CheckHelo { name, .. } => {
                        let mut client = scripts::client(&conn, Some(&session));
                        client.helo = name;
                        let args = vec![altimail_scripting::Arg::Client(client)];
                        let answer = scripts::fire(scripts, &settings, scripts::Event::OnHELO, args).await;
                        let _ = session.helo_checked(scripts::refusal(answer.as_ref()).map_or(Ok(()), Err));
                    }
                    Action::CheckData => {
                        let result = match &checker {
                            Some(checker) => {
                                let helo = session.helo().unwrap_or_default();
                                let authenticated = session.authenticated_user().is_some();
                                antispam::before_data(
                                    &self.store,
                                    &conn,
                                    checker,
                                    &host,
                                    helo,
                                    &tx.sender,
                                    authenticated,
                                    tx.spam_ctx.take(),
                                )
                                .await
                            }
                            None => Ok(None),
                        };
                        // OnSMTPData, after the tests before transmission: envelope, no content.
                        let result = match result {
                            Ok(state) if scripts.is_some() => {
                                let message = scripts::message(&tx.sender, &tx.recipients, Vec::new());
                                let args = vec![
                                    scripts::client_arg(&conn, Some(&session)),
                                    altimail_scripting::Arg::Message(message),
                                ];
                                let answer = scripts::fire(scripts, &settings, scripts::Event::OnSMTPData, args).await;
                                scripts::refusal(answer.as_ref()).map_or(Ok(state), Err)
                            }
                            other => other,
                        };
                        let local_domain = tx.local_domain;
                        let result = result.map(|state| {
                            tx.spam = state.map(|mut st| {
                                st.ctx.domain_id = local_domain;
                                st
                            })
                        });
                        let _ = session.data_checked(result);
                    }
                    Action::Message(message) => {
                        let client = scripts::client(&conn, Some(&session));
                        let result =
                            self.accept(&conn, &settings, &host, checker.as_ref(), &mut tx, *message, client).await;
                        if let Ok(id) = &result {
                            altimail_core::stats::count(altimail_core::stats::Counter::Received);
                            conn.log.application(&format!("SMTPD - Message {id} queued"));
                        }
                        let _ = session.message_accepted(result.map(|id| id.to_string()));
                        tx.recipients.clear();
                        tx.spam = None;
                    }
                    Action::StreamBody { envelope, head } => {
                        // When the post-transmission tests may still run (`antispammaxsize` is
                        // over what came so far), the file gets the body as received and the
                        // header edits come at its end ([`antispam::check_file`]); otherwise
                        // they are final now and go first in the file.
                        let head_len = head.len() as u64;
                        let deferred = match (&checker, &tx.spam) {
                            (Some(checker), Some(state)) => state.tested && checker.settings.max_size > head_len,
                            _ => false,
                        };
                        let head = match (&checker, &tx.spam) {
                            (Some(checker), Some(state)) if !deferred => {
                                match antispam::finish(&conn, checker, state, "streamed") {
                                    Ok(edits) => edits.apply(&head),
                                    Err(_) => head,
                                }
                            }
                            _ => head,
                        };
                        let (body, trace_len) = self.start_stream(&conn, &host, &envelope, &head).await;
                        tx.body = body;
                        tx.spam_file = deferred.then_some(antispam::StreamSplit { trace_len, head_len });
                    }
                    Action::BodyPart(part) => {
                        if let StreamedBody::Writing(file) = &mut tx.body
                            && let Err(e) = file.append(&part).await
                        {
                            conn.log.error(Severity::High, 5020, "SMTPD", &format!("message could not be saved: {e}"));
                            tx.body = StreamedBody::Failed;
                        }
                    }
                    Action::DropBody => tx.body = StreamedBody::None,
                    Action::Etrn(node) => {
                        // RFC 1985 as hMailServer does it: anyone allowed to use SMTP may ask,
                        // for a node that is an ETRN route; the mail only ever goes to the
                        // route's own hosts, never to the client that asked.
                        use crate::session::replies;
                        use altimail_delivery::queue::{EtrnRelease, release_held};
                        let reply = match release_held(&self.store.db, &node).await {
                            Ok(EtrnRelease::Released(0)) => {
                                Reply::new(251, Some((2, 0, 0)), format!("OK, no messages waiting for node {node}"))
                            }
                            Ok(EtrnRelease::Released(n)) => {
                                conn.log
                                    .application(&format!("SMTPDeliverer - ETRN - {n} message(s) released for {node}"));
                                self.spool.queued.notify_one();
                                replies::etrn_started(&node)
                            }
                            Ok(EtrnRelease::NoRoute) => replies::etrn_not_allowed(&node),
                            Err(e) => {
                                conn.log.error(Severity::Medium, 5014, "SMTP ETRN", &e.to_string());
                                replies::etrn_unavailable(&node)
                            }
                        };
                        let _ = session.etrn_result(reply);
                    }
                    Action::Close => {
                        if session.too_many_invalid_commands() && scripts.is_some() {
                            let message = scripts::message(&tx.sender, &tx.recipients, Vec::new());
                            let args = vec![
                                scripts::client_arg(&conn, Some(&session)),
                                altimail_scripting::Arg::Message(message),
                            ];
                            scripts::fire(scripts, &settings, scripts::Event::OnTooManyInvalidCommands, args).await;
                        }
                        let _ = flush(&mut conn, &mut out, write_limit).await;
                        let _ = tokio::time::timeout(write_limit, conn.stream.shutdown()).await;
                        return;
                    }
                }
            }
            if let Err(e) = flush(&mut conn, &mut out, write_limit).await {
                if e.kind() == std::io::ErrorKind::TimedOut {
                    conn.log_line("The client did not read for too long: connection closed");
                    tracing::info!("smtp: {} did not read for {write_limit:?}: closed", conn.peer);
                }
                return;
            }
            if session.is_closed() {
                return;
            }
            deadlines.track(session.reading());
            tokio::select! {
                read = deadlines.clock().read(&mut conn.stream, &mut buf) => match read {
                    Ok(Ok(0)) | Ok(Err(_)) => return,
                    Ok(Ok(n)) => session.handle_input(buf.get(..n).unwrap_or_default()),
                    Err(expired) => {
                        let what = match expired {
                            Expired::Idle => "was idle",
                            Expired::Command => "took too long to send a command or message",
                            Expired::Logon => "did not log on in time",
                        };
                        conn.log_line(&format!("The client {what}: timeout"));
                        tracing::info!("smtp: {} {what}: timeout", conn.peer);
                        session.close_with(CloseReason::Timeout);
                    }
                },
                // Graceful stop: a transaction in progress finishes, the next one is refused.
                // `wait_for` also sees a stop that began before this session subscribed (a
                // client still being admitted or in its TLS handshake), which `changed` would not.
                _ = shutdown.wait_for(|stop| *stop), if !stopping => {
                    stopping = true;
                    session.begin_shutdown();
                }
            }
        }
    }

    /// Opens the spool file of a body that passed the stream threshold: trace headers, then the
    /// body so far. Also gives the length of the trace headers.
    async fn start_stream(
        &self,
        conn: &Connection,
        host: &str,
        envelope: &Envelope,
        head: &[u8],
    ) -> (StreamedBody, u64) {
        let now = altimail_delivery::generated::rfc5322_now();
        let headers = trace_headers(envelope, conn.peer_ip(), host, &now, head);
        let trace_len = headers.len() as u64;
        let started = match self.spool.create_file(headers).await {
            Ok(mut file) => file.append(head).await.map(|()| file),
            Err(e) => Err(e),
        };
        match started {
            Ok(file) => (StreamedBody::Writing(Box::new(file)), trace_len),
            Err(e) => {
                conn.log.error(Severity::High, 5020, "SMTPD", &format!("message could not be saved: {e}"));
                (StreamedBody::Failed, trace_len)
            }
        }
    }

    async fn authenticate(
        &self,
        conn: &Connection,
        user: &str,
        password: &str,
        authzid: Option<&str>,
    ) -> Result<String, AuthFailure> {
        if let Some(z) = authzid.filter(|z| !z.is_empty() && !z.eq_ignore_ascii_case(user)) {
            tracing::info!("smtp: AUTH for {user} as {z} refused (no proxy authorisation)");
            return Err(AuthFailure::Bad);
        }
        match self.store.authenticate(user, password).await {
            Ok(Ok(account)) => Ok(account.address),
            Ok(Err(refused)) => {
                if refused == LogonRefused::BadPassword || refused == LogonRefused::NoSuchAccount {
                    conn.log_line(&format!("Authentication failed for {user}"));
                }
                if conn.logon_failed(user).await { Err(AuthFailure::Banned) } else { Err(AuthFailure::Bad) }
            }
            Err(e) => {
                conn.log.error(Severity::High, 5014, "SMTP AUTH", &e.to_string());
                Err(AuthFailure::TempFail)
            }
        }
    }

    /// CRAM-MD5 (RFC 2195): the logon rules of [`Store::authenticate`] (canonical logon name,
    /// active domain and account), then the digest checked against the clear-text password.
    ///
    /// Only passwords stored recoverably (plain or Blowfish) can be checked; for a hashed one
    /// (MD5, SHA-256, Argon2id) the logon fails without counting towards the auto-ban, since the
    /// client could not have succeeded whatever it sent (clients such as Python's smtplib then
    /// fall back to another mechanism). A wrong digest, an unknown or inactive account counts
    /// as a failed logon, as for PLAIN and LOGIN. Unlike those, success does not re-hash the
    /// password: that would make CRAM-MD5 impossible afterwards.
    async fn authenticate_cram_md5(
        &self,
        conn: &Connection,
        user: &str,
        challenge: &str,
        digest: &str,
    ) -> Result<String, AuthFailure> {
        let refused = match self.check_cram_md5(user, challenge, digest).await {
            Ok(Ok(address)) => return Ok(address),
            Ok(Err(refused)) => refused,
            Err(e) => {
                conn.log.error(Severity::High, 5014, "SMTP AUTH", &e.to_string());
                return Err(AuthFailure::TempFail);
            }
        };
        match refused {
            CramRefused::NotRecoverable => {
                tracing::debug!(
                    "smtp: CRAM-MD5 for {user} refused: the password is stored hashed, so no digest can be checked"
                );
                return Err(AuthFailure::Bad);
            }
            CramRefused::Logon(LogonRefused::BadPassword | LogonRefused::NoSuchAccount) => {
                conn.log_line(&format!("Authentication failed for {user}"));
            }
            CramRefused::Logon(_) => {}
        }
        if conn.logon_failed(user).await { Err(AuthFailure::Banned) } else { Err(AuthFailure::Bad) }
    }

    /// The account address if `digest` is right for `user`, else why not.
    async fn check_cram_md5(
        &self,
        user: &str,
        challenge: &str,
        digest: &str,
    ) -> Result<Result<String, CramRefused>, altimail_store::StoreError> {
        let address = self.store.canonical_logon_name(user).await?;
        let Some(account) = accounts::find(&self.store.db, &address).await? else {
            return Ok(Err(CramRefused::Logon(LogonRefused::NoSuchAccount)));
        };
        match domains::get(&self.store.db, account.domain_id).await? {
            Some(d) if d.active => {}
            _ => return Ok(Err(CramRefused::Logon(LogonRefused::DomainInactive))),
        }
        if !account.active {
            return Ok(Err(CramRefused::Logon(LogonRefused::AccountInactive)));
        }
        let Some(clear) = password::plaintext_available(account.password_scheme, &account.password) else {
            return Ok(Err(CramRefused::NotRecoverable));
        };
        if !password::cram_md5_verify(&clear, challenge, digest) {
            return Ok(Err(CramRefused::Logon(LogonRefused::BadPassword)));
        }
        accounts::touch_logon(&self.store.db, account.id, altimail_core::time::now_local()).await?;
        Ok(Ok(account.address))
    }

    /// MAIL FROM: the size limit of a local sender's domain applies on top of the global one.
    async fn check_sender(&self, session: &mut Session, sender: &str, size: Option<u64>) -> Result<(), Reply> {
        let Some((_, domain)) = altimail_core::address::split(sender) else { return Ok(()) };
        match domains::find(&self.store.db, domain).await {
            Ok(Some(d)) if d.max_message_size_kb > 0 => {
                let limit = u64::try_from(d.max_message_size_kb).unwrap_or(0) * 1024;
                session.limit_message_size(limit);
                if size.is_some_and(|s| s > limit) {
                    return Err(Reply::new(552, Some((5, 3, 4)), "Message size exceeds fixed maximum message size"));
                }
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!("smtp: sender check failed: {e}");
                Err(temp_failure())
            }
        }
    }

    async fn check_recipient(
        &self,
        conn: &Connection,
        session: &Session,
        tx: &mut Transaction,
        rcpt: &str,
        params: &crate::proto::RcptParams,
        spam: Option<(&altimail_antispam::Checker, &altimail_antispam::greylist::Policy, &str)>,
    ) -> Result<(), Reply> {
        let auth = session.authenticated_user().map(str::to_owned);
        if let Some(user) = &auth {
            // Credentials are checked again for each transaction: a disabled account stops sending.
            match accounts::find(&self.store.db, user).await {
                Ok(Some(a)) if a.active => {}
                Ok(_) => {
                    return Err(Reply::new(
                        535,
                        Some((5, 7, 8)),
                        "Login credentials no longer valid. Please re-authenticate.",
                    ));
                }
                Err(e) => {
                    conn.log.error(Severity::High, 5014, "SMTPD", &format!("looking up account {user}: {e}"));
                    return Err(temp_failure());
                }
            }
        }
        let sender = Sender::new(&tx.sender, auth.as_deref());
        match resolve::rcpt(&self.store.db, conn.range.options, &sender, rcpt).await {
            Ok(resolution) => {
                // Greylisting: the anti-spam tests apply (range bit checked by the caller) and
                // the client is not authenticated.
                if let (Some((checker, policy, host)), None) = (spam, &auth) {
                    let helo = session.helo().unwrap_or_default();
                    let greylisted = antispam::greylist(
                        &self.store,
                        conn,
                        checker,
                        policy,
                        &mut tx.spam_ctx,
                        host,
                        helo,
                        &tx.sender,
                        rcpt,
                    )
                    .await?;
                    if greylisted == antispam::Greylisted::AfterData {
                        tx.greylisted_after_data = true;
                    }
                }
                let (notify, orcpt) = dsn_strings(params);
                let more = resolution.recipients.into_iter().map(|r| QueuedRecipient {
                    address: r.address,
                    account_id: r.account_id,
                    original: r.original_address,
                    notify: notify.clone(),
                    orcpt: orcpt.clone(),
                });
                for r in more {
                    if tx.local_domain.is_none()
                        && r.account_id != 0
                        && let Some((_, domain)) = altimail_core::address::split(&r.address)
                        && let Ok(index) = DirectoryIndex::of(&self.store.db).snapshot(&self.store.db).await
                        && let Some(d) = index.domain(domain)
                    {
                        tx.local_domain = Some(d.id);
                    }
                    if !tx.recipients.iter().any(|have| have.address.eq_ignore_ascii_case(&r.address)) {
                        tx.recipients.push(r);
                    }
                }
                Ok(())
            }
            Err(e) => {
                if e.refusal().is_none() {
                    tracing::warn!("smtp: recipient check failed: {e}");
                }
                Err(resolve_reply(e.reply()))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn accept(
        &self,
        conn: &Connection,
        settings: &altimail_store::repo::settings::Settings,
        host: &str,
        checker: Option<&altimail_antispam::Checker>,
        tx: &mut Transaction,
        message: crate::session::Message,
        client: altimail_scripting::ClientInfo,
    ) -> Result<i64, Reply> {
        let envelope = &message.envelope;
        let streamed = std::mem::take(&mut tx.body);
        if tx.greylisted_after_data {
            // A greylisted bounce: nothing is stored (a streamed body's file goes with `streamed`).
            return Err(antispam::after_data_reply());
        }
        // Post-transmission anti-spam, before anything is stored: a refusal is final here.
        let mut edited = None;
        if !message.streamed
            && let (Some(checker), Some(state)) = (checker, tx.spam.as_mut())
        {
            let edits = antispam::after_data(conn, checker, state, &message.body).await?;
            edited = Some(edits.apply(&message.body));
        }
        if tx.recipients.is_empty() {
            // Every recipient was an alias with an empty target: accepted, nothing to deliver.
            return Ok(0);
        }
        // Anti-virus (attachment blocking, virus scan), after anti-spam and before storing.
        let av = match &self.antivirus {
            Some(av) => antivirus::settings_for(&self.store, conn, av).await?,
            None => None,
        };
        let rcpt_addresses: Vec<String> = tx.recipients.iter().map(|r| r.address.clone()).collect();
        let extras = self.extras(conn, envelope);
        if message.streamed {
            let StreamedBody::Writing(mut file) = streamed else { return Err(not_saved()) };
            if let Err(e) = file.append(&message.body).await {
                conn.log.error(Severity::High, 5020, "SMTPD", &format!("message could not be saved: {e}"));
                return Err(not_saved());
            }
            let file = match (tx.spam_file.take(), checker, tx.spam.as_mut()) {
                (Some(split), Some(checker), Some(state)) => {
                    antispam::check_file(&self.spool, conn, checker, state, split, *file).await?
                }
                _ => *file,
            };
            let file = match &av {
                Some(settings) => {
                    let (store, spool) = (&self.store, &self.spool);
                    antivirus::check_file(store, spool, conn, settings, host, &tx.sender, &rcpt_addresses, file).await?
                }
                None => file,
            };
            // OnAcceptMessage on a streamed message: the envelope only (the body is on disk, not
            // held); a refusal drops the file, what the script saves is not applied.
            if let Some(scripts) = self.scripts.as_ref().filter(|s| s.handles(scripts::Event::OnAcceptMessage)) {
                let message = scripts::message(&tx.sender, &tx.recipients, Vec::new());
                let args = vec![altimail_scripting::Arg::Client(client), altimail_scripting::Arg::Message(message)];
                let answer = scripts.fire(settings, scripts::Event::OnAcceptMessage, args).await;
                if let Some(reply) = scripts::refusal(answer.as_ref()) {
                    conn.log_line(&format!("Message refused by the OnAcceptMessage script: {}", reply.code));
                    return Err(reply);
                }
            }
            let queued = self.spool.submit_file(file, tx.sender.clone(), tx.recipients.clone(), extras).await;
            return queued.map_err(|e| {
                conn.log.error(Severity::High, 5020, "SMTPD", &format!("message could not be saved: {e}"));
                not_saved()
            });
        }
        if let Some(settings) = &av {
            let body = edited.as_deref().unwrap_or(&message.body);
            let (store, spool) = (&self.store, &self.spool);
            if let antivirus::Verdict::Replace(rewritten) =
                antivirus::check(store, spool, conn, settings, host, &tx.sender, &rcpt_addresses, body).await?
            {
                edited = Some(rewritten);
            }
        }
        let received_body = edited.as_deref().unwrap_or(&message.body);
        // hMailServer's SignatureAdder: mail from a sender on a local domain gets the account and
        // domain signatures (before our Received header, which is not part of the body anyway).
        let rcpts: Vec<&str> = tx.recipients.iter().map(|r| r.address.as_str()).collect();
        let signed = altimail_delivery::signature::for_sender(&self.store, &tx.sender, &rcpts, received_body)
            .await
            .map(|(plain, html)| altimail_delivery::signature::add(received_body, &plain, &html));
        let body = signed.as_deref().unwrap_or(received_body);
        let now = altimail_delivery::generated::rfc5322_now();
        let mut data = trace_headers(envelope, conn.peer_ip(), host, &now, body);
        data.extend_from_slice(body);
        // OnAcceptMessage, the last stage before the message is stored.
        if let Some(scripts) = self.scripts.as_ref().filter(|s| s.handles(scripts::Event::OnAcceptMessage)) {
            data = self.on_accept_message(conn, settings, scripts, client, tx, data).await?;
        }
        let new = NewMessage { sender: tx.sender.clone(), recipients: tx.recipients.clone(), extras, data };
        self.spool.submit(new).await.map_err(|e| {
            conn.log.error(Severity::High, 5020, "SMTPD", &format!("message could not be saved: {e}"));
            not_saved()
        })
    }

    /// Runs OnAcceptMessage on the message about to be stored: a refusal (Result 1, 2, 3) is
    /// the reply; what the script saved is what is stored (added recipients are resolved as
    /// the directory says, without relay checks, as hMailServer's AddRecipient does).
    async fn on_accept_message(
        &self,
        conn: &Connection,
        settings: &altimail_store::repo::settings::Settings,
        scripts: &Scripts,
        client: altimail_scripting::ClientInfo,
        tx: &mut Transaction,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, Reply> {
        // The script works on a copy: what it did not save is not stored.
        let message = scripts::message(&tx.sender, &tx.recipients, data.clone());
        let args = vec![altimail_scripting::Arg::Client(client), altimail_scripting::Arg::Message(message.clone())];
        let answer = scripts.fire(settings, scripts::Event::OnAcceptMessage, args).await;
        if let Some(reply) = scripts::refusal(answer.as_ref()) {
            conn.log_line(&format!("Message refused by the OnAcceptMessage script: {}", reply.code));
            return Err(reply);
        }
        let Some(saved) = message.saved() else { return Ok(data) };
        if let Some(list) = saved.recipients {
            let mut recipients: Vec<QueuedRecipient> = Vec::new();
            for r in list {
                // Recipients the session resolved keep their resolution.
                if let Some(known) = tx.recipients.iter().find(|q| q.address.eq_ignore_ascii_case(&r.address)) {
                    recipients.push(known.clone());
                    continue;
                }
                match resolve::expand(&self.store.db, &r.address).await {
                    Ok(found) => recipients.extend(found.into_iter().map(|f| QueuedRecipient {
                        address: f.address,
                        account_id: f.account_id,
                        original: f.original_address,
                        notify: String::new(),
                        orcpt: String::new(),
                    })),
                    Err(e) if e.refusal().is_some() => {
                        // Not local and not routed: delivered externally, as hMailServer does.
                        recipients.push(QueuedRecipient::local(&r.address, 0, &r.address));
                    }
                    Err(e) => {
                        conn.log.error(Severity::High, 5014, "SMTPD", &format!("resolving {}: {e}", r.address));
                        return Err(temp_failure());
                    }
                }
            }
            recipients.dedup_by(|a, b| a.address.eq_ignore_ascii_case(&b.address));
            tx.recipients = recipients;
        }
        Ok(saved.raw)
    }

    /// What the queue keeps about a message besides sender and recipients.
    fn extras(&self, conn: &Connection, envelope: &Envelope) -> EnvelopeExtras {
        let p = &envelope.params;
        EnvelopeExtras {
            envid: p.envid.clone().unwrap_or_default(),
            ret: match p.ret {
                Some(Ret::Full) => "FULL".into(),
                Some(Ret::Headers) => "HDRS".into(),
                None => String::new(),
            },
            body: match p.body {
                Some(BodyType::SevenBit) => "7BIT".into(),
                Some(BodyType::EightBitMime) => "8BITMIME".into(),
                Some(BodyType::BinaryMime) => "BINARYMIME".into(),
                None => String::new(),
            },
            smtputf8: p.smtputf8,
            auth_user: envelope.authenticated.clone().unwrap_or_default(),
            client_ip: Some(conn.peer_ip()),
            skip_antispam: conn.range.options & altimail_core::codes::range::ANTI_SPAM == 0,
            skip_antivirus: conn.range.options & altimail_core::codes::range::ANTI_VIRUS == 0,
        }
    }
}

/// Whether the client's IP range has the anti-spam bit (the tests apply to its mail).
fn antispam_applies(conn: &Connection) -> bool {
    conn.range.options & altimail_core::codes::range::ANTI_SPAM != 0
}

/// The headers the server puts before a message: `Received:`, and for a submission the `Date:`
/// and `Message-ID:` that `body` (or the start of it) lacks.
fn trace_headers(envelope: &Envelope, peer: std::net::IpAddr, host: &str, now: &str, body: &[u8]) -> Vec<u8> {
    let mut data = received::received_header(envelope, peer, host, now).into_bytes();
    if envelope.authenticated.is_some() {
        data.extend_from_slice(received::submission_headers(body, host, now).as_bytes());
    }
    data
}

fn not_saved() -> Reply {
    Reply::new(451, Some((4, 3, 0)), "Your message could not be saved. Please retry later.")
}

fn dsn_strings(params: &crate::proto::RcptParams) -> (String, String) {
    let notify = match params.notify {
        None => String::new(),
        Some(Notify::Never) => "NEVER".into(),
        Some(Notify::On { success, failure, delay }) => {
            let mut v = Vec::new();
            if success {
                v.push("SUCCESS");
            }
            if failure {
                v.push("FAILURE");
            }
            if delay {
                v.push("DELAY");
            }
            v.join(",")
        }
    };
    let orcpt = params.orcpt.as_ref().map(|o| format!("{};{}", o.addr_type, o.address)).unwrap_or_default();
    (notify, orcpt)
}

fn log_sent(conn: &Connection, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    conn.log_line(&format!("SENT: {}", text.trim_end()));
}

/// Writes and empties `out`, giving up when the client does not read for `limit`.
async fn flush(conn: &mut Connection, out: &mut Vec<u8>, limit: Duration) -> std::io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let r = write_all_by(&mut conn.stream, out, limit).await;
    out.clear();
    r?;
    match tokio::time::timeout(limit, conn.stream.flush()).await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "flush timed out")),
    }
}
