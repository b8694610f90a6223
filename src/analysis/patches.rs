//! A change as the lines it adds and removes, wherever they live: two changes match when one
//! makes (nearly) all the line changes of the other, whatever paths the files have — so a fix
//! is recognised after the upstream moved its file, or folded it into a squash-merged PR.

use similar::{Algorithm, DiffOp, capture_diff_slices};
use std::collections::{HashMap, HashSet};

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

/// One line, hashed in one pass without allocating: as it is (for the diff), and with its
/// whitespace collapsed (for the keys), since matching runs over every line of every file a
/// fork's commits and their upstream candidates touched.
#[derive(Clone, Copy)]
struct Line {
    raw: u64,
    collapsed: u64,
    /// Length of the line with its whitespace collapsed.
    significant: usize,
}

/// FNV-1a: the keys only meet other keys of the same run, so any stable hash does, and this one
/// is several times cheaper than SipHash on short lines.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(hash: u64, byte: u8) -> u64 {
    (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
}

fn mix(a: u64, b: u64) -> u64 {
    b.to_le_bytes().into_iter().fold(a, fnv)
}

impl Line {
    fn of(bytes: &[u8]) -> Line {
        let mut raw = FNV_OFFSET;
        let mut collapsed = FNV_OFFSET;
        let mut significant = 0;
        let mut gap = false;
        for &byte in bytes {
            raw = fnv(raw, byte);
            if byte.is_ascii_whitespace() {
                gap = significant > 0;
                continue;
            }
            if gap {
                collapsed = fnv(collapsed, b' ');
                significant += 1;
                gap = false;
            }
            collapsed = fnv(collapsed, byte);
            significant += 1;
        }
        Line {
            raw,
            collapsed,
            significant,
        }
    }
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
fn key(line: Line, context: u64) -> Option<u64> {
    // Lone brackets and blank lines say nothing about which change this is.
    (line.significant >= 3).then(|| mix(line.collapsed, context))
}

/// For each line, a hash of its chain of enclosing lines (see [`key`]), in one pass.
fn contexts(lines: &[&[u8]], digests: &[Line]) -> Vec<u64> {
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut chain: Vec<u64> = Vec::with_capacity(lines.len());
    for (at, line) in lines.iter().enumerate() {
        let parent = if digests[at].significant == 0 {
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
            Some(p) => mix(chain[p], digests[p].collapsed),
            None => 0,
        });
    }
    chain
}

/// Every line of a file as [`LineChanges`] keys it: what a later version still has.
pub fn line_keys(content: &[u8]) -> HashSet<u64> {
    let lines: Vec<&[u8]> = content.split(|&b| b == b'\n').collect();
    let digests: Vec<Line> = lines.iter().map(|l| Line::of(l)).collect();
    let context = contexts(&lines, &digests);
    digests
        .into_iter()
        .zip(context)
        .filter_map(|(line, context)| key(line, context))
        .collect()
}

impl LineChanges {
    /// Adds the line changes between two versions of one file.
    pub fn add_file(&mut self, old: &[u8], new: &[u8]) {
        let old_lines: Vec<&[u8]> = old.split(|&b| b == b'\n').collect();
        let new_lines: Vec<&[u8]> = new.split(|&b| b == b'\n').collect();
        let old_digests: Vec<Line> = old_lines.iter().map(|l| Line::of(l)).collect();
        let new_digests: Vec<Line> = new_lines.iter().map(|l| Line::of(l)).collect();
        // The diff compares the lines' hashes: integers, not byte strings.
        let old_raw: Vec<u64> = old_digests.iter().map(|l| l.raw).collect();
        let new_raw: Vec<u64> = new_digests.iter().map(|l| l.raw).collect();
        let mut contexts_of = (None, None);
        for op in capture_diff_slices(Algorithm::Myers, &old_raw, &new_raw) {
            if matches!(op, DiffOp::Equal { .. }) {
                continue;
            }
            if !op.old_range().is_empty() {
                let context = contexts_of
                    .0
                    .get_or_insert_with(|| contexts(&old_lines, &old_digests));
                for at in op.old_range() {
                    if let Some(key) = key(old_digests[at], context[at]) {
                        self.removed.insert(key);
                        if context[at] != 0 {
                            self.blocks.insert(key, context[at]);
                        }
                    }
                }
            }
            if !op.new_range().is_empty() {
                let context = contexts_of
                    .1
                    .get_or_insert_with(|| contexts(&new_lines, &new_digests));
                for at in op.new_range() {
                    if let Some(key) = key(new_digests[at], context[at]) {
                        self.added.insert(key);
                        if context[at] != 0 {
                            self.blocks.insert(key, context[at]);
                        }
                    }
                }
            }
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
