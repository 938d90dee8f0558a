//! A small path glob matcher for `with:` options such as `ignore:`.
//!
//! Paths and patterns are `/`-separated and relative to the repository root.
//! `*` matches any run of characters within one segment, `?` one character
//! within a segment, and a whole segment `**` matches zero or more segments.
//! Like `.gitignore`, a pattern without a `/` matches the file name at any
//! depth (`*.lock` matches `a/b/Cargo.lock`). There are no character classes
//! and no escapes: every other character matches itself.

/// A parsed glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    segments: Vec<Segment>,
    name_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: zero or more whole segments.
    AnyDepth,
    /// Anything else, matched character by character.
    Chars(Vec<char>),
}

impl Glob {
    /// Parses a pattern. Every string is a valid pattern; a leading `./` or
    /// `/` is ignored.
    pub fn new(pattern: &str) -> Glob {
        let trimmed = pattern.trim_start_matches("./").trim_start_matches('/');
        let segments = trimmed
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s {
                "**" => Segment::AnyDepth,
                s => Segment::Chars(s.chars().collect()),
            })
            .collect::<Vec<_>>();
        let name_only = !trimmed.contains('/');
        Glob {
            pattern: pattern.to_owned(),
            segments,
            name_only,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// True if `path` matches.
    pub fn is_match(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if self.name_only {
            return match (parts.last(), self.segments.as_slice()) {
                (Some(name), [Segment::Chars(pat)]) => segment_matches(pat, name),
                (_, [Segment::AnyDepth]) => true,
                _ => false,
            };
        }
        segments_match(&self.segments, &parts)
    }
}

/// True if any of `globs` matches `path`.
pub fn any_match(globs: &[Glob], path: &str) -> bool {
    globs.iter().any(|g| g.is_match(path))
}

fn segments_match(pattern: &[Segment], parts: &[&str]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((Segment::AnyDepth, rest)) => {
            (0..=parts.len()).any(|skip| segments_match(rest, &parts[skip..]))
        }
        Some((Segment::Chars(pat), rest)) => match parts.split_first() {
            Some((part, more)) => segment_matches(pat, part) && segments_match(rest, more),
            None => false,
        },
    }
}

/// Matches one segment, with the classic linear backtracking over the last `*`.
fn segment_matches(pattern: &[char], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, path: &str, expected: bool) {
        assert_eq!(
            Glob::new(pattern).is_match(path),
            expected,
            "{pattern:?} vs {path:?}"
        );
    }

    #[test]
    fn star_stays_within_a_segment() {
        check("src/*.rs", "src/main.rs", true);
        check("src/*.rs", "src/a/main.rs", false);
        check("src/*", "src/", false);
        check("*.rs", "main.rs", true);
        check("a*b*c", "aXbYc", true);
        check("a*b*c", "aXbY", false);
        check("*a", "banana", true);
    }

    #[test]
    fn question_mark_is_one_char() {
        check("v?.txt", "v1.txt", true);
        check("v?.txt", "v10.txt", false);
        check("a?b", "a/b", false);
        check("?", "é", true);
    }

    #[test]
    fn double_star_spans_segments() {
        check("**/*.lock", "Cargo.lock", true);
        check("**/*.lock", "a/b/yarn.lock", true);
        check("**/*.lock", "a/b/lock", false);
        check("docs/**", "docs/a/b.md", true);
        check("docs/**", "docs", true);
        check("docs/**/x.md", "docs/x.md", true);
        check("docs/**/x.md", "docs/a/b/x.md", true);
        check("docs/**/x.md", "src/docs/x.md", false);
        check("**", "anything/at/all", true);
    }

    #[test]
    fn name_only_patterns_match_at_any_depth() {
        check("*.lock", "a/b/Cargo.lock", true);
        check("Makefile", "sub/Makefile", true);
        check("Makefile", "sub/Makefile.am", false);
    }

    #[test]
    fn patterns_with_a_slash_are_anchored() {
        check("vendor/*.c", "x/vendor/a.c", false);
        check("/vendor/*.c", "vendor/a.c", true);
        check("./vendor/*.c", "vendor/a.c", true);
    }

    #[test]
    fn any_match_over_a_list() {
        let globs = [Glob::new("*.lock"), Glob::new("gen/**")];
        assert!(any_match(&globs, "gen/x.rs"));
        assert!(any_match(&globs, "Cargo.lock"));
        assert!(!any_match(&globs, "src/gen.rs"));
        assert!(!any_match(&[], "x"));
    }
}
