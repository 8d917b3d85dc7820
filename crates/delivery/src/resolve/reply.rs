//! Every refusal the resolver and the relay policy can give, and the one place that decides the
//! SMTP reply for each.
//!
//! The texts are hMailServer's (`RecipientParser.cpp`, `SMTPConnection.cpp`); Altimail adds an
//! RFC 3463 enhanced status code after the reply code.

use std::fmt;

use altimail_store::StoreError;

/// Why a sender or recipient was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// `MAIL FROM:<>` while the setting `allowmailfromnull` is 0.
    NullSenderNotAllowed,
    /// The sender has no domain (no `@`) and no default domain is set.
    InvalidSender,
    /// The recipient has no domain (no `@`) and no default domain is set.
    InvalidRecipient,
    /// Nothing in a local domain has this address, and there is no catch-all.
    UnknownUser,
    /// A route covers the domain but not this address, and the domain has no catch-all.
    NotInRouteList,
    DomainDisabled,
    AccountInactive,
    AliasInactive,
    ListInactive,
    /// The distribution list requires SMTP authentication and the session has none.
    ListRequiresAuth,
    /// Announcement list: the sender is not the list's required address.
    ListNotOwner,
    /// Domain-members list: the sender is not in the list's domain.
    ListNotDomainMember,
    /// Membership list: the sender is not a member.
    ListNotMember,
    /// More than 25 levels of aliases or catch-alls.
    TooManyForwards,
    /// The IP range does not allow this sender/recipient combination at all.
    RelayDenied,
    /// The IP range requires SMTP authentication for this combination.
    AuthRequired,
}

/// An SMTP reply: code, enhanced status code and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub enhanced: &'static str,
    pub text: &'static str,
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.code, self.enhanced, self.text)
    }
}

/// The reply for a database failure during resolution: the client should try again later.
pub const TEMPORARY_FAILURE: Reply =
    Reply { code: 451, enhanced: "4.3.0", text: "Temporary server error. Please try again later." };

impl Refusal {
    /// The reply hMailServer sends for this refusal, with an enhanced status code.
    pub fn reply(self) -> Reply {
        let (code, enhanced, text) = match self {
            Refusal::NullSenderNotAllowed => (550, "5.1.7", "Sender address must be specified."),
            Refusal::InvalidSender => (550, "5.1.7", "The address is not valid."),
            Refusal::InvalidRecipient => (550, "5.1.3", "A valid address is required."),
            Refusal::UnknownUser => (550, "5.1.1", "Unknown user"),
            Refusal::NotInRouteList => (550, "5.1.1", "Recipient not in route list."),
            Refusal::DomainDisabled => (550, "5.7.1", "Domain has been disabled."),
            Refusal::AccountInactive => (550, "5.7.1", "Account is not active."),
            Refusal::AliasInactive => (550, "5.7.1", "Alias is not active."),
            Refusal::ListInactive => (550, "5.7.1", "Distribution list is not active."),
            Refusal::ListRequiresAuth => (550, "5.7.1", "SMTP authentication required."),
            Refusal::ListNotOwner => (550, "5.7.1", "Not authorized owner."),
            Refusal::ListNotDomainMember => (550, "5.7.1", "Not authorized domain."),
            Refusal::ListNotMember => (550, "5.7.1", "Not authorized sender."),
            Refusal::TooManyForwards => (550, "5.4.6", "Mail server configuration error. Too many recursive forwards."),
            Refusal::RelayDenied => (550, "5.7.1", "Delivery is not allowed to this address."),
            Refusal::AuthRequired => (530, "5.7.0", "SMTP authentication is required."),
        };
        Reply { code, enhanced, text }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reply().fmt(f)
    }
}

/// A failed resolution: refused by the rules, or the database could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{0}")]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Refusal> for ResolveError {
    fn from(r: Refusal) -> Self {
        ResolveError::Refused(r)
    }
}

impl ResolveError {
    /// The reply to send to the client.
    pub fn reply(&self) -> Reply {
        match self {
            ResolveError::Refused(r) => r.reply(),
            ResolveError::Store(_) => TEMPORARY_FAILURE,
        }
    }

    /// The refusal, when this is one.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            ResolveError::Refused(r) => Some(*r),
            ResolveError::Store(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_read_like_hmailserver_with_enhanced_codes() {
        assert_eq!(Refusal::UnknownUser.to_string(), "550 5.1.1 Unknown user");
        assert_eq!(Refusal::AuthRequired.to_string(), "530 5.7.0 SMTP authentication is required.");
        assert_eq!(Refusal::RelayDenied.to_string(), "550 5.7.1 Delivery is not allowed to this address.");
        assert_eq!(
            Refusal::TooManyForwards.to_string(),
            "550 5.4.6 Mail server configuration error. Too many recursive forwards."
        );
    }
}
