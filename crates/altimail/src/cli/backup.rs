//! `altimail backup` and `altimail restore`: hMailServer's backup format, both ways.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use altimail_backup::{BackupLog, Options, Outcome, Progress};
use altimail_store::Store;
use altimail_store::repo::settings;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Folder the archive `HMBackup <date> <time>.7z` is written to (default: setting
    /// backupdestination).
    #[arg(long, value_name = "DIR")]
    pub destination: Option<PathBuf>,
    /// Back up the settings (hm_settings, IP ranges, ports, routes, anti-spam lists, ...).
    #[arg(long)]
    pub settings: bool,
    /// Back up the domains with their accounts, aliases, lists, rules and external accounts.
    #[arg(long)]
    pub domains: bool,
    /// Back up the messages and folders too (implies --domains).
    #[arg(long)]
    pub messages: bool,
    /// Compress the message files into the archive (LZMA2); without compression they are
    /// left in a DataBackup folder beside it, as hMailServer does. Default: bit 8 of setting
    /// backupoptions.
    #[arg(long, conflicts_with = "no_compress")]
    pub compress: bool,
    /// Do not compress: leave the message files in a DataBackup folder beside the archive.
    #[arg(long)]
    pub no_compress: bool,
    /// Read the archive back when it is written and check every message.
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The archive (`HMBackup ....7z`), made by hMailServer 5.6/5.7 or by Altimail.
    pub file: PathBuf,
    /// Restore the settings. Without --settings/--domains everything the archive holds is
    /// restored.
    #[arg(long)]
    pub settings: bool,
    /// Restore the domains (which must not exist on this server yet).
    #[arg(long)]
    pub domains: bool,
    /// Restore the messages and folders too (implies --domains).
    #[arg(long)]
    pub messages: bool,
    /// Only check the archive (every message file present and of the right size); restore
    /// nothing.
    #[arg(long)]
    pub verify: bool,
}

/// Progress on standard output: steps as lines; message counts on one rewritten line on a
/// terminal, else a line every 10,000 messages.
fn printer() -> impl FnMut(Progress) {
    let terminal = std::io::stdout().is_terminal();
    let mut counting = false;
    move |p| match p {
        Progress::Step(text) => {
            if counting {
                println!();
                counting = false;
            }
            println!("{text}");
        }
        Progress::Messages { done, bytes } if terminal => {
            print!("\r{done} messages, {:.1} MB", bytes as f64 / 1_048_576.0);
            let _ = std::io::stdout().flush();
            counting = true;
        }
        Progress::Messages { done, bytes } => {
            if done.is_multiple_of(10_000) {
                println!("{done} messages, {:.1} MB", bytes as f64 / 1_048_576.0);
            }
        }
    }
}

/// Called with every outcome: where hMailServer raises OnBackupCompleted / OnBackupFailed,
/// and where the scripting engine's events will be raised.
fn outcome_hook(outcome: &Outcome) {
    match outcome {
        Outcome::Completed => tracing::debug!("backup event: completed"),
        Outcome::Failed(reason) => tracing::debug!("backup event: failed: {reason}"),
    }
}

pub async fn backup(args: BackupArgs, config: &Config, store: &Store) -> anyhow::Result<()> {
    let stored = settings::get(&store.db, "backupoptions").await?.map(|s| s.integer).unwrap_or(0);
    let mut options = if args.settings || args.domains || args.messages {
        Options {
            settings: args.settings,
            domains: args.domains || args.messages,
            messages: args.messages,
            compress: false,
        }
    } else {
        Options::from_bits(stored)
    };
    options.compress = if args.compress {
        true
    } else if args.no_compress {
        false
    } else {
        Options::from_bits(stored).compress
    };
    options.domains |= options.messages;
    if !options.settings && !options.domains {
        bail!("nothing to back up: give --settings, --domains or --messages, or set backupoptions");
    }
    let destination = match args.destination {
        Some(d) => d,
        None => {
            let d = settings::get(&store.db, "backupdestination").await?.map(|s| s.string).unwrap_or_default();
            if d.trim().is_empty() {
                bail!("no destination: give --destination or set backupdestination");
            }
            PathBuf::from(d)
        }
    };
    std::fs::create_dir_all(&config.logs_dir).ok();
    let log = BackupLog::in_dir(&config.logs_dir);
    let mut progress = printer();
    let summary =
        altimail_backup::backup::run(store, &destination, options, &log, &mut progress, &outcome_hook).await?;
    if args.verify {
        println!("Verifying {}...", summary.archive.display());
        let report = altimail_backup::verify::run(&summary.archive, &config.temp_dir)?;
        print_report(&report)?;
    }
    Ok(())
}

pub async fn restore(args: RestoreArgs, config: &Config, store: &Store) -> anyhow::Result<()> {
    if args.verify {
        std::fs::create_dir_all(&config.temp_dir).ok();
        let report = altimail_backup::verify::run(&args.file, &config.temp_dir)
            .with_context(|| format!("cannot read {}", args.file.display()))?;
        return print_report(&report);
    }
    let options = Options {
        settings: args.settings,
        domains: args.domains || args.messages,
        messages: args.messages,
        compress: false,
    };
    std::fs::create_dir_all(&config.logs_dir).ok();
    let log = BackupLog::in_dir(&config.logs_dir);
    let mut progress = printer();
    let summary = altimail_backup::restore::run(store, &args.file, options, &log, &mut progress, &outcome_hook).await?;
    for skipped in &summary.skipped {
        println!("not restored: {skipped}");
    }
    Ok(())
}

fn print_report(report: &altimail_backup::verify::Report) -> anyhow::Result<()> {
    for p in &report.problems {
        println!("problem: {p}");
    }
    println!(
        "{} messages checked, {:.1} MB, {} problems",
        report.messages,
        report.bytes as f64 / 1_048_576.0,
        report.problems.len()
    );
    if !report.ok() {
        bail!("the archive has {} problems", report.problems.len());
    }
    Ok(())
}
