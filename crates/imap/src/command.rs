//! Typed IMAP commands (RFC 9051, RFC 3501 and the extensions the server advertises).

use crate::fetch::{FetchAttr, FetchModifier};
use crate::search::{SearchKey, SearchReturn};
use crate::sequence::SequenceSet;

/// A parsed command: its tag and what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The client's tag, echoed in the tagged response.
    pub tag: String,
    /// The command itself.
    pub body: CommandBody,
}

/// A mailbox name as sent (modified UTF-7 or UTF-8); `INBOX` in any case is normalised to `INBOX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox(pub String);

impl Mailbox {
    /// Build from wire text, normalising INBOX case-insensitively.
    pub fn new(name: String) -> Self {
        if name.eq_ignore_ascii_case("INBOX") { Mailbox("INBOX".into()) } else { Mailbox(name) }
    }
    /// Whether this is the INBOX.
    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }
}

/// A message flag (system flag or keyword).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    /// `\Seen`
    Seen,
    /// `\Answered`
    Answered,
    /// `\Flagged`
    Flagged,
    /// `\Deleted`
    Deleted,
    /// `\Draft`
    Draft,
    /// `\Recent` (only meaningful in SEARCH/FETCH, rejected by the session in STORE).
    Recent,
    /// Another `\`-flag (flag-extension).
    Extension(String),
    /// A keyword such as `$Junk`.
    Keyword(String),
}

/// `(date)`: day, month 1–12, year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of month, 1–31.
    pub day: u8,
}

/// `date-time` of APPEND: a date, time and zone offset in minutes east of UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Calendar date.
    pub date: Date,
    /// Hour.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
    /// Zone offset in minutes east of UTC.
    pub zone_minutes: i16,
}

/// One message of an APPEND (MULTIAPPEND sends several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    /// Flags to set.
    pub flags: Vec<Flag>,
    /// INTERNALDATE to set.
    pub date: Option<DateTime>,
    /// The message bytes.
    pub data: Vec<u8>,
    /// Sent as a `~{n}` binary literal.
    pub binary: bool,
}

/// SELECT/EXAMINE parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectParam {
    /// `CONDSTORE`
    CondStore,
    /// `QRESYNC (uidvalidity modseq [known-uids [(seq-match)]])`
    QResync {
        /// Last known UIDVALIDITY.
        uid_validity: u32,
        /// Last known modseq.
        mod_seq: u64,
        /// Known UIDs.
        known_uids: Option<SequenceSet>,
        /// Sequence match data: (sequence numbers, UIDs).
        seq_match: Option<(SequenceSet, SequenceSet)>,
    },
}

/// LIST-EXTENDED selection options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSelect {
    /// `SUBSCRIBED`
    Subscribed,
    /// `REMOTE`
    Remote,
    /// `RECURSIVEMATCH`
    RecursiveMatch,
    /// `SPECIAL-USE`
    SpecialUse,
}

/// LIST return options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReturn {
    /// `SUBSCRIBED`
    Subscribed,
    /// `CHILDREN`
    Children,
    /// `SPECIAL-USE`
    SpecialUse,
    /// `STATUS (...)` (LIST-STATUS)
    Status(Vec<StatusItem>),
}

/// STATUS data items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    /// `MESSAGES`
    Messages,
    /// `UIDNEXT`
    UidNext,
    /// `UIDVALIDITY`
    UidValidity,
    /// `UNSEEN`
    Unseen,
    /// `DELETED`
    Deleted,
    /// `SIZE`
    Size,
    /// `RECENT`
    Recent,
    /// `HIGHESTMODSEQ`
    HighestModSeq,
    /// `APPENDLIMIT`
    AppendLimit,
}

/// STORE operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// `FLAGS`
    Replace,
    /// `+FLAGS`
    Add,
    /// `-FLAGS`
    Remove,
}

/// SORT criteria (RFC 5256, with DISPLAYFROM/DISPLAYTO of RFC 5957).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// `REVERSE` was given.
    pub reverse: bool,
    /// The key.
    pub key: SortBy,
}

/// What to sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// `ARRIVAL`
    Arrival,
    /// `CC`
    Cc,
    /// `DATE`
    Date,
    /// `FROM`
    From,
    /// `SIZE`
    Size,
    /// `SUBJECT`
    Subject,
    /// `TO`
    To,
    /// `DISPLAYFROM`
    DisplayFrom,
    /// `DISPLAYTO`
    DisplayTo,
}

/// The command bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    /// `CAPABILITY`
    Capability,
    /// `NOOP`
    Noop,
    /// `LOGOUT`
    Logout,
    /// `STARTTLS`
    StartTls,
    /// `AUTHENTICATE mech [initial-response]` (SASL-IR; `=` is an empty response).
    Authenticate {
        /// Mechanism name, upper-cased.
        mechanism: String,
        /// Base64 initial response as sent, if any.
        initial_response: Option<String>,
    },
    /// `LOGIN user pass`
    Login {
        /// User name.
        username: Vec<u8>,
        /// Password.
        password: Vec<u8>,
    },
    /// `ENABLE cap...`
    Enable(Vec<String>),
    /// `SELECT` (`read_only` false) or `EXAMINE` (`read_only` true).
    Select {
        /// Mailbox.
        mailbox: Mailbox,
        /// EXAMINE.
        read_only: bool,
        /// CONDSTORE / QRESYNC.
        params: Vec<SelectParam>,
    },
    /// `CREATE mailbox [(USE (\Sent ...))]`
    Create {
        /// Mailbox.
        mailbox: Mailbox,
        /// Special-use attributes requested (RFC 6154).
        special_use: Vec<String>,
    },
    /// `DELETE`
    Delete(Mailbox),
    /// `RENAME from to`
    Rename {
        /// Existing name.
        from: Mailbox,
        /// New name.
        to: Mailbox,
    },
    /// `SUBSCRIBE`
    Subscribe(Mailbox),
    /// `UNSUBSCRIBE`
    Unsubscribe(Mailbox),
    /// `LIST` (basic and LIST-EXTENDED).
    List {
        /// Selection options.
        select: Vec<ListSelect>,
        /// Reference name.
        reference: String,
        /// One or more patterns.
        patterns: Vec<String>,
        /// Return options.
        returns: Vec<ListReturn>,
    },
    /// `LSUB reference pattern`
    Lsub {
        /// Reference name.
        reference: String,
        /// Pattern.
        pattern: String,
    },
    /// `NAMESPACE`
    Namespace,
    /// `STATUS mailbox (items)`
    Status {
        /// Mailbox.
        mailbox: Mailbox,
        /// Items.
        items: Vec<StatusItem>,
    },
    /// `APPEND mailbox msg [msg...]` (several messages: MULTIAPPEND).
    Append {
        /// Target mailbox.
        mailbox: Mailbox,
        /// One or more messages.
        messages: Vec<AppendMessage>,
    },
    /// `IDLE` (ended by a `DONE` line, see [`crate::parse::parse_idle_done`]).
    Idle,
    /// `CHECK`
    Check,
    /// `CLOSE`
    Close,
    /// `UNSELECT`
    Unselect,
    /// `EXPUNGE`, or `UID EXPUNGE set`.
    Expunge {
        /// UID EXPUNGE's set.
        uids: Option<SequenceSet>,
    },
    /// `[UID] SEARCH`
    Search {
        /// UID variant.
        uid: bool,
        /// ESEARCH return options (`RETURN ()` gives an empty list; absent is `None`).
        returns: Option<Vec<SearchReturn>>,
        /// `CHARSET` given.
        charset: Option<String>,
        /// The keys (implicitly ANDed).
        criteria: Vec<SearchKey>,
    },
    /// `[UID] FETCH`
    Fetch {
        /// UID variant.
        uid: bool,
        /// Messages.
        set: SequenceSet,
        /// Attributes (macros expanded).
        attrs: Vec<FetchAttr>,
        /// CHANGEDSINCE / VANISHED.
        modifiers: Vec<FetchModifier>,
    },
    /// `[UID] STORE`
    Store {
        /// UID variant.
        uid: bool,
        /// Messages.
        set: SequenceSet,
        /// `UNCHANGEDSINCE` modifier.
        unchanged_since: Option<u64>,
        /// Replace / add / remove.
        mode: StoreMode,
        /// `.SILENT`.
        silent: bool,
        /// Flags.
        flags: Vec<Flag>,
    },
    /// `[UID] COPY`
    Copy {
        /// UID variant.
        uid: bool,
        /// Messages.
        set: SequenceSet,
        /// Destination.
        mailbox: Mailbox,
    },
    /// `[UID] MOVE`
    Move {
        /// UID variant.
        uid: bool,
        /// Messages.
        set: SequenceSet,
        /// Destination.
        mailbox: Mailbox,
    },
    /// `ID (field value ...)` or `ID NIL`.
    Id(Option<Vec<(String, Option<String>)>>),
    /// `GETQUOTA root`
    GetQuota(String),
    /// `GETQUOTAROOT mailbox`
    GetQuotaRoot(Mailbox),
    /// `[UID] SORT (criteria) charset search-keys`
    Sort {
        /// UID variant.
        uid: bool,
        /// Sort criteria.
        keys: Vec<SortKey>,
        /// Charset.
        charset: String,
        /// Search keys.
        criteria: Vec<SearchKey>,
    },
    /// `[UID] THREAD algorithm charset search-keys` (RFC 5256)
    Thread {
        /// UID variant.
        uid: bool,
        /// Algorithm as sent, upper-cased (`ORDEREDSUBJECT`, `REFERENCES`, ...).
        algorithm: String,
        /// Charset.
        charset: String,
        /// Search keys.
        criteria: Vec<SearchKey>,
    },
    /// `GETACL mailbox`
    GetAcl(Mailbox),
    /// `SETACL mailbox identifier rights` (rights may start with `+`/`-`).
    SetAcl {
        /// Mailbox.
        mailbox: Mailbox,
        /// Identifier.
        identifier: String,
        /// Rights string as sent.
        rights: String,
    },
    /// `DELETEACL mailbox identifier`
    DeleteAcl {
        /// Mailbox.
        mailbox: Mailbox,
        /// Identifier.
        identifier: String,
    },
    /// `LISTRIGHTS mailbox identifier`
    ListRights {
        /// Mailbox.
        mailbox: Mailbox,
        /// Identifier.
        identifier: String,
    },
    /// `MYRIGHTS mailbox`
    MyRights(Mailbox),
}
