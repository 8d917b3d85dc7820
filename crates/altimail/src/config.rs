//! `altimail.toml`: where the data lives and which database to use — the part of hMailServer.ini
//! that cannot live in the database. Everything else is in `hm_settings` and friends.
//!
//! ```toml
//! [directories]          # all optional; relative paths are relative to this file's folder
//! data = "altimail-data/data"
//! logs = "altimail-data/logs"
//! temp = "altimail-data/temp"
//! events = "altimail-data/events"
//!
//! [database]
//! type = "sqlite"        # or "postgresql" / "mysql"
//! path = "altimail-data/altimail.db"             # sqlite
//! # host = "127.0.0.1"  port = 5432  name = "hmailserver"  user = "hmail"  password = "..."
//!
//! [dns]                  # optional; without it the system resolver (/etc/resolv.conf) is used
//! servers = ["127.0.0.1:5353"]
//!
//! [storage]              # optional
//! flush = "filesystem"   # new message files made durable by one syncfs per group (Linux),
//!                        # or "each-file": an fsync per file and directory
//!
//! [log]                  # optional
//! level = "info"         # the server's own log (stderr/journal); RUST_LOG wins when set
//!
//! [acme]                 # optional: certificates from Let's Encrypt or another ACME CA
//! enabled = true
//! contact = ["postmaster@example.com"]
//! names = ["mail.example.com", "autoconfig.example.com"]   # default: the host name
//! challenge = "http-01"  # or "tls-alpn-01"
//! # directory = "https://acme-v02.api.letsencrypt.org/directory"   (the default)
//! # directory_ca = "ca.pem"  # trust only this root for the directory's HTTPS (a private CA)
//! ```
//!
//! `altimail serve` reads the file again on SIGHUP: `[log]` applies at once, the other
//! sections at the next start (the server says which changed).
//!
//! With no file at all, everything lives under `./altimail-data/` with SQLite.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use altimail_acme::AcmeSettings;
use altimail_store::DbConfig;
use altimail_store::files::Flush;

/// The default base folder when no configuration file is used.
pub const DEFAULT_BASE: &str = "altimail-data";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    directories: RawDirectories,
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    dns: RawDns,
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    api: RawApi,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    acme: RawAcme,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAcme {
    enabled: Option<bool>,
    directory: Option<String>,
    #[serde(default)]
    contact: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
    challenge: Option<String>,
    directory_ca: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    flush: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDns {
    servers: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDirectories {
    data: Option<PathBuf>,
    logs: Option<PathBuf>,
    temp: Option<PathBuf>,
    events: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    #[serde(rename = "type")]
    kind: Option<String>,
    path: Option<PathBuf>,
    host: Option<String>,
    port: Option<u16>,
    name: Option<String>,
    user: Option<String>,
    password: Option<String>,
}

/// The validated configuration the program runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file it came from, if any.
    pub source: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub logs_dir: PathBuf,
    pub temp_dir: PathBuf,
    pub events_dir: PathBuf,
    pub database: DbConfig,
    /// DNS servers for outbound delivery; empty = the system resolver.
    pub dns_servers: Vec<SocketAddr>,
    /// How groups of new message files are made durable.
    pub flush: Flush,
    /// Where the administration REST API listens (`[api] listen`); none = no API.
    pub api_listen: Option<SocketAddr>,
    /// The filter of the server's own log (`info`, `warn,altimail_smtp=debug`, ...).
    pub log_level: String,
    /// Certificates from an ACME CA (`[acme]` with `enabled = true`); none = off.
    pub acme: Option<AcmeSettings>,
}

/// The server's log level when the file sets none.
pub const DEFAULT_LOG_LEVEL: &str = "info";

impl Config {
    /// Reads `path`, or returns the embedded defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else {
            return Config::from_raw(RawConfig::default(), Path::new(""), None);
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            // toml's message names the key and the line; keep it on one line.
            let msg = e.message().to_owned();
            let at = e
                .span()
                .map(|s| match key_at(&text, s.start) {
                    Some(key) if !msg.contains(&key) => format!(" (line {}, key {key})", line_of(&text, s.start)),
                    _ => format!(" (line {})", line_of(&text, s.start)),
                })
                .unwrap_or_default();
            anyhow::anyhow!("{}{at}: {msg}", path.display())
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        Config::from_raw(raw, base, Some(path.to_path_buf())).with_context(|| format!("{}", path.display()))
    }

    fn from_raw(raw: RawConfig, base: &Path, source: Option<PathBuf>) -> anyhow::Result<Config> {
        let resolve = |p: Option<PathBuf>, default: &str| -> PathBuf {
            let p = p.unwrap_or_else(|| Path::new(DEFAULT_BASE).join(default));
            if p.is_absolute() { p } else { base.join(p) }
        };
        let d = raw.directories;
        let db = raw.database;
        let kind = db.kind.as_deref().unwrap_or("sqlite").to_ascii_lowercase();
        let server_fields = || -> anyhow::Result<(String, String, String, String)> {
            let name = db.name.clone().context("[database] name is required for a database server")?;
            Ok((
                db.host.clone().unwrap_or_else(|| "127.0.0.1".into()),
                name,
                db.user.clone().unwrap_or_default(),
                db.password.clone().unwrap_or_default(),
            ))
        };
        if kind != "sqlite" && db.path.is_some() {
            bail!("[database] path is only for sqlite");
        }
        let database = match kind.as_str() {
            "sqlite" => {
                if db.host.is_some() || db.name.is_some() || db.user.is_some() || db.port.is_some() {
                    bail!("[database] host/port/name/user are for postgresql or mysql, not sqlite");
                }
                DbConfig::Sqlite { path: resolve(db.path, "altimail.db") }
            }
            "postgresql" | "postgres" | "pgsql" => {
                let (host, name, user, password) = server_fields()?;
                DbConfig::Postgres { host, port: db.port.unwrap_or(5432), name, user, password }
            }
            "mysql" | "mariadb" => {
                let (host, name, user, password) = server_fields()?;
                DbConfig::MySql { host, port: db.port.unwrap_or(3306), name, user, password }
            }
            other => bail!("[database] type = {other:?}: expected \"sqlite\", \"postgresql\" or \"mysql\""),
        };
        let dns_servers = raw
            .dns
            .servers
            .unwrap_or_default()
            .iter()
            .map(|s| parse_dns_server(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let flush = match raw.storage.flush.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("filesystem") => Flush::FileSystem,
            Some("each-file") => Flush::EachFile,
            Some(other) => bail!("[storage] flush = {other:?}: expected \"filesystem\" or \"each-file\""),
        };
        let api_listen = raw.api.listen.as_deref().map(parse_api_listen).transpose()?;
        let log_level = raw.log.level.unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_owned());
        if let Err(e) = crate::logging::parse(&log_level) {
            bail!("[log] level = {log_level:?}: {e}");
        }
        let a = raw.acme;
        let acme = if a.enabled.unwrap_or(false) {
            let directory_ca = a.directory_ca.map(|p| if p.is_absolute() { p } else { base.join(p) });
            Some(
                AcmeSettings::new(a.directory, a.contact, a.names, a.challenge, directory_ca)
                    .map_err(anyhow::Error::msg)?,
            )
        } else {
            None
        };
        Ok(Config {
            acme,
            api_listen,
            dns_servers,
            flush,
            log_level,
            source,
            data_dir: resolve(d.data, "data"),
            logs_dir: resolve(d.logs, "logs"),
            temp_dir: resolve(d.temp, "temp"),
            events_dir: resolve(d.events, "events"),
            database,
        })
    }

    /// Creates the folders if they do not exist.
    pub fn create_dirs(&self) -> anyhow::Result<()> {
        for dir in [&self.data_dir, &self.logs_dir, &self.temp_dir, &self.events_dir] {
            if dir.exists() && !dir.is_dir() {
                bail!("{} is not a directory (check [directories] in the configuration)", dir.display());
            }
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create the directory {}", dir.display()))?;
        }
        Ok(())
    }
}

/// `[api] listen`: `ip:port`, `[v6]:port`, or a bare port, which is on the loopback interface
/// (127.0.0.1): the API is reachable from other machines only when an address says so.
fn parse_api_listen(s: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(port) = s.trim().parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.trim().parse::<SocketAddr>().map_err(|_| {
        anyhow::anyhow!(
            "[api] listen = {s:?}: expected a port (on 127.0.0.1) or an address and port, such as 127.0.0.1:8180"
        )
    })
}

/// `ip:port`, `[v6]:port`, or a bare IP (port 53).
fn parse_dns_server(s: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match s.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 53)),
        Err(_) => bail!("[dns] servers: {s:?} is not an IP address with an optional port"),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The dotted key whose value sits at `offset` (`database.port`), so an error about a bad value
/// names the key and not only the line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() {
        return None;
    }
    let table = text[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(['[', ']']).trim());
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("altimail.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path))
    }

    #[test]
    fn embedded_defaults() {
        let c = Config::load(None).unwrap();
        assert_eq!(c.database, DbConfig::Sqlite { path: "altimail-data/altimail.db".into() });
        assert_eq!(c.data_dir, PathBuf::from("altimail-data/data"));
        assert_eq!(c.logs_dir, PathBuf::from("altimail-data/logs"));
    }

    #[test]
    fn servers_and_relative_paths() {
        let c = parse(
            "[directories]\ndata = \"/srv/mail\"\n[database]\ntype = \"postgresql\"\nname = \"hm\"\nuser = \"u\"\n",
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/srv/mail"));
        assert!(matches!(c.database, DbConfig::Postgres { port: 5432, ref name, .. } if name == "hm"));
        let c = parse("[database]\ntype = \"mysql\"\nname = \"hm\"\nport = 3307\n").unwrap();
        assert!(matches!(c.database, DbConfig::MySql { port: 3307, .. }));
    }

    #[test]
    fn the_api_is_off_by_default_and_on_loopback_for_a_bare_port() {
        assert_eq!(Config::load(None).unwrap().api_listen, None);
        let c = parse("[api]\nlisten = \"8180\"\n").unwrap();
        assert_eq!(c.api_listen, Some("127.0.0.1:8180".parse().unwrap()));
        let c = parse("[api]\nlisten = \"[::1]:8180\"\n").unwrap();
        assert_eq!(c.api_listen, Some("[::1]:8180".parse().unwrap()));
        let e = format!("{:#}", parse("[api]\nlisten = \"everywhere\"\n").unwrap_err());
        assert!(e.contains("[api] listen"), "{e}");
    }

    #[test]
    fn storage_flush() {
        assert_eq!(Config::load(None).unwrap().flush, Flush::FileSystem);
        assert_eq!(parse("[storage]\nflush = \"each-file\"\n").unwrap().flush, Flush::EachFile);
        assert_eq!(parse("[storage]\nflush = \"FileSystem\"\n").unwrap().flush, Flush::FileSystem);
        let e = format!("{:#}", parse("[storage]\nflush = \"never\"\n").unwrap_err());
        assert!(e.contains("[storage] flush = \"never\""), "{e}");
    }

    #[test]
    fn log_level() {
        assert_eq!(Config::load(None).unwrap().log_level, "info");
        assert_eq!(parse("[log]\nlevel = \"warn,altimail=debug\"\n").unwrap().log_level, "warn,altimail=debug");
        let e = format!("{:#}", parse("[log]\nlevel = \"x=loud\"\n").unwrap_err());
        assert!(e.contains("[log] level"), "{e}");
    }

    #[test]
    fn dns_servers() {
        assert!(Config::load(None).unwrap().dns_servers.is_empty());
        let c = parse("[dns]\nservers = [\"127.0.0.1:5353\", \"::1\", \"10.0.0.1\"]\n").unwrap();
        let expected: Vec<SocketAddr> =
            vec!["127.0.0.1:5353".parse().unwrap(), "[::1]:53".parse().unwrap(), "10.0.0.1:53".parse().unwrap()];
        assert_eq!(c.dns_servers, expected);
        let e = parse("[dns]\nservers = [\"dns.example\"]\n").unwrap_err();
        assert!(format!("{e:#}").contains("dns.example"), "{e:#}");
        let e = parse("[dns]\nserver = [\"127.0.0.1\"]\n").unwrap_err().to_string();
        assert!(e.contains("server") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse("[database]\ntype = \"sqlite\"\nfoo = 1\n").unwrap_err().to_string();
        assert!(e.contains("foo") && e.contains("line 3"), "{e}");
        let e = parse("[database]\ntype = \"oracle\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("oracle"), "{e:#}");
        let e = parse("[database]\nport = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("database.port"), "{e}");
        let e = parse("[directories]\ndata = 5\n").unwrap_err().to_string();
        assert!(e.contains("directories.data"), "{e}");
        let e = parse("[database]\ntype = \"postgresql\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("name is required"), "{e:#}");
        let e = parse("[directorys]\n").unwrap_err().to_string();
        assert!(e.contains("directorys"), "{e}");
    }

    #[test]
    fn acme_section() {
        assert_eq!(Config::load(None).unwrap().acme, None);
        assert_eq!(parse("[acme]\nenabled = false\nnames = [\"mail.example.com\"]\n").unwrap().acme, None);
        let c = parse(
            "[acme]\nenabled = true\ncontact = [\"admin@example.com\"]\nnames = [\"mail.example.com\"]\nchallenge = \"tls-alpn-01\"\ndirectory_ca = \"ca.pem\"\n",
        )
        .unwrap();
        let acme = c.acme.unwrap();
        assert_eq!(acme.names, ["mail.example.com"]);
        assert_eq!(acme.challenge, altimail_acme::ChallengeKind::TlsAlpn01);
        assert_eq!(acme.directory, altimail_acme::LETS_ENCRYPT);
        assert!(acme.directory_ca.unwrap().is_absolute(), "relative to the file's folder");
        let e = format!("{:#}", parse("[acme]\nenabled = true\nchallenge = \"dns-01\"\n").unwrap_err());
        assert!(e.contains("[acme] challenge"), "{e}");
    }
}
