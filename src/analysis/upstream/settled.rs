//! Which of the fork's changes upstream already has: own commits upstream already has, and
//! the files the upstream commits that have them touched.

use crate::analysis::attribution::ForkPaths;
use crate::analysis::conflicts::RawConflict;
use crate::error::Result;
use crate::facts::{CommitId, Facts, Objects, TreeId, Upstream};
use crate::model::{AlreadyUpstream, Change, short_id};
use std::collections::{HashMap, HashSet};

/// Own commits upstream already has, each with the paths the upstream commits that have it
/// touched. A commit of a squash-merged branch is upstream's, but its change to a file is
/// only where the squash touched that file: review can leave a file out of the PR (top-gg's
/// wiring of ErrorMonitor into sync_job_runner.py, which #2671 does not touch), and the
/// fork's change to it is still the fork's to carry. And only where the target has the
/// squash: an upgrade to a release branch that lacks it (top-gg's branch to 8.19) brings
/// none of it, and taking the target's side there would drop the fork's work.
#[derive(Debug, Clone, Default)]
pub struct Settled {
    /// Every own commit upstream has, on any upstream ref.
    commits: HashSet<CommitId>,
    /// The paths the target's copies of those commits touched.
    paths: HashMap<CommitId, HashSet<String>>,
    /// The upstream commit in the target that has each own commit.
    merged_as: HashMap<CommitId, MergedAs>,
    /// Paths whose fork lines in a conflict the target's copy of their work lacks.
    unsettled: HashSet<String>,
}

/// The upstream commit in the target that has some own commits.
#[derive(Debug, Clone)]
struct MergedAs {
    commit: String,
    subject: String,
    tree: Option<TreeId>,
}

impl Settled {
    pub fn new(facts: &Facts, already: &[AlreadyUpstream]) -> Settled {
        let upstream: HashMap<String, &Upstream> = facts
            .upstream
            .iter()
            .map(|u| (u.meta.id.to_string(), u))
            .collect();
        let mut commits = HashSet::new();
        let mut paths: HashMap<CommitId, HashSet<String>> = HashMap::new();
        let mut merged_as = HashMap::new();
        for entry in already {
            commits.extend(
                entry
                    .commits
                    .iter()
                    .filter_map(|id| id.parse::<CommitId>().ok()),
            );
            if !entry.in_target {
                continue;
            }
            let touched: HashSet<&String> = std::iter::once(&entry.upstream_commit)
                .chain(entry.also_in.iter().map(|a| &a.commit))
                .filter_map(|id| upstream.get(id))
                .flat_map(|u| u.paths.iter())
                .collect();
            let merged = MergedAs {
                commit: entry.upstream_commit.clone(),
                subject: entry.upstream_subject.clone(),
                tree: upstream.get(&entry.upstream_commit).map(|u| u.meta.tree),
            };
            for own in entry.commits.iter().filter_map(|id| id.parse().ok()) {
                paths
                    .entry(own)
                    .or_default()
                    .extend(touched.iter().map(|p| (*p).clone()));
                merged_as.entry(own).or_insert_with(|| merged.clone());
            }
        }
        Settled {
            commits,
            paths,
            merged_as,
            unsettled: HashSet::new(),
        }
    }

    /// The upstream commit in the target that has the own commit `id`, and its subject, when
    /// it leaves out the file known by `names`.
    pub fn left_out(&self, id: &CommitId, names: &[&str]) -> Option<(&str, &str)> {
        (self.touched(id, names) == Some(false))
            .then(|| self.merged_as(id))
            .flatten()
    }

    /// Whether the target's copy of the own commit `id` touched the file known by `names`;
    /// None when the target has no copy.
    fn touched(&self, id: &CommitId, names: &[&str]) -> Option<bool> {
        let paths = self.paths.get(id)?;
        Some(names.iter().any(|name| paths.contains(*name)))
    }

    /// The upstream commit in the target that has the own commit `id`, and its subject.
    pub fn merged_as(&self, id: &CommitId) -> Option<(&str, &str)> {
        self.merged_as
            .get(id)
            .map(|m| (m.commit.as_str(), m.subject.as_str()))
    }

    /// Upstream already has the own commit `id`, on some upstream ref.
    pub fn contains(&self, id: &CommitId) -> bool {
        self.commits.contains(id)
    }

    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }

    /// The target already has the own commit `id` in the file known by any of `names` (where
    /// the fork has it, where it was, where the target has it).
    pub fn has_in(&self, id: &CommitId, names: &[&str]) -> bool {
        !names.iter().any(|name| self.unsettled.contains(*name))
            && self.touched(id, names) == Some(true)
    }

    /// Takes back the paths whose conflicts hold fork lines the target's copy of the work
    /// lacks: "take the target's side" would drop them. A squash that took a file but not
    /// all of its code (top-gg's #2671 has config.py's error-monitor defaults, not the fork's
    /// `"extraction": {` block around them) leaves the fork that part. A note for each.
    pub fn confirm_conflicts(
        &mut self,
        facts: &Facts,
        objects: &dyn Objects,
        changes: &[Change],
        raw: &[RawConflict],
    ) -> Result<Vec<String>> {
        let fork_paths = ForkPaths::new(facts, changes);
        let mut notes = Vec::new();
        for conflict in raw.iter().filter(|c| c.ours.iter().any(|r| !r.is_empty())) {
            let fork_path = fork_paths.of(conflict);
            let names = [fork_path.as_str(), conflict.path.as_str()];
            let authors: Vec<&CommitId> = facts
                .own
                .iter()
                .filter(|c| c.parents.len() == 1)
                .filter(|c| {
                    facts
                        .touched
                        .get(&c.id)
                        .is_some_and(|paths| paths.contains(&fork_path))
                })
                .map(|c| &c.id)
                .collect();
            if authors.is_empty() || !authors.iter().all(|id| self.has_in(id, &names)) {
                continue;
            }
            let Some(ours) = fork_paths.ours(conflict) else {
                continue;
            };
            let Some(text) = objects.blob_if_present(ours)? else {
                continue;
            };
            let text = String::from_utf8_lossy(&text);
            let lines: Vec<&str> = text.lines().collect();
            let trees: HashSet<TreeId> = authors
                .iter()
                .filter_map(|id| self.merged_as.get(*id)?.tree)
                .collect();
            // Names, not lines: a PR branch's autoformat wraps a signature that upstream's
            // squash keeps on one line, and review changes values (`max_total_errors=1000`
            // merged as 500); a name the squash's file lacks is code it did not take.
            let words = |text: &str| -> Vec<String> {
                text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .filter(|w| w.starts_with(|c: char| c.is_alphabetic() || c == '_'))
                    .map(str::to_string)
                    .collect()
            };
            let mut merged: HashSet<String> = HashSet::new();
            for tree in trees {
                for name in names {
                    if let Some(blob) = objects.entry(tree, name)? {
                        let theirs = objects.blob_if_present(blob)?.unwrap_or_default();
                        merged.extend(words(&String::from_utf8_lossy(&theirs)));
                    }
                }
            }
            // Code only: a comment or docstring the review dropped (a PR's "add comments"
            // commit) is no work to keep, a setting is (a word of it the squash's file lacks).
            let is_code = |line: &str| {
                crate::analysis::fork_names::code_of(line.as_bytes())
                    .iter()
                    .any(|b| !b.is_ascii_whitespace())
            };
            let missing = conflict
                .ours
                .iter()
                .flat_map(|range| lines.get(range.clone()).unwrap_or_default())
                .map(|line| line.trim())
                .find(|line| is_code(line) && words(line).iter().any(|w| !merged.contains(w)));
            let Some(missing) = missing else {
                continue;
            };
            self.unsettled.insert(fork_path.clone());
            self.unsettled.insert(conflict.path.clone());
            if let Some((commit, subject)) = authors.iter().find_map(|id| self.merged_as(id)) {
                notes.push(format!(
                    "{}: the fork's lines in its conflict are not all in {} \"{subject}\", which has its commits (`{missing}` is not): the conflict is the fork's to resolve",
                    conflict.path,
                    short_id(commit),
                ));
            }
        }
        Ok(notes)
    }
}
