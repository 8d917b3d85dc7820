//! The objects VBScript has built in: `Err`, `Scripting.Dictionary` and `RegExp` with its
//! matches.

use crate::error::{HostError, ScriptError};
use crate::host::HostObject;
use crate::ops;
use crate::value::{Array, Value};
use std::sync::{Arc, Mutex, MutexGuard};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn arg(args: &[Value], i: usize, name: &str) -> Result<Value, HostError> {
    args.get(i).cloned().ok_or_else(|| HostError::Failed(450, format!("Wrong number of arguments: '{name}'")))
}

fn text(value: &Value) -> Result<String, HostError> {
    Ok(value.to_str().map_err(HostError::from)?.to_string())
}

#[derive(Default, Debug)]
struct ErrState {
    number: i32,
    description: String,
    source: String,
    line: u32,
}

/// The `Err` object.
#[derive(Default, Debug)]
pub struct ErrObject {
    state: Mutex<ErrState>,
}

impl ErrObject {
    pub fn set(&self, error: &ScriptError) {
        let mut state = lock(&self.state);
        state.number = error.number;
        state.description = error.description.clone();
        state.source = "Microsoft VBScript runtime error".into();
        state.line = error.line;
    }

    pub fn clear(&self) {
        *lock(&self.state) = ErrState::default();
    }
}

impl HostObject for ErrObject {
    fn type_name(&self) -> &str {
        "ErrObject"
    }

    fn get_property(&self, name: &str, _args: &[Value]) -> Result<Value, HostError> {
        let state = lock(&self.state);
        match name {
            "number" | "" => Ok(Value::Long(state.number)),
            "description" => Ok(Value::from(state.description.as_str())),
            "source" => Ok(Value::from(state.source.as_str())),
            "line" => Ok(Value::Long(state.line as i32)),
            "helpfile" => Ok(Value::from("")),
            "helpcontext" => Ok(Value::Long(0)),
            _ => Err(HostError::NoSuchMember(name.into())),
        }
    }

    fn set_property(&self, name: &str, _args: &[Value], value: Value) -> Result<(), HostError> {
        let mut state = lock(&self.state);
        match name {
            "number" | "" => state.number = value.to_i32().map_err(HostError::from)?,
            "description" => state.description = text(&value)?,
            "source" => state.source = text(&value)?,
            _ => return Err(HostError::NoSuchMember(name.into())),
        }
        Ok(())
    }

    fn call_method(&self, name: &str, args: &mut [Value]) -> Result<Value, HostError> {
        match name {
            "clear" => {
                self.clear();
                Ok(Value::Empty)
            }
            "raise" => {
                let number = arg(args, 0, "Raise")?.to_i32().map_err(HostError::from)?;
                let description = match args.get(2) {
                    Some(Value::Empty) | None => format!("Unknown runtime error {number}"),
                    Some(d) => text(d)?,
                };
                Err(HostError::Failed(number, description))
            }
            _ => Err(HostError::NoSuchMember(name.into())),
        }
    }
}

/// `Scripting.Dictionary`: keys in insertion order, compared as text (case-sensitive by
/// default, `CompareMode = 1` for case-insensitive) or as numbers.
#[derive(Default, Debug)]
pub struct Dictionary {
    state: Mutex<DictState>,
}

#[derive(Default, Debug)]
struct DictState {
    entries: Vec<(Value, Value)>,
    text_compare: bool,
}

impl Drop for DictState {
    fn drop(&mut self) {
        crate::value::drop_values(std::mem::take(&mut self.entries).into_iter().flat_map(|(k, v)| [k, v]));
    }
}

/// Entries of one dictionary; the values themselves are counted by the engine's budget.
const MAX_DICTIONARY_ENTRIES: usize = 1_000_000;

fn check_room(state: &DictState) -> Result<(), HostError> {
    if state.entries.len() >= MAX_DICTIONARY_ENTRIES {
        return Err(HostError::Failed(
            7,
            format!("Out of memory: a Dictionary holds at most {MAX_DICTIONARY_ENTRIES} entries"),
        ));
    }
    Ok(())
}

impl DictState {
    fn find(&self, key: &Value) -> Option<usize> {
        self.entries.iter().position(|(k, _)| self.same_key(k, key))
    }

    fn same_key(&self, a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Str(x), Value::Str(y)) => {
                if self.text_compare {
                    x.to_lowercase() == y.to_lowercase()
                } else {
                    x == y
                }
            }
            (Value::Str(_), _) | (_, Value::Str(_)) => false,
            (Value::Object(x), Value::Object(y)) => Arc::ptr_eq(x, y),
            _ => ops::compare_eq(a, b).unwrap_or(false),
        }
    }
}

impl HostObject for Dictionary {
    fn type_name(&self) -> &str {
        "Dictionary"
    }

    fn get_property(&self, name: &str, args: &[Value]) -> Result<Value, HostError> {
        let mut state = lock(&self.state);
        match name {
            "count" => Ok(Value::Long(state.entries.len() as i32)),
            "item" | "" => {
                let key = arg(args, 0, "Item")?;
                match state.find(&key) {
                    Some(i) => Ok(state.entries[i].1.clone()),
                    None => {
                        // reading a missing key adds it, as in VBScript
                        check_room(&state)?;
                        state.entries.push((key, Value::Empty));
                        Ok(Value::Empty)
                    }
                }
            }
            "comparemode" => Ok(Value::Long(i32::from(state.text_compare))),
            _ => Err(HostError::NoSuchMember(name.into())),
        }
    }

    fn set_property(&self, name: &str, args: &[Value], value: Value) -> Result<(), HostError> {
        let mut state = lock(&self.state);
        match name {
            "item" | "" => {
                let key = arg(args, 0, "Item")?;
                match state.find(&key) {
                    Some(i) => state.entries[i].1 = value,
                    None => {
                        check_room(&state)?;
                        state.entries.push((key, value));
                    }
                }
                Ok(())
            }
            "key" => {
                let key = arg(args, 0, "Key")?;
                let i = state.find(&key).ok_or_else(|| HostError::Failed(32811, "Element not found".into()))?;
                state.entries[i].0 = value;
                Ok(())
            }
            "comparemode" => {
                state.text_compare = value.to_i32().map_err(HostError::from)? == 1;
                Ok(())
            }
            _ => Err(HostError::NoSuchMember(name.into())),
        }
    }

    fn call_method(&self, name: &str, args: &mut [Value]) -> Result<Value, HostError> {
        let mut state = lock(&self.state);
        match name {
            "add" => {
                let key = arg(args, 0, "Add")?;
                let value = arg(args, 1, "Add")?;
                if state.find(&key).is_some() {
                    return Err(HostError::Failed(
                        457,
                        "This key is already associated with an element of this collection".into(),
                    ));
                }
                state.entries.push((key, value));
                Ok(Value::Empty)
            }
            "exists" => {
                let key = arg(args, 0, "Exists")?;
                Ok(Value::Bool(state.find(&key).is_some()))
            }
            "remove" => {
                let key = arg(args, 0, "Remove")?;
                let i = state.find(&key).ok_or_else(|| HostError::Failed(32811, "Element not found".into()))?;
                state.entries.remove(i);
                Ok(Value::Empty)
            }
            "removeall" => {
                state.entries.clear();
                Ok(Value::Empty)
            }
            "keys" => {
                Ok(Value::Array(Arc::new(Array::from_values(state.entries.iter().map(|(k, _)| k.clone()).collect()))))
            }
            "items" => {
                Ok(Value::Array(Arc::new(Array::from_values(state.entries.iter().map(|(_, v)| v.clone()).collect()))))
            }
            _ => Err(HostError::NoSuchMember(name.into())),
        }
    }

    fn enumerate(&self) -> Result<Vec<Value>, HostError> {
        Ok(lock(&self.state).entries.iter().map(|(k, _)| k.clone()).collect())
    }
}

/// `New RegExp`: Pattern, IgnoreCase, Global, Multiline; Test, Execute, Replace.
#[derive(Default, Debug)]
pub struct RegExp {
    state: Mutex<RegExpState>,
}

#[derive(Default, Debug)]
struct RegExpState {
    pattern: String,
    ignore_case: bool,
    global: bool,
    multiline: bool,
    compiled: Option<(String, Arc<fancy_regex::Regex>)>,
}

/// Patterns longer than this are refused, so compiling one stays cheap.
const MAX_PATTERN_BYTES: usize = 8 * 1024;

impl RegExpState {
    fn regex(&mut self) -> Result<Arc<fancy_regex::Regex>, HostError> {
        let mut flags = String::new();
        if self.ignore_case {
            flags.push('i');
        }
        if self.multiline {
            flags.push('m');
        }
        let full = if flags.is_empty() { self.pattern.clone() } else { format!("(?{flags}){}", self.pattern) };
        if let Some((source, regex)) = &self.compiled
            && *source == full
        {
            return Ok(regex.clone());
        }
        if self.pattern.len() > MAX_PATTERN_BYTES {
            return Err(HostError::Failed(5017, "Syntax error in regular expression: pattern too long".into()));
        }
        let regex = fancy_regex::RegexBuilder::new(&full)
            .backtrack_limit(1_000_000)
            .build()
            .map_err(|e| HostError::Failed(5017, format!("Syntax error in regular expression: {e}")))?;
        let regex = Arc::new(regex);
        self.compiled = Some((full, regex.clone()));
        Ok(regex)
    }
}

fn regex_error(e: fancy_regex::Error) -> HostError {
    HostError::Failed(5017, format!("Regular expression failed: {e}"))
}

/// The character offset of a byte offset (VBScript positions count characters).
fn char_index(s: &str, byte: usize) -> usize {
    s.get(..byte).map_or(0, |prefix| prefix.chars().count())
}

/// Expands `$1`, `$&`, `$$` of a replacement text.
fn expand(replacement: &str, caps: &fancy_regex::Captures<'_, str>) -> String {
    let mut out = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('$') => {
                chars.next();
                out.push('$');
            }
            Some('&') => {
                chars.next();
                out.push_str(caps.get(0).map_or("", |m| m.as_str()));
            }
            Some(d) if d.is_ascii_digit() => {
                chars.next();
                let mut number = d.to_digit(10).unwrap_or(0) as usize;
                if let Some(&d2) = chars.peek()
                    && d2.is_ascii_digit()
                {
                    let two = number * 10 + d2.to_digit(10).unwrap_or(0) as usize;
                    if two < caps.len() {
                        number = two;
                        chars.next();
                    }
                }
                if number > 0 && number < caps.len() {
                    out.push_str(caps.get(number).map_or("", |m| m.as_str()));
                } else {
                    out.push('$');
                    out.push(d);
                }
            }
            _ => out.push('$'),
        }
    }
    out
}

impl HostObject for RegExp {
    fn type_name(&self) -> &str {
        "IRegExp2"
    }

    fn get_property(&self, name: &str, _args: &[Value]) -> Result<Value, HostError> {
        let state = lock(&self.state);
        match name {
            "pattern" => Ok(Value::from(state.pattern.as_str())),
            "ignorecase" => Ok(Value::Bool(state.ignore_case)),
            "global" => Ok(Value::Bool(state.global)),
            "multiline" => Ok(Value::Bool(state.multiline)),
            _ => Err(HostError::NoSuchMember(name.into())),
        }
    }

    fn set_property(&self, name: &str, _args: &[Value], value: Value) -> Result<(), HostError> {
        let mut state = lock(&self.state);
        match name {
            "pattern" => state.pattern = text(&value)?,
            "ignorecase" => state.ignore_case = value.to_bool().map_err(HostError::from)?,
            "global" => state.global = value.to_bool().map_err(HostError::from)?,
            "multiline" => state.multiline = value.to_bool().map_err(HostError::from)?,
            _ => return Err(HostError::NoSuchMember(name.into())),
        }
        Ok(())
    }

    fn call_method(&self, name: &str, args: &mut [Value]) -> Result<Value, HostError> {
        let (regex, global) = {
            let mut state = lock(&self.state);
            if !matches!(name, "test" | "execute" | "replace") {
                return Err(HostError::NoSuchMember(name.into()));
            }
            (state.regex()?, state.global)
        };
        let subject = text(&arg(args, 0, name)?)?;
        match name {
            "test" => Ok(Value::Bool(regex.is_match(subject.as_str()).map_err(regex_error)?)),
            "execute" => {
                let mut matches = Vec::new();
                for caps in regex.captures_iter(subject.as_str()) {
                    let caps = caps.map_err(regex_error)?;
                    let Some(whole) = caps.get(0) else { continue };
                    let submatches = (1..caps.len())
                        .map(|i| caps.get(i).map_or(Value::Empty, |m| Value::from(m.as_str())))
                        .collect();
                    matches.push(Value::Object(Arc::new(Match {
                        value: whole.as_str().to_string(),
                        first_index: char_index(&subject, whole.start()),
                        submatches: Arc::new(Collection { type_name: "ISubMatches", items: submatches }),
                    })));
                    if !global {
                        break;
                    }
                }
                Ok(Value::Object(Arc::new(Collection { type_name: "IMatchCollection2", items: matches })))
            }
            _ => {
                let replacement = text(&arg(args, 1, "Replace")?)?;
                let mut out = String::new();
                let mut last = 0;
                for caps in regex.captures_iter(subject.as_str()) {
                    let caps = caps.map_err(regex_error)?;
                    let Some(whole) = caps.get(0) else { continue };
                    out.push_str(subject.get(last..whole.start()).unwrap_or(""));
                    out.push_str(&expand(&replacement, &caps));
                    last = whole.end();
                    if out.len() > 64 * 1024 * 1024 {
                        return Err(HostError::Failed(7, "Out of memory".into()));
                    }
                    if !global {
                        break;
                    }
                }
                out.push_str(subject.get(last..).unwrap_or(""));
                Ok(Value::from(out))
            }
        }
    }
}

/// A read-only collection: `Matches` and `SubMatches`.
#[derive(Debug)]
pub struct Collection {
    type_name: &'static str,
    items: Vec<Value>,
}

impl HostObject for Collection {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn get_property(&self, name: &str, args: &[Value]) -> Result<Value, HostError> {
        match name {
            "count" => Ok(Value::Long(self.items.len() as i32)),
            "item" | "" => {
                let index = arg(args, 0, "Item")?.to_i64().map_err(HostError::from)?;
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.items.get(i))
                    .cloned()
                    .ok_or_else(|| HostError::Failed(5, "Invalid procedure call or argument".into()))
            }
            _ => Err(HostError::NoSuchMember(name.into())),
        }
    }

    fn enumerate(&self) -> Result<Vec<Value>, HostError> {
        Ok(self.items.clone())
    }
}

/// One match of `RegExp.Execute`.
#[derive(Debug)]
pub struct Match {
    value: String,
    first_index: usize,
    submatches: Arc<Collection>,
}

impl HostObject for Match {
    fn type_name(&self) -> &str {
        "IMatch2"
    }

    fn get_property(&self, name: &str, args: &[Value]) -> Result<Value, HostError> {
        match name {
            // `m.SubMatches(1)` is `m.SubMatches.Item(1)`
            "submatches" if !args.is_empty() => self.submatches.get_property("", args),
            "value" | "" => Ok(Value::from(self.value.as_str())),
            "firstindex" => Ok(Value::Long(self.first_index as i32)),
            "length" => Ok(Value::Long(self.value.chars().count() as i32)),
            "submatches" => Ok(Value::Object(self.submatches.clone())),
            _ => Err(HostError::NoSuchMember(name.into())),
        }
    }
}
