//! Fork work that upstream already has. Own commits are looked for among the upstream
//! commits since the merge-base that touched the same files (or where those files went): one
//! by one by patch-id, by a `cherry picked from` trailer and by PR number with the same
//! subject; and as branches. A branch of own commits (merges from upstream inside it do not
//! cut it) is judged the way a person reads a pull request: the upstream commit that merged
//! it makes the branch's net change, and the branch explains most of that commit. Commits that
//! ride along (formatting, lint fixes, a change the branch undid later) belong to the PR;
//! the fork's own work before or on top of it does not.

mod branches;
mod exact;
mod lines;
mod settled;

pub use lines::line_changes;
pub use settled::Settled;

use super::backports;
use super::patches::{self, CONTAINED, LineChanges, compose};
use crate::error::Result;
use crate::facts::{CommitInfo, Facts, Objects, Upstream, par_map};
use crate::model::{AlreadyUpstream, Change, Origin};
use branches::{Branch, branches, descendants, read_branch, taken_back, undone};
use lines::{Reading, Survival, read_change};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A commit belongs to a PR when at least this share of its line changes is the PR's or is
/// undone or redone elsewhere in its branch ...
const BELONGS: f64 = 0.5;
/// ... and a commit before the PR's first or after its last commit that shares its lines
/// only when nearly all of it does: the fork's own work on top of a PR is the fork's.
const RIDES_ALONG: f64 = 0.8;
/// An upstream commit the fork's change makes at least this share of is mostly that change:
/// the merge of the PR, not a bigger commit that happens to contain it.
const MOSTLY: f64 = 0.5;

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

/// `path` is watched, or lies in a watched directory: what a pathspec of `watched` selects.
fn watches(watched: &HashSet<&str>, path: &str) -> bool {
    watched.contains(path)
        || path
            .match_indices('/')
            .any(|(at, _)| watched.contains(&path[..at]))
}

/// A reading of some own commits as one upstream commit, before the readings compete.
#[derive(Debug, Clone)]
struct Proposal {
    /// Index into the upstream commits that touched a watched path.
    upstream: usize,
    /// Indices into the own commits, oldest first.
    members: Vec<usize>,
    method: &'static str,
    share: f64,
    explained: f64,
}

/// Own commits upstream already has, one entry per upstream commit (a squash-merged PR is one
/// entry with all its commits), with how they were recognised. `changes` (with their target
/// paths) tell where moved files went.
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
    let own_paths = |i: usize| -> &[String] {
        touched
            .get(&own[i].id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
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
    // Upstream commits by path, so that each own commit meets only those that touched its
    // files (or where they went), not every upstream commit.
    let mut by_path: HashMap<&str, Vec<usize>> = HashMap::new();
    for (u, commit) in upstream.iter().enumerate() {
        for path in &commit.paths {
            if watched_set.contains(path.as_str()) {
                by_path.entry(path.as_str()).or_default().push(u);
            }
        }
    }
    let related: Vec<BTreeSet<usize>> = (0..own.len())
        .map(|i| {
            let mut found = BTreeSet::new();
            for path in own_paths(i) {
                let names = std::iter::once(path.as_str())
                    .chain(aliases.get(path.as_str()).into_iter().flatten().copied());
                for name in names {
                    found.extend(by_path.get(name).into_iter().flatten().copied());
                }
            }
            found
        })
        .collect();
    let in_target = facts.graph.reachable(&[facts.target.id]);
    // Reading a branch as a squash is an inference: it is made only against what upstream
    // merged (on op-geth, half of the upstream commits since the merge-base are only on 53
    // devnet and feature branches). One-by-one matches (patch-id, trailer, PR number) are
    // evidence, and are looked for on every upstream ref.
    let shipped = facts.graph.reachable(&facts.shipped);
    let watched = &watched[..];

    let mut patched = exact::patched(facts, &own, &upstream, &related);

    let survival = Survival::new(objects);
    // Every line change the branches below compare, read up front on every core: the own
    // commits of each branch that meets an upstream commit, and those upstream commits; and
    // with them the commits whose patches the one-by-one matching compares, whose digests
    // come from the same reading.
    let lines_met: Vec<(Vec<usize>, BTreeSet<usize>)> = branches(&own, facts)
        .into_iter()
        .map(|line| {
            let candidates: BTreeSet<usize> = line
                .iter()
                .flat_map(|&i| related[i].iter().copied())
                .filter(|&u| shipped.contains(&upstream[u].meta.id))
                .collect();
            (line, candidates)
        })
        .filter(|(_, candidates)| !candidates.is_empty())
        .collect();
    let own_needed: BTreeSet<usize> = lines_met.iter().flat_map(|(l, _)| l).copied().collect();
    let upstream_needed: BTreeSet<usize> = lines_met.iter().flat_map(|(_, c)| c).copied().collect();
    let union = |needed: &BTreeSet<usize>, patched: &[usize]| -> Vec<usize> {
        let all: BTreeSet<usize> = needed.iter().chain(patched).copied().collect();
        all.into_iter().collect()
    };
    let own_read = union(&own_needed, &patched.own);
    let upstream_read = union(&upstream_needed, &patched.upstream);
    let own_readings = par_map(objects, &own_read, |objects, &i| {
        // A commit's own changed paths are all watched: they narrow the diff.
        match own_paths(i) {
            [] => Ok(Reading::default()),
            paths => read_change(objects, own[i].parent_tree, own[i].tree, paths),
        }
    })?;
    let upstream_readings = par_map(objects, &upstream_read, |objects, &u| {
        let meta = &upstream[u].meta;
        // The upstream commit's watched paths, not every watched path: a pathspec of
        // hundreds of paths costs the tree diff more than the commit's own few.
        let paths: Vec<String> = upstream[u]
            .paths
            .iter()
            .filter(|p| watches(&watched_set, p))
            .cloned()
            .collect();
        if paths.is_empty() {
            Ok(Reading::default())
        } else {
            read_change(objects, meta.parent_tree, meta.tree, &paths)
        }
    })?;
    patched.own_digest = own_read
        .iter()
        .zip(&own_readings)
        .map(|(&i, r)| (i, r.patch))
        .collect();
    patched.upstream_digest = upstream_read
        .iter()
        .zip(&upstream_readings)
        .map(|(&u, r)| (u, r.patch))
        .collect();
    let mut proposals = exact::exact_matches(facts, objects, &own, &upstream, &related, &patched)?;
    // Only the branches' own readings take part below: a reading of its own (taken back,
    // partly taken readings) is what the branches compared.
    let mut mine: Vec<Option<LineChanges>> = vec![None; own.len()];
    for (i, reading) in own_read.iter().zip(own_readings) {
        if own_needed.contains(i) {
            mine[*i] = Some(reading.lines);
        }
    }
    let theirs: HashMap<usize, LineChanges> = upstream_read
        .iter()
        .zip(upstream_readings)
        .filter(|(u, _)| upstream_needed.contains(u))
        .map(|(&u, reading)| (u, reading.lines))
        .collect();
    for (line, candidates) in lines_met {
        let lines: Vec<LineChanges> = line
            .iter()
            .map(|&i| mine[i].clone().unwrap_or_default())
            .collect();
        let positions: Vec<usize> = (0..line.len()).collect();
        let undone = undone(&positions, &lines);
        for u in candidates {
            let target = &theirs[&u];
            let superseded = |at: usize, tip: usize| {
                survival.superseded(&lines[at], own_paths(line[at]), own[line[tip]].tree)
            };
            let branch = Branch {
                line: &line,
                lines: &lines,
                undone: &undone,
                related: &related,
                paths_of: &own_paths,
                superseded: &superseded,
            };
            let absorbed = |at: usize| match upstream[u].meta.parent_tree {
                Some(tree) => 1.0 - survival.superseded(&lines[at], own_paths(line[at]), tree),
                None => 0.0,
            };
            if let Some(found) = read_branch(&branch, u, target, &absorbed) {
                let (members, net, paths) = found;
                if let Some((share, explained)) = weigh(&net, paths, target, upstream[u]) {
                    proposals.push(Proposal {
                        upstream: u,
                        method: if members.len() > 1 { "squash" } else { "fuzzy" },
                        members,
                        share,
                        explained,
                    });
                }
            }
        }
    }

    // A change the fork itself took back later (telegraf's fork moved a workflow to
    // actions/checkout@v3, as upstream did, and back to v2 an hour later) is no work of the
    // fork's that upstream has: there is nothing left to drop.
    // A revert touches the paths of what it reverts, so it met the same upstream commits and
    // its line changes were read above.
    let changes_of = |i: usize| mine[i].as_ref();
    let later = descendants(facts, &own);
    proposals.retain(|p| {
        let newest = p.members.iter().copied().max();
        !newest.is_some_and(|newest| taken_back(&p.members, &later(newest), &changes_of))
    });

    // The readings compete for the commits: the best reading takes its commits first.
    let evidence = |p: &Proposal| {
        let meta = &upstream[p.upstream].meta;
        let title = patches::normalized_subject(&meta.subject);
        let numbers = crate::model::pr_numbers(&meta.subject);
        p.members.iter().any(|&i| {
            patches::normalized_subject(&own[i].subject) == title
                || crate::model::pr_numbers(&own[i].subject)
                    .iter()
                    .any(|n| numbers.contains(n))
        })
    };
    let bucket = |x: f64| (x * 20.0).round() as i64;
    let key = |p: &Proposal| {
        (
            p.explained >= MOSTLY,
            in_target.contains(&upstream[p.upstream].meta.id),
            evidence(p),
            bucket(p.explained),
            bucket(p.share),
            p.members.len(),
            p.method != "squash" && p.method != "fuzzy",
        )
    };
    let readings = proposals.clone();
    let mut ranked: Vec<(usize, Proposal)> = proposals.into_iter().enumerate().collect();
    ranked.sort_by(|(ia, a), (ib, b)| key(b).cmp(&key(a)).then(ia.cmp(ib)));
    let mut taken: HashSet<usize> = HashSet::new();
    let mut accepted: Vec<Proposal> = Vec::new();
    for (_, mut proposal) in ranked {
        let free: Vec<usize> = proposal
            .members
            .iter()
            .copied()
            .filter(|i| !taken.contains(i))
            .collect();
        if free.is_empty() {
            continue;
        }
        if free.len() < proposal.members.len() {
            // What is left of the reading must still be the upstream commit's on its own.
            let Some(target) = theirs.get(&proposal.upstream) else {
                continue;
            };
            let net = compose(free.iter().filter_map(|&i| mine[i].as_ref()));
            let paths: HashSet<&String> = free.iter().flat_map(|&i| own_paths(i)).collect();
            let Some((share, explained)) =
                weigh(&net, paths.len(), target, upstream[proposal.upstream])
            else {
                continue;
            };
            proposal.share = share;
            proposal.explained = explained;
            proposal.members = free;
        }
        taken.extend(proposal.members.iter().copied());
        accepted.push(proposal);
    }

    // One entry per upstream commit: a PR whose commits were found by several readings is
    // still one PR.
    let mut by_upstream: Vec<(usize, Vec<Proposal>)> = Vec::new();
    for proposal in accepted {
        match by_upstream
            .iter_mut()
            .find(|(u, _)| *u == proposal.upstream)
        {
            Some((_, group)) => group.push(proposal),
            None => by_upstream.push((proposal.upstream, vec![proposal])),
        }
    }
    let mut copies = backports::Index::new(facts);
    let mut found = Vec::new();
    for (u, group) in by_upstream {
        let mut members: Vec<usize> = group.iter().flat_map(|p| p.members.clone()).collect();
        members.sort_unstable();
        let largest = group
            .iter()
            .max_by_key(|p| p.members.len())
            .expect("a group has a reading");
        let method = if members.len() > 1 && group.len() > 1 {
            "squash"
        } else {
            largest.method
        };
        let similarity = group.iter().map(|p| p.share).fold(1.0, f64::min);
        let commits: Vec<String> = members
            .iter()
            .rev()
            .map(|&i| own[i].id.to_string())
            .collect();
        let net = compose(members.iter().filter_map(|&i| mine[i].as_ref()));
        let member_infos: Vec<&CommitInfo> = members.iter().map(|&i| own[i]).collect();
        // Another upstream commit that is mostly the same commits' work is the same PR
        // elsewhere, whatever its subject says: a backport branch squashed two PRs into one.
        let also: Vec<&CommitInfo> = readings
            .iter()
            .filter(|p| {
                p.upstream != u
                    && p.explained >= MOSTLY
                    && 2 * p.members.iter().filter(|i| members.contains(i)).count() >= members.len()
            })
            .map(|p| &upstream[p.upstream].meta)
            .collect();
        let same = copies.same_pr(
            objects,
            watched,
            &upstream[u].meta,
            &member_infos,
            &also,
            &net,
            &in_target,
        )?;
        found.push(AlreadyUpstream {
            commit: commits[0].clone(),
            commits,
            upstream_commit: same.commit.id.to_string(),
            method: method.into(),
            similarity: super::similarity::round(similarity),
            upstream_subject: same.commit.subject.clone(),
            pr: same.pr,
            also_in: same.also_in,
            in_target: in_target.contains(&same.commit.id),
        });
    }
    found.sort_by(|a, b| a.commit.cmp(&b.commit));
    Ok(found)
}
