//! Calendar conversions: days since the epoch to dates and back, RFC 3339
//! timestamps to microseconds. No clock is read here.
//!
//! Written apart from data-check's own date code on purpose: the baseline
//! shares no code with the plugin it checks, so equal counts mean
//! something.

/// Proleptic Gregorian `(year, month, day)` of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (`days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0i64, |n, &b| n * 10 + i64::from(b - b'0')),
    )
}

/// Microseconds since the epoch of a timestamp as the andon host reads
/// them: RFC 3339 (`2026-05-01T12:00:00Z`, `…+02:00`, fractions), the same
/// without a zone (UTC), a space instead of `T`, or a bare date (midnight
/// UTC). `None` for anything else.
pub fn parse_timestamp(text: &[u8]) -> Option<i64> {
    if text.len() < 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let (y, m, d) = (
        digits(&text[0..4])?,
        digits(&text[5..7])?,
        digits(&text[8..10])?,
    );
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m as u32) {
        return None;
    }
    let days = days_from_civil(y, m as u32, d as u32);
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(days * 86_400_000_000);
    }
    if rest.len() < 9
        || !matches!(rest[0], b'T' | b't' | b' ')
        || rest[3] != b':'
        || rest[6] != b':'
    {
        return None;
    }
    let (hh, mm, ss) = (
        digits(&rest[1..3])?,
        digits(&rest[4..6])?,
        digits(&rest[7..9])?,
    );
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut rest = &rest[9..];
    let mut micros = 0i64;
    if let Some(after) = rest.strip_prefix(b".") {
        let n = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let mut frac = 0i64;
        for (i, &b) in after[..n].iter().enumerate() {
            if i < 6 {
                frac = frac * 10 + i64::from(b - b'0');
            }
        }
        for _ in n..6 {
            frac *= 10;
        }
        micros = frac;
        rest = &after[n..];
    }
    let offset_secs = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2])?;
            let m = digits(&[*m1, *m2])?;
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss - offset_secs;
    Some(secs * 1_000_000 + micros)
}

fn days_in_month(y: i64, m: u32) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Writes `secs` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn write_timestamp(out: &mut Vec<u8>, secs: i64) {
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let two = |out: &mut Vec<u8>, n: i64| {
        out.push(b'0' + (n / 10) as u8);
        out.push(b'0' + (n % 10) as u8);
    };
    two(out, y / 100);
    two(out, y % 100);
    out.push(b'-');
    two(out, i64::from(m));
    out.push(b'-');
    two(out, i64::from(d));
    out.push(b'T');
    two(out, sod / 3600);
    out.push(b':');
    two(out, sod / 60 % 60);
    out.push(b':');
    two(out, sod % 60);
    out.push(b'Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for days in [-800_000, -1, 0, 59, 11_016, 20_454, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

    #[test]
    fn timestamps() {
        let t = |s: &str| parse_timestamp(s.as_bytes());
        assert_eq!(t("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(t("2026-01-01T00:00:00Z"), Some(1_767_225_600_000_000));
        assert_eq!(t("2026-01-01 00:00:01"), Some(1_767_225_601_000_000));
        assert_eq!(t("2026-01-01"), Some(1_767_225_600_000_000));
        assert_eq!(t("2026-01-01T02:00:00+02:00"), Some(1_767_225_600_000_000));
        assert_eq!(t("1970-01-01T00:00:00.25Z"), Some(250_000));
        for bad in [
            "",
            "2026-13-01",
            "2026-02-30",
            "2026-01-01T",
            "2026-01-01T25:00:00Z",
            "yesterday",
            "2026-01-01T00:00:00+2",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
        let mut out = Vec::new();
        write_timestamp(&mut out, 1_767_225_601);
        assert_eq!(out, b"2026-01-01T00:00:01Z");
    }
}
