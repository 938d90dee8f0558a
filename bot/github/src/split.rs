//! Splitting a comment body into parts that each fit GitHub's size limit,
//! every part starting with its own header line (the hidden marker).
//!
//! Parts break at line ends; a line longer than a whole part is cut at a
//! character boundary. A ``` code block open at a break is closed at the
//! end of the part and reopened (with its info string) in the next, so
//! every part renders on its own.

/// GitHub's largest comment body, in characters.
pub(crate) const COMMENT_LIMIT: usize = 65_536;

/// Reopening lines longer than this carry only the backticks: the info
/// string is cosmetic and must not eat the next part.
const MAX_REOPEN: usize = 100;

/// `body` as parts of at most `limit` characters each, header line
/// included; `header(i)` is the first line of part `i` (from 1).
pub(crate) fn split(body: &str, limit: usize, header: impl Fn(usize) -> String) -> Vec<String> {
    let mut splitter = Splitter {
        limit,
        header,
        parts: Vec::new(),
        current: String::new(),
        used: 0,
        has_content: false,
        fence: None,
    };
    splitter.start_part();
    for line in body.split_inclusive('\n') {
        splitter.push_line(line);
    }
    splitter.parts.push(splitter.current);
    splitter.parts
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Fence {
    /// Backticks in the opening line; the closing line needs as many.
    ticks: usize,
    /// The line that reopens the block in the next part.
    opener: String,
}

struct Splitter<H> {
    limit: usize,
    header: H,
    parts: Vec<String>,
    /// The part being filled, header included.
    current: String,
    /// Characters in `current`.
    used: usize,
    /// Whether `current` holds any of the body yet (beyond a reopened fence).
    has_content: bool,
    /// The code block open at the end of `current`.
    fence: Option<Fence>,
}

impl<H: Fn(usize) -> String> Splitter<H> {
    fn start_part(&mut self) {
        self.current = (self.header)(self.parts.len() + 1);
        self.current.push('\n');
        if let Some(fence) = &self.fence {
            self.current.push_str(&fence.opener);
            self.current.push('\n');
        }
        self.used = self.current.chars().count();
        self.has_content = false;
    }

    /// Ends the current part (closing an open code block) and starts the next.
    fn break_part(&mut self) {
        if let Some(fence) = &self.fence {
            if !self.current.ends_with('\n') {
                self.current.push('\n');
            }
            self.current.push_str(&"`".repeat(fence.ticks));
        }
        self.parts.push(std::mem::take(&mut self.current));
        self.start_part();
    }

    /// Characters still free, keeping room to close `fence` if needed.
    fn room(&self, fence: Option<&Fence>) -> usize {
        let reserve = fence.map_or(0, |fence| fence.ticks + 1);
        self.limit.saturating_sub(self.used + reserve)
    }

    fn append(&mut self, text: &str, chars: usize) {
        self.current.push_str(text);
        self.used += chars;
        self.has_content = true;
    }

    fn push_line(&mut self, line: &str) {
        let after = fence_after(self.fence.as_ref(), line);
        let mut rest = line;
        loop {
            let chars = rest.chars().count();
            if chars <= self.room(after.as_ref()) {
                self.append(rest, chars);
                self.fence = after;
                return;
            }
            if self.has_content {
                self.break_part();
                continue;
            }
            // Longer than an empty part: cut it. Take at least one character
            // so that even an absurdly small limit makes progress.
            let room = self.room(self.fence.as_ref()).max(1);
            let cut = rest.char_indices().nth(room).map_or(rest.len(), |(i, _)| i);
            let (head, tail) = rest.split_at(cut);
            self.append(head, room.min(chars));
            rest = tail;
            self.break_part();
        }
    }
}

/// Whether a code block is open after `line`, given the one open before.
fn fence_after(open: Option<&Fence>, line: &str) -> Option<Fence> {
    let text = line.trim_end_matches(['\n', '\r']).trim_start_matches(' ');
    let ticks = text.chars().take_while(|&c| c == '`').count();
    match open {
        None if ticks >= 3 => {
            let opener = if text.chars().count() <= MAX_REOPEN {
                text.to_owned()
            } else {
                "`".repeat(ticks)
            };
            Some(Fence { ticks, opener })
        }
        None => None,
        Some(fence) if ticks >= fence.ticks && text[ticks..].trim().is_empty() => None,
        Some(fence) => Some(fence.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(i: usize) -> String {
        format!("<!-- part {i} -->")
    }

    fn parts(body: &str, limit: usize) -> Vec<String> {
        let parts = split(body, limit, header);
        for (i, part) in parts.iter().enumerate() {
            assert!(
                part.chars().count() <= limit,
                "part {} has {} chars",
                i + 1,
                part.chars().count()
            );
            assert!(part.starts_with(&format!("{}\n", header(i + 1))), "{part}");
        }
        parts
    }

    /// The parts without their header lines, joined.
    fn joined(parts: &[String]) -> String {
        parts
            .iter()
            .map(|part| part.split_once('\n').map_or("", |(_, rest)| rest))
            .collect()
    }

    #[test]
    fn a_short_body_is_one_part() {
        assert_eq!(
            parts("hello\nworld", 100),
            ["<!-- part 1 -->\nhello\nworld"]
        );
        assert_eq!(parts("", 100), ["<!-- part 1 -->\n"]);
    }

    #[test]
    fn a_body_exactly_at_the_limit_is_one_part() {
        let body = "x".repeat(100 - "<!-- part 1 -->\n".len());
        assert_eq!(parts(&body, 100).len(), 1);
        assert_eq!(parts(&format!("{body}y"), 100).len(), 2);
    }

    #[test]
    fn parts_break_at_line_ends() {
        let body: String = (0..40)
            .map(|i| format!("line {i:02} {}\n", "-".repeat(20)))
            .collect();
        let parts = parts(&body, 200);
        assert!(parts.len() > 1);
        for part in &parts {
            assert!(part.ends_with('\n'), "{part:?}");
        }
        assert_eq!(joined(&parts), body);
    }

    #[test]
    fn a_huge_line_is_cut_between_characters() {
        let body = "é😀x".repeat(500);
        let parts = parts(&body, 120);
        assert!(parts.len() > 10);
        assert_eq!(joined(&parts), body);
    }

    #[test]
    fn an_open_code_block_is_closed_and_reopened() {
        let code: String = (0..30).map(|i| format!("let x{i} = {i};\n")).collect();
        let body = format!("Intro\n```rust\n{code}```\nOutro\n");
        let parts = parts(&body, 150);
        assert!(parts.len() > 2, "{parts:#?}");
        for part in &parts {
            let fences = part.lines().filter(|l| l.starts_with("```")).count();
            assert_eq!(fences % 2, 0, "unbalanced: {part}");
        }
        assert!(
            parts[1].starts_with("<!-- part 2 -->\n```rust\n"),
            "{}",
            parts[1]
        );
        assert!(parts[0].ends_with("\n```"), "{}", parts[0]);
        // Without the repairs, the parts are the body.
        let mut rebuilt = String::new();
        for (i, part) in parts.iter().enumerate() {
            let mut content = part.split_once('\n').map_or("", |(_, rest)| rest);
            if i > 0 {
                content = content.strip_prefix("```rust\n").unwrap_or(content);
            }
            if i + 1 < parts.len() {
                content = content.strip_suffix("```").unwrap_or(content);
            }
            rebuilt.push_str(content);
        }
        assert_eq!(rebuilt, body);
    }

    #[test]
    fn longer_fences_close_only_with_as_many_backticks() {
        let body = format!("````md\n```\ninner\n```\n{}````\nafter\n", "z\n".repeat(60));
        let parts = parts(&body, 80);
        assert!(parts.len() > 1);
        assert!(
            parts[1].starts_with("<!-- part 2 -->\n````md\n"),
            "{}",
            parts[1]
        );
        assert!(parts[0].ends_with("````"), "{}", parts[0]);
    }

    #[test]
    fn an_unclosed_block_at_the_end_stays_as_written() {
        let parts = parts("```\nno end", 100);
        assert_eq!(parts, ["<!-- part 1 -->\n```\nno end"]);
    }

    #[test]
    fn a_real_sized_body_fills_few_parts() {
        let body = "a line of a long report\n".repeat(6_000);
        let parts = parts(&body, COMMENT_LIMIT);
        assert_eq!(parts.len(), 3);
        assert_eq!(joined(&parts), body);
    }
}
