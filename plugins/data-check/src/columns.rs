//! Borrowed views of a batch's columns, and sample values for reports.
//!
//! The host's batch is trusted for speed but not for safety: a short value
//! list, a short status list or a bad offset reads as null or empty, never
//! as a panic.

use andon_pdk::dataset::{Column, Values};
use serde_json::Value as Json;

use crate::duration;
use crate::suite::ValueType;

/// Row status bytes, as the WIT `column.status` defines them.
pub const VALUE: u8 = 0;
pub const NULL: u8 = 1;
pub const INVALID: u8 = 2;

/// Longest sample text kept, in characters.
const SAMPLE_CHARS: usize = 120;

/// One column of one batch.
#[derive(Clone, Copy)]
pub struct Col<'a> {
    /// One byte per row, or empty when every row holds a value.
    pub status: &'a [u8],
    pub values: Vals<'a>,
}

#[derive(Clone, Copy)]
pub enum Vals<'a> {
    Text { offsets: &'a [u32], data: &'a [u8] },
    Int(&'a [i64]),
    Float(&'a [f64]),
}

impl<'a> Col<'a> {
    pub fn new(column: &'a Column) -> Col<'a> {
        Col {
            status: &column.status,
            values: match &column.values {
                Values::Text(t) => Vals::Text {
                    offsets: &t.offsets,
                    data: &t.data,
                },
                Values::Int(v) => Vals::Int(v),
                Values::Float(v) => Vals::Float(v),
            },
        }
    }

    /// The status of row `i` (a missing status list means "value").
    #[inline]
    pub fn status(&self, i: usize) -> u8 {
        self.status.get(i).copied().unwrap_or(VALUE)
    }

    /// Row `i` as text; empty for non-text columns or bad offsets.
    #[inline]
    pub fn text(&self, i: usize) -> &'a [u8] {
        match self.values {
            Vals::Text { offsets, data } => text_at(offsets, data, i),
            _ => &[],
        }
    }

    /// The text values, when this is a text column.
    pub fn texts(&self) -> Option<(&'a [u32], &'a [u8])> {
        match self.values {
            Vals::Text { offsets, data } => Some((offsets, data)),
            _ => None,
        }
    }

    pub fn ints(&self) -> &'a [i64] {
        match self.values {
            Vals::Int(v) => v,
            _ => &[],
        }
    }

    pub fn floats(&self) -> &'a [f64] {
        match self.values {
            Vals::Float(v) => v,
            _ => &[],
        }
    }

    /// Row `i` as a sample value for a column read as `ty`: null for null,
    /// `invalid` (the text, when there is one) for invalid values.
    pub fn sample(&self, i: usize, ty: ValueType, invalid: Option<&[u8]>) -> Json {
        match self.status(i) {
            NULL => Json::Null,
            INVALID => Json::String(match invalid {
                Some(text) => sample_text(text),
                None => format!("(not {})", article(ty)),
            }),
            _ => match self.values {
                Vals::Text { offsets, data } => {
                    Json::String(sample_text(text_at(offsets, data, i)))
                }
                Vals::Float(v) => v.get(i).map_or(Json::Null, |&f| float_json(f)),
                Vals::Int(v) => v.get(i).map_or(Json::Null, |&n| int_json(n, ty)),
            },
        }
    }
}

/// Value `i` of a text column: `data[offsets[i]..offsets[i + 1]]`.
#[inline]
pub fn text_at<'a>(offsets: &[u32], data: &'a [u8], i: usize) -> &'a [u8] {
    match (offsets.get(i), offsets.get(i + 1)) {
        (Some(&s), Some(&e)) => data.get(s as usize..e as usize).unwrap_or(&[]),
        _ => &[],
    }
}

/// A sample's text: lossy UTF-8, cut at [`SAMPLE_CHARS`].
pub fn sample_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(SAMPLE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

pub fn float_json(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or_else(|| Json::String(f.to_string()), Json::Number)
}

/// An integer column value as people read its type.
pub fn int_json(n: i64, ty: ValueType) -> Json {
    match ty {
        ValueType::Bool => Json::Bool(n != 0),
        ValueType::Date => Json::String(duration::date(n)),
        ValueType::Timestamp => Json::String(duration::timestamp(n)),
        _ => Json::from(n),
    }
}

fn article(ty: ValueType) -> &'static str {
    match ty {
        ValueType::Int => "an int",
        ValueType::Float => "a number",
        ValueType::Bool => "a bool",
        ValueType::Date => "a date",
        ValueType::Timestamp => "a timestamp",
        ValueType::Text => "text",
    }
}

#[cfg(test)]
mod tests {
    use andon_pdk::dataset::TextValues;

    use super::*;

    #[test]
    fn bad_offsets_and_short_lists_read_as_empty() {
        let column = Column {
            values: Values::Text(TextValues {
                offsets: vec![0, 2, 9],
                data: b"ab".to_vec(),
            }),
            status: vec![],
        };
        let col = Col::new(&column);
        assert_eq!(col.text(0), b"ab");
        assert_eq!(col.text(1), b"");
        assert_eq!(col.text(5), b"");
        assert_eq!(col.status(3), VALUE);
        assert!(col.ints().is_empty());
    }

    #[test]
    fn samples() {
        let column = Column {
            values: Values::Int(vec![0, 1_767_225_600_000_000, 0]),
            status: vec![NULL, VALUE, INVALID],
        };
        let col = Col::new(&column);
        assert_eq!(col.sample(0, ValueType::Timestamp, None), Json::Null);
        assert_eq!(
            col.sample(1, ValueType::Timestamp, None),
            Json::from("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            col.sample(2, ValueType::Timestamp, None),
            Json::from("(not a timestamp)")
        );
        assert_eq!(
            col.sample(2, ValueType::Timestamp, Some(b"yesterday")),
            Json::from("yesterday")
        );
        assert_eq!(sample_text(&[b'x'; 200]).chars().count(), SAMPLE_CHARS + 1);
        assert_eq!(float_json(f64::NAN), Json::from("NaN"));
    }
}
