//! [`Objects`] held in memory, for tests of the analysis steps without a repository: trees are
//! path → content maps, ids are git's own hashes of the content, diffs pair no renames.

use super::{BlobId, Delta, DeltaStatus, EntryKind, Files, LineStats, Objects, TreeId};
use crate::error::{Error, Result};
use crate::ids::blob_hash;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Default)]
pub struct MemoryObjects {
    blobs: HashMap<BlobId, Vec<u8>>,
    trees: HashMap<TreeId, Files>,
}

impl MemoryObjects {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_blob(&mut self, content: &[u8]) -> BlobId {
        let id = blob_hash(content);
        self.blobs.insert(id, content.to_vec());
        id
    }

    /// A tree of `(path, content)` files; its id is a hash of the listing.
    pub fn add_tree(&mut self, files: &[(&str, &str)]) -> TreeId {
        let mut listing = Files::new();
        for (path, content) in files {
            listing.insert((*path).to_string(), self.add_blob(content.as_bytes()));
        }
        let mut key = String::new();
        for (path, id) in &listing {
            key.push_str(&format!("{path}\0{id}\n"));
        }
        let id = TreeId(blob_hash(key.as_bytes()).0);
        self.trees.insert(id, listing);
        id
    }

    fn tree(&self, id: TreeId) -> Result<&Files> {
        self.trees.get(&id).ok_or_else(|| missing(&id.to_string()))
    }
}

fn missing(what: &str) -> Error {
    Error::Usage {
        message: format!("object {what} is not in the in-memory store"),
        help: "add it with MemoryObjects::add_tree or add_blob".into(),
    }
}

impl Objects for MemoryObjects {
    fn blob(&self, id: BlobId) -> Result<Vec<u8>> {
        self.blobs
            .get(&id)
            .cloned()
            .ok_or_else(|| missing(&id.to_string()))
    }

    fn blob_if_present(&self, id: BlobId) -> Result<Option<Vec<u8>>> {
        Ok(self.blobs.get(&id).cloned())
    }

    fn entry(&self, tree: TreeId, path: &str) -> Result<Option<BlobId>> {
        Ok(self.tree(tree)?.get(path).copied())
    }

    fn has_dir(&self, tree: TreeId, dir: &str) -> Result<bool> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        Ok(dir.is_empty() || self.tree(tree)?.keys().any(|p| p.starts_with(&prefix)))
    }

    fn files(&self, tree: TreeId) -> Result<Files> {
        Ok(self.tree(tree)?.clone())
    }

    fn diff(
        &self,
        old: Option<TreeId>,
        new: TreeId,
        _renames: bool,
        paths: &[String],
    ) -> Result<Vec<Delta>> {
        let empty = Files::new();
        let old = match old {
            Some(id) => self.tree(id)?,
            None => &empty,
        };
        let new = self.tree(new)?;
        let mut all: BTreeMap<&str, (Option<BlobId>, Option<BlobId>)> = BTreeMap::new();
        for (path, id) in old {
            all.entry(path).or_default().0 = Some(*id);
        }
        for (path, id) in new {
            all.entry(path).or_default().1 = Some(*id);
        }
        Ok(all
            .into_iter()
            .filter(|(path, _)| paths.is_empty() || paths.iter().any(|p| p == path))
            .filter_map(|(path, (old_id, new_id))| {
                let status = match (old_id, new_id) {
                    (None, Some(_)) => DeltaStatus::Added,
                    (Some(_), None) => DeltaStatus::Deleted,
                    (Some(a), Some(b)) if a != b => DeltaStatus::Modified,
                    _ => return None,
                };
                Some(Delta {
                    status,
                    old_path: old_id.map(|_| path.to_string()),
                    new_path: new_id.map(|_| path.to_string()),
                    old_id,
                    new_id,
                    old_kind: old_id.map(|_| EntryKind::File),
                    new_kind: new_id.map(|_| EntryKind::File),
                })
            })
            .collect())
    }

    fn line_stats(&self, old: Option<BlobId>, new: Option<BlobId>) -> Result<LineStats> {
        let read = |id: Option<BlobId>| id.map(|id| self.blob(id)).transpose();
        let (old, new) = (
            read(old)?.unwrap_or_default(),
            read(new)?.unwrap_or_default(),
        );
        if old.contains(&0) || new.contains(&0) {
            return Ok(LineStats {
                binary: true,
                ..LineStats::default()
            });
        }
        let (old, new) = (String::from_utf8_lossy(&old), String::from_utf8_lossy(&new));
        let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
        let mut stats = LineStats::default();
        for change in diff.iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Insert => stats.added += 1,
                similar::ChangeTag::Delete => stats.deleted += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        Ok(stats)
    }

    fn patch_id(&self, _old: TreeId, _new: TreeId) -> Result<Option<String>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_diff_and_read() {
        let mut store = MemoryObjects::new();
        let old = store.add_tree(&[("a.py", "x\n"), ("dir/b.py", "y\n")]);
        let new = store.add_tree(&[("a.py", "x\nz\n"), ("c.py", "c\n")]);
        let deltas = store.diff(Some(old), new, false, &[]).unwrap();
        let statuses: Vec<(&str, DeltaStatus)> =
            deltas.iter().map(|d| (d.path(), d.status)).collect();
        assert_eq!(
            statuses,
            vec![
                ("a.py", DeltaStatus::Modified),
                ("c.py", DeltaStatus::Added),
                ("dir/b.py", DeltaStatus::Deleted)
            ]
        );
        assert!(store.has_dir(old, "dir").unwrap());
        assert!(!store.has_dir(new, "dir").unwrap());
        assert_eq!(
            store.read(new, "c.py").unwrap().as_deref(),
            Some(&b"c\n"[..])
        );
        let stats = store
            .line_stats(deltas[0].old_id, deltas[0].new_id)
            .unwrap();
        assert_eq!((stats.added, stats.deleted), (1, 0));
    }
}
