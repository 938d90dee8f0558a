//! Typed column batches, built in two phases: a format parser splits rows
//! into field spans (where each wanted field's bytes are), then each column
//! converts its spans in one tight loop of its own type.

use super::value::{parse_bool, parse_date, parse_float, parse_int, parse_timestamp};
use super::{Batch, Column, ColumnType, INVALID, NULL, TextValues, VALUE, Values};

/// Where a field's bytes are: in the input buffer, in the scratch buffer
/// (fields that had to be unescaped), or nowhere (null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

/// Marks a span into the scratch buffer. Buffers stay far below 2 GiB
/// (rows are at most 32 MiB, chunks at most 64 MiB).
const SCRATCH: u32 = 1 << 31;

impl Span {
    pub(crate) const NULL: Span = Span {
        start: u32::MAX,
        end: u32::MAX,
    };

    /// `data[start..end]`; null when empty (an empty CSV field).
    #[inline]
    pub(crate) fn data_or_null(start: usize, end: usize) -> Span {
        if start == end {
            Span::NULL
        } else {
            Span::data(start, end)
        }
    }

    /// `data[start..end]`, possibly empty (a JSON `""`).
    #[inline]
    pub(crate) fn data(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// `scratch[start..end]`.
    #[inline]
    pub(crate) fn scratch(start: usize, end: usize) -> Span {
        Span {
            start: start as u32 | SCRATCH,
            end: end as u32,
        }
    }

    #[inline]
    pub(crate) fn is_null(self) -> bool {
        self.start == u32::MAX
    }

    /// The field's bytes, `None` for null.
    #[inline]
    pub(crate) fn get<'a>(self, data: &'a [u8], scratch: &'a [u8]) -> Option<&'a [u8]> {
        if self.start & SCRATCH == 0 {
            data.get(self.start as usize..self.end as usize)
        } else if self.is_null() {
            None
        } else {
            scratch.get((self.start & !SCRATCH) as usize..self.end as usize)
        }
    }

    /// The field's length in bytes (0 for null).
    #[inline]
    pub(crate) fn len(self) -> usize {
        if self.is_null() {
            0
        } else {
            (self.end - (self.start & !SCRATCH)) as usize
        }
    }
}

/// The wanted fields of the rows split so far: `spans[row * slots + slot]`.
#[derive(Default)]
pub(crate) struct Fields {
    pub(crate) spans: Vec<Span>,
    pub(crate) scratch: Vec<u8>,
    pub(crate) slots: usize,
}

impl Fields {
    /// Starts a row with every slot null; returns where its spans start.
    #[inline]
    pub(crate) fn start_row(&mut self) -> usize {
        let base = self.spans.len();
        self.spans.resize(base + self.slots, Span::NULL);
        base
    }

    /// Forgets a row started by [`Fields::start_row`].
    #[inline]
    pub(crate) fn drop_row(&mut self, base: usize) {
        self.spans.truncate(base);
    }
}

/// One requested column being filled.
struct Builder {
    kind: ColumnType,
    slot: usize,
    values: Values,
    status: Vec<u8>,
}

impl Builder {
    fn new(kind: ColumnType, slot: usize, capacity: usize) -> Builder {
        let values = match kind {
            ColumnType::Text => Values::Text(TextValues {
                offsets: {
                    let mut offsets = Vec::with_capacity(capacity + 1);
                    offsets.push(0);
                    offsets
                },
                data: Vec::new(),
            }),
            ColumnType::Float => Values::Float(Vec::with_capacity(capacity)),
            _ => Values::Int(Vec::with_capacity(capacity)),
        };
        Builder {
            kind,
            slot,
            values,
            status: Vec::new(),
        }
    }

    fn append(&mut self, fields: &Fields, data: &[u8]) {
        let spans = fields
            .spans
            .get(self.slot..)
            .unwrap_or_default()
            .iter()
            .step_by(fields.slots.max(1));
        let values = spans.map(|span| span.get(data, &fields.scratch));
        let status = &mut self.status;
        match (&mut self.values, self.kind) {
            (Values::Text(text), _) => append_text(text, status, values),
            (Values::Float(floats), _) => append_parsed(floats, status, values, parse_float),
            (Values::Int(ints), ColumnType::Boolean) => {
                append_parsed(ints, status, values, parse_bool);
            }
            (Values::Int(ints), ColumnType::Date) => {
                append_parsed(ints, status, values, parse_date);
            }
            (Values::Int(ints), ColumnType::Timestamp) => {
                append_parsed(ints, status, values, parse_timestamp);
            }
            (Values::Int(ints), _) => append_parsed(ints, status, values, parse_int),
        }
    }

    fn text_bytes(&self) -> usize {
        match &self.values {
            Values::Text(text) => text.data.len(),
            _ => 0,
        }
    }

    /// The column so far, leaving an empty builder for the next batch.
    fn take(&mut self, capacity: usize) -> Column {
        let fresh = Builder::new(self.kind, self.slot, capacity);
        let old = std::mem::replace(self, fresh);
        Column {
            values: old.values,
            status: old.status,
        }
    }
}

/// Records a row's status; the status list stays empty until the first row
/// that is not a value.
#[inline]
fn mark(status: &mut Vec<u8>, row: usize, value: u8) {
    if status.is_empty() {
        if value == VALUE {
            return;
        }
        status.resize(row, VALUE);
    }
    status.push(value);
}

fn append_parsed<'a, T: Copy + Default>(
    out: &mut Vec<T>,
    status: &mut Vec<u8>,
    values: impl Iterator<Item = Option<&'a [u8]>>,
    parse: impl Fn(&[u8]) -> Option<T>,
) {
    for value in values {
        let (parsed, state) = match value {
            None => (T::default(), NULL),
            Some(bytes) => match parse(bytes) {
                Some(parsed) => (parsed, VALUE),
                None => (T::default(), INVALID),
            },
        };
        mark(status, out.len(), state);
        out.push(parsed);
    }
}

fn append_text<'a>(
    text: &mut TextValues,
    status: &mut Vec<u8>,
    values: impl Iterator<Item = Option<&'a [u8]>>,
) {
    for value in values {
        let row = text.offsets.len() - 1;
        match value {
            None => mark(status, row, NULL),
            Some(bytes) => {
                text.data.extend_from_slice(bytes);
                mark(status, row, VALUE);
            }
        }
        // The data stays far below 4 GiB: see `TEXT_BATCH_BYTES`.
        text.offsets.push(text.data.len() as u32);
    }
}

/// The batch being filled: one builder per requested column, plus the row
/// hashes and ragged rows.
pub(crate) struct BatchBuilder {
    builders: Vec<Builder>,
    pub(crate) first_row: u64,
    pub(crate) rows: usize,
    pub(crate) hashes: Option<Vec<u64>>,
    pub(crate) ragged: Vec<u64>,
    capacity: usize,
}

impl BatchBuilder {
    /// `columns` pairs each requested column's type with its slot.
    pub(crate) fn new(
        columns: &[(ColumnType, usize)],
        hashes: bool,
        capacity: usize,
    ) -> BatchBuilder {
        BatchBuilder {
            builders: columns
                .iter()
                .map(|&(kind, slot)| Builder::new(kind, slot, capacity))
                .collect(),
            first_row: 1,
            rows: 0,
            hashes: hashes.then(|| Vec::with_capacity(capacity)),
            ragged: Vec::new(),
            capacity,
        }
    }

    /// The number of the row being split now (1-based).
    #[inline]
    pub(crate) fn row_number(&self) -> u64 {
        self.first_row + self.rows as u64
    }

    /// Converts the split rows' fields into the columns.
    pub(crate) fn append(&mut self, fields: &Fields, data: &[u8]) {
        for builder in &mut self.builders {
            builder.append(fields, data);
        }
    }

    /// Bytes of text held by the batch.
    pub(crate) fn text_bytes(&self) -> usize {
        self.builders.iter().map(Builder::text_bytes).sum()
    }

    /// The batch so far; the next one starts after it.
    pub(crate) fn take(&mut self) -> Batch {
        let capacity = self.capacity;
        let batch = Batch {
            first_row: self.first_row,
            rows: self.rows as u32,
            columns: self.builders.iter_mut().map(|b| b.take(capacity)).collect(),
            row_hashes: self
                .hashes
                .as_mut()
                .map(|h| std::mem::replace(h, Vec::with_capacity(capacity)))
                .unwrap_or_default(),
            ragged_rows: std::mem::take(&mut self.ragged),
        };
        self.first_row += self.rows as u64;
        self.rows = 0;
        batch
    }
}
