//! Scanning added lines for secrets. Pure: the caller hands in the lines, so
//! this is unit-tested natively.

use std::ops::Range;

use andon_pdk::glob::{self, Glob};
use regex::{Regex, RegexSet};
use serde::Deserialize;

use crate::rules::{self, RULES};

/// The step's `with:` mapping as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    /// Regexes; a finding whose secret, match or line matches one is skipped.
    pub allow: Vec<String>,
    /// Globs of paths not to scan.
    pub paths_ignore: Vec<String>,
}

/// A validated configuration.
#[derive(Debug, Default)]
pub struct Config {
    allow: Vec<Regex>,
    paths_ignore: Vec<Glob>,
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        let allow = raw
            .allow
            .iter()
            .enumerate()
            .map(|(i, re)| Regex::new(re).map_err(|e| format!("invalid `with.allow[{i}]`: {e}")))
            .collect::<Result<_, _>>()?;
        let paths_ignore = raw.paths_ignore.iter().map(|p| Glob::new(p)).collect();
        Ok(Config {
            allow,
            paths_ignore,
        })
    }
}

impl Config {
    /// True if `path` is not to be scanned at all.
    pub fn ignores_path(&self, path: &str) -> bool {
        glob::any_match(&self.paths_ignore, path)
    }

    fn allows(&self, texts: &[&str]) -> bool {
        self.allow
            .iter()
            .any(|re| texts.iter().any(|t| re.is_match(t)))
    }
}

/// One added line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the head revision.
    pub number: u32,
    pub text: String,
}

/// A possible secret. It holds only the redacted form, so no rendering of a
/// finding (not even `Debug`) can leak the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: String,
    pub line: u32,
    pub rule: &'static str,
    /// The secret as [`rules::redact`] shows it.
    pub redacted: String,
}

/// What a scan found, and how much it looked at.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Added lines scanned (lines of ignored paths are not counted).
    pub lines_scanned: u64,
}

/// The compiled rules, with a [`RegexSet`] so that most lines cost a single
/// pass.
pub struct Scanner {
    prefilter: RegexSet,
    regexes: Vec<Regex>,
}

impl Default for Scanner {
    fn default() -> Self {
        let patterns = RULES.iter().map(|r| r.pattern);
        Scanner {
            prefilter: RegexSet::new(patterns.clone()).expect("the built-in rules are valid"),
            regexes: patterns
                .map(|p| Regex::new(p).expect("the built-in rules are valid"))
                .collect(),
        }
    }
}

impl Scanner {
    /// Scans the added lines of each file, skipping ignored paths.
    pub fn scan<I>(&self, files: I, cfg: &Config) -> Report
    where
        I: IntoIterator<Item = (String, Vec<Line>)>,
    {
        let mut report = Report::default();
        for (path, lines) in files {
            if cfg.ignores_path(&path) {
                continue;
            }
            report.lines_scanned += lines.len() as u64;
            for line in &lines {
                self.scan_line(&path, line, cfg, &mut report.findings);
            }
        }
        report
    }

    fn scan_line(&self, path: &str, line: &Line, cfg: &Config, out: &mut Vec<Finding>) {
        let text = line.text.as_str();
        let mut taken: Vec<Range<usize>> = Vec::new();
        for index in self.prefilter.matches(text).iter() {
            let rule = &RULES[index];
            for caps in self.regexes[index].captures_iter(text) {
                let (Some(whole), Some(secret)) = (caps.get(0), caps.get(rule.group)) else {
                    continue;
                };
                let span = secret.range();
                if rule.generic
                    && (!rules::looks_secret(secret.as_str())
                        || taken
                            .iter()
                            .any(|t| t.start < span.end && span.start < t.end))
                {
                    continue;
                }
                taken.push(span);
                if cfg.allows(&[secret.as_str(), whole.as_str(), text]) {
                    continue;
                }
                out.push(Finding {
                    path: path.to_owned(),
                    line: line.number,
                    rule: rule.name,
                    redacted: rules::redact(secret.as_str()),
                });
            }
        }
    }
}

/// Scans with the built-in rules; see [`Scanner::scan`].
pub fn scan<I>(files: I, cfg: &Config) -> Report
where
    I: IntoIterator<Item = (String, Vec<Line>)>,
{
    Scanner::default().scan(files, cfg)
}

#[cfg(test)]
pub(crate) mod tests {
    use andon_pdk::parse_config;

    use super::*;

    pub(crate) const AWS: &str = "AKIAQ3EGRTY7ZXKP4MWN";
    pub(crate) const GITHUB: &str = "ghp_R8sK2mQ9vX4tL7pZ1nB6wC3yH5jD0fG8aE2u";
    const GITHUB_PAT: &str = "github_pat_11ABCDEFG0aZ9yX8wV7uT6_sR5qP4oN3mL2kJ1";
    const SLACK: &str = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp";
    const GENERIC: &str = "Kq7pX2mZ9wLr4tVb";

    pub(crate) fn lines(texts: &[&str]) -> Vec<Line> {
        (1..)
            .zip(texts)
            .map(|(number, t)| Line {
                number,
                text: (*t).to_owned(),
            })
            .collect()
    }

    fn config(json: &str) -> Result<Config, String> {
        let raw: RawConfig = parse_config(json).map_err(|e| format!("{e:?}"))?;
        Config::try_from(raw)
    }

    fn scan_with(cfg: &Config, texts: &[&str]) -> Vec<Finding> {
        scan([("src/app.py".to_owned(), lines(texts))], cfg).findings
    }

    /// The rule names found in `text`, one line.
    fn rules_in(text: &str) -> Vec<&'static str> {
        scan_with(&Config::default(), &[text])
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn aws_access_key_ids() {
        assert_eq!(rules_in(&format!("key = {AWS}")), ["aws-access-key-id"]);
        assert_eq!(rules_in("id: ASIAQ3EGRTY7ZXKP4MWN"), ["aws-access-key-id"]);
        assert_eq!(rules_in("A3TXQ3EGRTY7ZXKP4MWN"), ["aws-access-key-id"]);
        assert!(rules_in("AKIAQ3EGRTY7ZXKP4MW").is_empty(), "too short");
        assert!(
            rules_in("AKIAQ3EGRTY7ZXKP4MWNXX").is_empty(),
            "part of a longer word"
        );
        assert!(rules_in("AKIAq3egrty7zxkp4mwn").is_empty(), "lowercase");
        assert!(rules_in("XKIAQ3EGRTY7ZXKP4MWN").is_empty(), "wrong prefix");
    }

    #[test]
    fn github_tokens() {
        assert_eq!(rules_in(&format!("export GH={GITHUB}")), ["github-token"]);
        for prefix in ["gho_", "ghu_", "ghs_", "ghr_"] {
            let token = GITHUB.replacen("ghp_", prefix, 1);
            assert_eq!(rules_in(&token), ["github-token"], "{prefix}");
        }
        assert_eq!(rules_in(GITHUB_PAT), ["github-fine-grained-token"]);
        assert!(rules_in("ghp_short1234567890").is_empty());
        assert!(rules_in("ghx_R8sK2mQ9vX4tL7pZ1nB6wC3yH5jD0fG8aE2u").is_empty());
        assert!(rules_in("github_pat_short").is_empty());
    }

    #[test]
    fn slack_tokens() {
        assert_eq!(rules_in(&format!("slack: {SLACK}")), ["slack-token"]);
        assert!(rules_in("xoxb-123").is_empty());
        assert!(rules_in("xoxz-1234567890-abcdef").is_empty());
    }

    #[test]
    fn private_key_blocks() {
        for header in [
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        ] {
            assert_eq!(rules_in(header), ["private-key"], "{header}");
        }
        assert!(rules_in("-----BEGIN PUBLIC KEY-----").is_empty());
        assert!(rules_in("-----BEGIN CERTIFICATE-----").is_empty());
    }

    #[test]
    fn generic_assignments() {
        for line in [
            format!("password = \"{GENERIC}\""),
            format!("PASSWORD: {GENERIC}"),
            format!("db_passwd='{GENERIC}'"),
            format!("\"api_key\": \"{GENERIC}\","),
            format!("ApiKey={GENERIC};"),
            format!("access_key := {GENERIC}"),
            format!("client_secret={GENERIC}"),
            format!("auth_token = {GENERIC}"),
            format!("'password' => '{GENERIC}'"),
        ] {
            assert_eq!(rules_in(&line), ["generic-secret"], "{line}");
        }
    }

    #[test]
    fn generic_assignments_skip_placeholders_and_references() {
        for line in [
            "password = \"changeme\"",
            "password = \"hunter22\"",
            "password = \"${DB_PASSWORD}\"",
            "token: {{ secrets.GITHUB_TOKEN }}",
            "api_key = <your-api-key-here>",
            "secret = os.environ['APP_SECRET']",
            "token = process.env.TOKEN_VALUE",
            "password = 'short'",
            "password == other_password_value",
            "tokens = tokenize(text)",
        ] {
            assert!(rules_in(line).is_empty(), "{line}");
        }
    }

    #[test]
    fn entropy_threshold_decides_generic_values() {
        assert!(
            rules_in("password = aaaabbbbccccdddd").is_empty(),
            "2.0 bits per char"
        );
        assert!(
            rules_in("password = abcdefgh").len() == 1,
            "3.0 bits per char"
        );
        assert!(
            rules_in("password = abcdefgg").is_empty(),
            "2.75 bits per char"
        );
    }

    #[test]
    fn a_specific_rule_wins_over_the_generic_one() {
        assert_eq!(rules_in(&format!("token = \"{GITHUB}\"")), ["github-token"]);
        assert_eq!(
            rules_in(&format!("aws_secret: {AWS}")),
            ["aws-access-key-id"]
        );
    }

    #[test]
    fn several_findings_per_line_and_file() {
        let found = scan_with(
            &Config::default(),
            &["nothing here", &format!("{AWS} {AWS}"), SLACK],
        );
        let at: Vec<(u32, &str)> = found.iter().map(|f| (f.line, f.rule)).collect();
        assert_eq!(
            at,
            [
                (2, "aws-access-key-id"),
                (2, "aws-access-key-id"),
                (3, "slack-token")
            ]
        );
        assert_eq!(found[0].path, "src/app.py");
    }

    #[test]
    fn findings_hold_only_the_redacted_secret() {
        let found = scan_with(&Config::default(), &[AWS, GITHUB]);
        assert_eq!(found[0].redacted, "AKIA…(20 chars)");
        assert_eq!(found[1].redacted, "ghp_…(40 chars)");
        let debug = format!("{found:?}");
        assert!(!debug.contains(AWS) && !debug.contains(GITHUB), "{debug}");
    }

    #[test]
    fn allowlist_matches_secret_match_or_line() {
        let cfg = config(r#"{"allow": ["^AKIAQ3EGRTY7ZXKP4MWN$"]}"#).expect("valid config");
        assert!(
            scan_with(&cfg, &[&format!("key = {AWS}")]).is_empty(),
            "secret"
        );
        let cfg = config(r##"{"allow": ["#\\s*andon:allow"]}"##).expect("valid config");
        assert!(
            scan_with(&cfg, &[&format!("{SLACK} # andon:allow")]).is_empty(),
            "line"
        );
        assert_eq!(scan_with(&cfg, &[SLACK]).len(), 1);
        let cfg = config(r#"{"allow": ["password = Kq7p"]}"#).expect("valid config");
        assert!(
            scan_with(&cfg, &[&format!("password = {GENERIC}")]).is_empty(),
            "match"
        );
    }

    #[test]
    fn ignored_paths_are_not_scanned_or_counted() {
        let cfg =
            config(r#"{"paths_ignore": ["tests/fixtures/**", "*.pem"]}"#).expect("valid config");
        let files = [
            ("tests/fixtures/keys.txt".to_owned(), lines(&[AWS])),
            (
                "certs/dev.pem".to_owned(),
                lines(&["-----BEGIN PRIVATE KEY-----"]),
            ),
            ("src/main.rs".to_owned(), lines(&["fn main() {}", SLACK])),
        ];
        let report = scan(files, &cfg);
        assert_eq!(report.lines_scanned, 2);
        let at: Vec<(&str, u32)> = report
            .findings
            .iter()
            .map(|f| (f.path.as_str(), f.line))
            .collect();
        assert_eq!(at, [("src/main.rs", 2)]);
    }

    #[test]
    fn bad_config() {
        let err = config(r#"{"allow": ["ok", "(unclosed"]}"#).expect_err("bad regex");
        assert!(err.contains("with.allow[1]"), "{err}");
        let err = config(r#"{"paths_ignore": [1]}"#).expect_err("not a string");
        assert!(err.contains("with.paths_ignore[0]"), "{err}");
        let err = config(r#"{"allowlist": []}"#).expect_err("unknown field");
        assert!(err.contains("allowlist"), "{err}");
    }
}
