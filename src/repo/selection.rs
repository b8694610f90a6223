//! The user's selection, resolved: the fork and the target (a revision, or a version `--to`
//! names), the upstream remote and refs, the rule pack, the merge-base, the own commits and
//! which release tags are upstream's. Each failure becomes a diagnostic that says how to
//! recover.

use super::Repo;
use crate::analysis::releases;
use crate::config;
use crate::error::{Error, Result};
use crate::facts::{CommitId, Objects, Resolved, TreeId};
use crate::rules::Pack;
use globset::GlobSet;
use std::collections::HashSet;

/// The remote that holds the upstream when none is named.
pub const DEFAULT_REMOTE: &str = "upstream";

/// What the user selected, resolved into values (globs compiled, defaults applied).
#[derive(Debug, Clone)]
pub struct Selection {
    /// The fork revision.
    pub fork: String,
    /// The upstream remote, when named (default `upstream`).
    pub remote: Option<String>,
    /// The target revision (default: the remote's default branch).
    pub to: Option<String>,
    /// More refs (globs over full ref names) that count as upstream.
    pub upstream_refs: Option<GlobSet>,
    /// `--rules NAME|FILE`; auto-detected from the target's tree when absent.
    pub rules: Option<String>,
    /// What resolving the selection decided that the report should say (`--to 9.3` chose
    /// v9.3.4).
    pub notes: Vec<String>,
    /// What `.forkdrift.toml` declares the fork's own.
    pub own: config::Own,
}

impl Selection {
    /// The remote that holds the upstream: the one named, else [`DEFAULT_REMOTE`].
    pub fn remote_name(&self) -> &str {
        self.remote.as_deref().unwrap_or(DEFAULT_REMOTE)
    }
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            fork: "HEAD".into(),
            remote: None,
            to: None,
            upstream_refs: None,
            rules: None,
            notes: Vec::new(),
            own: config::Own::default(),
        }
    }
}

/// The fork, the target and what every command derives from them before reading history.
pub(super) struct Endpoints {
    pub(super) pack: Pack,
    pub(super) fork: Resolved,
    pub(super) target: Resolved,
    pub(super) remote: Option<String>,
    pub(super) tips: Vec<CommitId>,
    pub(super) refs: Vec<Resolved>,
    /// The default branch and the `--upstream-ref` refs: what upstream merges into, as
    /// opposed to its other branches (feature work, devnets, backport work in progress).
    pub(super) shipped: Vec<CommitId>,
    pub(super) merge_base: CommitId,
    /// The fork's own commits (reachable from the fork, from no upstream ref), newest first.
    pub(super) own: Vec<CommitId>,
    /// Full names of the release-pattern tags no upstream ref reaches (see [`foreign_tags`]).
    pub(super) foreign_tags: Vec<String>,
    pub(super) notes: Vec<String>,
}

pub(super) fn endpoints(repo: &Repo, selection: &Selection) -> Result<Endpoints> {
    Ok(endpoints_with(repo, selection, |_, _| ())?.0)
}

/// [`endpoints`], calling `at_merge_base` as soon as the merge-base is known with it and the
/// commits upstream's history may start from (every upstream ref and release tag: a fork's own
/// tag only adds own commits), before the own commits are walked: `collect` starts git's scan
/// of upstream's commits there, to run beside that walk.
pub(super) fn endpoints_with<T>(
    repo: &Repo,
    selection: &Selection,
    at_merge_base: impl FnOnce(&[CommitId], CommitId) -> T,
) -> Result<(Endpoints, T)> {
    let fork = repo.resolve_commit(&selection.fork)?;
    let explicit_pack = selection.rules.as_deref().map(Pack::load).transpose()?;
    let remote_name = selection.remote_name().to_string();
    let remote_refs = repo.refs_under(&format!("refs/remotes/{remote_name}/"))?;
    let remote =
        (repo.has_remote(&remote_name) || !remote_refs.is_empty()).then(|| remote_name.clone());

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
        (None, None) => return Err(no_remote(repo, &remote_name, explicit_pack.as_ref(), fork)),
    };
    if remote.is_none() && selection.remote.is_some() {
        return Err(no_remote(repo, &remote_name, explicit_pack.as_ref(), fork));
    }
    let target = repo.resolve_commit(&target_name)?;
    let target_tree = repo.tree_of(target)?;

    let mut pack = match explicit_pack {
        Some(pack) => pack,
        None => {
            let name = detect_in(repo, target_tree).ok_or_else(|| Error::NoPackDetected {
                target: target_name.clone(),
            })?;
            Pack::builtin(&name)?
        }
    };

    pack.add_own(&selection.own)?;

    let mut tips: Vec<CommitId> = remote_refs.iter().map(|(_, id)| *id).collect();
    // Names for the upstream branches: a backport is told by the release branch that has it,
    // an original by the default branch, which is listed first.
    let default_branch = remote
        .as_deref()
        .and_then(|r| repo.default_branch(r))
        .map(|b| b.trim_start_matches("refs/remotes/").to_string());
    let mut refs: Vec<Resolved> = remote_refs
        .iter()
        .map(|(name, id)| Resolved {
            name: name.trim_start_matches("refs/remotes/").to_string(),
            id: *id,
        })
        .collect();
    refs.sort_by_key(|r| Some(&r.name) != default_branch.as_ref());
    let mut shipped: Vec<CommitId> = refs
        .iter()
        .filter(|r| Some(&r.name) == default_branch.as_ref())
        .map(|r| r.id)
        .collect();
    let mut notes = selection.notes.clone();
    if let Some(globs) = &selection.upstream_refs {
        let before = tips.len();
        for (name, id) in repo.refs_under("refs/")? {
            if globs.is_match(&name) {
                tips.push(id);
                shipped.push(id);
                refs.push(Resolved { name, id });
            }
        }
        if tips.len() == before {
            notes.push(
                "--upstream-ref matches no ref: globs match full ref names (`refs/heads/vendor/*`), and nothing was added to upstream".into(),
            );
        }
    }
    let upstream_branches = !tips.is_empty();
    let release_tags: Vec<(String, CommitId)> = match &pack.versions {
        Some(versions) => repo
            .refs_under("refs/tags/")?
            .into_iter()
            .filter(|(name, _)| {
                versions
                    .tags
                    .is_match(name.trim_start_matches("refs/tags/"))
            })
            .collect(),
        None => Vec::new(),
    };
    if selection.rules.is_some()
        && !pack.detect.is_empty()
        && !pack.detect.iter().any(|p| present(repo, target_tree, p))
    {
        notes.push(format!(
            "the rule pack {} expects {} in the target's tree and none is there: is it the pack for this upstream?",
            pack.name,
            pack.detect.join(", ")
        ));
    }
    // A target that upstream does not have (a fork commit) counts as upstream all the same:
    // the fork's work below it would silently stop being the fork's.
    let mut known: Vec<CommitId> = tips.clone();
    known.extend(release_tags.iter().map(|(_, id)| *id));
    if !known.is_empty() && !known.contains(&target) && !repo.walk(&[target], &known)?.is_empty() {
        notes.push(format!(
            "--to {target_name} names a commit no upstream ref has: it is treated as upstream, so the fork's work below it is not counted as the fork's"
        ));
    }
    tips.push(target);
    tips.sort();
    tips.dedup();

    let merge_base = repo
        .merge_base(fork, target)?
        .ok_or_else(|| Error::NoMergeBase {
            ours: selection.fork.clone(),
            theirs: target_name.clone(),
            shallow: repo.is_shallow(),
        })?;
    let started = {
        let mut from = tips.clone();
        from.extend(release_tags.iter().map(|(_, id)| *id));
        at_merge_base(&from, merge_base)
    };
    crate::progress::phase("walking the fork's own commits");
    let own = repo.walk(&[fork], &tips)?;
    crate::progress::phase("telling upstream's release tags from the fork's");
    let foreign_tags = foreign_tags(
        repo,
        &release_tags,
        &tips,
        &own,
        merge_base,
        upstream_branches,
    )?;
    if let Some(note) = foreign_tags_note(&foreign_tags) {
        notes.push(note);
    }
    tips.extend(
        release_tags
            .iter()
            .filter(|(name, _)| !foreign_tags.contains(name))
            .map(|(_, id)| *id),
    );
    tips.sort();
    tips.dedup();
    let endpoints = Endpoints {
        pack,
        fork: Resolved {
            name: selection.fork.clone(),
            id: fork,
        },
        target: Resolved {
            name: target_name,
            id: target,
        },
        remote,
        tips,
        refs,
        shipped,
        merge_base,
        own,
        foreign_tags,
        notes,
    };
    Ok((endpoints, started))
}

/// A pack's `detect` path, a file or a directory, is in `tree`.
fn present(repo: &Repo, tree: TreeId, path: &str) -> bool {
    repo.entry(tree, path).ok().flatten().is_some() || repo.has_dir(tree, path).unwrap_or(false)
}

fn detect_in(repo: &Repo, tree: TreeId) -> Option<String> {
    Pack::detect(|path| present(repo, tree, path))
}

/// The built-in pack that recognises the selection's target tree, if one does.
pub fn detect_pack(repo: &Repo, selection: &Selection) -> Result<Option<String>> {
    let probe = Selection {
        rules: Some("generic".into()),
        ..selection.clone()
    };
    let target = repo.resolve_commit(&target_name(repo, &probe)?)?;
    Ok(detect_in(repo, repo.tree_of(target)?))
}

/// The tags the pack's pattern matches that no upstream ref reaches: a fork's own release
/// tags (`v1.101411.0` on op-geth) look like upstream's and must not pass for its releases,
/// nor hide the fork's commits below them. `upstream` holds the upstream refs and the target,
/// `own` the fork's commits none of them reaches.
///
/// Bounded by the history since the merge-base, never by upstream's whole history: a tag on an
/// own commit is the fork's (`own` is walked anyway); a tag on neither side whose commit is
/// not older than the merge-base is walked from, hidden by the upstream refs, which stops once
/// the walk is below the tag; an older tag is taken for an ancestor of the merge-base, as
/// every old upstream release is, since proving it would walk upstream's history back to its
/// first commit (go-ethereum: ~400 tags, to 2013). Without an upstream ref but the target
/// (`--to` and tags only), tags newer than the target are upstream's as far as anyone knows.
fn foreign_tags(
    repo: &Repo,
    tags: &[(String, CommitId)],
    upstream: &[CommitId],
    own: &[CommitId],
    merge_base: CommitId,
    upstream_branches: bool,
) -> Result<Vec<String>> {
    let own: HashSet<CommitId> = own.iter().copied().collect();
    let mut foreign = Vec::new();
    let mut undecided = Vec::new();
    let since = repo.commit_alone(merge_base)?.time;
    for (name, id) in tags {
        if upstream.contains(id) {
            continue;
        }
        if own.contains(id) {
            foreign.push(name.clone());
        } else if upstream_branches && repo.commit_alone(*id)?.time >= since {
            undecided.push((name, *id));
        }
    }
    if !undecided.is_empty() {
        let ids: Vec<CommitId> = undecided.iter().map(|(_, id)| *id).collect();
        let unreached: HashSet<CommitId> = repo.walk(&ids, upstream)?.into_iter().collect();
        foreign.extend(
            undecided
                .into_iter()
                .filter(|(_, id)| unreached.contains(id))
                .map(|(name, _)| name.clone()),
        );
    }
    foreign.sort();
    Ok(foreign)
}

fn foreign_tags_note(tags: &[String]) -> Option<String> {
    const SHOWN: usize = 5;
    if tags.is_empty() {
        return None;
    }
    let mut names: Vec<&str> = tags
        .iter()
        .take(SHOWN)
        .map(|t| t.trim_start_matches("refs/tags/"))
        .collect();
    let more = tags.len().saturating_sub(SHOWN);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    names.sort();
    Some(format!(
        "the rule pack's tag pattern matches {} that no upstream ref reaches ({}{more}): they are taken for the fork's own, not for upstream releases; if they are upstream's, fetch the upstream branch that has them",
        crate::model::plural(tags.len(), "tag", "tags"),
        names.join(", ")
    ))
}

/// The target the selection names: `--to`, else the upstream remote's default branch.
pub fn target_name(repo: &Repo, selection: &Selection) -> Result<String> {
    if let Some(to) = &selection.to {
        return Ok(to.clone());
    }
    Ok(endpoints(repo, selection)?.target.name)
}

fn no_remote(repo: &Repo, name: &str, pack: Option<&Pack>, fork: CommitId) -> Error {
    // A fork looks like its upstream: its own tree names the pack, and so the URL.
    let detected = match pack {
        Some(_) => None,
        None => repo
            .tree_of(fork)
            .ok()
            .and_then(|tree| detect_in(repo, tree))
            .and_then(|name| Pack::builtin(&name).ok()),
    };
    let url = pack
        .or(detected.as_ref())
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

/// `--to` may name a version (`9.1`, `8.13.0.0`) rather than a revision: the release point of
/// exactly that version, or for `MAJOR.MINOR` the newest release of that minor.
pub fn resolve_version(repo: &Repo, selection: &Selection) -> Result<Selection> {
    let Some(to) = &selection.to else {
        return Ok(selection.clone());
    };
    // A version that git reads as one of the fork's own branches (top-gg's `8.18`, behind
    // upstream's) still means upstream's release: the fork's branch is no upgrade target.
    // A tag or a remote branch of that name is git's answer, as for any other name.
    let own_branch =
        repo.has_ref(&format!("refs/heads/{to}")) && !repo.has_ref(&format!("refs/tags/{to}"));
    let resolves = repo.resolve_commit(to).is_ok();
    if resolves && !own_branch {
        return Ok(selection.clone());
    }
    let Some(wanted) = crate::analysis::versions::Version::parse(to) else {
        return Ok(selection.clone());
    };
    let probe = endpoints(
        repo,
        &Selection {
            to: None,
            ..selection.clone()
        },
    )?;
    let points = release_points(
        repo,
        &probe.pack,
        probe.remote.as_deref(),
        &probe.foreign_tags,
    )?;
    let exact = points
        .iter()
        .rev()
        .find(|p| p.version == wanted && !p.version.is_prerelease());
    let two_parts = to.trim_start_matches('v').split('.').count() == 2;
    let by_minor = points
        .iter()
        .rev()
        .find(|p| two_parts && p.version.minor() == wanted.minor() && !p.version.is_prerelease());
    // `9.3` means the minor, so its newest patch, as every other hop goes to; `9.3.0` means
    // exactly that release.
    let newest_of_minor = points
        .iter()
        .filter(|p| p.version.minor() == wanted.minor() && !p.version.is_prerelease())
        .max_by(|a, b| a.version.cmp(&b.version));
    let chosen = if two_parts {
        newest_of_minor
    } else {
        exact.or(by_minor)
    };
    if chosen.is_none() && resolves {
        return Ok(selection.clone());
    }
    Ok(match chosen {
        Some(point) => {
            let mut notes = selection.notes.clone();
            if resolves {
                notes.push(format!(
                    "--to {to} is taken as upstream's release {} ({}), not as the fork's branch {to}: name `heads/{to}` for that",
                    point.version.text, point.name
                ));
            } else if two_parts {
                notes.push(format!(
                    "--to {to} is a minor version: going to its newest release, {} ({}); name all its parts for another",
                    point.version.text, point.name
                ));
            }
            Selection {
                to: Some(point.name.clone()),
                notes,
                ..selection.clone()
            }
        }
        // A version no release carries: say which there are, not "unknown revision".
        None => {
            let mut released: Vec<&str> = points
                .iter()
                .filter(|p| !p.version.is_prerelease())
                .map(|p| p.version.text.as_str())
                .collect();
            released.dedup();
            let newest: Vec<&str> = released.iter().rev().take(3).copied().collect();
            return Err(Error::UnknownRevision {
                rev: to.clone(),
                help: if newest.is_empty() {
                    format!(
                        "no release tag of upstream's matches the rule pack: fetch them (`git fetch {} --tags`), or name the target with a branch, tag or commit",
                        selection.remote_name()
                    )
                } else {
                    format!(
                        "no upstream release is version {to}; the newest are {}: name one of those, or a branch, tag or commit",
                        newest.join(", ")
                    )
                },
            });
        }
    })
}

/// The release tags and the remote's release branches the pack's version scheme recognises,
/// but the tags that are not upstream's (`foreign`: full ref names).
pub(super) fn release_points(
    repo: &Repo,
    pack: &Pack,
    remote: Option<&str>,
    foreign: &[String],
) -> Result<Vec<crate::facts::ReleasePoint>> {
    let branches = match remote {
        Some(remote) => repo
            .refs_under(&format!("refs/remotes/{remote}/"))?
            .into_iter()
            .map(|(name, id)| Ok((name, id, repo.tree_of(id)?)))
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let tags: Vec<(String, CommitId)> = repo
        .refs_under("refs/tags/")?
        .into_iter()
        .filter(|(name, _)| !foreign.contains(name))
        .collect();
    releases::release_points(pack, remote, &tags, &branches, repo)
}
