//! Eight bytes at a time in a `u64`, without `unsafe` or target features:
//! exact per-byte tests whose results are the high bit of each byte.

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `bytes[..8]` as a little-endian word.
#[inline]
pub(crate) fn word(bytes: &[u8]) -> Option<u64> {
    let eight: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some(u64::from_le_bytes(eight))
}

/// The high bit of each byte of `w` that equals `c`. Exact: the addition
/// never carries across bytes, unlike the classic `haszero` trick.
#[inline]
pub(crate) fn eq(w: u64, c: u8) -> u64 {
    let t = w ^ (ONES * u64::from(c));
    !(((t & LOW7) + LOW7) | t) & HIGH
}

/// The high bit of each byte of `w` below 0x20 (an ASCII control).
#[inline]
pub(crate) fn control(w: u64) -> u64 {
    !((w & LOW7) + ONES * 0x60) & !w & HIGH
}

/// The high bits of a test's result gathered into the low eight bits,
/// byte `i` to bit `i`.
#[inline]
pub(crate) fn gather(high: u64) -> u64 {
    (high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_are_exact_for_every_byte_in_every_lane() {
        for b in 0..=255u8 {
            for lane in 0..8 {
                // The other lanes hold neighbours that would trip an inexact test.
                let mut bytes = [b.wrapping_add(1); 8];
                bytes[lane] = b;
                let w = u64::from_le_bytes(bytes);
                let expect = |hit: bool| if hit { 0x80u64 << (8 * lane) } else { 0 };
                let others = |t: u64| t & !(0xFFu64 << (8 * lane));
                assert_eq!(
                    eq(w, b',') & (0xFF << (8 * lane)),
                    expect(b == b','),
                    "{b} {lane}"
                );
                assert_eq!(
                    others(eq(w, b',')),
                    if b.wrapping_add(1) == b',' {
                        others(HIGH)
                    } else {
                        0
                    }
                );
                assert_eq!(
                    control(w) & (0xFF << (8 * lane)),
                    expect(b < 0x20),
                    "{b} {lane}"
                );
                assert_eq!(gather(expect(true)), 1 << lane);
            }
        }
    }
}
