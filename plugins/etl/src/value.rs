//! Cell values and how they compare, add up and print.
//!
//! Values read from a dataset are [`Value::Raw`]: the field's text, with no
//! type yet. A raw value acts as a number where a number is expected (it
//! is parsed then), as a boolean where a boolean is, and as text next to
//! text: `amount > 100` compares numbers, `zip == "01234"` compares text.
//! Values an expression makes (literals, arithmetic, functions) carry
//! their type.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// A field's text as read, untyped.
    Raw(String),
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// A number, for arithmetic and numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    pub fn into_value(self) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::Float(f) => Value::Float(f),
        }
    }

    fn compare(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

/// Parses a number the way CSV files write them: an integer, or a decimal
/// or exponent form. Surrounding spaces are allowed; `inf` and `nan` are not
/// numbers here.
pub fn parse_num(text: &str) -> Option<Num> {
    let text = text.trim();
    if let Ok(i) = text.parse::<i64>() {
        return Some(Num::Int(i));
    }
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if !looks_numeric {
        return None;
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Num::Float)
}

/// Parses a boolean as the dataset interface does: `true`/`false`, `1`/`0`,
/// `yes`/`no`, `t`/`f`, any case.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "t" => Some(true),
        "false" | "0" | "no" | "f" => Some(false),
        _ => None,
    }
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as a number, if it is one or is raw text that reads as one.
    pub fn as_num(&self) -> Option<Num> {
        match self {
            Value::Int(i) => Some(Num::Int(*i)),
            Value::Float(f) => Some(Num::Float(*f)),
            Value::Raw(text) => parse_num(text),
            Value::Null | Value::Text(_) | Value::Bool(_) => None,
        }
    }

    /// The value as a boolean, if it is one or is raw text that reads as one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Raw(text) => parse_bool(text),
            _ => None,
        }
    }

    /// The value as text, as it is written to a CSV file; `None` for null.
    pub fn to_text(&self) -> Option<String> {
        let mut out = String::new();
        self.write_text(&mut out).then_some(out)
    }

    /// Appends the value's text to `out`; false (and nothing written) for
    /// null.
    pub fn write_text(&self, out: &mut String) -> bool {
        match self {
            Value::Null => return false,
            Value::Raw(text) | Value::Text(text) => out.push_str(text),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => write_float(*f, out),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        }
        true
    }

    /// A short name of the value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Raw(_) | Value::Text(_) => "text",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Bool(_) => "a boolean",
        }
    }

    /// Appends a key encoding of the value, for grouping, joining and
    /// deduplicating: values with the same text are the same key (a raw
    /// `1` and the integer 1), null is a key of its own.
    pub fn write_key(&self, key: &mut Vec<u8>) {
        let mut text = String::new();
        if self.write_text(&mut text) {
            key.push(1);
            key.extend_from_slice(&(text.len() as u64).to_le_bytes());
            key.extend_from_slice(text.as_bytes());
        } else {
            key.push(0);
        }
    }
}

/// Floats print in their shortest form that reads back the same; whole
/// numbers keep no fraction (`3`, not `3.0`), like most CSV writers.
fn write_float(f: f64, out: &mut String) {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e15 {
        let _ = write!(out, "{}", f as i64);
    } else {
        let _ = write!(out, "{f}");
    }
}

/// How two values compare, or `None` when they cannot be: a null, or kinds
/// that do not mix (a number and text that is not a number).
///
/// Raw text takes the type of the other side: a number next to a number,
/// a boolean next to a boolean, text next to text. Two raw values compare
/// as numbers when both read as numbers, else as text.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    use Value::{Bool, Float, Int, Null, Raw, Text};
    match (a, b) {
        (Null, _) | (_, Null) => None,
        (Raw(x), Raw(y)) => match (parse_num(x), parse_num(y)) {
            (Some(x), Some(y)) => x.compare(y),
            _ => Some(x.as_str().cmp(y.as_str())),
        },
        (Raw(x) | Text(x), Raw(y) | Text(y)) => Some(x.as_str().cmp(y.as_str())),
        (Int(_) | Float(_) | Raw(_), Int(_) | Float(_) | Raw(_)) => {
            a.as_num()?.compare(b.as_num()?)
        }
        (Bool(_) | Raw(_), Bool(_) | Raw(_)) => Some(a.as_bool()?.cmp(&b.as_bool()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Value {
        Value::Raw(s.into())
    }

    #[test]
    fn numbers_parse_like_csv_writes_them() {
        assert_eq!(parse_num("42"), Some(Num::Int(42)));
        assert_eq!(parse_num(" -7 "), Some(Num::Int(-7)));
        assert_eq!(parse_num("1.50"), Some(Num::Float(1.5)));
        assert_eq!(parse_num("1e3"), Some(Num::Float(1000.0)));
        for not_a_number in ["", "abc", "1,5", "inf", "NaN", "e", "--", "12abc"] {
            assert_eq!(parse_num(not_a_number), None, "{not_a_number:?}");
        }
    }

    #[test]
    fn raw_text_takes_the_other_sides_type() {
        assert_eq!(
            compare(&raw("150"), &Value::Int(100)),
            Some(Ordering::Greater)
        );
        assert_eq!(compare(&raw("9"), &raw("10")), Some(Ordering::Less));
        // Text next to text: "01234" is not the number 1234.
        assert_eq!(
            compare(&raw("1234"), &Value::Text("01234".into())),
            Some(Ordering::Greater)
        );
        assert_eq!(compare(&raw("b"), &raw("a")), Some(Ordering::Greater));
        assert_eq!(
            compare(&raw("yes"), &Value::Bool(true)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(&Value::Int(2), &Value::Float(2.0)),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn nulls_and_mismatched_kinds_do_not_compare() {
        assert_eq!(compare(&Value::Null, &Value::Null), None);
        assert_eq!(compare(&raw("abc"), &Value::Int(1)), None);
        assert_eq!(compare(&Value::Text("1".into()), &Value::Int(1)), None);
        assert_eq!(compare(&Value::Bool(true), &Value::Int(1)), None);
    }

    #[test]
    fn values_print_as_csv_cells() {
        let text = |v: Value| v.to_text();
        assert_eq!(text(Value::Float(3.0)), Some("3".into()));
        assert_eq!(
            text(Value::Float(0.1 + 0.2)),
            Some("0.30000000000000004".into())
        );
        assert_eq!(text(Value::Float(2.5)), Some("2.5".into()));
        assert_eq!(text(Value::Int(-4)), Some("-4".into()));
        assert_eq!(text(Value::Bool(false)), Some("false".into()));
        assert_eq!(text(raw("1.50")), Some("1.50".into()));
        assert_eq!(text(Value::Null), None);
    }

    #[test]
    fn keys_follow_the_text() {
        let key = |v: Value| {
            let mut k = Vec::new();
            v.write_key(&mut k);
            k
        };
        assert_eq!(key(raw("1")), key(Value::Int(1)));
        assert_ne!(key(raw("1")), key(raw("1.0")));
        assert_ne!(key(Value::Null), key(raw("")));
    }
}
