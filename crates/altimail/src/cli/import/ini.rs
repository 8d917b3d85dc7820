//! Reading `hMailServer.ini`: its `[Database]` and `[Directories]` sections.
//!
//! Windows INI as `GetPrivateProfileString` reads it: `[Section]` and `Key=Value` lines, section
//! and key names compared without case, `;` comment lines, surrounding blanks and one pair of
//! surrounding quotes removed from values; the first of two equal keys wins. The file may be
//! UTF-8 (with or without a BOM), UTF-16 with a BOM, or the Windows ANSI code page.

use anyhow::{Context, bail};

/// The database engine hMailServer was configured for (`[Database] Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmDbType {
    MySql,
    PostgreSql,
    /// Microsoft SQL Server.
    MsSql,
    /// The built-in SQL Server Compact file (`.sdf`).
    MsSqlCe,
}

impl HmDbType {
    pub fn name(self) -> &'static str {
        match self {
            HmDbType::MySql => "MySQL",
            HmDbType::PostgreSql => "PostgreSQL",
            HmDbType::MsSql => "MSSQL",
            HmDbType::MsSqlCe => "MSSQLCE",
        }
    }
}

/// `[Database]`, the password already decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmDatabase {
    pub kind: HmDbType,
    pub server: String,
    /// `None` when the INI says 0 or nothing (the driver's default port).
    pub port: Option<u16>,
    pub database: String,
    pub username: String,
    pub password: String,
}

/// `[Directories]`, as Windows paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HmDirectories {
    pub program: Option<String>,
    pub data: Option<String>,
    pub logs: Option<String>,
    pub temp: Option<String>,
    pub events: Option<String>,
    pub database: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmIni {
    pub database: HmDatabase,
    pub directories: HmDirectories,
}

/// Bytes of the file to text.
pub fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        // The ANSI code page: Latin-1 keeps every byte, and paths are mostly ASCII anyway.
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// The `(section, key, value)` entries of an INI text, names lowercased.
fn entries(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split_once(']')).map(|(n, _)| n) {
            section = name.trim().to_ascii_lowercase();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let value = value.trim();
        let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(inner) => inner,
            None => value,
        };
        out.push((section.clone(), key.trim().to_ascii_lowercase(), value.to_owned()));
    }
    out
}

/// Parses the file's text.
pub fn parse(text: &str) -> anyhow::Result<HmIni> {
    let all = entries(text);
    let get = |section: &str, key: &str| -> Option<String> {
        all.iter().find(|(s, k, _)| s == section && k == key).map(|(_, _, v)| v.clone())
    };
    let non_empty = |section: &str, key: &str| get(section, key).filter(|v| !v.trim().is_empty());
    if !all.iter().any(|(s, _, _)| s == "database") {
        bail!("no [Database] section: is this hMailServer's hMailServer.ini?");
    }
    let written = get("database", "type").map(|t| t.trim().to_owned());
    let kind = match written.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("mysql") => HmDbType::MySql,
        Some("postgresql" | "pgsql" | "postgres") => HmDbType::PostgreSql,
        Some("mssql") => HmDbType::MsSql,
        Some("mssqlce") => HmDbType::MsSqlCe,
        Some(_) => bail!(
            "[Database] Type={:?} is not one hMailServer knows (MySQL, MSSQL, PostgreSQL, MSSQLCE)",
            written.unwrap_or_default()
        ),
        // hMailServer's built-in database has Internal=1 and may carry no type.
        None if get("database", "internal").as_deref().map(str::trim) == Some("1") => HmDbType::MsSqlCe,
        None => bail!("[Database] has no Type"),
    };
    let port = match get("database", "port").map(|p| p.trim().to_owned()) {
        None => None,
        Some(p) if p.is_empty() || p == "0" => None,
        Some(p) => Some(p.parse::<u16>().with_context(|| format!("[Database] Port={p:?} is not a port number"))?),
    };
    let stored = get("database", "password").unwrap_or_default();
    let encrypted = get("database", "passwordencryption").map(|v| v.trim() == "1").unwrap_or(false);
    let password = if encrypted {
        altimail_core::blowfish::hm_decrypt(stored.trim())
            .map_err(|e| anyhow::anyhow!("[Database] Password cannot be decrypted (PasswordEncryption=1): {e}"))?
    } else {
        stored
    };
    let database = HmDatabase {
        kind,
        server: get("database", "server").unwrap_or_default().trim().to_owned(),
        port,
        database: get("database", "database").unwrap_or_default().trim().to_owned(),
        username: get("database", "username").unwrap_or_default().trim().to_owned(),
        password,
    };
    let directories = HmDirectories {
        program: non_empty("directories", "programfolder"),
        data: non_empty("directories", "datafolder"),
        logs: non_empty("directories", "logfolder"),
        temp: non_empty("directories", "tempfolder"),
        events: non_empty("directories", "eventfolder"),
        database: non_empty("directories", "databasefolder"),
    };
    Ok(HmIni { database, directories })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTALLER: &str = "[Directories]\r\n\
        ProgramFolder=C:\\Program Files (x86)\\hMailServer\r\n\
        DatabaseFolder=C:\\Program Files (x86)\\hMailServer\\Database\r\n\
        DataFolder=C:\\Program Files (x86)\\hMailServer\\Data\r\n\
        LogFolder=C:\\Program Files (x86)\\hMailServer\\Logs\r\n\
        TempFolder=C:\\Program Files (x86)\\hMailServer\\Temp\r\n\
        EventFolder=C:\\Program Files (x86)\\hMailServer\\Events\r\n\
        [GUILanguages]\r\nValidLanguages=english,swedish\r\n\
        [Security]\r\nAdministratorPassword=5f4dcc3b5aa765d61d8327deb882cf99\r\n\
        [Database]\r\nType=MYSQL\r\nUsername=hmail\r\nPassword=a62b3c438efae3db\r\n\
        PasswordEncryption=1\r\nPort=3307\r\nServer=db.example.lan\r\nDatabase=hmailserver\r\nInternal=0\r\n";

    #[test]
    fn the_installers_file_with_an_encrypted_password() {
        let ini = parse(INSTALLER).unwrap();
        assert_eq!(ini.database.kind, HmDbType::MySql);
        assert_eq!(ini.database.password, "secret");
        assert_eq!(ini.database.port, Some(3307));
        assert_eq!(ini.database.server, "db.example.lan");
        assert_eq!(ini.database.database, "hmailserver");
        assert_eq!(ini.database.username, "hmail");
        assert_eq!(ini.directories.data.as_deref(), Some("C:\\Program Files (x86)\\hMailServer\\Data"));
        assert_eq!(ini.directories.events.as_deref(), Some("C:\\Program Files (x86)\\hMailServer\\Events"));
    }

    #[test]
    fn keys_and_sections_in_any_case_quotes_comments_and_a_plain_password() {
        let text = "; written by hand\n[DATABASE]\ntype = PostgreSQL\nSERVER = \"pg.lan\"\nport=0\n\
                    database=mail\nusername=hm\npassword=p=a;ss\npasswordencryption=0\n\
                    [directories]\ndatafolder=D:\\Mail\\Data\\\n";
        let ini = parse(text).unwrap();
        assert_eq!(ini.database.kind, HmDbType::PostgreSql);
        assert_eq!(ini.database.server, "pg.lan");
        assert_eq!(ini.database.port, None);
        assert_eq!(ini.database.password, "p=a;ss");
        assert_eq!(ini.directories.data.as_deref(), Some("D:\\Mail\\Data\\"));
        assert_eq!(ini.directories.program, None);
    }

    #[test]
    fn mssql_and_the_built_in_database() {
        let ini = parse("[Database]\nType=MSSQL\nServer=SQL01\\HMAIL\n").unwrap();
        assert_eq!(ini.database.kind, HmDbType::MsSql);
        let ini = parse("[Database]\nType=MSSQLCE\nDatabase=hMailServer.sdf\nInternal=1\n").unwrap();
        assert_eq!(ini.database.kind, HmDbType::MsSqlCe);
        let ini = parse("[Database]\nInternal=1\n").unwrap();
        assert_eq!(ini.database.kind, HmDbType::MsSqlCe);
    }

    #[test]
    fn utf16_and_bom_files() {
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "[Database]\r\nType=MySQL\r\nPassword=x\r\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let ini = parse(&decode(&utf16)).unwrap();
        assert_eq!(ini.database.kind, HmDbType::MySql);
        assert_eq!(ini.database.password, "x");
        let bom = [&[0xEF, 0xBB, 0xBF][..], b"[Database]\nType=MySQL\n"].concat();
        assert_eq!(parse(&decode(&bom)).unwrap().database.kind, HmDbType::MySql);
        assert_eq!(decode(b"Data=C:\\M\xe4il"), "Data=C:\\M\u{e4}il");
    }

    #[test]
    fn what_is_refused() {
        assert!(parse("[Settings]\nx=1\n").unwrap_err().to_string().contains("[Database]"));
        assert!(parse("[Database]\nType=Oracle\n").unwrap_err().to_string().contains("Oracle"));
        assert!(parse("[Database]\nType=MySQL\nPort=x\n").unwrap_err().to_string().contains("Port"));
        let bad = parse("[Database]\nType=MySQL\nPassword=zz\nPasswordEncryption=1\n").unwrap_err();
        assert!(bad.to_string().contains("decrypted"), "{bad}");
    }
}
