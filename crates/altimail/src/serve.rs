//! `altimail serve`: open the store (initialising an empty database), start the listeners,
//! run until SIGTERM or SIGINT, then stop gracefully.

use std::time::Duration;

use anyhow::Context;

use altimail_core::codes::Protocol;
use altimail_delivery::{LocalDelivery, Spool};
use altimail_imap_server::ImapServer;
use altimail_net::{HmLog, Listeners, Policy};
use altimail_outbound::RemoteDelivery;
use altimail_outbound::dns::HickoryDns;
use altimail_pop3::server::Pop3Server;
use altimail_smtp::server::SmtpServer;
use altimail_store::repo::settings::Settings;
use altimail_store::{Store, schema};

use crate::config::Config;

pub async fn run(config: Config) -> anyhow::Result<()> {
    // Listen for SIGTERM from the start: a stop requested during start-up is a graceful stop too.
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    config.create_dirs()?;
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
    let spool = Spool::start(store.clone());
    // No delivery runs yet: messages a stopped server had claimed are released, once, before
    // any worker can claim one.
    match altimail_delivery::queue::unlock_all(&store.db).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("released {n} queued message(s) locked by the previous run"),
        Err(e) => tracing::error!("cannot unlock the queue: {e}"),
    }
    let (stop_delivery, delivery_stopped) = tokio::sync::watch::channel(false);
    let delivery =
        tokio::spawn(LocalDelivery::new(store.clone(), spool.clone(), log.clone()).run(delivery_stopped.clone()));
    // External accounts (hm_fetchaccounts) are downloaded into the spool like received mail.
    let fetcher = tokio::spawn(
        altimail_fetch::Fetcher::new(store.clone(), spool.clone(), log.clone()).run(delivery_stopped.clone()),
    );
    let dns = HickoryDns::resolver(&config.dns_servers);
    let remote =
        tokio::spawn(RemoteDelivery::new(store.clone(), spool.clone(), log.clone(), dns).run(delivery_stopped));
    let listeners = Listeners::builder(policy, log.clone(), &config.data_dir)
        .with_handler(Protocol::Smtp, SmtpServer::new(store.clone(), spool.clone()))
        .with_handler(Protocol::Pop3, Pop3Server::new(store.clone()))
        .with_handler(Protocol::Imap, ImapServer::new(store.clone()))
        .with_handler(Protocol::Http, altimail_web::WebServer::new(store.clone()))
        .start()
        .await;
    // Expired IP ranges (auto-ban) are removed as hMailServer's scheduled task does.
    let cleanup = tokio::spawn(expire_ranges(store.db.clone()));

    shutdown_signal(term).await;
    cleanup.abort();
    let aborted = listeners.shutdown(SHUTDOWN_GRACE).await;
    if aborted > 0 {
        tracing::warn!("{aborted} session(s) did not end within {}s and were closed", SHUTDOWN_GRACE.as_secs());
    }
    let _ = stop_delivery.send(true);
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

/// How long sessions get to finish after SIGTERM before they are closed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

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

async fn shutdown_signal(term: std::io::Result<tokio::signal::unix::Signal>) {
    let mut term = match term {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot listen for SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
    }
}
