//! The fork's `.forkdrift.toml` as the reader sees it: where it is read from, the defaults it
//! gives the selection, the acceptances it records, and declarations that match nothing.

use super::Repo;
use super::selection::Selection;
use crate::config::{self, Acceptance, CONFIG_FILE};
use crate::error::{Error, Result};
use crate::facts::{Objects, TreeId};
use crate::rules::Pack;
use std::path::Path;

/// A declaration of `.forkdrift.toml` that no path of the merge-base, the fork or the target
/// matches declares nothing: a typo, or a directory that moved.
pub(super) fn unmatched_own(pack: &Pack, trees: [&crate::facts::Files; 3]) -> Vec<String> {
    let mut notes = Vec::new();
    let any = |matches: &dyn Fn(&str) -> bool| trees.iter().any(|t| t.keys().any(|p| matches(p)));
    for family in pack
        .families
        .iter()
        .filter(|f| f.layout.contains(".forkdrift.toml"))
    {
        if !any(&|path| family.path.match_path(path).is_some()) {
            notes.push(format!(
                ".forkdrift.toml declares `{}` ({}), which matches no path of the merge-base, the fork or the target",
                family.path.text, family.layout
            ));
        }
    }
    for glob in &pack.own_registration {
        if !any(&|path| glob.is_match(path)) {
            notes.push(format!(
                ".forkdrift.toml declares the registration path `{}`, which matches no path of the merge-base, the fork or the target",
                glob.glob().glob()
            ));
        }
    }
    notes
}

/// The fork's `.forkdrift.toml`: the work tree's when there is one (so an edit counts before it
/// is committed), else the one committed in the fork revision's tree.
pub fn fork_config(repo: &Repo, fork: &str) -> Result<Option<config::ForkConfig>> {
    if let Some(path) = repo.workdir().map(|w| w.join(CONFIG_FILE)) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return config::parse(&text, &path).map(Some);
        }
    }
    let Ok(fork) = repo.resolve_commit(fork) else {
        return Ok(None);
    };
    match repo.read(repo.tree_of(fork)?, CONFIG_FILE)? {
        Some(bytes) => {
            config::parse(&String::from_utf8_lossy(&bytes), Path::new(CONFIG_FILE)).map(Some)
        }
        None => Ok(None),
    }
}

/// The selection with `.forkdrift.toml`'s defaults filled in where the command line is silent.
pub fn configure(repo: &Repo, selection: &Selection) -> Result<Selection> {
    let Some(config) = fork_config(repo, &selection.fork)? else {
        return Ok(selection.clone());
    };
    // What the file names and the command line does not override must exist: the error then
    // says where the name came from, not only that git does not know it.
    let from_file = |what: &str, name: &str, help: &str| Error::Usage {
        message: format!("{what} `{name}` that .forkdrift.toml names does not exist here"),
        help: format!(
            "{help}, fix [upstream] in .forkdrift.toml, or override it on the command line"
        ),
    };
    if let (None, Some(remote)) = (&selection.remote, &config.remote) {
        if !repo.has_remote(remote)
            && repo
                .refs_under(&format!("refs/remotes/{remote}/"))?
                .is_empty()
        {
            return Err(from_file(
                "the upstream remote",
                remote,
                &format!("add it (`git remote add {remote} <url> && git fetch {remote} --tags`)"),
            ));
        }
    }
    if let (None, Some(target)) = (&selection.to, &config.target) {
        if repo.resolve_commit(target).is_err()
            && crate::analysis::versions::Version::parse(target).is_none()
        {
            return Err(from_file(
                "the target",
                target,
                &format!(
                    "fetch it (`git fetch {} --tags`), check it with `git rev-parse --verify`",
                    selection
                        .remote
                        .as_deref()
                        .or(config.remote.as_deref())
                        .unwrap_or(super::selection::DEFAULT_REMOTE)
                ),
            ));
        }
    }
    let mut configured = selection.clone();
    configured.remote = selection.remote.clone().or(config.remote);
    configured.to = selection.to.clone().or(config.target);
    configured.rules = selection.rules.clone().or_else(|| {
        // A pack file is named relative to the repository root, wherever forkdrift runs.
        config.rules.map(|rules| match repo.workdir() {
            Some(root) if rules.ends_with(".toml") && Path::new(&rules).is_relative() => {
                root.join(rules).to_string_lossy().into_owned()
            }
            _ => rules,
        })
    });
    configured.own = config.own;
    Ok(configured)
}

/// Acceptances recorded in the fork: committed in the fork's tree, and (with a work tree) in
/// the working copy, so a fresh acceptance counts before it is committed.
pub(super) fn acceptances(repo: &Repo, fork_tree: TreeId) -> Result<Vec<Acceptance>> {
    let mut out = Vec::new();
    if let Some(bytes) = repo.read(fork_tree, CONFIG_FILE)? {
        out.extend(config::acceptances(
            &String::from_utf8_lossy(&bytes),
            Path::new(CONFIG_FILE),
        )?);
    }
    if let Some(path) = repo.workdir().map(|w| w.join(CONFIG_FILE)) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            for acceptance in config::acceptances(&text, &path)? {
                if !out.contains(&acceptance) {
                    out.push(acceptance);
                }
            }
        }
    }
    Ok(out)
}
