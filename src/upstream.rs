//! Fork work that upstream already has. Each own commit is looked for among the upstream
//! commits since the merge-base that touched the same files (or where those files went):
//! by patch-id, by a `cherry picked from` trailer, by PR number with the same subject, by
//! a fuzzy match of its line changes (which survives moves and small edits), and as part of
//! a run of own commits whose net change one upstream commit contains (a squash merge,
//! which `git cherry` cannot see).

use crate::analysis::patches::{self, CONTAINED, LineChanges};
use crate::error::Result;
use crate::model::{AlreadyUpstream, Change};
use crate::repo::{CommitMeta, Repo};
use crate::session::Session;
use git2::Oid;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Longest run of own commits considered as one squash-merged PR.
const MAX_SQUASH: usize = 12;

/// An upstream commit that touched a watched path.
pub struct Upstream {
    pub meta: CommitMeta,
    /// The watched paths it touched.
    pub paths: Vec<String>,
    /// How many paths it touched in all: a patch-id can only match a commit touching as many.
    pub total: usize,
}

/// The paths worth watching upstream: what the fork changed, what its own commits touched, and
/// where those files live at the target.
pub fn watched_paths(
    session: &Session,
    touched: &HashMap<Oid, Vec<String>>,
    changes: &[Change],
) -> Vec<String> {
    let mut watched: BTreeSet<String> = BTreeSet::new();
    for change in changes
        .iter()
        .filter(|c| c.origin != crate::model::Origin::Upstream)
    {
        watched.insert(change.path.clone());
        watched.extend(change.old_path.clone());
        watched.extend(change.target_path.clone());
    }
    for commit in &session.own {
        watched.extend(touched.get(&commit.id).into_iter().flatten().cloned());
    }
    watched.into_iter().collect()
}

/// Every non-merge commit of `commits` (roots included) that touched a watched path, each diffed once (upstream
/// matching and churn both read the result).
pub fn scan(repo: &Repo, commits: &[Oid], watched: &[String]) -> Result<Vec<Upstream>> {
    if watched.is_empty() {
        return Ok(Vec::new());
    }
    repo.par_map(commits, |local, id| {
        let meta = local.commit(id)?;
        if meta.parents.len() > 1 {
            return Ok(None);
        }
        let parent = meta
            .parents
            .first()
            .map(|p| local.tree_of(*p))
            .transpose()?;
        let paths: Vec<String> = local
            .diff(parent, meta.tree, false, watched)?
            .iter()
            .map(|d| d.path().to_string())
            .collect();
        if paths.is_empty() {
            return Ok(None);
        }
        let total = local.diff(parent, meta.tree, false, &[])?.len();
        Ok(Some(Upstream { meta, paths, total }))
    })
}

/// The line changes between two trees. Renames are paired first, so that a move carries only
/// its edits: a file the fork deleted must not pass for upstream's rename of it.
pub fn line_changes(
    repo: &Repo,
    from_tree: Option<Oid>,
    to_tree: Oid,
    paths: &[String],
) -> Result<LineChanges> {
    let mut changes = LineChanges::default();
    for delta in repo.diff(from_tree, to_tree, true, paths)? {
        let read = |id: Option<Oid>| -> Result<Option<Vec<u8>>> {
            match id {
                Some(id) => repo.blob_if_present(id),
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
    repo: &Repo,
    cache: &'c mut HashMap<Oid, LineChanges>,
    commit: &CommitMeta,
    watched: &[String],
) -> Result<&'c LineChanges> {
    if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(commit.id) {
        slot.insert(line_changes(
            repo,
            parent_tree(repo, commit)?,
            commit.tree,
            watched,
        )?);
    }
    Ok(&cache[&commit.id])
}

fn parent_tree(repo: &Repo, commit: &CommitMeta) -> Result<Option<Oid>> {
    commit.parents.first().map(|p| repo.tree_of(*p)).transpose()
}

/// `range`: the upstream commits since the merge-base; `scanned`: [`scan`] of at least those,
/// over `watched`.
pub fn already_upstream(
    repo: &Repo,
    session: &Session,
    touched: &HashMap<Oid, Vec<String>>,
    changes: &[Change],
    range: &HashSet<Oid>,
    scanned: &[Upstream],
    watched: &[String],
) -> Result<Vec<AlreadyUpstream>> {
    let own: Vec<&CommitMeta> = session
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
    let upstream: Vec<&Upstream> = scanned
        .iter()
        .filter(|u| {
            u.meta.parents.len() == 1
                && range.contains(&u.meta.id)
                && !session.own_ids.contains(&u.meta.id)
        })
        .collect();
    let all_ids: HashSet<String> = range.iter().map(Oid::to_string).collect();

    let mut lines_of: HashMap<Oid, LineChanges> = HashMap::new();
    let mut patch_ids: HashMap<Oid, Option<Oid>> = HashMap::new();
    let mut found: Vec<AlreadyUpstream> = Vec::new();
    let mut matched: HashSet<Oid> = HashSet::new();

    let related = |commit: &CommitMeta, upstream: &Upstream| -> bool {
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
        let record = |upstream: &CommitMeta, method: &str, similarity: f64| AlreadyUpstream {
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
        let own_patch = repo.patch_id(commit)?;
        if let Some(upstream) = candidates
            .iter()
            .filter(|u| u.total == own_paths.len())
            .find(|u| {
                let id = *patch_ids
                    .entry(u.meta.id)
                    .or_insert_with(|| repo.patch_id(&u.meta).ok().flatten());
                own_patch.is_some() && id == own_patch
            })
        {
            found.push(record(&upstream.meta, "patch-id", 1.0));
            matched.insert(commit.id);
            continue;
        }
        let prs = crate::repo::pr_numbers(&commit.subject);
        let subject = patches::normalized_subject(&commit.subject);
        if let Some(upstream) = candidates.iter().find(|u| {
            !prs.is_empty()
                && crate::repo::pr_numbers(&u.meta.subject)
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
                repo,
                parent_tree(repo, run[0])?,
                run[run.len() - 1].tree,
                watched,
            )?;
            if net.is_empty() {
                continue;
            }
            for candidate in candidates {
                let upstream = &upstream[candidate].meta;
                let theirs = cached_lines(repo, &mut lines_of, upstream, watched)?.clone();
                let share = net.contained_in(&theirs);
                if share < CONTAINED {
                    continue;
                }
                // Every commit of the run must be part of it, not merely ride along.
                let mut each = true;
                for commit in run {
                    let own = cached_lines(repo, &mut lines_of, commit, watched)?;
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
                    similarity: crate::analysis::similarity::round(share),
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
    let unmatched: Vec<&CommitMeta> = own
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
        let own_lines = cached_lines(repo, &mut lines_of, commit, watched)?.clone();
        if own_lines.is_empty() {
            continue;
        }
        let mut best: Option<(&Upstream, f64)> = None;
        for upstream in &candidates {
            let share =
                own_lines.contained_in(cached_lines(repo, &mut lines_of, &upstream.meta, watched)?);
            if share >= CONTAINED && best.is_none_or(|(_, b)| share > b) {
                best = Some((upstream, share));
            }
        }
        if let Some((upstream, share)) = best {
            found.push(AlreadyUpstream {
                commit: commit.id.to_string(),
                commits: vec![commit.id.to_string()],
                upstream_commit: upstream.meta.id.to_string(),
                method: "fuzzy".into(),
                similarity: crate::analysis::similarity::round(share),
            });
            matched.insert(commit.id);
        }
    }
    found.sort_by(|a, b| a.commit.cmp(&b.commit));
    Ok(found)
}
