//! The checks: the title's form and length, the description, the linked
//! issue. Pure: each returns what is wrong and how to fix it.

use crate::config::{Config, TitleRule};

/// What a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    TitleForm,
    TitleLength,
    Description,
    Issue,
}

impl Check {
    pub fn name(self) -> &'static str {
        match self {
            Check::TitleForm => "title format",
            Check::TitleLength => "title length",
            Check::Description => "description",
            Check::Issue => "linked issue",
        }
    }
}

/// A failed check: what is wrong and how to fix it (Markdown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub check: Check,
    pub what: String,
    pub fix: String,
}

/// The parts of a Conventional Commits title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conventional<'a> {
    pub kind: &'a str,
    pub scope: Option<&'a str>,
    pub breaking: bool,
    pub subject: &'a str,
}

/// Reads `type(scope)!: subject`, or says what breaks the form.
pub fn parse_conventional(title: &str) -> Result<Conventional<'_>, String> {
    let kind_end = title
        .find(|c: char| !(c.is_alphanumeric() || c == '-'))
        .unwrap_or(title.len());
    let kind = &title[..kind_end];
    if kind.is_empty() {
        return Err("it does not start with a type".into());
    }
    let mut rest = &title[kind_end..];
    let mut scope = None;
    if let Some(after) = rest.strip_prefix('(') {
        let Some(close) = after.find(')') else {
            return Err("the scope's `(` is not closed".into());
        };
        let text = &after[..close];
        if text.trim().is_empty() || text.contains('(') {
            return Err("the scope between the parentheses is empty or nested".into());
        }
        scope = Some(text);
        rest = &after[close + 1..];
    }
    let breaking = match rest.strip_prefix('!') {
        Some(after) => {
            rest = after;
            true
        }
        None => false,
    };
    let Some(after) = rest.strip_prefix(':') else {
        return Err(format!(
            "the type `{kind}`{} is not followed by `: `",
            if scope.is_some() { " and scope" } else { "" }
        ));
    };
    let Some(subject) = after.strip_prefix(' ') else {
        return Err("the colon is not followed by a space".into());
    };
    if subject.trim().is_empty() {
        return Err("there is no subject after the colon".into());
    }
    Ok(Conventional {
        kind,
        scope,
        breaking,
        subject: subject.trim(),
    })
}

/// Checks the title's form and length.
pub fn check_title(title: &str, cfg: &Config) -> Vec<Problem> {
    let title = title.trim();
    let mut problems = Vec::new();
    match &cfg.title {
        TitleRule::Free => {}
        TitleRule::Conventional {
            types,
            scopes,
            require_scope,
        } => {
            if let Some(what) = conventional_problem(title, types, scopes, *require_scope) {
                problems.push(Problem {
                    check: Check::TitleForm,
                    what,
                    fix: conventional_fix(types, scopes, *require_scope),
                });
            }
        }
        TitleRule::Pattern { pattern, example } => {
            if !wildcard_match(pattern, title) {
                let mut fix = format!(
                    "Edit the title to match `{}` (`*` is any text, `?` one character).",
                    code(pattern)
                );
                if let Some(example) = example {
                    fix.push_str(&format!(" For example: `{}`.", code(example)));
                }
                problems.push(Problem {
                    check: Check::TitleForm,
                    what: format!("`{}` does not match the title pattern.", code(title)),
                    fix,
                });
            }
        }
    }
    let length = title.chars().count();
    if let Some(max) = cfg.max_title_length
        && length > max
    {
        problems.push(Problem {
            check: Check::TitleLength,
            what: format!("The title is {length} characters long; the limit is {max}."),
            fix: "Shorten the title and move the details into the description.".into(),
        });
    }
    problems
}

fn conventional_problem(
    title: &str,
    types: &[String],
    scopes: &[String],
    require_scope: bool,
) -> Option<String> {
    let title_code = code(title);
    let parsed = match parse_conventional(title) {
        Ok(parsed) => parsed,
        Err(why) => {
            return Some(format!(
                "`{title_code}` does not follow Conventional Commits: {why}."
            ));
        }
    };
    if !types.iter().any(|t| t == parsed.kind) {
        let hint = types
            .iter()
            .find(|t| t.eq_ignore_ascii_case(parsed.kind))
            .map(|t| format!(" (types are written `{t}`)"))
            .unwrap_or_default();
        return Some(format!(
            "`{}` is not one of the allowed types{hint}.",
            code(parsed.kind)
        ));
    }
    match parsed.scope {
        None if require_scope => Some(format!("`{title_code}` has no scope.")),
        Some(scope) if !scopes.is_empty() && !scopes.iter().any(|s| s == scope.trim()) => Some(
            format!("`{}` is not one of the allowed scopes.", code(scope)),
        ),
        _ => None,
    }
}

fn conventional_fix(types: &[String], scopes: &[String], require_scope: bool) -> String {
    let kind = types.first().map_or("feat", String::as_str);
    let scope = scopes.first().map_or("parser", String::as_str);
    let list = |items: &[String]| {
        items
            .iter()
            .map(|i| format!("`{}`", code(i)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut fix = format!(
        "Write the title as `type(scope)!: subject`, for example `{kind}({scope}): add a \
         cache`.\n\n- types: {}\n",
        list(types)
    );
    if scopes.is_empty() {
        fix.push_str(if require_scope {
            "- the scope is required\n"
        } else {
            "- the scope is optional: `{kind}: add a cache`\n"
        });
        fix = fix.replace("{kind}", kind);
    } else {
        fix.push_str(&format!(
            "- scopes{}: {}\n",
            if require_scope { " (required)" } else { "" },
            list(scopes)
        ));
    }
    fix.push_str("- `!` before the colon marks a breaking change: `feat(api)!: drop v1`\n");
    fix
}

/// The description without HTML comments (a pull request template's
/// hints), as Markdown renders it away.
pub fn strip_comments(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start + 4..].find("-->") {
            Some(end) => rest = &rest[start + 4 + end + 3..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// Characters of the description that count: no HTML comments, no white
/// space.
pub fn description_length(body: &str) -> usize {
    strip_comments(body)
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

/// Checks the description's length.
pub fn check_description(body: &str, cfg: &Config) -> Option<Problem> {
    let min = cfg.min_description_length;
    let length = description_length(body);
    (min > 0 && length < min).then(|| Problem {
        check: Check::Description,
        what: if length == 0 {
            "The description is empty (HTML comments of the template do not count).".into()
        } else {
            format!("The description has {length} characters; at least {min} are needed.")
        },
        fix: "Edit the pull request's description: say what changes and why.".into(),
    })
}

/// Whether `text` links an issue, as `cfg` counts links.
pub fn links_issue(text: &str, cfg: &Config) -> bool {
    let text = strip_comments(text);
    let starts = boundaries(&text);
    if cfg.require_keyword {
        starts.iter().any(|&i| {
            let rest = &text[i..];
            cfg.issue_keywords.iter().any(|keyword| {
                let Some(head) = rest.get(..keyword.len()) else {
                    return false;
                };
                if !head.eq_ignore_ascii_case(keyword) {
                    return false;
                }
                let after = &rest[keyword.len()..];
                let gap = after
                    .find(|c: char| !(c.is_whitespace() || c == ':'))
                    .unwrap_or(after.len());
                gap > 0 && reference(&after[gap..], cfg)
            })
        })
    } else {
        starts.iter().any(|&i| reference(&text[i..], cfg))
    }
}

/// Byte offsets where a word may start: the beginning, and after any
/// character but a letter, digit, `_`, `&` (`&#123;` is an HTML entity) or
/// `/` (a URL's path).
fn boundaries(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut previous: Option<char> = None;
    for (i, c) in text.char_indices() {
        if let Some(p) = previous
            && !(p.is_alphanumeric() || matches!(p, '_' | '&' | '/' | '-' | '.'))
        {
            starts.push(i);
        }
        previous = Some(c);
    }
    starts
}

/// Whether `text` starts with an issue reference ending at a word end:
/// `#12`, `GH-12`, `owner/repo#12`, an `…/owner/repo/issues/12` URL, or
/// `KEY-12` for a configured project key.
fn reference(text: &str, cfg: &Config) -> bool {
    let digits_then_end = |s: &str| {
        let n = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        n > 0 && !s[n..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    };
    if let Some(rest) = text.strip_prefix('#') {
        return digits_then_end(rest);
    }
    let prefixed = |key: &str| {
        text.get(..key.len() + 1)
            .is_some_and(|head| head[..key.len()].eq_ignore_ascii_case(key) && head.ends_with('-'))
            && digits_then_end(&text[key.len() + 1..])
    };
    if prefixed("GH") || cfg.issue_prefixes.iter().any(|key| prefixed(key)) {
        return true;
    }
    for scheme in ["https://", "http://"] {
        if let Some(rest) = text.strip_prefix(scheme) {
            let parts: Vec<&str> = rest.splitn(5, '/').collect();
            return parts.len() == 5
                && !parts[0].is_empty()
                && !parts[1].is_empty()
                && !parts[2].is_empty()
                && parts[3] == "issues"
                && digits_then_end(parts[4]);
        }
    }
    // `owner/repo#12`
    let name = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.');
    let owner_end = text.find(|c: char| !name(c)).unwrap_or(text.len());
    if owner_end == 0 {
        return false;
    }
    let Some(after) = text[owner_end..].strip_prefix('/') else {
        return false;
    };
    let repo_end = after.find(|c: char| !name(c)).unwrap_or(after.len());
    repo_end > 0
        && after[repo_end..]
            .strip_prefix('#')
            .is_some_and(digits_then_end)
}

/// Checks for a linked issue in the title or description; `body` is
/// `None` when the event does not carry the description.
pub fn check_issue(title: &str, body: Option<&str>, cfg: &Config) -> Option<Problem> {
    if !cfg.require_issue || links_issue(title, cfg) || body.is_some_and(|b| links_issue(b, cfg)) {
        return None;
    }
    let mut examples = if cfg.require_keyword {
        let keyword = cfg.issue_keywords.first().map_or("fixes", String::as_str);
        vec![
            format!("`{keyword} #123`"),
            format!("`{keyword} owner/repo#123`"),
            format!("`{keyword} https://github.com/owner/repo/issues/123`"),
        ]
    } else {
        vec![
            "`#123`".to_string(),
            "`owner/repo#123`".into(),
            "`https://github.com/owner/repo/issues/123`".into(),
        ]
    };
    examples.extend(cfg.issue_prefixes.iter().map(|key| format!("`{key}-123`")));
    let mut fix = format!(
        "Link the issue this change is for in the description, e.g. {}.",
        examples.join(", ")
    );
    if cfg.require_keyword {
        let keywords: Vec<String> = cfg
            .issue_keywords
            .iter()
            .map(|k| format!("`{k}`"))
            .collect();
        fix.push_str(&format!(
            " The reference must follow one of: {}.",
            keywords.join(", ")
        ));
    }
    Some(Problem {
        check: Check::Issue,
        what: "No linked issue found.".into(),
        fix,
    })
}

/// Whether `pattern` (`*` any text, `?` one character) matches all of
/// `text`.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Text safe inside a Markdown code span.
pub fn code(text: &str) -> String {
    text.replace('`', "'").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use andon_pdk::parse_config;

    use super::*;
    use crate::config::RawConfig;

    fn config(json: &str) -> Config {
        let raw: RawConfig = parse_config(json).expect("valid json");
        Config::try_from(raw).expect("valid config")
    }

    #[test]
    fn conventional_titles() {
        let ok = |title: &str| parse_conventional(title).is_ok();
        assert!(ok("feat: add a cache"));
        assert!(ok("feat(parser): add a cache"));
        assert!(ok("feat(parser, lexer)!: drop v1"));
        assert!(ok("fix!: x"));
        let why = |title: &str| parse_conventional(title).err().unwrap_or_default();
        assert!(why("Add a cache").contains("not followed by `: `"));
        assert!(why(": x").contains("does not start with a type"));
        assert!(why("feat(parser: x").contains("not closed"));
        assert!(why("feat(): x").contains("empty"));
        assert!(why("feat:x").contains("not followed by a space"));
        assert!(why("feat:  ").contains("no subject"));
        assert!(why("feat (x): y").contains("not followed by `: `"));
        let parsed = parse_conventional("feat(api)!: drop v1").expect("valid");
        assert_eq!(
            parsed,
            Conventional {
                kind: "feat",
                scope: Some("api"),
                breaking: true,
                subject: "drop v1"
            }
        );
        // Odd text does not panic.
        for title in ["", "(", "é(ü)!:", "feat(é", "🦀: 🦀"] {
            let _ = parse_conventional(title);
        }
    }

    #[test]
    fn types_and_scopes() {
        let cfg = config(r#"{"scopes": ["api", "cli"], "require_scope": true}"#);
        let check = |title: &str| check_title(title, &cfg);
        assert!(check("feat(api): x").is_empty());
        assert!(check("Feat(api): x")[0].what.contains("written `feat`"));
        assert!(
            check("feature(api): x")[0]
                .what
                .contains("not one of the allowed types")
        );
        assert!(check("feat: x")[0].what.contains("has no scope"));
        assert!(check("feat(web): x")[0].what.contains("allowed scopes"));
        assert!(
            check("feat(web): x")[0]
                .fix
                .contains("`feat(api): add a cache`")
        );
    }

    #[test]
    fn title_length() {
        let long = format!("feat: {}", "x".repeat(70));
        let problems = check_title(&long, &Config::default());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].check, Check::TitleLength);
        assert!(check_title(&long, &config(r#"{"max_title_length": null}"#)).is_empty());
        assert!(check_title(&long, &config(r#"{"max_title_length": 0}"#)).is_empty());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("[*] *", "[core] fix it"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a?c*", "abcdef"));
        assert!(!wildcard_match("[*] *", "core: fix"));
        assert!(!wildcard_match("a", "ab"));
        let cfg = config(r#"{"title_pattern": "JIRA-* *", "title_example": "JIRA-1 fix it"}"#);
        let problems = check_title("fix it", &cfg);
        assert!(problems[0].fix.contains("For example: `JIRA-1 fix it`"));
        assert!(check_title("JIRA-12 fix it", &cfg).is_empty());
        assert!(check_title("anything", &config(r#"{"conventional": false}"#)).is_empty());
    }

    #[test]
    fn descriptions_without_template_comments() {
        let template = "<!-- Describe your change -->\n\n<!-- Link the issue\n -->\n  ";
        assert_eq!(description_length(template), 0);
        assert_eq!(description_length("a b <!-- x --> c <!-- unclosed"), 3);
        let cfg = Config::default();
        assert!(check_description(template, &cfg).is_some_and(|p| p.what.contains("empty")));
        assert!(check_description("Adds a cache.", &cfg).is_none());
        let strict = config(r#"{"min_description_length": 20}"#);
        let problem = check_description("Adds a cache.", &strict);
        assert!(problem.is_some_and(|p| p.what.contains("11 characters")));
        assert!(check_description("", &config(r#"{"min_description_length": 0}"#)).is_none());
    }

    #[test]
    fn issue_references() {
        let cfg = config(r#"{"require_issue": true, "issue_prefixes": ["ABC"]}"#);
        for text in [
            "#12",
            "see #12.",
            "Fixes octo/repo#3",
            "closes https://github.com/o/r/issues/1",
            "(GH-7)",
            "ABC-123: the ticket",
            "abc-9",
        ] {
            assert!(links_issue(text, &cfg), "{text}");
        }
        for text in [
            "",
            "#",
            "#abc",
            "&#123;",
            "issue 12",
            "https://github.com/o/r/pull/1",
            "<!-- Fixes #1 -->",
            "XABC-1",
            "ABC-",
            "a#1",
            "https://x.example/#12",
        ] {
            assert!(!links_issue(text, &cfg), "{text}");
        }
    }

    #[test]
    fn keywords_when_required() {
        let cfg = config(r#"{"require_issue": true, "require_keyword": true}"#);
        assert!(links_issue("Fixes #1", &cfg));
        assert!(links_issue("This RESOLVES: o/r#2", &cfg));
        assert!(links_issue("closes https://github.com/o/r/issues/1", &cfg));
        assert!(!links_issue("See #1", &cfg));
        assert!(!links_issue("fixes#1", &cfg));
        assert!(!links_issue("prefixes #1", &cfg));
        let custom = config(
            r#"{"require_issue": true, "require_keyword": true, "issue_keywords": ["Refs"]}"#,
        );
        assert!(links_issue("refs #4", &custom));
        assert!(!links_issue("fixes #4", &custom));
        let problem = check_issue("feat: x", Some("nothing"), &custom);
        assert!(problem.is_some_and(|p| p.fix.contains("`refs #123`")));
    }
}
