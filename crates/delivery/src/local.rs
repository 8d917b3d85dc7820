//! Local delivery: the worker that takes queued messages with local recipients and puts a copy
//! into each recipient's INBOX, applying quota, auto-reply and forwarding on the way.
//!
//! Exactly once across crashes: a copy's mailbox row is inserted and its queue-recipient row
//! deleted in one transaction, after the copy's file is durable. A crash before the commit
//! leaves the recipient queued (delivered again later; the earlier file is an orphan, never
//! visible); a crash after it leaves the copy delivered and the recipient gone.

use std::net::IpAddr;
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::watch;

use altimail_core::codes::{flags, message_type};
use altimail_core::time::now_local;
use altimail_net::HmLog;
use altimail_store::files::{MessageFiles, new_file_name};
use altimail_store::repo::accounts::{self, Account};
use altimail_store::repo::settings::Settings;
use altimail_store::repo::{domains, folders, messages};
use altimail_store::{Location, Store, StoreError};

use crate::generated::{self, Delivered, Failure, Original};
use crate::headers::Headers;
use crate::queue::{self, QueuedRecipient, Work};
use crate::report::{Action, may_bounce};
use crate::resolve::ResolveError;
use crate::spool::{NewMessage, Recipient, Settle, Spool};

/// How often due messages are looked for when nothing wakes the worker.
const POLL: Duration = Duration::from_secs(1);
/// Auto-replies go to one sender at most once in this period (RFC 3834 suggests 7 days).
const AUTO_REPLY_PERIOD_SECS: i64 = 7 * 24 * 3600;

/// What happened to one recipient.
#[derive(Debug)]
enum Outcome {
    /// Done; the DSN action: delivered (a copy stored) or relayed (forwarded only).
    Delivered(Action),
    /// Try again later (quota, a temporary store failure).
    Deferred(String),
    /// Give up: bounce to the sender.
    Failed(String),
}

/// The local delivery worker.
#[derive(Clone)]
pub struct LocalDelivery {
    store: Store,
    spool: Spool,
    log: HmLog,
}

impl LocalDelivery {
    pub fn new(store: Store, spool: Spool, log: HmLog) -> Self {
        LocalDelivery { store, spool, log }
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
        let ids = queue::claim(&self.store.db, Work::Local, now_local(), 32).await?;
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
        for id in ids {
            if let Err(e) = self.deliver_message(id, &settings).await {
                tracing::warn!("delivery of message {id} failed: {e}; retrying later");
                let _ = queue::release(&self.store.db, id).await;
            }
        }
        Ok(n)
    }

    async fn deliver_message(&self, id: i64, settings: &Settings) -> Result<(), StoreError> {
        let db = &self.store.db;
        let Some(message) = messages::get(db, id).await? else { return Ok(()) };
        let host = crate::host::host_name(settings);
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
                return queue::remove(db, id).await;
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        let headers = Headers::parse(&raw);
        let envelope = queue::envelope(db, id).await?;
        let rcpts: Vec<QueuedRecipient> =
            queue::recipients(db, id).await?.into_iter().filter(|r| r.account_id > 0).collect();
        let retries = settings.int("smtpnoofretries").max(0);
        let last_try = message.tries >= retries;
        // Mail the server made itself, or fetched, has no client: logged as from this host.
        let client_ip = envelope.client_ip.unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let mut failures: Vec<(&QueuedRecipient, String)> = Vec::new();
        let mut delivered = Vec::new();
        let mut retry_later = false;
        for r in &rcpts {
            self.log.application(&format!(
                "SMTPDeliverer - Message {id}: Delivering message from {} to {}. File: {}",
                message.from,
                r.address,
                path.display()
            ));
            let outcome = match self.deliver_to(settings, &host, &message, &raw, &headers, r).await {
                Ok(o) => o,
                Err(e) => Outcome::Deferred(e.to_string()),
            };
            match outcome {
                Outcome::Delivered(action) => {
                    self.log.awstats_delivered(
                        client_ip,
                        IpAddr::from([127, 0, 0, 1]),
                        &message.from,
                        &r.address,
                        raw.len() as u64,
                    );
                    if r.wants_success_report() {
                        delivered.push(Delivered { recipient: r.address.clone(), orcpt: r.orcpt.clone(), action });
                    }
                }
                Outcome::Deferred(reason) if !last_try => {
                    tracing::info!("message {id} to {}: deferred: {reason}", r.address);
                    retry_later = true;
                }
                Outcome::Deferred(reason) | Outcome::Failed(reason) => {
                    tracing::info!("message {id} to {}: failed: {reason}", r.address);
                    failures.push((r, reason));
                }
            }
        }
        let may_report = may_bounce(&message.from, &headers, settings.int("rulelooplimit"));
        let original = Original { raw: &raw, envid: &envelope.envid, ret: &envelope.ret };
        if !failures.is_empty() && !self.settle_failures(&host, &message, original, may_report, &failures).await? {
            retry_later = true;
        }
        if !delivered.is_empty() && may_report {
            self.success_report(&host, &message.from, original, &delivered).await;
        }
        let remaining = queue::recipients(db, id).await?;
        if remaining.is_empty() {
            queue::remove(db, id).await?;
            if let Err(e) = tokio::fs::remove_file(&path).await {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
            return Ok(());
        }
        if retry_later {
            let minutes = settings.int("smtpminutesbetweenretries").max(1);
            let next: NaiveDateTime = now_local() + chrono::Duration::minutes(minutes);
            db.execute(
                "UPDATE hm_messages SET messagecurnooftries = messagecurnooftries + 1, messagenexttrytime = ?, \
                 messagelocked = 0 WHERE messageid = ?",
                &[next.into(), id.into()],
            )
            .await?;
            return Ok(());
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
        failures: &[(&QueuedRecipient, String)],
    ) -> Result<bool, StoreError> {
        let db = &self.store.db;
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
            let recipients = match self.recipients_for(sender).await {
                Ok(r) => r,
                Err(Unreachable::Permanent(reason)) => {
                    // Nobody could ever receive it: a retry would not help.
                    tracing::warn!("message {}: no bounce to {sender}: {reason}", message.id);
                    return queue::remove_recipients(db, &ids).await.map_err(|e| e.to_string());
                }
                Err(Unreachable::Temporary(e)) => return Err(format!("recipient lookup failed: {e}")),
            };
            let msg = NewMessage { sender: String::new(), recipients, extras: Default::default(), data };
            let settle = Settle { remove_recipients: ids.clone(), ..Default::default() };
            self.spool.submit_settling(msg, settle).await.map(|_| ()).map_err(|e| format!("not queued: {e}"))
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
        let recipients = match self.recipients_for(sender).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("success report to {sender} not sent: {e}");
                return;
            }
        };
        let data = generated::success_report(host, sender, original, delivered);
        let msg = NewMessage { sender: String::new(), recipients, extras: Default::default(), data };
        if let Err(e) = self.spool.submit(msg).await {
            tracing::warn!("success report to {sender} not queued: {e}");
        }
    }

    async fn deliver_to(
        &self,
        settings: &Settings,
        host: &str,
        message: &messages::Message,
        raw: &[u8],
        headers: &Headers,
        r: &QueuedRecipient,
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
            let used = messages::account_size(db, account.id).await?;
            if used + raw.len() as i64 > account.max_size_mb * 1024 * 1024 {
                return Ok(Outcome::Deferred("Inbox is full".into()));
            }
        }
        self.auto_reply(settings, host, &mut account, &message.from, headers).await;
        if !forwarding {
            self.store_copy(settings, &account, message, raw, r).await?;
            return Ok(Outcome::Delivered(Action::Delivered));
        }
        if !keep_copy {
            // The forward's commit takes the recipient off the queue: forwarded exactly once.
            let settle = Settle { remove_recipients: vec![r.id], ..Default::default() };
            if !self.forward(settings, &account, &message.from, raw, headers, settle).await? {
                queue::remove_recipients(db, &[r.id]).await?;
            }
            return Ok(Outcome::Delivered(Action::Relayed));
        }
        // A kept copy: the forward's commit leaves a marker that the copy's commit removes, so
        // a delivery run again after a crash in between does not forward a second time.
        if !queue::forwarded(db, r.id).await? {
            let settle = Settle { mark_forwarded: vec![(r.id, message.id)], ..Default::default() };
            self.forward(settings, &account, &message.from, raw, headers, settle).await?;
        }
        self.store_copy(settings, &account, message, raw, r).await?;
        Ok(Outcome::Delivered(Action::Delivered))
    }

    /// Writes the recipient's copy and records it in INBOX in one transaction with the removal
    /// of the queue-recipient row (with its DSN parameters and forward marker).
    async fn store_copy(
        &self,
        settings: &Settings,
        account: &Account,
        message: &messages::Message,
        raw: &[u8],
        r: &QueuedRecipient,
    ) -> Result<(), StoreError> {
        let mut data = Vec::with_capacity(raw.len() + 128);
        data.extend_from_slice(format!("Return-Path: <{}>\r\n", message.from).as_bytes());
        if settings.bool("adddeliveredtoheader") {
            data.extend_from_slice(format!("Delivered-To: {}\r\n", r.original).as_bytes());
        }
        data.extend_from_slice(raw);
        let file_name = new_file_name();
        let path = self.store.files.path_for(Location::Account(&account.address), &file_name);
        MessageFiles::write_durable_async(path.clone(), data.clone()).await?;
        let inbox = folders::ensure_inbox(&self.store.db, account.id).await?;
        let result = async {
            let mut tx = self.store.db.begin().await?;
            // Locks the INBOX row until the commit, so UIDs become visible in order.
            let allocation = folders::allocate(&mut tx, inbox.id, 1).await?;
            tx.insert(
                "INSERT INTO hm_messages (messageaccountid, messagefolderid, messagefilename, messagetype, messagefrom, \
                 messagesize, messagecurnooftries, messagenexttrytime, messageflags, messagecreatetime, messagelocked, \
                 messageuid, messagemodseq) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 0, ?, ?)",
                &[
                    account.id.into(),
                    inbox.id.into(),
                    file_name.as_str().into(),
                    message_type::DELIVERED.into(),
                    message.from.as_str().into(),
                    (data.len() as i64).into(),
                    altimail_store::db::never().into(),
                    flags::RECENT.into(),
                    message.created.into(),
                    allocation.first_uid.into(),
                    i64::try_from(allocation.modseq).unwrap_or(i64::MAX).into(),
                ],
                "messageid",
            )
            .await?;
            queue::remove_recipient_in(&mut tx, r.id).await?;
            tx.commit().await
        }
        .await;
        match &result {
            Ok(()) => self.store.changes.notify(inbox.id),
            Err(_) => {
                let _ = tokio::fs::remove_file(&path).await;
            }
        }
        result
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
        let recipients = match self.recipients_for(sender).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("auto-reply from {} to {sender} not sent: {e}", account.address);
                return;
            }
        };
        let msg = NewMessage { sender: String::new(), recipients, extras: Default::default(), data };
        if let Err(e) = self.spool.submit(msg).await {
            tracing::warn!("auto-reply from {} to {sender} not queued: {e}", account.address);
        }
    }

    /// Records an auto-reply to `sender`; true when one was already sent within the period.
    async fn already_replied(&self, account_id: i64, sender: &str) -> Result<bool, StoreError> {
        let db = &self.store.db;
        let now = chrono::Utc::now().timestamp();
        let sender = sender.to_ascii_lowercase();
        let row = db
            .fetch_optional(
                "SELECT senttime FROM altimail_autoreplies WHERE accountid = ? AND sender = ?",
                &[account_id.into(), sender.as_str().into()],
            )
            .await?;
        match row.map(|r| r.int("senttime")).transpose()? {
            Some(t) if now - t < AUTO_REPLY_PERIOD_SECS => Ok(true),
            Some(_) => {
                db.execute(
                    "UPDATE altimail_autoreplies SET senttime = ? WHERE accountid = ? AND sender = ?",
                    &[now.into(), account_id.into(), sender.as_str().into()],
                )
                .await?;
                Ok(false)
            }
            None => {
                db.execute(
                    "INSERT INTO altimail_autoreplies (accountid, sender, senttime) VALUES (?, ?, ?)",
                    &[account_id.into(), sender.as_str().into(), now.into()],
                )
                .await?;
                Ok(false)
            }
        }
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

    /// Resolves an address the server itself sends to (forward target, auto-reply, bounce).
    async fn recipients_for(&self, address: &str) -> Result<Vec<Recipient>, Unreachable> {
        match crate::resolve::expand(&self.store.db, address).await {
            Ok(list) if !list.is_empty() => {
                Ok(list.into_iter().map(|r| Recipient::local(&r.address, r.account_id, address)).collect())
            }
            Ok(_) => Err(Unreachable::Permanent("no recipient".into())),
            Err(ResolveError::Refused(r)) => Err(Unreachable::Permanent(r.to_string())),
            Err(ResolveError::Store(e)) => Err(Unreachable::Temporary(e)),
        }
    }
}

/// Why mail the server sends itself has nobody to go to.
#[derive(Debug)]
enum Unreachable {
    /// The address resolves to nobody; trying again will not help.
    Permanent(String),
    /// The lookup failed.
    Temporary(StoreError),
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreachable::Permanent(reason) => f.write_str(reason),
            Unreachable::Temporary(e) => write!(f, "{e}"),
        }
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
