//! The SMTP client as a sans-IO state machine: it is fed replies and answers with what to do
//! next ([`Action`]); the tokio driver ([`crate::driver`]) only moves bytes.
//!
//! One [`Client`] carries one transaction: greeting, EHLO (HELO when EHLO is refused and nothing
//! needs ESMTP), STARTTLS, AUTH PLAIN or LOGIN, MAIL with the SIZE/BODY/SMTPUTF8 parameters the
//! peer offers, one RCPT per recipient, then DATA (dot-stuffed) or BDAT when CHUNKING is offered.
//! Every failure is decided in [`Client::fail_all`] / [`Status`]: 5xx is permanent, 4xx and a
//! lost connection are temporary.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::reply::Reply;
use crate::wire;

/// How the connection is protected (after TCP connect; implicit TLS is the driver's job).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTls {
    Never,
    /// Use STARTTLS when offered; without it deliver in clear text.
    Opportunistic,
    /// Fail when STARTTLS is not offered or fails.
    Required,
}

/// Who we are and how to talk to this peer.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Name sent in EHLO/HELO.
    pub helo: String,
    pub starttls: StartTls,
    /// Whether the connection is already TLS (implicit TLS, port 465).
    pub tls_from_start: bool,
    /// AUTH credentials (user, password).
    pub auth: Option<(String, String)>,
}

/// One transaction's envelope and content.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Envelope sender; empty for the null sender.
    pub sender: String,
    pub recipients: Vec<String>,
    /// The message as stored (line ends are normalised on the way out).
    pub data: Vec<u8>,
    /// The client asked for SMTPUTF8 when submitting.
    pub smtputf8: bool,
}

impl Envelope {
    fn needs_smtputf8(&self) -> bool {
        !self.sender.is_ascii() || self.recipients.iter().any(|r| !r.is_ascii())
    }

    fn eight_bit(&self) -> bool {
        !self.data.is_ascii()
    }
}

/// Why a recipient was not delivered: what we sent and what the peer (or the network) said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The command that failed, as sent (`RCPT TO:<a@b>`), or "" for a connection problem.
    pub command: String,
    /// The peer's reply on one line, or our description of the failure.
    pub reply: String,
}

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Delivered,
    /// Retry later (4xx, connection lost).
    Temporary(Failure),
    /// Give up (5xx).
    Permanent(Failure),
}

/// The end of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// One status per envelope recipient, in order.
    pub recipients: Vec<Status>,
    /// The host could not be used at all (greeting, EHLO, TLS or the connection failed
    /// before MAIL): the next host may do better.
    pub try_next_host: bool,
    /// Whether QUIT should still be sent.
    pub quit: bool,
}

/// What the driver feeds the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Reply(Reply),
    /// The TLS handshake after STARTTLS succeeded.
    TlsReady,
    /// The connection failed (I/O error, timeout, TLS handshake, malformed reply).
    Broken(String),
}

/// What the client wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes, then read one reply. `log` is the line for the SMTPC log.
    Send { bytes: Vec<u8>, log: String },
    /// Start the TLS handshake, then feed [`Input::TlsReady`].
    StartTls,
    /// The transaction is over.
    Done(Outcome),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Ehlo { after_tls: bool },
    Helo,
    StartTls,
    TlsHandshake,
    AuthPlain,
    AuthLogin(u8),
    Mail,
    Rcpt(usize),
    Data,
    Body,
    Finished,
}

/// Capabilities from the EHLO reply.
#[derive(Debug, Default, Clone)]
struct Caps {
    starttls: bool,
    auth_plain: bool,
    auth_login: bool,
    size: Option<u64>,
    eight_bit: bool,
    smtputf8: bool,
    chunking: bool,
}

impl Caps {
    fn from_ehlo(reply: &Reply) -> Caps {
        let mut c = Caps::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else { continue };
            match keyword.to_ascii_uppercase().as_str() {
                "STARTTLS" => c.starttls = true,
                "8BITMIME" => c.eight_bit = true,
                "SMTPUTF8" => c.smtputf8 = true,
                "CHUNKING" => c.chunking = true,
                "SIZE" => c.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0)),
                "AUTH" => {
                    for m in words {
                        c.auth_plain |= m.eq_ignore_ascii_case("PLAIN");
                        c.auth_login |= m.eq_ignore_ascii_case("LOGIN");
                    }
                }
                _ => {}
            }
        }
        c
    }
}

/// The state machine of one SMTP client transaction.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    envelope: Envelope,
    state: State,
    caps: Caps,
    tls: bool,
    status: Vec<Option<Status>>,
    last_command: String,
}

impl Client {
    pub fn new(config: ClientConfig, envelope: Envelope) -> Self {
        let n = envelope.recipients.len();
        let tls = config.tls_from_start;
        Client {
            config,
            envelope,
            state: State::Greeting,
            caps: Caps::default(),
            tls,
            status: vec![None; n],
            last_command: String::new(),
        }
    }

    /// Whether the connection is protected by TLS now.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Advances on `input`.
    pub fn handle(&mut self, input: Input) -> Action {
        let reply = match input {
            Input::Reply(r) => r,
            Input::TlsReady if self.state == State::TlsHandshake => {
                self.tls = true;
                return self.ehlo(true);
            }
            Input::TlsReady => return self.fail_all(false, "unexpected TLS handshake".into(), true, false),
            Input::Broken(why) => {
                let before_mail = matches!(
                    self.state,
                    State::Greeting | State::Ehlo { .. } | State::Helo | State::StartTls | State::TlsHandshake
                );
                return self.fail_all(false, why, before_mail, false);
            }
        };
        match self.state {
            State::Greeting => {
                if reply.code != 220 {
                    return self.fail_reply(&reply, true);
                }
                self.ehlo(false)
            }
            State::Ehlo { after_tls } => {
                if reply.code == 250 {
                    self.caps = Caps::from_ehlo(&reply);
                    return self.after_ehlo(after_tls);
                }
                let needs_esmtp = self.config.auth.is_some() || self.config.starttls == StartTls::Required;
                if reply.is_permanent() && !after_tls && !needs_esmtp {
                    self.state = State::Helo;
                    return self.send(format!("HELO {}", self.config.helo));
                }
                self.fail_reply(&reply, true)
            }
            State::Helo => {
                if reply.code != 250 {
                    return self.fail_reply(&reply, true);
                }
                self.caps = Caps::default();
                self.mail()
            }
            State::StartTls => {
                if reply.code == 220 {
                    self.state = State::TlsHandshake;
                    return Action::StartTls;
                }
                if self.config.starttls == StartTls::Required {
                    return self.fail_reply(&reply, true);
                }
                self.after_tls_decided()
            }
            State::TlsHandshake => self.fail_all(false, "unexpected reply during TLS handshake".into(), true, false),
            State::AuthPlain | State::AuthLogin(2) => {
                if reply.code != 235 {
                    return self.fail_reply(&reply, false);
                }
                self.mail()
            }
            State::AuthLogin(step) => {
                if reply.code != 334 {
                    return self.fail_reply(&reply, false);
                }
                let Some((user, password)) = self.config.auth.clone() else {
                    return self.fail_all(false, "no credentials".into(), false, true);
                };
                self.state = State::AuthLogin(step + 1);
                let value = if step == 0 { user } else { password };
                self.send_secret(B64.encode(value.as_bytes()))
            }
            State::Mail => {
                if reply.code != 250 {
                    return self.fail_reply(&reply, false);
                }
                self.rcpt(0)
            }
            State::Rcpt(i) => {
                self.status[i] = Some(match reply.code {
                    250 | 251 => Status::Delivered,
                    _ => self.failure(&reply),
                });
                if i + 1 < self.envelope.recipients.len() {
                    return self.rcpt(i + 1);
                }
                if !self.status.iter().any(|s| s == &Some(Status::Delivered)) {
                    return self.done(false, true);
                }
                if self.caps.chunking {
                    let body = wire::crlf(&self.envelope.data);
                    let mut bytes = format!("BDAT {} LAST\r\n", body.len()).into_bytes();
                    bytes.extend_from_slice(&body);
                    self.state = State::Body;
                    self.last_command = format!("BDAT {} LAST", body.len());
                    return Action::Send { bytes, log: self.last_command.clone() };
                }
                self.state = State::Data;
                self.send("DATA".into())
            }
            State::Data => {
                if reply.code != 354 {
                    return self.settle_accepted(&reply);
                }
                self.state = State::Body;
                self.last_command = "DATA".into();
                Action::Send { bytes: wire::data_payload(&self.envelope.data), log: String::new() }
            }
            State::Body => self.settle_accepted(&reply),
            State::Finished => self.done(false, false),
        }
    }

    fn ehlo(&mut self, after_tls: bool) -> Action {
        self.state = State::Ehlo { after_tls };
        self.send(format!("EHLO {}", self.config.helo))
    }

    fn after_ehlo(&mut self, after_tls: bool) -> Action {
        if !after_tls && !self.tls && self.config.starttls != StartTls::Never {
            if self.caps.starttls {
                self.state = State::StartTls;
                return self.send("STARTTLS".into());
            }
            if self.config.starttls == StartTls::Required {
                return self.fail_all(false, "Server does not support STARTTLS.".into(), true, true);
            }
        }
        self.after_tls_decided()
    }

    fn after_tls_decided(&mut self) -> Action {
        let Some((user, password)) = self.config.auth.clone() else { return self.mail() };
        if self.caps.auth_plain {
            self.state = State::AuthPlain;
            let token = B64.encode(format!("\0{user}\0{password}").as_bytes());
            self.last_command = "AUTH PLAIN".into();
            return Action::Send {
                bytes: format!("AUTH PLAIN {token}\r\n").into_bytes(),
                log: "AUTH PLAIN ***".into(),
            };
        }
        if self.caps.auth_login {
            self.state = State::AuthLogin(0);
            return self.send("AUTH LOGIN".into());
        }
        self.fail_all(true, "Server does not support AUTH PLAIN or AUTH LOGIN.".into(), false, true)
    }

    fn mail(&mut self) -> Action {
        if self.envelope.smtputf8 && self.envelope.needs_smtputf8() && !self.caps.smtputf8 {
            return self.fail_all(true, "Remote server does not support SMTPUTF8.".into(), false, true);
        }
        if let Some(limit) = self.caps.size.filter(|&l| l > 0)
            && self.envelope.data.len() as u64 > limit
        {
            return self.fail_all(
                true,
                format!("Message size exceeds the remote limit of {limit} bytes."),
                false,
                true,
            );
        }
        let mut cmd = format!("MAIL FROM:<{}>", self.envelope.sender);
        if self.caps.size.is_some() {
            cmd.push_str(&format!(" SIZE={}", self.envelope.data.len()));
        }
        if self.caps.eight_bit && self.envelope.eight_bit() {
            cmd.push_str(" BODY=8BITMIME");
        }
        if self.caps.smtputf8 && self.envelope.smtputf8 {
            cmd.push_str(" SMTPUTF8");
        }
        self.state = State::Mail;
        self.send(cmd)
    }

    fn rcpt(&mut self, i: usize) -> Action {
        self.state = State::Rcpt(i);
        let cmd = format!("RCPT TO:<{}>", self.envelope.recipients[i]);
        self.send(cmd)
    }

    fn send(&mut self, command: String) -> Action {
        let bytes = format!("{command}\r\n").into_bytes();
        self.last_command = command.clone();
        Action::Send { bytes, log: command }
    }

    fn send_secret(&mut self, line: String) -> Action {
        Action::Send { bytes: format!("{line}\r\n").into_bytes(), log: "***".into() }
    }

    fn failure(&self, reply: &Reply) -> Status {
        let f = Failure { command: self.last_command.clone(), reply: reply.one_line() };
        if reply.is_permanent() { Status::Permanent(f) } else { Status::Temporary(f) }
    }

    /// The DATA / BDAT reply decides for every recipient RCPT accepted.
    fn settle_accepted(&mut self, reply: &Reply) -> Action {
        let status = if reply.code == 250 { Status::Delivered } else { self.failure(reply) };
        for s in self.status.iter_mut() {
            if s == &Some(Status::Delivered) {
                *s = Some(status.clone());
            }
        }
        self.done(false, true)
    }

    /// A reply that fails the whole transaction.
    fn fail_reply(&mut self, reply: &Reply, host_level: bool) -> Action {
        let permanent = reply.is_permanent();
        // A host that refuses us before the transaction starts may be replaced by the next MX.
        let next = host_level && !permanent;
        let text = reply.one_line();
        self.fail_all(permanent, text, next, true)
    }

    /// Every recipient without a status gets the same failure.
    fn fail_all(&mut self, permanent: bool, reply: String, try_next_host: bool, quit: bool) -> Action {
        let f = Failure { command: self.last_command.clone(), reply };
        for s in self.status.iter_mut() {
            match s {
                None | Some(Status::Delivered) => {
                    *s = Some(if permanent { Status::Permanent(f.clone()) } else { Status::Temporary(f.clone()) })
                }
                Some(_) => {}
            }
        }
        self.done(try_next_host, quit)
    }

    fn done(&mut self, try_next_host: bool, quit: bool) -> Action {
        self.state = State::Finished;
        let recipients = self
            .status
            .iter()
            .map(|s| {
                s.clone()
                    .unwrap_or(Status::Temporary(Failure { command: String::new(), reply: "not attempted".into() }))
            })
            .collect();
        Action::Done(Outcome { recipients, try_next_host, quit })
    }
}

#[cfg(test)]
mod tests;
