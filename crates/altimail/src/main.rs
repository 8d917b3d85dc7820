//! `altimail`: the Altimail Server program — the server itself (`serve`) and its administration
//! commands.

mod cli;
mod config;
mod init;
mod serve;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use altimail_store::{Store, schema};

use crate::cli::{Cli, Command, Output};
use crate::config::Config;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are not errors; bad arguments get one line and exit 1 like
            // every other error.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let text = e.to_string();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid arguments");
            eprintln!("{} (see --help)", first.trim_end());
            return ExitCode::from(1);
        }
    };
    let serving = matches!(cli.command, Command::Serve);
    init_tracing(serving);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the whole context chain.
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::from(1)
        }
    }
}

/// Human-readable logs on stderr (`RUST_LOG` overrides the level). Administration commands only
/// print warnings, so their output stays clean for scripts.
fn init_tracing(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    let out = Output { json: cli.json };
    match cli.command {
        Command::Init => {
            config.create_dirs()?;
            let db = altimail_store::Db::connect(&config.database)
                .await
                .with_context(|| format!("cannot open {}", config.database.describe()))?;
            schema::create(&db).await?;
            init::apply_new_installation_defaults(&db).await?;
            db.close().await;
            println!("initialised {} (hMailServer schema {})", config.database.describe(), schema::HM_SCHEMA_VERSION);
            Ok(())
        }
        Command::Serve => serve::run(config).await,
        command => {
            let store = open_existing(&config).await?;
            let result = cli::run_admin(command, &store, &out).await;
            store.db.close().await;
            result
        }
    }
}

/// Opens the store for an administration command: the database must already exist.
async fn open_existing(config: &Config) -> anyhow::Result<Store> {
    Store::open(&config.database, &config.data_dir, false)
        .await
        .with_context(|| format!("cannot open {}", config.database.describe()))
}
