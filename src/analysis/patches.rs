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

/// A line still open above the next: its indent, its own chain hash and its collapsed text.
#[derive(Clone, Copy)]
struct Open {
    depth: usize,
    chain: u64,
    collapsed: u64,
}

impl Open {
    /// The chain hash of a line whose nearest enclosing line this is.
    fn child_chain(&self) -> u64 {
        mix(self.chain, self.collapsed)
    }
}

/// For each line, a hash of its chain of enclosing lines (see [`key`]), in one pass. `open` are
/// the enclosing lines still open above the first line (outermost first): a line's parent is
/// the nearest significant line above it with a smaller indent (for a blank line: the nearest
/// significant line).
fn contexts(lines: &[&[u8]], digests: &[Line], mut open: Vec<Open>) -> Vec<u64> {
    let mut chain: Vec<u64> = Vec::with_capacity(lines.len());
    for (at, line) in lines.iter().enumerate() {
        let own = if digests[at].significant == 0 {
            open.last().map_or(0, Open::child_chain)
        } else {
            let depth = indent(line);
            while open.last().is_some_and(|o| o.depth >= depth) {
                open.pop();
            }
            let own = open.last().map_or(0, Open::child_chain);
            open.push(Open {
                depth,
                chain: own,
                collapsed: digests[at].collapsed,
            });
            own
        };
        chain.push(own);
    }
    chain
}

/// The lines still open where `text[..end]` stops (`end` starts a line): the last significant
/// line above and its enclosing lines, outermost first, found by reading upwards only as far
/// as the outermost of them.
fn open_above(text: &[u8], end: usize) -> Vec<Open> {
    let mut found: Vec<(usize, Line)> = Vec::new();
    let mut limit = usize::MAX;
    let mut stop = end;
    while stop > 0 && limit > 0 {
        let line_end = stop - 1;
        let start = text[..line_end]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        let line = &text[start..line_end];
        let digest = Line::of(line);
        let depth = indent(line);
        if digest.significant > 0 && depth < limit {
            found.push((depth, digest));
            limit = depth;
        }
        stop = start;
    }
    let mut open: Vec<Open> = Vec::with_capacity(found.len());
    for (depth, digest) in found.into_iter().rev() {
        let chain = open.last().map_or(0, Open::child_chain);
        open.push(Open {
            depth,
            chain,
            collapsed: digest.collapsed,
        });
    }
    open
}

/// The net change of commits applied in order: a line added and removed again is no change.
pub fn compose<'a>(changes: impl IntoIterator<Item = &'a LineChanges>) -> LineChanges {
    let mut net = LineChanges::default();
    for change in changes {
        net.blocks
            .extend(change.blocks.iter().map(|(k, b)| (*k, *b)));
        for key in &change.removed {
            if !net.added.remove(key) {
                net.removed.insert(*key);
            }
        }
        for key in &change.added {
            if !net.removed.remove(key) {
                net.added.insert(*key);
            }
        }
    }
    net
}

/// Where two versions of a file stop sharing whole lines: the middle `old[start..old_end]`
/// against `new[start..new_end]`, where `start` is 0 or follows a newline, and each end is the
/// version's length or sits on a newline both versions share with everything after it. Split
/// at newlines, the prefix, the middle and the suffix give the whole file's lines.
fn common_ends(old: &[u8], new: &[u8]) -> (usize, usize, usize) {
    let same = common_prefix(old, new);
    let start = old[..same]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    let (old_rest, new_rest) = (&old[start..], &new[start..]);
    let shared = common_suffix(old_rest, new_rest);
    // The suffix's lines begin after a newline inside the shared bytes.
    match old_rest[old_rest.len() - shared..]
        .iter()
        .position(|&b| b == b'\n')
    {
        Some(at) => {
            let cut = shared - at;
            (start, old.len() - cut, new.len() - cut)
        }
        None => (start, old.len(), new.len()),
    }
}

/// Length of the common prefix, compared a block at a time (slice equality is `memcmp`).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let limit = a.len().min(b.len());
    let mut at = 0;
    while at + BLOCK <= limit && a[at..at + BLOCK] == b[at..at + BLOCK] {
        at += BLOCK;
    }
    at + a[at..limit]
        .iter()
        .zip(&b[at..limit])
        .take_while(|(x, y)| x == y)
        .count()
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let limit = a.len().min(b.len());
    let (a_end, b_end) = (a.len(), b.len());
    let mut at = 0;
    while at + BLOCK <= limit
        && a[a_end - at - BLOCK..a_end - at] == b[b_end - at - BLOCK..b_end - at]
    {
        at += BLOCK;
    }
    at + a[..a_end - at]
        .iter()
        .rev()
        .zip(b[..b_end - at].iter().rev())
        .take(limit - at)
        .take_while(|(x, y)| x == y)
        .count()
}

/// A line with every whitespace byte left out, as git's patch-id reads it.
fn stripped(line: &[u8]) -> u64 {
    line.iter()
        .filter(|b| !b.is_ascii_whitespace())
        .fold(FNV_OFFSET, |hash, &byte| fnv(hash, byte))
}

/// A digest of a commit's patch from its files' digests ([`LineChanges::add_file`]'s, by
/// path; None for a binary file): the removed and added lines of each file in order,
/// whitespace left out, paths in any order. Two commits with the same git patch-id have the
/// same digest (barring a diff that aligns two equal edits of different bases differently),
/// so only pairs with equal digests need git's patch-id — which also reads context lines,
/// binary files and modes, all left out here.
pub fn patch_digest<'a>(files: impl IntoIterator<Item = (&'a str, Option<u64>)>) -> u64 {
    files
        .into_iter()
        .map(|(path, file)| {
            let path = path.bytes().fold(FNV_OFFSET, fnv);
            mix(path, file.unwrap_or(0))
        })
        .fold(0u64, u64::wrapping_add)
}

/// Every line of a file as [`LineChanges`] keys it: what a later version still has.
pub fn line_keys(content: &[u8]) -> HashSet<u64> {
    let lines: Vec<&[u8]> = content.split(|&b| b == b'\n').collect();
    let digests: Vec<Line> = lines.iter().map(|l| Line::of(l)).collect();
    let context = contexts(&lines, &digests, Vec::new());
    digests
        .into_iter()
        .zip(context)
        .filter_map(|(line, context)| key(line, context))
        .collect()
}

impl LineChanges {
    /// Adds the line changes between two versions of one file, and returns a digest of the
    /// file's patch (see [`patch_digest`]).
    pub fn add_file(&mut self, old: &[u8], new: &[u8]) -> u64 {
        let mut patch = FNV_OFFSET;
        if old == new {
            return patch;
        }
        // Most commits change a few lines of a long file: the lines both versions share at the
        // start and at the end are no change, and are skipped at memory speed before any line
        // is hashed. Only whole lines are skipped, and the diff of the rest is the diff of the
        // whole (the diff itself first strips the common lines at both ends).
        let (start, old_end, new_end) = common_ends(old, new);
        let old_middle = &old[start..old_end];
        let new_middle = &new[start..new_end];
        let old_lines: Vec<&[u8]> = old_middle.split(|&b| b == b'\n').collect();
        let new_lines: Vec<&[u8]> = new_middle.split(|&b| b == b'\n').collect();
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
            for at in op.old_range() {
                patch = mix(fnv(patch, b'-'), stripped(old_lines[at]));
            }
            for at in op.new_range() {
                patch = mix(fnv(patch, b'+'), stripped(new_lines[at]));
            }
            if !op.old_range().is_empty() {
                let context = contexts_of.0.get_or_insert_with(|| {
                    contexts(&old_lines, &old_digests, open_above(old, start))
                });
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
                let context = contexts_of.1.get_or_insert_with(|| {
                    contexts(&new_lines, &new_digests, open_above(new, start))
                });
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
        patch
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

    /// [`LineChanges::add_file`] as it reads without skipping the shared ends: every line
    /// hashed, the whole file diffed, every line's context from the top.
    fn add_whole_file(changes: &mut LineChanges, old: &[u8], new: &[u8]) {
        let old_lines: Vec<&[u8]> = old.split(|&b| b == b'\n').collect();
        let new_lines: Vec<&[u8]> = new.split(|&b| b == b'\n').collect();
        let old_digests: Vec<Line> = old_lines.iter().map(|l| Line::of(l)).collect();
        let new_digests: Vec<Line> = new_lines.iter().map(|l| Line::of(l)).collect();
        let old_raw: Vec<u64> = old_digests.iter().map(|l| l.raw).collect();
        let new_raw: Vec<u64> = new_digests.iter().map(|l| l.raw).collect();
        let old_context = contexts(&old_lines, &old_digests, Vec::new());
        let new_context = contexts(&new_lines, &new_digests, Vec::new());
        for op in capture_diff_slices(Algorithm::Myers, &old_raw, &new_raw) {
            for at in op.old_range() {
                if matches!(op, DiffOp::Equal { .. }) {
                    break;
                }
                if let Some(key) = key(old_digests[at], old_context[at]) {
                    changes.removed.insert(key);
                    if old_context[at] != 0 {
                        changes.blocks.insert(key, old_context[at]);
                    }
                }
            }
            for at in op.new_range() {
                if matches!(op, DiffOp::Equal { .. }) {
                    break;
                }
                if let Some(key) = key(new_digests[at], new_context[at]) {
                    changes.added.insert(key);
                    if new_context[at] != 0 {
                        changes.blocks.insert(key, new_context[at]);
                    }
                }
            }
        }
    }

    #[test]
    fn a_patch_digest_is_the_edit_whatever_the_base_and_the_whitespace() {
        let digest =
            |old: &str, new: &str| LineChanges::default().add_file(old.as_bytes(), new.as_bytes());
        let fix = digest("a\nb\nlimit = 10\nc\n", "a\nb\nlimit = 20\nc\n");
        // The same edit on another version of the file, and with other indentation.
        assert_eq!(
            fix,
            digest("x\ny\nz\nlimit = 10\n", "x\ny\nz\nlimit = 20\n")
        );
        assert_eq!(fix, digest("  limit =10\n", "  limit= 20\n"));
        assert_ne!(fix, digest("limit = 10\n", "limit = 30\n"));
        assert_ne!(fix, digest("limit = 20\n", "limit = 10\n"));
        let commit = |files: &[(&str, Option<u64>)]| patch_digest(files.iter().copied());
        assert_eq!(
            commit(&[("a.go", Some(fix)), ("b.go", None)]),
            commit(&[("b.go", None), ("a.go", Some(fix))])
        );
        assert_ne!(
            commit(&[("a.go", Some(fix))]),
            commit(&[("b.go", Some(fix))])
        );
    }

    #[test]
    fn skipping_the_shared_ends_changes_nothing() {
        // A small generator (xorshift) of indented files and edits of them: repeated lines,
        // blank lines, files with and without a final newline, edits at the very ends.
        let mut next = crate::test_support::xorshift(0x9e37_79b9_7f4a_7c15);
        let words = [
            "fn a() {", "x = 1", "}", "", "  ", "if y:", "return", "x = 1 ",
        ];
        let file = |next: &mut dyn FnMut(usize) -> usize| -> Vec<Vec<u8>> {
            (0..next(30))
                .map(|_| {
                    let mut line = " ".repeat(next(4) * 2).into_bytes();
                    line.extend_from_slice(words[next(words.len())].as_bytes());
                    line
                })
                .collect()
        };
        for round in 0..5_000 {
            let old_lines = file(&mut next);
            let mut new_lines = old_lines.clone();
            for _ in 0..=next(3) {
                let at = next(new_lines.len() + 1);
                match next(3) {
                    0 if at < new_lines.len() => {
                        new_lines.remove(at);
                    }
                    1 if at < new_lines.len() => new_lines[at].push(b'!'),
                    _ => new_lines.insert(at, file(&mut next).concat()),
                }
            }
            let join = |lines: &[Vec<u8>], end: bool| {
                let mut text = lines.join(&b'\n');
                if end {
                    text.push(b'\n');
                }
                text
            };
            let (old, new) = (
                join(&old_lines, next(2) == 0),
                join(&new_lines, next(2) == 0),
            );
            let mut fast = LineChanges::default();
            fast.add_file(&old, &new);
            let mut whole = LineChanges::default();
            add_whole_file(&mut whole, &old, &new);
            assert_eq!(
                fast,
                whole,
                "round {round}:\n{}\n---\n{}",
                String::from_utf8_lossy(&old),
                String::from_utf8_lossy(&new)
            );
        }
    }

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
