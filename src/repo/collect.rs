//! The one reader: turns the user's selection ([`selection`](super::selection)) into
//! [`Facts`]. It walks and diffs the commits since the merge-base once, finds the fork point,
//! reads the release points and the acceptances, and has git merge the next upgrade. The later
//! reads that depend on what the analysis found (blame of conflicting lines, cherry-picks of PR
//! candidates, merges of hops) live in `later` and `blame`.

use super::Repo;
use super::background::Background;
use super::fork_config::{acceptances, unmatched_own};
use super::git::Git;
use super::merge::{self, MergeRequest};
use super::selection::{Endpoints, endpoints_with, release_points};
use crate::error::Result;
use crate::facts::{
    CommitId, CommitInfo, Facts, Graph, MergeOutcome, Merges, Objects, TreeId, Trees, Upstream,
};
use std::collections::{HashMap, HashSet};

// The selection and the configuration are what callers name the reader by.
pub use super::fork_config::configure;
pub use super::selection::{Selection, detect_pack, resolve_version, target_name};

/// Reads everything the analysis needs, and merges the next upgrade.
pub fn collect(repo: &Repo, git: &Git, selection: &Selection) -> Result<Facts> {
    // Before git is first asked anything: a git too old says so, not that a pipe broke.
    git.require(
        "the exact conflict list",
        super::git::MERGE_TREE_MIN,
        "2.40",
    )?;
    crate::progress::phase("resolving the fork, the target and the rule pack");
    let (endpoints, scanning) = endpoints_with(repo, selection, |from, merge_base| {
        start_scan(repo, git, from, merge_base)
    })?;
    let Endpoints {
        pack,
        fork,
        target,
        remote,
        tips,
        refs: upstream_refs,
        mut shipped,
        merge_base,
        own: own_ordered,
        foreign_tags,
        notes: endpoint_notes,
    } = endpoints;
    let own_ids: HashSet<CommitId> = own_ordered.iter().copied().collect();
    let own = own_ordered
        .iter()
        .map(|id| repo.commit(*id))
        .collect::<Result<Vec<_>>>()?;

    let mut notes = endpoint_notes;
    // A target that upstream does not have (a fork commit) counts as upstream all the same:
    // the fork's work below it would silently stop being the fork's.
    if repo.is_shallow() {
        notes.push(
            "this clone is shallow: own commits and churn are counted only within the fetched history (`git fetch --unshallow`)".into(),
        );
    }
    let fork_point = fork_point(repo, fork.id, &own, &own_ids, &mut notes)?;
    let trees = Trees {
        base: repo.tree_of(merge_base)?,
        fork: repo.tree_of(fork.id)?,
        target: repo.tree_of(target.id)?,
        fork_point: repo.tree_of(fork_point)?,
    };

    // git merges while the history is read: both are a core's work, and neither needs the
    // other.
    let merging = start_merges(repo, git, fork.id, fork_point, target.id);
    crate::progress::phase("walking the history since the merge-base");
    // The history forkdrift reasons about: the fork's side since the merge-base, every upstream
    // ref's side since the merge-base, and the target's side since the fork point.
    let fork_range = repo.walk(&[fork.id], &[merge_base])?;
    let since_base_ordered = repo.walk(&tips, &[merge_base])?;
    let since_point = repo.walk(&[target.id], &[fork_point])?;
    let since_base: HashSet<CommitId> = since_base_ordered.iter().copied().collect();
    let mut graph_ids = since_base_ordered.clone();
    let mut seen = since_base.clone();
    for id in fork_range.iter().chain(&since_point) {
        if seen.insert(*id) {
            graph_ids.push(*id);
        }
    }
    let infos: HashMap<CommitId, CommitInfo> = own.iter().map(|c| (c.id, c.clone())).collect();
    let mut commits = repo.par_map(&graph_ids, |local, id| match infos.get(&id) {
        Some(info) => Ok(Some(info.clone())),
        None => local.commit_alone(id).map(Some),
    })?;
    // Most first parents are commits just read: their trees need no second lookup.
    let tree_of: HashMap<CommitId, TreeId> = commits.iter().map(|c| (c.id, c.tree)).collect();
    for commit in commits.iter_mut().filter(|c| c.parent_tree.is_none()) {
        if let Some(parent) = commit.parents.first() {
            commit.parent_tree = Some(match tree_of.get(parent) {
                Some(tree) => *tree,
                None => repo.tree_of(*parent)?,
            });
        }
    }

    // One diff per commit, in one git process: every path each upstream commit changed (for
    // upstream matching, churn, stale copies and release notes alike) and what each commit
    // of the fork's range touched.
    let to_scan: Vec<&CommitInfo> = commits
        .iter()
        .filter(|c| !c.is_merge() && (since_base.contains(&c.id) || since_point.contains(&c.id)))
        .collect();
    crate::progress::phase("scanning what upstream's commits changed");
    let in_fork_range: HashSet<CommitId> = fork_range.iter().copied().collect();
    let scanned: HashSet<CommitId> = to_scan.iter().map(|c| c.id).collect();
    let fork_side: Vec<&CommitInfo> = commits
        .iter()
        .filter(|c| in_fork_range.contains(&c.id) && !scanned.contains(&c.id))
        .collect();
    let mut paths = scanning.finish()?;
    let unscanned: Vec<&CommitInfo> = to_scan
        .iter()
        .chain(&fork_side)
        .copied()
        .filter(|c| !paths.contains_key(&c.id))
        .collect();
    paths.extend(changed_paths(repo, git, unscanned.into_iter())?);
    let touched: HashMap<CommitId, Vec<String>> = fork_range
        .iter()
        .map(|id| (*id, paths.get(id).cloned().unwrap_or_default()))
        .collect();
    let upstream: Vec<Upstream> = to_scan
        .iter()
        .map(|commit| Upstream {
            meta: (*commit).clone(),
            paths: paths.remove(&commit.id).unwrap_or_default(),
        })
        .collect();

    let graph = Graph::new(order_like(&graph_ids, commits));
    crate::progress::phase("reading the release points and the acceptances");
    let releases = release_points(repo, &pack, remote.as_deref(), &foreign_tags)?;
    shipped.push(target.id);
    shipped.extend(releases.iter().map(|r| r.commit));
    shipped.sort();
    shipped.dedup();
    let acceptances = acceptances(repo, trees.fork)?;

    crate::progress::phase("merging the fork with the target");
    let merges = finish_merges(repo, merging)?;
    if let Some(note) = attributes_note(git)? {
        notes.push(note);
    }
    crate::progress::phase("reading the trees and the fork's diff");
    let (base_files, base_special) = repo.files_and_special(trees.base)?;
    let (fork_files, fork_special) = repo.files_and_special(trees.fork)?;
    let target_files = repo.files(trees.target)?;
    notes.extend(unmatched_own(
        &pack,
        [&base_files, &fork_files, &target_files],
    ));
    Ok(Facts {
        target_time: repo.commit(target.id)?.time,
        base_files,
        fork_files,
        base_special,
        fork_special,
        target_files,
        fork_deltas: repo.diff(Some(trees.base), trees.fork, true, &[])?,
        pack,
        fork,
        target,
        remote,
        upstream_tips: tips,
        upstream_refs,
        shipped,
        merge_base,
        fork_point,
        own,
        own_ids,
        trees,
        touched,
        graph,
        since_base,
        since_point,
        upstream,
        releases,
        acceptances,
        merges,
        notes,
    })
}

/// `commits` (in any order) listed as `ids` lists them.
fn order_like(ids: &[CommitId], commits: Vec<CommitInfo>) -> Vec<CommitInfo> {
    let mut by_id: HashMap<CommitId, CommitInfo> = commits.into_iter().map(|c| (c.id, c)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

/// Every path each upstream commit changed against its first parent.
pub(super) fn scan(repo: &Repo, git: &Git, commits: &[&CommitInfo]) -> Result<Vec<Upstream>> {
    let mut paths = changed_paths(repo, git, commits.iter().copied())?;
    Ok(commits
        .iter()
        .map(|commit| Upstream {
            meta: (*commit).clone(),
            paths: paths.remove(&commit.id).unwrap_or_default(),
        })
        .collect())
}

/// The paths each commit changed: against its parent, and for a merge the paths where it
/// differs from every parent (what the merge itself wrote: conflict resolutions, evil
/// merges), as git's combined diff lists them. One `git log --raw` for all of them: git's
/// tree diff in one process is an order of magnitude faster than one libgit2 diff per
/// commit, and a merge from upstream differs from its first parent in every path upstream
/// changed.
fn changed_paths<'c>(
    repo: &Repo,
    git: &Git,
    commits: impl Iterator<Item = &'c CommitInfo>,
) -> Result<HashMap<CommitId, Vec<String>>> {
    let mut input = String::new();
    for commit in commits {
        input.push_str(&commit.id.to_string());
        input.push('\n');
    }
    if input.is_empty() {
        return Ok(HashMap::new());
    }
    log_raw(repo.git_dir(), git, &input, &["--no-walk=unsorted"])
}

/// [`changed_paths`] of the commits since the merge-base (`tips` but not `merge_base`, merges
/// aside), walked by git itself on a thread of its own: it needs only the merge-base and the
/// tips, and runs while the own commits are walked and read (`endpoints_with` calls for it).
/// What it lacks (a commit it did not list) is scanned with the fork's side afterwards.
fn start_scan(
    repo: &Repo,
    git: &Git,
    tips: &[CommitId],
    merge_base: CommitId,
) -> Background<Result<HashMap<CommitId, Vec<String>>>> {
    let mut input: String = tips.iter().map(|tip| format!("{tip}\n")).collect();
    input.push_str(&format!("^{merge_base}\n"));
    let (git_dir, git) = (repo.git_dir().to_path_buf(), git.clone());
    Background::start(move || log_raw(&git_dir, &git, &input, &["--no-merges"]))
}

/// `git log --raw` of the revisions in `input` (one per line), with `how` they are walked.
fn log_raw(
    git_dir: &std::path::Path,
    git: &Git,
    input: &str,
    how: &[&str],
) -> Result<HashMap<CommitId, Vec<String>>> {
    let mut command = git.command(Some(git_dir));
    command.args(["log", "--stdin"]).args(how).args([
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        "--root",
        "--no-show-signature",
        "--diff-merges=combined",
        "--format=%x00%H",
    ]);
    let output = git.run(command, Some(input.as_bytes()))?;
    Ok(parse_raw(&output))
}

/// `git log --raw -z --format=%x00%H`: NUL-separated fields; a commit id opens each commit,
/// a `:mode mode id id status` field is followed by the path it changed.
fn parse_raw(output: &[u8]) -> HashMap<CommitId, Vec<String>> {
    let mut out: HashMap<CommitId, Vec<String>> = HashMap::new();
    let mut current: Option<CommitId> = None;
    let mut fields = output.split(|&b| b == 0);
    while let Some(field) = fields.next() {
        let field = String::from_utf8_lossy(field);
        let field = field.trim_start_matches('\n');
        if field.starts_with(':') {
            if let (Some(id), Some(path)) = (current, fields.next()) {
                out.entry(id)
                    .or_default()
                    .push(String::from_utf8_lossy(path).into_owned());
            }
        } else if let Ok(id) = field.trim().parse::<CommitId>() {
            current = Some(id);
            out.entry(id).or_default();
        }
    }
    for paths in out.values_mut() {
        paths.sort();
    }
    out
}

/// Merge drivers (`merge=union`) come from the fork's `.gitattributes` only with git 2.42+;
/// older git reads none, and says so rather than differ silently from `git merge`.
fn attributes_note(git: &Git) -> Result<Option<String>> {
    let (major, minor, found) = git.version()?;
    Ok(((major, minor) < super::git::ATTR_SOURCE_MIN).then(|| {
        format!(
            "git {found} cannot read .gitattributes from a commit (2.42+ can): merges ignore the fork's merge attributes (such as merge=union), so conflicts may differ from `git merge` in a checkout"
        )
    }))
}

/// The fork and its fork point merged with the target, on a thread of its own.
fn start_merges(
    repo: &Repo,
    git: &Git,
    fork: CommitId,
    fork_point: CommitId,
    target: CommitId,
) -> Background<Result<(merge::Scratch, Vec<MergeOutcome>)>> {
    let mut requests = vec![MergeRequest::commits(fork, target)];
    if fork_point != fork {
        requests.push(MergeRequest::commits(fork_point, target));
    }
    let git = git.with_attributes_of(fork);
    let (git_dir, objects) = (repo.git_dir().to_path_buf(), repo.objects_dir());
    Background::start(move || merge::merge_all_at(&git_dir, &objects, &git, &requests))
}

/// The merges' outcomes, their objects readable through `repo`.
fn finish_merges(
    repo: &Repo,
    merging: Background<Result<(merge::Scratch, Vec<MergeOutcome>)>>,
) -> Result<Merges> {
    let (scratch, outcomes) = merging.finish()?;
    repo.add_scratch(scratch)?;
    let mut outcomes = outcomes.into_iter();
    let fork_merge = outcomes.next().expect("one outcome per request");
    Ok(Merges {
        merged_files: repo.files(fork_merge.tree)?,
        fork: fork_merge,
        fork_point: outcomes.next(),
    })
}

/// The newest upstream commit the fork's own work builds on: among the upstream parents of own
/// commits, the one no other descends from (the latest merge from upstream wins).
fn fork_point(
    repo: &Repo,
    fork: CommitId,
    own: &[CommitInfo],
    own_ids: &HashSet<CommitId>,
    notes: &mut Vec<String>,
) -> Result<CommitId> {
    if own.is_empty() {
        return Ok(fork);
    }
    let mut boundary: Vec<CommitId> = own
        .iter()
        .flat_map(|c| c.parents.iter().copied())
        .filter(|p| !own_ids.contains(p))
        .collect();
    boundary.sort();
    boundary.dedup();
    let mut heads = Vec::new();
    for candidate in &boundary {
        let mut superseded = false;
        for other in &boundary {
            if other != candidate && repo.is_ancestor(*candidate, *other)? {
                superseded = true;
                break;
            }
        }
        if !superseded {
            heads.push(*candidate);
        }
    }
    if heads.is_empty() {
        // Own commits all the way down to a root: the fork has no upstream history at all.
        return Ok(own.last().map_or(fork, |c| c.id));
    }
    let mut dated = heads
        .iter()
        .map(|h| Ok((repo.commit(*h)?.time, *h)))
        .collect::<Result<Vec<_>>>()?;
    dated.sort();
    let newest = dated.last().expect("non-empty").1;
    if dated.len() > 1 {
        notes.push(format!(
            "the fork builds on {} upstream commits none of which contains the others (it merged from several upstream branches or tags); the newest, {}, is taken as the fork point",
            dated.len(),
            newest.short()
        ));
    }
    Ok(newest)
}
