//! Upstream release points and the hops of an upgrade: release tags and release branches
//! ordered by the pack's version scheme, the fork's own version, and from there to the target
//! the newest release point of each minor in turn.

use super::versions::Version;
use crate::error::Result;
use crate::facts::{CommitId, Facts, Objects, ReleasePoint, TreeId};
use crate::rules::Pack;
use regex::Regex;
use std::collections::BTreeMap;

/// The version a regex's `version` group names in `text`, if it took part in the match.
pub fn captured_version(regex: &Regex, text: &str) -> Option<Version> {
    regex
        .captures(text)
        .and_then(|caps| caps.name("version"))
        .and_then(|m| Version::parse(m.as_str()))
}

/// The version a tree states in the pack's version files.
pub fn version_in_tree(
    pack: &Pack,
    objects: &dyn Objects,
    tree: TreeId,
) -> Result<Option<Version>> {
    let Some(versions) = &pack.versions else {
        return Ok(None);
    };
    for (path, regex) in &versions.sources {
        if let Some(bytes) = objects.read(tree, path)? {
            let text = String::from_utf8_lossy(&bytes);
            if let Some(version) = text.lines().find_map(|l| captured_version(regex, l)) {
                return Ok(Some(version));
            }
        }
    }
    Ok(None)
}

/// Every upstream release point, ascending: release tags (`tags`: full ref names) and the
/// remote's release branches (`branches`: full ref names with their commit's tree).
pub fn release_points(
    pack: &Pack,
    remote: Option<&str>,
    tags: &[(String, CommitId)],
    branches: &[(String, CommitId, TreeId)],
    objects: &dyn Objects,
) -> Result<Vec<ReleasePoint>> {
    let Some(versions) = &pack.versions else {
        return Ok(Vec::new());
    };
    let mut points = Vec::new();
    for (refname, commit) in tags {
        let name = refname.trim_start_matches("refs/tags/");
        if let Some(version) = captured_version(&versions.tags, name) {
            points.push(ReleasePoint {
                version,
                name: name.to_string(),
                commit: *commit,
                branch: false,
            });
        }
    }
    if let (Some(pattern), Some(remote)) = (&versions.branches, remote) {
        let prefix = format!("refs/remotes/{remote}/");
        for (refname, commit, tree) in branches {
            let short = refname.trim_start_matches(&prefix);
            let Some(named) = captured_version(pattern, short) else {
                continue;
            };
            // A release branch stands for its newest patch: the version its tip states.
            let stated =
                version_in_tree(pack, objects, *tree)?.filter(|v| v.minor() == named.minor());
            points.push(ReleasePoint {
                version: stated.unwrap_or(named),
                name: format!("{remote}/{short}"),
                commit: *commit,
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

/// The fork's own version: its fork point's version file, or the newest release tag the
/// fork point contains when that is newer. A release the fork point contains is no hop,
/// whatever the file says: a pack whose pattern reads only part of a version (`Major = 1`
/// of go-ethereum's split constants) would otherwise send the sweep through every release
/// since 1.0 that sits on a side branch.
pub fn fork_version(facts: &Facts, objects: &dyn Objects) -> Result<Option<Version>> {
    let stated = version_in_tree(&facts.pack, objects, facts.trees.fork_point)?;
    let contained = facts
        .releases
        .iter()
        .rev()
        .filter(|p| !p.branch)
        .find(|p| facts.graph.is_ancestor(p.commit, facts.fork_point))
        .map(|p| p.version.clone());
    Ok(stated.into_iter().chain(contained).max())
}

/// From the fork's version to the target, the newest release point of each minor in turn,
/// then the target itself unless it is the last of them.
pub fn hop_points(
    facts: &Facts,
    objects: &dyn Objects,
) -> Result<(Option<Version>, Vec<ReleasePoint>)> {
    let from = fork_version(facts, objects)?;
    let target = facts.target.id;
    let target_version = match facts.releases.iter().find(|p| p.commit == target) {
        Some(point) => Some(point.version.clone()),
        None => version_in_tree(&facts.pack, objects, facts.trees.target)?,
    };
    let mut by_minor: BTreeMap<(u64, u64), ReleasePoint> = BTreeMap::new();
    for point in &facts.releases {
        let is_target = point.commit == target;
        if point.version.is_prerelease() && !is_target {
            continue;
        }
        if from.as_ref().is_some_and(|f| point.version <= *f) {
            continue;
        }
        if target_version.as_ref().is_some_and(|t| point.version > *t) {
            continue;
        }
        if facts.graph.is_ancestor(point.commit, facts.fork_point) {
            continue;
        }
        // Later points sort last: the newest of a minor wins, a branch over a tag of the same version.
        by_minor.insert(point.version.minor(), point.clone());
    }
    let mut hops: Vec<ReleasePoint> = by_minor.into_values().collect();
    if hops.last().is_none_or(|last| last.commit != target) {
        hops.push(ReleasePoint {
            version: target_version.unwrap_or_else(Version::unknown),
            name: facts.target.name.clone(),
            commit: target,
            branch: false,
        });
    }
    Ok((from, hops))
}

/// The first release (tag, not pre-release, ascending) that contains each of `commits`. Each
/// commit of the graph is visited once: what an earlier release contains, with all its
/// ancestors, is not walked again.
pub fn first_releases(facts: &Facts, commits: &[CommitId]) -> BTreeMap<CommitId, String> {
    let wanted: std::collections::HashSet<CommitId> = commits.iter().copied().collect();
    let mut out = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for point in facts
        .releases
        .iter()
        .filter(|p| !p.branch && !p.version.is_prerelease())
    {
        if out.len() == wanted.len() {
            break;
        }
        let mut stack = vec![point.commit];
        while let Some(id) = stack.pop() {
            let Some(commit) = facts.graph.get(id) else {
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            if wanted.contains(&id) {
                out.entry(id).or_insert_with(|| point.name.clone());
            }
            stack.extend(commit.parents.iter().filter(|p| !seen.contains(*p)));
        }
    }
    out
}
