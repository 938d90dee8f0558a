//! Per-column statistics of one side, gathered in the same pass as the
//! row comparison: nulls, an estimate of distinct values, the inferred
//! type, and minimum, maximum and mean where the type orders.
//!
//! Types are inferred the way the `dataset` interface parses them: a
//! column is `int` if every non-null value reads as a 64-bit integer, else
//! `float`, `bool` (`true`/`false`, `yes`/`no`, `t`/`f`, `1`/`0`, any case),
//! `date` (`YYYY-MM-DD`) or `timestamp` (RFC 3339, or a date and time with
//! a space or `T`), in that order; otherwise `text`. A column with no
//! value at all is `empty`. Spaces and tabs around a value are ignored.

use serde::Serialize;

/// 64-bit FNV-1a, finished with the murmur3 mixer so that every output bit
/// depends on every input bit (HyperLogLog reads the high bits).
pub fn hash64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h ^ bytes.len() as u64)
}

/// The murmur3 64-bit finalizer.
pub fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// HyperLogLog with 2^12 registers: 4 KiB per column and side, a standard
/// error of about 1.6%, exact-ish (linear counting) below a few thousand.
#[derive(Debug, Clone)]
pub struct Distinct {
    registers: Vec<u8>,
}

const HLL_BITS: u32 = 12;

impl Default for Distinct {
    fn default() -> Distinct {
        Distinct {
            registers: vec![0; 1 << HLL_BITS],
        }
    }
}

impl Distinct {
    pub fn add(&mut self, hash: u64) {
        let index = (hash >> (64 - HLL_BITS)) as usize;
        // The rank of the first set bit in the rest, 1-based; the rest has
        // 52 bits, so an all-zero rest ranks 53.
        let rest = (hash << HLL_BITS) | (1 << (HLL_BITS - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        if let Some(register) = self.registers.get_mut(index)
            && rank > *register
        {
            *register = rank;
        }
    }

    pub fn estimate(&self) -> u64 {
        let m = self.registers.len() as f64;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        let sum: f64 = self
            .registers
            .iter()
            .map(|&r| 2f64.powi(-i32::from(r)))
            .sum();
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }
}

/// The types a column can be inferred as, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Int,
    Float,
    Bool,
    Date,
    Timestamp,
    Text,
    /// No value at all: every row is null, or there are no rows.
    Empty,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Bool => "bool",
            Kind::Date => "date",
            Kind::Timestamp => "timestamp",
            Kind::Text => "text",
            Kind::Empty => "empty",
        }
    }
}

const INT: u8 = 1;
const FLOAT: u8 = 2;
const BOOL: u8 = 4;
const DATE: u8 = 8;
const TIMESTAMP: u8 = 16;

/// Statistics of one column on one side, as they accumulate.
#[derive(Debug, Clone)]
pub struct ColumnStats {
    pub values: u64,
    pub nulls: u64,
    distinct: Distinct,
    /// The kinds every value so far parsed as.
    candidates: u8,
    sum: f64,
    min_num: f64,
    max_num: f64,
    /// The smallest and largest value as (sort key, text), for dates and
    /// timestamps.
    min_time: Option<(i64, String)>,
    max_time: Option<(i64, String)>,
}

impl Default for ColumnStats {
    fn default() -> ColumnStats {
        ColumnStats {
            values: 0,
            nulls: 0,
            distinct: Distinct::default(),
            candidates: INT | FLOAT | BOOL | DATE | TIMESTAMP,
            sum: 0.0,
            min_num: f64::INFINITY,
            max_num: f64::NEG_INFINITY,
            min_time: None,
            max_time: None,
        }
    }
}

/// What a side's column looks like, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    #[serde(rename = "type")]
    pub kind: Kind,
    pub nulls: u64,
    /// Estimated distinct non-null values.
    pub distinct: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
}

impl ColumnStats {
    /// Count one cell; `hash` is the cell's [`hash64`], passed in because
    /// the row comparison computes it too.
    pub fn add(&mut self, cell: Option<&[u8]>, hash: u64) {
        let Some(bytes) = cell else {
            self.nulls += 1;
            return;
        };
        self.values += 1;
        self.distinct.add(hash);
        if self.candidates == 0 {
            return;
        }
        let text = std::str::from_utf8(bytes)
            .unwrap_or("")
            .trim_matches([' ', '\t']);
        if self.candidates & INT != 0 && text.parse::<i64>().is_err() {
            self.candidates &= !INT;
        }
        if self.candidates & FLOAT != 0 {
            match text.parse::<f64>() {
                Ok(f) if !text.is_empty() => {
                    if f.is_finite() {
                        self.sum += f;
                    }
                    self.min_num = self.min_num.min(f);
                    self.max_num = self.max_num.max(f);
                }
                _ => self.candidates &= !FLOAT,
            }
        }
        if self.candidates & BOOL != 0 && !is_bool(text) {
            self.candidates &= !BOOL;
        }
        if self.candidates & (DATE | TIMESTAMP) != 0 {
            match timestamp_key(text) {
                Some((key, date_only)) => {
                    if !date_only {
                        self.candidates &= !DATE;
                    }
                    if self.min_time.as_ref().is_none_or(|(k, _)| key < *k) {
                        self.min_time = Some((key, text.to_string()));
                    }
                    if self.max_time.as_ref().is_none_or(|(k, _)| key > *k) {
                        self.max_time = Some((key, text.to_string()));
                    }
                }
                None => self.candidates &= !(DATE | TIMESTAMP),
            }
        }
    }

    pub fn kind(&self) -> Kind {
        if self.values == 0 {
            return Kind::Empty;
        }
        [
            (INT, Kind::Int),
            (FLOAT, Kind::Float),
            (BOOL, Kind::Bool),
            (DATE, Kind::Date),
            (TIMESTAMP, Kind::Timestamp),
        ]
        .into_iter()
        .find(|(bit, _)| self.candidates & bit != 0)
        .map_or(Kind::Text, |(_, kind)| kind)
    }

    pub fn summary(&self) -> Summary {
        let kind = self.kind();
        let number = |f: f64| {
            if kind == Kind::Int {
                format!("{}", f as i64)
            } else {
                format!("{f}")
            }
        };
        let (min, max, mean) = match kind {
            Kind::Int | Kind::Float => (
                Some(number(self.min_num)),
                Some(number(self.max_num)),
                Some(self.sum / self.values as f64),
            ),
            Kind::Date | Kind::Timestamp => (
                self.min_time.as_ref().map(|(_, t)| t.clone()),
                self.max_time.as_ref().map(|(_, t)| t.clone()),
                None,
            ),
            _ => (None, None, None),
        };
        Summary {
            kind,
            nulls: self.nulls,
            distinct: self.distinct.estimate().min(self.values),
            min,
            max,
            mean,
        }
    }
}

fn is_bool(text: &str) -> bool {
    text.len() <= 5
        && matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "1" | "0" | "yes" | "no" | "t" | "f"
        )
}

/// A date or timestamp as a sortable key (seconds since the epoch, UTC),
/// and whether it was a bare date.
fn timestamp_key(text: &str) -> Option<(i64, bool)> {
    let b = text.as_bytes();
    if b.len() < 10 {
        return None;
    }
    let days = date(&b[..10])?;
    if b.len() == 10 {
        return Some((days * 86_400, true));
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let hour = two(b[11], b[12])?;
    let minute = two(b[14], b[15])?;
    let second = two(b[17], b[18])?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    if let Some((b'.', fraction)) = rest.split_first() {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        rest = &fraction[len..];
    }
    let offset = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let minutes = two(*h1, *h2)? * 60 + two(*m1, *m2)?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        [sign @ (b'+' | b'-'), h1, h2] => {
            let seconds = two(*h1, *h2)? * 3600;
            if *sign == b'+' { seconds } else { -seconds }
        }
        _ => return None,
    };
    Some((
        days * 86_400 + hour * 3600 + minute * 60 + second - offset,
        false,
    ))
}

fn two(a: u8, b: u8) -> Option<i64> {
    let (a, b) = (a.wrapping_sub(b'0'), b.wrapping_sub(b'0'));
    (a <= 9 && b <= 9).then(|| i64::from(a) * 10 + i64::from(b))
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn date(b: &[u8]) -> Option<i64> {
    let &[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = b else {
        return None;
    };
    let year = two(y0, y1)? * 100 + two(y2, y3)?;
    let month = two(m0, m1)?;
    let day = two(d0, d1)?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if day == 0 || day > days_in_month {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(cells: &[Option<&str>]) -> Summary {
        let mut s = ColumnStats::default();
        for cell in cells {
            let bytes = cell.map(str::as_bytes);
            s.add(bytes, hash64(bytes.unwrap_or_default()));
        }
        s.summary()
    }

    #[test]
    fn types_are_inferred_in_order() {
        let kind = |cells: &[Option<&str>]| stats(cells).kind;
        assert_eq!(kind(&[Some("1"), Some(" -2 "), None]), Kind::Int);
        assert_eq!(kind(&[Some("1"), Some("2.5")]), Kind::Float);
        assert_eq!(kind(&[Some("1"), Some("0")]), Kind::Int);
        assert_eq!(kind(&[Some("yes"), Some("F"), Some("1")]), Kind::Bool);
        assert_eq!(kind(&[Some("2024-02-29"), Some("1999-12-31")]), Kind::Date);
        assert_eq!(
            kind(&[Some("2024-02-29"), Some("2024-03-01T10:00:00+02:00")]),
            Kind::Timestamp
        );
        assert_eq!(kind(&[Some("2023-02-29")]), Kind::Text);
        assert_eq!(kind(&[Some("1"), Some("x")]), Kind::Text);
        assert_eq!(kind(&[None, None]), Kind::Empty);
        assert_eq!(kind(&[]), Kind::Empty);
    }

    #[test]
    fn numbers_have_min_max_and_mean() {
        let s = stats(&[Some("4"), Some("-2"), None, Some("10")]);
        assert_eq!(s.min.as_deref(), Some("-2"));
        assert_eq!(s.max.as_deref(), Some("10"));
        assert_eq!(s.mean, Some(4.0));
        assert_eq!(s.nulls, 1);
        assert_eq!(s.distinct, 3);
        let s = stats(&[Some("0.5"), Some("2")]);
        assert_eq!(
            (s.min.as_deref(), s.max.as_deref()),
            (Some("0.5"), Some("2"))
        );
        assert_eq!(s.mean, Some(1.25));
    }

    #[test]
    fn times_order_by_instant_not_text() {
        let s = stats(&[
            Some("2024-01-01T10:00:00+02:00"),
            Some("2024-01-01T09:00:00Z"),
            Some("2024-01-01 08:30:00"),
        ]);
        assert_eq!(s.kind, Kind::Timestamp);
        assert_eq!(s.min.as_deref(), Some("2024-01-01T10:00:00+02:00"));
        assert_eq!(s.max.as_deref(), Some("2024-01-01T09:00:00Z"));
        assert_eq!(s.mean, None);
    }

    #[test]
    fn dates_count_days_from_the_epoch() {
        assert_eq!(date(b"1970-01-01"), Some(0));
        assert_eq!(date(b"2000-03-01"), Some(11_017));
        assert_eq!(date(b"1969-12-31"), Some(-1));
        assert_eq!(date(b"2024-13-01"), None);
    }

    #[test]
    fn distinct_estimates_are_close() {
        let mut d = Distinct::default();
        for i in 0..100_000u64 {
            d.add(hash64(&i.to_le_bytes()));
            d.add(hash64(&i.to_le_bytes()));
        }
        let e = d.estimate() as f64;
        assert!((e - 100_000.0).abs() / 100_000.0 < 0.05, "{e}");
        let mut small = Distinct::default();
        for i in 0..50u64 {
            small.add(hash64(&i.to_le_bytes()));
        }
        assert_eq!(small.estimate(), 50);
    }

    #[test]
    fn hashes_spread() {
        assert_ne!(hash64(b"a"), hash64(b"b"));
        assert_ne!(hash64(b""), hash64(b"\0"));
        assert_eq!(hash64(b"abc"), hash64(b"abc"));
    }
}
