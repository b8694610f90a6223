//! Release points between the fork and the target, one minor at a time, and what merging
//! each would cost: conflicts in total and caused by the fork, and a risk score. Batches of
//! merges run in parallel, one `git merge-tree --stdin` process each.

use crate::analysis::risk::{self, OverallFacts};
use crate::analysis::versions::Version;
use crate::error::Result;
use crate::model::{Change, ChangeClass, Hop, Origin, Status};
use crate::repo::Repo;
use crate::repo::git::Git;
use crate::repo::merge::{self, MergeRequest};
use crate::session::Session;
use git2::Oid;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone)]
pub struct ReleasePoint {
    pub version: Version,
    /// How to name it: `v8.11.4.0`, `upstream/8.11`, or the target's own name.
    pub name: String,
    pub commit: Oid,
    pub branch: bool,
}

/// The version a tree states in the pack's version files.
pub fn version_in_tree(repo: &Repo, session: &Session, tree: Oid) -> Result<Option<Version>> {
    let Some(versions) = &session.pack.versions else {
        return Ok(None);
    };
    for (path, regex) in &versions.sources {
        if let Some(bytes) = repo.read(tree, path)? {
            let text = String::from_utf8_lossy(&bytes);
            if let Some(version) = text
                .lines()
                .find_map(|l| regex.captures(l))
                .and_then(|c| Version::parse(&c["version"]))
            {
                return Ok(Some(version));
            }
        }
    }
    Ok(None)
}

/// Every upstream release point: release tags and the remote's release branches.
pub fn release_points(repo: &Repo, session: &Session) -> Result<Vec<ReleasePoint>> {
    let Some(versions) = &session.pack.versions else {
        return Ok(Vec::new());
    };
    let mut points = Vec::new();
    for (refname, commit) in repo.refs_under("refs/tags/")? {
        let name = refname.trim_start_matches("refs/tags/");
        if let Some(caps) = versions.tags.captures(name) {
            if let Some(version) = Version::parse(&caps["version"]) {
                points.push(ReleasePoint {
                    version,
                    name: name.to_string(),
                    commit,
                    branch: false,
                });
            }
        }
    }
    if let (Some(branches), Some(remote)) = (&versions.branches, &session.remote) {
        let prefix = format!("refs/remotes/{remote}/");
        for (refname, commit) in repo.refs_under(&prefix)? {
            let short = refname.trim_start_matches(&prefix);
            let Some(caps) = branches.captures(short) else {
                continue;
            };
            let Some(named) = Version::parse(&caps["version"]) else {
                continue;
            };
            // A release branch stands for its newest patch: the version its tip states.
            let stated = version_in_tree(repo, session, repo.tree_of(commit)?)?
                .filter(|v| v.minor() == named.minor());
            points.push(ReleasePoint {
                version: stated.unwrap_or(named),
                name: format!("{remote}/{short}"),
                commit,
                branch: true,
            });
        }
    }
    points.sort_by(|a, b| {
        a.version
            .cmp(&b.version)
            .then(a.branch.cmp(&b.branch))
            .then(a.name.cmp(&b.name))
    });
    Ok(points)
}

/// The fork's own version: its fork point's version file, else the newest release tag
/// the fork point contains.
pub fn fork_version(
    repo: &Repo,
    session: &Session,
    points: &[ReleasePoint],
) -> Result<Option<Version>> {
    if let Some(version) = version_in_tree(repo, session, repo.tree_of(session.fork_point)?)? {
        return Ok(Some(version));
    }
    for point in points.iter().rev().filter(|p| !p.branch) {
        if repo.is_ancestor(point.commit, session.fork_point)? {
            return Ok(Some(point.version.clone()));
        }
    }
    Ok(None)
}

/// From the fork's version to the target, the newest release point of each minor in turn,
/// then the target itself unless it is the last of them.
/// `points`: every release point ([`release_points`]).
pub fn hop_points(
    repo: &Repo,
    session: &Session,
    points: &[ReleasePoint],
) -> Result<(Option<Version>, Vec<ReleasePoint>)> {
    let points = points.to_vec();
    let from = fork_version(repo, session, &points)?;
    let target_version = match points.iter().find(|p| p.commit == session.target.id) {
        Some(point) => Some(point.version.clone()),
        None => version_in_tree(repo, session, repo.tree_of(session.target.id)?)?,
    };
    let mut by_minor: BTreeMap<(u64, u64), ReleasePoint> = BTreeMap::new();
    for point in points {
        let is_target = point.commit == session.target.id;
        if point.version.is_prerelease() && !is_target {
            continue;
        }
        if from.as_ref().is_some_and(|f| point.version <= *f) {
            continue;
        }
        if target_version.as_ref().is_some_and(|t| point.version > *t) {
            continue;
        }
        if repo.is_ancestor(point.commit, session.fork_point)? {
            continue;
        }
        // Later points sort last: the newest of a minor wins, a branch over a tag of the same version.
        by_minor.insert(point.version.minor(), point);
    }
    let mut hops: Vec<ReleasePoint> = by_minor.into_values().collect();
    if hops
        .last()
        .is_none_or(|last| last.commit != session.target.id)
    {
        hops.push(ReleasePoint {
            version: target_version
                .clone()
                .unwrap_or_else(|| Version::parse("0").expect("a number parses")),
            name: session.target.name.clone(),
            commit: session.target.id,
            branch: false,
        });
    }
    Ok((from, hops))
}

pub struct HopMerges {
    pub conflicts: Vec<String>,
    pub fork_conflicts: Vec<String>,
}

/// Merges the fork and its fork point with every point, in parallel batches.
pub fn merge_points(
    repo: &Repo,
    git: &Git,
    session: &Session,
    points: &[ReleasePoint],
) -> Result<Vec<HopMerges>> {
    let (git_dir, objects) = (repo.git_dir().to_path_buf(), repo.objects_dir());
    let requests: Vec<[MergeRequest; 2]> = points
        .iter()
        .map(|p| {
            [session.fork.id, session.fork_point].map(|ours| MergeRequest {
                ours,
                theirs: p.commit,
                base: None,
            })
        })
        .collect();
    let batch = requests
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    let results: Vec<Result<Vec<HopMerges>>> = requests
        .par_chunks(batch)
        .map(|chunk| {
            let flat: Vec<MergeRequest> = chunk.iter().flatten().copied().collect();
            let (_scratch, outcomes) = merge::merge_all_at(&git_dir, &objects, git, &flat)?;
            Ok(outcomes
                .chunks(2)
                .map(|pair| {
                    let conflicts = pair[0].conflicted_paths();
                    let upstream: HashSet<String> =
                        pair[1].conflicted_paths().into_iter().collect();
                    let fork_conflicts = conflicts
                        .iter()
                        .filter(|p| !upstream.contains(*p))
                        .cloned()
                        .collect();
                    HopMerges {
                        conflicts,
                        fork_conflicts,
                    }
                })
                .collect())
        })
        .collect();
    let mut out = Vec::with_capacity(points.len());
    for part in results {
        out.extend(part?);
    }
    Ok(out)
}

/// `audit --hops`: every hop with its conflicts and risk.
pub fn sweep(repo: &Repo, git: &Git, session: &Session, changes: &[Change]) -> Result<Vec<Hop>> {
    let gate = crate::gate::Gate::new(repo, session)?;
    let (_, points) = hop_points(repo, session, gate.releases())?;
    let merges = merge_points(repo, git, session, &points)?;
    let base_tree = repo.tree_of(session.merge_base)?;
    let divergent: Vec<&Change> = changes
        .iter()
        .filter(|c| c.origin != Origin::Upstream && !c.already_upstream)
        .collect();
    let framework_edits = divergent
        .iter()
        .filter(|c| c.class == ChangeClass::Framework)
        .count();
    let mut previous = session.fork_point;
    let mut hops = Vec::with_capacity(points.len());
    for (point, merged) in points.iter().zip(merges) {
        let (verdict, _) = gate.compare(repo, previous, point.commit)?;
        previous = point.commit;
        let tree = repo.tree_of(point.commit)?;
        let mut orphaned = 0;
        for change in divergent.iter().filter(|c| c.status == Status::Added) {
            if crate::audit::orphaned_between(repo, base_tree, tree, &change.path)? {
                orphaned += 1;
            }
        }
        let risk = risk::overall_risk(&OverallFacts {
            fork_conflicts: merged.fork_conflicts.len(),
            orphaned,
            framework_edits,
            ..OverallFacts::default()
        });
        hops.push(Hop {
            version: point.version.text.clone(),
            name: point.name.clone(),
            commit: point.commit.to_string(),
            conflicts: merged.conflicts.len(),
            fork_conflicts: merged.fork_conflicts.len(),
            risk,
            protocol: Some(verdict.as_str().into()),
        });
    }
    Ok(hops)
}
