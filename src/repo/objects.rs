//! The object store as the analysis reads it: trees, blobs, diffs and patch-ids, through the
//! `Objects` trait.

use super::{Repo, blob_id, not_found, oid};
use crate::error::{Error, GitContext, Result};
use crate::facts::{
    BlobId, Delta, DeltaStatus, EntryKind, Files, LineStats, Objects, Special, TreeId,
};
use git2::{DiffFindOptions, DiffOptions, ErrorCode, ObjectType};
use std::path::{Path, PathBuf};

impl Repo {
    /// A tree's files (submodules and symlinks included) and which of them are symlinks or
    /// submodules, in one walk.
    pub fn files_and_special(&self, tree: TreeId) -> Result<(Files, Special)> {
        let tree = self.find_tree(tree)?;
        let mut files = Files::new();
        let mut special = Special::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() != Some(ObjectType::Tree) {
                if let Ok(name) = entry.name() {
                    let path = format!("{dir}{name}");
                    let kind = EntryKind::from_mode(entry.filemode() as u32);
                    if kind != EntryKind::File {
                        special.insert(path.clone(), kind);
                    }
                    files.insert(path, blob_id(entry.id()));
                }
            }
            git2::TreeWalkResult::Ok
        })
        .context(|| "could not walk a tree".into())?;
        Ok((files, special))
    }
}

impl Objects for Repo {
    fn opener(&self) -> Option<crate::facts::Opener> {
        let handle = self.handle();
        let scratch: Vec<PathBuf> = self
            .scratch
            .borrow()
            .iter()
            .map(|s| s.objects().to_path_buf())
            .collect();
        Some(Box::new(move || {
            let local = handle.open()?;
            // The merges' objects stay owned (and removed) by this handle; the worker only
            // reads them.
            {
                let odb = local
                    .git
                    .odb()
                    .context(|| "could not open the object database".into())?;
                for dir in &scratch {
                    odb.add_disk_alternate(&dir.to_string_lossy())
                        .context(|| "could not read the merge's objects".into())?;
                }
            }
            Ok(Box::new(local) as Box<dyn Objects>)
        }))
    }

    fn files(&self, tree: TreeId) -> Result<Files> {
        Ok(self.files_and_special(tree)?.0)
    }

    fn entry(&self, tree: TreeId, path: &str) -> Result<Option<BlobId>> {
        let tree = self.find_tree(tree)?;
        let entry = not_found(tree.get_path(Path::new(path)))
            .context(|| format!("could not look up {path}"))?;
        Ok(entry
            .filter(|e| e.kind() != Some(ObjectType::Tree))
            .map(|e| blob_id(e.id())))
    }

    fn has_dir(&self, tree: TreeId, dir: &str) -> Result<bool> {
        if dir.is_empty() {
            return Ok(true);
        }
        let tree = self.find_tree(tree)?;
        let entry = not_found(tree.get_path(Path::new(dir)))
            .context(|| format!("could not look up {dir}"))?;
        Ok(entry.is_some_and(|e| e.kind() == Some(ObjectType::Tree)))
    }

    fn blob_if_present(&self, id: BlobId) -> Result<Option<Vec<u8>>> {
        let blob = not_found(self.git.find_blob(oid(id)))
            .context(|| format!("could not read blob {id}"))?;
        Ok(blob.map(|b| b.content().to_vec()))
    }

    fn blob(&self, id: BlobId) -> Result<Vec<u8>> {
        let blob = self
            .git
            .find_blob(oid(id))
            .context(|| format!("could not read blob {id}"))?;
        Ok(blob.content().to_vec())
    }

    fn diff(
        &self,
        old: Option<TreeId>,
        new: TreeId,
        renames: bool,
        paths: &[String],
    ) -> Result<Vec<Delta>> {
        let old_tree = old.map(|id| self.find_tree(id)).transpose()?;
        let new_tree = self.find_tree(new)?;
        let mut options = DiffOptions::new();
        options.skip_binary_check(true);
        for path in paths {
            options.pathspec(path);
        }
        if !paths.is_empty() {
            options.disable_pathspec_match(true);
        }
        let mut diff = self
            .git
            .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), Some(&mut options))
            .context(|| "could not diff two trees".into())?;
        if renames {
            let mut find = DiffFindOptions::new();
            find.renames(true).rename_limit(2000);
            // A blob this clone lacks (a partial clone, a pruned snapshot) leaves the changes
            // unpaired rather than failing the whole analysis.
            if let Err(error) = diff.find_similar(Some(&mut find)) {
                if error.code() != ErrorCode::NotFound {
                    return Err(Error::Git {
                        context: "rename detection failed".into(),
                        source: error.into(),
                    });
                }
            }
        }
        let mut out = Vec::with_capacity(diff.deltas().len());
        for delta in diff.deltas() {
            let status = match delta.status() {
                git2::Delta::Added => DeltaStatus::Added,
                git2::Delta::Deleted => DeltaStatus::Deleted,
                git2::Delta::Modified => DeltaStatus::Modified,
                git2::Delta::Renamed => DeltaStatus::Renamed,
                git2::Delta::Typechange => DeltaStatus::TypeChanged,
                _ => continue,
            };
            let path =
                |file: git2::DiffFile| file.path().map(|p| p.to_string_lossy().replace('\\', "/"));
            let (old_file, new_file) = (delta.old_file(), delta.new_file());
            let old_id = (!old_file.id().is_zero()).then(|| blob_id(old_file.id()));
            let new_id = (!new_file.id().is_zero()).then(|| blob_id(new_file.id()));
            let kind = |file: &git2::DiffFile| EntryKind::from_mode(u32::from(file.mode()));
            let old_kind = (status != DeltaStatus::Added).then(|| kind(&old_file));
            let new_kind = (status != DeltaStatus::Deleted).then(|| kind(&new_file));
            out.push(Delta {
                status,
                old_path: if status == DeltaStatus::Added {
                    None
                } else {
                    path(old_file)
                },
                new_path: if status == DeltaStatus::Deleted {
                    None
                } else {
                    path(new_file)
                },
                old_id,
                new_id,
                old_kind,
                new_kind,
            });
        }
        Ok(out)
    }

    fn patch_id(&self, old: TreeId, new: TreeId) -> Result<Option<String>> {
        let (old, new) = (self.find_tree(old)?, self.find_tree(new)?);
        let diff = self
            .git
            .diff_tree_to_tree(Some(&old), Some(&new), None)
            .context(|| "could not diff a commit".into())?;
        if diff.deltas().len() == 0 {
            return Ok(None);
        }
        diff.patchid(None)
            .map(|id| Some(id.to_string()))
            .context(|| "could not compute a patch-id".into())
    }

    fn line_stats(&self, old: Option<BlobId>, new: Option<BlobId>) -> Result<LineStats> {
        let find = |id: Option<BlobId>| -> Result<Option<git2::Blob<'_>>> {
            id.map(|id| {
                not_found(self.git.find_blob(oid(id)))
                    .context(|| format!("could not read blob {id}"))
            })
            .transpose()
            .map(Option::flatten)
        };
        let (old_blob, new_blob) = (find(old)?, find(new)?);
        // A blob this clone lacks (a partial clone) counts like a binary: no lines to count.
        if (old.is_some() && old_blob.is_none()) || (new.is_some() && new_blob.is_none()) {
            return Ok(LineStats {
                added: 0,
                deleted: 0,
                binary: true,
            });
        }
        let binary = old_blob.as_ref().is_some_and(|b| b.is_binary())
            || new_blob.as_ref().is_some_and(|b| b.is_binary());
        if binary {
            return Ok(LineStats {
                added: 0,
                deleted: 0,
                binary,
            });
        }
        let content =
            |blob: &Option<git2::Blob<'_>>| blob.as_ref().map_or(&[][..], |b| b.content()).to_vec();
        let (old_content, new_content) = (content(&old_blob), content(&new_blob));
        let patch = git2::Patch::from_buffers(&old_content, None, &new_content, None, None)
            .context(|| "could not diff two blobs".into())?;
        let (_, added, deleted) = patch
            .line_stats()
            .context(|| "could not count changed lines".into())?;
        Ok(LineStats {
            added: added as u64,
            deleted: deleted as u64,
            binary,
        })
    }
}
