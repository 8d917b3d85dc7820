//! Rules, criteria and actions, with hMailServer's numeric codes (`RuleCriteria::PredefinedField`,
//! `RuleCriteria::MatchType`, `RuleAction::Type`).

use regex::Regex;

/// `criteriapredefinedfield` codes.
pub mod field_code {
    pub const FROM: i64 = 1;
    pub const TO: i64 = 2;
    pub const CC: i64 = 3;
    pub const SUBJECT: i64 = 4;
    pub const BODY: i64 = 5;
    pub const MESSAGE_SIZE: i64 = 6;
    pub const RECIPIENT_LIST: i64 = 7;
    pub const DELIVERY_ATTEMPTS: i64 = 8;
}

/// `criteriamatchtype` codes.
pub mod match_code {
    pub const EQUALS: i64 = 1;
    pub const CONTAINS: i64 = 2;
    pub const LESS_THAN: i64 = 3;
    pub const GREATER_THAN: i64 = 4;
    pub const REGEX: i64 = 5;
    pub const NOT_CONTAINS: i64 = 6;
    pub const NOT_EQUALS: i64 = 7;
    pub const WILDCARD: i64 = 8;
}

/// `actiontype` codes.
pub mod action_type {
    pub const DELETE: i64 = 1;
    pub const FORWARD: i64 = 2;
    pub const REPLY: i64 = 3;
    pub const MOVE_TO_IMAP_FOLDER: i64 = 4;
    pub const RUN_FUNCTION: i64 = 5;
    pub const STOP_RULE_PROCESSING: i64 = 6;
    pub const SET_HEADER: i64 = 7;
    pub const SEND_USING_ROUTE: i64 = 8;
    pub const CREATE_COPY: i64 = 9;
    pub const BIND_TO_ADDRESS: i64 = 10;
}

/// What a criterion looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// The `From` header, decoded.
    From,
    To,
    Cc,
    Subject,
    /// The plain-text body followed by the HTML body.
    Body,
    /// The message's size in bytes.
    MessageSize,
    /// The envelope recipients joined by `;`.
    RecipientList,
    /// The delivery attempt: retries so far plus one.
    DeliveryAttempts,
    /// Any header, by name (decoded).
    Header(String),
    /// A predefined field code this version does not know: its value is empty.
    Unknown(i64),
}

impl Field {
    /// From the columns `criteriausepredefined`, `criteriapredefinedfield`, `criteriaheadername`.
    pub fn from_codes(use_predefined: bool, code: i64, header_name: &str) -> Field {
        if !use_predefined {
            return Field::Header(header_name.to_owned());
        }
        match code {
            field_code::FROM => Field::From,
            field_code::TO => Field::To,
            field_code::CC => Field::Cc,
            field_code::SUBJECT => Field::Subject,
            field_code::BODY => Field::Body,
            field_code::MESSAGE_SIZE => Field::MessageSize,
            field_code::RECIPIENT_LIST => Field::RecipientList,
            field_code::DELIVERY_ATTEMPTS => Field::DeliveryAttempts,
            other => Field::Unknown(other),
        }
    }

    /// `(criteriausepredefined, criteriapredefinedfield, criteriaheadername)`.
    pub fn codes(&self) -> (bool, i64, String) {
        let code = match self {
            Field::From => field_code::FROM,
            Field::To => field_code::TO,
            Field::Cc => field_code::CC,
            Field::Subject => field_code::SUBJECT,
            Field::Body => field_code::BODY,
            Field::MessageSize => field_code::MESSAGE_SIZE,
            Field::RecipientList => field_code::RECIPIENT_LIST,
            Field::DeliveryAttempts => field_code::DELIVERY_ATTEMPTS,
            Field::Header(name) => return (false, 0, name.clone()),
            Field::Unknown(code) => *code,
        };
        (true, code, String::new())
    }

    /// Parses a field as an administrator names it ("from", "subject", "body", "size",
    /// "recipients", "attempts", or `header:Name`).
    pub fn parse(s: &str) -> Option<Field> {
        if let Some((kind, name)) = s.split_once(':')
            && kind.eq_ignore_ascii_case("header")
            && !name.trim().is_empty()
        {
            return Some(Field::Header(name.trim().to_owned()));
        }
        Some(match s.to_ascii_lowercase().as_str() {
            "from" => Field::From,
            "to" => Field::To,
            "cc" => Field::Cc,
            "subject" => Field::Subject,
            "body" => Field::Body,
            "size" | "messagesize" => Field::MessageSize,
            "recipients" | "recipientlist" => Field::RecipientList,
            "attempts" | "deliveryattempts" => Field::DeliveryAttempts,
            _ => return None,
        })
    }

    /// The name [`Field::parse`] reads back.
    pub fn name(&self) -> String {
        match self {
            Field::From => "from".into(),
            Field::To => "to".into(),
            Field::Cc => "cc".into(),
            Field::Subject => "subject".into(),
            Field::Body => "body".into(),
            Field::MessageSize => "size".into(),
            Field::RecipientList => "recipients".into(),
            Field::DeliveryAttempts => "attempts".into(),
            Field::Header(name) => format!("header:{name}"),
            Field::Unknown(code) => format!("unknown({code})"),
        }
    }
}

/// How a criterion compares. Text comparisons ignore case; a regular expression must match
/// the whole value and is case-sensitive (hMailServer's `RegularExpression::TestExactMatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    Equals,
    Contains,
    /// Numeric: the field is less than the value (`,` reads as a decimal point).
    LessThan,
    GreaterThan,
    RegEx,
    NotContains,
    NotEquals,
    /// `*` and `?`, without regard to case.
    Wildcard,
    /// A code this version does not know: never matches.
    Unknown(i64),
}

impl MatchType {
    pub fn from_code(code: i64) -> MatchType {
        match code {
            match_code::EQUALS => MatchType::Equals,
            match_code::CONTAINS => MatchType::Contains,
            match_code::LESS_THAN => MatchType::LessThan,
            match_code::GREATER_THAN => MatchType::GreaterThan,
            match_code::REGEX => MatchType::RegEx,
            match_code::NOT_CONTAINS => MatchType::NotContains,
            match_code::NOT_EQUALS => MatchType::NotEquals,
            match_code::WILDCARD => MatchType::Wildcard,
            other => MatchType::Unknown(other),
        }
    }

    pub fn code(self) -> i64 {
        match self {
            MatchType::Equals => match_code::EQUALS,
            MatchType::Contains => match_code::CONTAINS,
            MatchType::LessThan => match_code::LESS_THAN,
            MatchType::GreaterThan => match_code::GREATER_THAN,
            MatchType::RegEx => match_code::REGEX,
            MatchType::NotContains => match_code::NOT_CONTAINS,
            MatchType::NotEquals => match_code::NOT_EQUALS,
            MatchType::Wildcard => match_code::WILDCARD,
            MatchType::Unknown(code) => code,
        }
    }

    /// Parses a match type as an administrator names it.
    pub fn parse(s: &str) -> Option<MatchType> {
        Some(match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "equals" | "eq" => MatchType::Equals,
            "contains" => MatchType::Contains,
            "lessthan" | "lt" => MatchType::LessThan,
            "greaterthan" | "gt" => MatchType::GreaterThan,
            "regex" | "regexp" => MatchType::RegEx,
            "notcontains" => MatchType::NotContains,
            "notequals" | "ne" => MatchType::NotEquals,
            "wildcard" => MatchType::Wildcard,
            _ => return None,
        })
    }

    pub fn name(self) -> String {
        match self {
            MatchType::Equals => "equals".into(),
            MatchType::Contains => "contains".into(),
            MatchType::LessThan => "less-than".into(),
            MatchType::GreaterThan => "greater-than".into(),
            MatchType::RegEx => "regex".into(),
            MatchType::NotContains => "not-contains".into(),
            MatchType::NotEquals => "not-equals".into(),
            MatchType::Wildcard => "wildcard".into(),
            MatchType::Unknown(code) => format!("unknown({code})"),
        }
    }
}

/// One criterion. A regular expression is compiled once, here; one that does not compile (or
/// is too large) is logged and never matches.
#[derive(Debug, Clone)]
pub struct Criterion {
    pub field: Field,
    pub match_type: MatchType,
    pub value: String,
    pub(crate) regex: Option<Regex>,
}

/// Bytes a compiled regular expression and its lazy DFA may take: a pattern from a row cannot
/// make the server allocate more.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Criterion {
    pub fn new(field: Field, match_type: MatchType, value: &str) -> Criterion {
        let regex = match match_type {
            MatchType::RegEx => compile(value),
            _ => None,
        };
        Criterion { field, match_type, value: value.to_owned(), regex }
    }

    /// From the columns of a `hm_rule_criterias` row.
    pub fn from_codes(use_predefined: bool, field: i64, header_name: &str, match_type: i64, value: &str) -> Criterion {
        Criterion::new(Field::from_codes(use_predefined, field, header_name), MatchType::from_code(match_type), value)
    }
}

impl PartialEq for Criterion {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field && self.match_type == other.match_type && self.value == other.value
    }
}

/// The whole value must match (boost's `regex_match`); `.` matches line ends too, as in boost's
/// default syntax.
fn compile(pattern: &str) -> Option<Regex> {
    match regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .dot_matches_new_line(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(64)
        .build()
    {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!("rule criterion: regular expression {pattern:?} is not usable ({e}); it never matches");
            None
        }
    }
}

/// One action, with the columns of `hm_rule_actions` it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The message is not delivered (globally, or to this account).
    Delete,
    /// A copy goes to `to` (`actionto`).
    Forward { to: String },
    /// An answer goes to the envelope sender.
    Reply { from_name: String, from_address: String, subject: String, body: String },
    /// Delivered into this folder (`actionimapfolder`, levels joined by the hierarchy
    /// delimiter) instead of the INBOX.
    MoveToFolder(String),
    /// The script function `actionscriptfunction` is called with the message.
    RunFunction(String),
    /// No further rule is evaluated (the rest of this rule's actions still are).
    StopRuleProcessing,
    /// Header `actionheader` is set to `actionvalue`, where `%MACRO_ORIGINAL_HEADER%` stands
    /// for the header's value before.
    SetHeader { name: String, value: String },
    /// Remote recipients are delivered through route `actionrouteid`.
    SendUsingRoute(i64),
    /// A copy goes to the same recipients, with `X-CopyRule: <rule name>`.
    CreateCopy,
    /// Remote delivery connects from this local address (`actionvalue`).
    BindToAddress(String),
    /// A type this version does not know: ignored.
    Unknown(i64),
}

/// The columns of a `hm_rule_actions` row that an action uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionColumns {
    pub action_type: i64,
    pub imap_folder: String,
    pub subject: String,
    pub from_name: String,
    pub from_address: String,
    pub to: String,
    pub body: String,
    pub script_function: String,
    pub header: String,
    pub value: String,
    pub route_id: i64,
}

impl Action {
    /// From the columns of a `hm_rule_actions` row.
    pub fn from_codes(c: &ActionColumns) -> Action {
        match c.action_type {
            action_type::DELETE => Action::Delete,
            action_type::FORWARD => Action::Forward { to: c.to.clone() },
            action_type::REPLY => Action::Reply {
                from_name: c.from_name.clone(),
                from_address: c.from_address.clone(),
                subject: c.subject.clone(),
                body: c.body.clone(),
            },
            action_type::MOVE_TO_IMAP_FOLDER => Action::MoveToFolder(c.imap_folder.clone()),
            action_type::RUN_FUNCTION => Action::RunFunction(c.script_function.clone()),
            action_type::STOP_RULE_PROCESSING => Action::StopRuleProcessing,
            action_type::SET_HEADER => Action::SetHeader { name: c.header.clone(), value: c.value.clone() },
            action_type::SEND_USING_ROUTE => Action::SendUsingRoute(c.route_id),
            action_type::CREATE_COPY => Action::CreateCopy,
            action_type::BIND_TO_ADDRESS => Action::BindToAddress(c.value.clone()),
            other => Action::Unknown(other),
        }
    }

    /// The columns this action is stored in (`actiontype` and the ones it uses; others empty).
    pub fn columns(&self) -> ActionColumns {
        let mut c = ActionColumns::default();
        match self {
            Action::Delete => c.action_type = action_type::DELETE,
            Action::Forward { to } => {
                c.action_type = action_type::FORWARD;
                c.to = to.clone();
            }
            Action::Reply { from_name, from_address, subject, body } => {
                c.action_type = action_type::REPLY;
                c.from_name = from_name.clone();
                c.from_address = from_address.clone();
                c.subject = subject.clone();
                c.body = body.clone();
            }
            Action::MoveToFolder(folder) => {
                c.action_type = action_type::MOVE_TO_IMAP_FOLDER;
                c.imap_folder = folder.clone();
            }
            Action::RunFunction(name) => {
                c.action_type = action_type::RUN_FUNCTION;
                c.script_function = name.clone();
            }
            Action::StopRuleProcessing => c.action_type = action_type::STOP_RULE_PROCESSING,
            Action::SetHeader { name, value } => {
                c.action_type = action_type::SET_HEADER;
                c.header = name.clone();
                c.value = value.clone();
            }
            Action::SendUsingRoute(id) => {
                c.action_type = action_type::SEND_USING_ROUTE;
                c.route_id = *id;
            }
            Action::CreateCopy => c.action_type = action_type::CREATE_COPY,
            Action::BindToAddress(ip) => {
                c.action_type = action_type::BIND_TO_ADDRESS;
                c.value = ip.clone();
            }
            Action::Unknown(code) => c.action_type = *code,
        }
        c
    }

    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        match self {
            Action::Delete => "delete".into(),
            Action::Forward { to } => format!("forward to {to}"),
            Action::Reply { from_address, subject, .. } => format!("reply from {from_address}: {subject}"),
            Action::MoveToFolder(f) => format!("move to folder {f}"),
            Action::RunFunction(f) => format!("run function {f}"),
            Action::StopRuleProcessing => "stop rule processing".into(),
            Action::SetHeader { name, value } => format!("set header {name}: {value}"),
            Action::SendUsingRoute(id) => format!("send using route {id}"),
            Action::CreateCopy => "create copy".into(),
            Action::BindToAddress(ip) => format!("bind to address {ip}"),
            Action::Unknown(code) => format!("unknown action type {code}"),
        }
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub active: bool,
    /// Every criterion must match (else any one). A rule without criteria never matches.
    pub use_and: bool,
    pub criteria: Vec<Criterion>,
    /// In `actionsortorder` order.
    pub actions: Vec<Action>,
}

impl Rule {
    /// From the columns of a `hm_rules` row and its criteria and actions.
    pub fn from_codes(
        id: i64,
        name: &str,
        active: bool,
        use_and: bool,
        criteria: Vec<Criterion>,
        actions: Vec<Action>,
    ) -> Rule {
        Rule { id, name: name.to_owned(), active, use_and, criteria, actions }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in 1..=8 {
            let f = Field::from_codes(true, code, "");
            assert_eq!(f.codes(), (true, code, String::new()));
            assert_eq!(Field::parse(&f.name()), Some(f));
            let m = MatchType::from_code(code);
            assert_eq!(m.code(), code);
            assert_eq!(MatchType::parse(&m.name()), Some(m));
        }
        assert_eq!(Field::from_codes(false, 4, "X-Spam"), Field::Header("X-Spam".into()));
        assert_eq!(Field::parse("header:X-Spam"), Some(Field::Header("X-Spam".into())));
        assert_eq!(Field::from_codes(true, 99, ""), Field::Unknown(99));
        assert_eq!(MatchType::from_code(0), MatchType::Unknown(0));
        for code in 1..=11 {
            let columns = ActionColumns { action_type: code, ..Default::default() };
            assert_eq!(Action::from_codes(&columns).columns().action_type, code);
        }
    }

    #[test]
    fn a_bad_regular_expression_is_kept_but_never_compiled() {
        let c = Criterion::new(Field::Subject, MatchType::RegEx, "(unclosed");
        assert!(c.regex.is_none());
        let huge = Criterion::new(Field::Subject, MatchType::RegEx, "\\w{1000}{1000}");
        assert!(huge.regex.is_none());
        assert!(Criterion::new(Field::Subject, MatchType::RegEx, "a.*b").regex.is_some());
    }
}
