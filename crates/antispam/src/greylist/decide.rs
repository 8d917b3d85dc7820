//! The greylisting decision for one recipient (REFERENCE.md §5.8, §5.2).

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};

use altimail_core::ip;
use altimail_dns::Dns;
use altimail_store::StoreError;
use altimail_store::db::Db;
use altimail_store::directory_index::DirectoryIndex;
use altimail_store::repo::domains;
use altimail_store::repo::greylisting::{self, Triplet};
use altimail_store::repo::settings::Settings;

/// `domainantispamoptions` bit: greylisting is on for the domain.
pub const DOMAIN_GREYLISTING: i64 = 1;

/// The greylisting settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `usegreylisting`.
    pub enabled: bool,
    /// `greylistinginitialdelay`: minutes a new triplet is refused.
    pub initial_delay_minutes: i64,
    /// `greylistinginitialdelete`: hours an unconfirmed triplet is kept.
    pub initial_delete_hours: i64,
    /// `greylistingfinaldelete`: hours a passed triplet is kept.
    pub final_delete_hours: i64,
    /// `BypassGreylistingOnSPFSuccess`.
    pub bypass_on_spf_pass: bool,
    /// `BypassGreylistingOnMailFromMX`.
    pub bypass_on_mail_from_mx: bool,
    /// INI `GreylistingEnabledDuringRecordExpiration` (default on): off skips greylisting
    /// while a purge runs.
    pub enabled_during_purge: bool,
}

impl Default for Policy {
    /// hMailServer's defaults (greylisting itself off).
    fn default() -> Self {
        Policy {
            enabled: false,
            initial_delay_minutes: 30,
            initial_delete_hours: 24,
            final_delete_hours: 864,
            bypass_on_spf_pass: true,
            bypass_on_mail_from_mx: false,
            enabled_during_purge: true,
        }
    }
}

impl Policy {
    /// The policy from `hm_settings` (the INI option keeps its default).
    pub fn from_settings(s: &Settings) -> Policy {
        Policy {
            enabled: s.bool("usegreylisting"),
            initial_delay_minutes: s.int("greylistinginitialdelay"),
            initial_delete_hours: s.int("greylistinginitialdelete"),
            final_delete_hours: s.int("greylistingfinaldelete"),
            bypass_on_spf_pass: s.bool("BypassGreylistingOnSPFSuccess"),
            bypass_on_mail_from_mx: s.bool("BypassGreylistingOnMailFromMX"),
            enabled_during_purge: true,
        }
    }
}

/// One recipient of a transaction.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub client: IpAddr,
    /// The envelope sender; empty for `MAIL FROM:<>`.
    pub sender: &'a str,
    /// The recipient as given in RCPT TO (domain aliases are resolved here).
    pub recipient: &'a str,
    /// Whether the SPF test passed for this transaction.
    pub spf_pass: bool,
}

/// Why greylisting did not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// `usegreylisting` is off.
    Disabled,
    /// The recipient's domain is not local or does not have greylisting on.
    DomainOff,
    /// A purge is running and `GreylistingEnabledDuringRecordExpiration` is off.
    Purging,
    /// The client matches `hm_greylisting_whiteaddresses`.
    WhiteListed,
    /// SPF passed and `BypassGreylistingOnSPFSuccess` is on.
    SpfPass,
    /// The client is an A or MX host of the sender's domain (`BypassGreylistingOnMailFromMX`).
    SenderHost,
}

/// The outcome for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Greylisting does not apply.
    Skipped(Skip),
    /// The triplet is new or still blocked: answer with [`reply`].
    Defer,
    /// The triplet's block time has passed: accept.
    Pass,
}

/// The reply to a deferred recipient: `451 Please try again later.` at RCPT; for the null
/// sender hMailServer accepts the RCPT and answers `450 Please try again later.` after DATA.
pub fn reply(null_sender: bool) -> (u16, &'static str) {
    if null_sender { (450, "Please try again later.") } else { (451, "Please try again later.") }
}

/// Set while [`super::purge`] runs.
pub(crate) static PURGING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn split(address: &str) -> Option<(&str, &str)> {
    address.rsplit_once('@')
}

/// `recipient` with its domain replaced by the real domain when it is a domain alias, and the
/// local domain it belongs to, from the store's in-memory directory index (no statement per
/// recipient; the index follows the database within a second).
async fn resolve(db: &Db, recipient: &str) -> Result<Option<(String, domains::Domain)>, StoreError> {
    let Some((local, domain)) = split(recipient) else { return Ok(None) };
    let index = DirectoryIndex::of(db).snapshot(db).await?;
    if let Some(d) = index.domain(domain) {
        return Ok(Some((recipient.to_owned(), d.clone())));
    }
    let Some(d) = index.domain_of_alias(domain) else { return Ok(None) };
    Ok(Some((format!("{local}@{}", d.name), d.clone())))
}

/// Whether greylisting could apply to `recipient` under `policy`: it is on, and the recipient's
/// domain (or the domain a domain alias points to) is local with greylisting on. Lets a caller
/// skip work greylisting alone needs (the SPF lookup for the bypass) for other recipients.
pub async fn applies(db: &Db, policy: &Policy, recipient: &str) -> Result<bool, StoreError> {
    if !policy.enabled {
        return Ok(false);
    }
    Ok(resolve(db, recipient).await?.is_some_and(|(_, d)| d.antispam_options & DOMAIN_GREYLISTING != 0))
}

/// Whether `client` is an A host of the sender's domain or an address of one of its MX hosts.
async fn sender_host(dns: &dyn Dns, sender: &str, client: IpAddr) -> bool {
    let Some((_, domain)) = split(sender) else { return false };
    let mut hosts = vec![domain.to_owned()];
    if let Ok(mx) = dns.mx(domain).await {
        hosts.extend(mx.into_iter().take(10).map(|(_, h)| h));
    }
    for host in hosts {
        let found = match client {
            IpAddr::V4(v4) => dns.a(&host).await.map(|v| v.contains(&v4)).unwrap_or(false),
            IpAddr::V6(v6) => dns.aaaa(&host).await.map(|v| v.contains(&v6)).unwrap_or(false),
        };
        if found {
            return true;
        }
    }
    false
}

/// Decides greylisting for one recipient at `now` (local time, as the table stores it):
/// unknown triplet → stored, blocked until now + initial delay, deleted after the initial
/// delete hours, [`Decision::Defer`]; still blocked → blocked count + 1, Defer; past its block
/// end → passed count + 1, kept for the final delete hours, [`Decision::Pass`].
pub async fn decide(
    db: &Db,
    dns: &dyn Dns,
    policy: &Policy,
    request: &Request<'_>,
    now: NaiveDateTime,
) -> Result<Decision, StoreError> {
    if !policy.enabled {
        return Ok(Decision::Skipped(Skip::Disabled));
    }
    if !policy.enabled_during_purge && PURGING.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(Decision::Skipped(Skip::Purging));
    }
    let Some((recipient, domain)) = resolve(db, request.recipient).await? else {
        return Ok(Decision::Skipped(Skip::DomainOff));
    };
    if domain.antispam_options & DOMAIN_GREYLISTING == 0 {
        return Ok(Decision::Skipped(Skip::DomainOff));
    }
    let client = ip::normalize(request.client);
    if greylisting::white_matches(db, client).await? {
        return Ok(Decision::Skipped(Skip::WhiteListed));
    }
    if policy.bypass_on_spf_pass && request.spf_pass {
        return Ok(Decision::Skipped(Skip::SpfPass));
    }
    if policy.bypass_on_mail_from_mx && !request.sender.is_empty() && sender_host(dns, request.sender, client).await {
        return Ok(Decision::Skipped(Skip::SenderHost));
    }
    match greylisting::find(db, client, request.sender, &recipient).await? {
        None => {
            let t = Triplet {
                id: 0,
                created: now,
                block_end: now + Duration::minutes(policy.initial_delay_minutes.clamp(0, 1 << 30)),
                delete_time: now + Duration::hours(policy.initial_delete_hours.clamp(0, 1 << 20)),
                ip: client,
                sender: request.sender.to_owned(),
                recipient,
                blocked_count: 1,
                passed_count: 0,
            };
            greylisting::insert(db, &t).await?;
            Ok(Decision::Defer)
        }
        Some(mut t) if now < t.block_end => {
            t.blocked_count = t.blocked_count.saturating_add(1);
            greylisting::update(db, &t).await?;
            Ok(Decision::Defer)
        }
        Some(mut t) => {
            t.passed_count = t.passed_count.saturating_add(1);
            t.delete_time = now + Duration::hours(policy.final_delete_hours.clamp(0, 1 << 20));
            greylisting::update(db, &t).await?;
            Ok(Decision::Pass)
        }
    }
}
