//! The administration service of Altimail Server.
//!
//! One layer between every administration front end (the `altimail` command line, the REST API,
//! a web administration, scripting) and the store: it holds hMailServer's rules for domains,
//! domain aliases, accounts, aliases and distribution lists ([`rules`]: names, quotas, the
//! domain's limits and sizes, admin levels), checks on every call what the [`Caller`] may do,
//! and writes one audit line (tracing target `audit`) for every change. Front ends parse their
//! input and print results; none writes SQL or repeats a rule.
//!
//! Changes go through the store's repositories, so a running server sees them as it sees the
//! command line's: its directory index notices the change within a second.
//!
//! ```no_run
//! # async fn demo(store: altimail_store::Store) -> Result<(), altimail_admin::AdminError> {
//! use altimail_admin::{Admin, Caller, NewDomain};
//! let admin = Admin::new(store);
//! let me = Caller::administrator("command line");
//! admin.create_domain(&me, &NewDomain { name: "example.com".into(), active: true }).await?;
//! # Ok(()) }
//! ```

mod accounts;
mod aliases;
mod audit;
mod caller;
mod domains;
mod error;
mod lists;
mod logon;
mod logs;
mod ports;
mod queue;
mod ranges;
pub mod rules;
mod server_settings;
mod status;

pub use accounts::{AccountChanges, AccountRemoved, NewAccount, Signature};
pub use aliases::{AliasChanges, NewAlias};
pub use altimail_store::repo::server_messages::ServerMessage;
pub use caller::{ADMINISTRATOR, Caller, Identity};
pub use domains::{DomainChanges, DomainRemoved, DomainView, NewDomain};
pub use error::AdminError;
pub use lists::{ListChanges, ListSummary, ListView, NewList};
pub use logon::ADMINISTRATOR_PASSWORD_SETTING;
pub use logs::{LogLine, LogQuery, LogSearch};
pub use ports::{NewPort, Port, PortChanges};
pub use queue::{Flushed, QueueEntry};
pub use ranges::{NewRange, RangeChanges, RangeOption, RangeView, range_options};
pub use server_settings::{
    AntiSpam, AntiSpamChanges, AntiVirus, AntiVirusChanges, AutoBan, AutoBanChanges, Delivery, DeliveryChanges,
    Logging, LoggingChanges, Protocols, ProtocolsChanges, ServerMessageText, ServerSettings, SettingsChanges,
    SmartHost, SmartHostChanges,
};
pub use status::{LiveStatus, MessageCounters, QueueSize, ServerStatus, SessionCounts};

use altimail_core::address;
use altimail_store::Store;
use altimail_store::repo::{accounts as account_repo, domains as domain_repo};

use caller::Role;

/// The administration service over one store.
#[derive(Debug, Clone)]
pub struct Admin {
    store: Store,
    /// The running server's live figures, when the service runs inside it.
    live: Option<std::sync::Arc<dyn LiveStatus>>,
    /// Where the server writes its log files, for the log search.
    logs_dir: Option<std::path::PathBuf>,
}

impl Admin {
    pub fn new(store: Store) -> Admin {
        Admin { store, live: None, logs_dir: None }
    }

    /// The service inside a running server, which reports its live figures through `live`.
    pub fn with_live_status(mut self, live: std::sync::Arc<dyn LiveStatus>) -> Admin {
        self.live = Some(live);
        self
    }

    /// The store the service works on.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What `caller` may do now: an account's level, state and domain are read again.
    async fn role(&self, caller: &Caller) -> Result<Role, AdminError> {
        let id = match &caller.identity {
            Identity::Administrator => return Ok(Role::Server),
            Identity::Account { id, .. } => *id,
        };
        let gone = || AdminError::Unauthenticated(format!("the account {} is disabled or removed", caller.name()));
        let account = account_repo::get(&self.store.db, id).await?.ok_or_else(gone)?;
        if !account.active {
            return Err(gone());
        }
        let domain = domain_repo::get(&self.store.db, account.domain_id).await?.ok_or_else(gone)?;
        Ok(Role::of(&account, &domain.name))
    }

    /// Refuses, with an audit line, unless the caller is a server administrator.
    async fn require_server(&self, caller: &Caller, action: &str, object: &str) -> Result<Role, AdminError> {
        let role = self.role(caller).await?;
        if !role.is_server() {
            return Err(self.refuse(caller, action, object, "only a server administrator may do this"));
        }
        Ok(role)
    }

    /// The role of a caller who may work on objects of the domain named `domain` (from an
    /// address or a name): server administrators, and that domain's administrators.
    async fn require_domain(
        &self,
        caller: &Caller,
        domain: &str,
        action: &str,
        object: &str,
    ) -> Result<Role, AdminError> {
        let role = self.role(caller).await?;
        match &role {
            Role::Server => Ok(role),
            Role::Domain { domain: own, .. } if own.eq_ignore_ascii_case(domain) => Ok(role),
            _ => Err(self.refuse(caller, action, object, "outside the caller's rights")),
        }
    }

    fn refuse(&self, caller: &Caller, action: &str, object: &str, why: &str) -> AdminError {
        audit::refused(caller, action, object, why);
        AdminError::Forbidden(format!("{} may not {} {object}", caller.name(), action.replace('.', " ")))
    }
}

/// The domain part of `input` when it looks like an address, else `input` (for permission
/// checks before the object is looked up, so that a refusal does not reveal whether it exists).
fn domain_of(input: &str) -> &str {
    address::split(input.trim()).map_or(input, |(_, d)| d)
}
