//! The script events of an SMTP session, at hMailServer's points (REFERENCE.md §7):
//! OnClientConnect before the greeting, OnHELO, OnClientLogon after AUTH, OnRecipientUnknown,
//! OnSMTPData before the 354 (after the anti-spam tests before transmission), OnAcceptMessage
//! at the end of the data stages (after anti-spam and anti-virus, before the message is
//! stored), OnTooManyInvalidCommands. Each is one stage of the session's sequence; the
//! scripts themselves run off the async threads ([`Scripts::fire`]).

use std::sync::Arc;

use altimail_delivery::Recipient as QueuedRecipient;
use altimail_net::Connection;
use altimail_scripting::{Arg, ClientInfo, EventResult, MessageInfo, MessageObject, ScriptRecipient};
use altimail_store::repo::settings::Settings;

pub use altimail_scripting::{Event, Scripts};

use crate::proto::Reply;
use crate::session::Session;

/// `oClient` for this session as it stands.
pub fn client(conn: &Connection, session: Option<&Session>) -> ClientInfo {
    let tls = session.and_then(|s| s.tls().cloned()).or_else(|| super::config::tls_info(conn));
    ClientInfo {
        ip_address: conn.peer_ip().to_string(),
        port: conn.local.port(),
        username: session.and_then(|s| s.authenticated_user()).unwrap_or_default().to_owned(),
        helo: session.and_then(|s| s.helo()).unwrap_or_default().to_owned(),
        authenticated: session.is_some_and(|s| s.authenticated_user().is_some()),
        encrypted: tls.is_some(),
        cipher_version: tls.as_ref().map(|t| t.version.clone()).unwrap_or_default(),
        cipher_name: tls.as_ref().map(|t| t.cipher.clone()).unwrap_or_default(),
        cipher_bits: tls.as_ref().and_then(|t| t.bits).map(i32::from).unwrap_or(0),
        session_id: conn.session_id,
    }
}

/// hMailServer's answers to Result.Value for OnHELO, OnSMTPData and OnAcceptMessage:
/// 1 `554 Rejected`, 2 `554 <Result.Message>`, 3 `453 <Result.Message>`; anything else goes on.
pub fn refusal(result: Option<&EventResult>) -> Option<Reply> {
    let r = result?;
    let text = || if r.message.is_empty() { "Rejected".to_owned() } else { r.message.clone() };
    match r.value {
        1 => Some(Reply::new(554, Some((5, 7, 1)), "Rejected")),
        2 => Some(Reply::new(554, Some((5, 7, 1)), text())),
        3 => Some(Reply::new(453, Some((4, 7, 1)), text())),
        _ => None,
    }
}

/// The envelope recipients as scripts see them.
pub fn recipients(list: &[QueuedRecipient]) -> Vec<ScriptRecipient> {
    list.iter()
        .map(|r| ScriptRecipient {
            address: r.address.clone(),
            original_address: r.original.clone(),
            is_local_user: r.account_id != 0,
        })
        .collect()
}

/// `oMessage` for a transaction: its envelope, and `raw` when the body is there.
pub fn message(sender: &str, list: &[QueuedRecipient], raw: Vec<u8>) -> Arc<MessageObject> {
    MessageObject::new(MessageInfo {
        from_address: sender.to_owned(),
        recipients: recipients(list),
        raw,
        ..MessageInfo::default()
    })
}

/// Raises `event` when scripts are configured; `None` otherwise.
pub async fn fire(scripts: Option<&Scripts>, settings: &Settings, event: Event, args: Vec<Arg>) -> Option<EventResult> {
    scripts?.fire(settings, event, args).await
}

/// `oClient` as a handler argument.
pub fn client_arg(conn: &Connection, session: Option<&Session>) -> Arg {
    Arg::Client(client(conn, session))
}
