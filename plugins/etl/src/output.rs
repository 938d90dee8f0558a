//! Writing the output: CSV (RFC 4180, quoting only where needed, null as an
//! empty field) or JSON Lines (one object per row, keys in column order).

use crate::config::Format;
use crate::value::Value;

/// Rows appended to an in-memory file of the chosen format.
pub struct Writer {
    format: Format,
    columns: Vec<String>,
    data: Vec<u8>,
    rows: u64,
    cell: String,
}

impl Writer {
    /// A writer with the header (for CSV) already written.
    pub fn new(format: Format, columns: &[String]) -> Writer {
        let mut w = Writer {
            format,
            columns: columns.to_vec(),
            data: Vec::new(),
            rows: 0,
            cell: String::new(),
        };
        if format == Format::Csv {
            for (i, name) in columns.iter().enumerate() {
                if i > 0 {
                    w.data.push(b',');
                }
                csv_field(name, &mut w.data);
            }
            w.data.push(b'\n');
        }
        w
    }

    pub fn write(&mut self, rows: &[Vec<Value>]) {
        for row in rows {
            match self.format {
                Format::Csv => self.csv_row(row),
                Format::JsonLines => self.json_row(row),
            }
            self.rows += 1;
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(self) -> Vec<u8> {
        self.data
    }

    fn csv_row(&mut self, row: &[Value]) {
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                self.data.push(b',');
            }
            self.cell.clear();
            if value.write_text(&mut self.cell) {
                csv_field(&self.cell, &mut self.data);
            }
        }
        self.data.push(b'\n');
    }

    fn json_row(&mut self, row: &[Value]) {
        self.data.push(b'{');
        for (i, (name, value)) in self.columns.iter().zip(row).enumerate() {
            if i > 0 {
                self.data.push(b',');
            }
            json_string(name, &mut self.data);
            self.data.push(b':');
            match value {
                Value::Null => self.data.extend_from_slice(b"null"),
                Value::Bool(b) => self
                    .data
                    .extend_from_slice(if *b { b"true" } else { b"false" }),
                Value::Int(i) => self.data.extend_from_slice(i.to_string().as_bytes()),
                Value::Float(f) if f.is_finite() => {
                    self.cell.clear();
                    value.write_text(&mut self.cell);
                    self.data.extend_from_slice(self.cell.as_bytes());
                }
                Value::Float(_) => self.data.extend_from_slice(b"null"),
                // A field that is a JSON number stays one (`12.50` as it
                // was written); anything else is a string.
                Value::Raw(text) if is_json_number(text) => {
                    self.data.extend_from_slice(text.as_bytes());
                }
                Value::Raw(text) | Value::Text(text) => json_string(text, &mut self.data),
            }
        }
        self.data.extend_from_slice(b"}\n");
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break, or
/// starts or ends with a space.
fn csv_field(text: &str, out: &mut Vec<u8>) {
    let needs_quotes =
        text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ');
    if needs_quotes {
        out.push(b'"');
        for b in text.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

fn json_string(text: &str, out: &mut Vec<u8>) {
    // serde_json escapes exactly what JSON requires; a `&str` always
    // serializes.
    match serde_json::to_string(text) {
        Ok(quoted) => out.extend_from_slice(quoted.as_bytes()),
        Err(_) => out.extend_from_slice(b"null"),
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b[int_start] == b'0') {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<Value>> {
        vec![
            vec![
                Value::Raw("1".into()),
                Value::Raw("a, \"b\"".into()),
                Value::Float(2.5),
            ],
            vec![Value::Raw("007".into()), Value::Null, Value::Bool(true)],
            vec![
                Value::Int(-3),
                Value::Text("line\nbreak".into()),
                Value::Float(f64::NAN),
            ],
        ]
    }

    fn columns() -> Vec<String> {
        vec!["id".into(), "note, quoted".into(), "x".into()]
    }

    #[test]
    fn csv_quotes_only_where_needed() {
        let mut w = Writer::new(Format::Csv, &columns());
        w.write(&rows());
        assert_eq!(w.rows(), 3);
        assert_eq!(
            String::from_utf8(w.finish()).unwrap_or_default(),
            "id,\"note, quoted\",x\n1,\"a, \"\"b\"\"\",2.5\n007,,true\n-3,\"line\nbreak\",NaN\n"
        );
    }

    #[test]
    fn json_lines_keep_numbers_as_numbers() {
        let mut w = Writer::new(Format::JsonLines, &columns());
        w.write(&rows());
        let text = String::from_utf8(w.finish()).unwrap_or_default();
        assert_eq!(
            text,
            "{\"id\":1,\"note, quoted\":\"a, \\\"b\\\"\",\"x\":2.5}\n\
             {\"id\":\"007\",\"note, quoted\":null,\"x\":true}\n\
             {\"id\":-3,\"note, quoted\":\"line\\nbreak\",\"x\":null}\n"
        );
        for line in text.lines() {
            assert!(
                serde_json::from_str::<serde_json::Value>(line).is_ok(),
                "{line}"
            );
        }
    }

    #[test]
    fn json_number_grammar() {
        for yes in ["0", "-1", "12.50", "1e5", "2E-3", "-0.5"] {
            assert!(is_json_number(yes), "{yes}");
        }
        for no in ["", "-", "01", "1.", ".5", "1e", "+1", "1_000", "NaN", "0x1"] {
            assert!(!is_json_number(no), "{no}");
        }
    }
}
