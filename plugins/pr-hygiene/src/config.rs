//! The `with:` mapping of pr-hygiene, validated into a [`Config`].

use serde::Deserialize;

/// The Conventional Commits types of `@commitlint/config-conventional`.
pub const DEFAULT_TYPES: [&str; 11] = [
    "feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert",
];

/// GitHub's closing keywords.
pub const DEFAULT_KEYWORDS: [&str; 9] = [
    "close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved",
];

/// The step's `with:` mapping as written.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub check_name: String,
    pub conventional: bool,
    pub types: Vec<String>,
    pub scopes: Vec<String>,
    pub require_scope: bool,
    /// `null` or 0: no limit.
    pub max_title_length: Option<u32>,
    pub title_pattern: Option<String>,
    pub title_example: Option<String>,
    pub min_description_length: u32,
    pub require_issue: bool,
    pub issue_keywords: Vec<String>,
    pub require_keyword: bool,
    pub issue_prefixes: Vec<String>,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            check_name: "pr-hygiene".into(),
            conventional: true,
            types: DEFAULT_TYPES.map(String::from).to_vec(),
            scopes: Vec::new(),
            require_scope: false,
            max_title_length: Some(72),
            title_pattern: None,
            title_example: None,
            min_description_length: 1,
            require_issue: false,
            issue_keywords: DEFAULT_KEYWORDS.map(String::from).to_vec(),
            require_keyword: false,
            issue_prefixes: Vec::new(),
        }
    }
}

/// How the title's form is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TitleRule {
    /// No check of the form.
    Free,
    /// Conventional Commits: `type(scope)!: subject`.
    Conventional {
        types: Vec<String>,
        scopes: Vec<String>,
        require_scope: bool,
    },
    /// A wildcard pattern (`*` any text, `?` one character) the whole
    /// title must match, with an example for the fix.
    Pattern {
        pattern: String,
        example: Option<String>,
    },
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub check_name: String,
    pub title: TitleRule,
    pub max_title_length: Option<usize>,
    pub min_description_length: usize,
    pub require_issue: bool,
    /// Lowercase.
    pub issue_keywords: Vec<String>,
    pub require_keyword: bool,
    /// Jira-style project keys (`ABC` for `ABC-123`).
    pub issue_prefixes: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config::try_from(RawConfig::default()).expect("the defaults are valid")
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        let check_name = raw.check_name.trim().to_string();
        if check_name.is_empty() {
            return Err("`check_name` must not be empty".into());
        }
        let title = match raw.title_pattern {
            Some(pattern) if pattern.trim().is_empty() => {
                return Err("`title_pattern` must not be empty".into());
            }
            Some(pattern) => TitleRule::Pattern {
                pattern,
                example: raw.title_example,
            },
            None if !raw.conventional => TitleRule::Free,
            None => {
                if raw.types.is_empty() {
                    return Err("`types` must list at least one type".into());
                }
                if let Some(bad) = raw.types.iter().find(|t| !is_word(t)) {
                    return Err(format!(
                        "`types`: `{bad}` is not a type (letters, digits and `-`)"
                    ));
                }
                if let Some(bad) = raw.scopes.iter().find(|s| !is_scope(s)) {
                    return Err(format!("`scopes`: `{bad}` cannot be a scope"));
                }
                TitleRule::Conventional {
                    types: raw.types,
                    scopes: raw.scopes,
                    require_scope: raw.require_scope,
                }
            }
        };
        if let Some(bad) = raw.issue_keywords.iter().find(|k| !is_word(k)) {
            return Err(format!("`issue_keywords`: `{bad}` is not one word"));
        }
        if let Some(bad) = raw
            .issue_prefixes
            .iter()
            .find(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(format!(
                "`issue_prefixes`: `{bad}` is not a project key (`ABC` for `ABC-123`)"
            ));
        }
        Ok(Config {
            check_name,
            title,
            max_title_length: raw
                .max_title_length
                .filter(|&n| n > 0)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            min_description_length: usize::try_from(raw.min_description_length)
                .unwrap_or(usize::MAX),
            require_issue: raw.require_issue,
            issue_keywords: raw
                .issue_keywords
                .iter()
                .map(|k| k.to_lowercase())
                .collect(),
            require_keyword: raw.require_keyword,
            issue_prefixes: raw.issue_prefixes,
        })
    }
}

/// Letters, digits and `-`, at least one.
fn is_word(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_alphanumeric() || c == '-')
}

/// Text that fits between the parentheses of `type(scope)`.
fn is_scope(text: &str) -> bool {
    !text.trim().is_empty() && !text.contains(['(', ')'])
}
