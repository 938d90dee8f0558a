//! JSON Lines split into field spans: one object per line, its top-level
//! keys are columns. A string value is its unescaped text; any other value
//! is its JSON text (`12.5`, `true`, `{"a":1}`); `null` and a missing key
//! are null. Every line is validated as JSON (RFC 8259, UTF-8, nesting at
//! most 128 deep); blank lines are skipped and are not rows.
//!
//! The previous row's key order is remembered, so rows that repeat it (the
//! usual case) cost one comparison per key rather than a hash lookup.

use std::collections::HashMap;

use memchr::memchr;

use super::batch::{BatchBuilder, Fields, Span};
use super::{DatasetError, Split};
use super::{hash, swar};

/// Deepest nesting of arrays and objects accepted in a value.
const MAX_DEPTH: usize = 128;

pub(crate) struct Jsonl {
    /// Column names in first-seen order.
    pub(crate) header: Vec<String>,
    columns: HashMap<Box<[u8]>, usize>,
    /// Requested names and their slots.
    requested: HashMap<String, u32>,
    /// For each column: its slot + 1, or 0.
    want: Vec<u32>,
    /// The previous row's keys and their columns, in order.
    last_keys: Vec<(Vec<u8>, usize)>,
    hashes: bool,
    pub(crate) pos: usize,
    pub(crate) fields: Fields,
    /// Physical lines read so far, for messages.
    line: u64,
    /// A key with escapes, unescaped.
    key: Vec<u8>,
}

/// A JSON syntax error; the caller adds the line.
struct Bad(&'static str);

type Parsed<T> = Result<T, Bad>;

impl Jsonl {
    /// A splitter handing the columns named in `requested` to their slots.
    pub(crate) fn new(requested: HashMap<String, u32>, hashes: bool) -> Jsonl {
        let slots = requested.len();
        Jsonl {
            header: Vec::new(),
            columns: HashMap::new(),
            requested,
            want: Vec::new(),
            last_keys: Vec::new(),
            hashes,
            pos: 0,
            fields: Fields {
                slots,
                ..Fields::default()
            },
            line: 0,
            key: Vec::new(),
        }
    }

    /// True when a column of that name has been seen.
    pub(crate) fn has_column(&self, name: &str) -> bool {
        self.columns.contains_key(name.as_bytes())
    }

    /// Splits lines from `data` into the batch until it has `max_rows` more
    /// rows, the data runs out, or the source ends.
    pub(crate) fn split(
        &mut self,
        data: &[u8],
        eof: bool,
        max_rows: usize,
        batch: &mut BatchBuilder,
    ) -> Result<Split, DatasetError> {
        if self.pos == 0 && self.line == 0 && data.starts_with(b"\xEF\xBB\xBF") {
            self.pos = 3;
        }
        let mut rows = 0;
        while rows < max_rows {
            let start = self.pos;
            if start >= data.len() {
                return Ok(if eof { Split::End } else { Split::NeedMore });
            }
            let next = match memchr(b'\n', &data[start..]) {
                Some(i) => start + i + 1,
                None if eof => data.len(),
                None => return Ok(Split::NeedMore),
            };
            let mut end = next;
            if data[..end].ends_with(b"\n") {
                end -= 1;
            }
            if data[start..end].ends_with(b"\r") {
                end -= 1;
            }
            self.line += 1;
            self.pos = next;
            if data[start..end].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let base = self.fields.start_row();
            match self.object(data, start, end) {
                Ok(hash) => {
                    if let Some(hashes) = batch.hashes.as_mut() {
                        hashes.push(hash);
                    }
                }
                Err(Bad(why)) => {
                    self.fields.drop_row(base);
                    return Err(DatasetError::Malformed(format!(
                        "line {} (row {}): {why}",
                        self.line,
                        batch.row_number()
                    )));
                }
            }
            batch.rows += 1;
            rows += 1;
        }
        Ok(Split::Full)
    }

    /// Reads the object on `data[start..end]` into the row's spans; returns
    /// the row hash (0 when hashes are off).
    fn object(&mut self, data: &[u8], start: usize, end: usize) -> Parsed<u64> {
        let line = &data[..end];
        if std::str::from_utf8(&data[start..end]).is_err() {
            return Err(Bad("not UTF-8"));
        }
        let base = self.fields.spans.len() - self.fields.slots;
        let mut at = skip_ws(line, start);
        if line.get(at) != Some(&b'{') {
            return Err(Bad("not a JSON object"));
        }
        at = skip_ws(line, at + 1);
        let mut row_hash = 0u64;
        if line.get(at) == Some(&b'}') {
            return self.after_object(line, at + 1).map(|()| row_hash);
        }
        let mut index = 0;
        loop {
            if line.get(at) != Some(&b'"') {
                return Err(Bad("expected a key"));
            }
            let (key_end, escaped) = string_end(line, at + 1)?;
            let column = if escaped {
                self.key.clear();
                unescape_into(&line[at + 1..key_end], &mut self.key)?;
                let key = std::mem::take(&mut self.key);
                let column = self.column(index, &key);
                self.key = key;
                column
            } else {
                self.column(index, &line[at + 1..key_end])
            };
            at = skip_ws(line, key_end + 1);
            if line.get(at) != Some(&b':') {
                return Err(Bad("expected `:` after a key"));
            }
            at = skip_ws(line, at + 1);
            let (span, string, value_end) = self.value(line, at)?;
            if let Some(&slot) = self.want.get(column)
                && slot != 0
            {
                self.fields.spans[base + slot as usize - 1] = span;
            }
            if self.hashes
                && let Some(bytes) = span.get(data, &self.fields.scratch)
            {
                row_hash = row_hash.wrapping_add(hash::json_value(column, string, bytes));
            }
            at = skip_ws(line, value_end);
            match line.get(at) {
                Some(b',') => at = skip_ws(line, at + 1),
                Some(b'}') => return self.after_object(line, at + 1).map(|()| row_hash),
                _ => return Err(Bad("expected `,` or `}` after a value")),
            }
            index += 1;
        }
    }

    fn after_object(&self, line: &[u8], at: usize) -> Parsed<()> {
        if skip_ws(line, at) == line.len() {
            Ok(())
        } else {
            Err(Bad("text after the object"))
        }
    }

    /// The column of the `index`-th key of the row, adding new keys to the
    /// header.
    fn column(&mut self, index: usize, key: &[u8]) -> usize {
        if let Some((last, column)) = self.last_keys.get(index)
            && last == key
        {
            return *column;
        }
        let column = match self.columns.get(key) {
            Some(&column) => column,
            None => {
                let column = self.header.len();
                let name = String::from_utf8_lossy(key).into_owned();
                self.want
                    .push(self.requested.get(&name).map_or(0, |slot| slot + 1));
                self.header.push(name);
                self.columns.insert(key.into(), column);
                column
            }
        };
        match self.last_keys.get_mut(index) {
            Some(slot) => {
                slot.0.clear();
                slot.0.extend_from_slice(key);
                slot.1 = column;
            }
            None => self.last_keys.push((key.to_vec(), column)),
        }
        column
    }

    /// The value at `at`: its span (null for `null`), whether it is a
    /// string, and where it ends.
    fn value(&mut self, line: &[u8], at: usize) -> Parsed<(Span, bool, usize)> {
        match line.get(at) {
            Some(b'"') => {
                let (end, escaped) = string_end(line, at + 1)?;
                let span = if escaped {
                    let start = self.fields.scratch.len();
                    unescape_into(&line[at + 1..end], &mut self.fields.scratch)?;
                    Span::scratch(start, self.fields.scratch.len())
                } else {
                    Span::data(at + 1, end)
                };
                Ok((span, true, end + 1))
            }
            Some(b'n') => {
                let end = literal(line, at, b"null")?;
                Ok((Span::NULL, false, end))
            }
            Some(_) => {
                let end = skip_value(line, at, 0)?;
                Ok((Span::data(at, end), false, end))
            }
            None => Err(Bad("expected a value")),
        }
    }
}

#[inline]
fn skip_ws(line: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r' | b'\n') = line.get(at) {
        at += 1;
    }
    at
}

/// Where the string whose content starts at `at` ends (its closing quote),
/// and whether it has escapes. Escapes and control characters are checked.
#[inline]
fn string_end(line: &[u8], mut at: usize) -> Parsed<(usize, bool)> {
    let mut escaped = false;
    loop {
        // Skip plain bytes eight at a time.
        while let Some(w) = line.get(at..).and_then(swar::word) {
            let special = swar::eq(w, b'"') | swar::eq(w, b'\\') | swar::control(w);
            if special != 0 {
                at += (special.trailing_zeros() / 8) as usize;
                break;
            }
            at += 8;
        }
        match line.get(at) {
            Some(b'"') => return Ok((at, escaped)),
            Some(b'\\') => {
                escaped = true;
                match line.get(at + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => at += 2,
                    Some(b'u') => {
                        hex4(line, at + 2)?;
                        at += 6;
                    }
                    _ => return Err(Bad("invalid escape in a string")),
                }
            }
            Some(0..=0x1F) => return Err(Bad("control character in a string")),
            Some(_) => at += 1,
            None => return Err(Bad("unterminated string")),
        }
    }
}

fn hex4(line: &[u8], at: usize) -> Parsed<u32> {
    let digits = line.get(at..at + 4).ok_or(Bad("invalid \\u escape"))?;
    let mut value = 0;
    for &d in digits {
        let digit = char::from(d)
            .to_digit(16)
            .ok_or(Bad("invalid \\u escape"))?;
        value = value * 16 + digit;
    }
    Ok(value)
}

/// Appends the unescaped text of a string's content (already checked by
/// [`string_end`]).
fn unescape_into(content: &[u8], out: &mut Vec<u8>) -> Parsed<()> {
    let mut at = 0;
    while at < content.len() {
        let Some(i) = memchr(b'\\', &content[at..]) else {
            out.extend_from_slice(&content[at..]);
            break;
        };
        out.extend_from_slice(&content[at..at + i]);
        at += i;
        let simple = match content.get(at + 1) {
            Some(b'b') => Some(b'\x08'),
            Some(b'f') => Some(b'\x0C'),
            Some(b'n') => Some(b'\n'),
            Some(b'r') => Some(b'\r'),
            Some(b't') => Some(b'\t'),
            Some(b'u') => None,
            Some(&other) => Some(other),
            None => return Err(Bad("invalid escape in a string")),
        };
        if let Some(byte) = simple {
            out.push(byte);
            at += 2;
            continue;
        }
        let high = hex4(content, at + 2)?;
        at += 6;
        let code = if (0xD800..0xDC00).contains(&high) {
            if content.get(at..at + 2) != Some(b"\\u") {
                return Err(Bad("lone surrogate in a \\u escape"));
            }
            let low = hex4(content, at + 2)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(Bad("lone surrogate in a \\u escape"));
            }
            at += 6;
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        let ch = char::from_u32(code).ok_or(Bad("lone surrogate in a \\u escape"))?;
        out.extend_from_slice(ch.encode_utf8(&mut [0u8; 4]).as_bytes());
    }
    Ok(())
}

/// `at` holds `word`; returns where it ends.
#[inline]
fn literal(line: &[u8], at: usize, word: &[u8]) -> Parsed<usize> {
    if line.get(at..at + word.len()) == Some(word) {
        Ok(at + word.len())
    } else {
        Err(Bad("invalid literal"))
    }
}

/// Checks the value at `at` and returns where it ends.
fn skip_value(line: &[u8], at: usize, depth: usize) -> Parsed<usize> {
    match line.get(at) {
        Some(b'"') => string_end(line, at + 1).map(|(end, _)| end + 1),
        Some(b't') => literal(line, at, b"true"),
        Some(b'f') => literal(line, at, b"false"),
        Some(b'n') => literal(line, at, b"null"),
        Some(b'-' | b'0'..=b'9') => number(line, at),
        Some(open @ (b'{' | b'[')) => {
            if depth >= MAX_DEPTH {
                return Err(Bad("nested too deeply"));
            }
            let close = if *open == b'{' { b'}' } else { b']' };
            let mut at = skip_ws(line, at + 1);
            if line.get(at) == Some(&close) {
                return Ok(at + 1);
            }
            loop {
                if close == b'}' {
                    if line.get(at) != Some(&b'"') {
                        return Err(Bad("expected a key"));
                    }
                    let (end, _) = string_end(line, at + 1)?;
                    at = skip_ws(line, end + 1);
                    if line.get(at) != Some(&b':') {
                        return Err(Bad("expected `:` after a key"));
                    }
                    at = skip_ws(line, at + 1);
                }
                at = skip_ws(line, skip_value(line, at, depth + 1)?);
                match line.get(at) {
                    Some(b',') => at = skip_ws(line, at + 1),
                    Some(&c) if c == close => return Ok(at + 1),
                    _ => return Err(Bad("expected `,` or a closing bracket")),
                }
            }
        }
        _ => Err(Bad("expected a value")),
    }
}

/// Checks the number at `at` (JSON's grammar) and returns where it ends.
fn number(line: &[u8], mut at: usize) -> Parsed<usize> {
    let digits = |line: &[u8], mut at: usize| {
        let start = at;
        while line.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        (at, at - start)
    };
    if line.get(at) == Some(&b'-') {
        at += 1;
    }
    match line.get(at) {
        Some(b'0') => at += 1,
        Some(b'1'..=b'9') => at = digits(line, at).0,
        _ => return Err(Bad("invalid number")),
    }
    if line.get(at) == Some(&b'.') {
        let (end, count) = digits(line, at + 1);
        if count == 0 {
            return Err(Bad("invalid number"));
        }
        at = end;
    }
    if let Some(b'e' | b'E') = line.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = line.get(at) {
            at += 1;
        }
        let (end, count) = digits(line, at);
        if count == 0 {
            return Err(Bad("invalid number"));
        }
        at = end;
    }
    Ok(at)
}
