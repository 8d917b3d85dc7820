//! The SMTP client as a sans-IO state machine: it is fed replies and answers with what to do
//! next ([`Action`]); the tokio driver ([`crate::driver`]) only moves bytes.
//!
//! One [`Client`] carries one connection: greeting, EHLO (HELO when EHLO is refused and nothing
//! needs ESMTP), STARTTLS, AUTH PLAIN or LOGIN, then the recipients in transactions of at most
//! [`ClientConfig::batch`] recipients (`maxsmtprecipientsinbatch`), each with MAIL (SIZE, BODY,
//! SMTPUTF8, DSN RET/ENVID as the peer offers them), one RCPT per recipient (DSN NOTIFY/ORCPT),
//! then DATA (dot-stuffed) or BDAT when CHUNKING is offered. A transaction that ended without a
//! reply to the message data is reset with RSET before the next one.
//! Every failure is decided in [`Client::fail_all`] / [`Status`]: 5xx is permanent, 4xx and a
//! lost connection are temporary.
//!
//! Message content rules: SIZE= counts the message after CRLF normalisation (RFC 1870). A message
//! that needs SMTPUTF8 (a non-ASCII sender, or non-ASCII headers in a message submitted with
//! SMTPUTF8) is not sent to a peer without the extension: its recipients fail permanently with
//! 5.6.7 / 5.6.9 (RFC 6531 §3.4), as do non-ASCII recipient addresses alone. An 8-bit body goes
//! with BODY=8BITMIME when offered; otherwise it is sent as it is and a warning is returned in
//! [`Outcome::warnings`] — no conversion to quoted-printable (Postfix with
//! `disable_mime_output_conversion = yes` does the same; practically every server takes 8 bits).

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
    /// Most recipients per transaction (`maxsmtprecipientsinbatch`); 0 = all in one.
    pub batch: usize,
}

/// DSN parameters of one recipient (RFC 3461), as stored in `altimail_recipient_dsn`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RcptDsn {
    /// NOTIFY value, e.g. `SUCCESS,FAILURE` or `NEVER`; "" when not given.
    pub notify: String,
    /// ORCPT as `type;address` with the address decoded; "" when not given.
    pub orcpt: String,
}

/// One connection's envelope and content.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// Envelope sender; empty for the null sender.
    pub sender: String,
    pub recipients: Vec<String>,
    /// The message as stored (line ends are normalised on the way out).
    pub data: Vec<u8>,
    /// The client asked for SMTPUTF8 when submitting.
    pub smtputf8: bool,
    /// BODY as submitted (`8BITMIME`, `7BIT`, …) or "".
    pub body: String,
    /// DSN ENVID (decoded) and RET (`FULL`/`HDRS`), "" when not given.
    pub envid: String,
    pub ret: String,
    /// DSN parameters per recipient (same order; missing entries mean none).
    pub dsn: Vec<RcptDsn>,
}

impl Envelope {
    /// The headers need SMTPUTF8: non-ASCII header bytes in a message submitted with SMTPUTF8
    /// (without it they are legacy 8-bit headers and go out as they are).
    fn headers_need_smtputf8(&self) -> bool {
        if !self.smtputf8 {
            return false;
        }
        let end = self.data.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(self.data.len());
        !self.data[..end].is_ascii()
    }

    fn eight_bit(&self) -> bool {
        self.body.eq_ignore_ascii_case("8BITMIME")
            || self.body.eq_ignore_ascii_case("BINARYMIME")
            || !self.data.is_ascii()
    }
}

/// Why a recipient was not delivered: what we sent and what the peer (or the network) said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The command that failed, as sent (`RCPT TO:<a@b>`), or "" for a connection problem or a
    /// decision of ours.
    pub command: String,
    /// The peer's reply on one line, or our description of the failure.
    pub reply: String,
}

/// The reply text of recipients the connection never got to (see [`Status::not_attempted`]).
pub const NOT_ATTEMPTED: &str = "not attempted";

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Delivered,
    /// Retry later (4xx, connection lost).
    Temporary(Failure),
    /// Give up (5xx).
    Permanent(Failure),
}

impl Status {
    /// The connection ended before this recipient's transaction started (RSET refused): a new
    /// connection to the same host may take it.
    pub fn not_attempted(&self) -> bool {
        matches!(self, Status::Temporary(f) if f.command.is_empty() && f.reply == NOT_ATTEMPTED)
    }
}

/// The end of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// One status per envelope recipient, in order.
    pub recipients: Vec<Status>,
    /// The host could not be used at all (greeting, EHLO, TLS or the connection failed
    /// before MAIL): the next host may do better.
    pub try_next_host: bool,
    /// Whether QUIT should still be sent.
    pub quit: bool,
    /// The peer advertised DSN (RFC 3461): it was given NOTIFY/ORCPT/RET/ENVID and reports
    /// itself; without it a NOTIFY=SUCCESS recipient gets a "relayed" DSN from us.
    pub dsn: bool,
    /// Things worth a log line (an 8-bit body to a peer without 8BITMIME).
    pub warnings: Vec<String>,
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
    /// The connection is over.
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
    Rset,
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
    dsn: bool,
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
                "DSN" => c.dsn = true,
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

/// xtext (RFC 3461 §4): `+XX` for '+', '=', and bytes outside `!`..`~`.
pub fn xtext(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

/// The state machine of one SMTP client connection.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    envelope: Envelope,
    state: State,
    caps: Caps,
    tls: bool,
    status: Vec<Option<Status>>,
    last_command: String,
    /// The recipients of the transaction in progress: `batch_start..batch_end`.
    batch_start: usize,
    batch_end: usize,
    warnings: Vec<String>,
}

impl Client {
    pub fn new(config: ClientConfig, mut envelope: Envelope) -> Self {
        let n = envelope.recipients.len();
        let tls = config.tls_from_start;
        // Once, here: SIZE=, the size limit and BDAT all count the message as it goes out.
        envelope.data = wire::crlf(&envelope.data);
        Client {
            config,
            envelope,
            state: State::Greeting,
            caps: Caps::default(),
            tls,
            status: vec![None; n],
            last_command: String::new(),
            batch_start: 0,
            batch_end: 0,
            warnings: Vec::new(),
        }
    }

    /// Whether the connection is protected by TLS now.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Whether the next reply is the one to the end of the message data (RFC 5321 §4.5.3.2
    /// allows it 10 minutes; other replies 5).
    pub fn awaiting_data_end(&self) -> bool {
        self.state == State::Body
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
                    // hMailServer moves on to the next MX after any refusing greeting, 5xx too.
                    let text = reply.one_line();
                    return self.fail_all(reply.is_permanent(), text, true, true);
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
                self.start_batch()
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
                self.start_batch()
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
                self.next_rcpt(self.batch_start)
            }
            State::Rcpt(i) => {
                self.status[i] = Some(match reply.code {
                    250 | 251 => Status::Delivered,
                    _ => self.failure(&reply),
                });
                self.next_rcpt(i + 1)
            }
            State::Data => {
                if reply.code != 354 {
                    self.settle_batch(&reply);
                    return self.end_transaction(false);
                }
                self.state = State::Body;
                self.last_command = "DATA".into();
                Action::Send { bytes: wire::data_payload(&self.envelope.data), log: String::new() }
            }
            State::Body => {
                self.settle_batch(&reply);
                self.end_transaction(true)
            }
            State::Rset => {
                if reply.code != 250 {
                    // The rest go over a new connection.
                    return self.done(false, true);
                }
                self.start_batch()
            }
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
        let Some((user, password)) = self.config.auth.clone() else { return self.start_batch() };
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

    /// Starts the transaction for the recipients from `batch_start` on.
    fn start_batch(&mut self) -> Action {
        let n = self.envelope.recipients.len();
        let size = if self.config.batch == 0 { n } else { self.config.batch };
        self.batch_end = (self.batch_start + size).min(n);
        self.mail()
    }

    fn mail(&mut self) -> Action {
        if !self.caps.smtputf8 {
            if !self.envelope.sender.is_ascii() {
                return self.fail_local(
                    "5.6.7 The sender address needs SMTPUTF8, which the remote server does not support (RFC 6531 3.4); the message was not sent.",
                );
            }
            if self.envelope.headers_need_smtputf8() {
                return self.fail_local(
                    "5.6.9 The message has UTF-8 headers that need SMTPUTF8, which the remote server does not support (RFC 6531 3.4); the message was not sent.",
                );
            }
        }
        let size = self.envelope.data.len() as u64;
        if let Some(limit) = self.caps.size.filter(|&l| l > 0)
            && size > limit
        {
            return self.fail_all(
                true,
                format!("Message size exceeds the remote limit of {limit} bytes."),
                false,
                true,
            );
        }
        if !self.caps.smtputf8 {
            for i in self.batch_start..self.batch_end {
                if !self.envelope.recipients[i].is_ascii() {
                    self.status[i] = Some(Status::Permanent(Failure {
                        command: String::new(),
                        reply: "5.6.7 The recipient address needs SMTPUTF8, which the remote server does not support (RFC 6531 3.4); the message was not sent.".into(),
                    }));
                }
            }
            if self.status[self.batch_start..self.batch_end].iter().all(Option::is_some) {
                return self.end_transaction(true);
            }
        }
        let mut cmd = format!("MAIL FROM:<{}>", self.envelope.sender);
        if self.caps.size.is_some() {
            cmd.push_str(&format!(" SIZE={size}"));
        }
        if self.envelope.eight_bit() {
            if self.caps.eight_bit {
                cmd.push_str(" BODY=8BITMIME");
            } else if self.batch_start == 0 {
                self.warnings.push(
                    "8-bit message sent to a server that does not offer 8BITMIME (sent as it is, not converted)".into(),
                );
            }
        }
        let needs_utf8 = !self.envelope.sender.is_ascii()
            || self.envelope.headers_need_smtputf8()
            || self.envelope.recipients[self.batch_start..self.batch_end].iter().any(|r| !r.is_ascii());
        if self.caps.smtputf8 && (self.envelope.smtputf8 || needs_utf8) {
            cmd.push_str(" SMTPUTF8");
        }
        if self.caps.dsn {
            if !self.envelope.ret.is_empty() {
                cmd.push_str(&format!(" RET={}", self.envelope.ret.to_ascii_uppercase()));
            }
            if !self.envelope.envid.is_empty() {
                cmd.push_str(&format!(" ENVID={}", xtext(&self.envelope.envid)));
            }
        }
        self.state = State::Mail;
        self.send(cmd)
    }

    /// Sends RCPT for the next recipient of the batch from `i` on that has no status yet (a
    /// non-ASCII address the peer cannot take failed in [`Client::mail`]). After the last one: DATA/BDAT, or the end of
    /// the transaction when no recipient was accepted.
    fn next_rcpt(&mut self, mut i: usize) -> Action {
        while i < self.batch_end {
            if self.status[i].is_none() {
                return self.rcpt(i);
            }
            i += 1;
        }
        let batch = self.batch_start..self.batch_end;
        if !self.status[batch].iter().any(|s| s == &Some(Status::Delivered)) {
            return self.end_transaction(false);
        }
        if self.caps.chunking {
            let mut bytes = format!("BDAT {} LAST\r\n", self.envelope.data.len()).into_bytes();
            bytes.extend_from_slice(&self.envelope.data);
            self.state = State::Body;
            self.last_command = format!("BDAT {} LAST", self.envelope.data.len());
            return Action::Send { bytes, log: self.last_command.clone() };
        }
        self.state = State::Data;
        self.send("DATA".into())
    }

    fn rcpt(&mut self, i: usize) -> Action {
        self.state = State::Rcpt(i);
        let mut cmd = format!("RCPT TO:<{}>", self.envelope.recipients[i]);
        if self.caps.dsn
            && let Some(dsn) = self.envelope.dsn.get(i)
        {
            if !dsn.notify.is_empty() {
                cmd.push_str(&format!(" NOTIFY={}", dsn.notify.to_ascii_uppercase().replace(' ', "")));
            }
            if let Some((kind, address)) = dsn.orcpt.split_once(';') {
                cmd.push_str(&format!(" ORCPT={};{}", kind.trim(), xtext(address.trim())));
            }
        }
        self.send(cmd)
    }

    /// The transaction of the current batch is over; `clean` when the server answered the
    /// message data (no RSET needed before the next MAIL).
    fn end_transaction(&mut self, clean: bool) -> Action {
        if self.batch_end >= self.envelope.recipients.len() {
            return self.done(false, true);
        }
        self.batch_start = self.batch_end;
        if clean {
            return self.start_batch();
        }
        self.state = State::Rset;
        self.send("RSET".into())
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

    /// The DATA / BDAT reply decides for every recipient of the batch RCPT accepted.
    fn settle_batch(&mut self, reply: &Reply) {
        let status = if reply.code == 250 { Status::Delivered } else { self.failure(reply) };
        for s in self.status[self.batch_start..self.batch_end].iter_mut() {
            if s == &Some(Status::Delivered) {
                *s = Some(status.clone());
            }
        }
    }

    /// A reply that fails the whole transaction.
    fn fail_reply(&mut self, reply: &Reply, host_level: bool) -> Action {
        let permanent = reply.is_permanent();
        // A host that refuses us before the transaction starts may be replaced by the next MX.
        let next = host_level && !permanent;
        let text = reply.one_line();
        self.fail_all(permanent, text, next, true)
    }

    /// A permanent failure decided here, about the message, not said by the peer.
    fn fail_local(&mut self, reason: &str) -> Action {
        self.last_command = String::new();
        self.fail_all(true, reason.into(), false, true)
    }

    /// Every recipient of this and later batches without a final status gets the same failure
    /// (earlier batches are settled: their DATA reply came).
    fn fail_all(&mut self, permanent: bool, reply: String, try_next_host: bool, quit: bool) -> Action {
        let f = Failure { command: self.last_command.clone(), reply };
        for s in self.status[self.batch_start..].iter_mut() {
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
                s.clone().unwrap_or(Status::Temporary(Failure { command: String::new(), reply: NOT_ATTEMPTED.into() }))
            })
            .collect();
        Action::Done(Outcome {
            recipients,
            try_next_host,
            quit,
            dsn: self.caps.dsn,
            warnings: std::mem::take(&mut self.warnings),
        })
    }
}

#[cfg(test)]
mod tests;
