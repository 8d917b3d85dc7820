//! `altimail serve`: open the store (initialising an empty database), start the listeners,
//! run until SIGTERM or SIGINT, then stop gracefully. SIGHUP reads altimail.toml and the TLS
//! certificates again ([`crate::reload`]). Under systemd (`Type=notify`) the service manager is
//! told when the server is ready, reloading and stopping, and gets watchdog pings while the
//! runtime and the database answer ([`crate::systemd`]).
//!
//! The start fails, with the cause in words, when something the server needs is missing: a
//! data directory it cannot write, another server on the same data directory (an exclusive
//! lock on `{data}/altimail.lock`), the database, or a configured port that cannot be listened
//! on or whose certificate cannot be loaded (unless `--allow-missing-listeners`). Only the
//! wildcard IPv6 listeners (`::`) of a machine without IPv6 are left out with a warning.

use std::fs::File;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use altimail_antispam::auth::Authenticator;
use altimail_core::codes::Protocol;
use altimail_delivery::{LocalDelivery, Spool};
use altimail_dns::HickoryDns;
use altimail_imap_server::ImapServer;
use altimail_net::{HmLog, Listeners, Policy};
use altimail_outbound::RemoteDelivery;
use altimail_pop3::server::Pop3Server;
use altimail_smtp::server::{AntiSpam, AntiVirus, SmtpServer};
use altimail_store::repo::settings::Settings;
use altimail_store::{Store, schema};

use crate::config::Config;
use crate::systemd::{self, Notifier};

/// How `serve` was asked to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Keep running when configured ports cannot be listened on (`--allow-missing-listeners`).
    pub allow_missing_listeners: bool,
}

pub async fn run(mut config: Config, options: Options) -> anyhow::Result<()> {
    // Listen for SIGTERM from the start: a stop requested during start-up is a graceful stop too.
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    // SIGHUP would end the process by default: from now on it only reloads.
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    let notifier = Arc::new(Notifier::from_env());
    if !crate::logging::from_environment() {
        crate::logging::apply(&config.log_level);
    }
    config.create_dirs()?;
    // Held until the process ends (the kernel releases it then, after a crash or kill -9 too).
    let _lock = DataDirLock::acquire(&config.data_dir)?;
    for dir in [&config.data_dir, &config.temp_dir, &config.logs_dir] {
        check_writable(dir)?;
    }
    let fresh = {
        let db = altimail_store::Db::connect(&config.database)
            .await
            .with_context(|| format!("cannot open {}", config.database.describe()))?;
        let state = schema::inspect(&db).await?;
        if state == schema::SchemaState::Empty {
            tracing::info!("{} is empty: creating the schema", config.database.describe());
            schema::create(&db).await?;
            crate::init::apply_new_installation_defaults(&db).await?;
        }
        db.close().await;
        state == schema::SchemaState::Empty
    };
    let mut store = Store::open(&config.database, &config.data_dir, false)
        .await
        .with_context(|| format!("cannot open {}", config.database.describe()))?;
    store.files = store.files.with_flush(config.flush);
    tracing::info!(database = %config.database.describe(), data = %config.data_dir.display(), fresh, "store ready");
    if fresh {
        tracing::info!(
            "new installation: run `altimail quickstart you@yourdomain` to create your domain and first account and to see the DNS records to publish"
        );
    }

    let settings = Settings::load(&store.db).await?;
    let log = HmLog::new(&config.logs_dir, settings.int("logging"));
    log.set_awstats(settings.bool("awstatsenabled"));
    log.application(&format!("Altimail Server {} starting", env!("CARGO_PKG_VERSION")));
    let policy = Policy::new(store.db.clone());
    // The administration API and web admin share the policy: its session counts and auto-ban.
    let admin_policy = policy.clone();
    let spool = Spool::start(store.clone());
    // No delivery runs yet: messages a stopped server had claimed are released, once, before
    // any worker can claim one.
    match altimail_delivery::queue::unlock_all(&store.db).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("released {n} queued message(s) locked by the previous run"),
        Err(e) => tracing::error!("cannot unlock the queue: {e}"),
    }
    warn_if_no_host_name(&settings, &log);
    // One resolver, with one cache, for outbound delivery and every anti-spam test; SPF, DKIM
    // and DMARC go through mail-auth over that same resolver (see altimail_antispam::auth).
    let (dns, handle) = HickoryDns::resolver_and_handle(&config.dns_servers);
    // EventHandlers.vbs from the events folder, when `usescriptserver` is on.
    let scripts = altimail_scripting::Scripts::new(&config.events_dir, log.clone());
    scripts.configure(&settings);
    let antispam = AntiSpam { dns: dns.clone(), auth: handle.map(Authenticator::sharing) };
    let challenges = altimail_acme::AcmeChallenges::new();
    let listeners = Listeners::builder(policy, log.clone(), &config.data_dir)
        .with_acme_challenges(challenges.clone())
        .with_handler(
            Protocol::Smtp,
            SmtpServer::new(store.clone(), spool.clone())
                .with_antispam(antispam)
                .with_antivirus(AntiVirus::new(config.temp_dir.clone()))
                .with_scripts(scripts.clone()),
        )
        .with_handler(Protocol::Pop3, Pop3Server::new(store.clone()).with_scripts(scripts.clone()))
        .with_handler(Protocol::Imap, ImapServer::new(store.clone()))
        .with_handler(
            Protocol::Http,
            altimail_web::WebServer::new(store.clone()).with_acme_challenges(challenges.clone()),
        )
        .start()
        .await;
    let missing: Vec<String> =
        listeners.problems().await.into_iter().filter(|p| !p.is_tolerable()).map(|p| p.text).collect();
    if !missing.is_empty() {
        if options.allow_missing_listeners {
            tracing::warn!(
                "running without {} configured port(s) (--allow-missing-listeners); they are retried every second",
                missing.len()
            );
        } else {
            listeners.shutdown(Duration::ZERO).await;
            log.flush();
            store.db.close().await;
            bail!(
                "{} (to start without {}: altimail serve --allow-missing-listeners)",
                missing.join("; "),
                if missing.len() == 1 { "this port" } else { "these ports" }
            );
        }
    }
    if listeners.bound().await.is_empty() {
        tracing::warn!("listening on no port: add one with `altimail port add`");
    }
    let bound = listeners.bound().await.len();
    notifier.notify(&format!("READY=1\nSTATUS=Listening on {bound} port(s)"));
    let watchdog = systemd::watchdog_interval()
        .filter(|_| notifier.is_active())
        .map(|every| tokio::spawn(watchdog(notifier.clone(), store.db.clone(), every)));
    let (stop_delivery, delivery_stopped) = tokio::sync::watch::channel(false);
    // The administration REST API, on its own listener (loopback unless configured otherwise).
    let api = match config.api_listen {
        Some(addr) => {
            let listener = match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    listeners.shutdown(Duration::ZERO).await;
                    log.flush();
                    store.db.close().await;
                    bail!("the administration API cannot listen on {addr} ([api] listen): {e}");
                }
            };
            tracing::info!("administration API on http://{addr}/api/v1/");
            let live = std::sync::Arc::new(crate::live_status::ServerLive::new(admin_policy.clone()));
            let admin =
                altimail_admin::Admin::new(store.clone()).with_live_status(live).with_logs_dir(config.logs_dir.clone());
            crate::webadmin::greet(&admin, addr).await;
            let api = altimail_web::api::Api::new(admin.clone()).with_policy(admin_policy.clone());
            // The web administration (/admin/) shares the API's listener.
            let status = altimail_web::ui::ServerStatus::new(Some(config.logs_dir.clone()));
            let ui = altimail_web::ui::WebAdmin::new(admin, status, Some(admin_policy));
            Some(tokio::spawn(altimail_web::ui::serve(listener, api, ui, delivery_stopped.clone())))
        }
        None => None,
    };
    let delivery = tokio::spawn(
        LocalDelivery::new(store.clone(), spool.clone(), log.clone())
            .with_scripts(scripts.clone())
            .run(delivery_stopped.clone()),
    );
    // External accounts (hm_fetchaccounts) are downloaded into the spool like received mail.
    let fetcher = tokio::spawn(
        altimail_fetch::Fetcher::new(store.clone(), spool.clone(), log.clone())
            .with_temp_dir(config.temp_dir.clone())
            .run(delivery_stopped.clone()),
    );
    let remote = tokio::spawn(
        RemoteDelivery::new(store.clone(), spool.clone(), log.clone(), dns)
            .with_scripts(scripts.clone())
            .run(delivery_stopped),
    );
    // Expired IP ranges (auto-ban) are removed as hMailServer's scheduled task does.
    let cleanup = tokio::spawn(expire_ranges(store.db.clone()));
    // Expired greylisting triplets are removed every GreylistingRecordExpirationInterval.
    let greylist_purge = altimail_antispam::greylist::spawn_purge(store.db.clone(), GREYLIST_PURGE_INTERVAL);

    let (acme, mut renewed) = start_acme(&config, &settings, challenges);

    let mut signals = Signals::new(term, hangup);
    loop {
        tokio::select! {
            signal = signals.next() => {
                if signal == Signal::Stop {
                    break;
                }
                notifier.reloading();
                let outcome = crate::reload::reload(&mut config, &listeners, &log).await;
                let status = match (&outcome.config_error, outcome.certificate_errors.len()) {
                    (None, 0) => "Reloaded".to_owned(),
                    (Some(_), _) => "Reload failed: the configuration file has errors (see the log)".to_owned(),
                    (None, n) => format!("Reloaded; {n} port(s) kept their previous certificate (see the log)"),
                };
                notifier.notify(&format!("READY=1\nSTATUS={status}"));
            }
            Some(()) = renewed.recv() => {
                // The same reload as SIGHUP's: new handshakes get the new certificate, running
                // sessions keep theirs.
                let errors = listeners.reload_certificates().await;
                if errors.is_empty() {
                    tracing::info!("ACME: the TLS ports present the new certificate");
                    log.application("New certificate from the ACME CA in place");
                } else {
                    tracing::error!("ACME: after the new certificate: {}", errors.join("; "));
                }
            }
        }
    }
    if let Some((stop, task)) = acme {
        let _ = stop.send(true);
        task.abort();
    }
    notifier.notify("STOPPING=1\nSTATUS=Stopping");
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    cleanup.abort();
    greylist_purge.abort();
    let aborted = listeners.shutdown(SHUTDOWN_GRACE).await;
    if aborted > 0 {
        tracing::warn!("{aborted} session(s) did not end within {}s and were closed", SHUTDOWN_GRACE.as_secs());
    }
    let _ = stop_delivery.send(true);
    if let Some(api) = api {
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, api).await;
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, fetcher).await.is_err() {
        tracing::warn!("external account downloads did not stop in time");
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, delivery).await.is_err() {
        tracing::warn!("local delivery did not stop in time");
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, remote).await.is_err() {
        tracing::warn!("remote delivery did not stop in time");
    }
    log.application("Altimail Server stopped");
    // The log files are written by a thread of their own: wait for the last lines.
    log.flush();
    store.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// An exclusive lock on `{data}/altimail.lock` (flock), which holds the pid of its owner: two
/// servers on one data directory would deliver every queued message twice and fight over the
/// message files. The lock is the kernel's, so it goes with the process, however it ends; the
/// file stays.
/// The ACME manager, when `[acme]` is on: its stop switch and task, and the channel that says
/// a new certificate is in place.
#[allow(clippy::type_complexity)]
fn start_acme(
    config: &Config,
    settings: &Settings,
    challenges: altimail_acme::AcmeChallenges,
) -> (Option<(tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>)>, tokio::sync::mpsc::UnboundedReceiver<()>)
{
    let (tell, renewed) = tokio::sync::mpsc::unbounded_channel();
    let Some(acme) = config.acme.clone() else {
        return (None, renewed);
    };
    let names = if acme.names.is_empty() {
        let host = settings.string("hostname").trim().trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() { Vec::new() } else { vec![host] }
    } else {
        acme.names.clone()
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let manager = altimail_acme::Manager::new(acme, names, config.data_dir.clone(), challenges);
    let task = tokio::spawn(manager.run(
        move || {
            let _ = tell.send(());
        },
        stopped,
    ));
    (Some((stop, task)), renewed)
}

struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    const NAME: &'static str = "altimail.lock";

    fn acquire(data_dir: &Path) -> anyhow::Result<DataDirLock> {
        let path = data_dir.join(Self::NAME);
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| unwritable(data_dir, &path, &e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let owner = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("process {pid}"),
                    Err(_) => "another process".to_owned(),
                };
                bail!(
                    "another altimail server ({owner}) is running on the data directory {} (it holds the lock {}); \
                     stop it first, or give this one a configuration with other directories",
                    data_dir.display(),
                    path.display()
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                bail!("cannot lock {}: {e}", path.display());
            }
        }
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.flush());
        written.map_err(|e| unwritable(data_dir, &path, &e))?;
        Ok(DataDirLock { _file: file })
    }
}

/// Creates and removes a file in `dir`, so that a directory the server cannot write stops the
/// start instead of failing the first message.
fn check_writable(dir: &Path) -> anyhow::Result<()> {
    let probe: PathBuf = dir.join(format!(".altimail-write-test-{}", std::process::id()));
    let result = File::create(&probe).and_then(|mut f| f.write_all(b"ok\n").and_then(|()| f.sync_all()));
    let _ = std::fs::remove_file(&probe);
    result.map_err(|e| unwritable(dir, &probe, &e))
}

fn unwritable(dir: &Path, file: &Path, e: &std::io::Error) -> anyhow::Error {
    let who = match std::env::var("USER") {
        Ok(user) if !user.is_empty() => format!("the user running altimail ({user})"),
        _ => "the user running altimail".to_owned(),
    };
    anyhow::anyhow!(
        "the directory {} cannot be written ({}: {e}); it must be writable by {who}",
        dir.display(),
        file.display()
    )
}

/// Without the `hostname` setting the greeting, HELO and Received headers use the machine's
/// name, which is rarely the name the world knows the server by.
fn warn_if_no_host_name(settings: &Settings, log: &HmLog) {
    if !settings.string("hostname").trim().is_empty() {
        return;
    }
    let machine = altimail_delivery::host_name(settings);
    let text = format!(
        "the host name is not set: the greeting, HELO and Received headers say {machine:?}; \
         set the server's public name with `altimail setting set hostname mail.example.com`"
    );
    tracing::warn!("{text}");
    log.application(&text);
}

/// How long sessions get to finish after SIGTERM before they are closed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// hMailServer's `GreylistingRecordExpirationInterval` default: 240 minutes.
const GREYLIST_PURGE_INTERVAL: Duration = Duration::from_secs(240 * 60);

async fn expire_ranges(db: altimail_store::Db) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        match altimail_store::repo::ranges::delete_expired(&db, altimail_core::time::now_local()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("removed {n} expired IP range(s)"),
            Err(e) => tracing::warn!("could not remove expired IP ranges: {e}"),
        }
    }
}

/// What a signal asks of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Stop,
    Reload,
}

/// SIGTERM and SIGINT (stop) and SIGHUP (reload).
struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    hangup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new(
        term: std::io::Result<tokio::signal::unix::Signal>,
        hangup: std::io::Result<tokio::signal::unix::Signal>,
    ) -> Signals {
        let term = term.map_err(|e| tracing::error!("cannot listen for SIGTERM: {e}")).ok();
        let hangup = hangup.map_err(|e| tracing::error!("cannot listen for SIGHUP: {e}; reloads need a restart")).ok();
        Signals { term, hangup }
    }

    async fn next(&mut self) -> Signal {
        let Signals { term, hangup } = self;
        let term = async {
            match term {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        let hangup = async {
            match hangup {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = term => {
                tracing::info!("SIGTERM: stopping");
                Signal::Stop
            }
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("SIGINT: stopping");
                Signal::Stop
            }
            _ = hangup => {
                tracing::info!("SIGHUP: reloading the configuration and the certificates");
                Signal::Reload
            }
        }
    }
}

/// Sends `WATCHDOG=1` every `every` while the server is healthy. A hung runtime sends nothing
/// by itself; a database that stops answering stops the pings too, and systemd restarts the
/// service after `WatchdogSec`.
async fn watchdog(notifier: Arc<Notifier>, db: altimail_store::Db, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_healthy = true;
    loop {
        tick.tick().await;
        match healthy(&db, every).await {
            Ok(()) => {
                if !was_healthy {
                    tracing::info!("healthy again: watchdog pings resume");
                }
                notifier.notify("WATCHDOG=1");
                was_healthy = true;
            }
            Err(why) => {
                if was_healthy {
                    tracing::error!("not healthy ({why}): no watchdog ping until it recovers");
                }
                was_healthy = false;
            }
        }
    }
}

/// The runtime runs a new task, and the database answers, each within `limit`.
async fn healthy(db: &altimail_store::Db, limit: Duration) -> Result<(), String> {
    match tokio::time::timeout(limit, tokio::spawn(async {})).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("the runtime: {e}")),
        Err(_) => return Err(format!("the runtime did not run a task within {limit:?}")),
    }
    match tokio::time::timeout(limit, schema::inspect(db)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("the database: {e}")),
        Err(_) => Err(format!("the database did not answer within {limit:?}")),
    }
}
