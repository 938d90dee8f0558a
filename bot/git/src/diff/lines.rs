//! The line diff of two versions of a text file.

use andon_core::change::AddedLine;
use gix::diff::blob::{Algorithm, Diff, InternedInput};

/// Like git, a NUL byte this early in either side makes a file binary.
const BINARY_PROBE_BYTES: usize = 8000;

pub(super) fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(BINARY_PROBE_BYTES)].contains(&0)
}

/// Line counts and added lines of one text file.
pub(super) struct LineDiff {
    pub(super) added: u32,
    pub(super) removed: u32,
    /// Numbered in the new version, in order.
    pub(super) lines: Vec<AddedLine>,
}

/// Myers with git's indent heuristic, so the counts match
/// `git diff --numstat` and the added lines are the ones `git diff` shows.
/// A changed or missing final newline changes the last line, as in git.
pub(super) fn diff(old: &[u8], new: &[u8]) -> LineDiff {
    let input = InternedInput::new(old, new);
    let mut diff = Diff::compute(Algorithm::Myers, &input);
    diff.postprocess_lines(&input);
    let added = diff.count_additions();
    let mut lines = Vec::with_capacity(added as usize);
    for hunk in diff.hunks() {
        for index in hunk.after {
            let token = input.after[index as usize];
            lines.push(AddedLine {
                line: index + 1,
                text: line_text(input.interner[token]),
            });
        }
    }
    LineDiff {
        added,
        removed: diff.count_removals(),
        lines,
    }
}

/// A line without its terminator (`\n` or `\r\n`), invalid UTF-8 replaced.
fn line_text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}
