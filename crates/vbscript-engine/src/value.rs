//! VBScript's Variant: the value of every variable, and its conversions.

use crate::dates;
use crate::error::ScriptError;
use crate::host::HostObject;
use std::fmt;
use std::sync::Arc;

/// A VBScript value (a Variant).
#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Empty,
    Null,
    Bool(bool),
    /// VBScript's Integer, 16 bits.
    Integer(i16),
    /// VBScript's Long, 32 bits.
    Long(i32),
    Double(f64),
    /// A date as an OLE Automation date: days since 1899-12-30, time as the fraction.
    Date(f64),
    Str(Arc<str>),
    Array(Arc<Array>),
    Object(Arc<dyn HostObject>),
    Nothing,
}

/// A VBScript array: zero-based, one or more dimensions, stored row-major.
///
/// Arrays are values in VBScript (assigning one copies it); the `Arc` makes that copy happen
/// only when one of the copies is written to.
#[derive(Clone, Debug, Default)]
pub struct Array {
    /// The upper bound of each dimension.
    pub bounds: Vec<usize>,
    pub items: Vec<Value>,
}

/// Drops nested values without recursion: a script can nest arrays and dictionaries
/// millions deep (`a = Array(a)` in a loop), and dropping such a value recursively would
/// overflow the stack. Containers hand their elements to a queue that the outermost drop
/// empties in a loop.
pub(crate) fn drop_values(values: impl IntoIterator<Item = Value>) {
    use std::cell::{Cell, RefCell};
    thread_local! {
        static PENDING: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
        static DRAINING: Cell<bool> = const { Cell::new(false) };
    }
    let queued = PENDING.try_with(|p| {
        let mut pending = p.borrow_mut();
        pending.extend(values.into_iter().filter(|v| matches!(v, Value::Array(_) | Value::Object(_))));
    });
    if queued.is_err() || DRAINING.with(|d| d.replace(true)) {
        return;
    }
    loop {
        let next = PENDING.with(|p| p.borrow_mut().pop());
        match next {
            Some(value) => drop(value),
            None => break,
        }
    }
    DRAINING.with(|d| d.set(false));
}

impl Drop for Array {
    fn drop(&mut self) {
        if self.items.iter().any(|v| matches!(v, Value::Array(_) | Value::Object(_))) {
            drop_values(std::mem::take(&mut self.items));
        }
    }
}

impl Array {
    pub fn from_values(items: Vec<Value>) -> Array {
        let upper = items.len().wrapping_sub(1);
        Array { bounds: vec![upper], items }
    }

    /// The dimensions of an empty `Array()`: upper bound -1.
    pub fn is_empty_list(&self) -> bool {
        self.items.is_empty()
    }

    pub fn upper_bound(&self, dimension: usize) -> Option<i64> {
        let bound = *self.bounds.get(dimension)?;
        if self.items.is_empty() { Some(-1) } else { Some(bound as i64) }
    }

    /// The position in `items` of an element, `None` outside the bounds.
    pub fn offset(&self, indexes: &[i64]) -> Option<usize> {
        if indexes.len() != self.bounds.len() || self.items.is_empty() {
            return None;
        }
        let mut offset = 0usize;
        for (index, bound) in indexes.iter().zip(&self.bounds) {
            let index = usize::try_from(*index).ok()?;
            if index > *bound {
                return None;
            }
            offset = offset.checked_mul(bound + 1)?.checked_add(index)?;
        }
        Some(offset)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Empty => write!(f, "Empty"),
            Value::Null => write!(f, "Null"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Integer(i) => write!(f, "Integer({i})"),
            Value::Long(i) => write!(f, "Long({i})"),
            Value::Double(d) => write!(f, "Double({d})"),
            Value::Date(d) => write!(f, "Date({})", dates::format_general(*d)),
            Value::Str(s) => write!(f, "Str({s:?})"),
            Value::Array(a) => write!(f, "Array({:?})", a.items),
            Value::Object(o) => write!(f, "Object({})", o.type_name()),
            Value::Nothing => write!(f, "Nothing"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(Arc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(Arc::from(s))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Long(i)
    }
}

impl From<f64> for Value {
    fn from(d: f64) -> Self {
        Value::Double(d)
    }
}

/// A number taken out of a value, for arithmetic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Integer(i16),
    Long(i32),
    Double(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Integer(i) => f64::from(i),
            Num::Long(i) => f64::from(i),
            Num::Double(d) => d,
        }
    }

    /// The narrowest of Integer, Long and Double that holds `value`, but no narrower than
    /// the wider of the two operand kinds `at_least`.
    pub fn fit(value: i64, at_least: Num) -> Value {
        match at_least {
            Num::Integer(_) => {
                if let Ok(i) = i16::try_from(value) {
                    return Value::Integer(i);
                }
                if let Ok(i) = i32::try_from(value) {
                    return Value::Long(i);
                }
                Value::Double(value as f64)
            }
            Num::Long(_) => match i32::try_from(value) {
                Ok(i) => Value::Long(i),
                Err(_) => Value::Double(value as f64),
            },
            Num::Double(_) => Value::Double(value as f64),
        }
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::from(s)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_) | Value::Nothing)
    }

    pub fn is_numeric_kind(&self) -> bool {
        matches!(self, Value::Integer(_) | Value::Long(_) | Value::Double(_) | Value::Bool(_) | Value::Date(_))
    }

    /// `TypeName`.
    pub fn type_name(&self) -> String {
        match self {
            Value::Empty => "Empty".into(),
            Value::Null => "Null".into(),
            Value::Bool(_) => "Boolean".into(),
            Value::Integer(_) => "Integer".into(),
            Value::Long(_) => "Long".into(),
            Value::Double(_) => "Double".into(),
            Value::Date(_) => "Date".into(),
            Value::Str(_) => "String".into(),
            Value::Array(_) => "Variant()".into(),
            Value::Object(o) => o.type_name().to_string(),
            Value::Nothing => "Nothing".into(),
        }
    }

    /// `VarType`.
    pub fn var_type(&self) -> i32 {
        match self {
            Value::Empty => 0,
            Value::Null => 1,
            Value::Integer(_) => 2,
            Value::Long(_) => 3,
            Value::Double(_) => 5,
            Value::Date(_) => 7,
            Value::Str(_) => 8,
            Value::Object(_) | Value::Nothing => 9,
            Value::Bool(_) => 11,
            Value::Array(_) => 8204,
        }
    }

    /// The number in a value, as arithmetic sees it. Empty is 0, a string must be numeric.
    pub fn to_num(&self) -> Result<Num, ScriptError> {
        match self {
            Value::Empty => Ok(Num::Integer(0)),
            Value::Bool(b) => Ok(Num::Integer(if *b { -1 } else { 0 })),
            Value::Integer(i) => Ok(Num::Integer(*i)),
            Value::Long(i) => Ok(Num::Long(*i)),
            Value::Double(d) | Value::Date(d) => Ok(Num::Double(*d)),
            Value::Str(s) => parse_number(s)
                .map(Num::Double)
                .ok_or_else(|| ScriptError::type_mismatch(&format!("\"{}\"", truncate(s)))),
            Value::Null => Err(ScriptError::runtime(94, "Invalid use of Null")),
            Value::Array(_) => Err(ScriptError::type_mismatch("array")),
            Value::Object(_) => match self.default_value() {
                Some(v) => v.to_num(),
                None => Err(ScriptError::type_mismatch("object")),
            },
            Value::Nothing => Err(ScriptError::type_mismatch("object")),
        }
    }

    /// The default property of an object (`Match` gives its `Value`), if it is not itself
    /// an object.
    pub fn default_value(&self) -> Option<Value> {
        let Value::Object(o) = self else { return None };
        match o.get_property("", &[]) {
            Ok(v) if !v.is_object() => Some(v),
            _ => None,
        }
    }

    pub fn to_f64(&self) -> Result<f64, ScriptError> {
        Ok(self.to_num()?.as_f64())
    }

    /// `CLng`: banker's rounding to a 32-bit integer.
    pub fn to_i32(&self) -> Result<i32, ScriptError> {
        let rounded = round_half_even(self.to_f64()?);
        if rounded.is_nan() || rounded < f64::from(i32::MIN) || rounded > f64::from(i32::MAX) {
            return Err(ScriptError::overflow());
        }
        Ok(rounded as i32)
    }

    /// An integer for an index, count or position (rounded like `CLng`).
    pub fn to_i64(&self) -> Result<i64, ScriptError> {
        Ok(i64::from(self.to_i32()?))
    }

    /// `CBool`.
    pub fn to_bool(&self) -> Result<bool, ScriptError> {
        match self {
            Value::Bool(b) => Ok(*b),
            Value::Str(s) => {
                let t = s.trim();
                if t.eq_ignore_ascii_case("true") {
                    Ok(true)
                } else if t.eq_ignore_ascii_case("false") {
                    Ok(false)
                } else {
                    parse_number(t)
                        .map(|d| d != 0.0)
                        .ok_or_else(|| ScriptError::type_mismatch(&format!("\"{}\"", truncate(s))))
                }
            }
            other => Ok(other.to_f64()? != 0.0),
        }
    }

    /// The truth of a condition (`If`, `While`): Null counts as False.
    pub fn is_true(&self) -> Result<bool, ScriptError> {
        match self {
            Value::Null => Ok(false),
            other => other.to_bool(),
        }
    }

    /// `CStr` and what `&` sees. Null and objects have no string.
    pub fn to_str(&self) -> Result<Arc<str>, ScriptError> {
        match self {
            Value::Str(s) => Ok(s.clone()),
            Value::Null => Err(ScriptError::runtime(94, "Invalid use of Null")),
            Value::Object(_) => match self.default_value() {
                Some(v) => v.to_str(),
                None => Err(ScriptError::type_mismatch("object")),
            },
            Value::Nothing => Err(ScriptError::type_mismatch("object")),
            Value::Array(_) => Err(ScriptError::type_mismatch("array")),
            other => Ok(Arc::from(other.display())),
        }
    }

    /// The text of a value as `CStr` writes it; Null is empty here.
    pub fn display(&self) -> String {
        match self {
            Value::Empty | Value::Null => String::new(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Integer(i) => i.to_string(),
            Value::Long(i) => i.to_string(),
            Value::Double(d) => format_double(*d),
            Value::Date(d) => dates::format_general(*d),
            Value::Str(s) => s.to_string(),
            Value::Array(_) => String::new(),
            Value::Object(o) => o.type_name().to_string(),
            Value::Nothing => "Nothing".into(),
        }
    }

    /// `IsNumeric`.
    pub fn is_numeric(&self) -> bool {
        match self {
            Value::Empty | Value::Integer(_) | Value::Long(_) | Value::Double(_) | Value::Bool(_) => true,
            Value::Str(s) => parse_number(s).is_some(),
            _ => false,
        }
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// Rounds half to even, as `CInt`, `CLng` and `Round` do.
pub fn round_half_even(d: f64) -> f64 {
    let r = d.round();
    if (d - d.trunc()).abs() == 0.5 && r % 2.0 != 0.0 { r - d.signum() } else { r }
}

/// A number in a string as VBScript reads it: decimal with optional sign, fraction and
/// exponent, surrounding spaces, or `&H` hex / `&O` octal.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c| c == ' ' || c == '\t');
    if t.is_empty() {
        return None;
    }
    let bytes = t.as_bytes();
    if bytes[0] == b'&' && t.len() > 2 {
        let (radix, digits) = match bytes[1] {
            b'h' | b'H' => (16, &t[2..]),
            b'o' | b'O' => (8, &t[2..]),
            _ => return None,
        };
        return i64::from_str_radix(digits, radix).ok().map(|v| v as f64);
    }
    // only the characters of a decimal number, so Rust's "inf"/"nan" are not accepted
    if !t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E')) {
        return None;
    }
    if !t.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let normalized = if t.starts_with('.') || t.starts_with("-.") || t.starts_with("+.") {
        t.replacen('.', "0.", 1)
    } else {
        t.to_string()
    };
    let normalized = if normalized.ends_with('.') { format!("{normalized}0") } else { normalized };
    normalized.parse::<f64>().ok().filter(|d| d.is_finite())
}

/// A Double as VBScript prints it: up to 15 significant digits, exponent form when large
/// or tiny.
pub fn format_double(d: f64) -> String {
    if d == 0.0 {
        return "0".into();
    }
    if !d.is_finite() {
        return if d.is_nan() {
            "NaN".into()
        } else if d > 0.0 {
            "1.#INF".into()
        } else {
            "-1.#INF".into()
        };
    }
    let formatted = format!("{:.14e}", d);
    let Some((mantissa, exponent)) = formatted.split_once('e') else {
        return formatted;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    if !(-5..15).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}E{sign}{:02}", exponent.abs());
    }
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if exponent < 0 {
        out.push_str("0.");
        for _ in 0..(-exponent - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = (exponent + 1) as usize;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}
