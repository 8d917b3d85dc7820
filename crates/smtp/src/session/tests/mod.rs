//! Whole SMTP dialogues run through the session with a scripted driver and no I/O.

mod auth;
mod check_data;
mod data;
mod dialogue;
mod limits;
mod splits;
mod starttls;
mod streaming;

use super::*;
use crate::proto::{Credentials, Mailbox};

/// A driver that answers every request by a fixed script:
///
/// - senders whose local part is `blocked` are refused with 550 5.7.1;
/// - recipients whose local part starts with `unknown` are refused with 550 5.1.1;
/// - the password `secret` is right (for CRAM-MD5: the digest keyed with `secret`), user `banned`
///   is banned, user `tempfail` fails temporarily;
/// - messages are queued as `Q1`, `Q2`…, a streamed body put back together first (the
///   message is kept with `streamed` set and its whole body); ETRN is started;
/// - the body of a sender whose local part is `spammer` is refused at DATA (or the first BDAT
///   chunk) when [`SessionConfig::check_before_data`] is on;
/// - STARTTLS succeeds at once.
pub(super) struct Harness {
    pub(super) session: Session,
    pub(super) messages: Vec<Message>,
    pub(super) credentials: Vec<Credentials>,
    /// `close`, `starttls`, `sender <addr>`, `rcpt <addr>`, `etrn <node>`, `recv <line>`,
    /// `stream`, `drop body`.
    pub(super) events: Vec<String>,
    /// The streamed body so far, as the driver's file would hold it.
    pub(super) stream: Option<Vec<u8>>,
    /// The largest body part handed out.
    pub(super) largest_part: usize,
    pub(super) greeting: String,
}

pub(super) fn config() -> SessionConfig {
    let mut config = SessionConfig::new("mx.example.com");
    config.max_message_size = 10_000;
    config
}

pub(super) fn tls_info() -> TlsInfo {
    TlsInfo { version: "TLSv1.3".into(), cipher: "TLS_AES_256_GCM_SHA384".into(), bits: Some(256) }
}

impl Harness {
    pub(super) fn new(config: SessionConfig) -> Self {
        let mut harness = Harness {
            session: Session::new(config),
            messages: Vec::new(),
            credentials: Vec::new(),
            events: Vec::new(),
            stream: None,
            largest_part: 0,
            greeting: String::new(),
        };
        harness.greeting = harness.drive();
        harness
    }

    /// Feeds `input` and returns everything written to the client in response.
    pub(super) fn send(&mut self, input: impl AsRef<[u8]>) -> String {
        self.session.handle_input(input.as_ref());
        self.drive()
    }

    /// Feeds `input` in `chunks`, driving after each.
    pub(super) fn send_chunks(&mut self, chunks: &[&[u8]]) -> String {
        chunks.iter().map(|chunk| self.send(chunk)).collect()
    }

    /// Carries out every action, answering by the script.
    pub(super) fn drive(&mut self) -> String {
        let mut wire = Vec::new();
        while let Some(action) = self.session.poll_action() {
            match action {
                Action::Reply(reply) => reply.write_to(&mut wire),
                Action::StartTls => {
                    self.events.push("starttls".into());
                    self.session.tls_started(tls_info()).unwrap();
                }
                Action::Authenticate(credentials) => {
                    let right = match &credentials.challenge {
                        Some(challenge) => {
                            altimail_core::password::cram_md5_verify("secret", challenge, credentials.password.expose())
                        }
                        None => credentials.password.expose() == "secret",
                    };
                    let result = match credentials.username.as_str() {
                        "banned" => Err(AuthFailure::Banned),
                        "tempfail" => Err(AuthFailure::TempFail),
                        user if right && credentials.authzid.is_none() => Ok(user.to_owned()),
                        _ => Err(AuthFailure::Bad),
                    };
                    self.credentials.push(credentials);
                    self.session.auth_result(result).unwrap();
                }
                Action::CheckSender { sender, .. } => {
                    self.events.push(format!("sender {sender}"));
                    let blocked = sender.mailbox().is_some_and(|m| m.local() == "blocked");
                    let result = if blocked { Err(Reply::new(550, Some((5, 7, 1)), "Blocked")) } else { Ok(()) };
                    self.session.sender_checked(result).unwrap();
                }
                Action::CheckRecipient { recipient, .. } => {
                    self.events.push(format!("rcpt {recipient}"));
                    let result =
                        if recipient.local().starts_with("unknown") { Err(replies::unknown_user()) } else { Ok(()) };
                    self.session.recipient_checked(result).unwrap();
                }
                Action::CheckHelo { name, .. } => {
                    self.events.push(format!("helo {name}"));
                    let result = if name.starts_with("refused") {
                        Err(Reply::new(453, Some((4, 7, 1)), "Try later"))
                    } else {
                        Ok(())
                    };
                    self.session.helo_checked(result).unwrap();
                }
                Action::CheckData => {
                    let spammer = self
                        .session
                        .transaction()
                        .and_then(|tx| tx.sender().mailbox())
                        .is_some_and(|m| m.local() == "spammer");
                    self.events.push("check data".into());
                    let result =
                        if spammer { Err(Reply::new(550, Some((5, 7, 1)), "Blocked by SPF. (test)")) } else { Ok(()) };
                    self.session.data_checked(result).unwrap();
                }
                Action::StreamBody { head, .. } => {
                    assert!(self.stream.is_none(), "one stream at a time");
                    self.events.push("stream".into());
                    self.largest_part = self.largest_part.max(head.len());
                    self.stream = Some(head);
                }
                Action::BodyPart(part) => {
                    self.largest_part = self.largest_part.max(part.len());
                    self.stream.as_mut().expect("a part follows StreamBody").extend_from_slice(&part);
                }
                Action::DropBody => {
                    self.stream.take().expect("DropBody follows StreamBody");
                    self.events.push("drop body".into());
                }
                Action::Message(mut message) => {
                    if message.streamed {
                        let mut whole = self.stream.take().expect("a streamed message follows StreamBody");
                        whole.extend_from_slice(&message.body);
                        message.body = whole;
                    }
                    self.messages.push(*message);
                    let id = format!("Q{}", self.messages.len());
                    self.session.message_accepted(Ok(id)).unwrap();
                }
                Action::Etrn(node) => {
                    self.events.push(format!("etrn {node}"));
                    let reply = replies::etrn_started(&node);
                    self.session.etrn_result(reply).unwrap();
                }
                Action::Close => self.events.push("close".into()),
                Action::Received(line) => self.events.push(format!("recv {line}")),
            }
        }
        String::from_utf8(wire).expect("replies are UTF-8")
    }

    pub(super) fn closed(&self) -> bool {
        self.events.iter().any(|e| e == "close")
    }

    /// EHLO, MAIL FROM and one RCPT TO, all accepted.
    pub(super) fn open_transaction(&mut self) {
        let out = self.send("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n");
        assert_eq!(codes(&out), [250, 250, 250], "{out}");
    }
}

/// The code of each reply in `wire` (one per final line).
pub(super) fn codes(wire: &str) -> Vec<u16> {
    wire.split("\r\n")
        .filter(|line| line.as_bytes().get(3) == Some(&b' '))
        .filter_map(|line| line.get(..3)?.parse().ok())
        .collect()
}

pub(super) fn mailbox(address: &str) -> Mailbox {
    Mailbox::parse(address).unwrap()
}
