//! Whole POP3 dialogues run through the session with a scripted driver and no I/O.

mod auth;
mod dialogue;
mod limits;
mod splits;
mod stls;
mod update;

use std::collections::BTreeMap;

use super::*;
use crate::proto::{Credentials, Method};

/// The RFC 1939 §7 APOP example: this digest answers [`TIMESTAMP`] for the secret `tanstaaf`.
pub(super) const TIMESTAMP: &str = "<1896.697170952@dbc.mtview.ca.us>";
pub(super) const DIGEST: &str = "c4c9334bac560ecc979e58001b3e22fb";

/// The stored messages of the scripted maildrop, by id: message 3's file is missing and
/// message 4's cannot be read now.
pub(super) fn stored() -> BTreeMap<i64, &'static [u8]> {
    BTreeMap::from([
        (11, &b"Subject: one\r\n\r\nHello\r\n.dot line\r\nbye"[..]),
        (12, &b"Subject: two\r\nX: y\r\n\r\nline 1\nline 2\nline 3\n"[..]),
        (13, &b""[..]),
        (14, &b""[..]),
    ])
}

/// A driver that answers every request by a fixed script:
///
/// - the password `secret` is right (APOP: [`DIGEST`] for `mrose`); user `banned@x` is banned,
///   user `tempfail@x` fails temporarily; an authzid is refused;
/// - the maildrop of `locked@x` is in use, that of `broken@x` unreadable, every other one holds
///   the messages of [`stored`] with UIDs 101–104;
/// - message 13's file is missing, message 14's cannot be read;
/// - QUIT deletions fail for `commitfail@x`;
/// - STLS succeeds at once.
pub(super) struct Harness {
    pub(super) session: Session,
    pub(super) credentials: Vec<Credentials>,
    /// `close`, `starttls`, `open <user>`, `commit <ids>`, `recv <line>`.
    pub(super) events: Vec<String>,
    pub(super) greeting: String,
    user: Option<String>,
    opened: Option<i64>,
}

pub(super) fn config() -> SessionConfig {
    SessionConfig::new()
}

pub(super) fn entries() -> Vec<MailboxEntry> {
    stored()
        .iter()
        .map(|(&id, content)| MailboxEntry {
            id,
            size: if content.is_empty() { 999 } else { content.len() as u64 },
            uid: (id + 90).to_string(),
        })
        .collect()
}

impl Harness {
    pub(super) fn new(config: SessionConfig) -> Self {
        let mut harness = Harness {
            session: Session::new(config),
            credentials: Vec::new(),
            events: Vec::new(),
            greeting: String::new(),
            user: None,
            opened: None,
        };
        harness.greeting = harness.drive();
        harness
    }

    /// A session logged on as `john@example.com`, with everything said so far discarded.
    pub(super) fn logged_in() -> Self {
        let mut harness = Harness::new(config());
        let out = harness.send("USER john@example.com\r\nPASS secret\r\n");
        assert_eq!(out, "+OK Send your password\r\n+OK Mailbox locked and ready\r\n");
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
                Action::Reply(response) => response.write_to(&mut wire),
                Action::StartTls => {
                    self.events.push("starttls".into());
                    self.session.tls_started().unwrap();
                }
                Action::Authenticate(credentials) => {
                    let right = match credentials.method {
                        Method::Apop => {
                            credentials.username == "mrose"
                                && credentials.password.expose() == DIGEST
                                && credentials.timestamp.as_deref() == Some(TIMESTAMP)
                        }
                        Method::User | Method::Plain => {
                            credentials.password.expose() == "secret" && credentials.authzid.is_none()
                        }
                    };
                    let result = match credentials.username.as_str() {
                        "banned@x" => Err(AuthFailure::Banned),
                        "tempfail@x" => Err(AuthFailure::TempFail),
                        user if right => Ok(user.to_ascii_lowercase()),
                        _ => Err(AuthFailure::Bad),
                    };
                    self.credentials.push(credentials);
                    self.session.auth_result(result).unwrap();
                }
                Action::OpenMailbox(user) => {
                    self.events.push(format!("open {user}"));
                    let result = match user.as_str() {
                        "locked@x" => Err(MailboxFailure::InUse),
                        "broken@x" => Err(MailboxFailure::TempFail),
                        _ => Ok(entries()),
                    };
                    self.user = Some(user);
                    self.session.mailbox_opened(result).unwrap();
                }
                Action::OpenMessage(entry) => {
                    let result = match entry.id {
                        13 => Err(MessageFailure::Missing),
                        14 => Err(MessageFailure::TempFail),
                        id => {
                            self.opened = Some(id);
                            Ok(())
                        }
                    };
                    self.session.message_opened(result).unwrap();
                }
                Action::SendMessage(mut encoder) => {
                    let id = self.opened.take().expect("a message was opened");
                    let content = stored().get(&id).copied().unwrap_or_default();
                    for chunk in content.chunks(3) {
                        if encoder.is_done() {
                            break;
                        }
                        encoder.encode(chunk, &mut wire);
                    }
                    encoder.finish(&mut wire);
                }
                Action::Commit(ids) => {
                    self.events.push(format!("commit {ids:?}"));
                    let result = if self.user.as_deref() == Some("commitfail@x") { Err(CommitFailed) } else { Ok(()) };
                    self.session.committed(result).unwrap();
                }
                Action::Close => self.events.push("close".into()),
                Action::Received(line) => self.events.push(format!("recv {line}")),
            }
        }
        String::from_utf8(wire).expect("responses are UTF-8")
    }

    pub(super) fn closed(&self) -> bool {
        self.events.iter().any(|e| e == "close")
    }
}

/// The status of each response in `wire`: `+OK`, `-ERR`, `-ERR [CODE]` (RFC 2449) or `+`. Lines
/// of multi-line responses are skipped (they never start with a status in these tests).
pub(super) fn statuses(wire: &str) -> Vec<String> {
    wire.split_terminator("\r\n")
        .filter_map(|line| {
            let mut words = line.split(' ');
            let status = words.next()?;
            match (status, words.next()) {
                ("-ERR", Some(code)) if code.starts_with('[') => Some(format!("-ERR {code}")),
                ("+OK" | "-ERR" | "+", _) => Some(status.to_owned()),
                _ => None,
            }
        })
        .collect()
}
