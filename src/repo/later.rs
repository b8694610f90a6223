//! The reads that depend on what the analysis found, each asked for by a command between two
//! steps: the merges of the release points on the way (hops), the cherry-picks of the PR
//! candidates, and the history of copies made before the merge-base.

use super::Repo;
use super::collect::scan;
use super::git::Git;
use super::merge::{self, MergeRequest, Side};
use crate::analysis::conflicts::{self, RawConflict};
use crate::error::{Error, Result};
use crate::facts::{CommitId, CommitInfo, Facts, Picks, Upstream};

/// One release point merged with the fork and with its fork point.
pub struct PointMerge {
    /// The fork's conflicted paths, as `git merge-tree --name-only` lists them.
    pub conflicts: Vec<String>,
    /// The same conflicts with the fork's and the point's line ranges, for blame.
    pub raw: Vec<RawConflict>,
    pub fork_point_conflicts: Vec<String>,
    /// Why git could not merge the point, with the fork or with the fork point (an object it
    /// could not read): its conflicts are then unknown, and every list above is empty.
    pub unmerged: Option<Error>,
}

/// Merges the fork and its fork point with each point, in parallel batches (one
/// `git merge-tree --stdin` process per batch).
pub fn merge_points(
    repo: &Repo,
    git: &Git,
    facts: &Facts,
    points: &[CommitId],
) -> Result<Vec<PointMerge>> {
    use rayon::prelude::*;
    let git = &git.with_attributes_of(facts.fork.id);
    let (git_dir, objects) = (repo.git_dir().to_path_buf(), repo.objects_dir());
    let handle = repo.handle();
    let requests: Vec<[MergeRequest; 2]> = points
        .iter()
        .map(|p| [facts.fork.id, facts.fork_point].map(|ours| MergeRequest::commits(ours, *p)))
        .collect();
    let batch = requests
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    let results: Vec<Result<Vec<PointMerge>>> = requests
        .par_chunks(batch)
        .map(|chunk| {
            let flat: Vec<MergeRequest> = chunk.iter().flatten().copied().collect();
            let scratch = merge::Scratch::new()?;
            let attempts = merge::merge_each_into(&git_dir, &objects, git, &scratch, &flat)?;
            // The conflicts' stages are read while the merges' objects (a virtual merge base)
            // are still there.
            let local = handle.open()?;
            local.add_scratch(scratch)?;
            let mut attempts = attempts.into_iter();
            let mut points = Vec::with_capacity(chunk.len());
            while let (Some(fork), Some(fork_point)) = (attempts.next(), attempts.next()) {
                points.push(match (fork, fork_point) {
                    (Ok(fork), Ok(fork_point)) => PointMerge {
                        conflicts: fork.conflicted_paths(),
                        raw: conflicts::conflicts(&fork, &local)?,
                        fork_point_conflicts: fork_point.conflicted_paths(),
                        unmerged: None,
                    },
                    (Err(error), _) | (_, Err(error)) => PointMerge {
                        conflicts: Vec::new(),
                        raw: Vec::new(),
                        fork_point_conflicts: Vec::new(),
                        unmerged: Some(error),
                    },
                });
            }
            Ok(points)
        })
        .collect();
    let mut out = Vec::with_capacity(points.len());
    for part in results {
        out.extend(part?);
    }
    Ok(out)
}

/// Cherry-picks every series onto the target commit, one step of every series per git
/// process.
pub fn cherry_pick(
    repo: &Repo,
    git: &Git,
    target: CommitId,
    series: &[Vec<&CommitInfo>],
) -> Result<Vec<Picks>> {
    // A pull request lands on upstream's tree with upstream's merge attributes: the fork's
    // `merge=union` would paste a fork's whole import block into a file upstream rewrote
    // (extremenetworks/telegraf's plugins/outputs/all/all.go) and call that clean.
    let git = &git.with_attributes_of(target);
    let target = repo.tree_of(target)?;
    // Each step merges onto the tree the previous step wrote: one scratch store for them all.
    let scratch = merge::Scratch::new()?;
    let mut picks: Vec<Picks> = series.iter().map(|_| Picks::default()).collect();
    let mut live: Vec<usize> = (0..series.len()).collect();
    let mut level = 0;
    while !live.is_empty() {
        let mut requests = Vec::with_capacity(live.len());
        for &index in &live {
            let commit = series[index][level];
            requests.push(MergeRequest {
                ours: Side::Tree(picks[index].steps.last().copied().unwrap_or(target)),
                theirs: Side::Tree(commit.tree),
                base: commit.parent_tree,
            });
        }
        let attempts = merge::merge_each_into(
            repo.git_dir(),
            &repo.objects_dir(),
            git,
            &scratch,
            &requests,
        )?;
        let mut next = Vec::new();
        for (&index, attempt) in live.iter().zip(attempts) {
            match attempt {
                Ok(outcome) if outcome.clean => {
                    picks[index].steps.push(outcome.tree);
                    if level + 1 < series[index].len() {
                        next.push(index);
                    }
                }
                Ok(_) => {}
                Err(error) => picks[index].unmerged = Some(error),
            }
        }
        live = next;
        level += 1;
    }
    repo.add_scratch(scratch)?;
    Ok(picks)
}

/// Upstream commits the target has and `since` lacks, beyond those `facts` already read
/// (a copy made before the merge-base): each with the paths it changed.
pub fn upstream_since(
    repo: &Repo,
    git: &Git,
    facts: &Facts,
    since: CommitId,
) -> Result<Vec<Upstream>> {
    let extra: Vec<CommitId> = repo
        .walk(&[facts.target.id], &[since])?
        .into_iter()
        .filter(|id| !facts.graph.contains(*id))
        .collect();
    let commits = repo.par_map(&extra, |local, id| {
        let commit = local.commit(id)?;
        Ok((!commit.is_merge()).then_some(commit))
    })?;
    scan(repo, git, &commits.iter().collect::<Vec<_>>())
}
