//! DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030), and the end of a message.
//!
//! A body is always read to its end, even when it will be refused, so the session stays in
//! step with the client: a refused BDAT chunk is counted off and dropped, an oversized DATA body
//! is scanned for its terminator without being stored. The verdict comes after the end; the
//! transaction is over either way. An accepted message goes to the driver as
//! [`Action::Message`], and the `250` waits for [`Session::message_accepted`] so that nothing is
//! acknowledged before it is stored.
//!
//! A large body is not held in memory: once the transaction's body passes
//! [`SessionConfig::stream_threshold`](super::SessionConfig::stream_threshold), what has
//! arrived goes to the driver in [`Action::StreamBody`] and the rest in [`Action::BodyPart`]s of
//! about [`STREAM_PART`] octets, for the driver to write to the message's file as it arrives.
//! The octets handed out are exactly those the in-memory path would have put in
//! [`Message::body`](super::Message::body), in order; a transaction that ends without a message
//! ends its stream with [`Action::DropBody`].

use super::{Action, Pending, Phase, Session, UnexpectedAnswer, replies};
use crate::proto::{BdatReceiver, BdatStatus, DataReceiver, DataStatus, Reply};

/// Octets gathered before a streamed body's next [`Action::BodyPart`].
pub const STREAM_PART: usize = 128 * 1024; // 128 KiB

/// What the session is in the middle of reading, for the driver's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Nothing: between commands, or not reading at all.
    Idle,
    /// Part of a command line (or a SASL response) has arrived.
    Command,
    /// A DATA body or a BDAT chunk.
    Body {
        /// Octets of the transaction's body so far (earlier BDAT chunks included).
        received: u64,
    },
}

/// A BDAT chunk being read.
#[derive(Debug)]
pub(crate) struct BdatChunk {
    pub(crate) receiver: BdatReceiver,
    /// The declared chunk size.
    pub(crate) size: u64,
    /// The message size once this chunk is added.
    pub(crate) total: u64,
    pub(crate) last: bool,
    /// Set when the chunk is refused whatever its content; sent once it has been read.
    pub(crate) refusal: Option<Reply>,
}

/// Where a body stands while the driver decides on it ([`Action::CheckData`]).
#[derive(Debug)]
pub(crate) enum DataStart {
    /// DATA: `354` and read the body once allowed.
    Data,
    /// The first BDAT chunk has been read: its reply (or the message) follows once allowed.
    Bdat { size: u64, last: bool },
}

/// A body that has been read to its end.
#[derive(Debug)]
enum BodyEnd {
    /// The DATA terminator was seen.
    Data(DataReceiver),
    /// A BDAT chunk is complete.
    Bdat(BdatChunk),
}

impl Session {
    pub(super) fn handle_data(&mut self) {
        let Some(tx) = &self.tx else { return self.reply(replies::need_mail()) };
        let refusal = if tx.chunked {
            Some(replies::data_after_bdat())
        } else if tx.recipients.is_empty() {
            Some(replies::no_valid_recipients())
        } else {
            None
        };
        if let Some(reply) = refusal {
            return self.reply(reply);
        }
        if self.config.check_before_data && !tx.data_allowed {
            return self.ask(Action::CheckData, Pending::Data(DataStart::Data));
        }
        self.start_data();
    }

    fn start_data(&mut self) {
        let Some(tx) = &self.tx else { return self.reply(replies::need_mail()) };
        let receiver = DataReceiver::new(tx.size_cap, self.config.max_data_line);
        self.reply(replies::start_data());
        self.phase = Phase::Data(receiver);
    }

    /// The driver's answer to [`Action::CheckData`]: `Ok` to take the body, or the refusal
    /// (e.g. `550` with the first failing test's text), which ends the transaction.
    pub fn data_checked(&mut self, result: Result<(), Reply>) -> Result<(), UnexpectedAnswer> {
        let start = self.answer("data_checked", |pending| match pending {
            Pending::Data(start) => Ok(start),
            other => Err(other),
        })?;
        match result {
            Err(reply) => {
                self.drop_transaction();
                self.reply(reply);
            }
            Ok(()) => {
                if let Some(tx) = &mut self.tx {
                    tx.data_allowed = true;
                }
                match start {
                    DataStart::Data => self.start_data(),
                    DataStart::Bdat { last: true, .. } => self.emit_message(),
                    DataStart::Bdat { size, last: false } => self.reply(replies::chunk_received(size)),
                }
            }
        }
        self.process();
        Ok(())
    }

    pub(super) fn handle_bdat(&mut self, size: u64, last: bool) {
        let refusal = if self.helo.is_none() {
            Some(replies::need_helo())
        } else if self.is_tls_missing() {
            Some(replies::must_start_tls())
        } else {
            match &self.tx {
                None => Some(replies::need_mail()),
                Some(tx) if tx.recipients.is_empty() => Some(replies::no_valid_recipients()),
                Some(_) => None,
            }
        };
        if let Some(reply) = refusal {
            return self.refuse_chunk(size, reply);
        }
        let (room, total) = self.tx.as_ref().map_or((0, size), |tx| {
            let prior = tx.body_len();
            (tx.size_cap.saturating_sub(prior), prior.saturating_add(size))
        });
        let receiver = BdatReceiver::new(size, room);
        self.phase = Phase::Bdat(BdatChunk { receiver, size, total, last, refusal: None });
    }

    /// Feeds pending input to the DATA or BDAT receiver; at the end of the body, decides on it.
    /// Returns `true` when the body ended (more input may be processed).
    pub(super) fn feed_body(&mut self) -> bool {
        let mut scratch = Vec::new();
        let input = self.input.pending();
        let (consumed, ended) = match &mut self.phase {
            Phase::Data(receiver) => {
                let body = self.tx.as_mut().map_or(&mut scratch, |tx| &mut tx.body);
                match receiver.ingest(input, body) {
                    DataStatus::End { consumed } => (consumed, true),
                    DataStatus::NeedMore => (input.len(), false),
                }
            }
            Phase::Bdat(chunk) => {
                let body = match (&chunk.refusal, self.tx.as_mut()) {
                    (None, Some(tx)) => &mut tx.body,
                    _ => &mut scratch,
                };
                match chunk.receiver.ingest(input, body) {
                    BdatStatus::Done { consumed } => (consumed, true),
                    BdatStatus::NeedMore => (input.len(), false),
                }
            }
            _ => return false,
        };
        self.input.consume(consumed);
        self.stream_large_body();
        if !ended {
            return false;
        }
        match std::mem::replace(&mut self.phase, Phase::Command) {
            Phase::Data(receiver) => self.finish_body(BodyEnd::Data(receiver)),
            Phase::Bdat(chunk) => self.finish_body(BodyEnd::Bdat(chunk)),
            other => self.phase = other,
        }
        true
    }

    /// Decides on a body once its end has been read.
    fn finish_body(&mut self, end: BodyEnd) {
        match end {
            BodyEnd::Data(receiver) => {
                let (size, flaws) = (receiver.size(), receiver.flaws());
                let Some(tx) = &self.tx else { return self.reply(replies::need_mail()) };
                let bare = flaws.bare_cr || flaws.bare_lf;
                let refusal = if flaws.too_big {
                    Some(replies::message_too_big(size, tx.size_cap))
                } else if flaws.line_too_long {
                    Some(replies::data_line_too_long())
                } else if bare && !self.config.allow_bare_line_endings {
                    Some(replies::bare_line_endings())
                } else {
                    None
                };
                match refusal {
                    Some(reply) => {
                        self.drop_transaction();
                        self.reply(reply);
                    }
                    None => self.emit_message(),
                }
            }
            BodyEnd::Bdat(chunk) => {
                if let Some(reply) = chunk.refusal {
                    return self.reply(reply);
                }
                let Some(tx) = &mut self.tx else { return self.reply(replies::need_mail()) };
                if chunk.receiver.is_too_big() {
                    let reply = replies::message_too_big(chunk.total, tx.size_cap);
                    self.drop_transaction();
                    return self.reply(reply);
                }
                tx.chunked = true;
                if self.config.check_before_data && !tx.data_allowed {
                    let start = DataStart::Bdat { size: chunk.size, last: chunk.last };
                    return self.ask(Action::CheckData, Pending::Data(start));
                }
                if chunk.last {
                    self.emit_message();
                } else {
                    self.reply(replies::chunk_received(chunk.size));
                }
            }
        }
    }

    /// Hands the body gathered so far to the driver once it is large (see the module
    /// documentation).
    fn stream_large_body(&mut self) {
        let threshold = self.config.stream_threshold;
        let Some(tx) = &mut self.tx else { return };
        let due = if tx.streamed { STREAM_PART } else { threshold };
        if tx.body.len() < due || tx.body.is_empty() {
            return;
        }
        let part = std::mem::take(&mut tx.body);
        tx.streamed_len = tx.streamed_len.saturating_add(part.len() as u64);
        if tx.streamed {
            return self.push(Action::BodyPart(part));
        }
        tx.streamed = true;
        let helo = self.helo.as_ref().map_or((String::new(), false), |helo| (helo.name.clone(), helo.esmtp));
        let envelope = tx.envelope(helo, self.user.clone(), self.tls.clone());
        self.push(Action::StreamBody { envelope: Box::new(envelope), head: part });
    }

    /// Ends the transaction in progress without a message; a streamed body's file goes too.
    pub(super) fn drop_transaction(&mut self) {
        if self.tx.take().is_some_and(|tx| tx.streamed) {
            self.push(Action::DropBody);
        }
    }

    /// What the session is in the middle of reading; see [`Reading`].
    pub fn reading(&self) -> Reading {
        if self.closed {
            return Reading::Idle;
        }
        match &self.phase {
            Phase::Data(receiver) => Reading::Body { received: receiver.size() },
            Phase::Bdat(chunk) => Reading::Body { received: chunk.total.saturating_sub(chunk.receiver.remaining()) },
            Phase::Command | Phase::Sasl(_) if !self.input.pending().is_empty() => Reading::Command,
            _ => Reading::Idle,
        }
    }

    fn emit_message(&mut self) {
        let Some(tx) = self.tx.take() else { return self.reply(replies::need_mail()) };
        let helo = self.helo.as_ref().map_or((String::new(), false), |helo| (helo.name.clone(), helo.esmtp));
        let message = tx.into_message(helo, self.user.clone(), self.tls.clone());
        self.ask(Action::Message(Box::new(message)), Pending::Message);
    }

    /// The driver's answer to [`Action::Message`]: the queue id once the message is stored
    /// durably (`250 2.0.0 Queued as <id>`), or the reply to send instead (e.g.
    /// [`replies::local_error`], or a 554 from a content filter). Either way the transaction is
    /// over.
    pub fn message_accepted(&mut self, result: Result<String, Reply>) -> Result<(), UnexpectedAnswer> {
        self.answer("message_accepted", |pending| match pending {
            Pending::Message => Ok(()),
            other => Err(other),
        })?;
        let reply = match result {
            Ok(queue_id) => replies::queued(&queue_id),
            Err(reply) => reply,
        };
        self.reply(reply);
        self.process();
        Ok(())
    }
}
