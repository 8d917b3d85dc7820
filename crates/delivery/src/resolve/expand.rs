//! The final recipients of an accepted address — a port of hMailServer's
//! `RecipientParser::CreateMessageRecipientList_`.
//!
//! Per level (at most 25; deeper branches are dropped silently): domain aliases, plus addressing;
//! in a local domain (which must be active) an active account is a recipient, an active alias is
//! expanded, an enabled list expands every member; otherwise a route covering the address adds
//! it as given; then a local domain's catch-all is expanded, and an address in a domain that is
//! not local is an external recipient. Recipients are kept in the order found and duplicates
//! (compared without case) are dropped.
//!
//! One hMailServer quirk is kept: when a route covers an unknown address of a *local* domain
//! that also has a catch-all, both the route recipient and the catch-all receive the message.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use altimail_store::StoreError;

use super::MAX_DEPTH;
use super::directory::Directory;

type Boxed<'s> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 's>>;

/// One final recipient of a message (a row of `hm_messagerecipients`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// Where the message goes: the account address as reached (domain aliases applied and plus
    /// addressing removed), or the external/route address as given at its level.
    pub address: String,
    /// `recipientlocalaccountid`: the account, or 0 for external and route recipients.
    pub account_id: i64,
    /// `recipientoriginaladdress`: the address given in RCPT TO (used for Delivered-To).
    pub original_address: String,
    /// hMailServer's `IsLocalName`: an account, or a route that treats recipients as local.
    pub local_name: bool,
}

impl Recipient {
    pub fn is_local(&self) -> bool {
        self.account_id != 0
    }
}

/// Appends recipients to a message's list, dropping empty addresses and duplicates (compared
/// without case) the way hMailServer's `AddRecipient_` does across all RCPT commands.
pub fn merge(into: &mut Vec<Recipient>, more: impl IntoIterator<Item = Recipient>) {
    // Lower-cased (`String::CompareNoCase`): one pass over what is there, not one per added
    // recipient.
    let mut have: HashSet<String> = into.iter().map(|r| r.address.to_lowercase()).collect();
    for r in more {
        if !r.address.is_empty() && have.insert(r.address.to_lowercase()) {
            into.push(r);
        }
    }
}

/// The recipients one RCPT address expands to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Expansion {
    pub recipients: Vec<Recipient>,
    /// hMailServer's `recipientOK`: at least one recipient was reached (even one whose address
    /// turned out empty and was dropped).
    pub found: bool,
}

pub(crate) struct Expander<'d, 'a> {
    dir: &'d Directory<'a>,
    original: String,
    out: Expansion,
    /// Lists already expanded (or being expanded), with the lowest depth they were expanded at:
    /// expanding one again at that depth or deeper can only add duplicates.
    expanded: HashMap<i64, u32>,
    /// The lower-cased addresses of `out.recipients`: a large list adds each member in constant
    /// time, not by comparing it with every recipient before it.
    added: HashSet<String>,
}

impl<'d, 'a> Expander<'d, 'a> {
    /// Expands the address given in RCPT TO.
    pub async fn run(dir: &'d Directory<'a>, rcpt: &str) -> Result<Expansion, StoreError> {
        let mut expander = Expander {
            dir,
            original: rcpt.to_owned(),
            out: Expansion::default(),
            expanded: HashMap::new(),
            added: HashSet::new(),
        };
        expander.expand(rcpt.to_owned(), 0).await?;
        Ok(expander.out)
    }

    fn add(&mut self, address: String, account_id: i64, local_name: bool) {
        self.out.found = true;
        let original_address = self.original.clone();
        // As `merge` does: empty addresses dropped, duplicates compared without case.
        if !address.is_empty() && self.added.insert(address.to_lowercase()) {
            self.out.recipients.push(Recipient { address, account_id, original_address, local_name });
        }
    }

    fn expand<'s>(&'s mut self, address: String, depth: u32) -> Boxed<'s> {
        Box::pin(async move {
            let depth = depth + 1;
            if depth > MAX_DEPTH {
                return Ok(());
            }
            let primary = self.dir.primary(&address).await?;
            if let Some(domain) = &primary.domain {
                if !domain.active {
                    return Ok(());
                }
                if let Some(account) = self.dir.account(&primary.address).await? {
                    if account.active {
                        self.add(primary.address, account.id, true);
                    }
                    return Ok(());
                }
                if let Some(alias) = self.dir.alias(&primary.address).await? {
                    if alias.active {
                        self.expand(alias.value, depth).await?;
                    }
                    return Ok(());
                }
                if let Some(list) = self.dir.list(&primary.address).await? {
                    let seen = self.expanded.get(&list.id).is_some_and(|&d| d <= depth);
                    if list.enabled && !seen {
                        self.expanded.insert(list.id, depth);
                        for member in self.dir.members(list.id).await? {
                            self.expand(member, depth).await?;
                        }
                    }
                    return Ok(());
                }
            }
            if let Some(route) = self.dir.route_for(&address).await? {
                if route.covers(&address) {
                    let local_name = route.treat_recipient_as_local;
                    self.add(address.clone(), 0, local_name);
                }
                if primary.domain.as_ref().is_none_or(|d| d.catch_all.is_empty()) {
                    return Ok(());
                }
            }
            match primary.domain {
                Some(d) if !d.catch_all.is_empty() => self.expand(d.catch_all, depth).await,
                Some(_) => Ok(()),
                None => {
                    self.add(address, 0, false);
                    Ok(())
                }
            }
        })
    }
}
