//! The parser against hand-written cases and random CSV, at many chunk
//! sizes and with readers that return a few bytes at a time, so that every
//! row, quote and line ending also falls across a chunk boundary.

use std::io::Read;

use super::*;

/// A reader that returns at most `step` bytes per call.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A reader that fails after some bytes.
struct Failing(usize);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.0);
        buf[..n].fill(b'a');
        self.0 -= n;
        Ok(n)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Invalid,
    Text(String),
    Int(i64),
    Float(f64),
}

use Cell::{Invalid, Null};

fn text(s: &str) -> Cell {
    Cell::Text(s.into())
}

fn int(v: i64) -> Cell {
    Cell::Int(v)
}

/// Column `index` of every batch, row by row.
fn cells(batches: &[Batch], index: usize) -> Vec<Cell> {
    let mut out = Vec::new();
    for batch in batches {
        let column = &batch.columns[index];
        assert!(
            column.status.is_empty() || column.status.len() == batch.rows as usize,
            "status has one byte per row or none"
        );
        assert!(
            column.status.is_empty() || column.status.iter().any(|&s| s != VALUE),
            "an all-values status is left empty"
        );
        for row in 0..batch.rows as usize {
            out.push(match column.status(row) {
                NULL => Null,
                INVALID => Invalid,
                _ => match &column.values {
                    Values::Text(t) => Cell::Text(
                        String::from_utf8(t.get(row).expect("in range").to_vec()).expect("utf-8"),
                    ),
                    Values::Int(v) => Cell::Int(v[row]),
                    Values::Float(v) => Cell::Float(v[row]),
                },
            });
        }
    }
    out
}

fn columns(specs: &[(&str, ColumnType)]) -> Vec<ColumnRequest> {
    specs
        .iter()
        .map(|(name, kind)| ColumnRequest {
            name: (*name).into(),
            kind: *kind,
        })
        .collect()
}

fn read(
    options: &ReadOptions,
    reader: Box<dyn Read + Send>,
) -> Result<(Vec<String>, Vec<Batch>), DatasetError> {
    let mut parser = Parser::open(reader, options)?;
    let mut batches = Vec::new();
    while let Some(batch) = parser.next_batch()? {
        assert!(batch.rows > 0, "no empty batches");
        batches.push(batch);
    }
    assert_eq!(parser.next_batch(), Ok(None), "the end stays the end");
    Ok((parser.header().to_vec(), batches))
}

/// Reads `data` at many chunk sizes and read sizes; every way must give the
/// same result, which is returned.
fn read_every_way(
    data: &[u8],
    options: &ReadOptions,
) -> Result<(Vec<String>, Vec<Batch>), DatasetError> {
    let reference = read(options, Box::new(std::io::Cursor::new(data.to_vec())));
    for chunk in [1, 2, 3, 5, 7, 13, 64, 65, 100, 4096] {
        for step in [1, 3, usize::MAX] {
            let options = ReadOptions {
                chunk_bytes: chunk,
                ..options.clone()
            };
            let reader = Trickle {
                data: data.to_vec(),
                at: 0,
                step,
            };
            let got = read(&options, Box::new(reader));
            assert_eq!(got, reference, "chunk {chunk}, step {step}");
        }
    }
    reference
}

fn csv(data: &str, specs: &[(&str, ColumnType)]) -> Vec<Vec<Cell>> {
    let options = ReadOptions::new(Format::Csv, columns(specs));
    let (_, batches) = read_every_way(data.as_bytes(), &options).expect("reads");
    (0..specs.len()).map(|i| cells(&batches, i)).collect()
}

fn all_text(data: &str, names: &[&str]) -> Vec<Vec<Cell>> {
    let specs: Vec<(&str, ColumnType)> = names.iter().map(|n| (*n, ColumnType::Text)).collect();
    csv(data, &specs)
}

#[test]
fn plain_csv_into_typed_columns() {
    let data = "id,name,amount,paid,day,at\n\
                1,ann,12.5,true,2024-05-01,2024-05-01T10:00:00Z\n\
                2,bob,-3,no,2024-05-02,2024-05-01 10:00:01\n\
                3,,x,maybe,May 3,yesterday\n";
    use ColumnType::*;
    let got = csv(
        data,
        &[
            ("id", Int),
            ("name", Text),
            ("amount", Float),
            ("paid", Boolean),
            ("day", Date),
            ("at", Timestamp),
        ],
    );
    let at = 19_844 * 86_400_000_000 + 10 * 3_600_000_000;
    assert_eq!(
        got,
        vec![
            vec![int(1), int(2), int(3)],
            vec![text("ann"), text("bob"), Null],
            vec![Cell::Float(12.5), Cell::Float(-3.0), Invalid],
            vec![int(1), int(0), Invalid],
            vec![int(19_844), int(19_845), Invalid],
            vec![int(at), int(at + 1_000_000), Invalid],
        ]
    );
}

#[test]
fn only_requested_columns_in_request_order_repeats_allowed() {
    let data = "a,b,c\n1,x,3\n4,y,z\n";
    use ColumnType::*;
    let got = csv(data, &[("c", Int), ("a", Text), ("c", Text)]);
    assert_eq!(
        got,
        vec![
            vec![int(3), Invalid],
            vec![text("1"), text("4")],
            vec![text("3"), text("z")],
        ]
    );
}

#[test]
fn quoted_fields() {
    let data = concat!(
        "a,b,c\n",
        "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\n",
        "\"\",\"\"\"\",\"crlf\r\ninside\"\r\n",
        "\"end\",\"\"\"quoted\"\"\",plain\n",
    );
    let got = all_text(data, &["a", "b", "c"]);
    assert_eq!(
        got,
        vec![
            vec![text("x,y"), Null, text("end")],
            vec![text("say \"hi\""), text("\""), text("\"quoted\"")],
            vec![text("two\nlines"), text("crlf\r\ninside"), text("plain")],
        ]
    );
}

#[test]
fn stray_quotes_are_text_like_the_csv_crate() {
    let data = "a,b\nab\"c,\"abc\"def\n\"x\" ,1\n";
    let got = all_text(data, &["a", "b"]);
    assert_eq!(
        got,
        vec![
            vec![text("ab\"c"), text("x ")],
            vec![text("abcdef"), text("1")],
        ]
    );
}

#[test]
fn line_endings_bom_and_blank_lines() {
    let data = "\u{feff}a,b\r\n1,2\r\n\r\n\n3,4\n\n5,\r\n,6";
    let got = all_text(data, &["a", "b"]);
    assert_eq!(
        got,
        vec![
            vec![text("1"), text("3"), text("5"), Null],
            vec![text("2"), text("4"), Null, text("6")],
        ]
    );
    // Blank lines before the header are skipped too; a final CR is a line end.
    let got = all_text("\n\r\nx\n1\r", &["x"]);
    assert_eq!(got, vec![vec![text("1")]]);
}

#[test]
fn whitespace_is_data_not_null() {
    use ColumnType::*;
    let got = csv("a\n \n 7 \n", &[("a", Text), ("a", Int)]);
    assert_eq!(
        got,
        vec![vec![text(" "), text(" 7 ")], vec![Invalid, int(7)]]
    );
}

#[test]
fn ragged_rows_are_reported_and_missing_fields_are_null() {
    let data = "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10\n\"q\",\"r\"\n";
    let options = ReadOptions::new(
        Format::Csv,
        columns(&[("c", ColumnType::Text), ("a", ColumnType::Int)]),
    );
    let (_, batches) = read_every_way(data.as_bytes(), &options).expect("reads");
    let ragged: Vec<u64> = batches.iter().flat_map(|b| b.ragged_rows.clone()).collect();
    assert_eq!(ragged, vec![2, 3, 4, 5]);
    assert_eq!(
        cells(&batches, 0),
        vec![text("3"), Null, text("8"), Null, Null]
    );
    assert_eq!(
        cells(&batches, 1),
        vec![int(1), int(4), int(6), int(10), Invalid]
    );
}

#[test]
fn batches_number_their_rows() {
    let data: String = std::iter::once("n\n".to_string())
        .chain((1..=7).map(|i| format!("{i}\n")))
        .collect();
    let mut options = ReadOptions::new(Format::Csv, columns(&[("n", ColumnType::Int)]));
    options.batch_rows = 3;
    let (_, batches) = read_every_way(data.as_bytes(), &options).expect("reads");
    let shape: Vec<(u64, u32)> = batches.iter().map(|b| (b.first_row, b.rows)).collect();
    assert_eq!(shape, vec![(1, 3), (4, 3), (7, 1)]);
    assert_eq!(cells(&batches, 0), (1..=7).map(int).collect::<Vec<_>>());
    // Exactly full batches end without an empty one.
    options.batch_rows = 7;
    let (_, batches) = read_every_way(data.as_bytes(), &options).expect("reads");
    assert_eq!(batches.len(), 1);
}

#[test]
fn no_columns_still_counts_rows_and_hashes() {
    let mut options = ReadOptions::new(Format::Csv, Vec::new());
    options.row_hashes = true;
    let (header, batches) = read_every_way(b"a,b\n1,2\n3,4\n", &options).expect("reads");
    assert_eq!(header, vec!["a", "b"]);
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].rows, 2);
    assert_eq!(batches[0].row_hashes.len(), 2);
    assert!(batches[0].columns.is_empty());
}

#[test]
fn empty_sources() {
    let options = ReadOptions::new(Format::Csv, Vec::new());
    for data in ["", "a,b\n", "a,b", "\u{feff}", "\n\n"] {
        let (_, batches) = read_every_way(data.as_bytes(), &options).expect("reads");
        assert!(batches.is_empty(), "{data:?}");
    }
    let options = ReadOptions::new(Format::Csv, columns(&[("a", ColumnType::Int)]));
    assert_eq!(
        read_every_way(b"", &options).map(|_| ()),
        Err(DatasetError::MissingColumn("a".into()))
    );
}

#[test]
fn a_missing_column_is_named_at_open() {
    let options = ReadOptions::new(
        Format::Csv,
        columns(&[("a", ColumnType::Int), ("nope", ColumnType::Text)]),
    );
    let error = Parser::open(Box::new(&b"a,b\n1,2\n"[..]), &options).expect_err("missing");
    assert_eq!(error, DatasetError::MissingColumn("nope".into()));
}

#[test]
fn an_unterminated_quote_is_malformed_and_names_the_row() {
    let options = ReadOptions::new(Format::Csv, columns(&[("a", ColumnType::Text)]));
    let error = read_every_way(b"a,b\n1,2\n3,\"open\n4,5\n", &options).expect_err("malformed");
    assert!(
        matches!(&error, DatasetError::Malformed(m) if m.contains("row 2") && m.contains("never closed")),
        "{error}"
    );
    let error = read_every_way(b"\"a,b\n1,2\n", &options).expect_err("malformed");
    assert!(
        matches!(&error, DatasetError::Malformed(m) if m.contains("header")),
        "{error}"
    );
}

#[test]
fn an_endless_row_is_malformed_not_unbounded() {
    // The buffer doubles up to twice the limit before the row is refused.
    let mut data = b"a\n\"".to_vec();
    data.resize(2 * MAX_ROW_BYTES + (4 << 20), b'x');
    let options = ReadOptions::new(Format::Csv, columns(&[("a", ColumnType::Text)]));
    let error = read(&options, Box::new(std::io::Cursor::new(data)))
        .map(|_| ())
        .expect_err("too long");
    assert!(
        matches!(&error, DatasetError::Malformed(m) if m.contains("longer than")),
        "{error}"
    );
}

#[test]
fn read_errors_are_reported() {
    let options = ReadOptions::new(Format::Csv, Vec::new());
    let error = Parser::open(Box::new(Failing(0)), &options).expect_err("fails");
    assert!(
        matches!(&error, DatasetError::Io(m) if m.contains("disk on fire")),
        "{error}"
    );
    let options = ReadOptions {
        chunk_bytes: 16,
        ..options
    };
    let mut parser = Parser::open(
        Box::new(std::io::Cursor::new(b"a\n1\n2\n".to_vec()).chain(Failing(40))),
        &options,
    )
    .expect("opens");
    let mut error = None;
    for _ in 0..10 {
        match parser.next_batch() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    assert!(matches!(&error, Some(DatasetError::Io(_))), "{error:?}");
}

#[test]
fn row_hashes_follow_field_bytes_not_quoting() {
    let data = concat!(
        "a,b\n",
        "x,y\n",         // 1
        "\"x\",y\n",     // 2: same fields as 1
        "x,y\r\n",       // 3: same fields as 1
        "x,z\n",         // 4
        "\"a,b\",c\n",   // 5
        "a,\"b,c\"\n",   // 6: same joined bytes as 5, other fields
        "\"a,b\",c\n",   // 7: same as 5
        "x\"y,1\n",      // 8: stray quote (state machine)
        "x\"y,1\n",      // 9: same as 8
        "\"q\"\"\",1\n", // 10: escaped quote
        "\"q\"\"\",1\n", // 11: same as 10
        ",\n",           // 12: two nulls
        "\"\",\"\"\n",   // 13: same as 12
    );
    let mut options = ReadOptions::new(Format::Csv, Vec::new());
    options.row_hashes = true;
    let (_, batches) = read_every_way(data.as_bytes(), &options).expect("reads");
    let h: Vec<u64> = batches.iter().flat_map(|b| b.row_hashes.clone()).collect();
    assert_eq!(h.len(), 13);
    assert_eq!(h[0], h[1]);
    assert_eq!(h[0], h[2]);
    assert_ne!(h[0], h[3]);
    assert_ne!(h[4], h[5]);
    assert_eq!(h[4], h[6]);
    assert_eq!(h[7], h[8]);
    assert_eq!(h[9], h[10]);
    assert_ne!(h[7], h[9]);
    assert_eq!(h[11], h[12]);
    // Fixed values: plugins may keep hashes across runs.
    assert_eq!(
        h[0],
        hash::csv_row(
            b"x,y",
            [1, 1].iter().fold(0, |a, &l| hash::add_length(a, l))
        )
    );
}

/// A tiny deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

/// Random fields made of the bytes that matter, written as RFC 4180 does
/// (quoted when needed, sometimes quoted anyway), read back at every chunk
/// size: the fields must come back as they were.
#[test]
fn random_csv_round_trips() {
    let alphabet: &[&str] = &["a", "b", "1", ",", "\"", "\n", "\r\n", " ", "é", "\r"];
    let mut rng = Rng(0x5EED);
    for case in 0..60 {
        let columns_n = 1 + rng.below(4);
        let names: Vec<String> = (0..columns_n).map(|i| format!("c{i}")).collect();
        let mut data = names.join(",") + if case % 2 == 0 { "\n" } else { "\r\n" };
        let mut expected: Vec<Vec<Cell>> = vec![Vec::new(); columns_n];
        let rows = rng.below(12);
        for _ in 0..rows {
            let mut fields = Vec::new();
            for column in &mut expected {
                let len = rng.below(5);
                let value: String = (0..len)
                    .map(|_| alphabet[rng.below(alphabet.len() as u64)])
                    .collect();
                let must_quote = value.contains([',', '"', '\n', '\r']);
                let quote = must_quote || rng.below(4) == 0;
                // A row of one empty unquoted field would be a blank line.
                let quote = quote || (columns_n == 1 && value.is_empty());
                fields.push(if quote {
                    format!("\"{}\"", value.replace('"', "\"\""))
                } else {
                    value.clone()
                });
                column.push(if value.is_empty() {
                    Null
                } else {
                    Cell::Text(value)
                });
            }
            data += &fields.join(",");
            data += ["\n", "\r\n"][rng.below(2)];
        }
        if rng.below(2) == 0 && data.ends_with('\n') && !data.ends_with("\"\n") {
            // No final line ending (unless that would glue a CR to a field).
            if !data.ends_with("\r\n") {
                data.pop();
            }
        }
        let names_ref: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            all_text(&data, &names_ref),
            expected,
            "case {case}: {data:?}"
        );
    }
}

/// The same random rows hash the same however they are quoted.
#[test]
fn random_hashes_ignore_quoting() {
    let mut rng = Rng(42);
    let mut plain = String::from("a,b,c\n");
    let mut quoted = String::from("a,b,c\n");
    for _ in 0..500 {
        let fields: Vec<String> = (0..3).map(|_| format!("v{}", rng.below(5))).collect();
        plain += &fields.join(",");
        plain.push('\n');
        let q: Vec<String> = fields
            .iter()
            .map(|f| {
                if rng.below(2) == 0 {
                    format!("\"{f}\"")
                } else {
                    f.clone()
                }
            })
            .collect();
        quoted += &q.join(",");
        quoted += "\r\n";
    }
    let mut options = ReadOptions::new(Format::Csv, Vec::new());
    options.row_hashes = true;
    let hashes = |data: &str| -> Vec<u64> {
        let (_, batches) = read(
            &options,
            Box::new(std::io::Cursor::new(data.as_bytes().to_vec())),
        )
        .expect("reads");
        batches.iter().flat_map(|b| b.row_hashes.clone()).collect()
    };
    assert_eq!(hashes(&plain), hashes(&quoted));
}

fn jsonl(data: &str, specs: &[(&str, ColumnType)]) -> (Vec<String>, Vec<Vec<Cell>>) {
    let options = ReadOptions::new(Format::JsonLines, columns(specs));
    let (header, batches) = read_every_way(data.as_bytes(), &options).expect("reads");
    (
        header,
        (0..specs.len()).map(|i| cells(&batches, i)).collect(),
    )
}

#[test]
fn json_lines_into_typed_columns() {
    use ColumnType::*;
    let data = concat!(
        "{\"id\": 1, \"name\": \"ann\", \"amount\": 12.5, \"ok\": true, \"tags\": [1, {\"x\": null}]}\n",
        "{\"name\": \"b\\u00e9\\\"\\n\", \"id\": 2, \"amount\": null, \"ok\": \"no\"}\r\n",
        "\n",
        "  {\"id\": \"3\", \"amount\": -1e2, \"extra\": {}, \"name\": \"\"}  \n",
        "{\"id\": 4.5, \"ok\": 1, \"amount\": \"12\"}",
    );
    let (header, got) = jsonl(
        data,
        &[
            ("id", Int),
            ("name", Text),
            ("amount", Float),
            ("ok", Boolean),
            ("tags", Text),
            ("id", Text),
        ],
    );
    assert_eq!(header, vec!["id", "name", "amount", "ok", "tags", "extra"]);
    assert_eq!(
        got,
        vec![
            vec![int(1), int(2), int(3), Invalid],
            vec![text("ann"), text("bé\"\n"), text(""), Null],
            vec![
                Cell::Float(12.5),
                Null,
                Cell::Float(-100.0),
                Cell::Float(12.0)
            ],
            vec![int(1), int(0), Null, int(1)],
            vec![text("[1, {\"x\": null}]"), Null, Null, Null],
            vec![text("1"), text("2"), text("3"), text("4.5")],
        ]
    );
}

#[test]
fn json_lines_keys_are_found_in_any_order_and_escaped() {
    let data = "{\"a\":1,\"b\":2}\n{\"b\":3,\"a\":4}\n{\"\\u0061\":5}\n{\"c\":6,\"a\":7}\n";
    let (header, got) = jsonl(data, &[("a", ColumnType::Int), ("b", ColumnType::Int)]);
    assert_eq!(header, vec!["a", "b", "c"]);
    assert_eq!(
        got,
        vec![
            vec![int(1), int(4), int(5), int(7)],
            vec![int(2), int(3), Null, Null]
        ]
    );
}

#[test]
fn json_lines_surrogate_pairs_and_duplicate_keys() {
    let data = "{\"s\":\"\\ud83d\\ude00\",\"s\":\"last\"}\n{\"s\":\"\\ud83d\\ude00\"}\n";
    let (_, got) = jsonl(data, &[("s", ColumnType::Text)]);
    assert_eq!(got, vec![vec![text("last"), text("😀")]]);
}

#[test]
fn malformed_json_lines_name_the_line() {
    let options = ReadOptions::new(Format::JsonLines, Vec::new());
    let cases: &[(&str, &str)] = &[
        ("{\"a\":1}\n\n{\"a\":}\n", "line 3 (row 2)"),
        ("{\"a\":1}\n[1,2]\n", "not a JSON object"),
        ("{\"a\":1} x\n", "text after the object"),
        ("{\"a\":01}\n", "expected `,`"),
        ("{\"a\":1.}\n", "invalid number"),
        ("{\"a\":\"\\x\"}\n", "invalid escape"),
        ("{\"a\":\"\\ud800\"}\n", "lone surrogate"),
        ("{\"a\":\"tab\there\"}\n", "control character"),
        ("{\"a\":tru}\n", "invalid literal"),
        ("{\"a\":[1,]}\n", "expected a value"),
        ("{\"a\":{\"b\" 1}}\n", "expected `:`"),
        ("{\"a\":1,}\n", "expected a key"),
        ("{\"a\":\"open}\n", "unterminated string"),
        ("{\"a\":\"\u{0}\"}\n", "control character"),
    ];
    for (data, expected) in cases {
        let error = read_every_way(data.as_bytes(), &options).expect_err(data);
        assert!(
            matches!(&error, DatasetError::Malformed(m) if m.contains(expected)),
            "{data:?}: {error}"
        );
    }
    let deep = "{\"a\":".to_string() + &"[".repeat(200) + &"]".repeat(200) + "}\n";
    let error = read_every_way(deep.as_bytes(), &options).expect_err("deep");
    assert!(
        matches!(&error, DatasetError::Malformed(m) if m.contains("nested too deeply")),
        "{error}"
    );
    let bytes = b"{\"a\":\"\xff\"}\n";
    let error = read_every_way(bytes, &options).expect_err("not utf-8");
    assert!(
        matches!(&error, DatasetError::Malformed(m) if m.contains("UTF-8")),
        "{error}"
    );
}

#[test]
fn json_lines_missing_columns_are_those_never_seen_in_the_first_batch() {
    let mut options = ReadOptions::new(Format::JsonLines, columns(&[("late", ColumnType::Int)]));
    let data = b"{\"a\":1}\n{\"a\":2,\"late\":3}\n{\"a\":4}\n";
    let (_, batches) = read_every_way(data, &options).expect("seen in the first batch");
    assert_eq!(cells(&batches, 0), vec![Null, int(3), Null]);
    options.batch_rows = 1;
    let error = Parser::open(Box::new(&data[..]), &options).expect_err("not in the first batch");
    assert_eq!(error, DatasetError::MissingColumn("late".into()));
}

#[test]
fn json_lines_hashes_ignore_key_order_and_spacing() {
    let data = concat!(
        "{\"a\":1,\"b\":\"x\"}\n",
        "{ \"b\" : \"x\" , \"a\" : 1 }\n",
        "{\"a\":1,\"b\":\"x\",\"c\":null}\n",
        "{\"a\":\"1\",\"b\":\"x\"}\n",
        "{\"a\":1,\"b\":\"y\"}\n",
    );
    let mut options = ReadOptions::new(Format::JsonLines, Vec::new());
    options.row_hashes = true;
    let (_, batches) = read_every_way(data.as_bytes(), &options).expect("reads");
    let h: Vec<u64> = batches.iter().flat_map(|b| b.row_hashes.clone()).collect();
    assert_eq!(h[0], h[1]);
    assert_eq!(h[0], h[2]);
    assert_ne!(h[0], h[3]);
    assert_ne!(h[0], h[4]);
}

#[test]
fn formats_from_extensions() {
    assert_eq!(Format::from_path("data/a.csv"), Some(Format::Csv));
    assert_eq!(Format::from_path("A.CSV"), Some(Format::Csv));
    assert_eq!(Format::from_path("x/y.jsonl"), Some(Format::JsonLines));
    assert_eq!(Format::from_path("y.ndjson"), Some(Format::JsonLines));
    assert_eq!(Format::from_path("y.json"), None);
    assert_eq!(Format::from_path("csv"), None);
    assert_eq!(Format::from_path("dir.csv/file"), None);
}

#[test]
fn the_pipeline_gives_what_the_parser_gives() {
    let mut data = String::from("n,s\n");
    for i in 0..10_000 {
        data += &format!("{i},\"v{}\"\n", i % 7);
    }
    let mut options = ReadOptions::new(
        Format::Csv,
        columns(&[("n", ColumnType::Int), ("s", ColumnType::Text)]),
    );
    options.batch_rows = 1000;
    options.row_hashes = true;
    let (header, direct) = read(
        &options,
        Box::new(std::io::Cursor::new(data.clone().into_bytes())),
    )
    .expect("reads");
    let parser = Parser::open(
        Box::new(std::io::Cursor::new(data.clone().into_bytes())),
        &options,
    )
    .expect("opens");
    let mut pipelined = Pipelined::spawn(parser).expect("spawns");
    assert_eq!(pipelined.header(), header);
    let mut batches = Vec::new();
    while let Some(batch) = pipelined.next_batch().expect("reads") {
        batches.push(batch);
    }
    assert_eq!(batches, direct);
    assert_eq!(pipelined.next_batch(), Ok(None));

    // Errors come through and stay.
    let parser = Parser::open(Box::new(&b"a\n1\n\"2\n"[..]), &options_for("a")).expect("opens");
    let mut pipelined = Pipelined::spawn(parser).expect("spawns");
    let error = pipelined.next_batch().expect_err("malformed");
    assert_eq!(pipelined.next_batch(), Err(error));

    // A reader dropped half-way stops its thread without hanging.
    let parser =
        Parser::open(Box::new(std::io::Cursor::new(data.into_bytes())), &options).expect("opens");
    let mut pipelined = Pipelined::spawn(parser).expect("spawns");
    assert!(pipelined.next_batch().expect("reads").is_some());
    drop(pipelined);
}

fn options_for(name: &str) -> ReadOptions {
    ReadOptions::new(Format::Csv, columns(&[(name, ColumnType::Text)]))
}

#[test]
fn json_lines_header_grows_through_the_pipeline() {
    let data = b"{\"a\":1}\n{\"a\":2,\"b\":3}\n{\"c\":4}\n".to_vec();
    let mut options = ReadOptions::new(Format::JsonLines, columns(&[("a", ColumnType::Int)]));
    options.batch_rows = 1;
    let parser = Parser::open(Box::new(std::io::Cursor::new(data)), &options).expect("opens");
    let mut pipelined = Pipelined::spawn(parser).expect("spawns");
    assert_eq!(pipelined.header(), ["a"]);
    let mut seen = Vec::new();
    while pipelined.next_batch().expect("reads").is_some() {
        seen.push(pipelined.header().len());
    }
    assert_eq!(seen, vec![1, 2, 3]);
}

#[test]
fn large_text_batches_end_early() {
    // Three rows of 30 MiB of text: the batch ends once it holds 64 MiB.
    // Quoted, so that debug builds cross them with memchr.
    let field = format!("\"{}\"", "x".repeat(30 << 20));
    let data = format!("t\n{field}\n{field}\n{field}\n{field}\n");
    let options = options_for("t");
    let (_, batches) = read(
        &options,
        Box::new(std::io::Cursor::new(data.clone().into_bytes())),
    )
    .expect("reads");
    let rows: Vec<u32> = batches.iter().map(|b| b.rows).collect();
    assert_eq!(rows.iter().sum::<u32>(), 4);
    assert!(rows.len() > 1, "{rows:?}");
}

/// Byte soup of the characters that matter never panics, and reads the
/// same (rows or error) at every chunk size.
#[test]
fn random_bytes_never_panic_and_read_the_same_every_way() {
    let alphabet: &[&[u8]] = &[
        b"a", b"1", b",", b"\"", b"\n", b"\r", b"{", b"}", b"[", b"]", b":", b"\\", b"u", b"\xFF",
        b" ", b"\"a\":", b"null", b"-1.5e3",
    ];
    let mut rng = Rng(7);
    for case in 0..150 {
        let len = rng.below(60);
        let mut data = Vec::new();
        if case % 3 == 0 {
            data.extend_from_slice(b"a,b\n");
        }
        for _ in 0..len {
            data.extend_from_slice(alphabet[rng.below(alphabet.len() as u64)]);
        }
        let format = if case % 2 == 0 {
            Format::Csv
        } else {
            Format::JsonLines
        };
        let mut options = ReadOptions::new(format, Vec::new());
        options.row_hashes = true;
        options.batch_rows = 1 + rng.below(3);
        // Equality across readers is asserted inside.
        let _ = read_every_way(&data, &options);
    }
}
