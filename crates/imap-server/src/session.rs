//! One IMAP connection: reading commands through the sans-IO assembler and parser, dispatching
//! them by state, writing responses and untagged updates, logging, timeouts and shutdown.

use std::io;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use altimail_imap::command::{Command, CommandBody};
use altimail_imap::fragment::{FragmentError, Fragmenter, Frame, Limits, NonSyncLiterals, TooBig};
use altimail_imap::mailbox::SelectedMailbox;
use altimail_imap::parse::{parse_command, tag_of};
use altimail_net::deadline::{Expired, ReadClock, ReadLimits, write_all_by};
use altimail_net::{Connection, Severity};
use altimail_store::repo::accounts::Account;
use altimail_store::repo::acl::Rights;
use altimail_store::repo::folders::Folder;
use altimail_store::{Location, Store, StoreError};

use crate::config::Config;
use crate::names::{Namer, Owner};
use crate::panic_guard::catch_panic;
use crate::select::Meta;

/// How long an authenticated client may stay silent (RFC 9051 §5.4: at least 30 minutes).
pub(crate) const AUTOLOGOUT: Duration = Duration::from_secs(30 * 60);
/// How long a client that has not logged on may stay silent.
const PRE_AUTH_TIMEOUT: Duration = Duration::from_secs(120);
/// Literals larger than this get extra time to arrive, at [`LITERAL_RATE`].
const LITERAL_ALLOWANCE_FROM: u64 = 64 * 1024;
/// The slowest upload rate a large literal (an APPEND) is given time for, in bytes a second.
const LITERAL_RATE: u64 = 32 * 1024;
/// The longest a write may stall before the client is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(600);
/// The same before logon: a client that does not read its answers holds no session for long.
const PRE_AUTH_WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Socket reads.
const READ_CHUNK: usize = 4 * 1024;
/// Output gathered before it is written.
pub(crate) const FLUSH_AT: usize = 64 * 1024;
/// Longest command text after logon (its literals aside): long sequence sets fit.
const MAX_LINE: usize = 1024 * 1024;
/// Consecutive bad commands before the client is disconnected.
const MAX_BAD_COMMANDS: u32 = 20;
/// Longest command line logged.
const MAX_LOGGED: usize = 512;

/// Extensions the client turned on (ENABLE, or implicitly for CONDSTORE).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Enabled {
    pub condstore: bool,
    pub qresync: bool,
    pub utf8: bool,
    pub rev2: bool,
}

/// The selected mailbox: the session's view of it and what is needed to work on it.
pub(crate) struct Open {
    pub view: SelectedMailbox,
    pub folder: Folder,
    pub owner: Owner,
    /// The owning account's address (files live under it); empty for public folders.
    pub owner_address: String,
    pub rights: Rights,
    pub watch: watch::Receiver<u64>,
    /// Size, arrival time and file of each message, by UID.
    pub meta: std::collections::HashMap<u32, Meta>,
    /// Keywords announced in FLAGS so far.
    pub keywords: Vec<String>,
    /// The store's highest modseq at the last sync.
    pub synced_modseq: u64,
}

/// A message of the view, copied out so the session can be borrowed again.
#[derive(Debug, Clone)]
pub(crate) struct ViewMessage {
    pub id: i64,
    pub uid: u32,
    pub flags: i64,
    pub keywords: Vec<String>,
    pub recent: bool,
    pub meta: Meta,
}

impl Open {
    /// Message `seq` with what the session knows of it.
    pub(crate) fn message(&self, seq: u32) -> Option<ViewMessage> {
        let e = self.view.entry(seq)?;
        let meta = self.meta.get(&e.uid)?.clone();
        Some(ViewMessage {
            id: e.id,
            uid: e.uid,
            flags: e.flags,
            keywords: e.keywords.to_vec(),
            recent: e.recent,
            meta,
        })
    }

    /// Records this session's own flag change in the view and the metadata.
    pub(crate) fn stored(&mut self, uid: u32, flags: i64, mut keywords: Vec<String>, modseq: u64) {
        // In the store's order, so the next read of this message compares equal.
        altimail_store::repo::mailbox::sort_keywords(&mut keywords);
        if let Some(m) = self.meta.get_mut(&uid) {
            m.modseq = modseq;
            m.flags = flags;
            m.keywords = keywords.clone();
        }
        self.view.set_flags(uid, flags, keywords, modseq);
    }

    /// Notices the change bus has given for this folder so far.
    pub(crate) fn notices(&self) -> u64 {
        *self.watch.borrow()
    }

    /// After this session's own change at `modseq` (taken when the bus stood at `notices_before`):
    /// when nothing else happened since the last sync (the folder moved by one modseq, the bus by
    /// one notice), the view is already current and the next refresh need not read it back.
    pub(crate) fn absorb_own_change(&mut self, notices_before: u64, modseq: u64) {
        if modseq == self.synced_modseq + 1 && self.notices() == notices_before + 1 {
            self.watch.borrow_and_update();
            self.synced_modseq = modseq;
        }
    }

    /// Announces keywords not yet in FLAGS (clients may reject flags they were not told of).
    pub(crate) fn announce_keywords<'k>(&mut self, found: impl IntoIterator<Item = &'k String>, out: &mut Vec<u8>) {
        let mut grew = false;
        for k in found {
            if !self.keywords.iter().any(|known| known.eq_ignore_ascii_case(k)) {
                self.keywords.push(k.clone());
                grew = true;
            }
        }
        if grew {
            crate::select::write_flag_lists(out, &self.keywords, self.view.read_only());
        }
    }

    pub(crate) fn location(&self) -> Location<'_> {
        self.owner.location(&self.owner_address)
    }
}

/// How a command ended: the tagged status and its text (which may start with a response code).
pub(crate) enum Done {
    Ok(String),
    No(String),
    Bad(String),
}

impl From<StoreError> for Done {
    fn from(e: StoreError) -> Self {
        tracing::error!("imap: store error: {e}");
        Done::No("[SERVERBUG] Internal error, try again later".into())
    }
}

/// A handler's result: `Ok(text)` answers `OK text`.
pub(crate) type Outcome = Result<String, Done>;

pub(crate) fn no<T>(text: impl Into<String>) -> Result<T, Done> {
    Err(Done::No(text.into()))
}

pub(crate) fn bad<T>(text: impl Into<String>) -> Result<T, Done> {
    Err(Done::Bad(text.into()))
}

pub(crate) struct Session {
    pub store: Store,
    pub conn: Connection,
    pub cfg: Config,
    pub out: Vec<u8>,
    frag: Fragmenter,
    /// Read deadlines: idle, per command, and the logon deadline until logon.
    clock: ReadClock,
    pub account: Option<Account>,
    pub selected: Option<Open>,
    pub enabled: Enabled,
    /// UIDs saved by `SEARCH RETURN (SAVE)` (RFC 5182).
    pub saved: Vec<u32>,
    bad_commands: u32,
    shutdown: watch::Receiver<bool>,
    /// Set when the connection must end after this command (BYE sent).
    pub closing: bool,
    /// Recently scanned message structures, by file name.
    pub structures: Vec<(String, std::sync::Arc<altimail_imap::message::MessageStructure>)>,
    /// The Bayesian filter's learning queue.
    pub trainer: Option<crate::junk::Trainer>,
}

pub(crate) async fn run(store: Store, conn: Connection, trainer: Option<crate::junk::Trainer>) {
    let settings = match conn.policy.settings().await {
        Ok(settings) => settings,
        Err(e) => {
            tracing::error!("imap: settings unavailable: {e}");
            let mut conn = conn;
            let _ = write_all_by(&mut conn.stream, b"* BYE Service temporarily unavailable\r\n", WRITE_TIMEOUT).await;
            return;
        }
    };
    let cfg = Config::new(&conn, &settings);
    // A logon deadline and a per-command one (trickled bytes extend neither), from the settings.
    let clock = ReadClock::new(ReadLimits {
        idle: PRE_AUTH_TIMEOUT,
        command: cfg.command_timeout,
        logon: Some(cfg.logon_timeout),
    });
    let shutdown = conn.shutdown.clone();
    let mut session = Session {
        store,
        conn,
        cfg,
        out: Vec::with_capacity(256),
        frag: Fragmenter::new(Limits::default()),
        clock,
        account: None,
        selected: None,
        enabled: Enabled::default(),
        saved: Vec::new(),
        bad_commands: 0,
        shutdown,
        closing: false,
        structures: Vec::new(),
        trainer,
    };
    let greeting = format!("* OK [CAPABILITY {}] {}\r\n", session.capabilities(), session.cfg.greeting);
    session.send_logged(greeting.as_bytes());
    loop {
        match session.serve().await {
            Flow::StartTls => match session.upgrade().await {
                Some(upgraded) => session = upgraded,
                None => return,
            },
            _ => return,
        }
    }
}

/// What the connection does after a command.
pub(crate) enum Flow {
    Continue,
    End,
    StartTls,
}

/// Why reading stopped.
pub(crate) enum Stop {
    /// The client closed the connection or an I/O error happened.
    Closed,
    /// A read deadline ran out.
    Timeout(Expired),
    /// The client is sending a literal that was refused; it is not read.
    LiteralRefused(u64),
    /// The server is stopping.
    Shutdown,
}

impl Session {
    /// Runs commands until the connection ends or asks for TLS.
    async fn serve(&mut self) -> Flow {
        loop {
            let frame = match self.next_command().await {
                Ok(frame) => frame,
                Err(stop) => {
                    self.end(stop).await;
                    return Flow::End;
                }
            };
            let tag = tag_of(&frame);
            let flow = match catch_panic(self.handle(frame)).await {
                Ok(flow) => flow,
                Err(panic) => {
                    self.internal_error(tag, &panic);
                    Flow::End
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::End => {
                    let _ = self.flush().await;
                    let _ = tokio::time::timeout(WRITE_TIMEOUT, self.conn.stream.shutdown()).await;
                    return Flow::End;
                }
                Flow::StartTls => return Flow::StartTls,
            }
            if self.bad_commands >= MAX_BAD_COMMANDS {
                self.send_logged(b"* BYE Too many invalid commands\r\n");
                let _ = self.flush().await;
                return Flow::End;
            }
        }
    }

    /// Replaces the connection by its TLS upgrade, keeping the session.
    async fn upgrade(self) -> Option<Session> {
        let limits = self.frag.limits();
        let conn = match self.conn.start_tls().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::debug!("imap: TLS handshake failed: {e}");
                return None;
            }
        };
        // Anything the client sent before the handshake is discarded (no command injection).
        Some(Session { conn, frag: Fragmenter::new(limits), ..self })
    }

    /// Says goodbye when the reason allows it.
    pub(crate) async fn end(&mut self, stop: Stop) {
        let peer = self.conn.peer_ip();
        let line: &[u8] = match stop {
            Stop::Closed => return,
            Stop::Timeout(Expired::Idle) => b"* BYE Autologout; idle for too long\r\n",
            Stop::Timeout(Expired::Command) => {
                let limit = self.cfg.command_timeout;
                tracing::info!("imap: {peer}: a command took longer than {limit:?} to arrive; closing");
                b"* BYE Command not received in time\r\n"
            }
            Stop::Timeout(Expired::Logon) => {
                let limit = self.cfg.logon_timeout;
                tracing::info!("imap: {peer}: no logon within {limit:?}; closing");
                b"* BYE Logon not completed in time\r\n"
            }
            Stop::LiteralRefused(size) => {
                tracing::warn!("imap: {peer}: refused literal of {size} octets on its way; closing");
                b"* BYE Literal too large\r\n"
            }
            Stop::Shutdown => b"* BYE Server shutting down\r\n",
        };
        self.send_logged(line);
        let _ = self.flush().await;
    }

    /// A command panicked: the client gets an answer, the error log a line, and the session
    /// ends (its state may be half-changed).
    fn internal_error(&mut self, tag: Option<String>, panic: &str) {
        tracing::error!("imap: {}: command panicked: {panic}", self.conn.peer_ip());
        self.log_error("IMAP command failed", &panic);
        // Part of a response may be buffered; it must not be sent as if complete.
        self.out.clear();
        let tag = tag.unwrap_or_else(|| "*".to_owned());
        self.send_logged(format!("{tag} NO [SERVERBUG] Internal server error\r\n").as_bytes());
        self.send_logged(b"* BYE Internal server error\r\n");
    }

    /// The next complete command (or continuation line), reading as needed. Answers `+` to
    /// synchronising literals and refuses commands over the caps.
    pub(crate) async fn next_command(&mut self) -> Result<Vec<u8>, Stop> {
        loop {
            if let Some(size) = self.frag.discarding_literal() {
                return Err(Stop::LiteralRefused(size));
            }
            match self.frag.poll() {
                Ok(Some(Frame::Command(bytes))) => return Ok(bytes),
                Ok(Some(Frame::Continue)) => {
                    self.out.extend_from_slice(b"+ Ready for literal data\r\n");
                    self.flush().await.map_err(|_| Stop::Closed)?;
                }
                Ok(None) => {
                    self.flush().await.map_err(|_| Stop::Closed)?;
                    self.read_more().await?;
                }
                Err(refused) => self.refused(refused),
            }
        }
    }

    fn refused(&mut self, e: FragmentError) {
        let tag = e.tag.unwrap_or_else(|| "*".to_owned());
        let line = match e.kind {
            TooBig::Literal { size } => format!("{tag} NO [TOOBIG] Literal of {size} octets is too large\r\n"),
            TooBig::NonSyncLiteral { .. } => format!("{tag} BAD Non-synchronizing literal over 4096 octets\r\n"),
            TooBig::NonSyncNotAllowed => format!("{tag} BAD Non-synchronizing literals are not allowed\r\n"),
            TooBig::TooManyLiterals => format!("{tag} BAD Too many literals in one command\r\n"),
            TooBig::CommandTooLong => format!("{tag} BAD Command line too long\r\n"),
        };
        self.bad_commands += 1;
        self.send_logged(line.as_bytes());
    }

    /// Reads more client bytes into the assembler, within the read deadlines: a command that
    /// has started must be complete within the command timeout (plus time for a large
    /// literal), whatever the client sends meanwhile.
    pub(crate) async fn read_more(&mut self) -> Result<(), Stop> {
        if let Some(size) = self.frag.take_announced_literal()
            && size > LITERAL_ALLOWANCE_FROM
        {
            self.clock.command_pending_for(self.cfg.command_timeout + Duration::from_secs(size / LITERAL_RATE));
        } else if self.frag.in_command() {
            self.clock.command_pending();
        } else {
            self.clock.command_done();
        }
        let mut buf = [0u8; READ_CHUNK];
        let mut shutdown = self.shutdown.clone();
        // A command being received (an APPEND literal, say) is read to its end and carried
        // out: a graceful stop ends the session between commands.
        let between_commands = !self.frag.in_command();
        tokio::select! {
            read = self.clock.read(&mut self.conn.stream, &mut buf) => match read {
                Ok(Ok(0)) | Ok(Err(_)) => Err(Stop::Closed),
                Ok(Ok(n)) => {
                    self.frag.push(buf.get(..n).unwrap_or_default());
                    Ok(())
                }
                Err(expired) => Err(Stop::Timeout(expired)),
            },
            _ = shutdown.wait_for(|stopping| *stopping), if between_commands => Err(Stop::Shutdown),
        }
    }

    /// Handles one command.
    async fn handle(&mut self, bytes: Vec<u8>) -> Flow {
        let cmd = match parse_command(&bytes) {
            Ok(cmd) => cmd,
            Err(e) => {
                self.log_received(&bytes, None);
                self.bad_commands += 1;
                let tag = tag_of(&bytes).unwrap_or_else(|| "*".to_owned());
                self.send_logged(format!("{tag} BAD Error in IMAP command: {e}\r\n").as_bytes());
                return Flow::Continue;
            }
        };
        self.log_received_command(&cmd, &bytes);
        drop(bytes);
        let tag = cmd.tag.clone();
        let allow_expunge = allows_expunge(&cmd.body);
        let logout = matches!(cmd.body, CommandBody::Logout);
        if matches!(cmd.body, CommandBody::StartTls) && !self.conn.is_tls() && self.cfg.starttls {
            self.send_logged(format!("{tag} OK Begin TLS negotiation now\r\n").as_bytes());
            return if self.flush().await.is_ok() { Flow::StartTls } else { Flow::End };
        }
        if self.selected.is_some()
            && let Err(e) = self.refresh(false).await
        {
            tracing::error!("imap: refreshing the selected mailbox: {e}");
        }
        let condstore_before = self.enabled.condstore;
        let selecting = matches!(cmd.body, CommandBody::Select { .. });
        let done = self.dispatch(cmd).await;
        if !condstore_before
            && self.enabled.condstore
            && !selecting
            && let Some(open) = self.selected.as_ref()
        {
            // RFC 7162 §3.1: the first CONDSTORE-enabling command tells the mailbox's HIGHESTMODSEQ.
            let line = format!("* OK [HIGHESTMODSEQ {}] Highest\r\n", open.view.highest_modseq().max(1));
            self.out.extend_from_slice(line.as_bytes());
        }
        let done = match done {
            Ok(text) => Done::Ok(text),
            Err(done) => done,
        };
        if matches!(done, Done::Bad(_)) {
            self.bad_commands += 1;
        } else {
            self.bad_commands = 0;
        }
        if !logout && self.selected.is_some() && !matches!(done, Done::Bad(_)) {
            if let Err(e) = self.refresh(false).await {
                tracing::error!("imap: refreshing the selected mailbox: {e}");
            }
            self.write_updates(allow_expunge);
        }
        let (status, text) = match &done {
            Done::Ok(t) => ("OK", t),
            Done::No(t) => ("NO", t),
            Done::Bad(t) => ("BAD", t),
        };
        self.send_logged(format!("{tag} {status} {text}\r\n").as_bytes());
        if self.out.len() >= FLUSH_AT && self.flush().await.is_err() {
            return Flow::End;
        }
        if logout || self.closing { Flow::End } else { Flow::Continue }
    }

    async fn dispatch(&mut self, cmd: Command) -> Outcome {
        use CommandBody as C;
        let tag = cmd.tag;
        let authenticated = self.account.is_some();
        let selected = self.selected.is_some();
        if self.cfg.starttls_required
            && !self.conn.is_tls()
            && !matches!(cmd.body, C::Capability | C::Noop | C::Logout | C::StartTls)
        {
            return bad("STARTTLS is required.");
        }
        match cmd.body {
            C::Capability => {
                let line = format!("* CAPABILITY {}\r\n", self.capabilities());
                self.out.extend_from_slice(line.as_bytes());
                Ok("CAPABILITY completed".into())
            }
            C::Noop | C::Check => {
                if selected {
                    self.refresh(true).await?;
                }
                Ok(if matches!(cmd.body, C::Check) { "CHECK completed" } else { "NOOP completed" }.into())
            }
            C::Logout => {
                self.out.extend_from_slice(b"* BYE Logging out\r\n");
                Ok("LOGOUT completed".into())
            }
            C::Id(_) => {
                self.out.extend_from_slice(b"* ID (\"name\" \"Altimail\" \"vendor\" \"Altimail\")\r\n");
                Ok("ID completed".into())
            }
            C::StartTls => Box::pin(self.starttls()).await,
            C::Login { username, password } if !authenticated => Box::pin(self.login(&username, &password)).await,
            C::Authenticate { mechanism, initial_response } if !authenticated => {
                Box::pin(self.authenticate(&mechanism, initial_response)).await
            }
            C::Login { .. } | C::Authenticate { .. } => bad("Already logged in"),
            _ if !authenticated => bad("Not logged in"),
            C::Enable(caps) => Ok(self.enable(&caps)),
            C::Namespace => Ok(self.namespace()),
            C::Select { mailbox, read_only, params } => Box::pin(self.select(&mailbox.0, read_only, &params)).await,
            C::Create { mailbox, special_use } => Box::pin(self.create(&mailbox.0, &special_use)).await,
            C::Delete(mailbox) => Box::pin(self.delete(&mailbox.0)).await,
            C::Rename { from, to } => Box::pin(self.rename(&from.0, &to.0)).await,
            C::Subscribe(mailbox) => Box::pin(self.subscribe(&mailbox.0, true)).await,
            C::Unsubscribe(mailbox) => Box::pin(self.subscribe(&mailbox.0, false)).await,
            C::List { select, reference, patterns, returns } => {
                Box::pin(self.list(&select, &reference, &patterns, &returns)).await
            }
            C::Lsub { reference, pattern } => Box::pin(self.lsub(&reference, &pattern)).await,
            C::Status { mailbox, items } => Box::pin(self.status(&mailbox.0, &items)).await,
            C::Append { mailbox, messages } => Box::pin(self.append(&mailbox.0, messages)).await,
            C::Idle => Box::pin(self.idle()).await,
            C::GetQuota(root) => Box::pin(self.get_quota(&root)).await,
            C::GetQuotaRoot(mailbox) => Box::pin(self.get_quota_root(&mailbox.0)).await,
            C::GetAcl(mailbox) => Box::pin(self.get_acl(&mailbox.0)).await,
            C::SetAcl { mailbox, identifier, rights } => Box::pin(self.set_acl(&mailbox.0, &identifier, &rights)).await,
            C::DeleteAcl { mailbox, identifier } => Box::pin(self.delete_acl(&mailbox.0, &identifier)).await,
            C::ListRights { mailbox, identifier } => Box::pin(self.list_rights(&mailbox.0, &identifier)).await,
            C::MyRights(mailbox) => Box::pin(self.my_rights(&mailbox.0)).await,
            _ if !selected => bad("No mailbox selected"),
            C::Close => Box::pin(self.close(true)).await,
            C::Unselect => Box::pin(self.close(false)).await,
            C::Expunge { uids } => Box::pin(self.expunge(uids.as_ref())).await,
            C::Search { uid, returns, charset, criteria } => {
                Box::pin(self.search(&tag, uid, returns, charset.as_deref(), criteria)).await
            }
            C::Fetch { uid, set, attrs, modifiers } => Box::pin(self.fetch(uid, &set, attrs, &modifiers)).await,
            C::Store { uid, set, unchanged_since, mode, silent, flags } => {
                Box::pin(self.store_flags(uid, &set, unchanged_since, mode, silent, &flags)).await
            }
            C::Copy { uid, set, mailbox } => Box::pin(self.copy(uid, &set, &mailbox.0, false)).await,
            C::Move { uid, set, mailbox } => Box::pin(self.copy(uid, &set, &mailbox.0, true)).await,
            C::Sort { uid, keys, charset, criteria } => Box::pin(self.sort(uid, &keys, &charset, criteria)).await,
            C::Thread { uid, algorithm, charset, criteria } => {
                Box::pin(self.thread(uid, &algorithm, &charset, criteria)).await
            }
        }
    }

    /// The CAPABILITY list for the current state.
    pub(crate) fn capabilities(&self) -> String {
        let mut caps = vec!["IMAP4rev1", "IMAP4rev2", "SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE"];
        let tls = self.conn.is_tls();
        if self.account.is_none() {
            if self.cfg.starttls && !tls {
                caps.push("STARTTLS");
            }
            let login_allowed = tls || !(self.cfg.starttls_required || self.cfg.auth_requires_tls);
            if !login_allowed {
                caps.push("LOGINDISABLED");
            } else if self.cfg.sasl_plain {
                caps.push("AUTH=PLAIN");
            }
            return caps.join(" ");
        }
        caps.extend([
            "NAMESPACE",
            "UNSELECT",
            "UIDPLUS",
            "MOVE",
            "CHILDREN",
            "SPECIAL-USE",
            "CREATE-SPECIAL-USE",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "STATUS=SIZE",
            "ESEARCH",
            "SEARCHRES",
            "CONDSTORE",
            "QRESYNC",
            "BINARY",
            "UTF8=ACCEPT",
            "MULTIAPPEND",
        ]);
        if self.cfg.sort {
            caps.extend(["SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"]);
        }
        if self.cfg.quota {
            caps.extend(["QUOTA", "QUOTA=RES-STORAGE"]);
        }
        if self.cfg.acl {
            caps.extend(["ACL", "RIGHTS=texk"]);
        }
        let mut s = caps.join(" ");
        s.push_str(&format!(" APPENDLIMIT={}", self.cfg.append_limit));
        s
    }

    fn enable(&mut self, caps: &[String]) -> String {
        let mut turned_on = Vec::new();
        for cap in caps {
            let upper = cap.to_ascii_uppercase();
            let newly = match upper.as_str() {
                "CONDSTORE" => !std::mem::replace(&mut self.enabled.condstore, true),
                "QRESYNC" => {
                    self.enabled.condstore = true;
                    !std::mem::replace(&mut self.enabled.qresync, true)
                }
                "UTF8=ACCEPT" => !std::mem::replace(&mut self.enabled.utf8, true),
                "IMAP4REV2" => !std::mem::replace(&mut self.enabled.rev2, true),
                _ => false,
            };
            if newly {
                turned_on.push(upper);
            }
        }
        if !turned_on.is_empty() {
            self.out.extend_from_slice(format!("* ENABLED {}\r\n", turned_on.join(" ")).as_bytes());
        } else {
            self.out.extend_from_slice(b"* ENABLED\r\n");
        }
        "ENABLE completed".into()
    }

    fn namespace(&mut self) -> String {
        let d = crate::names::quoted_delimiter(self.cfg.delimiter);
        let public = self.namer().join(Owner::Public, &[]);
        let mut line = format!("* NAMESPACE ((\"\" {d})) NIL ((");
        let mut enc = Vec::new();
        altimail_imap::wire::string(&mut enc, format!("{public}{}", self.cfg.delimiter).as_bytes());
        line.push_str(&String::from_utf8_lossy(&enc));
        line.push_str(&format!(" {d}))\r\n"));
        self.out.extend_from_slice(line.as_bytes());
        "NAMESPACE completed".into()
    }

    /// Where the message files of a tree of the logged-on account live.
    pub(crate) fn location_of(&self, owner: Owner) -> Location<'_> {
        owner.location(self.account.as_ref().map_or("", |a| a.address.as_str()))
    }

    /// The name converter for the current state (UTF8=ACCEPT changes it).
    pub(crate) fn namer(&self) -> Namer {
        Namer { delimiter: self.cfg.delimiter, public_name: self.cfg.public_name.clone(), utf8: self.enabled.utf8 }
    }

    /// After logon: APPENDLIMIT for literals, the authenticated idle time, no logon deadline.
    pub(crate) fn raise_limits(&mut self) {
        let max = self.cfg.append_limit;
        self.frag.set_limits(Limits {
            max_literal: max,
            max_literals: 64,
            max_command: usize::try_from(max.saturating_add(1024 * 1024)).unwrap_or(usize::MAX),
            max_line: MAX_LINE,
            non_sync: NonSyncLiterals::Plus,
        });
        // Logon is a complete command, so no command deadline is running to carry over.
        self.clock = ReadClock::new(ReadLimits { idle: AUTOLOGOUT, command: self.cfg.command_timeout, logon: None });
    }

    /// Writes and empties the output buffer.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let limit = if self.account.is_some() { WRITE_TIMEOUT } else { PRE_AUTH_WRITE_TIMEOUT };
        let result = write_all_by(&mut self.conn.stream, &self.out, limit).await;
        self.out.clear();
        // A large response must not stay allocated for the life of an idle connection.
        if self.out.capacity() > 16 * 1024 {
            self.out.shrink_to(1024);
        }
        result?;
        // TLS may still hold bytes back until flushed: that wait is bounded too.
        match tokio::time::timeout(limit, self.conn.stream.flush()).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "client not reading")),
        }
    }

    /// Appends a line to the output and logs it.
    pub(crate) fn send_logged(&mut self, line: &[u8]) {
        self.out.extend_from_slice(line);
        if self.cfg.log_commands {
            let text = String::from_utf8_lossy(line);
            self.conn.log_line(&format!("SENT: {}", truncate(text.trim_end())));
        }
    }

    fn log_received(&self, bytes: &[u8], redacted: Option<String>) {
        if !self.cfg.log_commands {
            return;
        }
        let text = match redacted {
            Some(text) => text,
            None => {
                let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
                String::from_utf8_lossy(first).trim_end().to_owned()
            }
        };
        self.conn.log_line(&format!("RECEIVED: {}", truncate(&text)));
    }

    fn log_received_command(&self, cmd: &Command, bytes: &[u8]) {
        if !self.cfg.log_commands {
            return;
        }
        let text = match &cmd.body {
            CommandBody::Login { username, .. } => {
                format!("{} LOGIN {} ***", cmd.tag, String::from_utf8_lossy(username))
            }
            CommandBody::Authenticate { mechanism, .. } => format!("{} AUTHENTICATE {mechanism} ***", cmd.tag),
            _ => return self.log_received(bytes, None),
        };
        self.log_received(&[], Some(text));
    }

    /// Records an internal error in hMailServer's error log.
    pub(crate) fn log_error(&self, what: &str, e: &dyn std::fmt::Display) {
        self.conn.log.error(Severity::Medium, 5400, what, &e.to_string());
    }
}

fn truncate(text: &str) -> &str {
    match text.char_indices().nth(MAX_LOGGED) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Non-UID FETCH, STORE and SEARCH may not be answered with EXPUNGE (RFC 9051 §7.5.1).
fn allows_expunge(body: &CommandBody) -> bool {
    use CommandBody as C;
    !matches!(
        body,
        C::Fetch { uid: false, .. }
            | C::Store { uid: false, .. }
            | C::Search { uid: false, .. }
            | C::Sort { uid: false, .. }
            | C::Thread { uid: false, .. }
    )
}

impl Session {
    /// IDLE (RFC 2177): updates are pushed as the change bus reports them, until `DONE`.
    pub(crate) async fn idle(&mut self) -> Outcome {
        if !self.cfg.idle {
            return bad("IDLE is disabled");
        }
        self.out.extend_from_slice(b"+ idling\r\n");
        loop {
            if self.selected.is_some() {
                self.refresh(false).await?;
                self.write_updates(true);
            }
            if self.flush().await.is_err() {
                self.closing = true;
                return bad("Connection lost");
            }
            // Anything already received ends the wait at once.
            match self.frag.poll() {
                Ok(Some(Frame::Command(line))) => {
                    return if altimail_imap::parse::parse_idle_done(&line).is_ok() {
                        Ok("IDLE terminated".into())
                    } else {
                        bad("Expected DONE")
                    };
                }
                Ok(Some(Frame::Continue)) | Err(_) => return bad("Expected DONE"),
                Ok(None) => {}
            }
            let mut watch = self.selected.as_ref().map(|o| o.watch.clone());
            let changed = async {
                match watch.as_mut() {
                    Some(w) => {
                        if w.changed().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                read = self.read_more() => {
                    if let Err(stop) = read {
                        self.end(stop).await;
                        self.closing = true;
                        return bad("IDLE ended");
                    }
                }
                () = changed => {}
            }
        }
    }
}
