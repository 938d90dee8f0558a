//! `pattern` matching, one value at a time, with the fastest engine that
//! handles the regex: a dense DFA walked byte by byte when it builds small,
//! else a lazy DFA, and the PikeVM for what neither can decide (a Unicode
//! `\b` next to non-ASCII text).
//!
//! Semantics are those of `regex::bytes::Regex::is_match`: a search
//! anywhere in the value, so anchor with `^…$` to match whole values.

use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::nfa::thompson::pikevm::{self, PikeVM};
use regex_automata::util::primitives::StateID;
use regex_automata::{Input, hybrid};

/// The largest dense DFA worth building; past it the lazy DFA is as fast.
const DENSE_LIMIT: usize = 1 << 20;

/// A compiled `pattern` regex.
#[derive(Debug)]
pub struct Matcher {
    fast: Fast,
    /// The complete engine, for values the DFAs give up on.
    vm: PikeVM,
}

#[derive(Debug)]
enum Fast {
    Dense {
        dfa: dense::DFA<Vec<u32>>,
        start: StateID,
    },
    Lazy(hybrid::dfa::DFA),
    None,
}

/// Scratch space for one user of a [`Matcher`].
#[derive(Debug)]
pub struct MatchCache {
    lazy: Option<hybrid::dfa::Cache>,
    vm: pikevm::Cache,
}

impl Matcher {
    /// Compiles `pattern`; the error is the regex syntax error.
    pub fn new(pattern: &str) -> Result<Matcher, String> {
        let vm = PikeVM::new(pattern).map_err(|e| first_line(&e.to_string()))?;
        let dense = dense::Builder::new()
            .configure(
                dense::Config::new()
                    .start_kind(StartKind::Unanchored)
                    .unicode_word_boundary(true)
                    .dfa_size_limit(Some(DENSE_LIMIT))
                    .determinize_size_limit(Some(2 * DENSE_LIMIT)),
            )
            .build(pattern);
        let fast = match dense {
            Ok(dfa) => match dfa.start_state_forward(&Input::new(&[])) {
                Ok(start) => Fast::Dense { dfa, start },
                Err(_) => Fast::None,
            },
            Err(_) => match hybrid::dfa::Builder::new()
                .configure(hybrid::dfa::Config::new().unicode_word_boundary(true))
                .build(pattern)
            {
                Ok(dfa) => Fast::Lazy(dfa),
                Err(_) => Fast::None,
            },
        };
        Ok(Matcher { fast, vm })
    }

    /// Fresh scratch space.
    pub fn cache(&self) -> MatchCache {
        MatchCache {
            lazy: match &self.fast {
                Fast::Lazy(dfa) => Some(dfa.create_cache()),
                _ => None,
            },
            vm: self.vm.create_cache(),
        }
    }

    /// True if the regex matches anywhere in `value`.
    #[inline]
    pub fn is_match(&self, cache: &mut MatchCache, value: &[u8]) -> bool {
        let decided = match &self.fast {
            Fast::Dense { dfa, start } => dense_walk(dfa, *start, value),
            Fast::Lazy(dfa) => cache
                .lazy
                .as_mut()
                .and_then(|lazy| lazy_match(dfa, lazy, value)),
            Fast::None => None,
        };
        match decided {
            Some(matched) => matched,
            None => self.vm.is_match(&mut cache.vm, value),
        }
    }

    /// [`Matcher::is_match`] for four values at once. A DFA walk is bound by
    /// the latency of one table load per byte; four independent walks in
    /// lockstep keep the core busy with the other three while one waits.
    #[inline]
    pub fn is_match4(&self, cache: &mut MatchCache, values: [&[u8]; 4]) -> [bool; 4] {
        let decided = match &self.fast {
            Fast::Dense { dfa, start } => dense_match4(dfa, *start, values),
            _ => [None; 4],
        };
        let mut out = [false; 4];
        for ((out, decided), value) in out.iter_mut().zip(decided).zip(values) {
            *out = match decided {
                Some(matched) => matched,
                None => self.is_match(cache, value),
            };
        }
        out
    }
}

/// Four dense DFA walks in lockstep over the bytes all four values have,
/// then each on its own; `None` for a lane that hit a quit state.
#[inline]
fn dense_match4(
    dfa: &dense::DFA<Vec<u32>>,
    start: StateID,
    values: [&[u8]; 4],
) -> [Option<bool>; 4] {
    let common = values.iter().map(|v| v.len()).min().unwrap_or(0);
    let [a, b, c, d] = values.map(|v| &v[..common]);
    let mut states = [start; 4];
    // A lane stays `None` until it reaches a special state; `Some(None)`
    // marks a quit.
    let mut lanes: [Option<Option<bool>>; 4] = [None; 4];
    for (((&ba, &bb), &bc), &bd) in a.iter().zip(b).zip(c).zip(d) {
        states = [
            dfa.next_state(states[0], ba),
            dfa.next_state(states[1], bb),
            dfa.next_state(states[2], bc),
            dfa.next_state(states[3], bd),
        ];
        if states.iter().any(|&s| dfa.is_special_state(s)) {
            for (lane, &s) in lanes.iter_mut().zip(&states) {
                if lane.is_none() && dfa.is_special_state(s) {
                    if dfa.is_match_state(s) {
                        *lane = Some(Some(true));
                    } else if dfa.is_dead_state(s) {
                        *lane = Some(Some(false));
                    } else if dfa.is_quit_state(s) {
                        *lane = Some(None);
                    }
                }
            }
            if lanes.iter().all(Option::is_some) {
                break;
            }
        }
    }
    let mut out = [None; 4];
    for (i, out) in out.iter_mut().enumerate() {
        *out = match lanes[i] {
            Some(decided) => decided,
            None => dense_walk(dfa, states[i], &values[i][common..]),
        };
    }
    out
}

/// Walks the dense DFA from `state` over `value` to its end; `None` when
/// it hits a quit state.
#[inline]
fn dense_walk(dfa: &dense::DFA<Vec<u32>>, mut state: StateID, value: &[u8]) -> Option<bool> {
    for &byte in value {
        state = dfa.next_state(state, byte);
        if dfa.is_special_state(state) {
            if dfa.is_match_state(state) {
                return Some(true);
            }
            if dfa.is_dead_state(state) {
                return Some(false);
            }
            if dfa.is_quit_state(state) {
                return None;
            }
        }
    }
    state = dfa.next_eoi_state(state);
    Some(dfa.is_match_state(state))
}

/// Walks the lazy DFA; `None` when it quits or gives up.
fn lazy_match(
    dfa: &hybrid::dfa::DFA,
    cache: &mut hybrid::dfa::Cache,
    value: &[u8],
) -> Option<bool> {
    let mut state = dfa.start_state_forward(cache, &Input::new(value)).ok()?;
    for &byte in value {
        state = dfa.next_state(cache, state, byte).ok()?;
        if state.is_tagged() {
            if state.is_match() {
                return Some(true);
            }
            if state.is_dead() {
                return Some(false);
            }
            if state.is_quit() || state.is_unknown() {
                return None;
            }
        }
    }
    state = dfa.next_eoi_state(cache, state).ok()?;
    Some(state.is_match())
}

fn first_line(message: &str) -> String {
    message
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(message)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, cases: &[(&str, bool)]) {
        let m = Matcher::new(pattern).expect("valid");
        let mut cache = m.cache();
        for (value, expected) in cases {
            assert_eq!(
                m.is_match(&mut cache, value.as_bytes()),
                *expected,
                "{pattern:?} on {value:?}"
            );
        }
    }

    #[test]
    fn anchored_email() {
        check(
            "^[^@]+@[^@]+$",
            &[
                ("a@b", true),
                ("jean.dupont@example.com", true),
                ("héloïse@exemple.fr", true),
                ("no-at.example.com", false),
                ("a@@b", false),
                ("@b", false),
                ("a@", false),
                ("", false),
            ],
        );
    }

    #[test]
    fn unanchored_search_like_is_match() {
        check(
            "[0-9]{3}",
            &[("ab123cd", true), ("12", false), ("x9999", true)],
        );
        check("^$", &[("", true), ("x", false)]);
        check(
            "(?i)paid",
            &[("PAID", true), ("unpaid", true), ("pending", false)],
        );
    }

    #[test]
    fn unicode_word_boundaries_fall_back() {
        check(
            r"\bété\b",
            &[
                ("un été chaud", true),
                ("étés", false),
                ("ascii only", false),
            ],
        );
        check(
            r"\bcat\b",
            &[("a cat", true), ("concat", false), ("é cat é", true)],
        );
    }

    #[test]
    fn invalid_utf8_values_are_searched_as_bytes() {
        let m = Matcher::new("^[^@]+@[^@]+$").expect("valid");
        let mut cache = m.cache();
        assert!(!m.is_match(&mut cache, b"\xff@x"));
        let m = Matcher::new("x").expect("valid");
        let mut cache = m.cache();
        assert!(m.is_match(&mut cache, b"\xffx"));
    }

    #[test]
    fn four_lanes_agree_with_one() {
        let values: Vec<String> = [
            "a@b",
            "",
            "x@@y",
            "jean.dupont@example.com",
            "@",
            "héloïse@exemple.fr",
            "no-at",
            "a@b@c",
            "longer.name.with.dots@mail.example.org",
            "z@",
            "q@w",
            "é@è",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        for pattern in ["^[^@]+@[^@]+$", "[0-9]", "b$", r"\bé", "^$", "(?i)A@B"] {
            let m = Matcher::new(pattern).expect("valid");
            let mut cache = m.cache();
            for start in 0..values.len() {
                let four: [&[u8]; 4] =
                    std::array::from_fn(|k| values[(start + k * 5) % values.len()].as_bytes());
                let expected = four.map(|v| m.is_match(&mut cache, v));
                assert_eq!(
                    m.is_match4(&mut cache, four),
                    expected,
                    "{pattern:?} on {four:?}"
                );
            }
        }
    }

    #[test]
    fn errors_are_one_line() {
        let e = Matcher::new("(").expect_err("invalid");
        assert!(!e.contains('\n'), "{e}");
        assert!(!e.is_empty());
    }

    #[test]
    fn a_huge_dfa_falls_back_to_the_lazy_one() {
        let m = Matcher::new(r"\w{40}[0-9]").expect("valid");
        assert!(!matches!(m.fast, Fast::Dense { .. }), "{:?}", m.fast.kind());
        let mut cache = m.cache();
        assert!(m.is_match(&mut cache, format!("{}7", "a".repeat(40)).as_bytes()));
        assert!(!m.is_match(&mut cache, "a".repeat(60).as_bytes()));
    }

    impl Fast {
        fn kind(&self) -> &'static str {
            match self {
                Fast::Dense { .. } => "dense",
                Fast::Lazy(_) => "lazy",
                Fast::None => "none",
            }
        }
    }
}
