//! The per-batch loops of the row-level checks: whole columns at a time, no
//! allocation per row, samples built only while fewer than
//! [`MAX_SAMPLES`] are kept.

use serde_json::Value as Json;

use crate::columns::{Col, INVALID, NULL, VALUE, sample_text};
use crate::pattern::{MatchCache, Matcher};
use crate::sets::{IntSet, Key, Repeats, TextSet, ValueSet, encode_parts};
use crate::suite::ValueType;

/// Failed checks list at most this many sample rows.
pub const MAX_SAMPLES: usize = 20;

/// One failing row, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// 1-based data row number.
    pub row: u64,
    pub value: Json,
}

/// The failing rows of one check: a count and the first samples.
#[derive(Debug, Default)]
pub struct Failures {
    pub count: u64,
    pub samples: Vec<Sample>,
}

impl Failures {
    /// Counts `rows` failing rows, sampling `row` if there is room.
    #[inline]
    pub fn add(&mut self, rows: u64, row: u64, value: impl FnOnce() -> Json) {
        self.count += rows;
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(Sample {
                row,
                value: value(),
            });
        }
    }
}

/// Calls `f(i, value)` for each row `i < n` that holds a text value.
#[inline]
fn each_text<'a>(col: Col<'a>, n: usize, mut f: impl FnMut(usize, &'a [u8])) {
    let Some((offsets, data)) = col.texts() else {
        return;
    };
    let pairs = offsets.windows(2).take(n);
    if col.status.is_empty() {
        for (i, w) in pairs.enumerate() {
            f(i, data.get(w[0] as usize..w[1] as usize).unwrap_or(&[]));
        }
    } else {
        for (i, (w, &s)) in pairs.zip(col.status).enumerate() {
            if s == VALUE {
                f(i, data.get(w[0] as usize..w[1] as usize).unwrap_or(&[]));
            }
        }
    }
}

/// Rows whose value is null.
pub fn not_null(f: &mut Failures, col: Col<'_>, n: usize, first: u64) {
    let status = &col.status[..n.min(col.status.len())];
    if f.samples.len() >= MAX_SAMPLES {
        f.count += status.iter().filter(|&&s| s == NULL).count() as u64;
        return;
    }
    for (i, &s) in status.iter().enumerate() {
        if s == NULL {
            f.add(1, first + i as u64, || Json::Null);
        }
    }
}

/// Rows whose value occurs more than once, nulls excluded: the first repeat
/// of a value counts two rows (it and the first occurrence), later repeats
/// one each.
pub fn unique(
    f: &mut Failures,
    seen: &mut ValueSet,
    repeats: &mut Repeats,
    col: Col<'_>,
    n: usize,
    first: u64,
) {
    each_text(col, n, |i, v| {
        let key = Key::of(v);
        if !seen.insert_key(key) {
            let rows = repeats.key(key);
            f.add(rows, first + i as u64, || Json::String(sample_text(v)));
        }
    });
}

/// A value of up to 16 bytes as an integer and its length, from at most
/// two overlapping loads: for a given length the loads cover every byte, so
/// equal keys mean equal values, without a `memcmp` call per comparison.
#[inline]
fn small_key(v: &[u8]) -> Option<(u128, usize)> {
    let len = v.len();
    let data = match len {
        0 => 0,
        1..=3 => u128::from(v[0]) | (u128::from(v[len / 2]) << 8) | (u128::from(v[len - 1]) << 16),
        4..=8 => {
            let head = u32::from_le_bytes(v.first_chunk().copied().unwrap_or_default());
            let tail = u32::from_le_bytes(v.last_chunk().copied().unwrap_or_default());
            u128::from(head) | (u128::from(tail) << 32)
        }
        9..=16 => {
            let head = u64::from_le_bytes(v.first_chunk().copied().unwrap_or_default());
            let tail = u64::from_le_bytes(v.last_chunk().copied().unwrap_or_default());
            u128::from(head) | (u128::from(tail) << 64)
        }
        _ => return None,
    };
    Some((data, len))
}

/// The accepted values of `accepted_values`: short values as integer keys
/// with the last hit tried first (values such as statuses come in runs), a
/// set for long lists.
#[derive(Debug)]
pub struct Accepted {
    keys: Vec<(u128, usize)>,
    /// Values longer than 16 bytes.
    long: Vec<Vec<u8>>,
    set: Option<TextSet>,
    last: usize,
}

impl Accepted {
    pub fn new(values: &[String]) -> Accepted {
        let set = (values.len() > 8).then(|| {
            let mut set = TextSet::default();
            for v in values {
                set.insert(v.as_bytes());
            }
            set
        });
        Accepted {
            keys: values
                .iter()
                .filter_map(|v| small_key(v.as_bytes()))
                .collect(),
            long: values
                .iter()
                .filter(|v| v.len() > 16)
                .map(|v| v.as_bytes().to_vec())
                .collect(),
            set,
            last: 0,
        }
    }

    #[inline]
    fn contains(&mut self, value: &[u8]) -> bool {
        if let Some(set) = &self.set {
            return set.contains(value);
        }
        let Some(key) = small_key(value) else {
            return self.long.iter().any(|v| v == value);
        };
        if self.keys.get(self.last) == Some(&key) {
            return true;
        }
        match self.keys.iter().position(|k| *k == key) {
            Some(j) => {
                self.last = j;
                true
            }
            None => false,
        }
    }
}

/// Rows whose value is not one of the accepted values.
pub fn accepted_values(
    f: &mut Failures,
    accepted: &mut Accepted,
    col: Col<'_>,
    n: usize,
    first: u64,
) {
    each_text(col, n, |i, v| {
        if !accepted.contains(v) {
            f.add(1, first + i as u64, || Json::String(sample_text(v)));
        }
    });
}

/// Rows whose value does not match the pattern.
pub fn pattern(
    f: &mut Failures,
    matcher: &Matcher,
    cache: &mut MatchCache,
    col: Col<'_>,
    n: usize,
    first: u64,
) {
    // Four values at a time (see `Matcher::is_match4`).
    let mut lanes: [(usize, &[u8]); 4] = [(0, &[]); 4];
    let mut filled = 0;
    each_text(col, n, |i, v| {
        lanes[filled] = (i, v);
        filled += 1;
        if filled == 4 {
            filled = 0;
            let matched = matcher.is_match4(cache, lanes.map(|(_, v)| v));
            for ((i, v), matched) in lanes.into_iter().zip(matched) {
                if !matched {
                    f.add(1, first + i as u64, || Json::String(sample_text(v)));
                }
            }
        }
    });
    for &(i, v) in &lanes[..filled] {
        if !matcher.is_match(cache, v) {
            f.add(1, first + i as u64, || Json::String(sample_text(v)));
        }
    }
}

/// Rows whose length in characters is outside `[min, max]`.
pub fn length(f: &mut Failures, (min, max): (u64, u64), col: Col<'_>, n: usize, first: u64) {
    each_text(col, n, |i, v| {
        let chars = char_count(v);
        if chars < min || chars > max {
            f.add(1, first + i as u64, || Json::String(sample_text(v)));
        }
    });
}

/// Characters of UTF-8 text: bytes that do not continue a character.
#[inline]
fn char_count(v: &[u8]) -> u64 {
    v.iter().filter(|&&b| (b as i8) >= -0x40).count() as u64
}

/// Rows whose value is not in the other dataset's column.
pub fn relationship(f: &mut Failures, reference: &ValueSet, col: Col<'_>, n: usize, first: u64) {
    each_text(col, n, |i, v| {
        if !reference.contains(v) {
            f.add(1, first + i as u64, || Json::String(sample_text(v)));
        }
    });
}

/// Adds a column's non-null values to a `relationship` reference set.
pub fn collect(set: &mut ValueSet, col: Col<'_>, n: usize) {
    each_text(col, n, |_, v| {
        set.insert(v);
    });
}

/// The invalid text of row `i`, when the same column was also read as text.
fn invalid_text<'a>(text: Option<Col<'a>>, i: usize) -> Option<&'a [u8]> {
    text.map(|t| t.text(i))
}

/// Rows whose number is outside `[lo, hi]`, or that hold no number (NaN
/// included).
pub fn range(
    f: &mut Failures,
    (lo, hi): (f64, f64),
    col: Col<'_>,
    text: Option<Col<'_>>,
    n: usize,
    first: u64,
) {
    let values = &col.floats()[..n.min(col.floats().len())];
    let fail = |f: &mut Failures, i: usize| {
        f.add(1, first + i as u64, || {
            col.sample(i, ValueType::Float, invalid_text(text, i))
        });
    };
    if col.status.is_empty() {
        for (i, &v) in values.iter().enumerate() {
            if !(v >= lo && v <= hi) {
                fail(f, i);
            }
        }
        return;
    }
    for (i, (&v, &s)) in values.iter().zip(col.status).enumerate() {
        match s {
            NULL => {}
            INVALID => fail(f, i),
            _ => {
                if !(v >= lo && v <= hi) {
                    fail(f, i);
                }
            }
        }
    }
}

/// Stale rows (timestamps before `cutoff`) and rows that hold no
/// timestamp; tracks the newest timestamp.
pub fn freshness(
    f: &mut Failures,
    newest: &mut Option<i64>,
    cutoff: i64,
    col: Col<'_>,
    text: Option<Col<'_>>,
    n: usize,
    first: u64,
) {
    let values = &col.ints()[..n.min(col.ints().len())];
    let mut max = i64::MIN;
    let mut any = false;
    for (i, &v) in values.iter().enumerate() {
        match col.status(i) {
            NULL => {}
            INVALID => f.add(1, first + i as u64, || {
                col.sample(i, ValueType::Timestamp, invalid_text(text, i))
            }),
            _ => {
                any = true;
                max = max.max(v);
                if v < cutoff {
                    f.add(1, first + i as u64, || {
                        col.sample(i, ValueType::Timestamp, None)
                    });
                }
            }
        }
    }
    if any {
        *newest = Some(newest.map_or(max, |m| m.max(max)));
    }
}

/// Rows whose value does not parse as the column's requested type.
pub fn invalid(
    f: &mut Failures,
    ty: ValueType,
    col: Col<'_>,
    text: Option<Col<'_>>,
    n: usize,
    first: u64,
) {
    let status = &col.status[..n.min(col.status.len())];
    for (i, &s) in status.iter().enumerate() {
        if s == INVALID {
            f.add(1, first + i as u64, || {
                col.sample(i, ty, invalid_text(text, i))
            });
        }
    }
}

/// A `schema` column with a type: the typed read and its text.
#[derive(Debug, Clone)]
pub struct Typed {
    pub column: String,
    pub ty: ValueType,
    pub col: usize,
    pub text: usize,
}

/// Rows where at least one typed schema column holds an invalid value;
/// `bad` is scratch space and `invalid` counts per column.
pub fn schema(
    f: &mut Failures,
    typed: &[Typed],
    invalid: &mut [u64],
    bad: &mut Vec<bool>,
    cols: &[Col<'_>],
    n: usize,
    first: u64,
) {
    bad.clear();
    bad.resize(n, false);
    let mut any = false;
    for (t, count) in typed.iter().zip(invalid.iter_mut()) {
        let Some(col) = cols.get(t.col) else {
            continue;
        };
        for (i, &s) in col.status.iter().take(n).enumerate() {
            if s == INVALID {
                *count += 1;
                bad[i] = true;
                any = true;
            }
        }
    }
    if !any {
        return;
    }
    for (i, _) in bad.iter().enumerate().filter(|(_, b)| **b) {
        f.add(1, first + i as u64, || {
            let t = typed
                .iter()
                .find(|t| cols.get(t.col).is_some_and(|c| c.status(i) == INVALID));
            match t {
                Some(t) => {
                    let text = cols.get(t.text).map_or(&[][..], |c| c.text(i));
                    Json::String(format!("{}: {}", t.column, sample_text(text)))
                }
                None => Json::Null,
            }
        });
    }
}

/// Whole rows that repeat an earlier row, by the host's row hashes.
pub fn duplicate_hashes(
    f: &mut Failures,
    seen: &mut IntSet,
    repeats: &mut Repeats,
    hashes: &[u64],
    n: usize,
    first: u64,
) {
    for (i, &h) in hashes.iter().take(n).enumerate() {
        let h = h as i64;
        if !seen.insert(h) {
            let rows = repeats.key(Key::Int(h));
            f.add(rows, first + i as u64, || {
                Json::String("repeats an earlier row".into())
            });
        }
    }
}

/// Rows whose values in the chosen columns repeat an earlier row's; nulls
/// take part (two rows null in the same places are equal).
#[allow(
    clippy::too_many_arguments,
    reason = "the state of one check, passed apart to borrow it field by field"
)]
pub fn duplicate_columns(
    f: &mut Failures,
    seen: &mut TextSet,
    repeats: &mut Repeats,
    key: &mut Vec<u8>,
    names: &[String],
    cols: &[Col<'_>],
    n: usize,
    first: u64,
) {
    for i in 0..n {
        let parts = cols.iter().map(|c| match c.status(i) {
            NULL => None,
            _ => Some(c.text(i)),
        });
        encode_parts(parts, key);
        if !seen.insert(key) {
            let rows = repeats.key(Key::Text(key));
            f.add(rows, first + i as u64, || {
                let row: serde_json::Map<String, Json> = names
                    .iter()
                    .zip(cols)
                    .map(|(name, c)| {
                        let value = match c.status(i) {
                            NULL => Json::Null,
                            _ => Json::String(sample_text(c.text(i))),
                        };
                        (name.clone(), value)
                    })
                    .collect();
                Json::Object(row)
            });
        }
    }
}

/// Running moments for `mean`, `sum` and `stddev`, merged batch by batch
/// (Chan et al.) so the variance stays accurate over millions of rows.
#[derive(Debug, Default, Clone, Copy)]
pub struct Moments {
    pub n: u64,
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
    pub sum: f64,
    /// Values that were not numbers, skipped.
    pub invalid: u64,
}

impl Moments {
    /// Adds the numbers of one batch.
    pub fn add(&mut self, col: Col<'_>, n: usize) {
        let values = &col.floats()[..n.min(col.floats().len())];
        let valid = |i: usize| col.status(i) == VALUE;
        let (mut count, mut sum) = (0u64, 0.0f64);
        for (i, &v) in values.iter().enumerate() {
            if valid(i) {
                count += 1;
                sum += v;
            }
        }
        self.invalid += col.status.iter().take(n).filter(|&&s| s == INVALID).count() as u64;
        if count == 0 {
            return;
        }
        let mean = sum / count as f64;
        let mut m2 = 0.0;
        for (i, &v) in values.iter().enumerate() {
            if valid(i) {
                m2 += (v - mean) * (v - mean);
            }
        }
        let total = self.n + count;
        let delta = mean - self.mean;
        self.mean += delta * count as f64 / total as f64;
        self.m2 += m2 + delta * delta * self.n as f64 * count as f64 / total as f64;
        self.sum += sum;
        self.n = total;
    }

    /// Sample standard deviation (n - 1), as SQL's `stddev` and pandas'
    /// `std`; `None` below two values.
    pub fn stddev(&self) -> Option<f64> {
        (self.n >= 2).then(|| (self.m2 / (self.n - 1) as f64).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use andon_pdk::dataset::{Column, Values};

    use andon_pdk::testing::text_column;

    use super::*;

    fn rows(f: &Failures) -> Vec<u64> {
        f.samples.iter().map(|s| s.row).collect()
    }

    #[test]
    fn unique_counts_every_occurrence_after_the_first_repeat() {
        let column = text_column(&[
            Some("1"),
            Some("2"),
            Some("1"),
            None,
            None,
            Some("1"),
            Some("a"),
            Some("a"),
            Some("01"),
        ]);
        let (mut f, mut seen, mut repeats) =
            (Failures::default(), ValueSet::new(), Repeats::default());
        unique(&mut f, &mut seen, &mut repeats, Col::new(&column), 9, 1);
        // "1" three times, "a" twice; nulls and "01" are not duplicates.
        assert_eq!(f.count, 5);
        assert_eq!(rows(&f), [3, 6, 8]);
    }

    #[test]
    fn samples_stop_at_twenty_but_counts_go_on() {
        let values: Vec<Option<&str>> = (0..50).map(|_| None).collect();
        let column = text_column(&values);
        let mut f = Failures::default();
        not_null(&mut f, Col::new(&column), 50, 101);
        assert_eq!(f.count, 50);
        assert_eq!(f.samples.len(), MAX_SAMPLES);
        assert_eq!(f.samples[0].row, 101);
        not_null(&mut f, Col::new(&column), 50, 151);
        assert_eq!(f.count, 100);
    }

    #[test]
    fn accepted_values_compare_exact_text() {
        let column = text_column(&[Some("paid"), Some("PAID"), None, Some("paid "), Some("new")]);
        let mut accepted = Accepted::new(&["new".into(), "paid".into()]);
        let mut f = Failures::default();
        accepted_values(&mut f, &mut accepted, Col::new(&column), 5, 1);
        assert_eq!(f.count, 2);
        assert_eq!(rows(&f), [2, 4]);
        let many: Vec<String> = (0..20).map(|i| format!("v{i}")).collect();
        let mut accepted = Accepted::new(&many);
        let column = text_column(&[Some("v19"), Some("v20")]);
        let mut f = Failures::default();
        accepted_values(&mut f, &mut accepted, Col::new(&column), 2, 1);
        assert_eq!(rows(&f), [2]);
    }

    #[test]
    fn small_keys_are_one_to_one() {
        let values: Vec<Vec<u8>> = (0..=20usize)
            .flat_map(|len| {
                (0..len.max(1)).map(move |flip| {
                    let mut v: Vec<u8> = (0..len as u8).map(|b| b'a' + b).collect();
                    if let Some(b) = v.get_mut(flip) {
                        *b = b'Z';
                    }
                    v
                })
            })
            .collect();
        for a in &values {
            for b in &values {
                if let (Some(ka), Some(kb)) = (small_key(a), small_key(b)) {
                    assert_eq!(ka == kb, a == b, "{a:?} {b:?}");
                }
            }
        }
        assert_eq!(small_key(&[b'x'; 17]), None);
        let long = "a".repeat(20);
        let mut accepted = Accepted::new(&["ok".into(), long.clone()]);
        assert!(accepted.contains(long.as_bytes()) && accepted.contains(b"ok"));
        assert!(!accepted.contains(&[b'a'; 21]) && !accepted.contains(b"o"));
    }

    #[test]
    fn pattern_checks_four_values_at_a_time_and_the_rest() {
        let column = text_column(&[
            Some("a@b"),
            None,
            Some("bad"),
            Some("c@d"),
            Some("e@f"),
            Some("g@@h"),
            Some("i@j"),
            Some("k"),
        ]);
        let matcher = Matcher::new("^[^@]+@[^@]+$").expect("valid");
        let mut cache = matcher.cache();
        let mut f = Failures::default();
        pattern(&mut f, &matcher, &mut cache, Col::new(&column), 8, 1);
        assert_eq!(rows(&f), [3, 6, 8]);
    }

    #[test]
    fn length_counts_characters() {
        let column = text_column(&[Some("ab"), Some("été"), Some("abcd"), None, Some("")]);
        let mut f = Failures::default();
        length(&mut f, (1, 3), Col::new(&column), 5, 1);
        assert_eq!(rows(&f), [3, 5]);
    }

    #[test]
    fn range_fails_invalid_and_nan_but_not_null() {
        let column = Column {
            values: Values::Float(vec![1.0, -0.5, 0.0, 10_001.0, f64::NAN, 0.0, 10_000.0]),
            status: vec![VALUE, VALUE, NULL, VALUE, VALUE, INVALID, VALUE],
        };
        let text = text_column(&[None, None, None, None, None, Some("12,5"), None]);
        let mut f = Failures::default();
        range(
            &mut f,
            (0.0, 10_000.0),
            Col::new(&column),
            Some(Col::new(&text)),
            7,
            1,
        );
        assert_eq!(rows(&f), [2, 4, 5, 6]);
        assert_eq!(f.samples[3].value, Json::from("12,5"));
        let all_valid = Column {
            values: Values::Float(vec![5.0, 20.0]),
            status: vec![],
        };
        let mut f = Failures::default();
        range(&mut f, (0.0, 10.0), Col::new(&all_valid), None, 2, 1);
        assert_eq!(rows(&f), [2]);
    }

    #[test]
    fn freshness_tracks_the_newest_and_counts_stale_rows() {
        let column = Column {
            values: Values::Int(vec![100, 50, 0, 200, 10]),
            status: vec![VALUE, VALUE, NULL, VALUE, INVALID],
        };
        let mut f = Failures::default();
        let mut newest = None;
        freshness(&mut f, &mut newest, 60, Col::new(&column), None, 5, 1);
        assert_eq!(newest, Some(200));
        assert_eq!(rows(&f), [2, 5]);
        assert_eq!(f.samples[1].value, Json::from("(not a timestamp)"));
    }

    #[test]
    fn duplicate_rows_by_hash_and_by_columns() {
        let (mut f, mut seen, mut repeats) =
            (Failures::default(), IntSet::hashed(), Repeats::default());
        duplicate_hashes(&mut f, &mut seen, &mut repeats, &[7, 8, 7, 7], 4, 1);
        assert_eq!(f.count, 3);
        assert_eq!(rows(&f), [3, 4]);

        let a = text_column(&[Some("x"), Some("x"), None, None]);
        let b = text_column(&[Some("1"), Some("1"), Some(""), None]);
        let cols = [Col::new(&a), Col::new(&b)];
        let (mut f, mut seen, mut repeats, mut key) = (
            Failures::default(),
            TextSet::default(),
            Repeats::default(),
            Vec::new(),
        );
        let names = ["a".to_string(), "b".to_string()];
        duplicate_columns(
            &mut f,
            &mut seen,
            &mut repeats,
            &mut key,
            &names,
            &cols,
            4,
            1,
        );
        assert_eq!(f.count, 2);
        assert_eq!(f.samples[0].value, serde_json::json!({"a": "x", "b": "1"}));
    }

    #[test]
    fn moments_merge_across_batches() {
        let one = Column {
            values: Values::Float(vec![1.0, 2.0, 0.0]),
            status: vec![VALUE, VALUE, NULL],
        };
        let two = Column {
            values: Values::Float(vec![3.0, 4.0, 0.0]),
            status: vec![VALUE, VALUE, INVALID],
        };
        let mut m = Moments::default();
        m.add(Col::new(&one), 3);
        m.add(Col::new(&two), 3);
        assert_eq!(m.n, 4);
        assert_eq!(m.sum, 10.0);
        assert!((m.mean - 2.5).abs() < 1e-12);
        assert!((m.stddev().expect("two values") - 1.290_994_448_735_805_6).abs() < 1e-12);
        assert_eq!(m.invalid, 1);
    }

    #[test]
    fn schema_counts_rows_with_any_invalid_value() {
        let a = Column {
            values: Values::Int(vec![1, 0, 0]),
            status: vec![VALUE, INVALID, INVALID],
        };
        let b = Column {
            values: Values::Float(vec![0.0, 0.0, 1.0]),
            status: vec![INVALID, INVALID, VALUE],
        };
        let at = text_column(&[Some("1"), Some("x"), Some("y")]);
        let cols = [Col::new(&a), Col::new(&b), Col::new(&at)];
        let typed = [
            Typed {
                column: "a".into(),
                ty: ValueType::Int,
                col: 0,
                text: 2,
            },
            Typed {
                column: "b".into(),
                ty: ValueType::Float,
                col: 1,
                text: 2,
            },
        ];
        let mut invalid = [0, 0];
        let mut f = Failures::default();
        schema(&mut f, &typed, &mut invalid, &mut Vec::new(), &cols, 3, 1);
        assert_eq!(f.count, 3);
        assert_eq!(invalid, [2, 2]);
        assert_eq!(f.samples[1].value, Json::from("a: x"));
    }
}
