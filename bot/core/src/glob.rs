//! Ordered include/exclude glob lists, as GitHub Actions evaluates `paths:`
//! and `branches:` filters: patterns apply in order, a `!pattern` excludes
//! what earlier patterns included, and the last match wins.

use globset::{GlobBuilder, GlobMatcher};

/// A compiled filter.
#[derive(Debug, Clone)]
pub struct Filter {
    patterns: Vec<(bool, GlobMatcher)>,
    source: Vec<String>,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        self.source == other.source
    }
}

impl Eq for Filter {}

impl Filter {
    /// Compile `patterns`; `*` stays within a path segment, `**` crosses them.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Filter, String> {
        let mut compiled = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            let pattern = pattern.as_ref();
            let (include, glob) = match pattern.strip_prefix('!') {
                Some(rest) => (false, rest),
                None => (true, pattern),
            };
            let matcher = GlobBuilder::new(glob)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("invalid glob `{pattern}`: {}", e.kind()))?
                .compile_matcher();
            compiled.push((include, matcher));
        }
        Ok(Filter {
            patterns: compiled,
            source: patterns.iter().map(|p| p.as_ref().to_string()).collect(),
        })
    }

    /// Whether `path` is selected: the last pattern that matches decides.
    pub fn matches(&self, path: &str) -> bool {
        self.patterns
            .iter()
            .rev()
            .find(|(_, m)| m.is_match(path))
            .is_some_and(|(include, _)| *include)
    }

    /// Whether any of `paths` is selected.
    pub fn matches_any<'a>(&self, paths: impl IntoIterator<Item = &'a str>) -> bool {
        paths.into_iter().any(|p| self.matches(p))
    }

    pub fn patterns(&self) -> &[String] {
        &self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(patterns: &[&str], path: &str, expected: bool) {
        let filter = Filter::new(patterns).expect("valid");
        assert_eq!(filter.matches(path), expected, "{patterns:?} on {path}");
    }

    #[test]
    fn globs_follow_github_actions_semantics() {
        check(&["data/**"], "data/a/b.csv", true);
        check(&["data/*"], "data/a/b.csv", false);
        check(&["*.md"], "docs/a.md", false);
        check(&["**/*.md"], "docs/a.md", true);
        check(&["data/**", "!data/tmp/**"], "data/tmp/x", false);
        check(
            &["data/**", "!data/tmp/**", "data/tmp/keep"],
            "data/tmp/keep",
            true,
        );
        check(&["!docs/**"], "src/main.rs", false);
        check(&["release/v?"], "release/v1", true);
    }

    #[test]
    fn bad_globs_are_reported() {
        let error = Filter::new(&["data/[a"]).expect_err("invalid");
        assert!(error.contains("data/[a"), "{error}");
    }
}
