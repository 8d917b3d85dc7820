//! VBScript's built-in functions and constants.

use crate::dates;
use crate::error::ScriptError;
use crate::interp::Engine;
use crate::value::{Array, Value, round_half_even};
use std::sync::Arc;

macro_rules! builtins {
    ($($variant:ident = $name:literal,)*) => {
        /// A built-in function, found by name when the script is compiled.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Builtin { $($variant,)* }

        impl Builtin {
            /// The built-in of a lower-case name.
            pub fn from_name(name: &str) -> Option<Builtin> {
                match name {
                    $($name => Some(Builtin::$variant),)*
                    _ => None,
                }
            }

            pub fn name(self) -> &'static str {
                match self { $(Builtin::$variant => $name,)* }
            }
        }
    };
}

builtins! {
    Mid = "mid", Left = "left", Right = "right", Trim = "trim", LTrim = "ltrim", RTrim = "rtrim",
    LCase = "lcase", UCase = "ucase", Len = "len", InStr = "instr", InStrRev = "instrrev",
    Split = "split", Join = "join", Replace = "replace", Space = "space", StringFn = "string",
    StrReverse = "strreverse", StrComp = "strcomp", Asc = "asc", AscW = "ascw", Chr = "chr", ChrW = "chrw",
    Hex = "hex", Oct = "oct", Filter = "filter",
    CStr = "cstr", CInt = "cint", CLng = "clng", CDbl = "cdbl", CSng = "csng", CBool = "cbool",
    CByte = "cbyte", CDate = "cdate", CCur = "ccur",
    IsNumeric = "isnumeric", IsEmpty = "isempty", IsNull = "isnull", IsArray = "isarray",
    IsObject = "isobject", IsDate = "isdate", TypeName = "typename", VarType = "vartype",
    Abs = "abs", Int = "int", Fix = "fix", Round = "round", Sgn = "sgn", Sqr = "sqr", Rnd = "rnd",
    Randomize = "randomize", Exp = "exp", Log = "log",
    UBound = "ubound", LBound = "lbound", ArrayFn = "array",
    Now = "now", Date = "date", Time = "time", Timer = "timer", Year = "year", Month = "month",
    Day = "day", Hour = "hour", Minute = "minute", Second = "second", Weekday = "weekday",
    DateAdd = "dateadd", DateDiff = "datediff", DatePart = "datepart", DateSerial = "dateserial",
    TimeSerial = "timeserial", DateValue = "datevalue", TimeValue = "timevalue",
    FormatDateTime = "formatdatetime", FormatNumber = "formatnumber", MonthName = "monthname",
    WeekdayName = "weekdayname",
    CreateObject = "createobject", Eval = "eval", Execute = "execute", ExecuteGlobal = "executeglobal",
    MsgBox = "msgbox",
}

/// The value of a built-in constant (`vbCrLf`, `vbTextCompare`, ...).
pub fn constant(name: &str) -> Option<Value> {
    Some(match name {
        "vbcrlf" | "vbnewline" => Value::from("\r\n"),
        "vbcr" => Value::from("\r"),
        "vblf" => Value::from("\n"),
        "vbtab" => Value::from("\t"),
        "vbnullstring" => Value::from(""),
        "vbnullchar" => Value::from("\0"),
        "vbbinarycompare" | "vbgeneraldate" | "vbempty" | "vbok" => Value::Long(0),
        "vbtextcompare" | "vblongdate" | "vbsunday" | "vbnull" => Value::Long(1),
        "vbshortdate" | "vbmonday" | "vbinteger" => Value::Long(2),
        "vblongtime" | "vbtuesday" | "vblong" => Value::Long(3),
        "vbshorttime" | "vbwednesday" => Value::Long(4),
        "vbthursday" | "vbdouble" => Value::Long(5),
        "vbfriday" => Value::Long(6),
        "vbsaturday" | "vbdate" => Value::Long(7),
        "vbstring" => Value::Long(8),
        "vbobject" => Value::Long(9),
        "vbboolean" => Value::Long(11),
        "vbarray" => Value::Long(8192),
        "vbtrue" => Value::Long(-1),
        "vbfalse" => Value::Long(0),
        "vbusedefault" => Value::Long(-2),
        "vbobjecterror" => Value::Long(-2147221504),
        _ => return None,
    })
}

fn arg(args: &[Value], i: usize, f: Builtin) -> Result<&Value, ScriptError> {
    args.get(i).ok_or_else(|| ScriptError::wrong_arguments(f.name()))
}

/// An optional argument: missing and `Empty` (an empty argument) are both absent.
fn opt(args: &[Value], i: usize) -> Option<&Value> {
    args.get(i).filter(|v| !matches!(v, Value::Empty))
}

fn count_args(args: &[Value], min: usize, max: usize, f: Builtin) -> Result<(), ScriptError> {
    if args.len() < min || args.len() > max {
        return Err(ScriptError::wrong_arguments(f.name()));
    }
    Ok(())
}

/// Text of a string argument; Null gives `None` (most functions then return Null).
fn text(value: &Value) -> Result<Option<Arc<str>>, ScriptError> {
    match value {
        Value::Null => Ok(None),
        other => other.to_str().map(Some),
    }
}

/// The characters from `start` (0-based) of at most `len` characters.
fn substring(s: &str, start: usize, len: usize) -> &str {
    if s.is_ascii() {
        let start = start.min(s.len());
        let end = start.saturating_add(len).min(s.len());
        return &s[start..end];
    }
    let mut indices = s.char_indices().map(|(i, _)| i).chain(std::iter::once(s.len()));
    let begin = indices.nth(start).unwrap_or(s.len());
    let end = if len == 0 {
        begin
    } else {
        s.char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .nth(start.saturating_add(len))
            .unwrap_or(s.len())
    };
    s.get(begin..end.max(begin)).unwrap_or("")
}

fn char_len(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.chars().count() }
}

fn non_negative(value: &Value, f: Builtin) -> Result<usize, ScriptError> {
    usize::try_from(value.to_i64()?).map_err(|_| ScriptError::invalid_call(f.name()))
}

/// Finds `needle` in `hay` from character `start` (0-based), returns the 0-based character
/// position.
fn find(hay: &str, needle: &str, start: usize, text_compare: bool) -> Option<usize> {
    let (hay, needle) = fold(hay, needle, text_compare);
    let from = byte_of_char(&hay, start)?;
    let at = hay.get(from..)?.find(needle.as_str())?;
    Some(char_len(&hay[..from + at]))
}

fn find_rev(hay: &str, needle: &str, end: usize, text_compare: bool) -> Option<usize> {
    let (hay, needle) = fold(hay, needle, text_compare);
    let end = byte_of_char(&hay, end).unwrap_or(hay.len());
    let at = hay.get(..end)?.rfind(needle.as_str())?;
    Some(char_len(&hay[..at]))
}

/// Case folding for text comparison that keeps character positions: ASCII only when the
/// lower-case form would change the length.
fn fold(hay: &str, needle: &str, text_compare: bool) -> (String, String) {
    if !text_compare {
        return (hay.to_string(), needle.to_string());
    }
    let lower = |s: &str| {
        let l = s.to_lowercase();
        if l.chars().count() == s.chars().count() { l } else { s.to_ascii_lowercase() }
    };
    (lower(hay), lower(needle))
}

fn byte_of_char(s: &str, index: usize) -> Option<usize> {
    if index == 0 {
        return Some(0);
    }
    s.char_indices().map(|(i, _)| i).chain(std::iter::once(s.len())).nth(index)
}

fn compare_mode(value: Option<&Value>) -> Result<bool, ScriptError> {
    Ok(match value {
        Some(v) => v.to_i32()? == 1,
        None => false,
    })
}

fn new_array(engine: &mut Engine, items: Vec<Value>) -> Result<Value, ScriptError> {
    engine.charge_array(items.len())?;
    Ok(Value::Array(Arc::new(Array::from_values(items))))
}

fn date_arg(value: &Value) -> Result<f64, ScriptError> {
    match value {
        Value::Date(d) => Ok(*d),
        Value::Str(s) => dates::parse(s).ok_or_else(|| ScriptError::type_mismatch(s)),
        other => other.to_f64(),
    }
}

fn datetime(value: &Value) -> Result<chrono::NaiveDateTime, ScriptError> {
    dates::to_datetime(date_arg(value)?).ok_or_else(ScriptError::overflow)
}

fn string_result(engine: &mut Engine, s: String) -> Result<Value, ScriptError> {
    engine.charge(s.len())?;
    Ok(Value::from(s))
}

pub fn call(engine: &mut Engine, f: Builtin, args: Vec<Value>) -> Result<Value, ScriptError> {
    use Builtin as B;
    use chrono::{Datelike, Timelike};
    let a = &args;
    // Null in, Null out for the string functions
    macro_rules! text_or_null {
        ($i:expr) => {
            match text(arg(a, $i, f)?)? {
                Some(s) => s,
                None => return Ok(Value::Null),
            }
        };
    }
    Ok(match f {
        B::Len => match arg(a, 0, f)? {
            Value::Null => Value::Null,
            v => Value::Long(char_len(&v.to_str()?) as i32),
        },
        B::Mid => {
            count_args(a, 2, 3, f)?;
            let s = text_or_null!(0);
            let start = a[1].to_i64()?;
            if start < 1 {
                return Err(ScriptError::invalid_call("Mid"));
            }
            let len = match opt(a, 2) {
                Some(l) => non_negative(l, f)?,
                None => usize::MAX,
            };
            Value::from(substring(&s, (start - 1) as usize, len))
        }
        B::Left => {
            count_args(a, 2, 2, f)?;
            let s = text_or_null!(0);
            Value::from(substring(&s, 0, non_negative(&a[1], f)?))
        }
        B::Right => {
            count_args(a, 2, 2, f)?;
            let s = text_or_null!(0);
            let n = non_negative(&a[1], f)?;
            let len = char_len(&s);
            Value::from(substring(&s, len.saturating_sub(n), n))
        }
        B::Trim => Value::from(text_or_null!(0).trim_matches(' ')),
        B::LTrim => Value::from(text_or_null!(0).trim_start_matches(' ')),
        B::RTrim => Value::from(text_or_null!(0).trim_end_matches(' ')),
        B::LCase => Value::from(text_or_null!(0).to_lowercase()),
        B::UCase => Value::from(text_or_null!(0).to_uppercase()),
        B::InStr => {
            count_args(a, 2, 4, f)?;
            // InStr([start, ]string1, string2[, compare]): the start is there with 3 or 4 arguments
            let (start, i) = if a.len() >= 3 { (a[0].to_i64()?, 1) } else { (1, 0) };
            if start < 1 {
                return Err(ScriptError::invalid_call("InStr"));
            }
            let (Some(hay), Some(needle)) = (text(&a[i])?, text(&a[i + 1])?) else { return Ok(Value::Null) };
            let text_compare = compare_mode(opt(a, i + 2))?;
            let start = (start - 1) as usize;
            if start > char_len(&hay) {
                return Ok(Value::Long(0));
            }
            if needle.is_empty() {
                return Ok(Value::Long(start as i32 + 1));
            }
            Value::Long(find(&hay, &needle, start, text_compare).map_or(0, |p| p as i32 + 1))
        }
        B::InStrRev => {
            count_args(a, 2, 4, f)?;
            let hay = text_or_null!(0);
            let needle = text_or_null!(1);
            let len = char_len(&hay);
            let start = match opt(a, 2) {
                Some(s) => s.to_i64()?,
                None => -1,
            };
            if start == 0 || start < -1 {
                return Err(ScriptError::invalid_call("InStrRev"));
            }
            let end = if start == -1 { len } else { (start as usize).min(len) };
            if needle.is_empty() {
                return Ok(Value::Long(end as i32));
            }
            let end = (end + char_len(&needle)).saturating_sub(1).min(len).max(end.min(len));
            let text_compare = compare_mode(opt(a, 3))?;
            Value::Long(find_rev(&hay, &needle, end, text_compare).map_or(0, |p| p as i32 + 1))
        }
        B::Replace => {
            count_args(a, 3, 6, f)?;
            let s = text_or_null!(0);
            let find_text = text_or_null!(1);
            let with = text_or_null!(2);
            let start = match opt(a, 3) {
                Some(v) => v.to_i64()?,
                None => 1,
            };
            if start < 1 {
                return Err(ScriptError::invalid_call("Replace"));
            }
            let count = match opt(a, 4) {
                Some(v) => v.to_i64()?,
                None => -1,
            };
            let text_compare = compare_mode(opt(a, 5))?;
            // like VBScript, the result starts at `start`
            let tail = substring(&s, (start - 1) as usize, usize::MAX);
            let replaced = replace(tail, &find_text, &with, count, text_compare);
            string_result(engine, replaced)?
        }
        B::Split => {
            count_args(a, 1, 4, f)?;
            let s = text_or_null!(0);
            let delimiter = match opt(a, 1) {
                Some(d) => d.to_str()?,
                None => Arc::from(" "),
            };
            let limit = match opt(a, 2) {
                Some(v) => v.to_i64()?,
                None => -1,
            };
            let text_compare = compare_mode(opt(a, 3))?;
            let parts: Vec<Value> = if s.is_empty() {
                Vec::new()
            } else if delimiter.is_empty() {
                vec![Value::Str(s.clone())]
            } else {
                split(&s, &delimiter, limit, text_compare).into_iter().map(Value::from).collect()
            };
            engine.charge(s.len())?;
            new_array(engine, parts)?
        }
        B::Join => {
            count_args(a, 1, 2, f)?;
            let Value::Array(array) = &a[0] else { return Err(ScriptError::type_mismatch("Join")) };
            let delimiter = match opt(a, 1) {
                Some(d) => d.to_str()?,
                None => Arc::from(" "),
            };
            let mut out = String::new();
            for (i, item) in array.items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&delimiter);
                }
                out.push_str(&match item {
                    Value::Null => Arc::from(""),
                    other => other.to_str()?,
                });
                if out.len() > engine.limits.max_string_bytes {
                    return Err(ScriptError::limit("String too long"));
                }
            }
            string_result(engine, out)?
        }
        B::Filter => {
            count_args(a, 2, 4, f)?;
            let Value::Array(array) = &a[0] else { return Err(ScriptError::type_mismatch("Filter")) };
            let needle = a[1].to_str()?;
            let include = match opt(a, 2) {
                Some(v) => v.to_bool()?,
                None => true,
            };
            let text_compare = compare_mode(opt(a, 3))?;
            let mut out = Vec::new();
            for item in array.items.iter() {
                let s = item.to_str()?;
                if find(&s, &needle, 0, text_compare).is_some() == include {
                    out.push(item.clone());
                }
            }
            new_array(engine, out)?
        }
        B::Space => {
            let n = non_negative(arg(a, 0, f)?, f)?;
            engine.charge(n)?;
            Value::from(" ".repeat(n))
        }
        B::StringFn => {
            count_args(a, 2, 2, f)?;
            let n = non_negative(&a[0], f)?;
            let c = match &a[1] {
                Value::Str(s) => s.chars().next().ok_or_else(|| ScriptError::invalid_call("String"))?,
                other => char::from_u32(other.to_i64()? as u32 & 0xff).unwrap_or(' '),
            };
            engine.charge(n.saturating_mul(c.len_utf8()))?;
            Value::from(c.to_string().repeat(n))
        }
        B::StrReverse => Value::from(text_or_null!(0).chars().rev().collect::<String>()),
        B::StrComp => {
            count_args(a, 2, 3, f)?;
            let (Some(x), Some(y)) = (text(&a[0])?, text(&a[1])?) else { return Ok(Value::Null) };
            let ordering = if compare_mode(opt(a, 2))? { x.to_lowercase().cmp(&y.to_lowercase()) } else { x.cmp(&y) };
            Value::Integer(ordering as i16)
        }
        B::Asc | B::AscW => {
            let s = text_or_null!(0);
            let c = s.chars().next().ok_or_else(|| ScriptError::invalid_call("Asc"))?;
            Value::Long(c as i32)
        }
        B::Chr | B::ChrW => {
            let code = arg(a, 0, f)?.to_i64()?;
            let c =
                u32::try_from(code).ok().and_then(char::from_u32).ok_or_else(|| ScriptError::invalid_call("Chr"))?;
            Value::from(c.to_string())
        }
        B::Hex => Value::from(format!("{:X}", arg(a, 0, f)?.to_i32()?)),
        B::Oct => Value::from(format!("{:o}", arg(a, 0, f)?.to_i32()?)),
        B::CStr => Value::Str(arg(a, 0, f)?.to_str()?),
        B::CInt => {
            let v = arg(a, 0, f)?.to_i32()?;
            Value::Integer(i16::try_from(v).map_err(|_| ScriptError::overflow())?)
        }
        B::CByte => {
            let v = arg(a, 0, f)?.to_i32()?;
            Value::Integer(u8::try_from(v).map_err(|_| ScriptError::overflow())?.into())
        }
        B::CLng => Value::Long(arg(a, 0, f)?.to_i32()?),
        B::CDbl | B::CSng | B::CCur => Value::Double(arg(a, 0, f)?.to_f64()?),
        B::CBool => Value::Bool(arg(a, 0, f)?.to_bool()?),
        B::CDate | B::DateValue | B::TimeValue => {
            let d = date_arg(arg(a, 0, f)?)?;
            match f {
                B::DateValue => Value::Date(d.trunc()),
                B::TimeValue => Value::Date(d.fract().abs()),
                _ => Value::Date(d),
            }
        }
        B::IsNumeric => Value::Bool(arg(a, 0, f)?.is_numeric()),
        B::IsEmpty => Value::Bool(matches!(arg(a, 0, f)?, Value::Empty)),
        B::IsNull => Value::Bool(matches!(arg(a, 0, f)?, Value::Null)),
        B::IsArray => Value::Bool(matches!(arg(a, 0, f)?, Value::Array(_))),
        B::IsObject => Value::Bool(arg(a, 0, f)?.is_object()),
        B::IsDate => Value::Bool(match arg(a, 0, f)? {
            Value::Date(_) => true,
            Value::Str(s) => dates::parse(s).is_some(),
            _ => false,
        }),
        B::TypeName => Value::from(arg(a, 0, f)?.type_name()),
        B::VarType => Value::Long(arg(a, 0, f)?.var_type()),
        B::Abs => match arg(a, 0, f)? {
            Value::Null => Value::Null,
            Value::Integer(i) => crate::value::Num::fit(i64::from(*i).abs(), crate::value::Num::Integer(0)),
            Value::Long(i) => crate::value::Num::fit(i64::from(*i).abs(), crate::value::Num::Long(0)),
            v => Value::Double(v.to_f64()?.abs()),
        },
        B::Int | B::Fix => match arg(a, 0, f)? {
            Value::Null => Value::Null,
            v @ (Value::Integer(_) | Value::Long(_)) => v.clone(),
            v => {
                let d = v.to_f64()?;
                Value::Double(if f == B::Int { d.floor() } else { d.trunc() })
            }
        },
        B::Round => {
            let d = arg(a, 0, f)?.to_f64()?;
            let places = match opt(a, 1) {
                Some(p) => p.to_i32()?.clamp(0, 15),
                None => 0,
            };
            let scale = 10f64.powi(places);
            let r = round_half_even(d * scale) / scale;
            if places == 0 && r.abs() < 2_147_483_647.0 && matches!(a[0], Value::Integer(_) | Value::Long(_)) {
                a[0].clone()
            } else {
                Value::Double(r)
            }
        }
        B::Sgn => Value::Integer(match arg(a, 0, f)?.to_f64()? {
            d if d > 0.0 => 1,
            d if d < 0.0 => -1,
            _ => 0,
        }),
        B::Sqr => {
            let d = arg(a, 0, f)?.to_f64()?;
            if d < 0.0 {
                return Err(ScriptError::invalid_call("Sqr"));
            }
            Value::Double(d.sqrt())
        }
        B::Exp => Value::Double(arg(a, 0, f)?.to_f64()?.exp()),
        B::Log => {
            let d = arg(a, 0, f)?.to_f64()?;
            if d <= 0.0 {
                return Err(ScriptError::invalid_call("Log"));
            }
            Value::Double(d.ln())
        }
        B::Rnd => Value::Double(random()),
        B::Randomize => Value::Empty,
        B::UBound | B::LBound => {
            count_args(a, 1, 2, f)?;
            let Value::Array(array) = &a[0] else { return Err(ScriptError::type_mismatch(f.name())) };
            let dimension = match opt(a, 1) {
                Some(d) => d.to_i64()? - 1,
                None => 0,
            };
            let dimension = usize::try_from(dimension).map_err(|_| ScriptError::subscript_out_of_range())?;
            let upper = array.upper_bound(dimension).ok_or_else(ScriptError::subscript_out_of_range)?;
            if f == B::LBound { Value::Long(0) } else { Value::Long(upper as i32) }
        }
        B::ArrayFn => new_array(engine, args.clone())?,
        B::Now => Value::Date(dates::now()),
        B::Date => Value::Date(dates::now().trunc()),
        B::Time => Value::Date(dates::now().fract()),
        B::Timer => {
            let now = chrono::Local::now();
            Value::Double(f64::from(now.num_seconds_from_midnight()) + f64::from(now.nanosecond() / 1_000_000) / 1000.0)
        }
        B::Year => Value::Long(datetime(arg(a, 0, f)?)?.year()),
        B::Month => Value::Long(datetime(arg(a, 0, f)?)?.month() as i32),
        B::Day => Value::Long(datetime(arg(a, 0, f)?)?.day() as i32),
        B::Hour => Value::Long(datetime(arg(a, 0, f)?)?.hour() as i32),
        B::Minute => Value::Long(datetime(arg(a, 0, f)?)?.minute() as i32),
        B::Second => Value::Long(datetime(arg(a, 0, f)?)?.second() as i32),
        B::Weekday => Value::Long(datetime(arg(a, 0, f)?)?.weekday().number_from_sunday() as i32),
        B::DateAdd => {
            count_args(a, 3, 3, f)?;
            let interval = dates::interval(&a[0].to_str()?).ok_or_else(|| ScriptError::invalid_call("DateAdd"))?;
            let amount = a[1].to_f64()?.trunc() as i64;
            Value::Date(dates::add(interval, amount, date_arg(&a[2])?).ok_or_else(ScriptError::overflow)?)
        }
        B::DateDiff => {
            count_args(a, 3, 5, f)?;
            let interval = dates::interval(&a[0].to_str()?).ok_or_else(|| ScriptError::invalid_call("DateDiff"))?;
            let diff = dates::diff(interval, date_arg(&a[1])?, date_arg(&a[2])?).ok_or_else(ScriptError::overflow)?;
            crate::value::Num::fit(diff, crate::value::Num::Long(0))
        }
        B::DatePart => {
            count_args(a, 2, 4, f)?;
            let interval = dates::interval(&a[0].to_str()?).ok_or_else(|| ScriptError::invalid_call("DatePart"))?;
            let dt = datetime(&a[1])?;
            Value::Long(match interval {
                dates::Interval::Year => dt.year(),
                dates::Interval::Quarter => dt.month0() as i32 / 3 + 1,
                dates::Interval::Month => dt.month() as i32,
                dates::Interval::DayOfYear => dt.ordinal() as i32,
                dates::Interval::Day => dt.day() as i32,
                dates::Interval::Weekday => dt.weekday().number_from_sunday() as i32,
                dates::Interval::Week => {
                    (dt.ordinal0() as i32 + dt.with_ordinal(1).map_or(0, |d| d.weekday().num_days_from_sunday() as i32))
                        / 7
                        + 1
                }
                dates::Interval::Hour => dt.hour() as i32,
                dates::Interval::Minute => dt.minute() as i32,
                dates::Interval::Second => dt.second() as i32,
            })
        }
        B::DateSerial => {
            count_args(a, 3, 3, f)?;
            Value::Date(
                dates::from_parts(a[0].to_i64()?, a[1].to_i64()?, a[2].to_i64()?).ok_or_else(ScriptError::overflow)?,
            )
        }
        B::TimeSerial => {
            count_args(a, 3, 3, f)?;
            Value::Date(dates::time_from_parts(a[0].to_i64()?, a[1].to_i64()?, a[2].to_i64()?))
        }
        B::FormatDateTime => {
            count_args(a, 1, 2, f)?;
            let format = match opt(a, 1) {
                Some(v) => v.to_i32()?,
                None => 0,
            };
            Value::from(
                dates::format(date_arg(&a[0])?, format).ok_or_else(|| ScriptError::invalid_call("FormatDateTime"))?,
            )
        }
        B::FormatNumber => {
            count_args(a, 1, 5, f)?;
            let d = a[0].to_f64()?;
            let places = match opt(a, 1) {
                Some(v) => v.to_i32()?.clamp(0, 15) as usize,
                None => 2,
            };
            Value::from(format_number(d, places))
        }
        B::MonthName => {
            let m = arg(a, 0, f)?.to_i64()?;
            let abbreviate = match opt(a, 1) {
                Some(v) => v.to_bool()?,
                None => false,
            };
            let date = u32::try_from(m)
                .ok()
                .and_then(|m| chrono::NaiveDate::from_ymd_opt(2000, m, 1))
                .ok_or_else(|| ScriptError::invalid_call("MonthName"))?;
            Value::from(date.format(if abbreviate { "%b" } else { "%B" }).to_string())
        }
        B::WeekdayName => {
            let d = arg(a, 0, f)?.to_i64()?;
            let abbreviate = match opt(a, 1) {
                Some(v) => v.to_bool()?,
                None => false,
            };
            // 2000-01-02 was a Sunday
            let date = u32::try_from(d)
                .ok()
                .filter(|d| (1..=7).contains(d))
                .and_then(|d| chrono::NaiveDate::from_ymd_opt(2000, 1, 1 + d))
                .ok_or_else(|| ScriptError::invalid_call("WeekdayName"))?;
            Value::from(date.format(if abbreviate { "%a" } else { "%A" }).to_string())
        }
        B::MsgBox => Value::Long(1),
        B::CreateObject | B::Eval | B::Execute | B::ExecuteGlobal => {
            return Err(ScriptError::runtime(5, "Invalid procedure call"));
        }
    })
}

fn format_number(d: f64, places: usize) -> String {
    let fixed = format!("{:.*}", places, d.abs());
    let (int, frac) = fixed.split_once('.').unwrap_or((&fixed, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if d < 0.0 && fixed.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    if frac.is_empty() { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{frac}") }
}

fn random() -> f64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

fn replace(s: &str, find_text: &str, with: &str, count: i64, text_compare: bool) -> String {
    if find_text.is_empty() || count == 0 {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut done = 0i64;
    loop {
        let at = if text_compare {
            let (hay, needle) = fold(rest, find_text, true);
            // positions in the folded copy are the same characters as in `rest`
            hay.find(&needle).and_then(|byte| byte_of_char(rest, char_len(&hay[..byte])))
        } else {
            rest.find(find_text)
        };
        let Some(at) = at else { break };
        let matched_len = if text_compare {
            let start_char = char_len(&rest[..at]);
            byte_of_char(rest, start_char + char_len(find_text)).unwrap_or(rest.len()) - at
        } else {
            find_text.len()
        };
        out.push_str(&rest[..at]);
        out.push_str(with);
        rest = &rest[at + matched_len..];
        done += 1;
        if count > 0 && done >= count {
            break;
        }
    }
    out.push_str(rest);
    out
}

fn split(s: &str, delimiter: &str, limit: i64, text_compare: bool) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = s;
    loop {
        if limit > 0 && parts.len() as i64 == limit - 1 {
            break;
        }
        let at = if text_compare {
            let (hay, needle) = fold(rest, delimiter, true);
            hay.find(&needle).and_then(|byte| byte_of_char(rest, char_len(&hay[..byte])))
        } else {
            rest.find(delimiter)
        };
        let Some(at) = at else { break };
        let len = if text_compare {
            byte_of_char(rest, char_len(&rest[..at]) + char_len(delimiter)).unwrap_or(rest.len()) - at
        } else {
            delimiter.len()
        };
        parts.push(rest[..at].to_string());
        rest = &rest[at + len..];
    }
    parts.push(rest.to_string());
    parts
}
