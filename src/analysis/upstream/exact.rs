//! One-by-one matches of own commits with upstream commits, before any line comparison.

use super::Proposal;
use crate::analysis::patches;
use crate::error::Result;
use crate::facts::{CommitId, CommitInfo, Facts, Objects, Upstream, par_map};
use std::collections::{BTreeSet, HashMap, HashSet};

fn patch_id(objects: &dyn Objects, commit: &CommitInfo) -> Result<Option<String>> {
    match commit.parent_tree {
        Some(parent) => objects.patch_id(parent, commit.tree),
        None => Ok(None),
    }
}

/// The own and upstream commits whose patches [`exact_matches`] compares: every own commit
/// not picked by a trailer that shares its set of changed paths with an upstream commit it
/// met, and those upstream commits. Equal patch-ids need equal sets of changed paths: only
/// such pairs are worth reading (a third of an op-geth audit once went to patch-ids of pairs
/// that could never match).
pub(super) struct Patched {
    picked: Vec<Option<usize>>,
    pub own: Vec<usize>,
    pub upstream: Vec<usize>,
    /// The digests of those commits' patches, read with their line changes.
    pub own_digest: HashMap<usize, Option<u64>>,
    pub upstream_digest: HashMap<usize, Option<u64>>,
}

pub(super) fn patched(
    facts: &Facts,
    own: &[&CommitInfo],
    upstream: &[&Upstream],
    related: &[BTreeSet<usize>],
) -> Patched {
    let all_ids: HashSet<String> = facts.since_base.iter().map(CommitId::to_string).collect();
    let picked: Vec<Option<usize>> = own
        .iter()
        .map(|commit| {
            let picked = patches::cherry_picked_from(&commit.message)
                .into_iter()
                .find(|id| {
                    all_ids.contains(id) || all_ids.iter().any(|full| full.starts_with(id.as_str()))
                })?;
            upstream
                .iter()
                .position(|u| u.meta.id.to_string().starts_with(&picked))
        })
        .collect();
    let same = same_paths(facts, own, upstream);
    let own_patched: Vec<usize> = (0..own.len())
        .filter(|&i| picked[i].is_none() && related[i].iter().any(|&u| same(i, u)))
        .collect();
    let upstream_patched: Vec<usize> = own_patched
        .iter()
        .flat_map(|&i| related[i].iter().copied().filter(move |&u| same(i, u)))
        .collect::<BTreeSet<usize>>()
        .into_iter()
        .collect();
    Patched {
        picked,
        own: own_patched,
        upstream: upstream_patched,
        own_digest: HashMap::new(),
        upstream_digest: HashMap::new(),
    }
}

/// Whether own commit `i` and upstream commit `u` changed the same set of paths.
fn same_paths<'a>(
    facts: &'a Facts,
    own: &'a [&CommitInfo],
    upstream: &'a [&Upstream],
) -> impl Fn(usize, usize) -> bool + Copy + 'a {
    move |i, u| {
        let own_paths = facts.touched.get(&own[i].id).map_or(&[][..], Vec::as_slice);
        upstream[u].paths.len() == own_paths.len()
            && upstream[u]
                .paths
                .iter()
                .all(|p| own_paths.binary_search(p).is_ok())
    }
}

/// One-by-one matches that need no line comparison: a `cherry picked from` trailer, the same
/// patch-id, the same PR number and subject. git's patch-id is computed only for pairs whose
/// digests agree, and for commits that have none (a commit that adds, deletes or moves a
/// file).
pub(super) fn exact_matches<'a>(
    facts: &Facts,
    objects: &dyn Objects,
    own: &[&'a CommitInfo],
    upstream: &[&'a Upstream],
    related: &[BTreeSet<usize>],
    patched: &Patched,
) -> Result<Vec<Proposal>> {
    let mut out = Vec::new();
    let exact = |i: usize, u: usize, method: &'static str| Proposal {
        upstream: u,
        members: vec![i],
        method,
        share: 1.0,
        explained: 1.0,
    };
    let same = same_paths(facts, own, upstream);
    let digest = |map: &HashMap<usize, Option<u64>>, at: usize| map.get(&at).copied().flatten();
    // The pairs git's patch-id decides: digests equal, or one missing.
    let undecided = |i: usize, u: usize| {
        same(i, u)
            && match (
                digest(&patched.own_digest, i),
                digest(&patched.upstream_digest, u),
            ) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    };
    let pairs: Vec<(usize, usize)> = patched
        .own
        .iter()
        .flat_map(|&i| related[i].iter().map(move |&u| (i, u)))
        .filter(|&(i, u)| undecided(i, u))
        .collect();
    let (own_asked, upstream_asked): (BTreeSet<usize>, BTreeSet<usize>) = pairs.into_iter().unzip();
    let own_asked: Vec<usize> = own_asked.into_iter().collect();
    let upstream_asked: Vec<usize> = upstream_asked.into_iter().collect();
    // Like the upstream side's, a commit whose blobs this clone lacks (a partial clone) has no
    // patch-id to match, and the other matches still apply.
    let patch_ids = |commits: &[usize], meta: &(dyn Fn(usize) -> &'a CommitInfo + Sync)| {
        par_map(objects, commits, |objects, &at| {
            Ok(patch_id(objects, meta(at)).ok().flatten())
        })
        .map(|ids| {
            commits
                .iter()
                .copied()
                .zip(ids)
                .collect::<HashMap<usize, Option<String>>>()
        })
    };
    let own_patch_ids = patch_ids(&own_asked, &|i| own[i])?;
    let upstream_patch_ids = patch_ids(&upstream_asked, &|u| &upstream[u].meta)?;
    for (i, commit) in own.iter().enumerate() {
        if let Some(u) = patched.picked[i] {
            out.push(exact(i, u, "cherry-pick"));
            continue;
        }
        if related[i].is_empty() {
            continue;
        }
        if let Some(Some(own_patch)) = own_patch_ids.get(&i) {
            if let Some(&u) = related[i].iter().find(|&&u| {
                undecided(i, u)
                    && upstream_patch_ids.get(&u).and_then(Option::as_ref) == Some(own_patch)
            }) {
                out.push(exact(i, u, "patch-id"));
                continue;
            }
        }
        let prs = crate::model::pr_numbers(&commit.subject);
        let subject = patches::normalized_subject(&commit.subject);
        if let Some(&u) = related[i].iter().find(|&&u| {
            !prs.is_empty()
                && crate::model::pr_numbers(&upstream[u].meta.subject)
                    .iter()
                    .any(|n| prs.contains(n))
                && patches::normalized_subject(&upstream[u].meta.subject) == subject
        }) {
            out.push(exact(i, u, "pr-number"));
        }
    }
    Ok(out)
}
