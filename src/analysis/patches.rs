//! A change as the lines it adds and removes, wherever they live: two changes match when one
//! makes (nearly) all the line changes of the other, whatever paths the files have — so a fix
//! is recognised after the upstream moved its file, or folded it into a squash-merged PR.

use similar::{Algorithm, DiffOp, capture_diff_slices};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// At or above this share of its line changes made by another change, a change is contained.
pub const CONTAINED: f64 = 0.8;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineChanges {
    pub added: HashSet<u64>,
    pub removed: HashSet<u64>,
    /// The block (class, function, literal) each changed line sits in, by key; lines at the
    /// top of a file have none. Review edits change a line of a PR, not where it is.
    pub blocks: HashMap<u64, u64>,
}

fn collapse(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn indent(line: &[u8]) -> usize {
    line.iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count()
}

/// A changed line together with where it sits: the chain of lines above it that are indented
/// less (its class, function, block or literal). The same line added to another class is
/// another change: `self._logger = logger` in one class does not settle it in a second, while
/// a fix that moved to another file with its function still matches.
fn key(line: &[u8], context: u64) -> Option<u64> {
    let collapsed = collapse(line);
    // Lone brackets and blank lines say nothing about which change this is.
    if collapsed.len() < 3 {
        return None;
    }
    let mut hasher = std::hash::DefaultHasher::new();
    collapsed.hash(&mut hasher);
    context.hash(&mut hasher);
    Some(hasher.finish())
}

/// For each line, a hash of its chain of enclosing lines (see [`key`]), in one pass.
fn contexts(lines: &[&[u8]]) -> Vec<u64> {
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut chain: Vec<u64> = Vec::with_capacity(lines.len());
    for (at, line) in lines.iter().enumerate() {
        let parent = if collapse(line).is_empty() {
            open.last().map(|&(_, i)| i)
        } else {
            let depth = indent(line);
            while open.last().is_some_and(|&(d, _)| d >= depth) {
                open.pop();
            }
            let parent = open.last().map(|&(_, i)| i);
            open.push((depth, at));
            parent
        };
        chain.push(match parent {
            Some(p) => {
                let mut hasher = std::hash::DefaultHasher::new();
                chain[p].hash(&mut hasher);
                collapse(lines[p]).hash(&mut hasher);
                hasher.finish()
            }
            None => 0,
        });
    }
    chain
}

/// Every line of a file as [`LineChanges`] keys it: what a later version still has.
pub fn line_keys(content: &[u8]) -> HashSet<u64> {
    let lines: Vec<&[u8]> = content.split(|&b| b == b'\n').collect();
    let context = contexts(&lines);
    lines
        .iter()
        .zip(context)
        .filter_map(|(line, context)| key(line, context))
        .collect()
}

impl LineChanges {
    /// Adds the line changes between two versions of one file.
    pub fn add_file(&mut self, old: &[u8], new: &[u8]) {
        let old_lines: Vec<&[u8]> = old.split(|&b| b == b'\n').collect();
        let new_lines: Vec<&[u8]> = new.split(|&b| b == b'\n').collect();
        let (old_context, new_context) = (contexts(&old_lines), contexts(&new_lines));
        for op in capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines) {
            if matches!(op, DiffOp::Equal { .. }) {
                continue;
            }
            for at in op.old_range() {
                if let Some(key) = key(old_lines[at], old_context[at]) {
                    self.removed.insert(key);
                    self.note_block(key, old_context[at]);
                }
            }
            for at in op.new_range() {
                if let Some(key) = key(new_lines[at], new_context[at]) {
                    self.added.insert(key);
                    self.note_block(key, new_context[at]);
                }
            }
        }
    }

    fn note_block(&mut self, key: u64, context: u64) {
        if context != 0 {
            self.blocks.insert(key, context);
        }
    }

    /// The blocks this change touched.
    pub fn touched_blocks(&self) -> HashSet<u64> {
        self.blocks.values().copied().collect()
    }

    pub fn len(&self) -> usize {
        self.added.len() + self.removed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How much of `other` this change explains: the share of `other`'s line changes it makes.
    pub fn explains(&self, other: &LineChanges) -> f64 {
        other.contained_in(self)
    }

    /// The share of this change's line changes that `other` makes too.
    pub fn contained_in(&self, other: &LineChanges) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        let shared = self.added.intersection(&other.added).count()
            + self.removed.intersection(&other.removed).count();
        shared as f64 / self.len() as f64
    }
}

/// `[9.2] Fix sync (#3973) (#3978)` → `fix sync`: what stays the same across backports.
pub fn normalized_subject(subject: &str) -> String {
    let mut text = subject.trim();
    if text.starts_with('[') {
        if let Some(end) = text.find(']') {
            let tag = &text[1..end];
            if tag.chars().all(|c| c.is_ascii_digit() || c == '.') {
                text = text[end + 1..].trim_start();
            }
        }
    }
    loop {
        let trimmed = text.trim_end();
        match trimmed.rfind("(#") {
            Some(at)
                if trimmed.ends_with(')')
                    && trimmed[at + 2..trimmed.len() - 1]
                        .chars()
                        .all(|c| c.is_ascii_digit()) =>
            {
                text = &trimmed[..at];
            }
            _ => break,
        }
    }
    text.trim().to_lowercase()
}

/// `(cherry picked from commit <id>)` trailers.
pub fn cherry_picked_from(message: &str) -> Vec<String> {
    message
        .lines()
        .filter_map(|l| l.trim().strip_prefix("(cherry picked from commit "))
        .filter_map(|rest| rest.strip_suffix(')'))
        .filter(|id| id.len() >= 7 && id.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_fix_is_contained_in_the_upstream_change() {
        let mut fork = LineChanges::default();
        fork.add_file(
            b"def settings():\n    a = 1\n    limit = 100\n",
            b"def settings():\n    a = 1\n    limit = 250\n",
        );
        let mut upstream = LineChanges::default();
        // Same fix, other file, with more changes around it (a squash-merged PR).
        upstream.add_file(
            b"import os\n\ndef settings():\n    limit = 100\ny = 3\n",
            b"import os\n\ndef settings():\n    limit = 250\ny = 4\n",
        );
        assert_eq!(fork.contained_in(&upstream), 1.0);
        assert!(upstream.contained_in(&fork) < CONTAINED);
    }

    #[test]
    fn the_same_line_in_another_class_is_another_change() {
        let mut fork = LineChanges::default();
        fork.add_file(
            b"class SecurityInfo:\n    def __init__(self, logger):\n        pass\n",
            b"class SecurityInfo:\n    def __init__(self, logger):\n        self._logger = logger\n",
        );
        let mut upstream = LineChanges::default();
        upstream.add_file(
            b"class Other:\n    def __init__(self, logger):\n        pass\n",
            b"class Other:\n    def __init__(self, logger):\n        self._logger = logger\n",
        );
        // Same function, same line: only the class around it tells them apart.
        assert_eq!(fork.contained_in(&upstream), 0.0);
    }

    #[test]
    fn subjects_lose_backport_prefixes_and_pr_numbers() {
        assert_eq!(
            normalized_subject("[9.2] Fix the sync (#3973) (#3978)"),
            "fix the sync"
        );
        assert_eq!(normalized_subject("Fix the sync (#3973)"), "fix the sync");
        assert_eq!(
            normalized_subject("[Jira] Fix the sync"),
            "[jira] fix the sync"
        );
        assert_eq!(
            cherry_picked_from("x\n\n(cherry picked from commit abcdef1234567)\n"),
            vec!["abcdef1234567"]
        );
    }
}
