//! The secret patterns and the arithmetic that decides what counts as a
//! secret: entropy for generic assignments, and redaction for reporting.

/// A pattern for one kind of secret.
pub struct Rule {
    /// The rule's name, shown as the annotation title.
    pub name: &'static str,
    /// The regular expression over one line.
    pub pattern: &'static str,
    /// The capture group holding the secret itself (0 for the whole match).
    pub group: usize,
    /// Whether the secret must also look random (entropy, no placeholders):
    /// true for `key = value` assignments, which match much more than secrets.
    pub generic: bool,
}

/// The rules, most specific first: a generic finding that overlaps a
/// specific one on the same line is dropped.
pub const RULES: &[Rule] = &[
    Rule {
        name: "aws-access-key-id",
        pattern: r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b",
        group: 0,
        generic: false,
    },
    Rule {
        name: "github-token",
        pattern: r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",
        group: 0,
        generic: false,
    },
    Rule {
        name: "github-fine-grained-token",
        pattern: r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b",
        group: 0,
        generic: false,
    },
    Rule {
        name: "slack-token",
        pattern: r"\bxox[baprs]-[A-Za-z0-9-]{10,}",
        group: 0,
        generic: false,
    },
    Rule {
        name: "private-key",
        pattern: r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----",
        group: 0,
        generic: false,
    },
    // `(?i-u:…)`: ASCII case folding, so the regex crate needs no Unicode
    // case tables (smaller wasm). `:=` and `=>` cover Go and Ruby/PHP.
    Rule {
        name: "generic-secret",
        pattern: r#"(?i-u:password|passwd|pwd|secret|token|api_key|apikey|access_key)["']?\s*(?::=|=>|[:=])\s*["']?([^\s"',;]{8,})"#,
        group: 1,
        generic: true,
    },
];

/// The minimum Shannon entropy, in bits per character, of a generic secret.
pub const MIN_ENTROPY: f64 = 3.0;

/// Shannon entropy of `s` in bits per character (0 for the empty string).
pub fn entropy(s: &str) -> f64 {
    let mut counts: Vec<(char, u32)> = Vec::new();
    let mut total = 0u32;
    for c in s.chars() {
        total += 1;
        match counts.iter_mut().find(|(k, _)| *k == c) {
            Some((_, n)) => *n += 1,
            None => counts.push((c, 1)),
        }
    }
    let total = f64::from(total);
    counts
        .iter()
        .map(|&(_, n)| {
            let p = f64::from(n) / total;
            -p * p.log2()
        })
        .sum()
}

/// True if a generic assignment's value looks like a real secret rather than
/// a placeholder or a reference to one (`${VAR}`, `<token>`, `os.environ`).
pub fn looks_secret(value: &str) -> bool {
    let reference =
        value.starts_with(['$', '{', '<', '%']) || value.to_ascii_lowercase().contains("env");
    !reference && !looks_like_code(value) && entropy(value) >= MIN_ENTROPY
}

/// Whether an assigned value is code rather than a literal: a call, an
/// index, Markdown backticks, or a path of identifiers
/// (`token.to_string()`, `self.config.token`, `settings::API_TOKEN`).
/// Scanning source code, these are far more common than secrets, and a
/// secret scanner that cries wolf gets switched off.
fn looks_like_code(value: &str) -> bool {
    if value.contains(['(', ')', '`', '[', ']']) {
        return true;
    }
    let segments: Vec<&str> = value.split(['.', ':']).filter(|s| !s.is_empty()).collect();
    segments.len() > 1
        && segments.iter().all(|segment| {
            segment.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The only form in which a secret leaves the plugin: its first four
/// characters and its length, `AKIA…(20 chars)`.
pub fn redact(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}…({} chars)", secret.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_values() {
        assert_eq!(entropy(""), 0.0);
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
        assert!((entropy("changeme") - 2.75).abs() < 1e-9);
        assert!(entropy("hX9$kq2!Zr7pLm4w") >= MIN_ENTROPY);
    }

    #[test]
    fn placeholders_and_references_are_not_secrets() {
        for value in [
            "changeme",
            "password",
            "${DB_PASSWORD}",
            "{{secrets.TOKEN}}",
            "<your-token-here>",
            "%(password)s",
            "os.environ[\"X\"]",
            "ENV_Kq7pX2mZ9wLr",
            "xxxxxxxxxxxxxxxx",
        ] {
            assert!(!looks_secret(value), "{value}");
        }
        assert!(looks_secret("Kq7pX2mZ9wLr4tVb"));
    }

    #[test]
    fn code_is_not_a_secret() {
        for value in [
            "token.to_string().into()",
            "input.trim_end()",
            "`/`secret=`",
            "self.config.api_token",
            "settings::API_TOKEN",
            "tokens[index]",
        ] {
            assert!(!looks_secret(value), "{value}");
        }
        for value in [
            "Kq7pX2mZ9wLr4tVb",
            "dGhpc2lzYXNlY3JldDEyMzQ1Njc4OQ==",
            "a8Fq2-Zx91kLm/Q",
        ] {
            assert!(looks_secret(value), "{value}");
        }
        // The price: a literal made of dot-separated identifiers reads as
        // code. The specific rules (AWS, GitHub, Slack, keys) still apply.
        assert!(!looks_secret("a8Fq2.Zx91kLm"));
    }

    #[test]
    fn redaction_keeps_four_chars_and_the_length() {
        assert_eq!(redact("AKIAIOSFODNN7EXAMPLE"), "AKIA…(20 chars)");
        assert_eq!(redact("abc"), "abc…(3 chars)");
        assert_eq!(redact("ééééé"), "éééé…(5 chars)");
    }
}
