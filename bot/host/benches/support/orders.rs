//! A deterministic orders CSV for the dataset benches: eight columns of
//! every type, about 85 bytes a row, with a few empty emails, unparsable
//! amounts and quoted fields, like real exports. (The project's full-size
//! generator lives in `tests/datagen`; the host does not depend on it.)

/// The header and `rows` rows.
pub fn csv(rows: usize) -> Vec<u8> {
    use std::fmt::Write;
    let mut out = String::with_capacity(rows * 90);
    out.push_str("id,email,status,amount,quantity,country,created_at,shipped_on\n");
    let statuses = ["new", "paid", "shipped"];
    let countries = ["FR", "DE", "US", "\"Korea, Republic of\""];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for id in 1..=rows {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let _ = write!(out, "{id},");
        if !x.is_multiple_of(97) {
            let _ = write!(out, "user{}@example.com", x % 100_000);
        }
        let _ = write!(out, ",{},", statuses[(x % 3) as usize]);
        if x.is_multiple_of(89) {
            out.push_str("n/a");
        } else {
            let _ = write!(out, "{}.{:02}", x % 10_000, (x >> 16) % 100);
        }
        let _ = writeln!(
            out,
            ",{},{},2024-{:02}-{:02}T{:02}:{:02}:{:02}Z,2024-{:02}-{:02}",
            (x >> 3) % 50,
            countries[((x >> 5) % 4) as usize],
            1 + (x >> 7) % 12,
            1 + (x >> 11) % 28,
            (x >> 15) % 24,
            (x >> 19) % 60,
            (x >> 23) % 60,
            1 + (x >> 29) % 12,
            1 + (x >> 33) % 28,
        );
    }
    out.into_bytes()
}
