//! Who is calling the service, from where, and what that caller may do.
//!
//! hMailServer's rule (`Application.Authenticate`, `API/Permissions.cs`): the server
//! administrator and accounts of admin level 2 manage everything; an account of level 1 manages
//! its own domain's accounts, aliases and lists; an account of level 0 only itself. The level is
//! read again on every call, so an account demoted or disabled loses its rights at once, even
//! with a token issued before.

use serde::Serialize;

use altimail_store::repo::accounts::Account;

/// The administrator's user name, as hMailServer's `Authenticate("Administrator", …)` takes it.
pub const ADMINISTRATOR: &str = "Administrator";

/// Whom a call is made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Identity {
    /// The server administrator: the local command line, or a logon as `Administrator`.
    Administrator,
    /// An account, with the rights of its admin level.
    Account { id: i64, address: String },
}

/// The caller of a service method: an identity and where the call comes from (for the audit
/// log: `command line`, `api 127.0.0.1:50412`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caller {
    pub identity: Identity,
    pub origin: String,
}

impl Caller {
    /// The server administrator.
    pub fn administrator(origin: impl Into<String>) -> Caller {
        Caller { identity: Identity::Administrator, origin: origin.into() }
    }

    /// An account; its rights come from its admin level at the time of each call.
    pub fn account(account: &Account, origin: impl Into<String>) -> Caller {
        Caller {
            identity: Identity::Account { id: account.id, address: account.address.clone() },
            origin: origin.into(),
        }
    }

    /// The name the audit log gives the caller.
    pub fn name(&self) -> &str {
        match &self.identity {
            Identity::Administrator => ADMINISTRATOR,
            Identity::Account { address, .. } => address,
        }
    }
}

/// What a caller may do, resolved from the database for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    /// Everything.
    Server,
    /// The objects of one domain (not the domain's limits, not server administrators).
    Domain { domain_id: i64, domain: String },
    /// Only its own account, and not its quota, state or level.
    User { account_id: i64 },
}

impl Role {
    pub(crate) fn is_server(&self) -> bool {
        matches!(self, Role::Server)
    }

    /// The role an account's admin level gives.
    pub(crate) fn of(account: &Account, domain: &str) -> Role {
        match account.admin_level {
            2.. => Role::Server,
            1 => Role::Domain { domain_id: account.domain_id, domain: domain.to_owned() },
            _ => Role::User { account_id: account.id },
        }
    }
}
