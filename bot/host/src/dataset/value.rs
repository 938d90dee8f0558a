//! Field bytes to typed values: integers, floats, booleans, dates and
//! timestamps. Each parser returns `None` for bytes that are not a value of
//! its type (the caller marks the row invalid); none allocates.
//!
//! Every typed parser (not text) ignores ASCII spaces and tabs around the
//! value, so ` 42 ` is 42.

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400_000_000;

/// The field without surrounding ASCII spaces and tabs.
#[inline]
pub(crate) fn trim(bytes: &[u8]) -> &[u8] {
    match (bytes.first(), bytes.last()) {
        // The common case: nothing to trim.
        (Some(&first), Some(&last)) if first > b' ' && last > b' ' => bytes,
        _ => bytes.trim_ascii_start().trim_ascii_end(),
    }
}

/// A signed 64-bit integer: an optional `+` or `-`, then ASCII digits.
#[inline]
pub fn parse_int(bytes: &[u8]) -> Option<i64> {
    let bytes = trim(bytes);
    let (negative, digits) = match bytes.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() {
        return None;
    }
    // Eighteen digits always fit, so the common case needs no overflow check.
    if digits.len() <= 18 {
        let mut value: i64 = 0;
        for &b in digits {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            value = value * 10 + i64::from(digit);
        }
        return Some(if negative { -value } else { value });
    }
    // Accumulated negatively so that i64::MIN parses.
    let mut value: i64 = 0;
    for &b in digits {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_sub(i64::from(digit))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// Exact powers of ten as f64 (10^22 is the largest one).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A 64-bit float, as Rust's `f64::from_str` reads it (`1`, `-2.5`, `.5`,
/// `1e-3`, `inf`, `NaN`), correctly rounded.
#[inline]
pub fn parse_float(bytes: &[u8]) -> Option<f64> {
    let bytes = trim(bytes);
    fast_float(bytes).or_else(|| std::str::from_utf8(bytes).ok()?.parse().ok())
}

/// Plain decimals (`-123.45`) whose digits fit in 53 bits and whose
/// fraction has at most 22 digits: the integer and the power of ten are
/// both exact, so one division rounds correctly (Clinger's fast path).
/// Anything else (exponents, long mantissas) is left to the standard
/// library.
#[inline]
fn fast_float(bytes: &[u8]) -> Option<f64> {
    let (negative, rest) = match bytes.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, bytes),
    };
    if rest.is_empty() || rest.len() > 19 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    let mut fraction: Option<usize> = None;
    for (i, &b) in rest.iter().enumerate() {
        let digit = b.wrapping_sub(b'0');
        if digit <= 9 {
            mantissa = mantissa * 10 + u64::from(digit);
            digits += 1;
        } else if b == b'.' && fraction.is_none() {
            fraction = Some(rest.len() - i - 1);
        } else {
            return None;
        }
    }
    if digits == 0 || mantissa > (1u64 << 53) {
        return None;
    }
    // Exact: the mantissa is at most 2^53.
    let mut value = mantissa as f64;
    if let Some(fraction) = fraction {
        value /= *POW10.get(fraction)?;
    }
    Some(if negative { -value } else { value })
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `t`/`f` in any case, as 1 or 0.
#[inline]
pub fn parse_bool(bytes: &[u8]) -> Option<i64> {
    let bytes = trim(bytes);
    if bytes.len() > 5 {
        return None;
    }
    let mut lower = [0u8; 5];
    for (l, b) in lower.iter_mut().zip(bytes) {
        *l = b.to_ascii_lowercase();
    }
    match &lower[..bytes.len()] {
        b"true" | b"1" | b"yes" | b"t" => Some(1),
        b"false" | b"0" | b"no" | b"f" => Some(0),
        _ => None,
    }
}

/// A calendar date `YYYY-MM-DD`, as days since 1970-01-01.
#[inline]
pub fn parse_date(bytes: &[u8]) -> Option<i64> {
    let bytes = trim(bytes);
    if bytes.len() != 10 {
        return None;
    }
    date_prefix(bytes)
}

/// The date in the first ten bytes of `bytes` (which has at least ten).
#[inline]
fn date_prefix(bytes: &[u8]) -> Option<i64> {
    let &[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, ..] = bytes else {
        return None;
    };
    let year = digit(y0)? * 1000 + digit(y1)? * 100 + digit(y2)? * 10 + digit(y3)?;
    let month = digit(m0)? * 10 + digit(m1)?;
    let day = digit(d0)? * 10 + digit(d1)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Days in each month of a common year, by month number.
const MONTH_DAYS: [u8; 13] = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// One ASCII digit's value.
#[inline]
fn digit(b: u8) -> Option<u32> {
    let d = b.wrapping_sub(b'0');
    (d <= 9).then_some(u32::from(d))
}

/// An RFC 3339 timestamp (`2024-05-01T12:30:00.25+02:00`), the same
/// without an offset or with a space for `T` (read as UTC), or a date
/// (midnight UTC), as microseconds since the epoch. Digits past the
/// microsecond are dropped.
#[inline]
pub fn parse_timestamp(bytes: &[u8]) -> Option<i64> {
    let bytes = trim(bytes);
    fast_timestamp(bytes).or_else(|| chrono_timestamp(bytes))
}

/// The fixed layouts, by hand.
#[inline]
fn fast_timestamp(bytes: &[u8]) -> Option<i64> {
    if bytes.len() < 10 {
        return None;
    }
    let days = date_prefix(bytes)?;
    if bytes.len() == 10 {
        return Some(days * DAY_MICROS);
    }
    let &[
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        b'T' | b't' | b' ',
        h0,
        h1,
        b':',
        m0,
        m1,
        b':',
        s0,
        s1,
        ..,
    ] = bytes
    else {
        return None;
    };
    let hour = digit(h0)? * 10 + digit(h1)?;
    let minute = digit(m0)? * 10 + digit(m1)?;
    let second = digit(s0)? * 10 + digit(s1)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &bytes[19..];
    let mut micros = 0i64;
    if let Some((b'.', fraction)) = rest.split_first() {
        let len = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        for i in 0..6 {
            micros = micros * 10
                + fraction
                    .get(i)
                    .filter(|_| i < len)
                    .map_or(0, |b| i64::from(b - b'0'));
        }
        rest = &fraction[len..];
    }
    let offset_seconds = offset(rest)?;
    let seconds =
        i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second) - offset_seconds;
    Some(days * DAY_MICROS + seconds * 1_000_000 + micros)
}

/// A timestamp's offset in seconds east of UTC: none, `Z`, `+HH:MM`,
/// `+HHMM` or `+HH`.
#[inline]
fn offset(rest: &[u8]) -> Option<i64> {
    let (sign, hhmm) = match rest {
        [] | [b'Z' | b'z'] => return Some(0),
        [b'+', hhmm @ ..] => (1, hhmm),
        [b'-', hhmm @ ..] => (-1, hhmm),
        _ => return None,
    };
    let (hours, minutes) = match hhmm {
        [h1, h2] => (digits(&[*h1, *h2])?, 0),
        [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (i64::from(hours) * 3600 + i64::from(minutes) * 60))
}

/// What the fixed layouts miss (leap seconds, for one), through chrono.
#[cold]
fn chrono_timestamp(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok()?;
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(at.timestamp_micros());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
        .map(|at| at.and_utc().timestamp_micros())
}

/// ASCII digits as a number; `None` if any byte is not a digit.
#[inline]
fn digits(bytes: &[u8]) -> Option<u32> {
    let mut value = 0u32;
    for &b in bytes {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + u32::from(digit);
    }
    Some(value)
}

#[inline]
fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) & (!year.is_multiple_of(100) | year.is_multiple_of(400))
}

/// Days in `month` (1 to 12) of `year`, without a branch per month.
#[inline]
fn days_in_month(year: u32, month: u32) -> u32 {
    let common = u32::from(MONTH_DAYS.get(month as usize).copied().unwrap_or(0));
    common + u32::from(month == 2 && is_leap(year))
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date of years
/// 0 to 9999 (Howard Hinnant's `days_from_civil`, in unsigned arithmetic
/// shifted by one 400-year era so that no division sees a negative).
#[inline]
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let year = year + 400 - u32::from(month <= 2);
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_from_march = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    i64::from(era) * 146_097 + i64::from(day_of_era) - 719_468 - 146_097
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("42", Some(42)),
            ("-42", Some(-42)),
            ("+7", Some(7)),
            (" 12\t", Some(12)),
            ("007", Some(7)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("123456789012345678", Some(123_456_789_012_345_678)),
            ("", None),
            ("-", None),
            ("1.0", None),
            ("1e3", None),
            ("12a", None),
            ("1 2", None),
            ("--1", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_int(text.as_bytes()), *expected, "{text:?}");
        }
    }

    #[test]
    fn floats() {
        let cases: &[(&str, Option<f64>)] = &[
            ("0", Some(0.0)),
            ("1.5", Some(1.5)),
            ("-2.25", Some(-2.25)),
            ("+3", Some(3.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("0.1", Some(0.1)),
            ("123.456", Some(123.456)),
            ("9007199254740993", Some(9_007_199_254_740_993.0)),
            ("1e3", Some(1000.0)),
            ("1.5E-2", Some(0.015)),
            ("12345678901234567890.5", Some(12_345_678_901_234_567_890.5)),
            ("0.0000000000000000000000001", Some(1e-25)),
            (" 4.5 ", Some(4.5)),
            ("inf", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("", None),
            (".", None),
            ("-", None),
            ("1.2.3", None),
            ("1,5", None),
            ("abc", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_float(text.as_bytes()), *expected, "{text:?}");
        }
        assert!(parse_float(b"NaN").is_some_and(f64::is_nan));
        // The fast path agrees with the standard library on many decimals.
        for i in 0..20_000u64 {
            let text = format!("{}.{:03}", i * 7919 % 100_000, i % 1000);
            assert_eq!(parse_float(text.as_bytes()), text.parse().ok(), "{text}");
        }
    }

    #[test]
    fn booleans() {
        for text in [
            "true", "TRUE", "True", "1", "yes", "YES", "t", "T", " true ",
        ] {
            assert_eq!(parse_bool(text.as_bytes()), Some(1), "{text}");
        }
        for text in ["false", "FALSE", "0", "no", "No", "f", "F"] {
            assert_eq!(parse_bool(text.as_bytes()), Some(0), "{text}");
        }
        for text in ["", "2", "y", "n", "truee", "ja", "on", "off", "-1"] {
            assert_eq!(parse_bool(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn dates() {
        let cases: &[(&str, Option<i64>)] = &[
            ("1970-01-01", Some(0)),
            ("1970-01-02", Some(1)),
            ("1969-12-31", Some(-1)),
            ("2000-02-29", Some(11_016)),
            ("2024-05-01", Some(19_844)),
            ("0000-01-01", Some(-719_528)),
            ("9999-12-31", Some(2_932_896)),
            ("2023-02-29", None),
            ("1900-02-29", None),
            ("2024-13-01", None),
            ("2024-00-10", None),
            ("2024-04-31", None),
            ("2024-4-01", None),
            ("2024/04/01", None),
            ("2024-04-01T00:00:00", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_date(text.as_bytes()), *expected, "{text:?}");
        }
        // Every day of four centuries agrees with chrono.
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
        let mut day = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid");
        while day.year_ce().1 < 2300 {
            let text = day.format("%Y-%m-%d").to_string();
            assert_eq!(
                parse_date(text.as_bytes()),
                Some((day - epoch).num_days()),
                "{text}"
            );
            day = day.succ_opt().expect("valid");
        }
    }

    use chrono::Datelike;

    #[test]
    fn timestamps() {
        let s = 1_000_000i64;
        let base = 19_844 * DAY_MICROS; // 2024-05-01
        let cases: &[(&str, Option<i64>)] = &[
            ("2024-05-01", Some(base)),
            (
                "2024-05-01T12:30:15Z",
                Some(base + (12 * 3600 + 30 * 60 + 15) * s),
            ),
            (
                "2024-05-01t12:30:15z",
                Some(base + (12 * 3600 + 30 * 60 + 15) * s),
            ),
            (
                "2024-05-01 12:30:15",
                Some(base + (12 * 3600 + 30 * 60 + 15) * s),
            ),
            (
                "2024-05-01T12:30:15.5Z",
                Some(base + (12 * 3600 + 30 * 60 + 15) * s + 500_000),
            ),
            ("2024-05-01T00:00:00.123456789Z", Some(base + 123_456)),
            ("2024-05-01T00:00:00.000001", Some(base + 1)),
            ("2024-05-01T02:00:00+02:00", Some(base)),
            ("2024-05-01T02:00:00+0200", Some(base)),
            ("2024-05-01T02:00:00+02", Some(base)),
            ("2024-04-30T22:30:00-01:30", Some(base)),
            ("1969-12-31T23:59:59Z", Some(-s)),
            // A leap second, through chrono.
            ("2016-12-31T23:59:60Z", Some(1_483_228_800 * s)),
            ("2024-05-01T24:00:00Z", None),
            ("2024-05-01T12:60:00Z", None),
            ("2024-05-01T12:30", None),
            ("2024-05-01T12:30:15.", None),
            ("2024-05-01T12:30:15+2:00", None),
            ("2024-05-01T12:30:15 UTC", None),
            ("2024-05-01X12:30:15", None),
            ("20240501", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_timestamp(text.as_bytes()), *expected, "{text:?}");
        }
        // The hand-written layouts agree with chrono.
        for i in 0..5_000i64 {
            let micros = i * 7_777_777_777_777 - 20_000_000_000_000_000;
            let at = chrono::DateTime::from_timestamp_micros(micros).expect("in range");
            for text in [
                at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                at.with_timezone(&chrono::FixedOffset::east_opt(-5 * 3600).expect("valid"))
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, false),
                at.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            ] {
                assert_eq!(parse_timestamp(text.as_bytes()), Some(micros), "{text}");
            }
        }
    }
}
