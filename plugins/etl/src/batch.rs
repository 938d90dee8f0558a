//! Column batches from the host, as rows of raw text values.

use andon_pdk::dataset::{Batch, Values};

use crate::plan::Row;
use crate::value::Value;

/// The rows of a batch whose columns were all requested as `text`: a null
/// status is [`Value::Null`], anything else the field's text (invalid
/// UTF-8 replaced).
pub fn text_rows(batch: &Batch) -> Result<Vec<Row>, String> {
    let rows = batch.rows as usize;
    let mut out: Vec<Row> = (0..rows)
        .map(|_| Vec::with_capacity(batch.columns.len()))
        .collect();
    for (c, column) in batch.columns.iter().enumerate() {
        let Values::Text(text) = &column.values else {
            return Err(format!("the host sent column {c} as numbers, not text"));
        };
        if text.offsets.len() != rows + 1 {
            return Err(format!(
                "the host sent {} offsets for {rows} rows in column {c}",
                text.offsets.len()
            ));
        }
        for (i, row) in out.iter_mut().enumerate() {
            if column.status.get(i).copied().unwrap_or(0) == 1 {
                row.push(Value::Null);
                continue;
            }
            let (start, end) = (text.offsets[i] as usize, text.offsets[i + 1] as usize);
            let bytes = text.data.get(start..end).ok_or_else(|| {
                format!("the host sent a text offset past the data in column {c}")
            })?;
            row.push(Value::Raw(String::from_utf8_lossy(bytes).into_owned()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use andon_pdk::dataset::Column;

    use andon_pdk::testing::text_column;

    use super::*;

    fn batch(columns: Vec<Column>, rows: u32) -> Batch {
        Batch {
            first_row: 1,
            rows,
            columns,
            row_hashes: Vec::new(),
            ragged_rows: Vec::new(),
        }
    }

    #[test]
    fn columns_become_rows() {
        let b = batch(
            vec![
                text_column(&[Some("1"), Some("2")]),
                text_column(&[Some("é"), None]),
            ],
            2,
        );
        assert_eq!(
            text_rows(&b),
            Ok(vec![
                vec![Value::Raw("1".into()), Value::Raw("é".into())],
                vec![Value::Raw("2".into()), Value::Null],
            ])
        );
    }

    #[test]
    fn a_column_without_statuses_holds_values_only() {
        let mut column = text_column(&[Some("a"), Some("")]);
        column.status.clear();
        assert_eq!(
            text_rows(&batch(vec![column], 2)),
            Ok(vec![
                vec![Value::Raw("a".into())],
                vec![Value::Raw(String::new())]
            ])
        );
    }

    #[test]
    fn inconsistent_batches_are_errors_not_panics() {
        let mut column = text_column(&[Some("a")]);
        column.values = Values::Int(vec![1]);
        assert!(text_rows(&batch(vec![column], 1)).is_err());
        let column = text_column(&[Some("a")]);
        assert!(text_rows(&batch(vec![column], 2)).is_err());
        let mut column = text_column(&[Some("abc")]);
        if let Values::Text(t) = &mut column.values {
            t.offsets = vec![0, 99];
        }
        assert!(text_rows(&batch(vec![column], 1)).is_err());
    }
}
