//! VBScript's operators on Variants.

use crate::error::ScriptError;
use crate::ir::{BinOp, UnOp};
use crate::value::{Num, Value, round_half_even};
use std::cmp::Ordering;
use std::sync::Arc;

pub fn unary(op: UnOp, value: &Value) -> Result<Value, ScriptError> {
    if matches!(value, Value::Null) {
        return Ok(Value::Null);
    }
    match op {
        UnOp::Plus => Ok(value.clone()),
        UnOp::Neg => Ok(match value.to_num()? {
            Num::Integer(i) => Num::fit(-i64::from(i), Num::Integer(0)),
            Num::Long(i) => Num::fit(-i64::from(i), Num::Long(0)),
            Num::Double(d) => {
                if let Value::Date(_) = value {
                    Value::Date(-d)
                } else {
                    Value::Double(-d)
                }
            }
        }),
        UnOp::Not => match value {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            other => Ok(bitwise_result(!integer_operand(other)?, other, other)),
        },
    }
}

/// An operand of a bitwise operator: rounded to a Long.
fn integer_operand(value: &Value) -> Result<i64, ScriptError> {
    match value {
        Value::Bool(b) => Ok(if *b { -1 } else { 0 }),
        other => Ok(i64::from(other.to_i32()?)),
    }
}

fn bitwise_result(result: i64, a: &Value, b: &Value) -> Value {
    let narrow = |v: &Value| matches!(v, Value::Integer(_) | Value::Bool(_) | Value::Empty);
    if narrow(a) && narrow(b) { Num::fit(result, Num::Integer(0)) } else { Value::Long(result as i32) }
}

/// The wider of two numeric kinds.
fn wider(a: Num, b: Num) -> Num {
    match (a, b) {
        (Num::Double(_), _) | (_, Num::Double(_)) => Num::Double(0.0),
        (Num::Long(_), _) | (_, Num::Long(_)) => Num::Long(0),
        _ => Num::Integer(0),
    }
}

fn integer_of(n: Num) -> Option<i64> {
    match n {
        Num::Integer(i) => Some(i64::from(i)),
        Num::Long(i) => Some(i64::from(i)),
        Num::Double(_) => None,
    }
}

pub fn concat(a: &Value, b: &Value) -> Result<Value, ScriptError> {
    if matches!(a, Value::Null) && matches!(b, Value::Null) {
        return Ok(Value::Null);
    }
    let text = |v: &Value| -> Result<Arc<str>, ScriptError> {
        match v {
            Value::Null => Ok(Arc::from("")),
            other => other.to_str(),
        }
    };
    let (x, y) = (text(a)?, text(b)?);
    let mut s = String::with_capacity(x.len() + y.len());
    s.push_str(&x);
    s.push_str(&y);
    Ok(Value::from(s))
}

pub fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, ScriptError> {
    match op {
        BinOp::Concat => concat(a, b),
        BinOp::Is => Ok(Value::Bool(same_object(a, b)?)),
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let Some(ordering) = compare(a, b)? else { return Ok(Value::Null) };
            Ok(Value::Bool(match op {
                BinOp::Eq => ordering == Ordering::Equal,
                BinOp::Ne => ordering != Ordering::Equal,
                BinOp::Lt => ordering == Ordering::Less,
                BinOp::Le => ordering != Ordering::Greater,
                BinOp::Gt => ordering == Ordering::Greater,
                _ => ordering != Ordering::Less,
            }))
        }
        BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Eqv | BinOp::Imp => logical(op, a, b),
        _ => arithmetic(op, a, b),
    }
}

fn logical(op: BinOp, a: &Value, b: &Value) -> Result<Value, ScriptError> {
    // Null: False And Null is False, True Or Null is True, otherwise Null
    if matches!(a, Value::Null) || matches!(b, Value::Null) {
        let other = if matches!(a, Value::Null) { b } else { a };
        return Ok(match (op, other) {
            (BinOp::And, Value::Bool(false)) => Value::Bool(false),
            (BinOp::Or, Value::Bool(true)) => Value::Bool(true),
            _ => Value::Null,
        });
    }
    if let (Value::Bool(x), Value::Bool(y)) = (a, b) {
        return Ok(Value::Bool(match op {
            BinOp::And => *x && *y,
            BinOp::Or => *x || *y,
            BinOp::Xor => x != y,
            BinOp::Eqv => x == y,
            _ => !*x || *y,
        }));
    }
    let (x, y) = (integer_operand(a)?, integer_operand(b)?);
    let result = match op {
        BinOp::And => x & y,
        BinOp::Or => x | y,
        BinOp::Xor => x ^ y,
        BinOp::Eqv => !(x ^ y),
        _ => !x | y,
    };
    Ok(bitwise_result(result, a, b))
}

fn arithmetic(op: BinOp, a: &Value, b: &Value) -> Result<Value, ScriptError> {
    if matches!(a, Value::Null) || matches!(b, Value::Null) {
        return Ok(Value::Null);
    }
    // + of two strings concatenates
    if op == BinOp::Add
        && let (Value::Str(_), Value::Str(_)) = (a, b)
    {
        return concat(a, b);
    }
    let (x, y) = (a.to_num()?, b.to_num()?);
    let kind = wider(x, y);
    let is_date = matches!(a, Value::Date(_)) || matches!(b, Value::Date(_));
    match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul => {
            if let (Some(i), Some(j)) = (integer_of(x), integer_of(y)) {
                let r = match op {
                    BinOp::Add => i + j,
                    BinOp::Sub => i - j,
                    _ => i * j,
                };
                return Ok(Num::fit(r, kind));
            }
            let r = match op {
                BinOp::Add => x.as_f64() + y.as_f64(),
                BinOp::Sub => x.as_f64() - y.as_f64(),
                _ => x.as_f64() * y.as_f64(),
            };
            if !r.is_finite() {
                return Err(ScriptError::overflow());
            }
            if is_date
                && op != BinOp::Mul
                && !(matches!(a, Value::Date(_)) && matches!(b, Value::Date(_)) && op == BinOp::Sub)
            {
                return Ok(Value::Date(r));
            }
            Ok(Value::Double(r))
        }
        BinOp::Div => {
            let divisor = y.as_f64();
            if divisor == 0.0 {
                return Err(ScriptError::division_by_zero());
            }
            let r = x.as_f64() / divisor;
            if !r.is_finite() {
                return Err(ScriptError::overflow());
            }
            Ok(Value::Double(r))
        }
        BinOp::IntDiv | BinOp::Mod => {
            let i = rounded_integer(x)?;
            let j = rounded_integer(y)?;
            if j == 0 {
                return Err(ScriptError::division_by_zero());
            }
            let r = if op == BinOp::IntDiv { i.wrapping_div(j) } else { i.wrapping_rem(j) };
            let kind = if matches!(kind, Num::Double(_)) { Num::Long(0) } else { kind };
            Ok(Num::fit(r, kind))
        }
        BinOp::Pow => {
            let r = x.as_f64().powf(y.as_f64());
            if r.is_nan() {
                return Err(ScriptError::invalid_call("^"));
            }
            if r.is_infinite() {
                return Err(ScriptError::overflow());
            }
            Ok(Value::Double(r))
        }
        _ => Err(ScriptError::runtime(5, "Invalid operator")),
    }
}

/// `\` and `Mod` round their operands to Longs first, half to even.
fn rounded_integer(n: Num) -> Result<i64, ScriptError> {
    match n {
        Num::Double(d) => {
            let r = round_half_even(d);
            if !(f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&r) {
                return Err(ScriptError::overflow());
            }
            Ok(r as i64)
        }
        other => Ok(integer_of(other).unwrap_or(0)),
    }
}

fn same_object(a: &Value, b: &Value) -> Result<bool, ScriptError> {
    match (a, b) {
        (Value::Nothing, Value::Nothing) => Ok(true),
        (Value::Object(x), Value::Object(y)) => Ok(Arc::ptr_eq(x, y)),
        (Value::Object(_), Value::Nothing) | (Value::Nothing, Value::Object(_)) => Ok(false),
        _ => Err(ScriptError::object_required("Is")),
    }
}

/// `=` for `Select Case`: Null never matches.
pub fn compare_eq(a: &Value, b: &Value) -> Result<bool, ScriptError> {
    Ok(compare(a, b)? == Some(Ordering::Equal))
}

/// Compares two values, `None` when one is Null.
///
/// Numbers compare as numbers and strings as strings (binary). A number and a string
/// compare as numbers when the string is numeric, otherwise the number is the smaller.
/// Empty is 0 next to a number and "" next to a string.
pub fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>, ScriptError> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => Ok(None),
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.as_ref().cmp(y.as_ref()))),
        (Value::Str(x), Value::Empty) => Ok(Some(x.as_ref().cmp(""))),
        (Value::Empty, Value::Str(y)) => Ok(Some("".cmp(y.as_ref()))),
        (Value::Str(s), n) if n.is_numeric_kind() || matches!(n, Value::Empty) => {
            Ok(Some(match crate::value::parse_number(s) {
                Some(d) => d.partial_cmp(&n.to_f64()?).unwrap_or(Ordering::Equal),
                None => Ordering::Greater,
            }))
        }
        (n, Value::Str(s)) if n.is_numeric_kind() || matches!(n, Value::Empty) => {
            Ok(Some(match crate::value::parse_number(s) {
                Some(d) => n.to_f64()?.partial_cmp(&d).unwrap_or(Ordering::Equal),
                None => Ordering::Less,
            }))
        }
        (Value::Object(_) | Value::Nothing, _) | (_, Value::Object(_) | Value::Nothing) => {
            Err(ScriptError::type_mismatch("object"))
        }
        (Value::Array(_), _) | (_, Value::Array(_)) => Err(ScriptError::type_mismatch("array")),
        (x, y) => Ok(Some(x.to_f64()?.partial_cmp(&y.to_f64()?).unwrap_or(Ordering::Equal))),
    }
}
