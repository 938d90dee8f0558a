//! CSV (RFC 4180) split into field spans.
//!
//! The fast path finds `,`, `\n` and `"` sixty-four bytes at a time (a
//! word-at-a-time bit mask, no `unsafe`), so a row costs a few operations
//! per field rather than per byte. A field that starts with a quote is
//! closed with `memchr` and the scan restarts after it. Anything else with
//! a quote in it (a quote inside an unquoted field, text after a closing
//! quote) goes through a byte-at-a-time state machine that reads it as the
//! `csv` crate does: leniently, as text.
//!
//! Rules: the first row is the header; `\n` or `\r\n` outside quotes ends
//! a row (a final row may have no line ending); a UTF-8 byte order mark at
//! the start is skipped; blank lines are skipped and are not rows; an empty
//! field, quoted (`""`) or not, is null; fields are not trimmed; a row with
//! more or fewer fields than the header is ragged, its missing fields null.

use memchr::memchr;

use super::batch::{BatchBuilder, Fields, Span};
use super::{DatasetError, Split};
use super::{hash, swar};

/// What a 64-byte window of the input holds at each position: bit `i` is
/// set when byte `i` is `,`, `\n` or `"`.
#[inline]
fn window_mask(data: &[u8], at: usize) -> u64 {
    match data.get(at..at + 64) {
        Some(block) => block_mask(block),
        None => {
            // Past the end of the data: zeros match nothing.
            let mut block = [0u8; 64];
            let rest = data.get(at..).unwrap_or_default();
            block[..rest.len()].copy_from_slice(rest);
            block_mask(&block)
        }
    }
}

/// The special-byte mask of exactly 64 bytes, eight at a time (see
/// [`swar`]).
#[inline]
fn block_mask(block: &[u8]) -> u64 {
    let mut mask = 0u64;
    for (i, eight) in block.chunks_exact(8).enumerate() {
        let w = swar::word(eight).unwrap_or_default();
        let hits = swar::eq(w, b',') | swar::eq(w, b'\n') | swar::eq(w, b'"');
        mask |= swar::gather(hits) << (8 * i);
    }
    mask
}

/// The positions of special bytes from some offset on.
struct Scan {
    base: usize,
    bits: u64,
}

impl Scan {
    #[inline]
    fn at(data: &[u8], at: usize) -> Scan {
        Scan {
            base: at,
            bits: window_mask(data, at),
        }
    }

    #[inline]
    fn next(&mut self, data: &[u8]) -> Option<usize> {
        while self.bits == 0 {
            self.base += 64;
            if self.base >= data.len() {
                return None;
            }
            self.bits = window_mask(data, self.base);
        }
        let at = self.base + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(at)
    }
}

/// How one row ended.
enum Row {
    /// A row, and where the next one starts.
    Done {
        next: usize,
        fields: usize,
        /// The row hash, when asked for.
        hash: u64,
    },
    /// A blank line.
    Blank { next: usize },
    /// A quote the fast path does not handle: use the state machine.
    Slow,
    /// The row goes on past the data read so far.
    Incomplete,
    /// A quoted field is still open at the end of the source.
    Unterminated,
}

/// How the state machine read one row.
enum SlowRow {
    /// `fields` holds the row; the next one starts at `next`.
    Done {
        next: usize,
    },
    Incomplete,
    Unterminated,
}

/// How a field that starts with a quote ends.
enum Quoted {
    /// Its content, and where the byte after the closing quote is.
    Field {
        span: Span,
        after: usize,
    },
    Slow,
    Incomplete,
    Unterminated,
}

pub(crate) struct Csv {
    /// For each field index up to the last wanted one: its slot + 1, or 0.
    want: Vec<u32>,
    columns: usize,
    /// Where the next row starts in the input's data.
    pub(crate) pos: usize,
    pub(crate) fields: Fields,
    /// Every field of the row the state machine read, for hashing.
    row: Vec<Span>,
    joined: Vec<u8>,
}

impl Csv {
    /// A splitter for rows of `columns` fields, handing field `i` to slot
    /// `want[i] - 1` when `want[i]` is not 0.
    pub(crate) fn new(want: Vec<u32>, columns: usize, pos: usize) -> Csv {
        let slots = want.iter().filter(|&&w| w != 0).count();
        Csv {
            want,
            columns,
            pos,
            fields: Fields {
                slots,
                ..Fields::default()
            },
            row: Vec::new(),
            joined: Vec::new(),
        }
    }

    /// Reads the header row at `pos` (skipping a byte order mark and blank
    /// lines): `Ok(None)` when more data is needed to tell.
    pub(crate) fn header(
        data: &[u8],
        eof: bool,
        pos: &mut usize,
    ) -> Result<Option<Vec<String>>, DatasetError> {
        if *pos == 0 && data.len() < 3 && !eof {
            return Ok(None);
        }
        if *pos == 0 && data.starts_with(b"\xEF\xBB\xBF") {
            *pos = 3;
        }
        let mut fields = Fields::default();
        let mut row = Vec::new();
        loop {
            if *pos >= data.len() {
                return Ok(eof.then(Vec::new));
            }
            fields.scratch.clear();
            match slow_row(data, eof, *pos, &mut fields, &mut row) {
                SlowRow::Done { next } => {
                    let line = &data[*pos..next];
                    *pos = next;
                    if matches!(line, b"" | b"\n" | b"\r" | b"\r\n") {
                        continue;
                    }
                    return Ok(Some(
                        row.iter()
                            .map(|span| {
                                let bytes = span.get(data, &fields.scratch).unwrap_or_default();
                                String::from_utf8_lossy(bytes).into_owned()
                            })
                            .collect(),
                    ));
                }
                SlowRow::Incomplete => return Ok(None),
                SlowRow::Unterminated => {
                    return Err(DatasetError::Malformed(
                        "the header row has a quoted field that is never closed".into(),
                    ));
                }
            }
        }
    }

    /// Splits rows from `data` into the batch until it has `max_rows` more
    /// rows, the data runs out, or the source ends.
    pub(crate) fn split(
        &mut self,
        data: &[u8],
        eof: bool,
        max_rows: usize,
        batch: &mut BatchBuilder,
    ) -> Result<Split, DatasetError> {
        let mut scan = Scan::at(data, self.pos);
        let mut rows = 0;
        while rows < max_rows {
            let start = self.pos;
            if start >= data.len() {
                return Ok(if eof { Split::End } else { Split::NeedMore });
            }
            let base = self.fields.start_row();
            let row = match batch.hashes {
                Some(_) => self.fast_row::<true>(data, eof, start, base, &mut scan),
                None => self.fast_row::<false>(data, eof, start, base, &mut scan),
            };
            let (next, fields) = match row {
                Row::Done { next, fields, hash } => {
                    if let Some(hashes) = batch.hashes.as_mut() {
                        hashes.push(hash);
                    }
                    (next, fields)
                }
                Row::Blank { next } => {
                    self.fields.drop_row(base);
                    self.pos = next;
                    continue;
                }
                Row::Slow => {
                    let next = match slow_row(data, eof, start, &mut self.fields, &mut self.row) {
                        SlowRow::Done { next } => next,
                        SlowRow::Incomplete => {
                            self.fields.drop_row(base);
                            return Ok(Split::NeedMore);
                        }
                        SlowRow::Unterminated => return Err(unterminated(batch.row_number())),
                    };
                    for (field, &span) in self.row.iter().enumerate() {
                        record(&mut self.fields, &self.want, base, field, span);
                    }
                    if let Some(hashes) = batch.hashes.as_mut() {
                        hashes.push(row_hash(
                            &self.row,
                            data,
                            &self.fields.scratch,
                            &mut self.joined,
                        ));
                    }
                    scan = Scan::at(data, next);
                    (next, self.row.len())
                }
                Row::Incomplete => {
                    self.fields.drop_row(base);
                    return Ok(Split::NeedMore);
                }
                Row::Unterminated => return Err(unterminated(batch.row_number())),
            };
            if fields != self.columns {
                batch.ragged.push(batch.row_number());
            }
            batch.rows += 1;
            rows += 1;
            self.pos = next;
        }
        Ok(Split::Full)
    }

    /// One row by the fast path, from `start`, with `scan` positioned there.
    /// With `HASH`, every field's span is kept for the row hash.
    #[inline]
    fn fast_row<const HASH: bool>(
        &mut self,
        data: &[u8],
        eof: bool,
        start: usize,
        base: usize,
        scan: &mut Scan,
    ) -> Row {
        let mut field = 0;
        let mut field_start = start;
        let mut quoted: Option<Span> = None;
        let mut any_quoted = false;
        if HASH {
            self.row.clear();
        }
        loop {
            let Some(at) = scan.next(data) else {
                if !eof {
                    return Row::Incomplete;
                }
                // The last row, without a line ending.
                return self.end_row::<HASH>(
                    data,
                    start,
                    field,
                    field_start,
                    data.len(),
                    quoted,
                    any_quoted,
                    base,
                );
            };
            match data[at] {
                b',' => {
                    let span = quoted
                        .take()
                        .unwrap_or_else(|| Span::data_or_null(field_start, at));
                    record(&mut self.fields, &self.want, base, field, span);
                    if HASH {
                        self.row.push(span);
                    }
                    field += 1;
                    field_start = at + 1;
                }
                b'\n' => {
                    return self.end_row::<HASH>(
                        data,
                        start,
                        field,
                        field_start,
                        at,
                        quoted,
                        any_quoted,
                        base,
                    );
                }
                _ => {
                    if at != field_start || quoted.is_some() {
                        return Row::Slow;
                    }
                    match self.quoted_field(data, eof, at) {
                        Quoted::Field { span, after } => {
                            quoted = Some(span);
                            any_quoted = true;
                            *scan = Scan::at(data, after);
                        }
                        Quoted::Slow => return Row::Slow,
                        Quoted::Incomplete => return Row::Incomplete,
                        Quoted::Unterminated => return Row::Unterminated,
                    }
                }
            }
        }
    }

    /// Ends the fast path's row at the line ending at `at` (or the end of
    /// the data).
    #[expect(
        clippy::too_many_arguments,
        reason = "the fast path's state, kept in registers"
    )]
    #[inline]
    fn end_row<const HASH: bool>(
        &mut self,
        data: &[u8],
        start: usize,
        field: usize,
        field_start: usize,
        at: usize,
        quoted: Option<Span>,
        any_quoted: bool,
        base: usize,
    ) -> Row {
        let end = strip_cr(data, field_start, at);
        let next = (at + 1).min(data.len());
        if field == 0 && end == field_start && !any_quoted {
            return Row::Blank { next };
        }
        let span = quoted.unwrap_or_else(|| Span::data_or_null(field_start, end));
        record(&mut self.fields, &self.want, base, field, span);
        let hash = if !HASH {
            0
        } else if any_quoted {
            self.row.push(span);
            row_hash(&self.row, data, &self.fields.scratch, &mut self.joined)
        } else {
            // Unquoted, the row's bytes are its fields joined by commas.
            let lengths = self
                .row
                .iter()
                .chain([&span])
                .fold(0, |h, s| hash::add_length(h, s.len()));
            hash::csv_row(&data[start..end], lengths)
        };
        Row::Done {
            next,
            fields: field + 1,
            hash,
        }
    }

    /// A field that starts with the quote at `open`.
    #[inline]
    fn quoted_field(&mut self, data: &[u8], eof: bool, open: usize) -> Quoted {
        let mut from = open + 1;
        let mut escaped = false;
        let close = loop {
            let Some(i) = memchr(b'"', &data[from..]) else {
                return if eof {
                    Quoted::Unterminated
                } else {
                    Quoted::Incomplete
                };
            };
            let quote = from + i;
            match data.get(quote + 1) {
                Some(b'"') => {
                    escaped = true;
                    from = quote + 2;
                }
                Some(_) => break quote,
                None if eof => break quote,
                None => return Quoted::Incomplete,
            }
        };
        let after = close + 1;
        match data.get(after) {
            None | Some(b',' | b'\n') => {}
            Some(b'\r') => match data.get(after + 1) {
                Some(b'\n') => {}
                None if eof => {}
                None => return Quoted::Incomplete,
                Some(_) => return Quoted::Slow,
            },
            Some(_) => return Quoted::Slow,
        }
        let content = &data[open + 1..close];
        let span = if content.is_empty() {
            Span::NULL
        } else if escaped {
            unescape(content, &mut self.fields)
        } else {
            Span::data(open + 1, close)
        };
        Quoted::Field { span, after }
    }
}

/// Hands field `field` of the row at `base` to its slot, if it has one.
#[inline]
fn record(fields: &mut Fields, want: &[u32], base: usize, field: usize, span: Span) {
    if let Some(&slot) = want.get(field)
        && slot != 0
    {
        fields.spans[base + slot as usize - 1] = span;
    }
}

/// `end`, less a carriage return just before it that ends a line.
#[inline]
fn strip_cr(data: &[u8], start: usize, end: usize) -> usize {
    if end > start && data[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// A quoted field's content with each `""` made `"`, into the scratch
/// buffer.
fn unescape(content: &[u8], fields: &mut Fields) -> Span {
    let start = fields.scratch.len();
    let mut rest = content;
    while let Some(i) = memchr(b'"', rest) {
        // The fast path saw only doubled quotes here.
        fields.scratch.extend_from_slice(&rest[..=i]);
        rest = rest.get(i + 2..).unwrap_or_default();
    }
    fields.scratch.extend_from_slice(rest);
    Span::scratch(start, fields.scratch.len())
}

/// The hash of a row whose fields are in `row`.
fn row_hash(row: &[Span], data: &[u8], scratch: &[u8], joined: &mut Vec<u8>) -> u64 {
    joined.clear();
    let mut lengths = 0;
    for (i, span) in row.iter().enumerate() {
        if i > 0 {
            joined.push(b',');
        }
        joined.extend_from_slice(span.get(data, scratch).unwrap_or_default());
        lengths = hash::add_length(lengths, span.len());
    }
    hash::csv_row(joined, lengths)
}

fn unterminated(row: u64) -> DatasetError {
    DatasetError::Malformed(format!(
        "row {row}: a quoted field is never closed before the end of the data"
    ))
}

/// States of the byte-at-a-time reader.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the closing one, or the first of `""`.
    QuoteInQuoted,
}

/// Reads the row at `start` byte by byte into `row`, every field copied
/// (unquoted and unescaped) into the scratch buffer. Lenient like the `csv`
/// crate: a quote inside an unquoted field is text, and so is anything
/// between a closing quote and the next separator.
fn slow_row(
    data: &[u8],
    eof: bool,
    start: usize,
    fields: &mut Fields,
    row: &mut Vec<Span>,
) -> SlowRow {
    row.clear();
    let scratch_start = fields.scratch.len();
    let mut field_start = scratch_start;
    let mut state = State::FieldStart;
    let end_field = |fields: &mut Fields, row: &mut Vec<Span>, field_start: usize| {
        let end = fields.scratch.len();
        row.push(if end == field_start {
            Span::NULL
        } else {
            Span::scratch(field_start, end)
        });
    };
    for (i, &b) in data.iter().enumerate().skip(start) {
        state = match (state, b) {
            (State::FieldStart, b'"') => State::Quoted,
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => {
                fields.scratch.push(b);
                State::Quoted
            }
            (State::QuoteInQuoted, b'"') => {
                fields.scratch.push(b'"');
                State::Quoted
            }
            (_, b',') => {
                end_field(fields, row, field_start);
                field_start = fields.scratch.len();
                State::FieldStart
            }
            (_, b'\n') => {
                if state == State::Unquoted && fields.scratch.last() == Some(&b'\r') {
                    fields.scratch.pop();
                }
                end_field(fields, row, field_start);
                return SlowRow::Done { next: i + 1 };
            }
            (_, _) => {
                fields.scratch.push(b);
                State::Unquoted
            }
        };
    }
    if !eof {
        fields.scratch.truncate(scratch_start);
        return SlowRow::Incomplete;
    }
    if state == State::Quoted {
        return SlowRow::Unterminated;
    }
    if state == State::Unquoted && fields.scratch.last() == Some(&b'\r') {
        fields.scratch.pop();
    }
    end_field(fields, row, field_start);
    SlowRow::Done { next: data.len() }
}
