//! The audit log: one line (tracing target `audit`) for every change made through the service,
//! naming who made it, from where, what was done and to which object.

use crate::Caller;

/// Records a change: `action` is a verb and a kind (`account.create`), `object` its name.
pub(crate) fn change(caller: &Caller, action: &str, object: &str) {
    tracing::info!(target: "audit", who = %caller.name(), from = %caller.origin, action = %action, object = %object, "{action} {object}");
}

/// Records a refused change, so that attempts are visible as well as changes.
pub(crate) fn refused(caller: &Caller, action: &str, object: &str, why: &str) {
    tracing::warn!(target: "audit", who = %caller.name(), from = %caller.origin, action = %action, object = %object, why, "refused {action} {object}");
}
