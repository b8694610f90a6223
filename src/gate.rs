//! The protocol gate. Between two commits (the fork point and the target, or two hops) each
//! protocol anchor of the pack is compared as a model: `schema` when a field, type, enum
//! value, mapping entry or constant changed, `prose` when only text did, `none` otherwise.
//! A schema change refuses the upgrade until `accept-protocol` recorded that exact protocol
//! (its fingerprint) in `.forkdrift.toml`.

use crate::analysis::protocol::{self, Items, Verdict};
use crate::error::{Error, IoContext, Result};
use crate::hops::ReleasePoint;
use crate::model::{AnchorReport, CommitRef, ProtocolChange, ProtocolReport};
use crate::repo::Repo;
use crate::rules::Pack;
use git2::Oid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = ".forkdrift.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnchorKind {
    Document,
    Values,
    File,
}

impl AnchorKind {
    fn as_str(self) -> &'static str {
        match self {
            AnchorKind::Document => "document",
            AnchorKind::Values => "values",
            AnchorKind::File => "file",
        }
    }
}

/// An anchor as found in one tree.
struct Found {
    path: String,
    blob: Oid,
    items: Items,
}

fn anchors(pack: &Pack) -> Vec<(AnchorKind, usize, &str, &[String])> {
    let mut out = Vec::new();
    for (i, a) in pack.protocol.documents.iter().enumerate() {
        out.push((AnchorKind::Document, i, a.name.as_str(), a.paths.as_slice()));
    }
    for (i, a) in pack.protocol.values.iter().enumerate() {
        out.push((AnchorKind::Values, i, a.name.as_str(), a.paths.as_slice()));
    }
    for (i, a) in pack.protocol.files.iter().enumerate() {
        out.push((AnchorKind::File, i, a.name.as_str(), a.paths.as_slice()));
    }
    out
}

/// Every path any anchor may live at (both layouts).
pub fn anchor_paths(pack: &Pack) -> Vec<String> {
    let mut paths: Vec<String> = anchors(pack)
        .into_iter()
        .flat_map(|(_, _, _, p)| p.iter().cloned())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

fn find(
    repo: &Repo,
    pack: &Pack,
    kind: AnchorKind,
    index: usize,
    paths: &[String],
    tree: Oid,
) -> Result<Option<Found>> {
    for path in paths {
        let Some(blob) = repo.entry(tree, path)? else {
            continue;
        };
        let text = String::from_utf8_lossy(&repo.blob(blob)?).into_owned();
        let items = match kind {
            AnchorKind::Document => protocol::document_items(&text),
            AnchorKind::Values => {
                let anchor = &pack.protocol.values[index];
                protocol::code_items(&text, anchor.scope.as_ref(), &anchor.value)
            }
            AnchorKind::File => Items::new(),
        };
        return Ok(Some(Found {
            path: path.clone(),
            blob,
            items,
        }));
    }
    Ok(None)
}

/// The protocol model of a tree, for its fingerprint.
pub fn models(repo: &Repo, pack: &Pack, tree: Oid) -> Result<BTreeMap<String, Items>> {
    let mut out = BTreeMap::new();
    for (kind, index, name, paths) in anchors(pack) {
        if kind == AnchorKind::File {
            continue;
        }
        if let Some(found) = find(repo, pack, kind, index, paths, tree)? {
            out.insert(format!("{}:{name}", kind.as_str()), found.items);
        }
    }
    Ok(out)
}

pub fn fingerprint(repo: &Repo, pack: &Pack, commit: Oid) -> Result<String> {
    Ok(protocol::fingerprint(&models(
        repo,
        pack,
        repo.tree_of(commit)?,
    )?))
}

/// What every protocol comparison of a fork needs: its pack, the upstream release points (to
/// name the first release that shipped a change) and the fork's acceptances.
pub struct Gate<'p> {
    pack: &'p Pack,
    releases: Vec<ReleasePoint>,
    accepted: Vec<Acceptance>,
}

impl<'p> Gate<'p> {
    pub fn new(repo: &Repo, session: &'p crate::session::Session) -> Result<Gate<'p>> {
        Ok(Gate {
            pack: &session.pack,
            releases: crate::hops::release_points(repo, session)?,
            accepted: acceptances(repo, session.fork.id)?,
        })
    }

    /// Every upstream release point, ascending.
    pub fn releases(&self) -> &[ReleasePoint] {
        &self.releases
    }

    /// The verdict and the report between two commits.
    pub fn compare(&self, repo: &Repo, from: Oid, to: Oid) -> Result<(Verdict, ProtocolReport)> {
        compare(repo, self.pack, from, to, &self.releases, &self.accepted)
    }
}

/// Compares the protocol at `from` and `to`. `points` (release tags, ascending) name the first
/// release that shipped each change.
fn compare(
    repo: &Repo,
    pack: &Pack,
    from: Oid,
    to: Oid,
    points: &[ReleasePoint],
    accepted: &[Acceptance],
) -> Result<(Verdict, ProtocolReport)> {
    let (from_tree, to_tree) = (repo.tree_of(from)?, repo.tree_of(to)?);
    let upstream_commits = repo.walk(&[to], &[from])?;
    let mut reports = Vec::new();
    let mut overall = Verdict::None;
    for (kind, index, name, paths) in anchors(pack) {
        let before = find(repo, pack, kind, index, paths, from_tree)?;
        let after = find(repo, pack, kind, index, paths, to_tree)?;
        let (before_items, after_items) = (
            before.as_ref().map(|f| f.items.clone()).unwrap_or_default(),
            after.as_ref().map(|f| f.items.clone()).unwrap_or_default(),
        );
        let changed_bytes = before.as_ref().map(|f| f.blob) != after.as_ref().map(|f| f.blob);
        let changes = if kind == AnchorKind::File {
            Vec::new()
        } else {
            protocol::diff(&before_items, &after_items)
        };
        // Values compare as values (a quote-style change is no change); a whole-file anchor
        // only warns; a document whose model held still changed in prose.
        let (verdict, label) = match kind {
            _ if !changes.is_empty() => (Verdict::Schema, Verdict::Schema.as_str()),
            AnchorKind::Document if changed_bytes => (Verdict::Prose, Verdict::Prose.as_str()),
            AnchorKind::File if changed_bytes => (Verdict::Prose, "changed"),
            _ => (Verdict::None, Verdict::None.as_str()),
        };
        overall = overall.max(verdict);
        let path = after.as_ref().or(before.as_ref()).map_or_else(
            || paths.first().cloned().unwrap_or_default(),
            |f| f.path.clone(),
        );
        let attributed = if changes.is_empty() {
            Vec::new()
        } else {
            attribute(
                repo,
                pack,
                kind,
                index,
                paths,
                &upstream_commits,
                &changes,
                points,
            )?
        };
        if before.is_none() && after.is_none() {
            continue;
        }
        reports.push(AnchorReport {
            name: name.to_string(),
            path,
            kind: kind.as_str().into(),
            verdict: label.into(),
            changes: attributed,
        });
    }
    let fingerprint = protocol::fingerprint(&models(repo, pack, to_tree)?);
    let is_accepted = accepted.iter().any(|a| a.fingerprint == fingerprint);
    Ok((
        overall,
        ProtocolReport {
            verdict: overall.as_str().into(),
            anchors: reports,
            fingerprint,
            accepted: is_accepted,
            from: from.to_string(),
            to: to.to_string(),
        },
    ))
}

/// Which upstream commits made each change, and the first release that shipped it.
#[allow(clippy::too_many_arguments)]
fn attribute(
    repo: &Repo,
    pack: &Pack,
    kind: AnchorKind,
    index: usize,
    paths: &[String],
    commits: &[Oid],
    changes: &[protocol::ItemChange],
    points: &[ReleasePoint],
) -> Result<Vec<ProtocolChange>> {
    let mut by_key: BTreeMap<String, Vec<CommitRef>> = BTreeMap::new();
    let mut last_commit: BTreeMap<String, Oid> = BTreeMap::new();
    // Oldest first, so that the last commit to touch an item is the one that shipped it.
    for id in commits.iter().rev() {
        let commit = repo.commit(*id)?;
        let Some(parent) = commit.parents.first() else {
            continue;
        };
        let after = find(repo, pack, kind, index, paths, commit.tree)?;
        let before = find(repo, pack, kind, index, paths, repo.tree_of(*parent)?)?;
        if after.as_ref().map(|f| f.blob) == before.as_ref().map(|f| f.blob) {
            continue;
        }
        let delta = protocol::diff(
            &before.map(|f| f.items).unwrap_or_default(),
            &after.map(|f| f.items).unwrap_or_default(),
        );
        for change in delta {
            by_key
                .entry(change.key.clone())
                .or_default()
                .push(CommitRef {
                    commit: id.to_string(),
                    subject: commit.subject.clone(),
                    prs: crate::repo::pr_numbers(&commit.subject),
                });
            last_commit.insert(change.key, *id);
        }
    }
    let mut out = Vec::new();
    for change in changes {
        let first_release = match last_commit.get(&change.key) {
            Some(commit) => first_release(repo, *commit, points)?,
            None => None,
        };
        out.push(ProtocolChange {
            op: change.op.to_string(),
            item: change.key.clone(),
            detail: change.describe(),
            commits: by_key.remove(&change.key).unwrap_or_default(),
            first_release,
        });
    }
    Ok(out)
}

fn first_release(repo: &Repo, commit: Oid, points: &[ReleasePoint]) -> Result<Option<String>> {
    for point in points
        .iter()
        .filter(|p| !p.branch && !p.version.is_prerelease())
    {
        if repo.is_ancestor(commit, point.commit)? {
            return Ok(Some(point.name.clone()));
        }
    }
    Ok(None)
}

/// A reviewed protocol, as recorded by `accept-protocol`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    pub fingerprint: String,
    pub pack: String,
    pub target: String,
    pub commit: String,
    pub by: String,
    pub why: String,
    pub at: String,
}

#[derive(Debug, Default, Deserialize)]
struct ForkConfig {
    #[serde(default)]
    protocol: ProtocolConfig,
}

#[derive(Debug, Default, Deserialize)]
struct ProtocolConfig {
    #[serde(default)]
    accepted: Vec<Acceptance>,
}

fn parse_config(text: &str, origin: &Path) -> Result<Vec<Acceptance>> {
    let config: ForkConfig = toml::from_str(text).map_err(|e| Error::InvalidConfig {
        what: "forkdrift configuration",
        path: origin.to_path_buf(),
        help: format!(
            "{}; `forkdrift accept-protocol` writes valid entries",
            e.message()
        ),
    })?;
    Ok(config.protocol.accepted)
}

/// Acceptances recorded in the fork: committed in the fork's tree, and (with a work tree) in
/// the working copy, so a fresh acceptance counts before it is committed.
pub fn acceptances(repo: &Repo, fork: Oid) -> Result<Vec<Acceptance>> {
    let mut out = Vec::new();
    if let Some(bytes) = repo.read(repo.tree_of(fork)?, CONFIG_FILE)? {
        out.extend(parse_config(
            &String::from_utf8_lossy(&bytes),
            Path::new(CONFIG_FILE),
        )?);
    }
    if let Some(path) = repo.workdir().map(|w| w.join(CONFIG_FILE)) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            for acceptance in parse_config(&text, &path)? {
                if !out.contains(&acceptance) {
                    out.push(acceptance);
                }
            }
        }
    }
    Ok(out)
}

fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Appends an acceptance to the configuration file (creating it), keeping what is there.
pub fn record(path: &Path, acceptance: &Acceptance) -> Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => {
            parse_config(&text, path)?;
            text
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            "# forkdrift configuration. `forkdrift accept-protocol` appends reviewed protocols here.\n".to_string()
        }
        Err(source) => {
            return Err(Error::Io {
                context: format!("could not read {}", path.display()),
                source,
            });
        }
    };
    let mut text = existing;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "\n[[protocol.accepted]]\nfingerprint = {}\npack = {}\ntarget = {}\ncommit = {}\nby = {}\nwhy = {}\nat = {}\n",
        quote(&acceptance.fingerprint),
        quote(&acceptance.pack),
        quote(&acceptance.target),
        quote(&acceptance.commit),
        quote(&acceptance.by),
        quote(&acceptance.why),
        quote(&acceptance.at),
    ));
    std::fs::write(path, text).io_context(|| format!("could not write {}", path.display()))
}

/// Where `accept-protocol` writes: the work tree's `.forkdrift.toml`, or `--file`.
pub fn config_path(repo: &Repo, file: Option<&Path>) -> Result<PathBuf> {
    match (file, repo.workdir()) {
        (Some(file), _) => Ok(file.to_path_buf()),
        (None, Some(workdir)) => Ok(workdir.join(CONFIG_FILE)),
        (None, None) => Err(Error::Usage {
            message: "a bare repository has no work tree to keep .forkdrift.toml in".into(),
            help: "name the file with --file PATH, then commit it to the fork".into(),
        }),
    }
}

/// What an upgrade refusal tells the user: each change in the protocol's own terms, who made
/// it, when it shipped, and what to do next.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("refusing to upgrade {what}: the protocol changed in substance\n{changes}")]
#[diagnostic(code(forkdrift::protocol_changed), help("{help}"))]
pub struct Refusal {
    pub what: String,
    pub changes: String,
    pub help: String,
}

pub fn refusal(pack: &Pack, report: &ProtocolReport, what: &str, to: &str) -> Refusal {
    let mut changes = String::new();
    for anchor in report.anchors.iter().filter(|a| !a.changes.is_empty()) {
        changes.push_str(&format!("  {} ({}):\n", anchor.name, anchor.path));
        for change in &anchor.changes {
            changes.push_str(&format!("    {}", change.detail));
            let prs: Vec<String> = change
                .commits
                .iter()
                .flat_map(|c| c.prs.first().map(|n| format!("#{n}")))
                .collect();
            if !prs.is_empty() {
                changes.push_str(&format!("  ({})", prs.join(", ")));
            } else if let Some(commit) = change.commits.last() {
                changes.push_str(&format!("  ({})", &commit.commit[..12]));
            }
            if let Some(release) = &change.first_release {
                changes.push_str(&format!("  first released in {release}"));
            }
            changes.push('\n');
        }
    }
    let notes = pack
        .release_notes
        .as_ref()
        .map(|url| format!("read the release notes ({url}); "))
        .unwrap_or_else(|| "read the release notes; ".into());
    Refusal {
        what: what.to_string(),
        changes: changes.trim_end().to_string(),
        help: format!(
            "{notes}take a snapshot of your data first; then adapt the fork and record the review: `forkdrift accept-protocol --to {to} --why \"…\"` (fingerprint {})",
            &report.fingerprint[..16]
        ),
    }
}
