//! The remote-delivery worker: claims queued messages with remote recipients
//! ([`queue::claim`] with [`Work::Remote`]), groups their recipients by destination and merges
//! destinations that resolve to the same hosts (one connection for two domains sharing their
//! MX), delivers each group over one connection in transactions of `maxsmtprecipientsinbatch`,
//! trying the next host for recipients one host deferred, and records every recipient's result
//! at once — an accepted recipient's row is deleted as soon as its transaction is acknowledged,
//! so a retry (or a restart) never sends to it again. Temporary failures move
//! `messagenexttrytime` forward and count `messagecurnooftries`; permanent failures and
//! exhausted retries bounce; NOTIFY=SUCCESS recipients accepted by a server without DSN get a
//! "relayed" DSN. Recipients behind ETRN routes are held (type 3) until ETRN releases them
//! ([`queue::release_held`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use altimail_core::codes::Security;
use altimail_core::time::now_local;
use altimail_delivery::Spool;
use altimail_delivery::headers::Headers;
use altimail_delivery::queue::{self, QueuedRecipient, Work};
use altimail_delivery::resolve::routes::{self, Route};
use altimail_delivery::rules::{Global, RuleRunner};
use altimail_delivery::settle;
use altimail_net::{HmLog, Severity};
use altimail_store::repo::domains;
use altimail_store::repo::messages::{self, Message};
use altimail_store::repo::queue as queue_repo;
use altimail_store::repo::settings::Settings;
use altimail_store::{Location, Store, StoreError};

use crate::bounce::{self, Failed, Original};
use crate::client::{ClientConfig, Envelope, Failure, RcptDsn, StartTls, Status};
use crate::dkim::{self, DkimConfig, DkimError};
use crate::driver::Connector;
use crate::settings::OutboundSettings;
use crate::target::{self, Destination, Host, NoHosts};
use altimail_dns::Dns;

/// How often due messages are looked for when nothing wakes the worker.
const POLL: Duration = Duration::from_secs(1);
/// How long deliveries in progress may take to finish at shutdown.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// The remote-delivery worker.
#[derive(Clone)]
pub struct RemoteDelivery {
    store: Store,
    spool: Spool,
    log: HmLog,
    dns: Arc<dyn Dns>,
    /// Global rules (run here when this worker is the first to claim a message at an attempt).
    rules: RuleRunner,
}

/// What happened to one recipient in this attempt.
#[derive(Debug, Clone)]
struct RcptResult {
    status: Status,
    /// The server that gave the status, if one was reached.
    remote: Option<IpAddr>,
    /// That server advertised DSN (it got the recipient's NOTIFY and reports itself).
    peer_dsn: bool,
}

impl RcptResult {
    fn without_server(status: Status) -> Self {
        RcptResult { status, remote: None, peer_dsn: false }
    }
}

/// Where a group of recipients goes, once resolved: equal targets share connections.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    hosts: Vec<Host>,
    security: Security,
    auth: Option<(String, String)>,
}

impl RemoteDelivery {
    pub fn new(store: Store, spool: Spool, log: HmLog, dns: Arc<dyn Dns>) -> Self {
        let rules = RuleRunner::new(store.clone(), spool.clone(), log.clone());
        RemoteDelivery { store, spool, log, dns, rules }
    }

    /// The engine that rules' "run function" actions call.
    pub fn with_script_engine(self, scripts: Arc<dyn altimail_rules::ScriptEngine>) -> Self {
        let rules = self.rules.clone().with_script_engine(scripts);
        RemoteDelivery { rules, ..self }
    }

    /// The event scripts: OnDeliveryStart, OnDeliverMessage and "run function" actions.
    pub fn with_scripts(self, scripts: altimail_delivery::rules::Scripts) -> Self {
        let rules = self.rules.clone().with_scripts(scripts);
        RemoteDelivery { rules, ..self }
    }

    /// Runs until `shutdown` turns true, keeping up to `maxdelivertythreads` deliveries in
    /// flight (a slow host does not hold up the others). At shutdown deliveries in progress get
    /// [`STOP_GRACE`] to finish; the rest are cut off, which is safe: accepted recipients are
    /// already recorded and the next start unlocks the queue.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wake = self.spool.queued.clone();
        let mut tasks: JoinSet<()> = JoinSet::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.fill(&mut tasks).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!("remote delivery: {e}"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(STOP_GRACE, drain).await.is_err() {
            tasks.abort_all();
        }
    }

    /// Claims as many due messages as there are free delivery slots and starts them.
    async fn fill(&self, tasks: &mut JoinSet<()>) -> Result<usize, StoreError> {
        let settings = OutboundSettings::from_settings(&Settings::load(&self.store.db).await?);
        let free = settings.threads.saturating_sub(tasks.len());
        if free == 0 {
            return Ok(0);
        }
        let ids = queue::claim(&self.store.db, Work::Remote, now_local(), u32::try_from(free).unwrap_or(1)).await?;
        let n = ids.len();
        for id in ids {
            tasks.spawn(self.clone().deliver_task(settings.clone(), id));
        }
        Ok(n)
    }

    async fn deliver_task(self, settings: OutboundSettings, id: i64) {
        if let Err(e) = self.deliver_message(&settings, id).await {
            tracing::warn!("remote delivery of message {id} failed: {e}; retrying later");
            let _ = queue::release(&self.store.db, id).await;
        }
    }

    /// Delivers due messages once, up to `maxdelivertythreads` at a time, and waits for them;
    /// returns how many were claimed.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let mut tasks = JoinSet::new();
        let n = self.fill(&mut tasks).await?;
        while tasks.join_next().await.is_some() {}
        Ok(n)
    }

    async fn deliver_message(&self, settings: &OutboundSettings, id: i64) -> Result<(), StoreError> {
        let db = &self.store.db;
        let Some(message) = messages::get(db, id).await? else { return Ok(()) };
        let path = self.store.files.resolve(Location::Queue, &message.file_name);
        let raw = match tokio::fs::read(&path).await {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.log.error(
                    Severity::High,
                    5006,
                    "ExternalDelivery",
                    &format!("Message {id}: file {} is missing; the message is removed from the queue", path.display()),
                );
                return queue::remove(db, id).await;
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        // The global rules, once per attempt (shared with the local worker): they may delete
        // the message, change it, or choose the route and the local address.
        let all_settings = Settings::load(db).await?;
        let host = altimail_delivery::host_name(&all_settings);
        let (raw, global) = match self.rules.global(&all_settings, &host, &message, &path, raw).await? {
            Global::Deleted => return Ok(()),
            Global::Deliver { raw, result } => (raw, result),
        };
        let mut ruled_settings;
        let mut settings = settings;
        if let Ok(ip) = global.bind_address.trim().parse::<IpAddr>() {
            ruled_settings = settings.clone();
            ruled_settings.bind_ip = Some(ip);
            settings = &ruled_settings;
        }
        let extras = queue::envelope(db, id).await?;
        let data = self.signed(&message, &raw).await;
        let all_routes = routes::list(db).await?;
        // A rule's "send using route" takes every remote recipient through that route.
        let rule_route = match global.route_id {
            0 => None,
            route_id => {
                let found = all_routes.iter().find(|r| r.id == route_id);
                if found.is_none() {
                    tracing::warn!("message {id}: rule route {route_id} does not exist; using the usual destination");
                }
                found.map(target::route_destination)
            }
        };
        let rcpts: Vec<QueuedRecipient> =
            queue::recipients(db, id).await?.into_iter().filter(|r| r.account_id == 0).collect();
        // The DSN parameters of the recipients that have them, by recipient row id.
        let dsn: HashMap<i64, RcptDsn> = rcpts
            .iter()
            .filter(|r| !r.notify.is_empty() || !r.orcpt.is_empty())
            .map(|r| (r.id, RcptDsn { notify: r.notify.clone(), orcpt: r.orcpt.clone() }))
            .collect();
        let (retries, minutes) = retry_policy(settings, &all_routes, &rcpts);
        let last_try = message.tries >= retries;
        // Released by ETRN (or `altimail queue`): its ETRN-route recipients go out this time.
        let released = message.next_try == queue::etrn_hold_time();

        let mut groups: Vec<(Destination, Vec<QueuedRecipient>)> = Vec::new();
        for r in rcpts {
            let dest = rule_route.clone().unwrap_or_else(|| target::destination(settings, &all_routes, &r.address));
            match groups.iter_mut().find(|(d, _)| *d == dest) {
                Some((_, list)) => list.push(r),
                None => groups.push((dest, vec![r])),
            }
        }
        // Destinations that resolve to the same hosts (two domains sharing their MX, say) are
        // merged: one connection carries them all.
        let mut work: Vec<(Target, Vec<QueuedRecipient>)> = Vec::new();
        let mut results: Vec<(QueuedRecipient, RcptResult)> = Vec::new();
        let mut held_route = None;
        for (dest, list) in groups {
            if let Some(route_id) = etrn_route(&dest, &all_routes)
                && !released
            {
                // Held until the remote side asks with ETRN.
                held_route.get_or_insert(route_id);
                continue;
            }
            let no_server = |reply: String| Failure { command: String::new(), reply };
            let hosts = match target::hosts(self.dns.as_ref(), settings, &dest).await {
                Ok(h) => h,
                Err(NoHosts::Temporary(why)) => {
                    let status = Status::Temporary(no_server(why));
                    results.extend(list.into_iter().map(|r| (r, RcptResult::without_server(status.clone()))));
                    continue;
                }
                Err(NoHosts::Permanent(why)) => {
                    let status = Status::Permanent(no_server(why));
                    results.extend(list.into_iter().map(|r| (r, RcptResult::without_server(status.clone()))));
                    continue;
                }
            };
            let key = Target { hosts, security: dest.security(settings), auth: dest.auth() };
            match work.iter_mut().find(|(t, _)| *t == key) {
                Some((_, l)) => l.extend(list),
                None => work.push((key, list)),
            }
        }
        for (target, list) in &work {
            self.log.application(&format!(
                "SMTPDeliverer - Message {id}: Delivering message from {} to {}. File: {}",
                message.from,
                list.iter().map(|r| r.address.as_str()).collect::<Vec<_>>().join(", "),
                path.display()
            ));
            let outcome = self.deliver_group(settings, target, &message, &data, &extras, &dsn, list).await?;
            results.extend(list.iter().cloned().zip(outcome));
        }

        let mut failed = Vec::new();
        let mut relayed = Vec::new();
        let mut deferred = false;
        for (r, result) in results {
            match result.status {
                Status::Delivered => {
                    // The row went when the peer acknowledged (deliver_group).
                    if let Some(ip) = result.remote {
                        let local = IpAddr::from([127, 0, 0, 1]);
                        self.log.awstats_delivered(local, ip, &message.from, &r.address, raw.len() as u64);
                    }
                    if let Some(d) = dsn.get(&r.id)
                        && !result.peer_dsn
                        && bounce::wants_success_report(&d.notify)
                    {
                        relayed.push(Failed {
                            address: r.address.clone(),
                            orcpt: d.orcpt.clone(),
                            remote: result.remote,
                            command: String::new(),
                            reply: String::new(),
                            tries: 0,
                        });
                    }
                }
                Status::Temporary(f) if !last_try => {
                    tracing::info!("message {id} to {}: deferred: {}", r.address, f.reply);
                    deferred = true;
                }
                Status::Temporary(f) => {
                    let report = failure(&r, &f, result.remote, message.tries + 1);
                    failed.push((r, report))
                }
                Status::Permanent(f) => {
                    let report = failure(&r, &f, result.remote, 0);
                    failed.push((r, report))
                }
            }
        }
        if !relayed.is_empty() {
            self.report_relayed(&message, &raw, &extras, &relayed).await?;
        }
        if !failed.is_empty() && !self.bounce(&message, &raw, &extras, &failed).await? {
            // The failed recipients are still queued: their bounce is tried again later.
            deferred = true;
        }
        let remaining = queue::recipients(db, id).await?;
        if remaining.is_empty() {
            queue::remove(db, id).await?;
            if let Err(e) = tokio::fs::remove_file(&path).await {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
            return Ok(());
        }
        if deferred {
            let next = now_local() + chrono::Duration::minutes(minutes);
            return queue::retry_later(db, id, next).await;
        }
        if let Some(route_id) = held_route
            && remaining.iter().all(|r| r.account_id == 0)
        {
            // As hMailServer: type 3, the route's id in messageaccountid, the hold marker time.
            return queue_repo::hold_for_etrn(db, id, route_id).await;
        }
        queue::release(db, id).await
    }

    /// Delivers `list` to `target`: the hosts in order, each recipient deferred (4xx) or not
    /// reached by one host tried on the next within this attempt, as hMailServer does; batches
    /// of `maxsmtprecipientsinbatch` share a connection (RSET between them when needed), and
    /// recipients a connection never got to get a new connection to the same host.
    /// Returns one result per recipient of `list`. A recipient's row is deleted as soon as a
    /// peer has acknowledged it, so that a restart never sends it again.
    #[allow(clippy::too_many_arguments)]
    async fn deliver_group(
        &self,
        settings: &OutboundSettings,
        target: &Target,
        message: &Message,
        raw: &[u8],
        extras: &queue::Envelope,
        dsn: &HashMap<i64, RcptDsn>,
        list: &[QueuedRecipient],
    ) -> Result<Vec<RcptResult>, StoreError> {
        let no_server = |reply: String| Failure { command: String::new(), reply };
        let mut results =
            vec![RcptResult::without_server(Status::Temporary(no_server(target::NO_MAIL_SERVERS.into()))); list.len()];
        let tls = match crate::tls::client_config(settings.verify_certificates) {
            Ok(t) => t,
            Err(e) => {
                let status = Status::Temporary(no_server(format!("TLS is not available: {e}")));
                return Ok(vec![RcptResult::without_server(status); list.len()]);
            }
        };
        let connector = Connector { tls, bind_ip: settings.bind_ip, log: self.log.clone() };
        let (starttls, implicit) = match target.security {
            Security::None => (StartTls::Never, false),
            Security::Tls => (StartTls::Never, true),
            Security::StartTlsOptional => (StartTls::Opportunistic, false),
            Security::StartTlsRequired => (StartTls::Required, false),
        };
        let config = ClientConfig {
            helo: settings.helo.clone(),
            starttls,
            tls_from_start: implicit,
            auth: target.auth.clone(),
            batch: settings.batch,
        };
        let mut pending: Vec<usize> = (0..list.len()).collect();
        for host in &target.hosts {
            let mut next_host = Vec::new();
            let mut current = std::mem::take(&mut pending);
            while !current.is_empty() {
                let envelope = Envelope {
                    sender: message.from.clone(),
                    recipients: current.iter().map(|&i| list[i].address.clone()).collect(),
                    data: raw.to_vec(),
                    smtputf8: extras.smtputf8,
                    body: extras.body.clone(),
                    envid: extras.envid.clone(),
                    ret: extras.ret.clone(),
                    dsn: current.iter().map(|&i| dsn.get(&list[i].id).cloned().unwrap_or_default()).collect(),
                };
                let mut done = connector.deliver(host, config.clone(), envelope.clone()).await;
                if done.tls_failed && starttls == StartTls::Opportunistic {
                    // hMailServer retries the same host without TLS when the handshake fails.
                    let clear = ClientConfig { starttls: StartTls::Never, ..config.clone() };
                    done = connector.deliver(host, clear, envelope).await;
                }
                let mut outcome = done.outcome;
                if outcome.recipients.len() != current.len() {
                    let status = Status::Temporary(no_server("delivery ended without a result".into()));
                    outcome.recipients = vec![status; current.len()];
                    outcome.try_next_host = true;
                }
                let mut again = Vec::new();
                for (&i, status) in current.iter().zip(outcome.recipients) {
                    let retry_here = status.not_attempted();
                    let move_on = match &status {
                        Status::Delivered => false,
                        Status::Temporary(_) => !retry_here,
                        Status::Permanent(_) => outcome.try_next_host,
                    };
                    if status == Status::Delivered {
                        altimail_core::stats::count(altimail_core::stats::Counter::Sent);
                        queue_repo::remove_sent_recipient(&self.store.db, list[i].id).await?;
                    }
                    results[i] = RcptResult { status, remote: Some(host.ip), peer_dsn: outcome.dsn };
                    if retry_here {
                        again.push(i);
                    } else if move_on {
                        next_host.push(i);
                    }
                }
                if again.len() == current.len() {
                    // No progress on this host: the next one may do better.
                    next_host.extend(again);
                    break;
                }
                current = again;
            }
            pending = next_host;
            if pending.is_empty() {
                break;
            }
        }
        Ok(results)
    }

    /// The message as sent: with a DKIM signature when the sender's domain signs. A missing or
    /// broken key is logged and the message goes out unsigned (as hMailServer does).
    async fn signed(&self, message: &Message, raw: &[u8]) -> Vec<u8> {
        let Some((_, domain)) = message.from.rsplit_once('@') else { return raw.to_vec() };
        let config = match domains::find(&self.store.db, domain).await {
            Ok(Some(d)) => DkimConfig::for_domain(&d),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("message {}: DKIM settings unavailable: {e}", message.id);
                None
            }
        };
        let Some(config) = config else { return raw.to_vec() };
        let normal = crate::wire::crlf(raw);
        let signed = match tokio::fs::read(&config.key_file).await {
            Ok(key) => dkim::sign(&config, &key, &normal),
            Err(e) => Err(DkimError::Key(config.key_file.clone(), e.to_string())),
        };
        match signed {
            Ok(header) => {
                let mut out = header.into_bytes();
                out.extend_from_slice(&normal);
                out
            }
            Err(e) => {
                self.log.error(Severity::Medium, 5305, "DKIM::Sign", &format!("Message {}: {e}", message.id));
                normal
            }
        }
    }

    /// Sends the sender a "relayed" DSN for NOTIFY=SUCCESS recipients handed to a server
    /// without DSN (RFC 3461 §4.1).
    async fn report_relayed(
        &self,
        message: &Message,
        raw: &[u8],
        extras: &queue::Envelope,
        relayed: &[Failed],
    ) -> Result<(), StoreError> {
        let settings = Settings::load(&self.store.db).await?;
        if !bounce::may_bounce(&message.from, &Headers::parse(raw), settings.int("rulelooplimit")) {
            return Ok(());
        }
        let host = altimail_delivery::host_name(&settings);
        let original = Original { sender: &message.from, raw, envid: &extras.envid, ret: &extras.ret };
        let data = bounce::build_relayed(&host, &original, relayed);
        self.submit_report(&message.from, data).await;
        Ok(())
    }

    /// Queues a report to `sender` (null envelope sender).
    async fn submit_report(&self, sender: &str, data: Vec<u8>) {
        self.spool.submit_notice(&self.store.db, sender, "report", data).await;
    }

    /// Takes failed recipients off the queue. Those a bounce reports on leave in the same
    /// transaction that queues the bounce ([`settle::submit_bounce`], as local delivery does);
    /// those no bounce is due for (NOTIFY without FAILURE, null or daemon sender, loop limit,
    /// automatic mail) leave at once. Returns false when the bounce could not be built or
    /// queued: its recipients stay queued and the message is tried again later.
    async fn bounce(
        &self,
        message: &Message,
        raw: &[u8],
        extras: &queue::Envelope,
        failed: &[(QueuedRecipient, Failed)],
    ) -> Result<bool, StoreError> {
        let db = &self.store.db;
        let settings = Settings::load(db).await?;
        let may_report = bounce::may_bounce(&message.from, &Headers::parse(raw), settings.int("rulelooplimit"));
        let (reported, silent): (Vec<_>, Vec<_>) =
            failed.iter().partition(|(r, _)| may_report && bounce::wants_failure_report(&r.notify));
        for (r, f) in failed {
            tracing::info!("message {} to {}: failed: {}", message.id, r.address, f.reply);
            self.rules.delivery_failed(message, raw, &r.address, &f.reply.to_string()).await;
        }
        queue::remove_recipients(db, &silent.iter().map(|(r, _)| r.id).collect::<Vec<_>>()).await?;
        if reported.is_empty() {
            return Ok(true);
        }
        let ids: Vec<i64> = reported.iter().map(|(r, _)| r.id).collect();
        let list: Vec<Failed> = reported.iter().map(|(r, f)| Failed { orcpt: r.orcpt.clone(), ..f.clone() }).collect();
        let host = altimail_delivery::host_name(&settings);
        let original = Original { sender: &message.from, raw, envid: &extras.envid, ret: &extras.ret };
        let result = async {
            let data =
                bounce::build(&self.store, &host, &original, &list).await.map_err(|e| format!("not built: {e}"))?;
            settle::submit_bounce(&self.spool, db, message.id, &message.from, data, &ids).await
        }
        .await;
        match result {
            Ok(()) => Ok(true),
            Err(e) => {
                self.log.error(
                    Severity::Medium,
                    5007,
                    "ExternalDelivery",
                    &format!(
                        "Message {}: bounce to {} {e}; the message is tried again later",
                        message.id, message.from
                    ),
                );
                Ok(false)
            }
        }
    }
}

fn failure(r: &QueuedRecipient, f: &Failure, remote: Option<IpAddr>, tries: i64) -> Failed {
    Failed {
        address: r.address.clone(),
        orcpt: String::new(),
        remote: if f.command.is_empty() { None } else { remote },
        command: f.command.clone(),
        reply: if f.reply.is_empty() { "Connection to recipients server failed.".into() } else { f.reply.clone() },
        tries,
    }
}

/// The route's id when `dest` is a route whose description starts with "ETRN".
fn etrn_route(dest: &Destination, all_routes: &[Route]) -> Option<i64> {
    match dest {
        Destination::Fixed { route_id, .. } if *route_id > 0 => {
            all_routes.iter().find(|r| r.id == *route_id && r.is_etrn()).map(|r| r.id)
        }
        _ => None,
    }
}

/// Retries and minutes between them: the settings, or — when recipients go through routes —
/// the largest values of those routes (hMailServer takes the maximum over matching routes).
fn retry_policy(settings: &OutboundSettings, all_routes: &[Route], rcpts: &[QueuedRecipient]) -> (i64, i64) {
    let matching: Vec<&Route> = rcpts.iter().filter_map(|r| target::route_for(all_routes, &r.address)).collect();
    if matching.is_empty() {
        return (settings.retries, settings.minutes_between_retries);
    }
    let retries = matching.iter().map(|r| r.number_of_tries).max().unwrap_or(0).max(0);
    let minutes = matching.iter().map(|r| r.minutes_between_tries).max().unwrap_or(0).max(1);
    (retries, minutes)
}
