//! `altimail import hmailserver`: take over an hMailServer installation in place.
//!
//! Reads `hMailServer.ini` (database connection, folders), opens the database it names and
//! checks its schema version, maps the Windows folders to where they are on this machine, and
//! writes an `altimail.toml` that uses that database and data folder as they are. With
//! `--dry-run` it writes nothing and reports what it found instead: objects, messages, bytes,
//! and the message files that are missing on disk.

mod ini;
mod paths;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use altimail_store::schema::{self, SchemaState};
use altimail_store::{Db, DbConfig, MessageFiles, inventory};

use crate::cli::Output;
use crate::cli::output::emit;
use ini::{HmDbType, HmIni};

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Use an hMailServer installation as it is: read its hMailServer.ini, check its MySQL or
    /// PostgreSQL database, and write an altimail.toml for its database and data folder.
    Hmailserver(HmArgs),
}

#[derive(Debug, Args)]
pub struct HmArgs {
    /// hMailServer's configuration file (`Bin\hMailServer.ini` of the installation).
    #[arg(long, value_name = "FILE")]
    pub ini: PathBuf,
    /// Write nothing: report the database's domains, accounts and messages, their size, and
    /// the message files missing on disk.
    #[arg(long)]
    pub dry_run: bool,
    /// Where hMailServer's data folder (`[Directories] DataFolder`) is on this machine. Default:
    /// the DataFolder's place below the installation folder, taken to be the folder that holds
    /// `Bin\hMailServer.ini`.
    #[arg(long, value_name = "PATH")]
    pub data_root: Option<PathBuf>,
    /// The configuration file to write.
    #[arg(long, value_name = "FILE", default_value = "altimail.toml")]
    pub out: PathBuf,
    /// Replace the file --out names when it exists.
    #[arg(long)]
    pub force: bool,
    /// The database server's name or address as seen from this machine, instead of the INI's
    /// `[Database] Server` (often `localhost` on the Windows machine).
    #[arg(long, value_name = "HOST")]
    pub db_host: Option<String>,
}

pub async fn run(cmd: ImportCmd, out: &Output) -> anyhow::Result<()> {
    match cmd {
        ImportCmd::Hmailserver(args) => hmailserver(args, out).await,
    }
}

/// The folders of the new configuration and where each came from.
#[derive(Debug, Clone, Serialize)]
struct Folders {
    data: PathBuf,
    logs: PathBuf,
    temp: PathBuf,
    events: PathBuf,
    /// Folders the INI did not name, or that lie outside the mapped installation: these use
    /// Altimail's defaults beside the configuration file.
    defaulted: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct DryRunReport {
    ini: PathBuf,
    database: String,
    hm_version: i64,
    /// Whether Altimail has used this database before (its own tables exist).
    altimail_tables: bool,
    folders: Folders,
    data_folder_exists: bool,
    inventory: inventory::Inventory,
}

async fn hmailserver(args: HmArgs, out: &Output) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.ini).with_context(|| format!("cannot read {}", args.ini.display()))?;
    let parsed = ini::parse(&ini::decode(&bytes)).with_context(|| format!("{}", args.ini.display()))?;
    let ini_path = std::fs::canonicalize(&args.ini).unwrap_or_else(|_| args.ini.clone());
    let db_config = database_config(&parsed, args.db_host.as_deref())?;
    let out_file = absolute(&args.out);
    let out_dir = out_file.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let folders = map_folders(&parsed, &ini_path, args.data_root.as_deref(), &out_dir);

    let db = Db::connect(&db_config)
        .await
        .with_context(|| format!("cannot open hMailServer's database {}", db_config.describe()))?;
    let checked = check_schema(&db, &db_config).await;
    let (hm_version, altimail_tables) = match checked {
        Ok(v) => v,
        Err(e) => {
            db.close().await;
            return Err(e);
        }
    };

    if args.dry_run {
        let files = MessageFiles::new(&folders.data);
        let survey = inventory::survey(&db, &files).await;
        db.close().await;
        let report = DryRunReport {
            ini: ini_path,
            database: db_config.describe(),
            hm_version,
            altimail_tables,
            data_folder_exists: folders.data.is_dir(),
            folders,
            inventory: survey?,
        };
        return print_dry_run(&report, out, &out_file);
    }
    db.close().await;

    if out_file.exists() && !args.force {
        bail!("{} exists; give --force to replace it, or --out for another file", out_file.display());
    }
    let text = config_text(&ini_path, &db_config, &folders);
    write_private(&out_file, &text).with_context(|| format!("cannot write {}", out_file.display()))?;
    if !folders.data.is_dir() {
        eprintln!(
            "warning: the data folder {} does not exist: copy hMailServer's data folder there, or give --data-root",
            folders.data.display()
        );
    }
    emit(&format!(
        "wrote {}: database {} (hMailServer schema {hm_version}), data folder {}",
        out_file.display(),
        db_config.describe(),
        folders.data.display()
    ))?;
    emit(&format!(
        "next: stop hMailServer, then `altimail --config {} serve`; its first start adds Altimail's own tables to the \
         database (hMailServer's tables and hm_dbversion stay as they are)",
        out_file.display()
    ))?;
    Ok(())
}

/// Writes the configuration readable by its owner only: it holds the database password.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    // An existing file (--force) keeps its mode otherwise.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// The database the INI names, or why it cannot be used from here.
fn database_config(ini: &HmIni, host_override: Option<&str>) -> anyhow::Result<DbConfig> {
    let d = &ini.database;
    let host = host_override.map(str::to_owned).unwrap_or_else(|| d.server.clone());
    let host = if host.is_empty() { "localhost".to_owned() } else { host };
    match d.kind {
        HmDbType::MySql => Ok(DbConfig::MySql {
            host,
            port: d.port.unwrap_or(3306),
            name: d.database.clone(),
            user: d.username.clone(),
            password: d.password.clone(),
        }),
        HmDbType::PostgreSql => Ok(DbConfig::Postgres {
            host,
            port: d.port.unwrap_or(5432),
            name: d.database.clone(),
            user: d.username.clone(),
            password: d.password.clone(),
        }),
        HmDbType::MsSql | HmDbType::MsSqlCe => {
            let what = if d.kind == HmDbType::MsSql {
                format!("Microsoft SQL Server ({}, database {:?})", d.server, d.database)
            } else {
                let file = if d.database.is_empty() { "hMailServer.sdf" } else { d.database.as_str() };
                format!("the built-in SQL Server Compact file {file}")
            };
            bail!(
                "hMailServer's database is {what} (Type={}), which cannot be opened on Linux; move over with a backup instead: \
                 in hMailServer Administrator, Utilities > Backup with settings, domains and messages, then here \
                 `altimail init` and `altimail restore \"HMBackup <date>.7z\"` (see docs/backup.md)",
                d.kind.name()
            )
        }
    }
}

/// The hMailServer schema version, and whether Altimail's tables are there already.
async fn check_schema(db: &Db, config: &DbConfig) -> anyhow::Result<(i64, bool)> {
    match schema::inspect(db).await? {
        SchemaState::Empty => bail!("{} holds no hMailServer tables (no hm_dbversion)", config.describe()),
        SchemaState::Existing { hm_version, altimail_version } => {
            if !schema::supported_hm_version(hm_version) {
                bail!(
                    "{} is an hMailServer database of version {hm_version}; Altimail uses 5601-5606 (5.6.x) and \
                     5700-5704 (5.7): upgrade it with hMailServer's DBUpdater first",
                    config.describe()
                );
            }
            Ok((hm_version, altimail_version.is_some()))
        }
    }
}

/// Maps the INI's folders. The installation folder (`ProgramFolder`, else the DataFolder's
/// parent) is where `Bin\hMailServer.ini` sits; `data_root` places the data folder elsewhere.
fn map_folders(ini: &HmIni, ini_path: &Path, data_root: Option<&Path>, out_dir: &Path) -> Folders {
    let dirs = &ini.directories;
    let ini_dir = ini_path.parent().unwrap_or(Path::new("."));
    let local_program = match ini_dir.file_name() {
        Some(name) if name.to_string_lossy().eq_ignore_ascii_case("bin") => ini_dir.parent().unwrap_or(ini_dir),
        _ => ini_dir,
    };
    let win_program = dirs.program.clone().or_else(|| dirs.data.as_deref().and_then(paths::parent));
    let mut roots: Vec<(String, PathBuf)> = Vec::new();
    if let (Some(data_win), Some(root)) = (&dirs.data, data_root) {
        let root = absolute(root);
        roots.push((data_win.clone(), root.clone()));
        if let (Some(win_parent), Some(local_parent)) = (paths::parent(data_win), root.parent()) {
            roots.push((win_parent, local_parent.to_path_buf()));
        }
    }
    if let Some(p) = win_program {
        roots.push((p, local_program.to_path_buf()));
    }
    let mut defaulted = Vec::new();
    let mut pick = |label: &'static str, win: &Option<String>, fallback: PathBuf| -> PathBuf {
        match win.as_deref().and_then(|w| paths::map(w, &roots)) {
            Some(p) => p,
            None => {
                defaulted.push(label);
                fallback
            }
        }
    };
    let data = match (data_root, &dirs.data) {
        (Some(root), None) => absolute(root),
        _ => pick("data", &dirs.data, paths::join_as_on_disk(local_program, &["Data"])),
    };
    let base = out_dir.join(crate::config::DEFAULT_BASE);
    let logs = pick("logs", &dirs.logs, base.join("logs"));
    let temp = pick("temp", &dirs.temp, base.join("temp"));
    let events = pick("events", &dirs.events, base.join("events"));
    Folders { data, logs, temp, events, defaulted }
}

fn absolute(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A TOML string literal.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn config_text(ini: &Path, db: &DbConfig, f: &Folders) -> String {
    let path = |p: &Path| quoted(&p.to_string_lossy());
    let mut text = format!(
        "# Made by `altimail import hmailserver` from {}\n\n[directories]\ndata = {}\nlogs = {}\ntemp = {}\nevents = {}\n\n",
        ini.display(),
        path(&f.data),
        path(&f.logs),
        path(&f.temp),
        path(&f.events)
    );
    match db {
        DbConfig::Postgres { host, port, name, user, password }
        | DbConfig::MySql { host, port, name, user, password } => {
            let ty = if matches!(db, DbConfig::Postgres { .. }) { "postgresql" } else { "mysql" };
            text.push_str(&format!(
                "[database]\ntype = \"{ty}\"\nhost = {}\nport = {port}\nname = {}\nuser = {}\npassword = {}\n",
                quoted(host),
                quoted(name),
                quoted(user),
                quoted(password)
            ));
        }
        DbConfig::Sqlite { path: p } => {
            text.push_str(&format!("[database]\ntype = \"sqlite\"\npath = {}\n", path(p)));
        }
    }
    text
}

fn print_dry_run(r: &DryRunReport, out: &Output, out_file: &Path) -> anyhow::Result<()> {
    if out.json {
        return out.object(r);
    }
    let inv = &r.inventory;
    let mb = |b: f64| format!("{:.1} MB", b / 1_048_576.0);
    let mut lines = vec![
        format!("hMailServer.ini:   {}", r.ini.display()),
        format!("database:          {} (hMailServer schema {}, supported)", r.database, r.hm_version),
    ];
    if r.altimail_tables {
        lines.push("                   Altimail's tables are there already (it has served from this database)".into());
    }
    lines.push(format!(
        "data folder:       {}{}",
        r.folders.data.display(),
        if r.data_folder_exists { "" } else { "  (DOES NOT EXIST)" }
    ));
    lines.push(format!("logs folder:       {}", r.folders.logs.display()));
    lines.push(format!("temp folder:       {}", r.folders.temp.display()));
    lines.push(format!("events folder:     {}", r.folders.events.display()));
    if !r.folders.defaulted.is_empty() {
        lines.push(format!(
            "                   not mapped from the INI, Altimail's default: {}",
            r.folders.defaulted.join(", ")
        ));
    }
    lines.push(format!(
        "domains {}, accounts {}, aliases {}, distribution lists {}",
        inv.domains, inv.accounts, inv.aliases, inv.distribution_lists
    ));
    lines.push(format!(
        "messages {} (in mailboxes {}, public folders {}, queue {}), {} recorded, {} on disk",
        inv.messages(),
        inv.mailbox_messages,
        inv.public_messages,
        inv.queued_messages,
        mb(inv.bytes_in_database as f64),
        mb(inv.bytes_on_disk as f64)
    ));
    lines.push(format!("message files missing on disk: {}", inv.missing_files));
    for m in &inv.missing {
        lines.push(format!("  missing: message {} ({}): {}", m.message_id, m.owner, m.path.display()));
    }
    if inv.missing_files > inv.missing.len() as i64 {
        lines.push(format!("  ... and {} more", inv.missing_files - inv.missing.len() as i64));
    }
    lines.push(format!("dry run: nothing written; without --dry-run this writes {}", out_file.display()));
    emit(&lines.join("\n"))
}
