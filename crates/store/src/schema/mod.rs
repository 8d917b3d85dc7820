//! The hMailServer schema (version 5704) and Altimail's own additions: creation, detection of an
//! existing database, and additive upgrades.

mod defaults;
mod lifecycle;
mod lookup_indexes;
mod model;
mod tables;

pub use lifecycle::{
    ALTIMAIL_SCHEMA_VERSION, HM_SCHEMA_VERSION, SchemaState, create, inspect, supported_hm_version, upgrade,
};
pub use model::{ColType, Column, Index, Table};
pub use tables::{HM_TABLES, table};

/// Altimail's own settings that apply when their row is missing (an hMailServer database has
/// none of them): `(name, settingstring, settinginteger)`.
const ALTIMAIL_SETTINGS: &[(&str, &str, i64)] = &[
    // Sessions of one protocol from one client address; 0 = unlimited.
    ("altimailmaxconnectionsperip", "", 50),
    // Whom auto-ban never bans: range names, addresses and CIDR blocks separated by commas
    // (`repo::ranges::TRUSTED_SETTING`).
    ("altimailtrustedranges", crate::repo::ranges::DEFAULT_TRUSTED, 0),
    // DMARC (RFC 7489) for incoming mail: on/off, the score of a failure under p=quarantine or
    // p=reject, and what p=reject does (0 = the score only, 1 = refuse with 550 5.7.1).
    ("altimaildmarcenabled", "", 0),
    ("altimaildmarcscore", "", 5),
    ("altimaildmarcreject", "", 0),
    // clamd's unix socket (its LocalSocket); when set it is used instead of ClamAVHost/Port.
    ("altimailclamavsocket", "", 0),
    // clamd connections open at once; further scans wait for one to finish.
    ("altimailclamavmaxconns", "", 10),
    // Seconds an external scanner command may run before it is stopped.
    ("altimailscannertimeout", "", 120),
    // The Bayesian filter (`repo::bayes`): on/off; 0 one global table, 1 one per domain; the
    // score it adds; the spam probability in percent from which it adds it; how many spam and
    // how many ham messages must have been learnt before it judges at all.
    ("altimailbayesenabled", "", 0),
    ("altimailbayesperdomain", "", 0),
    ("altimailbayesscore", "", 5),
    ("altimailbayesthreshold", "", 90),
    ("altimailbayesminmessages", "", 20),
    // The administrator password of the administration API (hMailServer keeps it in
    // hMailServer.ini): an Argon2id hash, or hMailServer's MD5 / salted SHA-256 form; empty
    // refuses logons as Administrator. Set with `altimail admin password`.
    ("altimailadministratorpassword", "", 0),
];

/// The default `(settingstring, settinginteger)` for a setting name: hMailServer's, or
/// Altimail's own for its `altimail…` settings.
pub fn default_setting(name: &str) -> Option<(String, i64)> {
    defaults::default_setting(name).map(|(s, i)| (s.to_owned(), i)).or_else(|| {
        ALTIMAIL_SETTINGS.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|&(_, s, i)| (s.to_owned(), i))
    })
}
