//! Row hashes for duplicate-row checks: 64 bits, fixed seeds, the same on
//! every platform and in every release of this format (a plugin may keep
//! them across runs).
//!
//! A CSV row hashes its fields' bytes (after unquoting) joined by `,`,
//! mixed with the sequence of field lengths so that `"a,b",c` and
//! `a,"b,c"` differ. A JSON Lines row hashes each non-null value with its
//! column and kind, independently of key order.

const K0: u64 = 0x9E37_79B9_7F4A_7C15;
const K1: u64 = 0xD6E8_FEB8_6659_FD93;
const K2: u64 = 0xA076_1D64_78BD_642F;

/// The 128-bit product of `a` and `b`, folded to 64 bits.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    let (low, high) = (product as u64, (product >> 64) as u64);
    low ^ high
}

/// A hash of `bytes`, eight at a time.
#[inline]
pub(crate) fn bytes(bytes: &[u8]) -> u64 {
    let mut h = fold(bytes.len() as u64 ^ K0, K1);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        h = fold(h ^ u64::from_le_bytes(w), K2);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        let mut w = [0u8; 8];
        w[..tail.len()].copy_from_slice(tail);
        h = fold(h ^ u64::from_le_bytes(w) ^ K1, K2);
    }
    h
}

/// Adds a field length to a running hash of lengths.
#[inline]
pub(crate) fn add_length(lengths: u64, length: usize) -> u64 {
    (lengths ^ length as u64).wrapping_mul(K0).rotate_left(23)
}

/// A CSV row's hash from its joined fields and its running hash of lengths.
#[inline]
pub(crate) fn csv_row(joined: &[u8], lengths: u64) -> u64 {
    fold(bytes(joined) ^ lengths, K0)
}

/// One JSON Lines value's share of its row hash: rows sum the shares, so
/// key order does not matter.
#[inline]
pub(crate) fn json_value(column: usize, string: bool, value: &[u8]) -> u64 {
    let tag = (column as u64) << 1 | u64::from(string);
    fold(bytes(value) ^ tag.wrapping_mul(K2), K1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_fixed_and_spread() {
        // Fixed forever: plugins may store them.
        assert_eq!(bytes(b"x,y"), 0xbb57_c7ef_b4af_0c2a);
        assert_eq!(
            csv_row(b"x,y", add_length(add_length(0, 1), 1)),
            0xf6c4_fd08_173e_8aa7
        );
        assert_eq!(json_value(2, true, b"abc"), 0x20f5_a07e_353a_89bb);
        assert_ne!(bytes(b"a"), bytes(b"a\0"));
        assert_ne!(bytes(b"abcdefgh"), bytes(b"abcdefgi"));
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000u32 {
            assert!(seen.insert(bytes(i.to_string().as_bytes())), "{i}");
        }
        let lengths = |ls: &[usize]| ls.iter().fold(0, |h, &l| add_length(h, l));
        assert_ne!(
            csv_row(b"a,b,c", lengths(&[3, 1])),
            csv_row(b"a,b,c", lengths(&[1, 3]))
        );
        assert_ne!(json_value(0, true, b"1"), json_value(0, false, b"1"));
        assert_ne!(json_value(0, true, b"1"), json_value(1, true, b"1"));
    }
}
