//! Resolves what every command needs before it can analyse anything: the fork and the target
//! commits, the upstream refs, the rule pack, the merge-base, the fork's own commits and its
//! fork point. Each failure becomes a diagnostic that says how to recover.

use crate::error::{Error, Result};
use crate::repo::{CommitMeta, Repo};
use crate::rules::Pack;
use git2::Oid;
use globset::GlobSetBuilder;
use std::collections::HashSet;

#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The fork revision (default `HEAD`).
    pub fork: Option<String>,
    /// The upstream remote (default `upstream`).
    pub remote: Option<String>,
    /// The target revision (default: the remote's default branch).
    pub to: Option<String>,
    /// More refs (globs over full ref names) that count as upstream.
    pub upstream_refs: Vec<String>,
    /// `--rules NAME|FILE`; auto-detected from the target's tree when absent.
    pub rules: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: String,
    pub id: Oid,
}

pub struct Session<'r> {
    pub repo: &'r Repo,
    pub pack: Pack,
    pub fork: Resolved,
    pub target: Resolved,
    pub remote: Option<String>,
    /// Tips of every upstream ref: remote branches, release tags, extra refs, the target.
    pub upstream_tips: Vec<Oid>,
    pub merge_base: Oid,
    /// Commits reachable from the fork and from no upstream ref, newest first.
    pub own: Vec<CommitMeta>,
    pub own_ids: HashSet<Oid>,
    pub fork_point: Oid,
    pub notes: Vec<String>,
}

impl<'r> Session<'r> {
    pub fn open(repo: &'r Repo, selection: &Selection) -> Result<Session<'r>> {
        let fork_name = selection.fork.clone().unwrap_or_else(|| "HEAD".into());
        let fork = repo.resolve_commit(&fork_name)?;

        let explicit_pack = selection.rules.as_deref().map(Pack::load).transpose()?;
        let remote_name = selection
            .remote
            .clone()
            .unwrap_or_else(|| "upstream".into());
        let remote_refs = repo.refs_under(&format!("refs/remotes/{remote_name}/"))?;
        let remote =
            (repo.has_remote(&remote_name) || !remote_refs.is_empty()).then(|| remote_name.clone());
        if remote.is_none() && (selection.remote.is_some() || selection.to.is_none()) {
            // A fork looks like its upstream: its own tree names the pack, and so the URL.
            let detected = match &explicit_pack {
                Some(_) => None,
                None => {
                    let tree = repo.tree_of(fork)?;
                    Pack::detect(|path| repo.entry(tree, path).ok().flatten().is_some())
                        .and_then(|name| Pack::builtin(&name).ok())
                }
            };
            return Err(no_remote(
                repo,
                &remote_name,
                explicit_pack.as_ref().or(detected.as_ref()),
            ));
        }

        let target_name = match (&selection.to, &remote) {
            (Some(to), _) => to.clone(),
            (None, Some(remote)) => {
                let branch = repo
                    .default_branch(remote)
                    .ok_or_else(|| Error::NoDefaultBranch {
                        remote: remote.clone(),
                    })?;
                branch.trim_start_matches("refs/remotes/").to_string()
            }
            (None, None) => unreachable!("checked above"),
        };
        let target = repo.resolve_commit(&target_name)?;
        let target_tree = repo.tree_of(target)?;

        let pack = match explicit_pack {
            Some(pack) => pack,
            None => {
                let name = Pack::detect(|path| {
                    repo.entry(target_tree, path).ok().flatten().is_some()
                        || repo.has_dir(target_tree, path).unwrap_or(false)
                })
                .ok_or_else(|| Error::NoPackDetected {
                    target: target_name.clone(),
                })?;
                Pack::builtin(&name)?
            }
        };

        let mut tips: Vec<Oid> = remote_refs.iter().map(|(_, id)| *id).collect();
        if let Some(versions) = &pack.versions {
            for (name, id) in repo.refs_under("refs/tags/")? {
                if versions
                    .tags
                    .is_match(name.trim_start_matches("refs/tags/"))
                {
                    tips.push(id);
                }
            }
        }
        if !selection.upstream_refs.is_empty() {
            let mut globs = GlobSetBuilder::new();
            for pattern in &selection.upstream_refs {
                let glob = globset::Glob::new(pattern).map_err(|e| Error::Usage {
                    message: format!("invalid --upstream-ref pattern `{pattern}`: {e}"),
                    help: "patterns match full ref names, e.g. 'refs/heads/vendor/*' or 'refs/tags/v*'".into(),
                })?;
                globs.add(glob);
            }
            let globs = globs.build().map_err(|e| Error::Usage {
                message: e.to_string(),
                help: "patterns match full ref names".into(),
            })?;
            for (name, id) in repo.refs_under("refs/")? {
                if globs.is_match(&name) {
                    tips.push(id);
                }
            }
        }
        tips.push(target);
        tips.sort();
        tips.dedup();

        let merge_base = repo
            .merge_base(fork, target)?
            .ok_or_else(|| Error::NoMergeBase {
                ours: fork_name.clone(),
                theirs: target_name.clone(),
                shallow: repo.is_shallow(),
            })?;

        let own_ids_ordered = repo.walk(&[fork], &tips)?;
        let own_ids: HashSet<Oid> = own_ids_ordered.iter().copied().collect();
        let own = own_ids_ordered
            .iter()
            .map(|id| repo.commit(*id))
            .collect::<Result<Vec<_>>>()?;

        let mut notes = Vec::new();
        if repo.is_shallow() {
            notes.push(
                "this clone is shallow: own commits and churn are counted only within the fetched history (`git fetch --unshallow`)".into(),
            );
        }
        let fork_point = fork_point(repo, fork, &own, &own_ids, &mut notes)?;

        Ok(Session {
            repo,
            pack,
            fork: Resolved {
                name: fork_name,
                id: fork,
            },
            target: Resolved {
                name: target_name,
                id: target,
            },
            remote,
            upstream_tips: tips,
            merge_base,
            own,
            own_ids,
            fork_point,
            notes,
        })
    }
}

/// The newest upstream commit the fork's own work builds on: among the upstream parents of own
/// commits, the one no other descends from (the latest merge from upstream wins).
fn fork_point(
    repo: &Repo,
    fork: Oid,
    own: &[CommitMeta],
    own_ids: &HashSet<Oid>,
    notes: &mut Vec<String>,
) -> Result<Oid> {
    if own.is_empty() {
        return Ok(fork);
    }
    let mut boundary: Vec<Oid> = own
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
    if dated.len() > 1 {
        notes.push(format!(
            "the fork builds on {} unrelated upstream lines; the newest ({}) is taken as the fork point",
            dated.len(),
            &dated.last().expect("non-empty").1.to_string()[..12]
        ));
    }
    Ok(dated.last().expect("non-empty").1)
}

fn no_remote(repo: &Repo, name: &str, pack: Option<&Pack>) -> Error {
    let url = pack
        .and_then(|p| p.upstream_url.clone())
        .unwrap_or_else(|| "<upstream-url>".into());
    let existing = repo.remote_names();
    let existing = if existing.is_empty() {
        String::new()
    } else {
        format!(
            " (this repository has: {}; pick one with --upstream NAME)",
            existing.join(", ")
        )
    };
    Error::NoRemote {
        name: name.into(),
        help: format!(
            "add it and fetch it: `git remote add {name} {url} && git fetch {name} --tags`{existing}; or name the target with --to <rev>"
        ),
    }
}
