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

/// hMailServer's default `(settingstring, settinginteger)` for a setting name.
pub fn default_setting(name: &str) -> Option<(String, i64)> {
    defaults::default_setting(name).map(|(s, i)| (s.to_owned(), i))
}
