//! Slash commands in pull request comments and review bodies: `/andon run
//! data-check`, `/andon rerun`, `/lgtm`, `/promote churn v1.3.0 prod`.
//!
//! A command is a line that starts with `/` at its very first column.
//! Lines inside fenced code blocks, quoted (`>`) lines, indented lines and
//! lines inside multi-line HTML comments are prose, not commands: quoting
//! someone's `/andon run deploy` in a reply must not run it again.

use serde::{Deserialize, Serialize};

use crate::workflow::{closest, edit_distance};

/// The subcommands of `/andon`, as users type them.
pub const ANDON_SUBCOMMANDS: [&str; 5] = ["run", "rerun", "help", "ok-to-test", "promote"];

/// One command found in a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandLine {
    /// 1-based line number in the comment.
    pub line: usize,
    /// The line as written (without a trailing `\r`).
    pub text: String,
    pub command: Command,
}

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Command {
    /// `/andon run NAME`: run the workflow whose comment command is `NAME`.
    /// Words after the name are ignored.
    Run { workflow: String },
    /// `/andon rerun`: run again what the latest event of the pull request
    /// ran.
    Rerun,
    /// `/andon help`: list the commands.
    Help,
    /// `/andon ok-to-test`: a maintainer allows workflows on a pull request
    /// from a fork or a first-time contributor.
    OkToTest,
    /// `/andon promote NAME VERSION STAGE`: assign a model version a stage
    /// in the registry (a GTO tag).
    Promote {
        model: String,
        version: String,
        stage: String,
    },
    /// `/NAME ARGS...`: a command declared by a workflow (`on.comment`) or a
    /// plugin; the worker resolves it.
    Custom { name: String, args: Vec<String> },
    /// An `/andon` line that is not one of its subcommands, with what the
    /// user probably meant (a full command line, such as `/andon rerun`).
    Unknown {
        text: String,
        suggestion: Option<String>,
    },
}

/// Every command in `body`, in order.
pub fn parse(body: &str) -> Vec<CommandLine> {
    let mut commands = Vec::new();
    let mut fence: Option<Fence> = None;
    let mut in_html_comment = false;
    for (index, raw) in body.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(open) = &fence {
            if open.is_closed_by(line) {
                fence = None;
            }
            continue;
        }
        if in_html_comment {
            in_html_comment = !line.contains("-->");
            continue;
        }
        if let Some(open) = Fence::opened_by(line) {
            fence = Some(open);
            continue;
        }
        if let Some(command) = command(line) {
            commands.push(CommandLine {
                line: index + 1,
                text: line.to_string(),
                command,
            });
        }
        in_html_comment = opens_html_comment(line);
    }
    commands
}

/// The known command closest to `name`, within edit distance 2, for a
/// "did you mean `/data-check`?" reply to a command nothing declares.
pub fn resolve_custom(name: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k.to_string())
}

/// The command on `line`, if the line is one.
fn command(line: &str) -> Option<Command> {
    let rest = line.strip_prefix('/')?;
    let mut words = rest.split_whitespace();
    let name = words.next()?;
    // The name must start right after the slash: `/ lgtm` is prose.
    if !rest.starts_with(name) || !is_command_name(name) {
        return None;
    }
    let args: Vec<&str> = words.collect();
    if name != "andon" {
        return Some(Command::Custom {
            name: name.to_string(),
            args: args.iter().map(ToString::to_string).collect(),
        });
    }
    let text = line.trim_end().to_string();
    Some(match args.as_slice() {
        ["run", workflow, ..] => Command::Run {
            workflow: (*workflow).to_string(),
        },
        ["run"] => Command::Unknown {
            text,
            suggestion: Some("/andon run <workflow>".into()),
        },
        ["rerun", ..] => Command::Rerun,
        ["help", ..] => Command::Help,
        ["ok-to-test", ..] => Command::OkToTest,
        ["promote", model, version, stage] => Command::Promote {
            model: (*model).to_string(),
            version: (*version).to_string(),
            stage: (*stage).to_string(),
        },
        ["promote", ..] => Command::Unknown {
            text,
            suggestion: Some("/andon promote <model> <version> <stage>".into()),
        },
        [] => Command::Unknown {
            text,
            suggestion: Some("/andon help".into()),
        },
        [other, ..] => Command::Unknown {
            text,
            suggestion: closest(other, &ANDON_SUBCOMMANDS).map(|s| format!("/andon {s}")),
        },
    })
}

/// Names are what workflows may declare: letters, digits, `-` and `_`,
/// starting with a letter or digit. This keeps paths (`/usr/bin`) and
/// punctuation (`/shrug!`) out.
fn is_command_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Whether an HTML comment opened on `line` is still open at its end.
fn opens_html_comment(line: &str) -> bool {
    line.rfind("<!--")
        .is_some_and(|start| !line[start + 4..].contains("-->"))
}

/// An open fenced code block: its character and length, as CommonMark
/// defines them.
struct Fence {
    marker: char,
    len: usize,
}

impl Fence {
    fn opened_by(line: &str) -> Option<Fence> {
        let (marker, len, rest) = fence_run(line)?;
        // An info string after backticks may not contain backticks.
        if marker == '`' && rest.contains('`') {
            return None;
        }
        Some(Fence { marker, len })
    }

    fn is_closed_by(&self, line: &str) -> bool {
        fence_run(line).is_some_and(|(marker, len, rest)| {
            marker == self.marker && len >= self.len && rest.trim().is_empty()
        })
    }
}

/// A run of at least three backticks or tildes after at most three spaces:
/// the character, the run's length and what follows it.
fn fence_run(line: &str) -> Option<(char, usize, &str)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = trimmed.len() - trimmed.trim_start_matches(marker).len();
    (len >= 3).then(|| (marker, len, &trimmed[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str, expected: &[(usize, Command)]) {
        let got: Vec<(usize, Command)> = parse(body)
            .into_iter()
            .map(|c| (c.line, c.command))
            .collect();
        assert_eq!(got, expected, "commands in:\n{body}");
    }

    fn custom(name: &str, args: &[&str]) -> Command {
        Command::Custom {
            name: name.into(),
            args: args.iter().map(ToString::to_string).collect(),
        }
    }

    fn unknown(text: &str, suggestion: Option<&str>) -> Command {
        Command::Unknown {
            text: text.into(),
            suggestion: suggestion.map(Into::into),
        }
    }

    #[test]
    fn andon_subcommands() {
        check(
            "/andon run data-check\n/andon rerun\r\n/andon help\n/andon ok-to-test",
            &[
                (
                    1,
                    Command::Run {
                        workflow: "data-check".into(),
                    },
                ),
                (2, Command::Rerun),
                (3, Command::Help),
                (4, Command::OkToTest),
            ],
        );
    }

    #[test]
    fn unknown_andon_subcommands_suggest_the_closest() {
        check(
            "/andon rerum\n/andon run\n/andon\n/andon xyzzy\n/andon hlep me",
            &[
                (1, unknown("/andon rerum", Some("/andon rerun"))),
                (2, unknown("/andon run", Some("/andon run <workflow>"))),
                (3, unknown("/andon", Some("/andon help"))),
                (4, unknown("/andon xyzzy", None)),
                (5, unknown("/andon hlep me", Some("/andon help"))),
            ],
        );
    }

    #[test]
    fn other_slash_words_are_custom_commands() {
        check(
            "LGTM overall.\n/lgtm\n/promote churn  v1.3.0 prod\n/data-check",
            &[
                (2, custom("lgtm", &[])),
                (3, custom("promote", &["churn", "v1.3.0", "prod"])),
                (4, custom("data-check", &[])),
            ],
        );
    }

    #[test]
    fn prose_is_not_a_command() {
        let body = [
            " /andon run indented",
            "> /andon run quoted",
            "text /andon run inline",
            "/ andon run spaced",
            "/usr/bin/env is a path",
            "/shrug!",
            "/",
            "",
            "```",
            "/andon run fenced",
            "```",
            "~~~~ text",
            "/andon run tilde-fenced",
            "~~~",
            "~~~~",
            "<!--",
            "/andon run hidden",
            "-->",
            "/andon run after",
        ]
        .join("\n");
        check(
            &body,
            &[(
                19,
                Command::Run {
                    workflow: "after".into(),
                },
            )],
        );
    }

    #[test]
    fn an_unclosed_fence_runs_to_the_end() {
        check("```rust\n/andon rerun\n``", &[]);
        check(
            "```\n/andon rerun\n````\n/andon help",
            &[(4, Command::Help)],
        );
    }

    #[test]
    fn custom_typos_resolve_within_two_edits() {
        let known = ["data-check", "lgtm", "promote"];
        assert_eq!(
            resolve_custom("data-chek", &known).as_deref(),
            Some("data-check")
        );
        assert_eq!(resolve_custom("lgmt", &known).as_deref(), Some("lgtm"));
        assert_eq!(resolve_custom("deploy", &known), None);
        assert_eq!(resolve_custom("x", &[]), None);
    }

    #[test]
    fn odd_input_never_panics() {
        for body in [
            "/",
            "/\u{0}",
            "/é",
            "/andon é",
            "```",
            "<!--",
            "/a<!--",
            "\r",
            "\r\n/x\r",
            "   ```",
            "/andon run é\u{301}",
        ] {
            let _ = parse(body);
        }
        let long = "/andon ".repeat(10_000);
        assert_eq!(parse(&long).len(), 1);
    }
}
