//! Line changes as upstream matching reads them from the object store: between two trees, and
//! what of a change is still there at a later tree.

use super::watches;
use crate::analysis::patches::{self, LineChanges};
use crate::error::Result;
use crate::facts::{BlobId, Objects, TreeId};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// The line changes between two trees. Renames are paired first, so that a move carries only
/// its edits: a file the fork deleted must not pass for upstream's rename of it.
pub fn line_changes(
    objects: &dyn Objects,
    from_tree: Option<TreeId>,
    to_tree: TreeId,
    paths: &[String],
) -> Result<LineChanges> {
    Ok(read_change(objects, from_tree, to_tree, paths)?.lines)
}

/// A change between two trees as upstream matching reads it.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub lines: LineChanges,
    /// The digest of the patch ([`patches::patch_digest`]) when `paths` are all the change
    /// holds and it only edits files in place, every blob read; else None, and only git's
    /// patch-id can tell.
    pub patch: Option<u64>,
}

/// [`line_changes`], with the patch's digest read from the same diff: a patch-id match needs
/// no second reading of the files.
pub fn read_change(
    objects: &dyn Objects,
    from_tree: Option<TreeId>,
    to_tree: TreeId,
    paths: &[String],
) -> Result<Reading> {
    let mut changes = LineChanges::default();
    if let Some(pairs) = edited_in_place(objects, from_tree, to_tree, paths)? {
        let mut files = Vec::with_capacity(pairs.len());
        for (path, (old, new)) in paths.iter().zip(pairs) {
            if old != new {
                let file = add_blobs(objects, &mut changes, Some(old), Some(new))?;
                files.push((path.as_str(), file));
            }
        }
        let patch = files
            .iter()
            .all(|(_, file)| file.is_some())
            .then(|| patches::patch_digest(files.into_iter().map(|(p, f)| (p, f.flatten()))));
        return Ok(Reading {
            lines: changes,
            patch,
        });
    }
    let mut deltas = objects.diff(from_tree, to_tree, true, paths)?;
    // The path filter hides the other side of a move into or out of the watched paths, which
    // then reads as a whole file added or deleted: a pure move commit would pass for every
    // line of the file. Pair renames over the whole change, then keep the watched ones.
    if from_tree.is_some()
        && deltas
            .iter()
            .any(|d| d.old_id.is_none() || d.new_id.is_none())
    {
        let watched: HashSet<&str> = paths.iter().map(String::as_str).collect();
        let is_watched =
            |path: &Option<String>| path.as_deref().is_some_and(|p| watches(&watched, p));
        deltas = objects
            .diff(from_tree, to_tree, true, &[])?
            .into_iter()
            .filter(|d| paths.is_empty() || is_watched(&d.old_path) || is_watched(&d.new_path))
            .collect();
    }
    for delta in deltas {
        add_blobs(objects, &mut changes, delta.old_id, delta.new_id)?;
    }
    Ok(Reading {
        lines: changes,
        patch: None,
    })
}

/// The blobs of `paths` on both sides, when every path is a file in both trees: then the
/// change is those files' edits, with no tree diff to run and no added or deleted file to
/// pair as a move. None when a path is added, deleted or not a file on one side.
fn edited_in_place(
    objects: &dyn Objects,
    from_tree: Option<TreeId>,
    to_tree: TreeId,
    paths: &[String],
) -> Result<Option<Vec<(BlobId, BlobId)>>> {
    let Some(from_tree) = from_tree.filter(|_| !paths.is_empty()) else {
        return Ok(None);
    };
    let mut pairs = Vec::with_capacity(paths.len());
    for path in paths {
        match (
            objects.entry(from_tree, path)?,
            objects.entry(to_tree, path)?,
        ) {
            (Some(old), Some(new)) => pairs.push((old, new)),
            _ => return Ok(None),
        }
    }
    Ok(Some(pairs))
}

/// Adds the line changes between two blobs (None: the file is absent on that side). Returns
/// the file's patch digest: None when a blob is missing, Some(None) for a binary file.
fn add_blobs(
    objects: &dyn Objects,
    changes: &mut LineChanges,
    old: Option<BlobId>,
    new: Option<BlobId>,
) -> Result<Option<Option<u64>>> {
    let read = |id: Option<BlobId>| -> Result<Option<Vec<u8>>> {
        match id {
            Some(id) => objects.blob_if_present(id),
            None => Ok(Some(Vec::new())),
        }
    };
    // Binary files and blobs this clone lacks say nothing about lines.
    let (Some(old), Some(new)) = (read(old)?, read(new)?) else {
        return Ok(None);
    };
    if old.contains(&0) || new.contains(&0) {
        return Ok(Some(None));
    }
    Ok(Some(Some(changes.add_file(&old, &new))))
}

/// Whether a commit's change is still there at a later commit of its branch, read from that
/// commit's files: a change a merge from main overwrote (a NOTICE.txt regenerated) was
/// superseded, and rides along in the PR that carried it.
pub(super) struct Survival<'o> {
    objects: &'o dyn Objects,
    /// The blob at each (tree, path) asked about, and each blob's line keys: a file's blob
    /// is the same in most of the trees asked about, and its keys are read once (keyed by
    /// tree and path, op-geth's audit held a copy per upstream commit: 100 MB).
    entries: RefCell<HashMap<(TreeId, String), Option<BlobId>>>,
    keys: RefCell<HashMap<BlobId, HashSet<u64>>>,
}

impl Survival<'_> {
    pub(super) fn new(objects: &dyn Objects) -> Survival<'_> {
        Survival {
            objects,
            entries: RefCell::default(),
            keys: RefCell::default(),
        }
    }

    /// The share of `change` (made in `paths`) that is gone at `tip`: lines it added that are
    /// not there, lines it removed that are back.
    pub(super) fn superseded(&self, change: &LineChanges, paths: &[String], tip: TreeId) -> f64 {
        if change.is_empty() {
            return 0.0;
        }
        let mut at_tip: HashSet<u64> = HashSet::new();
        for path in paths {
            let blob = *self
                .entries
                .borrow_mut()
                .entry((tip, path.clone()))
                .or_insert_with(|| self.objects.entry(tip, path).ok().flatten());
            let Some(blob) = blob else {
                continue;
            };
            let mut keys = self.keys.borrow_mut();
            let keys = keys.entry(blob).or_insert_with(|| {
                // A file this clone cannot read says nothing about what survived.
                match self.objects.blob_if_present(blob) {
                    Ok(Some(bytes)) => patches::line_keys(&bytes),
                    _ => HashSet::new(),
                }
            });
            at_tip.extend(keys.iter().copied());
        }
        let gone = change.added.iter().filter(|k| !at_tip.contains(k)).count()
            + change.removed.iter().filter(|k| at_tip.contains(k)).count();
        gone as f64 / change.len() as f64
    }
}
