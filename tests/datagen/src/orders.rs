//! A deterministic orders CSV: `id, customer_id, email, status, amount,
//! quantity, country, ts`, one row at a time through a reused buffer, so
//! any number of rows takes constant memory.
//!
//! Every value comes from a seeded SplitMix64, so the same [`Spec`] gives
//! the same bytes. Timestamps are relative to `Spec::now`: fresh rows fall
//! in the day before it, stale ones three days to thirteen months before.
//! A small share of rows carries one error for one of the seven checks of
//! the issue's suite (see [`SUITE`]); [`Injected`] counts them.

use std::io::{self, Write};

use crate::time;

/// The columns, in file order.
pub const HEADER: &str = "id,customer_id,email,status,amount,quantity,country,ts";

/// The suite the generated errors are aimed at (the issue's example), with
/// `dataset:` left for the caller.
pub const SUITE: &str = r#"checks:
  - row_count: { min: 1000 }
  - not_null: { column: email }
  - unique: { column: id }
  - accepted_values: { column: status, values: [new, paid, shipped] }
  - range: { column: amount, min: 0, max: 10000 }
  - pattern: { column: email, regex: "^[^@]+@[^@]+$" }
  - freshness: { column: ts, max_age: 2d }
"#;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub rows: u64,
    pub seed: u64,
    /// Seconds since the epoch that timestamps are relative to.
    pub now: i64,
}

impl Spec {
    /// The benchmark's dataset: 5,000,000 rows.
    pub const FULL_ROWS: u64 = 5_000_000;
    pub const DEFAULT_SEED: u64 = 0x5eed_da7a;

    /// `rows` rows with the default seed, relative to `now`.
    pub fn new(rows: u64, now: i64) -> Spec {
        Spec {
            rows,
            seed: Spec::DEFAULT_SEED,
            now,
        }
    }
}

/// Errors per million rows, by kind. Each row carries at most one.
const DUPLICATE_ID: u64 = 1_000;
const NULL_EMAIL: u64 = 2_000;
const MALFORMED_EMAIL: u64 = 1_000;
const BAD_STATUS: u64 = 1_000;
const BAD_AMOUNT: u64 = 1_000;
const STALE_TS: u64 = 1_000;

/// How many errors of each kind were written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Injected {
    /// Rows whose id repeats an earlier row's (the `unique` check also
    /// counts the first occurrences, and ids can repeat more than twice).
    pub duplicate_ids: u64,
    pub null_emails: u64,
    pub malformed_emails: u64,
    pub bad_statuses: u64,
    pub bad_amounts: u64,
    pub stale_timestamps: u64,
}

/// SplitMix64: tiny, fast, and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "ada",
    "alan",
    "grace",
    "linus",
    "margaret",
    "dennis",
    "barbara",
    "ken",
    "frances",
    "edsger",
    "donald",
    "radia",
    "john",
    "hedy",
    "tim",
    "katherine",
    "niklaus",
    "sophie",
    "guido",
    "yukihiro",
];
const LAST: &[&str] = &[
    "lovelace",
    "turing",
    "hopper",
    "torvalds",
    "hamilton",
    "ritchie",
    "liskov",
    "thompson",
    "allen",
    "dijkstra",
    "knuth",
    "perlman",
    "backus",
    "lamarr",
    "berners",
    "johnson",
    "wirth",
    "wilson",
    "rossum",
    "matsumoto",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.example.org",
    "shop.example.net",
    "example.fr",
];
const STATUSES: &[&str] = &["new", "paid", "paid", "shipped", "shipped", "shipped"];
const BAD_STATUSES: &[&str] = &["cancelled", "PAID", "refunded", "Shipped", "unknown"];
const COUNTRIES: &[&str] = &["FR", "DE", "US", "GB", "ES", "IT", "NL", "BE", "SE", "PL"];

/// The error a row carries, if any.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    DuplicateId,
    NullEmail,
    MalformedEmail,
    BadStatus,
    BadAmount,
    StaleTs,
}

fn fault(rng: &mut Rng) -> Fault {
    let mut draw = rng.below(1_000_000);
    for (share, fault) in [
        (DUPLICATE_ID, Fault::DuplicateId),
        (NULL_EMAIL, Fault::NullEmail),
        (MALFORMED_EMAIL, Fault::MalformedEmail),
        (BAD_STATUS, Fault::BadStatus),
        (BAD_AMOUNT, Fault::BadAmount),
        (STALE_TS, Fault::StaleTs),
    ] {
        if draw < share {
            return fault;
        }
        draw -= share;
    }
    Fault::None
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Cents as `123.45` (with a `-` when negative).
fn push_cents(out: &mut Vec<u8>, cents: i64) {
    if cents < 0 {
        out.push(b'-');
    }
    let cents = cents.unsigned_abs();
    push_u64(out, cents / 100);
    out.push(b'.');
    out.push(b'0' + (cents / 10 % 10) as u8);
    out.push(b'0' + (cents % 10) as u8);
}

/// Writes the header and `spec.rows` rows to `out` (buffer it: rows are
/// written one `write_all` each).
pub fn write_orders<W: Write>(mut out: W, spec: &Spec) -> io::Result<Injected> {
    let mut rng = Rng::new(spec.seed);
    let mut injected = Injected::default();
    let mut line = Vec::with_capacity(256);
    out.write_all(HEADER.as_bytes())?;
    out.write_all(b"\n")?;
    for i in 0..spec.rows {
        line.clear();
        let fault = fault(&mut rng);
        // id: sequential, or an earlier one within the last 100,000.
        let id = if fault == Fault::DuplicateId && i > 0 {
            injected.duplicate_ids += 1;
            i - rng.below(i.min(100_000))
        } else {
            i + 1
        };
        push_u64(&mut line, id);
        line.push(b',');
        let customer = 1 + rng.below(200_000);
        push_u64(&mut line, customer);
        line.push(b',');
        let (first, last, domain) = (rng.pick(FIRST), rng.pick(LAST), rng.pick(DOMAINS));
        match fault {
            Fault::NullEmail => injected.null_emails += 1,
            Fault::MalformedEmail => {
                injected.malformed_emails += 1;
                match rng.below(3) {
                    0 => line
                        .extend_from_slice(format!("{first}.{last}{customer}.{domain}").as_bytes()),
                    1 => line.extend_from_slice(format!("{first}@@{domain}").as_bytes()),
                    _ => line.extend_from_slice(format!("{first}.{last}{customer}@").as_bytes()),
                }
            }
            _ => {
                line.extend_from_slice(first.as_bytes());
                line.push(b'.');
                line.extend_from_slice(last.as_bytes());
                push_u64(&mut line, customer);
                line.push(b'@');
                line.extend_from_slice(domain.as_bytes());
            }
        }
        line.push(b',');
        let status = if fault == Fault::BadStatus {
            injected.bad_statuses += 1;
            rng.pick(BAD_STATUSES)
        } else {
            rng.pick(STATUSES)
        };
        line.extend_from_slice(status.as_bytes());
        line.push(b',');
        let cents = if fault == Fault::BadAmount {
            injected.bad_amounts += 1;
            if rng.below(2) == 0 {
                -(1 + rng.below(100_000) as i64)
            } else {
                1_000_001 + rng.below(10_000_000) as i64
            }
        } else {
            100 + rng.below(499_900) as i64
        };
        push_cents(&mut line, cents);
        line.push(b',');
        push_u64(&mut line, 1 + rng.below(10));
        line.push(b',');
        line.extend_from_slice(rng.pick(COUNTRIES).as_bytes());
        line.push(b',');
        let age = if fault == Fault::StaleTs {
            injected.stale_timestamps += 1;
            3 * 86_400 + rng.below(400 * 86_400) as i64
        } else {
            rng.below(86_400) as i64
        };
        time::write_timestamp(&mut line, spec.now - age);
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()?;
    Ok(injected)
}

/// The whole CSV in memory, for small tests.
pub fn orders_csv(spec: &Spec) -> (Vec<u8>, Injected) {
    let mut out = Vec::new();
    let injected = write_orders(&mut out, spec).expect("writing to a Vec cannot fail");
    (out, injected)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600;

    #[test]
    fn same_spec_same_bytes() {
        let (a, ia) = orders_csv(&Spec::new(2_000, NOW));
        let (b, ib) = orders_csv(&Spec::new(2_000, NOW));
        assert_eq!(a, b);
        assert_eq!(ia, ib);
        let (c, _) = orders_csv(&Spec {
            seed: 1,
            ..Spec::new(2_000, NOW)
        });
        assert_ne!(a, c);
    }

    #[test]
    fn rows_are_well_formed() {
        let (csv, injected) = orders_csv(&Spec::new(50_000, NOW));
        let text = String::from_utf8(csv).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(HEADER));
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 50_000);
        assert!(rows.iter().all(|r| r.split(',').count() == 8), "8 fields");
        assert!(rows[0].starts_with("1,"), "{}", rows[0]);
        let nulls = rows
            .iter()
            .filter(|r| r.split(',').nth(2) == Some(""))
            .count() as u64;
        assert_eq!(nulls, injected.null_emails);
        // Every kind of error shows up at this size, and stays rare.
        for (kind, n) in [
            ("duplicate ids", injected.duplicate_ids),
            ("null emails", injected.null_emails),
            ("malformed emails", injected.malformed_emails),
            ("bad statuses", injected.bad_statuses),
            ("bad amounts", injected.bad_amounts),
            ("stale timestamps", injected.stale_timestamps),
        ] {
            assert!(n > 10 && n < 500, "{kind}: {n}");
        }
    }

    #[test]
    fn about_a_hundred_bytes_a_row() {
        let (csv, _) = orders_csv(&Spec::new(10_000, NOW));
        let per_row = csv.len() / 10_000;
        assert!((80..=110).contains(&per_row), "{per_row} bytes a row");
    }

    #[test]
    fn cents_and_numbers() {
        let mut out = Vec::new();
        push_cents(&mut out, -5);
        out.push(b' ');
        push_cents(&mut out, 123_456);
        out.push(b' ');
        push_u64(&mut out, 0);
        assert_eq!(out, b"-0.05 1234.56 0");
    }
}
