//! `altimail`: the Altimail Server program — the server itself (`serve`) and its administration
//! commands.

mod cli;
mod config;
mod doctor;
mod init;
mod live_status;
mod logging;
mod reload;
mod serve;
mod systemd;
mod webadmin;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use altimail_store::{Store, schema};

use crate::cli::{Cli, Command, Output};
use crate::config::Config;

// mimalloc rather than glibc's malloc (benches/README.md, "Allocator"): glibc keeps freed memory
// in per-thread arenas, so a burst of connections or logons left the process that large for
// good; mimalloc gives it back to the system.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
            eprintln!("{} (see --help)", one_line_usage_error(&e.to_string()));
            return ExitCode::from(1);
        }
    };
    let serving = matches!(cli.command, Command::Serve { .. });
    logging::init(serving);
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
            eprintln!("error: {}", one_line_chain(e.chain().map(|c| c.to_string())));
            ExitCode::from(1)
        }
    }
}

/// clap's message without its usage block, on one line: "error: the following required
/// arguments were not provided: --password <PASSWORD>".
fn one_line_usage_error(text: &str) -> String {
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    if parts.is_empty() { "error: invalid arguments".to_owned() } else { parts.join(" ") }
}

/// The whole context chain on one line, without repeating a cause that an outer message
/// already quotes (database drivers often include their source's text in their own).
fn one_line_chain(chain: impl Iterator<Item = String>) -> String {
    let mut line = String::new();
    for part in chain {
        if part.is_empty() || line.contains(&part) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&part);
    }
    line
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
        Command::Serve { allow_missing_listeners } => {
            serve::run(config, serve::Options { allow_missing_listeners }).await
        }
        Command::Quickstart(args) => cli::quickstart::run(args, &config, &out).await,
        Command::Doctor => doctor::run(&config, &out).await,
        Command::Cert(c) => cli::cert::run(c, &config, &out).await,
        Command::Backup(args) => {
            let store = open_existing(&config).await?;
            let result = cli::backup::backup(args, &config, &store).await;
            store.db.close().await;
            result
        }
        Command::Restore(args) => {
            let store = open_existing(&config).await?;
            let result = cli::backup::restore(args, &config, &store).await;
            store.db.close().await;
            result
        }
        Command::Import(cmd) => cli::import::run(cmd, &out).await,
        Command::Db(cmd) => cli::db::run(cmd, &config, &out).await,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_keep_the_argument_on_one_line() {
        let clap = "error: the following required arguments were not provided:\n  <ADDRESS>\n\nUsage: altimail account add <ADDRESS>\n\nFor more information, try '--help'.\n";
        assert_eq!(one_line_usage_error(clap), "error: the following required arguments were not provided: <ADDRESS>");
    }

    /// Every command, subcommand and argument says what it is in `--help`, and clap's own
    /// consistency checks pass for the whole tree.
    #[test]
    fn every_command_and_argument_has_help_text() {
        use clap::CommandFactory;
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in c.get_arguments() {
                // clap's own --help and --version explain themselves.
                if matches!(arg.get_id().as_str(), "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} <{}>", arg.get_id()));
                }
            }
            for sub in c.get_subcommands() {
                let path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() {
                    missing.push(path.clone());
                }
                walk(sub, &path, missing);
            }
        }
        let root = Cli::command();
        root.clone().debug_assert();
        let mut missing = Vec::new();
        walk(&root, "altimail", &mut missing);
        assert!(missing.is_empty(), "commands and arguments without help text:\n{}", missing.join("\n"));
    }

    #[test]
    fn repeated_causes_are_said_once() {
        let chain = ["opening the store", "database \"x\" does not exist", "database \"x\" does not exist"];
        assert_eq!(
            one_line_chain(chain.iter().map(|s| s.to_string())),
            "opening the store: database \"x\" does not exist"
        );
    }
}
