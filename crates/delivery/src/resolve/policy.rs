//! Relay and authentication policy for RCPT TO, as `SMTPConnection::ProtocolRCPT_` decides it,
//! and the qualification of envelope addresses (null sender, default domain).
//!
//! The IP range's relay bit for the sender/recipient combination must be set — for
//! authenticated sessions too: authentication never widens relaying — and then, when the
//! range's require-auth bit for the combination is set, the session must have authenticated.
//!
//! | sender | recipient | relay bit (else 550 5.7.1) | auth bit (unauthenticated → 530 5.7.0) |
//! |---|---|---|---|
//! | local | local | 64 | 8192 |
//! | local | external | 128 | 16384 |
//! | external | local | 256 | 32768 |
//! | external | external | 512 | 65536 |
//!
//! "Local sender" (`SMTPConnection::GetIsLocalSender_`): the sender's domain, after domain
//! aliases, is an *active* local domain; or a route matching the sender's domain covers the
//! sender address and treats senders as local. Authenticating does not make a sender local.
//! "Local recipient" comes from the resolution (see [`super::Resolution::recipient_local`]).

use altimail_core::codes::range;
use altimail_store::repo::settings::Settings;
use altimail_store::{Db, StoreError};

use super::address::{domain_of, mailbox_of};
use super::directory::Directory;
use super::reply::Refusal;

/// Whether the range lets this sender/recipient combination through.
pub fn decide(
    range_options: i64,
    sender_local: bool,
    recipient_local: bool,
    authenticated: bool,
) -> Result<(), Refusal> {
    let (relay, auth) = match (sender_local, recipient_local) {
        (true, true) => (range::RELAY_LOCAL_TO_LOCAL, range::AUTH_LOCAL_TO_LOCAL),
        (true, false) => (range::RELAY_LOCAL_TO_REMOTE, range::AUTH_LOCAL_TO_EXTERNAL),
        (false, true) => (range::RELAY_REMOTE_TO_LOCAL, range::AUTH_EXTERNAL_TO_LOCAL),
        (false, false) => (range::RELAY_REMOTE_TO_REMOTE, range::AUTH_EXTERNAL_TO_EXTERNAL),
    };
    if range_options & relay == 0 {
        return Err(Refusal::RelayDenied);
    }
    if range_options & auth != 0 && !authenticated {
        return Err(Refusal::AuthRequired);
    }
    Ok(())
}

/// Whether `sender` (MAIL FROM, `""` for the null sender) counts as a local sender.
pub async fn sender_is_local(db: &Db, sender: &str) -> Result<bool, StoreError> {
    sender_is_local_in(&Directory::new(db), sender).await
}

pub(crate) async fn sender_is_local_in(dir: &Directory<'_>, sender: &str) -> Result<bool, StoreError> {
    let aliased = dir.apply_domain_aliases(sender).await?;
    if dir.domain(domain_of(&aliased)).await?.is_some_and(|d| d.active) {
        return Ok(true);
    }
    Ok(dir.route_for(sender).await?.is_some_and(|r| r.covers(sender) && r.treat_sender_as_local))
}

/// The settings that complete envelope addresses: `defaultdomain` and `allowmailfromnull`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRules {
    /// Appended to addresses without `@` (`DefaultDomain::ApplyDefaultDomain`); empty = none.
    pub default_domain: String,
    /// Whether `MAIL FROM:<>` is accepted.
    pub allow_null_sender: bool,
}

impl AddressRules {
    pub async fn load(db: &Db) -> Result<Self, StoreError> {
        let settings = Settings::load(db).await?;
        Ok(AddressRules {
            default_domain: settings.string("defaultdomain"),
            allow_null_sender: settings.bool("allowmailfromnull"),
        })
    }

    /// The sender to use for MAIL FROM: `""` stays the null sender (when allowed), a bare name
    /// gets the default domain; anything still without a mailbox and a domain is refused.
    pub fn qualify_sender(&self, address: &str) -> Result<String, Refusal> {
        if address.is_empty() {
            return if self.allow_null_sender { Ok(String::new()) } else { Err(Refusal::NullSenderNotAllowed) };
        }
        self.qualify(address).ok_or(Refusal::InvalidSender)
    }

    /// The recipient to resolve for RCPT TO: a bare name gets the default domain; anything
    /// still without a mailbox and a domain is refused.
    pub fn qualify_recipient(&self, address: &str) -> Result<String, Refusal> {
        self.qualify(address).ok_or(Refusal::InvalidRecipient)
    }

    fn qualify(&self, address: &str) -> Option<String> {
        let full = if address.contains('@') || self.default_domain.is_empty() {
            address.to_owned()
        } else {
            format!("{address}@{}", self.default_domain)
        };
        let complete = full.contains('@') && !mailbox_of(&full).is_empty() && !domain_of(&full).is_empty();
        complete.then_some(full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERNET: i64 = 96203;
    const MY_COMPUTER: i64 = 71627;

    #[test]
    fn internet_range_requires_auth_except_external_to_local() {
        assert_eq!(decide(INTERNET, false, true, false), Ok(()));
        assert_eq!(decide(INTERNET, false, false, false), Err(Refusal::AuthRequired));
        assert_eq!(decide(INTERNET, true, false, false), Err(Refusal::AuthRequired));
        assert_eq!(decide(INTERNET, true, true, false), Err(Refusal::AuthRequired));
        for (s, r) in [(true, true), (true, false), (false, true), (false, false)] {
            assert_eq!(decide(INTERNET, s, r, true), Ok(()), "{s} {r}");
        }
    }

    #[test]
    fn my_computer_range_requires_auth_only_external_to_external() {
        assert_eq!(decide(MY_COMPUTER, true, false, false), Ok(()));
        assert_eq!(decide(MY_COMPUTER, true, true, false), Ok(()));
        assert_eq!(decide(MY_COMPUTER, false, true, false), Ok(()));
        assert_eq!(decide(MY_COMPUTER, false, false, false), Err(Refusal::AuthRequired));
        assert_eq!(decide(MY_COMPUTER, false, false, true), Ok(()));
    }

    #[test]
    fn relay_bits_bind_authenticated_sessions_too() {
        let only_to_local = range::SMTP | range::RELAY_REMOTE_TO_LOCAL | range::RELAY_LOCAL_TO_LOCAL;
        assert_eq!(decide(only_to_local, true, false, true), Err(Refusal::RelayDenied));
        assert_eq!(decide(only_to_local, false, false, true), Err(Refusal::RelayDenied));
        assert_eq!(decide(only_to_local, false, true, false), Ok(()));
        assert_eq!(decide(range::SMTP, false, true, true), Err(Refusal::RelayDenied));
    }

    #[test]
    fn qualifies_envelope_addresses() {
        let none = AddressRules { default_domain: String::new(), allow_null_sender: true };
        assert_eq!(none.qualify_sender(""), Ok(String::new()));
        assert_eq!(none.qualify_sender("user"), Err(Refusal::InvalidSender));
        assert_eq!(none.qualify_recipient("user"), Err(Refusal::InvalidRecipient));
        assert_eq!(none.qualify_recipient(""), Err(Refusal::InvalidRecipient));
        assert_eq!(none.qualify_recipient("user@"), Err(Refusal::InvalidRecipient));
        assert_eq!(none.qualify_recipient("a@b.test"), Ok("a@b.test".into()));
        let strict = AddressRules { default_domain: "example.com".into(), allow_null_sender: false };
        assert_eq!(strict.qualify_sender(""), Err(Refusal::NullSenderNotAllowed));
        assert_eq!(strict.qualify_sender("user"), Ok("user@example.com".into()));
        assert_eq!(strict.qualify_recipient("user"), Ok("user@example.com".into()));
    }
}
