//! Whether mail to an address is possible at all, and who may send to distribution lists — a
//! port of hMailServer's `RecipientParser::CheckDeliveryPossibility` and `UserCanSendToList_`.
//!
//! Order per level: domain aliases → local domain must be active → plus addressing → account
//! (active) → alias (active; its value is checked again) → distribution list (enabled; sender
//! authorisation; every member checked with the same sender) → route for the domain (all
//! addresses or the listed ones) → catch-all (checked again) → unknown user. A domain that is not
//! local is always possible; the relay policy decides. More than 25 levels is a configuration
//! error.
//!
//! Only a permission refusal of a list member stops the list; members that are unknown, inactive
//! or too deep are ignored here (as in hMailServer) and simply receive nothing. A list met again
//! at the same or a deeper level is not walked again: hMailServer would re-walk it up to the
//! depth limit (exponentially for self-containing lists) and reach the same verdict.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use altimail_core::codes::ListMode;
use altimail_store::StoreError;
use altimail_store::repo::lists::List;

use super::MAX_DEPTH;
use super::address::{domain_of, same};
use super::directory::Directory;
use super::reply::Refusal;

type Boxed<'s, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 's>>;

/// hMailServer's `DeliveryPossibility`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Possibility {
    Possible,
    /// `DP_RecipientUnknown`, with the reason.
    Unknown(Refusal),
    /// `DP_PermissionDenied`: the sender may not write to a list.
    Denied(Refusal),
}

/// The outcome for the address given in RCPT TO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checked {
    pub possibility: Possibility,
    /// hMailServer's `bTreatSecurityAsLocal`: the RCPT domain is local, or a route covering
    /// the address treats its recipients as local.
    pub recipient_local: bool,
}

pub(crate) struct Checker<'d, 'a> {
    dir: &'d Directory<'a>,
    /// The envelope sender with domain aliases applied.
    sender: String,
    authenticated: bool,
    /// Lists already walked (or being walked), with the lowest level they were walked at.
    walked: HashMap<i64, u32>,
}

impl<'d, 'a> Checker<'d, 'a> {
    pub async fn new(dir: &'d Directory<'a>, sender: &str, authenticated: bool) -> Result<Self, StoreError> {
        let sender = dir.apply_domain_aliases(sender).await?;
        Ok(Checker { dir, sender, authenticated, walked: HashMap::new() })
    }

    /// Checks the address given in RCPT TO.
    pub async fn check_rcpt(&mut self, address: &str) -> Result<Checked, StoreError> {
        self.check(address.to_owned(), 0).await
    }

    /// Checks `address`, counting levels from `level` (0 for RCPT TO, the list's level for a
    /// list member, as hMailServer passes it on).
    fn check<'s>(&'s mut self, address: String, level: u32) -> Boxed<'s, Checked> {
        Box::pin(async move {
            let mut address = address;
            let mut level = level;
            let mut recipient_local = false;
            let done = |possibility, recipient_local| Ok(Checked { possibility, recipient_local });
            loop {
                level += 1;
                if level > MAX_DEPTH {
                    return done(Possibility::Unknown(Refusal::TooManyForwards), recipient_local);
                }
                let primary = self.dir.primary(&address).await?;
                if let Some(domain) = &primary.domain {
                    if level == 1 {
                        // An alias of a local domain pointing outside still counts as local.
                        recipient_local = true;
                    }
                    if !domain.active {
                        return done(Possibility::Unknown(Refusal::DomainDisabled), recipient_local);
                    }
                    if let Some(account) = self.dir.account(&primary.address).await? {
                        let p = if account.active {
                            Possibility::Possible
                        } else {
                            Possibility::Unknown(Refusal::AccountInactive)
                        };
                        return done(p, recipient_local);
                    }
                    if let Some(alias) = self.dir.alias(&primary.address).await? {
                        if !alias.active {
                            return done(Possibility::Unknown(Refusal::AliasInactive), recipient_local);
                        }
                        address = alias.value;
                        continue;
                    }
                    if let Some(list) = self.dir.list(&primary.address).await? {
                        if !list.enabled {
                            return done(Possibility::Unknown(Refusal::ListInactive), recipient_local);
                        }
                        let p = match self.may_send_to_list(&list, level).await? {
                            Some(denied) => Possibility::Denied(denied),
                            None => Possibility::Possible,
                        };
                        return done(p, recipient_local);
                    }
                }
                // Routes match the address as given at this level (before domain aliases).
                if let Some(route) = self.dir.route_for(&address).await? {
                    if route.covers(&address) {
                        if level == 1 {
                            recipient_local = route.treat_recipient_as_local;
                        }
                        return done(Possibility::Possible, recipient_local);
                    }
                    if primary.domain.as_ref().is_none_or(|d| d.catch_all.is_empty()) {
                        return done(Possibility::Unknown(Refusal::NotInRouteList), recipient_local);
                    }
                }
                match primary.domain {
                    Some(d) if !d.catch_all.is_empty() => address = d.catch_all,
                    Some(_) => return done(Possibility::Unknown(Refusal::UnknownUser), recipient_local),
                    None => return done(Possibility::Possible, recipient_local),
                }
            }
        })
    }

    /// `None` when the sender may write to `list` and to every list reachable through it.
    fn may_send_to_list<'s>(&'s mut self, list: &'s List, level: u32) -> Boxed<'s, Option<Refusal>> {
        Box::pin(async move {
            if self.walked.get(&list.id).is_some_and(|&seen| seen <= level) {
                return Ok(None);
            }
            self.walked.insert(list.id, level);
            if list.require_auth && !self.authenticated {
                return Ok(Some(Refusal::ListRequiresAuth));
            }
            if let Some(refusal) = self.sender_refused_by_mode(list).await? {
                return Ok(Some(refusal));
            }
            for member in self.dir.members(list.id).await? {
                if let Possibility::Denied(refusal) = self.check(member, level).await?.possibility {
                    return Ok(Some(refusal));
                }
            }
            Ok(None)
        })
    }

    /// The list mode's rule on who may send.
    async fn sender_refused_by_mode(&self, list: &List) -> Result<Option<Refusal>, StoreError> {
        let allowed = match list.mode {
            ListMode::Public => true,
            ListMode::Announcement => {
                let owner = self.dir.apply_domain_aliases(&list.require_address).await?;
                same(&self.sender, &owner)
            }
            ListMode::DomainMembers => match self.dir.domain_by_id(list.domain_id).await? {
                Some(domain) => same(domain_of(&self.sender), &domain.name),
                None => false,
            },
            ListMode::Membership => {
                let mut member_found = false;
                for member in self.dir.members(list.id).await? {
                    if same(&self.dir.apply_domain_aliases(&member).await?, &self.sender) {
                        member_found = true;
                        break;
                    }
                }
                member_found
            }
        };
        Ok(if allowed {
            None
        } else {
            Some(match list.mode {
                ListMode::Announcement => Refusal::ListNotOwner,
                ListMode::DomainMembers => Refusal::ListNotDomainMember,
                _ => Refusal::ListNotMember,
            })
        })
    }
}
