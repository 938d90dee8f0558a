//! The baseline: the issue's seven checks as plain native Rust over the
//! `csv` crate, with the `data-check` plugin's semantics, so their failed
//! counts must agree exactly.
//!
//! Written the way a careful engineer would without andon: one pass, one
//! reused `ByteRecord`, column positions looked up once, std `HashSet`s,
//! the `regex` crate. Nothing is parsed that a check does not need.
//!
//! Semantics (as documented for the plugin): an empty field is null and
//! nulls pass every check but `not_null`; typed reads ignore surrounding
//! ASCII white space; `unique` compares exact text and
//! counts every row of a repeated value; `range` fails values that are not
//! numbers; `freshness` fails when the newest timestamp is older than
//! `max_age` before `now`, and counts stale and unreadable timestamps.

use std::collections::HashSet;
use std::path::Path;

use regex::bytes::Regex;
use serde::Serialize;

use crate::time::parse_timestamp;

/// The checks' parameters; [`Checks::issue`] is the issue's suite
/// ([`crate::orders::SUITE`]).
#[derive(Debug, Clone)]
pub struct Checks {
    pub min_rows: u64,
    pub not_null: String,
    pub unique: String,
    pub accepted: (String, Vec<String>),
    pub range: (String, f64, f64),
    pub pattern: (String, String),
    /// Column and maximum age in microseconds.
    pub freshness: (String, i64),
}

impl Checks {
    pub fn issue() -> Checks {
        Checks {
            min_rows: 1000,
            not_null: "email".into(),
            unique: "id".into(),
            accepted: (
                "status".into(),
                vec!["new".into(), "paid".into(), "shipped".into()],
            ),
            range: ("amount".into(), 0.0, 10_000.0),
            pattern: ("email".into(), "^[^@]+@[^@]+$".into()),
            freshness: ("ts".into(), 2 * 86_400_000_000),
        }
    }
}

/// One check's outcome, shaped like an entry of the plugin's `results`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NativeResult {
    pub check: &'static str,
    pub column: Option<String>,
    pub status: &'static str,
    pub failed_count: u64,
}

/// The outcome of a pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub rows: u64,
    pub results: Vec<NativeResult>,
}

/// Runs the checks over the CSV at `path`, with `now_us` as the run's
/// reference time.
pub fn check_file(path: &Path, checks: &Checks, now_us: i64) -> Result<Report, String> {
    let reader = csv::ReaderBuilder::new()
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_path(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    check_reader(reader, checks, now_us)
}

/// [`check_file`] over bytes in memory.
pub fn check_bytes(csv: &[u8], checks: &Checks, now_us: i64) -> Result<Report, String> {
    let reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv);
    check_reader(reader, checks, now_us)
}

fn column(headers: &csv::ByteRecord, name: &str) -> Result<usize, String> {
    headers
        .iter()
        .position(|h| h == name.as_bytes())
        .ok_or_else(|| format!("no column `{name}`"))
}

/// A canonical decimal integer (no sign but `-`, no leading zeros), so
/// that integer equality is text equality.
fn canonical_int(v: &[u8]) -> Option<i64> {
    let digits = v.strip_prefix(b"-").unwrap_or(v);
    let canonical = !digits.is_empty()
        && digits.len() <= 18
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || (digits.len() == 1 && digits.len() == v.len()));
    if !canonical {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn check_reader<R: std::io::Read>(
    mut reader: csv::Reader<R>,
    checks: &Checks,
    now_us: i64,
) -> Result<Report, String> {
    let headers = reader.byte_headers().map_err(|e| e.to_string())?.clone();
    let not_null = column(&headers, &checks.not_null)?;
    let unique = column(&headers, &checks.unique)?;
    let accepted = column(&headers, &checks.accepted.0)?;
    let range = column(&headers, &checks.range.0)?;
    let pattern = column(&headers, &checks.pattern.0)?;
    let fresh = column(&headers, &checks.freshness.0)?;
    let accepted_values: Vec<&[u8]> = checks.accepted.1.iter().map(String::as_bytes).collect();
    let regex = Regex::new(&checks.pattern.1).map_err(|e| e.to_string())?;
    let (lo, hi) = (checks.range.1, checks.range.2);
    let cutoff = now_us - checks.freshness.1;

    let mut rows = 0u64;
    let (mut nulls, mut duplicated, mut unaccepted, mut outside, mut unmatched, mut stale) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut seen_ints: HashSet<i64> = HashSet::new();
    let mut seen_texts: HashSet<Vec<u8>> = HashSet::new();
    let mut repeated_ints: HashSet<i64> = HashSet::new();
    let mut repeated_texts: HashSet<Vec<u8>> = HashSet::new();
    let mut newest: Option<i64> = None;
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| e.to_string())?
    {
        rows += 1;
        let field = |i: usize| record.get(i).unwrap_or_default();

        if field(not_null).is_empty() {
            nulls += 1;
        }

        let id = field(unique);
        if !id.is_empty() {
            let first_repeat = match canonical_int(id) {
                Some(n) => (!seen_ints.insert(n)).then(|| repeated_ints.insert(n)),
                None => {
                    (!seen_texts.insert(id.to_vec())).then(|| repeated_texts.insert(id.to_vec()))
                }
            };
            match first_repeat {
                Some(true) => duplicated += 2,
                Some(false) => duplicated += 1,
                None => {}
            }
        }

        let status = field(accepted);
        if !status.is_empty() && !accepted_values.contains(&status) {
            unaccepted += 1;
        }

        let amount = field(range);
        if !amount.is_empty() {
            let value = std::str::from_utf8(amount.trim_ascii())
                .ok()
                .and_then(|s| s.parse::<f64>().ok());
            if !value.is_some_and(|v| v >= lo && v <= hi) {
                outside += 1;
            }
        }

        let email = field(pattern);
        if !email.is_empty() && !regex.is_match(email) {
            unmatched += 1;
        }

        let ts = field(fresh);
        if !ts.is_empty() {
            match parse_timestamp(ts.trim_ascii()) {
                Some(t) => {
                    newest = Some(newest.map_or(t, |n| n.max(t)));
                    if t < cutoff {
                        stale += 1;
                    }
                }
                None => stale += 1,
            }
        }
    }

    let verdict = |failed: bool| if failed { "fail" } else { "pass" };
    let rows_check = |check: &'static str, column: &str, failed: u64| NativeResult {
        check,
        column: Some(column.to_string()),
        status: verdict(failed > 0),
        failed_count: failed,
    };
    let fresh_enough = newest.is_some_and(|n| now_us - n <= checks.freshness.1);
    Ok(Report {
        rows,
        results: vec![
            NativeResult {
                check: "row_count",
                column: None,
                status: verdict(rows < checks.min_rows),
                failed_count: 0,
            },
            rows_check("not_null", &checks.not_null, nulls),
            rows_check("unique", &checks.unique, duplicated),
            rows_check("accepted_values", &checks.accepted.0, unaccepted),
            rows_check("range", &checks.range.0, outside),
            rows_check("pattern", &checks.pattern.0, unmatched),
            NativeResult {
                check: "freshness",
                column: Some(checks.freshness.0.clone()),
                status: verdict(!fresh_enough),
                failed_count: stale,
            },
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::{Spec, orders_csv};

    const NOW: i64 = 1_767_225_600;

    #[test]
    fn counts_follow_the_documented_semantics() {
        let csv = b"id,email,status,amount,ts\n\
            1,a@x,new,5,2026-01-01T00:00:00Z\n\
            2,,paid,-1,2025-01-01T00:00:00Z\n\
            1,bad,PAID,abc,soon\n\
            01,c@y,,10000,\n\
            1,d@z,shipped,,2025-12-31T12:00:00Z\n";
        let mut checks = Checks::issue();
        checks.not_null = "email".into();
        let report = check_bytes(csv, &checks, NOW * 1_000_000).expect("checks run");
        let counts: Vec<(&str, &str, u64)> = report
            .results
            .iter()
            .map(|r| (r.check, r.status, r.failed_count))
            .collect();
        assert_eq!(report.rows, 5);
        assert_eq!(
            counts,
            [
                ("row_count", "fail", 0),
                ("not_null", "fail", 1),
                // "1" three times; "01" is other text.
                ("unique", "fail", 3),
                ("accepted_values", "fail", 1),
                ("range", "fail", 2),
                ("pattern", "fail", 1),
                // Newest is now: fresh; "2025-01-01" is stale, "soon" unreadable.
                ("freshness", "pass", 2),
            ]
        );
    }

    #[test]
    fn generated_errors_are_found() {
        let spec = Spec::new(20_000, NOW);
        let (csv, injected) = orders_csv(&spec);
        let report = check_bytes(&csv, &Checks::issue(), NOW * 1_000_000).expect("checks run");
        let count = |check: &str| {
            report
                .results
                .iter()
                .find(|r| r.check == check)
                .map(|r| r.failed_count)
                .expect("check present")
        };
        assert_eq!(report.rows, 20_000);
        assert_eq!(count("not_null"), injected.null_emails);
        assert_eq!(count("pattern"), injected.malformed_emails);
        assert_eq!(count("accepted_values"), injected.bad_statuses);
        assert_eq!(count("range"), injected.bad_amounts);
        assert_eq!(count("freshness"), injected.stale_timestamps);
        let dup = count("unique");
        assert!(
            dup > injected.duplicate_ids && dup <= 2 * injected.duplicate_ids,
            "{dup} vs {}",
            injected.duplicate_ids
        );
        assert_eq!(report.results[6].status, "pass");
    }

    #[test]
    fn canonical_ints() {
        assert_eq!(canonical_int(b"0"), Some(0));
        assert_eq!(canonical_int(b"-12"), Some(-12));
        for bad in [&b"-0"[..], b"007", b"+1", b"", b"-", b"1a"] {
            assert_eq!(canonical_int(bad), None);
        }
    }
}
