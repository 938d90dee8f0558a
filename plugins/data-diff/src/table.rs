//! Datasets as the diff reads them: a header, a size, and batches of text
//! columns, borrowed cell by cell without copying.

use andon_pdk::dataset::{Batch, Values};

/// One column of a batch: value `i` is `data[offsets[i]..offsets[i + 1]]`,
/// null where `status[i]` is 1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextColumn {
    pub offsets: Vec<u32>,
    pub data: Vec<u8>,
    /// One byte per row (1 is null), or empty when no row is null.
    pub status: Vec<u8>,
}

impl TextColumn {
    /// The cell of row `i`: `None` for null (or a row past the end).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if self.status.get(i) == Some(&1) {
            return None;
        }
        let start = *self.offsets.get(i)? as usize;
        let end = *self.offsets.get(i + 1)? as usize;
        self.data.get(start..end)
    }

    /// A column from optional texts, for tests and fixtures.
    pub fn from_cells<'a>(cells: impl IntoIterator<Item = Option<&'a str>>) -> TextColumn {
        let mut column = TextColumn {
            offsets: vec![0],
            ..TextColumn::default()
        };
        for cell in cells {
            column.data.extend_from_slice(cell.unwrap_or("").as_bytes());
            column.offsets.push(column.data.len() as u32);
            column.status.push(u8::from(cell.is_none()));
        }
        column
    }
}

/// Rows of text columns, one per header column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextBatch {
    pub rows: usize,
    pub columns: Vec<TextColumn>,
}

impl TextBatch {
    /// Takes the host's batch apart without copying; every column must
    /// have been requested as text.
    pub fn from_wit(batch: Batch) -> Result<TextBatch, String> {
        let rows = batch.rows as usize;
        let columns = batch
            .columns
            .into_iter()
            .enumerate()
            .map(|(c, column)| match column.values {
                Values::Text(text) if text.offsets.len() == rows + 1 => Ok(TextColumn {
                    offsets: text.offsets,
                    data: text.data,
                    status: column.status,
                }),
                Values::Text(text) => Err(format!(
                    "the host sent {} offsets for {rows} rows in column {c}",
                    text.offsets.len()
                )),
                _ => Err(format!("the host sent column {c} as numbers, not text")),
            })
            .collect::<Result<_, _>>()?;
        Ok(TextBatch { rows, columns })
    }
}

/// A dataset opened for one pass.
pub trait Table {
    /// The column names, in file order.
    fn header(&self) -> &[String];
    /// The source's size in bytes.
    fn size(&self) -> u64;
    /// The next batch (a column per header column), or `None` at the end.
    fn next_batch(&mut self) -> Result<Option<TextBatch>, String>;
}

/// An in-memory table, for tests: rows of cells, `None` for null, handed
/// out `batch_rows` at a time.
#[derive(Debug, Clone)]
pub struct MemTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    pub batch_rows: usize,
    next: usize,
}

impl MemTable {
    /// Parses `text`: a header line, then lines of `,`-separated fields (no
    /// quoting); an empty field is null.
    pub fn csv(text: &str) -> MemTable {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let header = lines
            .next()
            .unwrap_or_default()
            .split(',')
            .map(str::to_string)
            .collect();
        let rows = lines
            .map(|line| {
                line.split(',')
                    .map(|f| (!f.is_empty()).then(|| f.to_string()))
                    .collect()
            })
            .collect();
        MemTable {
            header,
            rows,
            batch_rows: 2,
            next: 0,
        }
    }
}

impl Table for MemTable {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn size(&self) -> u64 {
        self.rows.len() as u64
    }

    fn next_batch(&mut self) -> Result<Option<TextBatch>, String> {
        if self.next >= self.rows.len() {
            return Ok(None);
        }
        let end = (self.next + self.batch_rows.max(1)).min(self.rows.len());
        let rows = &self.rows[self.next..end];
        self.next = end;
        let columns = (0..self.header.len())
            .map(|c| {
                TextColumn::from_cells(
                    rows.iter()
                        .map(|row| row.get(c).and_then(|cell| cell.as_deref())),
                )
            })
            .collect();
        Ok(Some(TextBatch {
            rows: rows.len(),
            columns,
        }))
    }
}

#[cfg(test)]
mod tests {
    use andon_pdk::dataset::{Column, TextValues};

    use super::*;

    #[test]
    fn cells_borrow_from_the_column() {
        let column = TextColumn::from_cells([Some("a"), None, Some(""), Some("é")]);
        assert_eq!(column.get(0), Some(&b"a"[..]));
        assert_eq!(column.get(1), None);
        assert_eq!(column.get(2), Some(&b""[..]));
        assert_eq!(column.get(3), Some("é".as_bytes()));
        assert_eq!(column.get(4), None);
    }

    #[test]
    fn wit_batches_convert_or_explain() {
        let batch = |values: Values, rows: u32| Batch {
            first_row: 1,
            rows,
            columns: vec![Column {
                values,
                status: Vec::new(),
            }],
            row_hashes: Vec::new(),
            ragged_rows: Vec::new(),
        };
        let text = TextValues {
            offsets: vec![0, 1, 3],
            data: b"abc".to_vec(),
        };
        let converted = TextBatch::from_wit(batch(Values::Text(text.clone()), 2));
        assert_eq!(
            converted.as_ref().map(|b| b.columns[0].get(1)),
            Ok(Some(&b"bc"[..]))
        );
        assert!(TextBatch::from_wit(batch(Values::Text(text), 3)).is_err());
        assert!(TextBatch::from_wit(batch(Values::Int(vec![1]), 1)).is_err());
    }

    #[test]
    fn mem_tables_come_in_batches() {
        let mut t = MemTable::csv("a,b\n1,\n2,x\n3,y");
        let first = t.next_batch().ok().flatten().unwrap_or_default();
        assert_eq!(first.rows, 2);
        assert_eq!(first.columns[1].get(0), None);
        assert_eq!(first.columns[1].get(1), Some(&b"x"[..]));
        assert_eq!(t.next_batch().ok().flatten().map(|b| b.rows), Some(1));
        assert_eq!(t.next_batch(), Ok(None));
    }
}
