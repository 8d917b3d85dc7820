//! `altimail db copy --to OTHER.toml`: the whole database onto another engine (or server).

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use altimail_store::Db;
use altimail_store::copy::{self, CopyProgress};

use crate::cli::Output;
use crate::cli::output::emit;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// Copy the whole database (every hm_* and altimail_* table, keys kept) to the database of
    /// another configuration file: SQLite, PostgreSQL and MySQL/MariaDB in any direction. The
    /// server must be stopped. Message files stay where they are: point the other configuration's
    /// data folder at the same place.
    Copy(CopyArgs),
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The configuration file whose [database] receives the copy.
    #[arg(long, value_name = "TOML")]
    pub to: PathBuf,
    /// Replace the contents of a target that already holds domains, accounts or messages.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(cmd: DbCmd, config: &Config, out: &Output) -> anyhow::Result<()> {
    match cmd {
        DbCmd::Copy(args) => copy_to(args, config, out).await,
    }
}

async fn copy_to(args: CopyArgs, config: &Config, out: &Output) -> anyhow::Result<()> {
    let target_config = Config::load(Some(&args.to))?;
    if target_config.database == config.database {
        bail!("{} names the same database as the configuration in use", args.to.display());
    }
    // A running server would go on changing the source while it is read, and one on the
    // target would serve a half-copied database.
    ensure_stopped(&config.data_dir)?;
    ensure_stopped(&target_config.data_dir)?;

    let source =
        Db::connect(&config.database).await.with_context(|| format!("cannot open {}", config.database.describe()))?;
    let target = match Db::connect(&target_config.database).await {
        Ok(db) => db,
        Err(e) => {
            source.close().await;
            return Err(anyhow::Error::new(e).context(format!("cannot open {}", target_config.database.describe())));
        }
    };
    // Refused before anything is said or done (the copy checks again).
    if !args.force {
        let in_use = copy::target_in_use(&target).await;
        if !matches!(in_use, Ok(None)) {
            source.close().await;
            target.close().await;
        }
        if let Some(why) = in_use? {
            bail!("the target database is not empty ({why}); use --force to replace its contents");
        }
    }
    if !out.json {
        emit(&format!("copying {} to {}", config.database.describe(), target_config.database.describe()))?;
    }
    let mut progress = Printer::new(!out.json);
    let result = copy::copy(&source, &target, args.force, &mut progress).await;
    progress.finish();
    source.close().await;
    target.close().await;
    let report = result?;

    let mismatches: Vec<_> = report.mismatches().collect();
    if out.json {
        out.object(&report)?;
    } else {
        for t in &mismatches {
            emit(&format!("MISMATCH {}: {} rows in the source, {} in the target", t.table, t.source, t.target))?;
        }
        emit(&format!(
            "copied {} tables, {} rows; row counts {}",
            report.tables.len(),
            report.total_rows(),
            if mismatches.is_empty() { "match in every table" } else { "DIFFER" }
        ))?;
    }
    if !mismatches.is_empty() {
        bail!("the row counts of {} tables differ after the copy", mismatches.len());
    }
    if target_config.data_dir != config.data_dir && !out.json {
        emit(&format!(
            "the message files are still in {}: copy them to {} (the data folder of {}) before serving from it",
            config.data_dir.display(),
            target_config.data_dir.display(),
            args.to.display()
        ))?;
    }
    Ok(())
}

/// Fails when a server holds the data directory's lock (`altimail.lock`, see `serve`).
fn ensure_stopped(data_dir: &Path) -> anyhow::Result<()> {
    let path = data_dir.join("altimail.lock");
    let Ok(file) = File::open(&path) else { return Ok(()) };
    match file.try_lock_shared() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "a server is running on {} (it holds {}): stop it first (`systemctl stop altimail`), the copy needs a database nobody changes",
            data_dir.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => bail!("cannot check {}: {e}", path.display()),
    }
}

/// Progress on standard output: a bar per table rewritten in place on a terminal, else a line
/// per table (and one per 100,000 rows of a large one).
struct Printer {
    on: bool,
    terminal: bool,
    table: String,
    total: u64,
    done: u64,
}

impl Printer {
    fn new(on: bool) -> Printer {
        Printer { on, terminal: std::io::stdout().is_terminal(), table: String::new(), total: 0, done: 0 }
    }

    fn draw(&self) {
        const WIDTH: u64 = 30;
        let filled = (self.done.min(self.total) * WIDTH).checked_div(self.total).unwrap_or(WIDTH) as usize;
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(WIDTH as usize - filled));
        print!("\r{:<28} [{bar}] {}/{}\x1b[K", self.table, self.done, self.total);
        let _ = std::io::stdout().flush();
    }

    fn finish(&mut self) {
        if self.on && self.terminal && !self.table.is_empty() {
            println!();
        }
        self.table.clear();
    }
}

impl CopyProgress for Printer {
    fn table_started(&mut self, table: &str, rows: u64) {
        self.table = table.to_owned();
        self.total = rows;
        self.done = 0;
        if self.on && self.terminal {
            self.draw();
        }
    }

    fn rows_copied(&mut self, rows: u64) {
        let before = self.done / 100_000;
        self.done += rows;
        if !self.on {
            return;
        }
        if self.terminal {
            self.draw();
        } else if self.done / 100_000 > before {
            println!("{}: {}/{} rows", self.table, self.done, self.total);
        }
    }

    fn table_done(&mut self, table: &str) {
        if !self.on {
            return;
        }
        if self.terminal {
            self.draw();
        } else {
            println!("{table}: {} rows", self.done);
        }
    }
}
