//! The download dialogue as a sans-IO state machine: greeting, optional STLS, USER/PASS, UIDL,
//! then RETR / DELE per a plan, then QUIT. It never touches a socket or the store: the driver
//! feeds it [`Input`]s (status lines, bodies, "TLS is up", the plan, "delivered") and carries out
//! the [`Action`] it returns.

use super::conn::ClientError;
use super::proto::{Command, Status, UidlEntry, capa_has, parse_capa, parse_uidl};

/// Whether to upgrade the connection with STLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stls {
    Never,
    IfOffered,
    Required,
}

/// What to do with one message of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub number: u32,
    pub uid: String,
    /// Download it (it is not recorded yet).
    pub fetch: bool,
    /// Delete it (after the download, if any).
    pub delete: bool,
}

/// What the driver tells the session.
#[derive(Debug)]
pub enum Input {
    /// Begin: the connection is open.
    Start,
    /// The status line that answered the last command (or the greeting).
    Status(Status),
    /// The multi-line body after a positive status.
    Body(Vec<u8>),
    /// The TLS handshake after STLS succeeded.
    TlsReady,
    /// The plan for the listing given in [`Action::Listing`].
    Planned(Vec<Step>),
    /// The message given in [`Action::Message`] is safely queued and recorded.
    Delivered,
}

/// What the driver must do next.
#[derive(Debug)]
pub enum Action {
    /// Read one status line (the greeting).
    ReadStatus,
    /// Send this command, then read its status line.
    Send(Command),
    /// Read the multi-line body that follows.
    ReadBody,
    /// Run the TLS handshake.
    StartTls,
    /// The server's UIDL listing: decide what to fetch and delete, answer with [`Input::Planned`].
    Listing(Vec<UidlEntry>),
    /// A downloaded message: queue it and record its UID, then answer [`Input::Delivered`].
    Message { number: u32, uid: String, body: Vec<u8> },
    /// QUIT succeeded: these UIDs were deleted on the server.
    Done { deleted: Vec<String> },
    /// The dialogue failed; close the connection.
    Failed(ClientError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Greeting,
    Capa,
    CapaBody,
    Stls,
    Tls,
    User,
    Pass,
    Uidl,
    UidlBody,
    Planning,
    Retr,
    RetrBody,
    Delivering,
    Dele,
    Quit,
    Finished,
}

/// One download dialogue.
#[derive(Debug)]
pub struct Session {
    state: State,
    stls: Stls,
    user: String,
    password: String,
    steps: Vec<Step>,
    /// The step being worked on.
    current: usize,
    deleted: Vec<String>,
}

impl Session {
    pub fn new(stls: Stls, user: &str, password: &str) -> Session {
        Session {
            state: State::Start,
            stls,
            user: user.to_owned(),
            password: password.to_owned(),
            steps: Vec::new(),
            current: 0,
            deleted: Vec::new(),
        }
    }

    /// Feeds one input; returns the next action.
    pub fn next(&mut self, input: Input) -> Action {
        match (self.state, input) {
            (State::Start, Input::Start) => self.to(State::Greeting, Action::ReadStatus),
            (State::Greeting, Input::Status(s)) => match s {
                Status::Ok(_) if self.stls == Stls::Never => self.user(),
                Status::Ok(_) => self.send(State::Capa, Command::Capa),
                Status::Err(text) => self.refused("connect", text),
            },
            (State::Capa, Input::Status(Status::Ok(_))) => self.to(State::CapaBody, Action::ReadBody),
            (State::Capa, Input::Status(Status::Err(_))) => self.after_capa(&[]),
            (State::CapaBody, Input::Body(body)) => self.after_capa(&parse_capa(&body)),
            (State::Stls, Input::Status(Status::Ok(_))) => self.to(State::Tls, Action::StartTls),
            (State::Stls, Input::Status(Status::Err(text))) => match self.stls {
                Stls::Required => self.refused("STLS", text),
                _ => self.user(),
            },
            (State::Tls, Input::TlsReady) => self.user(),
            (State::User, Input::Status(s)) => match s {
                Status::Ok(_) => {
                    let pass = Command::Pass(self.password.clone());
                    self.send(State::Pass, pass)
                }
                Status::Err(text) => self.refused("USER", text),
            },
            (State::Pass, Input::Status(s)) => match s {
                Status::Ok(_) => self.send(State::Uidl, Command::Uidl),
                Status::Err(text) => self.refused("PASS", text),
            },
            (State::Uidl, Input::Status(s)) => match s {
                Status::Ok(_) => self.to(State::UidlBody, Action::ReadBody),
                Status::Err(text) => self.refused("UIDL", text),
            },
            (State::UidlBody, Input::Body(body)) => match parse_uidl(&body) {
                Ok(listing) => self.to(State::Planning, Action::Listing(listing)),
                Err(e) => self.fail(e.into()),
            },
            (State::Planning, Input::Planned(steps)) => {
                self.steps = steps;
                self.current = 0;
                self.step()
            }
            (State::Retr, Input::Status(s)) => match s {
                Status::Ok(_) => self.to(State::RetrBody, Action::ReadBody),
                Status::Err(text) => self.refused("RETR", text),
            },
            (State::RetrBody, Input::Body(body)) => {
                let Some(step) = self.steps.get(self.current) else {
                    return self.fail(ClientError::Unsupported("internal: no step for RETR".into()));
                };
                let (number, uid) = (step.number, step.uid.clone());
                self.to(State::Delivering, Action::Message { number, uid, body })
            }
            (State::Delivering, Input::Delivered) => {
                if let Some(step) = self.steps.get_mut(self.current) {
                    step.fetch = false;
                }
                self.step()
            }
            (State::Dele, Input::Status(s)) => match s {
                Status::Ok(_) => {
                    if let Some(step) = self.steps.get_mut(self.current) {
                        step.delete = false;
                        self.deleted.push(step.uid.clone());
                    }
                    self.step()
                }
                Status::Err(text) => self.refused("DELE", text),
            },
            (State::Quit, Input::Status(s)) => match s {
                Status::Ok(_) => {
                    let deleted = std::mem::take(&mut self.deleted);
                    self.to(State::Finished, Action::Done { deleted })
                }
                Status::Err(text) => self.refused("QUIT", text),
            },
            (state, input) => {
                self.fail(ClientError::Unsupported(format!("internal: {input:?} is not expected in state {state:?}")))
            }
        }
    }

    fn after_capa(&mut self, capa: &[String]) -> Action {
        if capa_has(capa, "STLS") {
            self.send(State::Stls, Command::Stls)
        } else if self.stls == Stls::Required {
            self.fail(ClientError::Unsupported("the server does not offer STLS".into()))
        } else {
            self.user()
        }
    }

    fn user(&mut self) -> Action {
        let user = Command::User(self.user.clone());
        self.send(State::User, user)
    }

    /// The next command of the plan: RETR or DELE of the current step, or the next step, or QUIT.
    fn step(&mut self) -> Action {
        while let Some(step) = self.steps.get(self.current) {
            if step.fetch {
                let retr = Command::Retr(step.number);
                return self.send(State::Retr, retr);
            }
            if step.delete {
                let dele = Command::Dele(step.number);
                return self.send(State::Dele, dele);
            }
            self.current += 1;
        }
        self.send(State::Quit, Command::Quit)
    }

    fn send(&mut self, state: State, command: Command) -> Action {
        self.to(state, Action::Send(command))
    }

    fn to(&mut self, state: State, action: Action) -> Action {
        self.state = state;
        action
    }

    fn refused(&mut self, command: &str, text: String) -> Action {
        self.fail(ClientError::Refused { command: command.to_owned(), text })
    }

    fn fail(&mut self, error: ClientError) -> Action {
        self.state = State::Finished;
        Action::Failed(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Input {
        Input::Status(Status::Ok(String::new()))
    }

    fn sent(a: Action) -> Command {
        match a {
            Action::Send(c) => c,
            other => panic!("expected a command, got {other:?}"),
        }
    }

    #[test]
    fn a_whole_download_with_stls() {
        let mut s = Session::new(Stls::Required, "u", "p");
        assert!(matches!(s.next(Input::Start), Action::ReadStatus));
        assert_eq!(sent(s.next(ok())), Command::Capa);
        assert!(matches!(s.next(ok()), Action::ReadBody));
        assert_eq!(sent(s.next(Input::Body(b"USER\r\nSTLS\r\n".to_vec()))), Command::Stls);
        assert!(matches!(s.next(ok()), Action::StartTls));
        assert_eq!(sent(s.next(Input::TlsReady)), Command::User("u".into()));
        assert_eq!(sent(s.next(ok())), Command::Pass("p".into()));
        assert_eq!(sent(s.next(ok())), Command::Uidl);
        assert!(matches!(s.next(ok()), Action::ReadBody));
        let Action::Listing(l) = s.next(Input::Body(b"1 a\r\n2 b\r\n3 c\r\n".to_vec())) else { panic!() };
        assert_eq!(l.len(), 3);
        let plan = vec![
            Step { number: 1, uid: "a".into(), fetch: false, delete: true },
            Step { number: 2, uid: "b".into(), fetch: false, delete: false },
            Step { number: 3, uid: "c".into(), fetch: true, delete: true },
        ];
        assert_eq!(sent(s.next(Input::Planned(plan))), Command::Dele(1));
        assert_eq!(sent(s.next(ok())), Command::Retr(3));
        assert!(matches!(s.next(ok()), Action::ReadBody));
        let Action::Message { number: 3, uid, body } = s.next(Input::Body(b"x\r\n".to_vec())) else { panic!() };
        assert_eq!((uid.as_str(), body.as_slice()), ("c", b"x\r\n".as_slice()));
        assert_eq!(sent(s.next(Input::Delivered)), Command::Dele(3));
        assert_eq!(sent(s.next(ok())), Command::Quit);
        let Action::Done { deleted } = s.next(ok()) else { panic!() };
        assert_eq!(deleted, ["a", "c"]);
    }

    #[test]
    fn refusals_and_missing_stls_fail() {
        let mut s = Session::new(Stls::Never, "u", "p");
        s.next(Input::Start);
        assert_eq!(sent(s.next(ok())), Command::User("u".into()));
        s.next(ok());
        let Action::Failed(e) = s.next(Input::Status(Status::Err("[AUTH] no".into()))) else { panic!() };
        assert_eq!(e.to_string(), "PASS: the server answered -ERR [AUTH] no");

        let mut s = Session::new(Stls::Required, "u", "p");
        s.next(Input::Start);
        s.next(ok());
        let Action::Failed(e) = s.next(Input::Status(Status::Err(String::new()))) else { panic!() };
        assert!(e.to_string().contains("STLS"), "{e}");

        let mut s = Session::new(Stls::IfOffered, "u", "p");
        s.next(Input::Start);
        s.next(ok());
        s.next(ok());
        assert_eq!(sent(s.next(Input::Body(b"USER\r\n".to_vec()))), Command::User("u".into()));
        assert!(matches!(s.next(Input::Delivered), Action::Failed(_)), "out-of-order input");
    }
}
