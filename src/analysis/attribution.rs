//! Who causes each conflict of the next upgrade. A conflict that merging the fork point alone
//! also has is upstream's (a release branch that itself conflicts with the target) unless the
//! fork's own commits wrote the conflicting lines; any other is the fork's, with the own
//! commits behind it: those that wrote its lines (from blame), or that touched the path.

use super::conflicts::{self, RawConflict};
use super::upstream::Settled;
use crate::facts::{BlobId, CommitId, Facts};
use crate::model::{Change, Conflict, Origin};
use std::collections::{BTreeSet, HashMap, HashSet};

/// What blame found: `(fork path, first, last)` → the commits of its hunks, None where git
/// could not blame.
pub type Blame = HashMap<(String, usize, usize), Option<Vec<CommitId>>>;

/// The path the fork knows each conflicted file by: merge-ort may report it at the target's
/// path. Built once per merge, looked up per conflict.
pub struct ForkPaths<'a> {
    /// Conflicted path → the fork's blob at stage 2.
    stage2: HashMap<&'a str, BlobId>,
    /// The fork's stage-2 blob → the path of the change it belongs to.
    by_blob: HashMap<BlobId, &'a str>,
    /// A change's path at the target → its path in the fork.
    by_target: HashMap<&'a str, &'a str>,
}

impl<'a> ForkPaths<'a> {
    pub fn new(facts: &'a Facts, changes: &'a [Change]) -> ForkPaths<'a> {
        // The first change that is known by a path, as the fork or at the target, owns it.
        let mut owner: HashMap<&str, &str> = HashMap::new();
        let mut by_target: HashMap<&str, &str> = HashMap::new();
        for change in changes {
            owner.entry(change.path.as_str()).or_insert(&change.path);
            if let Some(target) = change.target_path.as_deref() {
                owner.entry(target).or_insert(&change.path);
                by_target.entry(target).or_insert(&change.path);
            }
        }
        let stage2_entries = facts.merges.fork.entries.iter().filter(|e| e.stage == 2);
        let mut by_blob: HashMap<BlobId, &str> = stage2_entries
            .clone()
            .filter_map(|e| Some((e.id, *owner.get(e.path.as_str())?)))
            .collect();
        // A file merge-ort moved where upstream moved its directory, while no change of the
        // fork's says so (top-gg's config.yml.example, now app/connectors_service/…): the
        // fork's tree holds the stage-2 blob at the fork's path.
        let unknown: HashSet<BlobId> = stage2_entries
            .clone()
            .map(|e| e.id)
            .filter(|id| !by_blob.contains_key(id))
            .collect();
        // Only a blob at one path names it (identical files, an empty __init__.py, do not).
        let mut found: HashMap<BlobId, Option<&str>> = HashMap::new();
        if !unknown.is_empty() {
            for (path, id) in &facts.fork_files {
                if unknown.contains(id) {
                    found
                        .entry(*id)
                        .and_modify(|p| *p = None)
                        .or_insert(Some(path.as_str()));
                }
            }
        }
        by_blob.extend(found.into_iter().filter_map(|(id, p)| Some((id, p?))));
        ForkPaths {
            stage2: stage2_entries.map(|e| (e.path.as_str(), e.id)).collect(),
            by_blob,
            by_target,
        }
    }

    /// The fork's version of a conflicted file (its stage-2 blob).
    pub fn ours(&self, conflict: &RawConflict) -> Option<BlobId> {
        self.stage2.get(conflict.path.as_str()).copied()
    }

    pub fn of(&self, conflict: &RawConflict) -> String {
        let path = conflict.path.as_str();
        self.stage2
            .get(path)
            .and_then(|id| self.by_blob.get(id).copied())
            .or_else(|| self.by_target.get(path).copied())
            .unwrap_or(path)
            .to_string()
    }
}

/// The line ranges to blame on the fork's side: `(fork path, first, last)`, 1-based.
pub fn blame_requests<'r>(
    facts: &Facts,
    changes: &[Change],
    raw: impl IntoIterator<Item = &'r RawConflict>,
) -> Vec<(String, usize, usize)> {
    let fork_paths = ForkPaths::new(facts, changes);
    let mut out = Vec::new();
    for conflict in raw {
        let path = fork_paths.of(conflict);
        for range in conflict.ours.iter().filter(|r| !r.is_empty()) {
            out.push((path.clone(), range.start + 1, range.end));
        }
    }
    out
}

/// Conflicts with their cause and the own commits behind them, the fork's first.
pub fn attribute(
    facts: &Facts,
    changes: &[Change],
    raw: Vec<RawConflict>,
    blame: &Blame,
    settled: &Settled,
) -> Vec<Conflict> {
    // With no own work the fork is its own fork point and its merge was not run twice: every
    // conflict it has, the fork point has.
    let point_paths: HashSet<String> = match &facts.merges.fork_point {
        Some(outcome) => outcome.conflicted_paths().into_iter().collect(),
        None if facts.fork_point == facts.fork.id => {
            facts.merges.fork.conflicted_paths().into_iter().collect()
        }
        None => HashSet::new(),
    };
    attribute_against(facts, changes, raw, blame, settled, &point_paths)
}

/// [`attribute`] for a merge with another point than the target (a hop), whose fork point
/// conflicts in `point_paths`.
pub fn attribute_against(
    facts: &Facts,
    changes: &[Change],
    raw: Vec<RawConflict>,
    blame: &Blame,
    settled: &Settled,
    point_paths: &HashSet<String>,
) -> Vec<Conflict> {
    let fork_paths = ForkPaths::new(facts, changes);
    let mut out = Vec::with_capacity(raw.len());
    for conflict in raw {
        let fork_path = fork_paths.of(&conflict);
        let mut commits: BTreeSet<CommitId> = BTreeSet::new();
        let mut blamed = false;
        for range in conflict.ours.iter().filter(|r| !r.is_empty()) {
            let key = (fork_path.clone(), range.start + 1, range.end);
            if let Some(Some(lines)) = blame.get(&key) {
                blamed = true;
                commits.extend(lines.iter().filter(|c| facts.own_ids.contains(c)));
            }
        }
        let own_lines = blamed && !commits.is_empty();
        // Lines an own commit deleted leave nothing to blame (op-geth's api.go, where git's
        // region holds only upstream's lines): the own commits that touched the path are
        // behind it then, as when blame could not run.
        if !own_lines {
            commits.extend(
                facts
                    .own
                    .iter()
                    .filter(|c| {
                        facts
                            .touched
                            .get(&c.id)
                            .is_some_and(|paths| paths.contains(&fork_path))
                    })
                    .map(|c| c.id),
            );
        }
        let cause = cause(point_paths.contains(&conflict.path), own_lines);
        // Newest first, like the own commits list.
        let ordered: Vec<String> = facts
            .own
            .iter()
            .filter(|c| commits.contains(&c.id))
            .map(|c| c.id.to_string())
            .collect();
        out.push(Conflict {
            path: conflict.path.clone(),
            kind: conflict.kind.clone(),
            cause,
            commits: if cause == Origin::Fork {
                ordered
            } else {
                Vec::new()
            },
            ours_lines: conflict.ours.iter().map(conflicts::one_based).collect(),
            theirs_lines: conflict.theirs.iter().map(conflicts::one_based).collect(),
            message: readable(&conflict.message, facts),
            already_upstream: cause == Origin::Fork
                && !commits.is_empty()
                && commits
                    .iter()
                    .all(|c| settled.has_in(c, &[fork_path.as_str(), conflict.path.as_str()])),
        });
    }
    out.sort_by(|a, b| {
        (a.cause != Origin::Fork)
            .cmp(&(b.cause != Origin::Fork))
            .then_with(|| a.path.cmp(&b.path))
    });
    out
}

/// The one attribution rule of the audit, its hops and the plan: a conflict is the fork's
/// when the fork point alone merges there cleanly, or when own commits wrote its lines.
pub fn cause(fork_point_conflicts: bool, own_lines: bool) -> Origin {
    if !fork_point_conflicts || own_lines {
        Origin::Fork
    } else {
        Origin::Upstream
    }
}

/// git names the merged commits by id; say which is which.
fn readable(message: &str, facts: &Facts) -> String {
    message
        .replace(
            &facts.fork.id.to_string(),
            &format!("the fork ({})", facts.fork.name),
        )
        .replace(
            &facts.target.id.to_string(),
            &format!("the target ({})", facts.target.name),
        )
}
