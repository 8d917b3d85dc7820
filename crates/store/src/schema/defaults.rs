//! The rows hMailServer's create scripts insert into a new database (schema version 5704), as
//! data: the settings, the two default IP ranges, the four default TCP/IP ports, the server
//! messages, the DNS blacklists, the SURBL server, the blocked attachment types and the version.
//!
//! Rows are listed in the order the MySQL create script inserts them, so surrogate keys come out
//! the same as in a database made by hMailServer. Surrogate-key columns are never given.

use chrono::{NaiveDate, NaiveDateTime};

use crate::db::Value;

/// One row to insert into `table`; `values` are (column, value) pairs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DefaultRow {
    pub table: &'static str,
    pub values: Vec<(&'static str, Value)>,
}

/// hMailServer's default OpenSSL cipher list (`SslCipherList`), trailing `;` included.
const SSL_CIPHER_LIST: &str = concat!(
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:",
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:",
    "DHE-RSA-AES128-GCM-SHA256:DHE-DSS-AES128-GCM-SHA256:kEDH+AESGCM:",
    "ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:",
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA384:",
    "ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES256-SHA:DHE-RSA-AES128-SHA256:",
    "DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA256:DHE-RSA-AES256-SHA256:",
    "DHE-DSS-AES256-SHA:DHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:",
    "ECDHE-RSA-RC4-SHA:ECDHE-ECDSA-RC4-SHA:AES128:AES256:RC4-SHA:HIGH:!aNULL:!eNULL:",
    "!EXPORT:!DES:!3DES:!MD5:!PSK;",
);

/// Every `hm_settings` row: (settingname, settingstring, settinginteger). Names are stored
/// exactly as written here; the server's lookups are case-sensitive.
const SETTINGS: &[(&str, &str, i64)] = &[
    ("maxpop3connections", "", 0),
    ("maxsmtpconnections", "", 0),
    ("mirroremailaddress", "", 0),
    ("relaymode", "", 2),
    ("authallowplaintext", "", 0),
    ("allowmailfromnull", "", 1),
    ("logging", "", 0),
    ("logdevice", "", 0),
    ("smtpnoofretries", "", 4),
    ("smtpminutesbetweenretries", "", 60),
    ("protocolimap", "", 1),
    ("protocolsmtp", "", 1),
    ("protocolpop3", "", 1),
    ("welcomeimap", "", 0),
    ("welcomepop3", "", 0),
    ("welcomesmtp", "", 0),
    ("smtprelayer", "", 0),
    ("maxdelivertythreads", "", 10),
    ("logformat", "", 0),
    ("avclamwinenable", "", 0),
    ("avclamwinexec", "", 0),
    ("avclamwindb", "", 0),
    ("avnotifysender", "", 0),
    ("avnotifyreceiver", "", 0),
    ("avaction", "", 0),
    ("sendstatistics", "", 0),
    ("hostname", "", 0),
    ("smtprelayerusername", "", 0),
    ("smtprelayerpassword", "", 0),
    ("usesmtprelayerauthentication", "", 0),
    ("smtprelayerport", "", 25),
    ("usecustomvirusscanner", "", 0),
    ("customvirusscannerexecutable", "", 0),
    ("customviursscannerreturnvalue", "", 0),
    ("usespf", "", 0),
    ("usemxchecks", "", 0),
    ("usescriptserver", "", 0),
    ("scriptlanguage", "VBScript", 0),
    ("maxmessagesize", "", 20480),
    ("usecache", "", 1),
    ("domaincachettl", "", 60),
    ("accountcachettl", "", 60),
    ("awstatsenabled", "", 0),
    ("rulelooplimit", "", 5),
    ("backupoptions", "", 0),
    ("backupdestination", "", 0),
    ("defaultdomain", "", 0),
    ("avmaxmsgsize", "", 0),
    ("smtpdeliverybindtoip", "", 0),
    ("enableimapquota", "", 1),
    ("enableimapidle", "", 1),
    ("enableimapacl", "", 1),
    ("maximapconnections", "", 0),
    ("enableimapsort", "", 1),
    ("workerthreadpriority", "", 0),
    ("ascheckhostinhelo", "", 0),
    ("tcpipthreads", "", 15),
    ("smtpallowincorrectlineendings", "", 1),
    ("usegreylisting", "", 0),
    ("greylistinginitialdelay", "", 30),
    ("greylistinginitialdelete", "", 24),
    ("greylistingfinaldelete", "", 864),
    ("antispamaddheaderspam", "", 1),
    ("antispamaddheaderreason", "", 1),
    ("antispamprependsubject", "", 0),
    ("antispamprependsubjecttext", "[SPAM]", 0),
    ("enableattachmentblocking", "", 0),
    ("maxsmtprecipientsinbatch", "", 100),
    ("disconnectinvalidclients", "", 0),
    ("maximumincorrectcommands", "", 100),
    ("aliascachettl", "", 60),
    ("distributionlistcachettl", "", 60),
    ("smtprelayerconnectionsecurity", "", 0),
    ("adddeliveredtoheader", "", 0),
    ("groupcachettl", "", 60),
    ("imappublicfoldername", "#Public", 0),
    ("antispamenabled", "", 0),
    ("usespfscore", "", 3),
    ("ascheckhostinheloscore", "", 2),
    ("usemxchecksscore", "", 2),
    ("spammarkthreshold", "", 5),
    ("spamdeletethreshold", "", 20),
    ("spamassassinenabled", "", 0),
    ("spamassassinscore", "", 5),
    ("spamassassinmergescore", "", 0),
    ("spamassassinhost", "127.0.0.1", 0),
    ("spamassassinport", "", 783),
    ("antispammaxsize", "", 1024),
    ("ASDKIMVerificationEnabled", "", 0),
    ("ASDKIMVerificationFailureScore", "", 5),
    ("AutoBanOnLogonFailureEnabled", "", 1),
    ("MaxInvalidLogonAttempts", "", 3),
    ("LogonAttemptsWithinMinutes", "", 30),
    ("AutoBanMinutes", "", 60),
    ("IMAPHierarchyDelimiter", ".", 0),
    ("MaxNumberOfAsynchronousTasks", "", 15),
    ("MessageIndexing", "", 0),
    ("BypassGreylistingOnSPFSuccess", "", 1),
    ("BypassGreylistingOnMailFromMX", "", 0),
    ("MaxNumberOfMXHosts", "", 15),
    ("ClamAVEnabled", "", 0),
    ("ClamAVHost", "localhost", 0),
    ("ClamAVPort", "", 3310),
    ("SmtpDeliveryConnectionSecurity", "", 2),
    ("VerifyRemoteSslCertificate", "", 1),
    ("SslCipherList", SSL_CIPHER_LIST, 0),
    ("SslVersions", "", 14),
    ("ImapMasterUser", "", 0),
    ("ImapAuthAllowPlainText", "", 0),
    ("EnableImapSASLPlain", "", 0),
    ("EnableImapSASLInitialResponse", "", 0),
    ("ascheckptr", "", 0),
    ("ascheckptrscore", "", 1),
    ("IPv6Preferred", "", 0),
];

/// `hm_servermessages` rows: (smname, smtext). The texts contain real CR LF line breaks, as
/// MySQL stores the script's `\r\n` escapes.
const SERVER_MESSAGES: &[(&str, &str)] = &[
    ("VIRUS_FOUND", "Virus found"),
    (
        "VIRUS_ATTACHMENT_REMOVED",
        "Virus found:\r\nThe attachment(s) of this message was removed since a virus was detected in at least one of them.\r\n\r\n",
    ),
    (
        "VIRUS_NOTIFICATION",
        "The message below contained a virus and did not\r\nreach some or all of the intended recipients.\r\n\r\n   From: %MACRO_FROM%\r\n   To: %MACRO_TO%\r\n   Sent: %MACRO_SENT%\r\n   Subject: %MACRO_SUBJECT%\r\n\r\nhMailServer\r\n",
    ),
    (
        "SEND_FAILED_NOTIFICATION",
        "Your message did not reach some or all of the intended recipients.\r\n\r\n   Sent: %MACRO_SENT%\r\n   Subject: %MACRO_SUBJECT%\r\n\r\nThe following recipient(s) could not be reached:\r\n\r\n%MACRO_RECIPIENTS%\r\n\r\nhMailServer\r\n",
    ),
    ("MESSAGE_UNDELIVERABLE", "Message undeliverable"),
    (
        "MESSAGE_FILE_MISSING",
        "The mail server could not deliver the message to you since the file %MACRO_FILE% does not exist on the server.\r\n\r\nThe file may have been deleted by anti virus software running on the server.\r\n\r\nhMailServer",
    ),
    (
        "ATTACHMENT_REMOVED",
        "The attachment %MACRO_FILE% was blocked for delivery by the e-mail server. Please contact your system administrator if you have any questions regarding this.\r\n\r\nhMailServer\r\n",
    ),
];

/// `hm_dnsbl` rows: (sbldnshost, sblresult, sblrejectmessage, sblscore), all inactive.
const DNSBLS: &[(&str, &str, &str, i64)] = &[
    ("zen.spamhaus.org", "127.0.0.2-8|127.0.0.10-11", "Rejected by Spamhaus.", 3),
    ("bl.spamcop.net", "127.0.0.2", "Rejected by SpamCop.", 3),
];

/// `hm_blocked_attachments` rows: (bawildcard, badescription).
const BLOCKED_ATTACHMENTS: &[(&str, &str)] = &[
    ("*.bat", "Batch processing file"),
    ("*.cmd", "Command file for Windows NT"),
    ("*.com", "Command"),
    ("*.cpl", "Windows Control Panel extension"),
    ("*.csh", "CSH script"),
    ("*.exe", "Executable file"),
    ("*.inf", "Setup file"),
    ("*.lnk", "Windows link file"),
    ("*.msi", "Windows Installer file"),
    ("*.msp", "Windows Installer patch"),
    ("*.pif", "Program Information file"),
    ("*.reg", "Registration key"),
    ("*.scf", "Windows Explorer command"),
    ("*.scr", "Windows Screen saver"),
];

/// `hm_tcpipports` rows: (portprotocol, portnumber); protocol 1 SMTP, 3 POP3, 5 IMAP.
const TCPIP_PORTS: &[(i64, i64)] = &[(1, 25), (1, 587), (3, 110), (5, 143)];

/// The schema version a new database is stamped with.
pub(crate) const DB_VERSION: i64 = 5704;

/// `2001-01-01 00:00:00`, hMailServer's "no expiry" time for IP ranges.
fn no_expiry() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2001, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

fn row(table: &'static str, values: Vec<(&'static str, Value)>) -> DefaultRow {
    DefaultRow { table, values }
}

fn security_range(priority: i64, lower: i64, upper: i64, options: i64, name: &str) -> DefaultRow {
    row(
        "hm_securityranges",
        vec![
            ("rangepriorityid", Value::Int(priority)),
            ("rangelowerip1", Value::Int(lower)),
            ("rangelowerip2", Value::Null),
            ("rangeupperip1", Value::Int(upper)),
            ("rangeupperip2", Value::Null),
            ("rangeoptions", Value::Int(options)),
            ("rangename", Value::from(name)),
            ("rangeexpires", Value::Int(0)),
            ("rangeexpirestime", Value::Time(no_expiry())),
        ],
    )
}

/// Every default row, in the order hMailServer's MySQL create script inserts them.
pub(crate) fn default_rows() -> Vec<DefaultRow> {
    let mut rows = vec![
        // 0.0.0.0-255.255.255.255: SMTP/POP3/IMAP, relaying with authentication, anti-spam and
        // anti-virus (options 96203).
        security_range(10, 0, 4_294_967_295, 96203, "Internet"),
        // 127.0.0.1: the same without required authentication except external to external
        // (options 71627).
        security_range(30, 2_130_706_433, 2_130_706_433, 71627, "My computer"),
    ];
    rows.extend(SERVER_MESSAGES.iter().map(|&(name, text)| {
        row("hm_servermessages", vec![("smname", Value::from(name)), ("smtext", Value::from(text))])
    }));
    rows.extend(DNSBLS.iter().map(|&(host, result, message, score)| {
        row(
            "hm_dnsbl",
            vec![
                ("sblactive", Value::Int(0)),
                ("sbldnshost", Value::from(host)),
                ("sblresult", Value::from(result)),
                ("sblrejectmessage", Value::from(message)),
                ("sblscore", Value::Int(score)),
            ],
        )
    }));
    rows.push(row(
        "hm_surblservers",
        vec![
            ("surblactive", Value::Int(0)),
            ("surblhost", Value::from("multi.surbl.org")),
            ("surblrejectmessage", Value::from("Rejected by SURBL.")),
            ("surblscore", Value::Int(3)),
        ],
    ));
    rows.extend(BLOCKED_ATTACHMENTS.iter().map(|&(wildcard, description)| {
        row(
            "hm_blocked_attachments",
            vec![("bawildcard", Value::from(wildcard)), ("badescription", Value::from(description))],
        )
    }));
    rows.extend(SETTINGS.iter().map(|&(name, string, integer)| {
        row(
            "hm_settings",
            vec![
                ("settingname", Value::from(name)),
                ("settingstring", Value::from(string)),
                ("settinginteger", Value::Int(integer)),
            ],
        )
    }));
    rows.extend(TCPIP_PORTS.iter().map(|&(protocol, port)| {
        row(
            "hm_tcpipports",
            vec![
                ("portprotocol", Value::Int(protocol)),
                ("portnumber", Value::Int(port)),
                ("portaddress1", Value::Int(0)),
                ("portaddress2", Value::Null),
                ("portconnectionsecurity", Value::Int(0)),
                ("portsslcertificateid", Value::Int(0)),
            ],
        )
    }));
    rows.push(row("hm_dbversion", vec![("value", Value::Int(DB_VERSION))]));
    rows
}

/// hMailServer's default `(settingstring, settinginteger)` for a setting, matched exactly and
/// then case-insensitively.
pub(crate) fn default_setting(name: &str) -> Option<(&'static str, i64)> {
    let hit = SETTINGS
        .iter()
        .find(|(n, _, _)| *n == name)
        .or_else(|| SETTINGS.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)));
    hit.map(|&(_, string, integer)| (string, integer))
}

#[cfg(test)]
fn default_setting_names() -> Vec<&'static str> {
    SETTINGS.iter().map(|&(name, _, _)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tables::table;
    use std::collections::HashSet;

    #[test]
    fn rows_fit_the_tables() {
        for r in default_rows() {
            let t = table(r.table).unwrap_or_else(|| panic!("no table {}", r.table));
            let given: HashSet<_> = r.values.iter().map(|(c, _)| *c).collect();
            assert_eq!(given.len(), r.values.len(), "duplicate column in a {} row", r.table);
            for (c, v) in &r.values {
                let col = t.columns.iter().find(|col| col.name == *c);
                let col = col.unwrap_or_else(|| panic!("no column {c} in {}", r.table));
                assert!(!col.ty.is_serial(), "{}.{c} is a surrogate key", r.table);
                if matches!(v, Value::Null | Value::NullText | Value::NullTime) {
                    assert!(col.nullable, "NULL for NOT NULL column {}.{c}", r.table);
                }
            }
            for col in t.columns {
                if !col.nullable && col.default.is_none() && !col.ty.is_serial() {
                    assert!(given.contains(col.name), "{}.{} missing", r.table, col.name);
                }
            }
        }
    }

    #[test]
    fn row_counts() {
        let rows = default_rows();
        let count = |t: &str| rows.iter().filter(|r| r.table == t).count();
        assert_eq!(count("hm_settings"), 114);
        assert_eq!(count("hm_securityranges"), 2);
        assert_eq!(count("hm_tcpipports"), 4);
        assert_eq!(count("hm_servermessages"), 7);
        assert_eq!(count("hm_dnsbl"), 2);
        assert_eq!(count("hm_surblservers"), 1);
        assert_eq!(count("hm_blocked_attachments"), 14);
        assert_eq!(count("hm_dbversion"), 1);
        assert_eq!(rows.len(), 114 + 2 + 4 + 7 + 2 + 1 + 14 + 1);
    }

    #[test]
    fn setting_names_are_unique_and_fit() {
        let names = default_setting_names();
        assert_eq!(names.len(), 114);
        // settingname is unique under MySQL's case-insensitive collation.
        let lower: HashSet<_> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        assert_eq!(lower.len(), names.len());
        assert!(names.iter().all(|n| !n.is_empty() && n.len() <= 30));
        assert!(names.contains(&"IPv6Preferred") && names.contains(&"maxdelivertythreads"));
        assert!(SETTINGS.iter().all(|(_, s, _)| s.len() <= 4000));
    }

    #[test]
    fn notable_values() {
        let rows = default_rows();
        let setting = |name: &str| SETTINGS.iter().find(|(n, _, _)| *n == name).map(|&(_, s, i)| (s, i));
        assert_eq!(setting("maxmessagesize"), Some(("", 20480)));
        assert_eq!(setting("IMAPHierarchyDelimiter"), Some((".", 0)));
        assert_eq!(setting("SslVersions"), Some(("", 14)));
        assert!(SSL_CIPHER_LIST.starts_with("ECDHE-RSA-AES128-GCM-SHA256:"));
        assert!(SSL_CIPHER_LIST.ends_with(":!MD5:!PSK;"));
        assert_eq!(SSL_CIPHER_LIST.split(':').count(), 36);
        let internet = rows.iter().find(|r| r.values.contains(&("rangename", Value::from("Internet"))));
        let internet = internet.expect("Internet range");
        assert!(internet.values.contains(&("rangeupperip1", Value::Int(4_294_967_295))));
        assert!(internet.values.contains(&("rangeexpirestime", Value::Time(no_expiry()))));
        let failed = SERVER_MESSAGES.iter().find(|(n, _)| *n == "SEND_FAILED_NOTIFICATION");
        let failed = failed.map(|(_, t)| *t).unwrap_or_default();
        assert!(failed.contains("\r\n%MACRO_RECIPIENTS%\r\n") && failed.ends_with("hMailServer\r\n"));
        assert!(!failed.contains('\\'));
        let last = rows.last().expect("rows");
        assert_eq!(last.table, "hm_dbversion");
        assert_eq!(last.values, vec![("value", Value::Int(5704))]);
    }
}
