//! A change as the lines it adds and removes, wherever they live: two changes match when one
//! makes (nearly) all the line changes of the other, whatever paths the files have — so a fix
//! is recognised after the upstream moved its file, or folded it into a squash-merged PR.

use similar::{Algorithm, DiffOp, capture_diff_slices};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// At or above this share of its line changes made by another change, a change is contained.
pub const CONTAINED: f64 = 0.8;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineChanges {
    pub added: HashSet<u64>,
    pub removed: HashSet<u64>,
}

fn key(line: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(line);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Lone brackets and blank lines say nothing about which change this is.
    if collapsed.len() < 3 {
        return None;
    }
    let mut hasher = std::hash::DefaultHasher::new();
    collapsed.hash(&mut hasher);
    Some(hasher.finish())
}

impl LineChanges {
    /// Adds the line changes between two versions of one file.
    pub fn add_file(&mut self, old: &[u8], new: &[u8]) {
        let old_lines: Vec<&[u8]> = old.split(|&b| b == b'\n').collect();
        let new_lines: Vec<&[u8]> = new.split(|&b| b == b'\n').collect();
        for op in capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines) {
            if matches!(op, DiffOp::Equal { .. }) {
                continue;
            }
            self.removed
                .extend(old_lines[op.old_range()].iter().filter_map(|l| key(l)));
            self.added
                .extend(new_lines[op.new_range()].iter().filter_map(|l| key(l)));
        }
    }

    pub fn len(&self) -> usize {
        self.added.len() + self.removed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
            b"a = 1\nlimit = 100\nb = 2\n",
            b"a = 1\nlimit = 250\nb = 2\n",
        );
        let mut upstream = LineChanges::default();
        // Same fix, other file, with more changes around it (a squash-merged PR).
        upstream.add_file(
            b"x\n    limit = 100\ny = 3\n",
            b"x\n    limit = 250\ny = 4\n",
        );
        assert_eq!(fork.contained_in(&upstream), 1.0);
        assert!(upstream.contained_in(&fork) < CONTAINED);
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
