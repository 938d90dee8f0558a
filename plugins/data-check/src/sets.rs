//! Memory-conscious sets for `unique`, `duplicate_rows` and `relationship`:
//! millions of values must fit, with everything else, in the plugin's
//! 256 MB.
//!
//! - [`IntSet`] starts as a paged bitmap (8 KiB pages of 65,536 values), so
//!   dense keys such as sequential ids cost a bit each, and turns into a
//!   hash set once pages would cost more than hashing (sparse keys).
//! - [`TextSet`] keeps every distinct value once, in one arena, with a hash
//!   table of offsets: no allocation per value.
//! - [`ValueSet`] is text equality on top of both: a value written as a
//!   canonical integer (`42`, `-7`, not `042` or `+7`) goes to the int set,
//!   anything else to the text set, so `unique` on an id column runs at
//!   integer speed with exact text semantics.

use std::hash::Hasher;

use hashbrown::{HashMap, HashSet, HashTable};
use rustc_hash::{FxBuildHasher, FxHasher};

/// Bits per page: 65,536 values, 8 KiB.
const PAGE_BITS: u32 = 16;
const PAGE_WORDS: usize = (1 << PAGE_BITS) / 64;
/// A page pays for itself over a hash set entry (about 16 bytes with its
/// control byte and load factor) from this many values on.
const BREAK_EVEN: usize = 8192 / 16;
/// Below this many pages (1 MiB), density is not worth judging.
const MIN_PAGES: usize = 128;

type Page = Box<[u64; PAGE_WORDS]>;

/// A set of 64-bit integers.
#[derive(Debug)]
pub struct IntSet {
    len: usize,
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    Paged {
        /// Page key (value >> 16) to index into `pages`.
        index: HashMap<i64, usize, FxBuildHasher>,
        pages: Vec<Page>,
        /// The last page touched, since neighbouring values share pages.
        last: Option<(i64, usize)>,
    },
    Hashed(HashSet<i64, FxBuildHasher>),
}

impl Default for IntSet {
    fn default() -> IntSet {
        IntSet::new()
    }
}

impl IntSet {
    /// An empty set that starts as a bitmap.
    pub fn new() -> IntSet {
        IntSet {
            len: 0,
            mode: Mode::Paged {
                index: HashMap::default(),
                pages: Vec::new(),
                last: None,
            },
        }
    }

    /// An empty hash set, for keys known to be sparse (hashes).
    pub fn hashed() -> IntSet {
        IntSet {
            len: 0,
            mode: Mode::Hashed(HashSet::default()),
        }
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `value`; true if it was not there.
    #[inline]
    pub fn insert(&mut self, value: i64) -> bool {
        let added = match &mut self.mode {
            Mode::Hashed(set) => set.insert(value),
            Mode::Paged { index, pages, last } => {
                let key = value >> PAGE_BITS;
                let page = match *last {
                    Some((k, i)) if k == key => i,
                    _ => {
                        let i = *index.entry(key).or_insert_with(|| {
                            pages.push(Box::new([0; PAGE_WORDS]));
                            pages.len() - 1
                        });
                        *last = Some((key, i));
                        i
                    }
                };
                let bit = (value & ((1 << PAGE_BITS) - 1)) as usize;
                let word = &mut pages[page][bit / 64];
                let mask = 1u64 << (bit % 64);
                let added = *word & mask == 0;
                *word |= mask;
                added
            }
        };
        if added {
            self.len += 1;
            self.rebalance();
        }
        added
    }

    /// True if `value` is in the set.
    #[inline]
    pub fn contains(&self, value: i64) -> bool {
        match &self.mode {
            Mode::Hashed(set) => set.contains(&value),
            Mode::Paged { index, pages, .. } => {
                let bit = (value & ((1 << PAGE_BITS) - 1)) as usize;
                index
                    .get(&(value >> PAGE_BITS))
                    .and_then(|&i| pages.get(i))
                    .is_some_and(|page| page[bit / 64] & (1 << (bit % 64)) != 0)
            }
        }
    }

    /// Turns a bitmap whose pages cost more than a hash set would into one.
    #[inline]
    fn rebalance(&mut self) {
        let Mode::Paged { pages, .. } = &self.mode else {
            return;
        };
        if pages.len() <= MIN_PAGES || pages.len() * BREAK_EVEN <= self.len {
            return;
        }
        let Mode::Paged { index, pages, .. } = std::mem::replace(
            &mut self.mode,
            Mode::Hashed(HashSet::with_capacity_and_hasher(
                self.len * 2,
                FxBuildHasher,
            )),
        ) else {
            return;
        };
        let Mode::Hashed(set) = &mut self.mode else {
            return;
        };
        for (key, i) in index {
            for (w, &word) in pages[i].iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let b = i64::from(bits.trailing_zeros());
                    bits &= bits - 1;
                    set.insert((key << PAGE_BITS) | (w as i64 * 64 + b));
                }
            }
        }
    }

    #[cfg(test)]
    fn is_paged(&self) -> bool {
        matches!(self.mode, Mode::Paged { .. })
    }
}

/// A set of byte strings, each stored once in an arena.
#[derive(Debug, Default)]
pub struct TextSet {
    arena: Vec<u8>,
    /// (start, end) into `arena`.
    table: HashTable<(usize, usize)>,
}

impl TextSet {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Adds `value`; true if it was not there.
    pub fn insert(&mut self, value: &[u8]) -> bool {
        let hash = hash_bytes(value);
        let arena = &self.arena;
        if self
            .table
            .find(hash, |&(s, e)| &arena[s..e] == value)
            .is_some()
        {
            return false;
        }
        let start = self.arena.len();
        self.arena.extend_from_slice(value);
        let arena = &self.arena;
        self.table
            .insert_unique(hash, (start, arena.len()), |&(s, e)| {
                hash_bytes(&arena[s..e])
            });
        true
    }

    /// True if `value` is in the set.
    pub fn contains(&self, value: &[u8]) -> bool {
        self.table
            .find(hash_bytes(value), |&(s, e)| &self.arena[s..e] == value)
            .is_some()
    }
}

fn hash_bytes(value: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(value);
    h.finish()
}

/// Writes several byte strings as one key, for `duplicate_rows` over
/// chosen columns: each part is length-prefixed and a null differs from an
/// empty string, so `("ab", "c")` and `("a", "bc")` stay apart.
pub fn encode_parts<'a>(parts: impl IntoIterator<Item = Option<&'a [u8]>>, out: &mut Vec<u8>) {
    out.clear();
    for part in parts {
        match part {
            None => out.push(0),
            Some(bytes) => {
                out.push(1);
                out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
                out.extend_from_slice(bytes);
            }
        }
    }
}

/// A text value, classified once: a canonical integer or other text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    Int(i64),
    Text(&'a [u8]),
}

impl<'a> Key<'a> {
    #[inline]
    pub fn of(value: &'a [u8]) -> Key<'a> {
        match canonical_int(value) {
            Some(n) => Key::Int(n),
            None => Key::Text(value),
        }
    }
}

/// Text values with an integer fast path (see the module docs).
#[derive(Debug, Default)]
pub struct ValueSet {
    ints: IntSet,
    texts: TextSet,
}

impl ValueSet {
    pub fn new() -> ValueSet {
        ValueSet::default()
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.ints.len() + self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `value`; true if it was not there.
    #[inline]
    pub fn insert(&mut self, value: &[u8]) -> bool {
        self.insert_key(Key::of(value))
    }

    /// [`ValueSet::insert`] for a classified value.
    #[inline]
    pub fn insert_key(&mut self, key: Key<'_>) -> bool {
        match key {
            Key::Int(n) => self.ints.insert(n),
            Key::Text(t) => self.texts.insert(t),
        }
    }

    /// True if `value` is in the set.
    #[inline]
    pub fn contains(&self, value: &[u8]) -> bool {
        match Key::of(value) {
            Key::Int(n) => self.ints.contains(n),
            Key::Text(t) => self.texts.contains(t),
        }
    }
}

/// Values seen at least twice, so a duplicate's first repeat counts both
/// rows and later repeats one each. Only repeated values are stored.
#[derive(Debug, Default)]
pub struct Repeats {
    ints: HashSet<i64, FxBuildHasher>,
    texts: TextSet,
}

impl Repeats {
    /// Notes another occurrence of a value already seen; returns how many
    /// rows that adds to the failed count (2 on the first repeat, then 1).
    #[inline]
    pub fn key(&mut self, key: Key<'_>) -> u64 {
        let first = match key {
            Key::Int(n) => self.ints.insert(n),
            Key::Text(t) => self.texts.insert(t),
        };
        if first { 2 } else { 1 }
    }
}

/// The integer a canonical decimal text denotes: an optional `-`, then
/// digits without leading zeros (`0` itself, not `-0`), at most 18 of them
/// so it cannot overflow. Every other text gives `None`, which keeps the
/// text-to-integer mapping one to one.
#[inline]
pub fn canonical_int(value: &[u8]) -> Option<i64> {
    let (negative, digits) = match value {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, value),
    };
    match digits {
        [] => return None,
        [b'0'] if !negative => return Some(0),
        [b'0', ..] => return None,
        _ if digits.len() > 18 => return None,
        _ => {}
    }
    let mut n: i64 = 0;
    for &d in digits {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + i64::from(d);
    }
    Some(if negative { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_ints_only() {
        assert_eq!(canonical_int(b"0"), Some(0));
        assert_eq!(canonical_int(b"42"), Some(42));
        assert_eq!(canonical_int(b"-7"), Some(-7));
        assert_eq!(
            canonical_int(b"999999999999999999"),
            Some(999_999_999_999_999_999)
        );
        for text in [
            &b""[..],
            b"-",
            b"-0",
            b"007",
            b"+7",
            b" 7",
            b"7 ",
            b"1e3",
            b"1.0",
            b"9999999999999999999",
            b"x",
        ] {
            assert_eq!(
                canonical_int(text),
                None,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn int_set_dense_stays_paged() {
        let mut set = IntSet::new();
        for v in 0..200_000 {
            assert!(set.insert(v));
        }
        assert!(!set.insert(199_999));
        assert!(set.insert(-1));
        assert_eq!(set.len(), 200_001);
        assert!(set.is_paged());
        assert!(set.contains(-1) && set.contains(65_536) && !set.contains(200_000));
    }

    #[test]
    fn int_set_sparse_turns_into_a_hash_set() {
        let mut set = IntSet::new();
        let values: Vec<i64> = (0..10_000i64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_u64 as i64))
            .collect();
        for &v in &values {
            assert!(set.insert(v));
        }
        assert!(!set.is_paged());
        assert_eq!(set.len(), values.len());
        for &v in &values {
            assert!(!set.insert(v));
            assert!(set.contains(v));
        }
        assert!(!set.contains(12345));
        assert!(set.insert(i64::MIN) && set.insert(i64::MAX) && !set.insert(i64::MIN));
    }

    #[test]
    fn text_set() {
        let mut set = TextSet::default();
        assert!(set.insert(b"a"));
        assert!(set.insert(b""));
        assert!(!set.insert(b"a"));
        for i in 0..10_000 {
            assert!(set.insert(format!("v{i}").as_bytes()));
        }
        assert!(set.contains(b"v9999") && set.contains(b"") && !set.contains(b"v10000"));
        assert_eq!(set.len(), 10_002);
    }

    #[test]
    fn value_set_is_text_equality() {
        let mut set = ValueSet::new();
        assert!(set.insert(b"7"));
        assert!(set.insert(b"07"));
        assert!(set.insert(b"+7"));
        assert!(!set.insert(b"7"));
        assert!(!set.insert(b"07"));
        assert!(set.contains(b"+7") && !set.contains(b"-7"));
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn repeats_count_the_first_occurrence_once() {
        let mut r = Repeats::default();
        assert_eq!(r.key(Key::of(b"a")), 2);
        assert_eq!(r.key(Key::of(b"a")), 1);
        assert_eq!(r.key(Key::of(b"5")), 2);
        assert_eq!(r.key(Key::Int(5)), 1);
        assert_eq!(Key::of(b"05"), Key::Text(b"05"));
    }

    #[test]
    fn encoded_parts_respect_boundaries() {
        let key = |parts: &[Option<&[u8]>]| {
            let mut out = Vec::new();
            encode_parts(parts.iter().copied(), &mut out);
            out
        };
        assert_ne!(
            key(&[Some(b"ab"), Some(b"c")]),
            key(&[Some(b"a"), Some(b"bc")])
        );
        assert_ne!(key(&[None, Some(b"")]), key(&[Some(b""), None]));
        assert_eq!(key(&[Some(b"x"), None]), key(&[Some(b"x"), None]));
    }
}
