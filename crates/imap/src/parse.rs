//! Parser from one complete command (as assembled by the fragmenter) to a typed [`Command`].

use crate::command::*;
use crate::cursor::{Cursor, is_atom_char};
use crate::error::ParseError;
use crate::fetch::{fetch_atts, fetch_modifiers};
use crate::search::{date_text, search_keys, search_return};
use crate::sequence::sequence_set;

/// Parse a complete command line (including its CRLF and any inline literals).
pub fn parse_command(input: &[u8]) -> Result<Command, ParseError> {
    let mut c = Cursor::new(input);
    let tag = c.take_while(|b| (is_atom_char(b) || b == b']') && b != b'+');
    if tag.is_empty() {
        return Err(ParseError::MissingTag);
    }
    let tag = String::from_utf8_lossy(tag).into_owned();
    c.sp().map_err(|_| ParseError::MissingTag)?;
    let body = body(&mut c)?;
    c.end()?;
    Ok(Command { tag, body })
}

/// Tag of a command line if one can be read, for answering `BAD` to a command that failed to parse.
pub fn tag_of(input: &[u8]) -> Option<String> {
    let tag = Cursor::new(input).take_while(|b| (is_atom_char(b) || b == b']') && b != b'+');
    if tag.is_empty() { None } else { Some(String::from_utf8_lossy(tag).into_owned()) }
}

/// Check the line that ends IDLE: `DONE` CRLF (case-insensitive).
pub fn parse_idle_done(input: &[u8]) -> Result<(), ParseError> {
    let mut c = Cursor::new(input);
    if !c.eat_keyword("DONE") {
        return Err(c.expected("DONE"));
    }
    c.end()
}

fn mailbox(c: &mut Cursor<'_>) -> Result<Mailbox, ParseError> {
    c.astring_utf8().map(Mailbox::new)
}

/// `flag`: `\Seen` etc., `\Extension`, or a keyword atom.
pub fn flag(c: &mut Cursor<'_>) -> Result<Flag, ParseError> {
    if c.eat(b'\\') {
        let name = String::from_utf8_lossy(c.atom()?).into_owned();
        Ok(match name.to_ascii_uppercase().as_str() {
            "SEEN" => Flag::Seen,
            "ANSWERED" => Flag::Answered,
            "FLAGGED" => Flag::Flagged,
            "DELETED" => Flag::Deleted,
            "DRAFT" => Flag::Draft,
            "RECENT" => Flag::Recent,
            _ => Flag::Extension(name),
        })
    } else {
        Ok(Flag::Keyword(String::from_utf8_lossy(c.atom()?).into_owned()))
    }
}

fn flag_list(c: &mut Cursor<'_>) -> Result<Vec<Flag>, ParseError> {
    c.paren_list(true, flag)
}

fn two_digits(c: &mut Cursor<'_>, max: u32) -> Result<u8, ParseError> {
    let at = c.pos();
    let d = c.rest();
    if d.len() < 2 || !d[0].is_ascii_digit() || !d[1].is_ascii_digit() {
        return Err(ParseError::BadDate(at));
    }
    let n = u32::from(d[0] - b'0') * 10 + u32::from(d[1] - b'0');
    c.skip(2);
    if n > max { Err(ParseError::BadDate(at)) } else { Ok(n as u8) }
}

/// `date-time`: `"dd-Mon-yyyy hh:mm:ss +zzzz"` (day may be space-padded).
pub fn date_time(c: &mut Cursor<'_>) -> Result<DateTime, ParseError> {
    c.expect(b'"', "date-time")?;
    let date = date_text(c, true)?;
    c.sp()?;
    let hour = two_digits(c, 23)?;
    c.expect(b':', ":")?;
    let minute = two_digits(c, 59)?;
    c.expect(b':', ":")?;
    let second = two_digits(c, 60)?;
    c.sp()?;
    let at = c.pos();
    let sign: i16 = if c.eat(b'+') {
        1
    } else if c.eat(b'-') {
        -1
    } else {
        return Err(ParseError::BadDate(at));
    };
    let zh = two_digits(c, 99)?;
    let zm = two_digits(c, 59)?;
    c.expect(b'"', "closing quote")?;
    Ok(DateTime { date, hour, minute, second, zone_minutes: sign * (i16::from(zh) * 60 + i16::from(zm)) })
}

fn status_items(c: &mut Cursor<'_>) -> Result<Vec<StatusItem>, ParseError> {
    c.paren_list(false, |c| {
        Ok(match c.atom_upper()?.as_str() {
            "MESSAGES" => StatusItem::Messages,
            "UIDNEXT" => StatusItem::UidNext,
            "UIDVALIDITY" => StatusItem::UidValidity,
            "UNSEEN" => StatusItem::Unseen,
            "DELETED" => StatusItem::Deleted,
            "SIZE" => StatusItem::Size,
            "RECENT" => StatusItem::Recent,
            "HIGHESTMODSEQ" => StatusItem::HighestModSeq,
            "APPENDLIMIT" => StatusItem::AppendLimit,
            _ => return Err(c.expected("status item")),
        })
    })
}

fn select_params(c: &mut Cursor<'_>) -> Result<Vec<SelectParam>, ParseError> {
    if c.peek() != Some(b' ') {
        return Ok(Vec::new());
    }
    c.sp()?;
    c.paren_list(true, |c| match c.atom_upper()?.as_str() {
        "CONDSTORE" => Ok(SelectParam::CondStore),
        "QRESYNC" => {
            c.sp()?;
            c.expect(b'(', "(")?;
            let uid_validity = c.nz_number()?;
            c.sp()?;
            let mod_seq = c.number64()?;
            let mut known_uids = None;
            let mut seq_match = None;
            if c.eat(b' ') {
                if c.peek() != Some(b'(') {
                    known_uids = Some(sequence_set(c)?);
                    if c.eat(b' ') {
                        c.expect(b'(', "(")?;
                    } else {
                        c.expect(b')', ")")?;
                        return Ok(SelectParam::QResync { uid_validity, mod_seq, known_uids, seq_match });
                    }
                } else {
                    c.expect(b'(', "(")?;
                }
                let seqs = sequence_set(c)?;
                c.sp()?;
                let uids = sequence_set(c)?;
                c.expect(b')', ")")?;
                seq_match = Some((seqs, uids));
            }
            c.expect(b')', ")")?;
            Ok(SelectParam::QResync { uid_validity, mod_seq, known_uids, seq_match })
        }
        _ => Err(c.expected("select parameter")),
    })
}

fn list(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    c.sp()?;
    let mut select = Vec::new();
    if c.peek() == Some(b'(') {
        select = c.paren_list(true, |c| {
            Ok(match c.atom_upper()?.as_str() {
                "SUBSCRIBED" => ListSelect::Subscribed,
                "REMOTE" => ListSelect::Remote,
                "RECURSIVEMATCH" => ListSelect::RecursiveMatch,
                "SPECIAL-USE" => ListSelect::SpecialUse,
                _ => return Err(c.expected("list selection option")),
            })
        })?;
        c.sp()?;
    }
    let reference = c.astring_utf8()?;
    c.sp()?;
    let patterns =
        if c.peek() == Some(b'(') { c.paren_list(false, Cursor::list_mailbox)? } else { vec![c.list_mailbox()?] };
    let mut returns = Vec::new();
    if c.eat(b' ') {
        if !c.eat_keyword("RETURN") {
            return Err(c.expected("RETURN"));
        }
        c.sp()?;
        returns = c.paren_list(true, |c| {
            Ok(match c.atom_upper()?.as_str() {
                "SUBSCRIBED" => ListReturn::Subscribed,
                "CHILDREN" => ListReturn::Children,
                "SPECIAL-USE" => ListReturn::SpecialUse,
                "STATUS" => {
                    c.sp()?;
                    ListReturn::Status(status_items(c)?)
                }
                _ => return Err(c.expected("list return option")),
            })
        })?;
    }
    Ok(CommandBody::List { select, reference, patterns, returns })
}

fn append(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    c.sp()?;
    let mailbox = mailbox(c)?;
    let mut messages = Vec::new();
    while c.eat(b' ') {
        let flags = if c.peek() == Some(b'(') {
            let f = flag_list(c)?;
            c.sp()?;
            f
        } else {
            Vec::new()
        };
        let date = if c.peek() == Some(b'"') {
            let d = date_time(c)?;
            c.sp()?;
            Some(d)
        } else {
            None
        };
        let (data, binary) = c.literal()?;
        messages.push(AppendMessage { flags, date, data: data.to_vec(), binary });
    }
    if messages.is_empty() {
        return Err(c.expected("message literal"));
    }
    Ok(CommandBody::Append { mailbox, messages })
}

fn search(c: &mut Cursor<'_>, uid: bool) -> Result<CommandBody, ParseError> {
    c.sp()?;
    let mut returns = None;
    if c.eat_keyword("RETURN") {
        c.sp()?;
        returns = Some(search_return(c)?);
        c.sp()?;
    }
    let mut charset = None;
    if c.eat_keyword("CHARSET") {
        c.sp()?;
        charset = Some(c.astring_utf8()?);
        c.sp()?;
    }
    let criteria = search_keys(c, 0)?;
    Ok(CommandBody::Search { uid, returns, charset, criteria })
}

fn sort(c: &mut Cursor<'_>, uid: bool) -> Result<CommandBody, ParseError> {
    c.sp()?;
    let keys = c.paren_list(false, |c| {
        let reverse = c.eat_keyword("REVERSE");
        if reverse {
            c.sp()?;
        }
        let key = match c.atom_upper()?.as_str() {
            "ARRIVAL" => SortBy::Arrival,
            "CC" => SortBy::Cc,
            "DATE" => SortBy::Date,
            "FROM" => SortBy::From,
            "SIZE" => SortBy::Size,
            "SUBJECT" => SortBy::Subject,
            "TO" => SortBy::To,
            "DISPLAYFROM" => SortBy::DisplayFrom,
            "DISPLAYTO" => SortBy::DisplayTo,
            _ => return Err(c.expected("sort key")),
        };
        Ok(SortKey { reverse, key })
    })?;
    c.sp()?;
    let charset = c.astring_utf8()?;
    c.sp()?;
    let criteria = search_keys(c, 0)?;
    Ok(CommandBody::Sort { uid, keys, charset, criteria })
}

fn store(c: &mut Cursor<'_>, uid: bool) -> Result<CommandBody, ParseError> {
    c.sp()?;
    let set = sequence_set(c)?;
    c.sp()?;
    let mut unchanged_since = None;
    if c.peek() == Some(b'(') {
        let mods = c.paren_list(false, |c| {
            if !c.eat_keyword("UNCHANGEDSINCE") {
                return Err(c.expected("UNCHANGEDSINCE"));
            }
            c.sp()?;
            c.number64()
        })?;
        unchanged_since = mods.last().copied();
        c.sp()?;
    }
    let mode = if c.eat(b'+') {
        StoreMode::Add
    } else if c.eat(b'-') {
        StoreMode::Remove
    } else {
        StoreMode::Replace
    };
    let silent = if c.eat_keyword("FLAGS.SILENT") {
        true
    } else if c.eat_keyword("FLAGS") {
        false
    } else {
        return Err(c.expected("FLAGS"));
    };
    c.sp()?;
    let flags = if c.peek() == Some(b'(') {
        flag_list(c)?
    } else {
        let mut v = vec![flag(c)?];
        while c.eat(b' ') {
            v.push(flag(c)?);
        }
        v
    };
    Ok(CommandBody::Store { uid, set, unchanged_since, mode, silent, flags })
}

fn set_and_mailbox(c: &mut Cursor<'_>) -> Result<(crate::sequence::SequenceSet, Mailbox), ParseError> {
    c.sp()?;
    let set = sequence_set(c)?;
    c.sp()?;
    Ok((set, mailbox(c)?))
}

fn fetch(c: &mut Cursor<'_>, uid: bool) -> Result<CommandBody, ParseError> {
    c.sp()?;
    let set = sequence_set(c)?;
    c.sp()?;
    let attrs = fetch_atts(c)?;
    let modifiers = if c.eat(b' ') { fetch_modifiers(c)? } else { Vec::new() };
    Ok(CommandBody::Fetch { uid, set, attrs, modifiers })
}

fn id(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    c.sp()?;
    if c.eat_keyword("NIL") {
        return Ok(CommandBody::Id(None));
    }
    let mut fields = Vec::new();
    c.expect(b'(', "(")?;
    if !c.eat(b')') {
        loop {
            let k = c.string_utf8()?;
            c.sp()?;
            let at = c.pos();
            let v = c.nstring()?.map(String::from_utf8).transpose().map_err(|_| ParseError::InvalidUtf8(at))?;
            fields.push((k, v));
            if c.eat(b')') {
                break;
            }
            c.sp()?;
            if fields.len() >= 30 {
                return Err(c.expected("at most 30 ID fields"));
            }
        }
    }
    Ok(CommandBody::Id(Some(fields)))
}

fn arg_mailbox(c: &mut Cursor<'_>) -> Result<Mailbox, ParseError> {
    c.sp()?;
    mailbox(c)
}

fn arg_astring(c: &mut Cursor<'_>) -> Result<String, ParseError> {
    c.sp()?;
    c.astring_utf8()
}

fn body(c: &mut Cursor<'_>) -> Result<CommandBody, ParseError> {
    use CommandBody as B;
    let name = c.atom_upper()?;
    let uid = name == "UID";
    let name = if uid {
        c.sp()?;
        c.atom_upper()?
    } else {
        name
    };
    if uid && !matches!(name.as_str(), "FETCH" | "STORE" | "COPY" | "MOVE" | "SEARCH" | "SORT" | "THREAD" | "EXPUNGE") {
        return Err(ParseError::UnknownCommand(format!("UID {name}")));
    }
    Ok(match name.as_str() {
        "CAPABILITY" => B::Capability,
        "NOOP" => B::Noop,
        "LOGOUT" => B::Logout,
        "STARTTLS" => B::StartTls,
        "AUTHENTICATE" => {
            c.sp()?;
            let mechanism = c.atom_upper()?;
            let initial_response = if c.eat(b' ') {
                let r = c.take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
                if r.is_empty() {
                    return Err(c.expected("initial response"));
                }
                Some(String::from_utf8_lossy(r).into_owned())
            } else {
                None
            };
            B::Authenticate { mechanism, initial_response }
        }
        "LOGIN" => {
            c.sp()?;
            let username = c.astring()?;
            c.sp()?;
            B::Login { username, password: c.astring()? }
        }
        "ENABLE" => {
            let mut caps = Vec::new();
            while c.eat(b' ') {
                caps.push(c.atom_upper()?);
            }
            if caps.is_empty() {
                return Err(c.expected("capability"));
            }
            B::Enable(caps)
        }
        "SELECT" | "EXAMINE" => {
            let mailbox = arg_mailbox(c)?;
            B::Select { mailbox, read_only: name == "EXAMINE", params: select_params(c)? }
        }
        "CREATE" => {
            let mailbox = arg_mailbox(c)?;
            let mut special_use = Vec::new();
            if c.eat(b' ') {
                for mut uses in c.paren_list(false, |c| {
                    if !c.eat_keyword("USE") {
                        return Err(c.expected("USE"));
                    }
                    c.sp()?;
                    c.paren_list(false, |c| {
                        c.expect(b'\\', "\\")?;
                        Ok(format!("\\{}", String::from_utf8_lossy(c.atom()?)))
                    })
                })? {
                    special_use.append(&mut uses);
                }
            }
            B::Create { mailbox, special_use }
        }
        "DELETE" => B::Delete(arg_mailbox(c)?),
        "RENAME" => {
            let from = arg_mailbox(c)?;
            B::Rename { from, to: arg_mailbox(c)? }
        }
        "SUBSCRIBE" => B::Subscribe(arg_mailbox(c)?),
        "UNSUBSCRIBE" => B::Unsubscribe(arg_mailbox(c)?),
        "LIST" => list(c)?,
        "LSUB" => {
            let reference = arg_astring(c)?;
            c.sp()?;
            B::Lsub { reference, pattern: c.list_mailbox()? }
        }
        "NAMESPACE" => B::Namespace,
        "STATUS" => {
            let mailbox = arg_mailbox(c)?;
            c.sp()?;
            B::Status { mailbox, items: status_items(c)? }
        }
        "APPEND" => append(c)?,
        "IDLE" => B::Idle,
        "CHECK" => B::Check,
        "CLOSE" => B::Close,
        "UNSELECT" => B::Unselect,
        "EXPUNGE" if uid => {
            c.sp()?;
            B::Expunge { uids: Some(sequence_set(c)?) }
        }
        "EXPUNGE" => B::Expunge { uids: None },
        "SEARCH" => search(c, uid)?,
        "FETCH" => fetch(c, uid)?,
        "STORE" => store(c, uid)?,
        "COPY" => {
            let (set, mailbox) = set_and_mailbox(c)?;
            B::Copy { uid, set, mailbox }
        }
        "MOVE" => {
            let (set, mailbox) = set_and_mailbox(c)?;
            B::Move { uid, set, mailbox }
        }
        "ID" => id(c)?,
        "GETQUOTA" => B::GetQuota(arg_astring(c)?),
        "GETQUOTAROOT" => B::GetQuotaRoot(arg_mailbox(c)?),
        "SORT" => sort(c, uid)?,
        "THREAD" => {
            let algorithm = c.sp().and_then(|()| c.atom_upper())?;
            let charset = arg_astring(c)?;
            c.sp()?;
            B::Thread { uid, algorithm, charset, criteria: search_keys(c, 0)? }
        }
        "GETACL" => B::GetAcl(arg_mailbox(c)?),
        "MYRIGHTS" => B::MyRights(arg_mailbox(c)?),
        "SETACL" => {
            let mailbox = arg_mailbox(c)?;
            let identifier = arg_astring(c)?;
            B::SetAcl { mailbox, identifier, rights: arg_astring(c)? }
        }
        "DELETEACL" => {
            let mailbox = arg_mailbox(c)?;
            B::DeleteAcl { mailbox, identifier: arg_astring(c)? }
        }
        "LISTRIGHTS" => {
            let mailbox = arg_mailbox(c)?;
            B::ListRights { mailbox, identifier: arg_astring(c)? }
        }
        _ => return Err(ParseError::UnknownCommand(name)),
    })
}
