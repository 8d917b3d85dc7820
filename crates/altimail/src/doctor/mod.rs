//! `altimail doctor`: checks a running installation from its altimail.toml and says, for each
//! problem, what to do.
//!
//! The checks, in order: the database (reachable, schema version), free space on the data
//! directory, each configured port (it accepts connections; on TLS ports, implicit or STARTTLS,
//! the handshake presents the configured certificate), each certificate's expiry (a warning
//! under [`EXPIRY_WARNING_DAYS`] days), and the DNS records of each active domain (MX, SPF,
//! DKIM, DMARC) and of the host name (A/AAAA, PTR) against the records `altimail quickstart`
//! prints ([`crate::cli::quickstart::dns_records`]). It reads and connects; it changes nothing
//! (the schema is not upgraded, no certificate is generated).
//!
//! The exit status is 0 when every check passed, 1 otherwise (warnings included: a certificate
//! that expires in a fortnight is worth an alert).

mod certificates;
mod dns;
mod ports;

use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

use altimail_store::schema::{self, ALTIMAIL_SCHEMA_VERSION, HM_SCHEMA_VERSION, SchemaState};
use altimail_store::{Db, repo};

use crate::cli::Output;
use crate::config::Config;

/// A certificate that expires in fewer days than this is a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 21;

/// Below this much free space (or [`MIN_FREE_PERCENT`] of the disk) the data directory is a
/// problem: a full disk makes every SMTP transaction fail with a temporary error.
const MIN_FREE_BYTES: u64 = 1 << 30;
const MIN_FREE_PERCENT: u64 = 5;

/// How long one network check (connect, handshake, DNS lookup) may take.
pub(crate) const NETWORK_TIMEOUT: Duration = Duration::from_secs(10);

/// How a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warning,
    Problem,
}

/// One check's result: what was checked, what was found, and what to do about it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub level: Level,
    /// database, disk, port, certificate, dns.
    pub area: &'static str,
    pub text: String,
    /// What to do, for warnings and problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    pub(crate) fn ok(area: &'static str, text: impl Into<String>) -> Finding {
        Finding { level: Level::Ok, area, text: text.into(), fix: None }
    }

    pub(crate) fn warning(area: &'static str, text: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { level: Level::Warning, area, text: text.into(), fix: Some(fix.into()) }
    }

    pub(crate) fn problem(area: &'static str, text: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { level: Level::Problem, area, text: text.into(), fix: Some(fix.into()) }
    }
}

/// Runs every check, prints the findings, and fails when any is not ok.
pub async fn run(config: &Config, out: &Output) -> anyhow::Result<()> {
    let mut findings = Vec::new();
    findings.push(disk_space(&config.data_dir));
    match open_database(config).await {
        Err(f) => findings.push(f),
        Ok((db, f)) => {
            findings.push(f);
            let checked = check_with_database(&db, config, &mut findings).await;
            db.close().await;
            checked?;
        }
    }
    print(&findings, out)?;
    let problems = findings.iter().filter(|f| f.level == Level::Problem).count();
    let warnings = findings.iter().filter(|f| f.level == Level::Warning).count();
    if problems + warnings > 0 {
        bail!("{problems} problem(s) and {warnings} warning(s) found");
    }
    Ok(())
}

async fn check_with_database(db: &Db, config: &Config, findings: &mut Vec<Finding>) -> anyhow::Result<()> {
    let all_ports = repo::ports::list(db).await?;
    let settings = repo::settings::Settings::load(db).await?;
    let used = certificates::in_use(db, config, &all_ports).await?;
    findings.extend(ports::check(&all_ports, &used).await);
    findings.extend(certificates::expiry(&used));
    let hostname = settings.string("hostname").trim().trim_end_matches('.').to_ascii_lowercase();
    let resolver = altimail_dns::HickoryDns::resolver(&config.dns_servers);
    findings.extend(dns::check(db, resolver.as_ref(), &hostname, &all_ports).await?);
    Ok(())
}

/// The database answers and its schema is the one this version of Altimail runs on.
async fn open_database(config: &Config) -> Result<(Db, Finding), Finding> {
    let what = config.database.describe();
    let db = match tokio::time::timeout(NETWORK_TIMEOUT, Db::connect(&config.database)).await {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => {
            return Err(Finding::problem(
                "database",
                format!("cannot open {what}: {e}"),
                "check [database] in the configuration file and that the database server runs",
            ));
        }
        Err(_) => {
            return Err(Finding::problem(
                "database",
                format!("{what} did not answer within {}s", NETWORK_TIMEOUT.as_secs()),
                "check that the database server runs and is reachable",
            ));
        }
    };
    let state = match schema::inspect(&db).await {
        Ok(state) => state,
        Err(e) => {
            db.close().await;
            return Err(Finding::problem("database", format!("{what}: {e}"), "check the database"));
        }
    };
    let finding = match state {
        SchemaState::Empty => {
            db.close().await;
            return Err(Finding::problem(
                "database",
                format!("{what} has no schema"),
                "start the server once (it creates the schema) or run `altimail init`",
            ));
        }
        SchemaState::Existing { hm_version, altimail_version } => {
            let ours = altimail_version.unwrap_or(0);
            if hm_version == HM_SCHEMA_VERSION && ours == ALTIMAIL_SCHEMA_VERSION {
                Finding::ok(
                    "database",
                    format!("{what} answers; schema hMailServer {hm_version}, Altimail {ours} (current)"),
                )
            } else if hm_version > HM_SCHEMA_VERSION || ours > ALTIMAIL_SCHEMA_VERSION {
                Finding::problem(
                    "database",
                    format!(
                        "{what}: schema hMailServer {hm_version}, Altimail {ours} is newer than this program's ({HM_SCHEMA_VERSION}, {ALTIMAIL_SCHEMA_VERSION})"
                    ),
                    "run the Altimail version that upgraded the database",
                )
            } else {
                Finding::problem(
                    "database",
                    format!(
                        "{what}: schema hMailServer {hm_version}, Altimail {ours} is older than this program's ({HM_SCHEMA_VERSION}, {ALTIMAIL_SCHEMA_VERSION})"
                    ),
                    "restart the server: it upgrades the schema when it starts",
                )
            }
        }
    };
    Ok((db, finding))
}

fn disk_space(data_dir: &Path) -> Finding {
    let stat = match rustix::fs::statvfs(data_dir) {
        Ok(stat) => stat,
        Err(e) => {
            return Finding::problem(
                "disk",
                format!("the data directory {}: {e}", data_dir.display()),
                "check [directories] data in the configuration file",
            );
        }
    };
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    let total = stat.f_blocks.saturating_mul(stat.f_frsize);
    let percent = free.saturating_mul(100).checked_div(total).unwrap_or(100);
    let text =
        format!("{} free on the data directory {} ({percent}% of {})", size(free), data_dir.display(), size(total));
    if free < MIN_FREE_BYTES || percent < MIN_FREE_PERCENT {
        Finding::problem(
            "disk",
            text,
            "free space (old logs, `altimail queue` of undeliverable mail) or grow the disk: when it is full every message is refused",
        )
    } else {
        Finding::ok("disk", text)
    }
}

fn size(bytes: u64) -> String {
    const GIB: u64 = 1 << 30;
    if bytes >= GIB { format!("{:.1} GiB", bytes as f64 / GIB as f64) } else { format!("{} MiB", bytes >> 20) }
}

fn print(findings: &[Finding], out: &Output) -> anyhow::Result<()> {
    if out.json {
        println!("{}", serde_json::to_string_pretty(findings)?);
        return Ok(());
    }
    for f in findings {
        let label = match f.level {
            Level::Ok => "ok",
            Level::Warning => "WARNING",
            Level::Problem => "PROBLEM",
        };
        println!("{label:<8} {:<12} {}", f.area, f.text);
        if let Some(fix) = &f.fix {
            println!("{:<8} {:<12} -> {fix}", "", "");
        }
    }
    Ok(())
}
