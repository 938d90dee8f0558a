//! Durations as written in suites (`90m`, `2d`, `1d12h`) and timestamps as
//! text for reports. No clock: times are passed in.

const MICROS: [(char, i64); 5] = [
    ('w', 7 * 86_400_000_000),
    ('d', 86_400_000_000),
    ('h', 3_600_000_000),
    ('m', 60_000_000),
    ('s', 1_000_000),
];

/// Parses a duration into microseconds: one or more `<number><unit>` parts
/// with units `w`, `d`, `h`, `m`, `s`. `None` for anything else, zero or an
/// overflow.
pub fn parse_micros(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut number: Option<i64> = None;
    for c in text.trim().chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(i64::from(d))?,
            );
            continue;
        }
        let (_, unit) = MICROS.iter().find(|(u, _)| *u == c)?;
        total = total.checked_add(number.take()?.checked_mul(*unit)?)?;
    }
    (number.is_none() && total > 0).then_some(total)
}

/// A duration for people: the two largest units (`3d 4h`, `12m 5s`, `0s`).
pub fn human(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let mut rest = micros.unsigned_abs() / 1_000_000;
    let mut parts = Vec::new();
    for (unit, size) in [('d', 86_400u64), ('h', 3_600), ('m', 60), ('s', 1)] {
        if rest >= size && parts.len() < 2 {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        } else if !parts.is_empty() && parts.len() < 2 {
            // Only adjacent units: `3d 0h` reads better as `3d`.
            break;
        }
    }
    if parts.is_empty() {
        return "0s".into();
    }
    format!("{sign}{}", parts.join(" "))
}

/// Microseconds since the epoch as RFC 3339 UTC, to the second unless the
/// value has a fraction.
pub fn timestamp(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if frac == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{frac:06}Z")
    }
}

/// Days since the epoch as `YYYY-MM-DD`.
pub fn date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Howard Hinnant's `civil_from_days`: proleptic Gregorian date of a day
/// count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_micros("2d"), Some(2 * 86_400_000_000));
        assert_eq!(parse_micros("1d12h"), Some(36 * 3_600_000_000));
        assert_eq!(parse_micros("90m"), Some(5_400_000_000));
        assert_eq!(parse_micros("1w"), Some(7 * 86_400_000_000));
        assert_eq!(parse_micros(" 45s "), Some(45_000_000));
        for bad in [
            "",
            "2",
            "d",
            "2x",
            "0d",
            "2d3",
            "-1d",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_micros(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(0), "0s");
        assert_eq!(human(3 * 86_400_000_000 + 4 * 3_600_000_000 + 5), "3d 4h");
        assert_eq!(human(3 * 86_400_000_000 + 60_000_000), "3d");
        assert_eq!(human(725_000_000), "12m 5s");
        assert_eq!(human(-60_000_000), "-1m");
    }

    #[test]
    fn timestamps_and_dates() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_767_225_600_000_000), "2026-01-01T00:00:00Z");
        assert_eq!(
            timestamp(951_782_400_500_000),
            "2000-02-29T00:00:00.500000Z"
        );
        assert_eq!(timestamp(-1_000_000), "1969-12-31T23:59:59Z");
        assert_eq!(date(20_454), "2026-01-01");
    }
}
