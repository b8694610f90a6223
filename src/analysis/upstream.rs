//! Fork work that upstream already has. Each own commit is looked for among the upstream
//! commits since the merge-base that touched the same files (or where those files went):
//! by patch-id, by a `cherry picked from` trailer, by PR number with the same subject, by
//! a fuzzy match of its line changes (which survives moves and small edits), and as part of
//! a run of own commits whose net change one upstream commit contains (a squash merge,
//! which `git cherry` cannot see).

use super::patches::{self, CONTAINED, LineChanges};
use crate::error::Result;
use crate::facts::{CommitId, CommitInfo, Facts, Objects, TreeId, Upstream};
use crate::model::{AlreadyUpstream, Change, Origin};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Longest run of own commits considered as one squash-merged PR.
const MAX_SQUASH: usize = 12;

/// An upstream commit this many times wider than the fork's change, and at least
/// [`WIDE_PATHS`] paths wide (a restructure, a whole-tree reformat, a removal of the code
/// base), contains a small change by sheer size ...
const WIDE_RATIO: usize = 10;
const WIDE_PATHS: usize = 20;
/// ... unless the change explains at least this share of its line changes in the files the
/// fork touched: the commit that merged a fix is mostly that fix.
const MIN_EXPLAINED: f64 = 0.05;

/// Whether `upstream` can be the commit that merged `own` (which touched `own_paths` paths),
/// and how well: the share of `own` it makes, then the share of itself `own` explains, so that
/// of two commits that both make a fix the one that is mostly that fix wins.
fn weigh(
    own: &LineChanges,
    own_paths: usize,
    theirs: &LineChanges,
    upstream: &Upstream,
) -> Option<(f64, f64)> {
    let share = own.contained_in(theirs);
    let explained = own.explains(theirs);
    let wide = upstream.paths.len() >= WIDE_PATHS.max(WIDE_RATIO * own_paths.max(1));
    (share >= CONTAINED && (!wide || explained >= MIN_EXPLAINED)).then_some((share, explained))
}

fn better(a: (f64, f64), b: (f64, f64)) -> bool {
    let rank = |(share, explained): (f64, f64)| ((share * 20.0).round() as i64, explained);
    let (ra, rb) = (rank(a), rank(b));
    ra.0 > rb.0 || (ra.0 == rb.0 && ra.1 > rb.1)
}

/// The paths worth watching upstream: what the fork changed, what its own commits touched, and
/// where those files live at the target.
pub fn watched_paths(facts: &Facts, changes: &[Change]) -> Vec<String> {
    let mut watched: BTreeSet<String> = BTreeSet::new();
    for change in changes.iter().filter(|c| c.origin != Origin::Upstream) {
        watched.insert(change.path.clone());
        watched.extend(change.old_path.clone());
        watched.extend(change.target_path.clone());
    }
    for commit in &facts.own {
        watched.extend(facts.touched.get(&commit.id).into_iter().flatten().cloned());
    }
    watched.into_iter().collect()
}

/// The line changes between two trees. Renames are paired first, so that a move carries only
/// its edits: a file the fork deleted must not pass for upstream's rename of it.
pub fn line_changes(
    objects: &dyn Objects,
    from_tree: Option<TreeId>,
    to_tree: TreeId,
    paths: &[String],
) -> Result<LineChanges> {
    let mut changes = LineChanges::default();
    let mut deltas = objects.diff(from_tree, to_tree, true, paths)?;
    // The path filter hides the other side of a move into or out of the watched paths, which
    // then reads as a whole file added or deleted: a pure move commit would pass for every
    // line of the file. Pair renames over the whole change, then keep the watched ones.
    if from_tree.is_some()
        && deltas
            .iter()
            .any(|d| d.old_id.is_none() || d.new_id.is_none())
    {
        let watched: HashSet<&str> = paths.iter().map(String::as_str).collect();
        let is_watched = |path: &Option<String>| {
            path.as_deref().is_some_and(|p| {
                watched.contains(p)
                    || watched
                        .iter()
                        .any(|w| p.strip_prefix(w).is_some_and(|rest| rest.starts_with('/')))
            })
        };
        deltas = objects
            .diff(from_tree, to_tree, true, &[])?
            .into_iter()
            .filter(|d| paths.is_empty() || is_watched(&d.old_path) || is_watched(&d.new_path))
            .collect();
    }
    for delta in deltas {
        let read = |id: Option<crate::facts::BlobId>| -> Result<Option<Vec<u8>>> {
            match id {
                Some(id) => objects.blob_if_present(id),
                None => Ok(Some(Vec::new())),
            }
        };
        // Binary files and blobs this clone lacks say nothing about lines.
        let (Some(old), Some(new)) = (read(delta.old_id)?, read(delta.new_id)?) else {
            continue;
        };
        if old.contains(&0) || new.contains(&0) {
            continue;
        }
        changes.add_file(&old, &new);
    }
    Ok(changes)
}

/// A commit's line changes, computed once.
/// Only the watched paths (the files the fork touched, and where they went) matter to
/// containment, and reading only them keeps large upstream commits cheap.
fn cached_lines<'c>(
    objects: &dyn Objects,
    cache: &'c mut HashMap<CommitId, LineChanges>,
    commit: &CommitInfo,
    watched: &[String],
) -> Result<&'c LineChanges> {
    if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(commit.id) {
        slot.insert(line_changes(
            objects,
            commit.parent_tree,
            commit.tree,
            watched,
        )?);
    }
    Ok(&cache[&commit.id])
}

fn patch_id(objects: &dyn Objects, commit: &CommitInfo) -> Result<Option<String>> {
    match commit.parent_tree {
        Some(parent) => objects.patch_id(parent, commit.tree),
        None => Ok(None),
    }
}

/// Own commits upstream already has, with the upstream commit that has them and how they were
/// recognised. `changes` (with their target paths) tell where moved files went.
pub fn already_upstream(
    facts: &Facts,
    objects: &dyn Objects,
    changes: &[Change],
) -> Result<Vec<AlreadyUpstream>> {
    let watched = watched_paths(facts, changes);
    let watched_set: HashSet<&str> = watched.iter().map(String::as_str).collect();
    let touched = &facts.touched;
    let range = &facts.since_base;
    let own: Vec<&CommitInfo> = facts
        .own
        .iter()
        .rev()
        .filter(|c| c.parents.len() == 1)
        .collect();
    if own.is_empty() {
        return Ok(Vec::new());
    }
    // Where each path the fork touched lives at the target, so that moved fixes are found.
    let mut aliases: HashMap<&str, Vec<&str>> = HashMap::new();
    for change in changes {
        let entry = aliases.entry(change.path.as_str()).or_default();
        entry.extend(change.target_path.as_deref());
        entry.extend(change.old_path.as_deref());
    }
    // Only commits that touched a watched path can hold the fork's work.
    let upstream: Vec<&Upstream> = facts
        .upstream
        .iter()
        .filter(|u| {
            u.meta.parents.len() == 1
                && range.contains(&u.meta.id)
                && !facts.own_ids.contains(&u.meta.id)
                && u.paths.iter().any(|p| watched_set.contains(p.as_str()))
        })
        .collect();
    let all_ids: HashSet<String> = range.iter().map(CommitId::to_string).collect();
    let watched = &watched[..];

    let mut lines_of: HashMap<CommitId, LineChanges> = HashMap::new();
    let mut patch_ids: HashMap<CommitId, Option<String>> = HashMap::new();
    let mut found: Vec<AlreadyUpstream> = Vec::new();
    let mut matched: HashSet<CommitId> = HashSet::new();

    let related = |commit: &CommitInfo, upstream: &Upstream| -> bool {
        let own_paths = touched
            .get(&commit.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        own_paths.iter().any(|p| {
            upstream.paths.contains(p)
                || aliases
                    .get(p.as_str())
                    .is_some_and(|a| a.iter().any(|a| upstream.paths.iter().any(|u| u == a)))
        })
    };

    for commit in &own {
        let record = |upstream: &CommitInfo, method: &str, similarity: f64| AlreadyUpstream {
            commit: commit.id.to_string(),
            commits: vec![commit.id.to_string()],
            upstream_commit: upstream.id.to_string(),
            method: method.into(),
            similarity,
        };
        // A `cherry picked from` trailer naming an upstream commit.
        if let Some(picked) = patches::cherry_picked_from(&commit.message)
            .into_iter()
            .find(|id| {
                all_ids.contains(id) || all_ids.iter().any(|full| full.starts_with(id.as_str()))
            })
        {
            if let Some(upstream) = upstream
                .iter()
                .find(|u| u.meta.id.to_string().starts_with(&picked))
            {
                found.push(record(&upstream.meta, "cherry-pick", 1.0));
                matched.insert(commit.id);
                continue;
            }
        }
        let candidates: Vec<&Upstream> = upstream
            .iter()
            .copied()
            .filter(|u| related(commit, u))
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let own_paths = touched
            .get(&commit.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        // Like the upstream side's below: a commit whose blobs this clone lacks (a partial
        // clone) has no patch-id to match, and the other matches still apply.
        let own_patch = patch_id(objects, commit).ok().flatten();
        if let Some(upstream) = candidates
            .iter()
            .filter(|u| u.paths.len() == own_paths.len())
            .find(|u| {
                let id = patch_ids
                    .entry(u.meta.id)
                    .or_insert_with(|| patch_id(objects, &u.meta).ok().flatten());
                own_patch.is_some() && *id == own_patch
            })
        {
            found.push(record(&upstream.meta, "patch-id", 1.0));
            matched.insert(commit.id);
            continue;
        }
        let prs = crate::model::pr_numbers(&commit.subject);
        let subject = patches::normalized_subject(&commit.subject);
        if let Some(upstream) = candidates.iter().find(|u| {
            !prs.is_empty()
                && crate::model::pr_numbers(&u.meta.subject)
                    .iter()
                    .any(|n| prs.contains(n))
                && patches::normalized_subject(&u.meta.subject) == subject
        }) {
            found.push(record(&upstream.meta, "pr-number", 1.0));
            matched.insert(commit.id);
            continue;
        }
    }

    // Runs of unmatched own commits whose net change one upstream commit contains.
    let mut start = 0;
    while start < own.len() {
        if matched.contains(&own[start].id) {
            start += 1;
            continue;
        }
        // Grow the run while some upstream commit touches the files of every commit in it:
        // only those can have squashed the whole run.
        let mut shared: Vec<usize> = (0..upstream.len())
            .filter(|u| related(own[start], upstream[*u]))
            .collect();
        let mut runs: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut end = start + 1;
        while end < own.len()
            && end - start < MAX_SQUASH
            && !matched.contains(&own[end].id)
            && own[end].parents[0] == own[end - 1].id
        {
            shared.retain(|u| related(own[end], upstream[*u]));
            if shared.is_empty() {
                break;
            }
            end += 1;
            runs.push((end, shared.clone()));
        }
        let mut hit = None;
        // Longest run first, so a whole PR is recognised rather than its first commit.
        'runs: for (stop, candidates) in runs.into_iter().rev() {
            let run = &own[start..stop];
            let net = line_changes(
                objects,
                run[0].parent_tree,
                run[run.len() - 1].tree,
                watched,
            )?;
            if net.is_empty() {
                continue;
            }
            let run_paths: HashSet<&String> = run
                .iter()
                .flat_map(|c| touched.get(&c.id).into_iter().flatten())
                .collect();
            let mut ranked: Vec<(usize, (f64, f64))> = Vec::new();
            for candidate in candidates {
                let theirs =
                    cached_lines(objects, &mut lines_of, &upstream[candidate].meta, watched)?;
                if let Some(weight) = weigh(&net, run_paths.len(), theirs, upstream[candidate]) {
                    ranked.push((candidate, weight));
                }
            }
            ranked.sort_by(|a, b| {
                if better(a.1, b.1) {
                    std::cmp::Ordering::Less
                } else if better(b.1, a.1) {
                    std::cmp::Ordering::Greater
                } else {
                    a.0.cmp(&b.0)
                }
            });
            for (candidate, (share, _)) in ranked {
                let upstream = &upstream[candidate].meta;
                let theirs = cached_lines(objects, &mut lines_of, upstream, watched)?.clone();
                // Every commit of the run must be part of it, not merely ride along.
                let mut each = true;
                for commit in run {
                    let own = cached_lines(objects, &mut lines_of, commit, watched)?;
                    each &= own.is_empty() || own.contained_in(&theirs) > 0.0;
                }
                if each {
                    hit = Some((stop, upstream.id, share));
                    break 'runs;
                }
            }
        }
        match hit {
            Some((stop, upstream, share)) => {
                let commits: Vec<String> = own[start..stop]
                    .iter()
                    .rev()
                    .map(|c| c.id.to_string())
                    .collect();
                found.push(AlreadyUpstream {
                    commit: commits[0].clone(),
                    commits,
                    upstream_commit: upstream.to_string(),
                    method: "squash".into(),
                    similarity: super::similarity::round(share),
                });
                for commit in &own[start..stop] {
                    matched.insert(commit.id);
                }
                start = stop;
            }
            None => start += 1,
        }
    }
    // Single commits whose line changes one upstream commit makes (moved, or squashed into more).
    let unmatched: Vec<&CommitInfo> = own
        .iter()
        .copied()
        .filter(|c| !matched.contains(&c.id))
        .collect();
    for commit in unmatched {
        let candidates: Vec<&Upstream> = upstream
            .iter()
            .copied()
            .filter(|u| related(commit, u))
            .collect();
        let own_lines = cached_lines(objects, &mut lines_of, commit, watched)?.clone();
        if own_lines.is_empty() {
            continue;
        }
        let own_paths = touched.get(&commit.id).map_or(0, Vec::len);
        let mut best: Option<(&Upstream, (f64, f64))> = None;
        for upstream in &candidates {
            let theirs = cached_lines(objects, &mut lines_of, &upstream.meta, watched)?;
            if let Some(weight) = weigh(&own_lines, own_paths, theirs, upstream) {
                if best.is_none_or(|(_, b)| better(weight, b)) {
                    best = Some((upstream, weight));
                }
            }
        }
        if let Some((upstream, (share, _))) = best {
            found.push(AlreadyUpstream {
                commit: commit.id.to_string(),
                commits: vec![commit.id.to_string()],
                upstream_commit: upstream.meta.id.to_string(),
                method: "fuzzy".into(),
                similarity: super::similarity::round(share),
            });
            matched.insert(commit.id);
        }
    }
    found.sort_by(|a, b| a.commit.cmp(&b.commit));
    Ok(found)
}
