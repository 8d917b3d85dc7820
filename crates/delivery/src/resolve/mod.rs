//! Recipient resolution and relay policy for RCPT TO, as hMailServer decides them
//! (`SMTP/RecipientParser.cpp`, `SMTPConnection::ProtocolRCPT_`). No sockets: async functions
//! over the store.
//!
//! hMailServer's RCPT TO, after the address has been parsed and qualified
//! ([`policy::AddressRules::qualify_recipient`]):
//!
//! 1. **Check** the address ([`check`]): a refusal here is `550` with the reason.
//! 2. **Relay policy** ([`policy::decide`]): the IP range's relay bit for local/external sender
//!    → local/external recipient, then its require-auth bit.
//! 3. (Greylisting — the session's, between 2 and 4.)
//! 4. **Expand** to final recipients ([`expand`]); none reached → `550 Unknown user`.
//!
//! [`rcpt`] runs 1, 2 and 4; [`authorize`] (1–2) and [`expand`] (4) are separate for a session
//! that greylists in between; [`recipients`] runs 1 and 4 without a relay policy.

mod address;
mod check;
mod directory;
mod expand;
pub mod policy;
mod reply;
pub mod routes;

pub use address::wildcard_match;
pub use expand::{Recipient, merge};
pub use reply::{Refusal, Reply, ResolveError, TEMPORARY_FAILURE};

use altimail_store::Db;

use check::{Checker, Possibility};
use directory::Directory;
use expand::Expander;

/// hMailServer's limit on alias/list/catch-all levels.
pub const MAX_DEPTH: u32 = 25;

/// The envelope sender and the session's authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender<'a> {
    /// MAIL FROM after qualification; `""` for the null sender.
    pub address: &'a str,
    /// The account the session authenticated as (SMTP AUTH), if any.
    pub authenticated_as: Option<&'a str>,
}

impl<'a> Sender<'a> {
    pub fn new(address: &'a str, authenticated_as: Option<&'a str>) -> Self {
        Sender { address, authenticated_as }
    }

    pub fn is_authenticated(&self) -> bool {
        self.authenticated_as.is_some()
    }
}

/// An accepted RCPT address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The recipient counts as local for the relay policy: its domain (after domain aliases)
    /// is local, or a route covering it treats recipients as local.
    pub recipient_local: bool,
    /// The final recipients in hMailServer's order, without duplicates. Add them to the
    /// message's list with [`merge`] (which collapses duplicates across RCPT commands). Empty
    /// only when every recipient reached had an empty address (an alias with an empty value),
    /// which hMailServer accepts too.
    pub recipients: Vec<Recipient>,
}

/// What steps 1–2 decided for an accepted address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorized {
    pub sender_local: bool,
    pub recipient_local: bool,
}

/// Step 1: whether delivery to `rcpt` is possible at all for this sender. Returns whether the
/// recipient counts as local.
pub async fn check(db: &Db, sender: &Sender<'_>, rcpt: &str) -> Result<bool, ResolveError> {
    let dir = Directory::new(db);
    check_in(&dir, sender, rcpt).await
}

async fn check_in(dir: &Directory<'_>, sender: &Sender<'_>, rcpt: &str) -> Result<bool, ResolveError> {
    let checked = Checker::new(dir, sender.address, sender.is_authenticated()).await?.check_rcpt(rcpt).await?;
    match checked.possibility {
        Possibility::Possible => Ok(checked.recipient_local),
        Possibility::Unknown(refusal) | Possibility::Denied(refusal) => Err(refusal.into()),
    }
}

/// Steps 1–2: the address check, then the relay policy of the client's IP range
/// (`rangeoptions`, see `altimail_core::codes::range`).
pub async fn authorize(
    db: &Db,
    range_options: i64,
    sender: &Sender<'_>,
    rcpt: &str,
) -> Result<Authorized, ResolveError> {
    let dir = Directory::new(db);
    authorize_in(&dir, range_options, sender, rcpt).await
}

async fn authorize_in(
    dir: &Directory<'_>,
    range_options: i64,
    sender: &Sender<'_>,
    rcpt: &str,
) -> Result<Authorized, ResolveError> {
    let recipient_local = check_in(dir, sender, rcpt).await?;
    let sender_local = policy::sender_is_local_in(dir, sender.address).await?;
    policy::decide(range_options, sender_local, recipient_local, sender.is_authenticated())?;
    Ok(Authorized { sender_local, recipient_local })
}

/// Step 4: the final recipients of an accepted address; `550 Unknown user` when none is reached.
pub async fn expand(db: &Db, rcpt: &str) -> Result<Vec<Recipient>, ResolveError> {
    expand_in(&Directory::new(db), rcpt).await
}

async fn expand_in(dir: &Directory<'_>, rcpt: &str) -> Result<Vec<Recipient>, ResolveError> {
    let expansion = Expander::run(dir, rcpt).await?;
    if expansion.found { Ok(expansion.recipients) } else { Err(Refusal::UnknownUser.into()) }
}

/// Steps 1 and 4, without a relay policy: is `rcpt` deliverable for this sender, and to whom.
pub async fn recipients(db: &Db, sender: &Sender<'_>, rcpt: &str) -> Result<Resolution, ResolveError> {
    let dir = Directory::new(db);
    let recipient_local = check_in(&dir, sender, rcpt).await?;
    Ok(Resolution { recipient_local, recipients: expand_in(&dir, rcpt).await? })
}

/// The whole RCPT TO decision (steps 1, 2 and 4) for a client whose IP range has
/// `range_options`.
pub async fn rcpt(db: &Db, range_options: i64, sender: &Sender<'_>, rcpt: &str) -> Result<Resolution, ResolveError> {
    let dir = Directory::new(db);
    let authorized = authorize_in(&dir, range_options, sender, rcpt).await?;
    Ok(Resolution { recipient_local: authorized.recipient_local, recipients: expand_in(&dir, rcpt).await? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send<T: Send>(_: &T) {}

    /// Sessions run on a multi-threaded runtime: every public future must be `Send`.
    #[test]
    fn futures_are_send() {
        fn check_types(db: &Db) {
            let sender = Sender::new("a@b.test", None);
            is_send(&rcpt(db, 0, &sender, "c@d.test"));
            is_send(&recipients(db, &sender, "c@d.test"));
            is_send(&authorize(db, 0, &sender, "c@d.test"));
            is_send(&check(db, &sender, "c@d.test"));
            is_send(&expand(db, "c@d.test"));
            is_send(&policy::sender_is_local(db, "a@b.test"));
        }
        let _ = check_types;
    }
}
