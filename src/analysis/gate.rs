//! The protocol gate. Between two commits (the fork point and the target, or two hops) each
//! protocol anchor of the pack is compared as a model: `schema` when a field, type, enum
//! value, mapping entry or constant changed, `prose` when only text did, `none` otherwise.
//! A schema change refuses the upgrade until `accept-protocol` recorded that exact protocol
//! (its fingerprint) in `.forkdrift.toml`.

use super::protocol::{self, Items, Verdict};
use super::releases::first_releases;
use crate::error::Result;
use crate::facts::{BlobId, CommitId, Facts, Objects, TreeId};
use crate::model::{AnchorReport, CommitRef, ProtocolChange, ProtocolReport, ProtocolWarning};
use crate::rules::Pack;
use std::collections::BTreeMap;

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
    blob: BlobId,
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
    objects: &dyn Objects,
    pack: &Pack,
    kind: AnchorKind,
    index: usize,
    paths: &[String],
    tree: TreeId,
) -> Result<Option<Found>> {
    for path in paths {
        let Some(blob) = objects.entry(tree, path)? else {
            continue;
        };
        let text = String::from_utf8_lossy(&objects.blob(blob)?).into_owned();
        let items = match kind {
            AnchorKind::Document => protocol::document_items(&text, &pack.protocol.enum_marker),
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
pub fn models(objects: &dyn Objects, pack: &Pack, tree: TreeId) -> Result<BTreeMap<String, Items>> {
    let mut out = BTreeMap::new();
    for (kind, index, name, paths) in anchors(pack) {
        if kind == AnchorKind::File {
            continue;
        }
        if let Some(found) = find(objects, pack, kind, index, paths, tree)? {
            out.insert(format!("{}:{name}", kind.as_str()), found.items);
        }
    }
    Ok(out)
}

/// Compares the protocol at `from` and `to` (commits of the facts' graph, or below it). The
/// first release that shipped each change comes from the facts' release points; the verdict
/// is accepted when the fork recorded exactly the target's protocol.
pub fn compare(
    facts: &Facts,
    objects: &dyn Objects,
    from: CommitId,
    to: CommitId,
) -> Result<(Verdict, ProtocolReport)> {
    let pack = &facts.pack;
    let tree_of = |id: CommitId| tree_of(facts, id);
    let (from_tree, to_tree) = (tree_of(from)?, tree_of(to)?);
    let upstream_commits = facts.graph.walk(&[to], &[from]);
    let mut reports = Vec::new();
    let mut overall = Verdict::None;
    let mut warnings = Vec::new();
    for (kind, index, name, paths) in anchors(pack) {
        let before = find(objects, pack, kind, index, paths, from_tree)?;
        let after = find(objects, pack, kind, index, paths, to_tree)?;
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
        // Values compare as values (a quote-style change is no change); a document whose
        // model held still changed in prose. A whole-file anchor says only that bytes moved
        // (a refactor of the protocol module, say), so it warns and never sets the verdict:
        // the verdict must name what changed in the protocol's own terms.
        let (verdict, label) = match kind {
            _ if !changes.is_empty() => (Verdict::Schema, Verdict::Schema.as_str()),
            AnchorKind::Document if changed_bytes => (Verdict::Prose, Verdict::Prose.as_str()),
            AnchorKind::File if changed_bytes => (Verdict::None, "changed"),
            _ => (Verdict::None, Verdict::None.as_str()),
        };
        overall = overall.max(verdict);
        let path = after.as_ref().or(before.as_ref()).map_or_else(
            || paths.first().cloned().unwrap_or_default(),
            |f| f.path.clone(),
        );
        if kind == AnchorKind::File && changed_bytes {
            warnings.push(ProtocolWarning {
                name: name.to_string(),
                path: path.clone(),
                commits: touching(facts, objects, paths, &upstream_commits)?,
            });
        }
        let attributed = if changes.is_empty() {
            Vec::new()
        } else {
            attribute(
                facts,
                objects,
                Anchor { kind, index, paths },
                &upstream_commits,
                &changes,
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
    let fingerprint = protocol::fingerprint(&models(objects, pack, to_tree)?);
    let is_accepted = facts
        .acceptances
        .iter()
        .any(|a| a.fingerprint == fingerprint);
    Ok((
        overall,
        ProtocolReport {
            verdict: overall.as_str().into(),
            anchors: reports,
            fingerprint,
            accepted: is_accepted,
            from: from.to_string(),
            to: to.to_string(),
            warnings,
        },
    ))
}

/// The protocol fingerprint of the target's tree.
pub fn target_fingerprint(facts: &Facts, objects: &dyn Objects) -> Result<String> {
    Ok(protocol::fingerprint(&models(
        objects,
        &facts.pack,
        facts.trees.target,
    )?))
}

/// The tree of a commit of the facts' graph, or of one of its named endpoints.
pub fn tree_of(facts: &Facts, id: CommitId) -> Result<TreeId> {
    if id == facts.target.id {
        return Ok(facts.trees.target);
    }
    if id == facts.fork.id {
        return Ok(facts.trees.fork);
    }
    if id == facts.merge_base {
        return Ok(facts.trees.base);
    }
    if id == facts.fork_point {
        return Ok(facts.trees.fork_point);
    }
    facts
        .commit(id)
        .map(|c| c.tree)
        .ok_or_else(|| crate::Error::Usage {
            message: format!("commit {id} is outside the history forkdrift read"),
            help: "this is a bug in forkdrift: please report it with the command you ran".into(),
        })
}

/// The upstream commits (oldest first) that changed a file anchor's bytes at any of its paths.
fn touching(
    facts: &Facts,
    objects: &dyn Objects,
    paths: &[String],
    commits: &[CommitId],
) -> Result<Vec<CommitRef>> {
    let mut out = Vec::new();
    for id in commits.iter().rev() {
        let Some(commit) = facts.commit(*id) else {
            continue;
        };
        let Some(parent_tree) = commit.parent_tree else {
            continue;
        };
        for path in paths {
            if objects.entry(commit.tree, path)? != objects.entry(parent_tree, path)? {
                out.push(CommitRef::of(commit));
                break;
            }
        }
    }
    Ok(out)
}

struct Anchor<'p> {
    kind: AnchorKind,
    index: usize,
    paths: &'p [String],
}

/// Which upstream commits made each change, and the first release that shipped it.
fn attribute(
    facts: &Facts,
    objects: &dyn Objects,
    anchor: Anchor,
    commits: &[CommitId],
    changes: &[protocol::ItemChange],
) -> Result<Vec<ProtocolChange>> {
    let pack = &facts.pack;
    let mut by_key: BTreeMap<String, Vec<CommitRef>> = BTreeMap::new();
    let mut last_commit: BTreeMap<String, CommitId> = BTreeMap::new();
    // Oldest first, so that the last commit to touch an item is the one that shipped it.
    for id in commits.iter().rev() {
        let Some(commit) = facts.commit(*id) else {
            continue;
        };
        let Some(parent_tree) = commit.parent_tree else {
            continue;
        };
        let after = find(
            objects,
            pack,
            anchor.kind,
            anchor.index,
            anchor.paths,
            commit.tree,
        )?;
        let before = find(
            objects,
            pack,
            anchor.kind,
            anchor.index,
            anchor.paths,
            parent_tree,
        )?;
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
                .push(CommitRef::of(commit));
            last_commit.insert(change.key, *id);
        }
    }
    let shipped: Vec<CommitId> = last_commit.values().copied().collect();
    let releases = first_releases(facts, &shipped);
    let mut out = Vec::new();
    for change in changes {
        out.push(ProtocolChange {
            op: change.op.to_string(),
            item: change.key.clone(),
            detail: change.describe(),
            commits: by_key.remove(&change.key).unwrap_or_default(),
            first_release: last_commit
                .get(&change.key)
                .and_then(|c| releases.get(c).cloned()),
        });
    }
    Ok(out)
}
