//! The IMAP server of Altimail: IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) with the modern
//! extensions, on hMailServer's mailboxes.
//!
//! [`ImapServer`] is the `SessionHandler` for IMAP ports. Per connection it drives the sans-IO
//! core of `altimail-imap` (the command assembler and parser, the selected-mailbox view, the
//! message structure and the search engine) against the store, owning the socket, TLS and the
//! timeouts. Changes made by other sessions, by SMTP delivery and by POP3 reach a selected
//! mailbox through the store's change bus, and IDLE pushes them as they happen.
//!
//! Layout, one command family per file:
//!
//! * `session`: the connection loop, reading commands, dispatch, untagged updates, logging.
//! * `auth`: LOGIN and AUTHENTICATE PLAIN, the first-login folder set-up.
//! * `mailboxes`: CREATE, DELETE, RENAME, SUBSCRIBE, LIST, LSUB, STATUS, NAMESPACE.
//! * `select`: SELECT, EXAMINE, CLOSE, UNSELECT, and re-synchronising the view.
//! * `fetch`: FETCH and the message-structure cache.
//! * `flags`: STORE.
//! * `search`: SEARCH, SORT, THREAD.
//! * `transfer`: APPEND, COPY, MOVE, EXPUNGE.
//! * `junk`: teaching the Bayesian filter from what is filed into and out of `\Junk`.
//! * `acl` and `quota`: RFC 4314 and RFC 9208 on hMailServer's data.
//! * `names`: paths and the folder trees (LIST patterns are `altimail_imap::list_pattern`).
//!   `config`: the settings of a connection. `panic_guard`: a panicking command is answered
//!   and logged, and ends its session, never the process or the connection silently.

#![warn(unreachable_pub)]

mod acl;
mod auth;
mod config;
mod fetch;
mod flags;
mod junk;
mod mailboxes;
mod names;
mod panic_guard;
mod quota;
mod search;
mod select;
mod session;
mod transfer;

use std::future::Future;
use std::pin::Pin;

use altimail_net::{Connection, SessionHandler};
use altimail_store::Store;

/// The IMAP service: one per server, shared by every connection.
#[derive(Debug, Clone)]
pub struct ImapServer {
    store: Store,
    trainer: Option<junk::Trainer>,
}

impl ImapServer {
    /// An IMAP service on this store. Within a tokio runtime, it starts the task that teaches
    /// the Bayesian filter from the Junk folders.
    pub fn new(store: Store) -> Self {
        let trainer = junk::Trainer::start(store.clone());
        ImapServer { store, trainer }
    }
}

impl SessionHandler for ImapServer {
    fn handle(&self, conn: Connection) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let store = self.store.clone();
        let trainer = self.trainer.clone();
        Box::pin(async move {
            let peer = conn.peer_ip();
            // Commands are guarded one by one; this catches what happens between them.
            if let Err(panic) = panic_guard::catch_panic(session::run(store, conn, trainer)).await {
                tracing::error!("imap: {peer}: session panicked: {panic}");
            }
        })
    }
}
