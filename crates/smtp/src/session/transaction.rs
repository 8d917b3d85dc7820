//! The mail transaction in progress: from an accepted MAIL FROM to the end of the body.

use super::action::{Envelope, Message, Recipient};
use super::config::TlsInfo;
use crate::proto::{MailParams, ReversePath};

/// The transaction in progress, readable by the driver (for relay decisions at RCPT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub(crate) sender: ReversePath,
    pub(crate) params: MailParams,
    pub(crate) recipients: Vec<Recipient>,
    /// The body octets not yet handed to the driver (all of it, unless streamed).
    pub(crate) body: Vec<u8>,
    /// Body octets already handed to the driver in [`Action::StreamBody`](super::Action::StreamBody)
    /// and [`Action::BodyPart`](super::Action::BodyPart).
    pub(crate) streamed_len: u64,
    /// The body passed the stream threshold: the driver holds its file.
    pub(crate) streamed: bool,
    /// BDAT was used: DATA is no longer allowed (RFC 3030 §2).
    pub(crate) chunked: bool,
    /// The message size limit for this transaction, in octets.
    pub(crate) size_cap: u64,
    /// The driver has allowed the body ([`Action::CheckData`](super::Action::CheckData)).
    pub(crate) data_allowed: bool,
}

impl Transaction {
    pub(crate) fn new(sender: ReversePath, params: MailParams, size_cap: u64) -> Self {
        Transaction {
            sender,
            params,
            recipients: Vec::new(),
            body: Vec::new(),
            streamed_len: 0,
            streamed: false,
            chunked: false,
            size_cap,
            data_allowed: false,
        }
    }

    /// The accepted sender.
    pub fn sender(&self) -> &ReversePath {
        &self.sender
    }

    /// The MAIL FROM parameters.
    pub fn params(&self) -> &MailParams {
        &self.params
    }

    /// The recipients accepted so far.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// The message size limit in force, in octets.
    pub fn size_limit(&self) -> u64 {
        self.size_cap
    }

    /// Octets of body received so far (BDAT chunks), streamed ones included.
    pub fn body_len(&self) -> u64 {
        self.streamed_len.saturating_add(self.body.len() as u64)
    }

    /// The envelope so far, with what the session knows about the connection.
    pub(crate) fn envelope(
        &self,
        helo: (String, bool),
        authenticated: Option<String>,
        tls: Option<TlsInfo>,
    ) -> Envelope {
        Envelope {
            helo: helo.0,
            esmtp: helo.1,
            sender: self.sender.clone(),
            params: self.params.clone(),
            recipients: self.recipients.clone(),
            authenticated,
            tls,
            chunked: self.chunked,
        }
    }

    /// The complete message (or, when streamed, its envelope and the rest of its body).
    pub(crate) fn into_message(
        self,
        helo: (String, bool),
        authenticated: Option<String>,
        tls: Option<TlsInfo>,
    ) -> Message {
        let envelope = self.envelope(helo, authenticated, tls);
        Message { envelope, body: self.body, streamed: self.streamed }
    }
}
