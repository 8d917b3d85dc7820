//! One download of one external account: connect, log in, UIDL, RETR what is new, queue it,
//! record its UIDL, DELE per the keep policy, QUIT, forget UIDLs gone from the server.
//!
//! Nothing is lost or fetched twice: a UIDL is recorded right after the spool has made its
//! message durable, so a failure (or crash) at any point re-fetches at most the one message whose
//! UIDL was not yet recorded — and only if the spool had not acknowledged it. Deletions take
//! effect only at a successful QUIT (RFC 1939's UPDATE state); the UID rows of deleted messages
//! are removed only after that, so a dropped connection re-deletes rather than re-downloads.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};

use altimail_core::time::now_local;
use altimail_delivery::resolve::{self, routes};
use altimail_delivery::{NewMessage, Recipient, host_name};
use altimail_net::next_session_id;
use altimail_store::StoreError;
use altimail_store::repo::accounts::{self, Account};
use altimail_store::repo::fetch_accounts::{self, FetchAccount, Security};
use altimail_store::repo::settings::Settings;

use crate::antivirus::Checked;
use crate::client::proto::UidlEntry;
use crate::client::session::{Action, Input, Session, Step, Stls};
use crate::client::{ClientError, Connection};
use crate::mime;
use crate::worker::Fetcher;

/// The largest message accepted from a remote server.
pub const MAX_MESSAGE: usize = 512 * 1024 * 1024;

/// What one download did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Messages downloaded: queued, or deleted by the anti-virus stage.
    pub downloaded: usize,
    /// Messages deleted on the server (at QUIT).
    pub deleted: usize,
    /// UIDLs forgotten because the messages are no longer on the server.
    pub forgotten: usize,
}

/// Why a download stopped; it is retried at the next interval.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Config(String),
    /// A virus scan was required and gave no verdict: the message stays on the server.
    #[error("virus scan failed, the message is left on the server: {0}")]
    Scan(#[from] altimail_antivirus::AvError),
}

impl Fetcher {
    /// Downloads `fa` now (the caller holds its lock).
    pub(crate) async fn download(&self, fa: &FetchAccount) -> Result<Report, FetchError> {
        let db = &self.store.db;
        let account = accounts::get(db, fa.account_id)
            .await?
            .ok_or_else(|| FetchError::Config(format!("account id {} does not exist", fa.account_id)))?;
        let settings = Settings::load(db).await?;
        let verify = settings.bool("VerifyRemoteSslCertificate");
        let tls = altimail_outbound::tls::client_config(verify).map_err(|e| FetchError::Config(format!("TLS: {e}")))?;
        let port = u16::try_from(fa.server_port)
            .map_err(|_| FetchError::Config(format!("invalid port {}", fa.server_port)))?;
        let implicit = (fa.security == Security::Implicit).then(|| tls.clone());
        let session = next_session_id();
        let mut conn =
            Connection::connect(&fa.server_address, port, implicit, MAX_MESSAGE, Some((self.log.clone(), session)))
                .await?;
        let result = self.conversation(&mut conn, fa, &account, &host_name(&settings), tls).await;
        if let Err(e) = &result {
            conn.note(&format!("Error: {e}"));
        }
        conn.shutdown().await;
        result
    }

    async fn conversation(
        &self,
        conn: &mut Connection,
        fa: &FetchAccount,
        account: &Account,
        host: &str,
        tls: std::sync::Arc<rustls::ClientConfig>,
    ) -> Result<Report, FetchError> {
        let db = &self.store.db;
        let stls = match fa.security {
            Security::StartTlsOptional => Stls::IfOffered,
            Security::StartTlsRequired => Stls::Required,
            Security::None | Security::Implicit => Stls::Never,
        };
        let mut session = Session::new(stls, &fa.username, &fa.password);
        let server_ip = conn.peer().ip();
        let mut report = Report::default();
        // UIDL -> hm_fetchaccounts_uids row, for the UIDs recorded before and during this run.
        let mut rows: HashMap<String, i64> = HashMap::new();
        let mut vanished: Vec<i64> = Vec::new();
        let mut input = Input::Start;
        loop {
            input = match session.next(input) {
                Action::ReadStatus => Input::Status(conn.read_status().await?),
                Action::Send(command) => Input::Status(conn.send(&command).await?),
                Action::ReadBody => Input::Body(conn.body().await?),
                Action::StartTls => {
                    conn.start_tls(tls.clone()).await?;
                    Input::TlsReady
                }
                Action::Listing(listing) => {
                    let known = fetch_accounts::uids(db, fa.id).await?;
                    let on_server: HashSet<&str> = listing.iter().map(|e| e.uid.as_str()).collect();
                    vanished = known.iter().filter(|u| !on_server.contains(u.value.as_str())).map(|u| u.id).collect();
                    rows = known.iter().map(|u| (u.value.clone(), u.id)).collect();
                    Input::Planned(plan(&listing, &known, fa.days_to_keep, now_local()))
                }
                Action::Message { uid, body, .. } => {
                    self.deliver(fa, account, host, server_ip, &body).await?;
                    let row = fetch_accounts::add_uid(db, fa.id, &uid, now_local()).await?;
                    rows.insert(uid, row.id);
                    report.downloaded += 1;
                    Input::Delivered
                }
                Action::Done { deleted } => {
                    report.deleted = deleted.len();
                    for id in deleted.iter().filter_map(|uid| rows.get(uid)) {
                        fetch_accounts::delete_uid(db, *id).await?;
                    }
                    break;
                }
                Action::Failed(e) => return Err(e.into()),
            };
        }
        // Messages no longer on the server: their UIDs will not be seen again.
        for id in vanished {
            fetch_accounts::delete_uid(db, id).await?;
            report.forgotten += 1;
        }
        Ok(report)
    }

    /// Queues one downloaded message for the account (or its MIME recipients); `None` when
    /// the anti-virus stage deleted it.
    async fn deliver(
        &self,
        fa: &FetchAccount,
        account: &Account,
        host: &str,
        server_ip: IpAddr,
        raw: &[u8],
    ) -> Result<Option<i64>, FetchError> {
        let checked = self.check_content(fa, host, &account.address, raw).await?;
        let raw = match &checked {
            Checked::Keep => raw,
            Checked::Replace(message) => message.as_slice(),
            Checked::Drop => return Ok(None),
        };
        let mut recipients = Vec::new();
        if fa.process_mime_recipients {
            recipients = self.mime_recipients(fa, raw).await?;
        }
        if recipients.is_empty() {
            recipients.push(Recipient::local(&account.address, account.id, &account.address));
        }
        let date = chrono::Local::now().to_rfc2822();
        let ours = format!(
            "Received: from {} ({server_ip}) by {host} with POP3; {date}\r\nX-hMailServer-ExternalAccount: {}\r\n",
            fa.server_address.replace(['\r', '\n'], " "),
            fa.name.replace(['\r', '\n'], " ")
        );
        let message = NewMessage {
            sender: mime::sender(raw),
            recipients,
            extras: Default::default(),
            data: mime::prepend(&ours, raw),
        };
        Ok(Some(self.spool.submit(message).await?))
    }

    /// Local recipients (and, when allowed, route recipients) named in the configured headers.
    async fn mime_recipients(&self, fa: &FetchAccount, raw: &[u8]) -> Result<Vec<Recipient>, FetchError> {
        let db = &self.store.db;
        let names: Vec<&str> = fa.mime_recipient_headers.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
        let all_routes = if fa.enable_route_recipients { routes::list(db).await? } else { Vec::new() };
        let mut found: Vec<resolve::Recipient> = Vec::new();
        for value in mime::header_values(raw, &names) {
            for address in mime::addresses(&value) {
                let expanded = match resolve::expand(db, &address).await {
                    Ok(r) => r,
                    Err(resolve::ResolveError::Store(e)) => return Err(e.into()),
                    Err(resolve::ResolveError::Refused(_)) => continue,
                };
                let wanted = expanded
                    .into_iter()
                    .filter(|r| r.is_local() || (fa.enable_route_recipients && is_routed(&all_routes, &r.address)));
                resolve::merge(&mut found, wanted);
            }
        }
        Ok(found.iter().map(|r| Recipient::local(&r.address, r.account_id, &r.original_address)).collect())
    }
}

fn is_routed(all: &[routes::Route], address: &str) -> bool {
    let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
    routes::for_domain(all, domain).is_some_and(|r| r.covers(address))
}

/// What to do with each listed message: fetch those not yet recorded (a UIDL listed twice
/// once), delete per the keep policy (a new message counts as downloaded `now`).
pub fn plan(listing: &[UidlEntry], known: &[fetch_accounts::Uid], days_to_keep: i64, now: NaiveDateTime) -> Vec<Step> {
    let recorded: HashMap<&str, NaiveDateTime> = known.iter().map(|u| (u.value.as_str(), u.time)).collect();
    let mut seen = HashSet::new();
    listing
        .iter()
        .filter(|e| seen.insert(e.uid.as_str()))
        .map(|e| {
            let time = recorded.get(e.uid.as_str()).copied();
            Step {
                number: e.number,
                uid: e.uid.clone(),
                fetch: time.is_none(),
                delete: should_delete(days_to_keep, time.unwrap_or(now), now),
            }
        })
        .collect()
}

/// The keep policy: -1 delete at once, 0 never, N once the message was downloaded N days ago.
pub fn should_delete(days_to_keep: i64, downloaded: NaiveDateTime, now: NaiveDateTime) -> bool {
    match days_to_keep {
        d if d < 0 => true,
        0 => false,
        d => downloaded + Duration::days(d) <= now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_fetch_new_and_delete_by_age() {
        let now = now_local();
        let listing: Vec<UidlEntry> = ["old", "new", "recent", "new"]
            .iter()
            .enumerate()
            .map(|(n, u)| UidlEntry { number: n as u32 + 1, uid: (*u).into() })
            .collect();
        let uid = |v: &str, days| fetch_accounts::Uid {
            id: 0,
            fetch_account_id: 1,
            value: v.into(),
            time: now - Duration::days(days),
        };
        let known = [uid("old", 10), uid("recent", 1), uid("gone", 30)];
        let p = plan(&listing, &known, 5, now);
        let got: Vec<(u32, bool, bool)> = p.iter().map(|s| (s.number, s.fetch, s.delete)).collect();
        assert_eq!(got, [(1, false, true), (2, true, false), (3, false, false)]);
        let p = plan(&listing, &known, -1, now);
        assert!(p.iter().all(|s| s.delete));
        let p = plan(&listing, &known, 0, now);
        assert!(p.iter().all(|s| !s.delete));
    }

    #[test]
    fn keep_policy() {
        let now = now_local();
        assert!(should_delete(-1, now, now));
        assert!(!should_delete(0, now - Duration::days(999), now));
        assert!(!should_delete(3, now - Duration::days(2), now));
        assert!(should_delete(3, now - Duration::days(3), now));
    }
}
