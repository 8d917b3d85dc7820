//! Local delivery: the worker that takes queued messages with local recipients and puts a copy
//! into each recipient's INBOX, applying quota, auto-reply and forwarding on the way.
//!
//! Exactly once across crashes: a copy's mailbox row is inserted and its queue-recipient row
//! deleted in one transaction, after the copy's file is durable. A crash before the commit
//! leaves the recipient queued (delivered again later; the earlier file is an orphan, never
//! visible); a crash after it leaves the copy delivered and the recipient gone. The copies of a
//! whole claimed batch share their syncs and that transaction ([`copies`]).

mod copies;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::watch;

use altimail_core::time::now_local;
use altimail_net::HmLog;
use altimail_store::group_sync::GroupSync;
use altimail_store::repo::accounts::{self, Account};
use altimail_store::repo::settings::Settings;
use altimail_store::repo::{auto_replies, domains, messages};
use altimail_store::{Location, Store, StoreError};

use crate::generated::{self, Delivered, Failure, Original};
use crate::headers::Headers;
use crate::queue::{self, QueuedRecipient, Work};
use crate::report::{Action, may_bounce};
use crate::rules::{Global, RuleRunner};
use crate::settle::{self, Unreachable};
use crate::spool::{NewMessage, Recipient, Settle, Spool};
use copies::Copies;

/// How often due messages are looked for when nothing wakes the worker.
const POLL: Duration = Duration::from_secs(1);
/// Auto-replies go to one sender at most once in this period (RFC 3834 suggests 7 days).
const AUTO_REPLY_PERIOD_SECS: i64 = 7 * 24 * 3600;

/// What happened to one recipient.
#[derive(Debug)]
enum Outcome {
    /// Done; the DSN action: delivered (a copy stored) or relayed (forwarded only).
    Delivered(Action),
    /// A copy for this account, stored with the rest of the batch: into `folder` ("" = INBOX),
    /// with the contents an account rule changed (`data`), if any.
    Copy { account: Box<Account>, folder: String, data: Option<Vec<u8>> },
    /// Try again later (quota, a temporary store failure).
    Deferred(String),
    /// Give up: bounce to the sender.
    Failed(String),
}

/// How many queued messages one batch claims.
const BATCH: u32 = 32;
/// A batch is stored early once the messages it holds in memory pass this many bytes.
const BATCH_BYTES: usize = 32 * 1024 * 1024;

/// The local delivery worker.
#[derive(Clone)]
pub struct LocalDelivery {
    store: Store,
    spool: Spool,
    log: HmLog,
    /// Makes each batch's copy files durable; made before the worker writes any.
    sync: Arc<Mutex<GroupSync>>,
    /// Global and account rules.
    rules: RuleRunner,
}

/// One claimed message between reading its recipients and settling its queue row.
struct InProgress {
    message: messages::Message,
    raw: Vec<u8>,
    headers: Headers,
    envelope: queue::Envelope,
    path: std::path::PathBuf,
    client_ip: IpAddr,
    /// The IMAP folder the global rules chose ("" = INBOX).
    global_folder: String,
    last_try: bool,
    failures: Vec<(QueuedRecipient, String)>,
    delivered: Vec<Delivered>,
    retry_later: bool,
    /// Every recipient is local and all went well so far: once the batch's copies are stored,
    /// none is left and the queue row goes in the same transaction.
    finishing: bool,
}

impl LocalDelivery {
    pub fn new(store: Store, spool: Spool, log: HmLog) -> Self {
        let sync = Arc::new(Mutex::new(GroupSync::new(&store.files)));
        let rules = RuleRunner::new(store.clone(), spool.clone(), log.clone());
        LocalDelivery { store, spool, log, sync, rules }
    }

    /// The engine that rules' "run function" actions call.
    pub fn with_script_engine(self, scripts: Arc<dyn altimail_rules::ScriptEngine>) -> Self {
        let rules = self.rules.clone().with_script_engine(scripts);
        LocalDelivery { rules, ..self }
    }

    /// The event scripts: OnDeliveryStart, OnDeliverMessage and "run function" actions.
    pub fn with_scripts(self, scripts: altimail_scripting::Scripts) -> Self {
        let rules = self.rules.clone().with_scripts(scripts);
        LocalDelivery { rules, ..self }
    }

    /// Runs until `shutdown` turns true. The server unlocks the queue ([`queue::unlock_all`])
    /// once before starting any delivery worker.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wake = self.spool.queued.clone();
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!("delivery: {e}"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Delivers every due message once; returns how many were handled.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        for (id, file) in queue::finished(&self.store.db).await? {
            queue::remove(&self.store.db, id).await?;
            let path = self.store.files.resolve(Location::Queue, &file);
            if let Err(e) = tokio::fs::remove_file(&path).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
        }
        let ids = queue::claim(&self.store.db, Work::Local, now_local(), BATCH).await?;
        let n = ids.len();
        if n == 0 {
            return Ok(0);
        }
        // One read of the settings per batch, not per message.
        let settings = match Settings::load(&self.store.db).await {
            Ok(s) => s,
            Err(e) => {
                for id in ids {
                    let _ = queue::release(&self.store.db, id).await;
                }
                return Err(e);
            }
        };
        let host = crate::host::host_name(&settings);
        let mut copies = Copies::new(self.sync.clone());
        let mut batch: Vec<InProgress> = Vec::new();
        let mut held = 0;
        for id in ids {
            match self.start_message(id, &settings, &host, &mut copies).await {
                Ok(Some(work)) => {
                    held += work.raw.len();
                    batch.push(work);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!("delivery of message {id} failed: {e}; retrying later");
                    let _ = queue::release(&self.store.db, id).await;
                }
            }
            if held >= BATCH_BYTES {
                self.finish_batch(&settings, &host, &mut copies, std::mem::take(&mut batch)).await;
                held = 0;
            }
        }
        self.finish_batch(&settings, &host, &mut copies, batch).await;
        Ok(n)
    }

    /// Stores the batch's copies, then settles each message.
    async fn finish_batch(&self, settings: &Settings, host: &str, copies: &mut Copies, batch: Vec<InProgress>) {
        let finishing: Vec<i64> = batch.iter().filter(|w| w.finishing).map(|w| w.message.id).collect();
        let delimiter = settings.string("imaphierarchydelimiter");
        let delimiter = if delimiter.is_empty() { ".".to_owned() } else { delimiter };
        let mut stored = copies.store(&self.store, &finishing, &delimiter).await;
        for mut work in batch {
            let id = work.message.id;
            for r in stored.stored.remove(&id).unwrap_or_default() {
                self.delivered(&mut work, &r, Action::Delivered);
            }
            for (r, reason) in stored.failed.remove(&id).unwrap_or_default() {
                self.not_delivered(&mut work, r, reason, true);
            }
            let removed = stored.removed.contains(&id);
            if let Err(e) = self.settle_message(settings, host, &work, removed).await {
                tracing::warn!("delivery of message {id} failed: {e}; retrying later");
                let _ = queue::release(&self.store.db, id).await;
            }
        }
    }

    /// Reads a claimed message and handles each local recipient; plain copies are written into
    /// `copies` to be stored with the batch. `None` when the message is gone. Fails only before
    /// its first copy is written: from there on every failure is a recipient's outcome.
    async fn start_message(
        &self,
        id: i64,
        settings: &Settings,
        host: &str,
        copies: &mut Copies,
    ) -> Result<Option<InProgress>, StoreError> {
        let db = &self.store.db;
        let Some(message) = messages::get(db, id).await? else { return Ok(None) };
        let path = self.store.files.resolve(Location::Queue, &message.file_name);
        let raw = match tokio::fs::read(&path).await {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.log.error(
                    altimail_net::Severity::High,
                    5006,
                    "LocalDelivery",
                    &format!("Message {id}: file {} is missing; the message is removed from the queue", path.display()),
                );
                queue::remove(db, id).await?;
                return Ok(None);
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        // The global rules, once per attempt (shared with the remote worker).
        let (raw, global) = match self.rules.global(settings, host, &message, &path, raw).await? {
            Global::Deleted => return Ok(None),
            Global::Deliver { raw, result } => (raw, result),
        };
        let headers = Headers::parse(&raw);
        let envelope = queue::envelope(db, id).await?;
        let all = queue::recipients(db, id).await?;
        let only_local = all.iter().all(|r| r.account_id > 0);
        let rcpts: Vec<QueuedRecipient> = all.into_iter().filter(|r| r.account_id > 0).collect();
        let retries = settings.int("smtpnoofretries").max(0);
        // Mail the server made itself, or fetched, has no client: logged as from this host.
        let client_ip = envelope.client_ip.unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let mut work = InProgress {
            last_try: message.tries >= retries,
            message,
            raw,
            headers,
            envelope,
            path,
            client_ip,
            global_folder: global.imap_folder,
            failures: Vec::new(),
            delivered: Vec::new(),
            retry_later: false,
            finishing: only_local,
        };
        for r in rcpts {
            self.log.application(&format!(
                "SMTPDeliverer - Message {id}: Delivering message from {} to {}. File: {}",
                work.message.from,
                r.address,
                work.path.display()
            ));
            let outcome = match self.deliver_to(settings, host, &work, &r, copies).await {
                Ok(o) => o,
                Err(e) => Outcome::Deferred(e.to_string()),
            };
            match outcome {
                Outcome::Delivered(action) => self.delivered(&mut work, &r, action),
                Outcome::Copy { account, folder, data } => {
                    let data = self.copy_data(settings, &work.message.from, data.as_deref().unwrap_or(&work.raw), &r);
                    copies.write(&self.store, &work.message, &r, &account, data, &folder).await;
                }
                Outcome::Deferred(reason) => self.not_delivered(&mut work, r, reason, true),
                Outcome::Failed(reason) => self.not_delivered(&mut work, r, reason, false),
            }
        }
        Ok(Some(work))
    }

    /// A recipient's delivery is done.
    fn delivered(&self, work: &mut InProgress, r: &QueuedRecipient, action: Action) {
        self.log.awstats_delivered(
            work.client_ip,
            IpAddr::from([127, 0, 0, 1]),
            &work.message.from,
            &r.address,
            work.raw.len() as u64,
        );
        if r.wants_success_report() {
            work.delivered.push(Delivered { recipient: r.address.clone(), orcpt: r.orcpt.clone(), action });
        }
    }

    /// A recipient's delivery failed: tried again later when `temporary` (and tries are left),
    /// else reported.
    fn not_delivered(&self, work: &mut InProgress, r: QueuedRecipient, reason: String, temporary: bool) {
        work.finishing = false;
        let id = work.message.id;
        if temporary && !work.last_try {
            tracing::info!("message {id} to {}: deferred: {reason}", r.address);
            work.retry_later = true;
        } else {
            tracing::info!("message {id} to {}: failed: {reason}", r.address);
            work.failures.push((r, reason));
        }
    }

    /// Bounces, success reports, and the queue row: removed when no recipient is left, tried
    /// again later, or handed to the outbound queue. `removed`: the batch's commit removed it.
    async fn settle_message(
        &self,
        settings: &Settings,
        host: &str,
        work: &InProgress,
        removed: bool,
    ) -> Result<(), StoreError> {
        let db = &self.store.db;
        let id = work.message.id;
        let may_report = may_bounce(&work.message.from, &work.headers, settings.int("rulelooplimit"));
        let original = Original { raw: &work.raw, envid: &work.envelope.envid, ret: &work.envelope.ret };
        let mut retry_later = work.retry_later;
        if !work.failures.is_empty()
            && !self.settle_failures(host, &work.message, original, may_report, &work.failures).await?
        {
            retry_later = true;
        }
        if !work.delivered.is_empty() && may_report {
            self.success_report(host, &work.message.from, original, &work.delivered).await;
        }
        if removed || queue::recipients(db, id).await?.is_empty() {
            if !removed {
                queue::remove(db, id).await?;
            }
            if let Err(e) = tokio::fs::remove_file(&work.path).await {
                tracing::warn!("could not remove {}: {e}", work.path.display());
            }
            return Ok(());
        }
        if retry_later {
            let minutes = settings.int("smtpminutesbetweenretries").max(1);
            let next: NaiveDateTime = now_local() + chrono::Duration::minutes(minutes);
            return queue::retry_later(db, id, next).await;
        }
        // Only remote recipients are left: the outbound queue takes them.
        queue::release(db, id).await
    }

    /// Takes failed recipients off the queue. Those a bounce reports on leave in the same
    /// transaction that queues the bounce; those no bounce is due for (null or daemon sender,
    /// loop limit, Auto-Submitted, DSN NOTIFY without FAILURE, a sender nobody can receive for)
    /// leave at once. Returns false when the bounce could not be built or queued: its recipients
    /// stay queued and the message is tried again later.
    async fn settle_failures(
        &self,
        host: &str,
        message: &messages::Message,
        original: Original<'_>,
        may_report: bool,
        failures: &[(QueuedRecipient, String)],
    ) -> Result<bool, StoreError> {
        let db = &self.store.db;
        for (r, reason) in failures {
            self.rules.delivery_failed(message, original.raw, &r.address, reason).await;
        }
        let (reported, silent): (Vec<_>, Vec<_>) =
            failures.iter().partition(|(r, _)| may_report && r.wants_failure_report());
        queue::remove_recipients(db, &silent.iter().map(|(r, _)| r.id).collect::<Vec<_>>()).await?;
        if reported.is_empty() {
            return Ok(true);
        }
        let ids: Vec<i64> = reported.iter().map(|(r, _)| r.id).collect();
        let list: Vec<Failure> = reported
            .iter()
            .map(|(r, reason)| Failure {
                recipient: r.original.clone(),
                address: r.address.clone(),
                orcpt: r.orcpt.clone(),
                reason: reason.clone(),
            })
            .collect();
        let sender = &message.from;
        let result = async {
            let data = generated::bounce(&self.store, host, sender, original, &list)
                .await
                .map_err(|e| format!("not built: {e}"))?;
            settle::submit_bounce(&self.spool, db, message.id, sender, data, &ids).await
        }
        .await;
        match result {
            Ok(()) => Ok(true),
            Err(e) => {
                self.log.error(
                    altimail_net::Severity::Medium,
                    5007,
                    "LocalDelivery",
                    &format!("Message {}: bounce to {sender} {e}; the message is tried again later", message.id),
                );
                Ok(false)
            }
        }
    }

    /// Sends `sender` a delivery status notification for the recipients that asked for one with
    /// NOTIFY=SUCCESS. Sent after the copies are committed: lost if the server stops in between.
    async fn success_report(&self, host: &str, sender: &str, original: Original<'_>, delivered: &[Delivered]) {
        let data = generated::success_report(host, sender, original, delivered);
        self.spool.submit_notice(&self.store.db, sender, "success report", data).await;
    }

    /// Handles one local recipient: a plain copy is left to the batch ([`Outcome::Copy`]);
    /// forwards are queued here.
    async fn deliver_to(
        &self,
        settings: &Settings,
        host: &str,
        work: &InProgress,
        r: &QueuedRecipient,
        copies: &Copies,
    ) -> Result<Outcome, StoreError> {
        let db = &self.store.db;
        let Some(mut account) = accounts::get(db, r.account_id).await? else {
            return Ok(Outcome::Failed("Unknown user".into()));
        };
        match domains::get(db, account.domain_id).await? {
            Some(d) if d.active => {}
            _ => return Ok(Outcome::Failed("Domain has been disabled.".into())),
        }
        if !account.active {
            return Ok(Outcome::Failed("Account is not active.".into()));
        }
        let forwarding = account.forward_on && !account.forward_address.is_empty();
        let keep_copy = !forwarding || account.forward_keep_original;
        if keep_copy && account.max_size_mb > 0 {
            let used = messages::account_size(db, account.id).await? + copies.pending_bytes(account.id);
            if used + work.raw.len() as i64 > account.max_size_mb * 1024 * 1024 {
                return Ok(Outcome::Deferred("Inbox is full".into()));
            }
        }
        let sender = &work.message.from;
        self.auto_reply(settings, host, &mut account, sender, &work.headers).await;
        // The account's rules, before its forwarding (hMailServer's order).
        let ruled = self.rules.account(settings, host, &account, &work.message, r, &work.raw).await?;
        if ruled.delete {
            queue::remove_recipients(db, &[r.id]).await?;
            return Ok(Outcome::Delivered(Action::Delivered));
        }
        // An account rule's folder wins over the global rules' one.
        let folder = ruled.folder.clone().unwrap_or_else(|| work.global_folder.clone());
        let raw: &[u8] = ruled.message.as_deref().unwrap_or(&work.raw);
        let copy = |account: Account| Outcome::Copy { account: Box::new(account), folder, data: ruled.message.clone() };
        if !forwarding {
            return Ok(copy(account));
        }
        if !keep_copy {
            // The forward's commit takes the recipient off the queue: forwarded exactly once.
            let settle = Settle { remove_recipients: vec![r.id], ..Default::default() };
            if !self.forward(settings, &account, sender, raw, &work.headers, settle).await? {
                queue::remove_recipients(db, &[r.id]).await?;
            }
            return Ok(Outcome::Delivered(Action::Relayed));
        }
        // A kept copy: the forward's commit leaves a marker that the copy's commit removes, so
        // a delivery run again after a crash in between does not forward a second time.
        if !queue::forwarded(db, r.id).await? {
            let settle = Settle { mark_forwarded: vec![(r.id, work.message.id)], ..Default::default() };
            self.forward(settings, &account, sender, raw, &work.headers, settle).await?;
        }
        Ok(copy(account))
    }

    /// The recipient's copy: the message with Return-Path (and Delivered-To when set) on top.
    fn copy_data(&self, settings: &Settings, from: &str, raw: &[u8], r: &QueuedRecipient) -> Vec<u8> {
        let mut data = Vec::with_capacity(raw.len() + 128);
        data.extend_from_slice(format!("Return-Path: <{from}>\r\n").as_bytes());
        if settings.bool("adddeliveredtoheader") {
            data.extend_from_slice(format!("Delivered-To: {}\r\n", r.original).as_bytes());
        }
        data.extend_from_slice(raw);
        data
    }

    /// Sends the account's auto-reply to `sender` when it should get one.
    async fn auto_reply(
        &self,
        settings: &Settings,
        host: &str,
        account: &mut Account,
        sender: &str,
        headers: &Headers,
    ) {
        if !account.vacation_on {
            return;
        }
        let now = now_local();
        if account.vacation_expires && account.vacation_expire_date <= now {
            account.vacation_on = false;
            let _ = accounts::update(&self.store.db, account).await;
            return;
        }
        let daemon = sender.to_ascii_lowercase().starts_with("mailer-daemon@");
        if sender.is_empty() || daemon || headers.is_automatic() || sender.eq_ignore_ascii_case(&account.address) {
            return;
        }
        if headers.loop_count() >= settings.int("rulelooplimit").max(1) {
            return;
        }
        match self.already_replied(account.id, sender).await {
            Ok(false) => {}
            Ok(true) => return,
            Err(e) => {
                tracing::warn!("auto-reply memory unavailable: {e}");
                return;
            }
        }
        let original_subject = headers.get("Subject").unwrap_or("");
        let subject = if account.vacation_subject.is_empty() {
            format!("Re: {original_subject}")
        } else {
            account.vacation_subject.replace("%SUBJECT%", original_subject)
        };
        let body = account.vacation_message.replace("%SUBJECT%", original_subject);
        let data =
            generated::auto_reply(host, &account.address, sender, &subject, &body, headers, headers.loop_count());
        let what = format!("auto-reply from {}", account.address);
        self.spool.submit_notice(&self.store.db, sender, &what, data).await;
    }

    /// Records an auto-reply to `sender`; true when one was already sent within the period.
    async fn already_replied(&self, account_id: i64, sender: &str) -> Result<bool, StoreError> {
        let now = chrono::Utc::now().timestamp();
        auto_replies::already_replied(&self.store.db, account_id, sender, now, AUTO_REPLY_PERIOD_SECS).await
    }

    /// Queues a copy for the account's forwarding address, with the original envelope sender,
    /// committing `settle` with it. False when nothing was queued (loop limit, no such target).
    async fn forward(
        &self,
        settings: &Settings,
        account: &Account,
        sender: &str,
        raw: &[u8],
        headers: &Headers,
        settle: Settle,
    ) -> Result<bool, StoreError> {
        let count = headers.loop_count();
        if count >= settings.int("rulelooplimit").max(1) {
            tracing::warn!("{}: not forwarding, loop limit reached", account.address);
            return Ok(false);
        }
        let recipients = match self.recipients_for(&account.forward_address).await {
            Ok(r) => r,
            Err(Unreachable::Temporary(e)) => return Err(e),
            Err(Unreachable::Permanent(reason)) => {
                tracing::warn!("{}: cannot forward to {}: {reason}", account.address, account.forward_address);
                return Ok(false);
            }
        };
        let mut data = format!("X-hMailServer-LoopCount: {}\r\n", count + 1).into_bytes();
        data.extend_from_slice(strip_loop_count(raw));
        let msg = NewMessage { sender: sender.to_owned(), recipients, extras: Default::default(), data };
        self.spool.submit_settling(msg, settle).await.map(|_| true)
    }

    /// Resolves an address the server itself sends to (forward target, auto-reply).
    async fn recipients_for(&self, address: &str) -> Result<Vec<Recipient>, Unreachable> {
        settle::recipients_for(&self.store.db, address).await
    }
}

/// The message without a leading `X-hMailServer-LoopCount` header (a new one is prepended).
fn strip_loop_count(raw: &[u8]) -> &[u8] {
    let name = b"x-hmailserver-loopcount:";
    if raw.len() > name.len()
        && raw[..name.len()].eq_ignore_ascii_case(name)
        && let Some(end) = raw.iter().position(|&b| b == b'\n')
    {
        return &raw[end + 1..];
    }
    raw
}
