//! `altimail serve`: open the store (initialising an empty database), start the listeners,
//! run until SIGTERM or SIGINT, then stop gracefully.

use anyhow::Context;

use altimail_store::{Store, schema};

use crate::config::Config;

pub async fn run(config: Config) -> anyhow::Result<()> {
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
    let store = Store::open(&config.database, &config.data_dir, false)
        .await
        .with_context(|| format!("cannot open {}", config.database.describe()))?;
    tracing::info!(database = %config.database.describe(), data = %config.data_dir.display(), fresh, "store ready");
    shutdown_signal().await;
    store.db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
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
