//! Where each file the fork touched lives after the upgrade: at the target (following
//! upstream's moves, renames and splits) and in the merged tree, and whether that place is a
//! directory the target no longer has (an orphan: a clean merge that leaves dead code).

use super::relocate::{Relocator, stem};
use crate::error::Result;
use crate::facts::{DeltaStatus, Facts, Files, Objects, TreeId};
use crate::model::{Change, Origin, Status};

/// Where upstream files of the merge-base live at the target: the same path, or the file the
/// target added that holds most of their lines (a move, a rename with edits, a split).
pub struct TargetPaths<'f> {
    base: &'f Files,
    /// How many files of the merge-base share each file name's stem.
    stems: std::collections::HashMap<&'f str, usize>,
    target: &'f Files,
    /// Built only when some file is missing at the target.
    relocator: Option<Relocator>,
}

impl<'f> TargetPaths<'f> {
    pub fn new(facts: &'f Facts, objects: &dyn Objects, needed: bool) -> Result<Self> {
        let relocator = if needed {
            let mut added = Vec::new();
            for delta in objects.diff(Some(facts.trees.base), facts.trees.target, false, &[])? {
                if delta.status != DeltaStatus::Added {
                    continue;
                }
                let Some(id) = delta.new_id else { continue };
                if let Some(blob) = objects.blob_if_present(id)? {
                    added.push((delta.path().to_string(), blob));
                }
            }
            Some(Relocator::new(added))
        } else {
            None
        };
        let mut stems = std::collections::HashMap::new();
        for path in facts.base_files.keys() {
            *stems.entry(stem(path)).or_default() += 1;
        }
        Ok(TargetPaths {
            base: &facts.base_files,
            stems,
            target: &facts.target_files,
            relocator,
        })
    }

    pub fn locate(&self, objects: &dyn Objects, path: &str) -> Result<Option<String>> {
        if self.target.contains_key(path) {
            return Ok(Some(path.to_string()));
        }
        let (Some(relocator), Some(id)) = (&self.relocator, self.base.get(path)) else {
            return Ok(None);
        };
        let name = self.name_of(path);
        Ok(objects
            .blob_if_present(*id)?
            .and_then(|blob| relocator.locate_named(&blob, name, path))
            .map(|(p, _)| p))
    }

    /// The name that tells a file apart: its stem, or when other files of the merge-base
    /// share that stem (`fixtures/<unit>/connector.json`), its directory's name.
    pub fn name_of<'p>(&self, path: &'p str) -> &'p str {
        let own = stem(path);
        if self.stems.get(own).copied().unwrap_or(0) <= 1 {
            return own;
        }
        path.rsplit('/').nth(1).unwrap_or(own)
    }
}

/// The path upstream knew a changed file by at the merge-base (none for files the fork added).
fn upstream_path(change: &Change) -> Option<String> {
    match change.status {
        Status::Added => None,
        Status::Renamed => change.old_path.clone(),
        _ => Some(change.path.clone()),
    }
}

/// Sets each change's `target_path`, and its copy source's.
pub fn relocate(facts: &Facts, objects: &dyn Objects, changes: &mut [Change]) -> Result<()> {
    let target = &facts.target_files;
    let needed = changes.iter().any(|c| {
        upstream_path(c).is_some_and(|p| !target.contains_key(&p))
            || c.copied_from
                .as_ref()
                .is_some_and(|f| !target.contains_key(&f.path))
    });
    let paths = TargetPaths::new(facts, objects, needed)?;
    for change in changes.iter_mut() {
        if let Some(path) = upstream_path(change) {
            change.target_path = paths.locate(objects, &path)?;
        }
        if let Some(copied) = &mut change.copied_from {
            copied.target_path = paths.locate(objects, &copied.path.clone())?;
        }
    }
    // A relocation moves a file; it does not send many files to one shared file. Of several
    // files relocated to one new path, only those whose name that path keeps went there.
    let mut sources: std::collections::HashMap<String, Vec<String>> = Default::default();
    for change in changes.iter() {
        if let (Some(from), Some(to)) = (upstream_path(change), &change.target_path) {
            if from != *to {
                sources.entry(to.clone()).or_default().push(from);
            }
        }
    }
    for change in changes.iter_mut() {
        let Some(from) = upstream_path(change) else {
            continue;
        };
        let Some(to) = change.target_path.clone() else {
            continue;
        };
        let shared = sources.get(&to).is_some_and(|s| {
            let mut distinct = s.clone();
            distinct.sort();
            distinct.dedup();
            distinct.len() > 1
        });
        if shared
            && !to
                .split('/')
                .any(|part| part == paths.name_of(&from) || stem(part) == paths.name_of(&from))
        {
            change.target_path = None;
        }
    }
    Ok(())
}

/// Where each file the fork added or changed sits in the merged tree, and whether that
/// directory still exists upstream.
pub fn place_in_merge(facts: &Facts, objects: &dyn Objects, changes: &mut [Change]) -> Result<()> {
    let merged = &facts.merges.merged_files;
    let outcome = &facts.merges.fork;
    let conflicted: std::collections::HashSet<String> =
        outcome.conflicted_paths().into_iter().collect();
    for change in changes.iter_mut() {
        if change.status == Status::Deleted || change.origin == Origin::Upstream {
            continue;
        }

        let moved_by_merge = || {
            outcome
                .messages
                .iter()
                .filter(|m| m.paths.contains(&change.path))
                .flat_map(|m| m.paths.iter())
                .find(|p| **p != change.path && merged.contains_key(*p))
                .cloned()
        };
        let merged_path = if merged.contains_key(&change.path) {
            Some(change.path.clone())
        } else if let Some(target) = change
            .target_path
            .clone()
            .filter(|t| merged.contains_key(t))
        {
            Some(target)
        } else {
            moved_by_merge()
        };
        let Some(merged_path) = merged_path else {
            continue;
        };
        if change.status == Status::Added {
            change.target_path = Some(merged_path.clone());
        }
        // A path git stops at (modify/delete, rename/delete) is a conflict, FD202, with its own
        // advice; an orphan is what a clean merge leaves behind unannounced. One event, one
        // finding and one risk term.
        change.orphaned = !conflicted.contains(&change.path)
            && !conflicted.contains(&merged_path)
            && orphaned_between(objects, facts.trees.base, facts.trees.target, &merged_path)?;
    }
    Ok(())
}

/// In a directory the merge-base had and `target` no longer has: the nearest directory above
/// `path` that existed at the base is gone.
pub fn orphaned_between(
    objects: &dyn Objects,
    base: TreeId,
    target: TreeId,
    path: &str,
) -> Result<bool> {
    let mut dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    while !dir.is_empty() && !objects.has_dir(base, dir)? {
        dir = dir.rsplit_once('/').map_or("", |(d, _)| d);
    }
    Ok(!dir.is_empty() && !objects.has_dir(target, dir)?)
}
