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

/// One-by-one matches that need no line comparison: a `cherry picked from` trailer, the same
/// patch-id, the same PR number and subject.
pub(super) fn exact_matches<'a>(
    facts: &Facts,
    objects: &dyn Objects,
    own: &[&'a CommitInfo],
    upstream: &[&'a Upstream],
    related: &[BTreeSet<usize>],
) -> Result<Vec<Proposal>> {
    let all_ids: HashSet<String> = facts.since_base.iter().map(CommitId::to_string).collect();
    let mut out = Vec::new();
    let exact = |i: usize, u: usize, method: &'static str| Proposal {
        upstream: u,
        members: vec![i],
        method,
        share: 1.0,
        explained: 1.0,
    };
    let own_paths = |i: usize| facts.touched.get(&own[i].id).map_or(&[][..], Vec::as_slice);
    // Equal patch-ids need equal sets of changed paths: only such pairs are worth the two
    // tree diffs a patch-id costs (a third of an op-geth audit went to patch-ids of pairs
    // that could never match).
    let same_paths = |i: usize, u: usize| {
        let own_paths = own_paths(i);
        upstream[u].paths.len() == own_paths.len()
            && upstream[u]
                .paths
                .iter()
                .all(|p| own_paths.binary_search(p).is_ok())
    };
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
    // Every patch-id the matching below may compare, computed up front on every core. Like
    // the upstream side's below, a commit whose blobs this clone lacks (a partial clone) has
    // no patch-id to match, and the other matches still apply.
    let own_patched: Vec<usize> = (0..own.len())
        .filter(|&i| picked[i].is_none() && related[i].iter().any(|&u| same_paths(i, u)))
        .collect();
    let upstream_patched: Vec<usize> = own_patched
        .iter()
        .flat_map(|&i| {
            related[i]
                .iter()
                .copied()
                .filter(move |&u| same_paths(i, u))
        })
        .collect::<BTreeSet<usize>>()
        .into_iter()
        .collect();
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
    let own_patch_ids = patch_ids(&own_patched, &|i| own[i])?;
    let upstream_patch_ids = patch_ids(&upstream_patched, &|u| &upstream[u].meta)?;
    for (i, commit) in own.iter().enumerate() {
        if let Some(u) = picked[i] {
            out.push(exact(i, u, "cherry-pick"));
            continue;
        }
        if related[i].is_empty() {
            continue;
        }
        if let Some(Some(own_patch)) = own_patch_ids.get(&i) {
            if let Some(&u) = related[i].iter().find(|&&u| {
                same_paths(i, u)
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
