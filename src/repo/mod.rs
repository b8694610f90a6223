//! The only user of git2 and of the `git` program. Owned values leave this module; `NotFound`
//! becomes `Option`; every error carries context. Nothing here writes to the repository.

pub mod blame;
pub mod collect;
mod fork_config;
pub mod git;
pub mod later;
pub mod merge;
mod selection;

use crate::error::{Error, GitContext, Result};
use crate::facts::{
    BlobId, CommitId, CommitInfo, Delta, DeltaStatus, EntryKind, Files, LineStats, Objects,
    Special, TreeId,
};
use git2::{
    DiffFindOptions, DiffOptions, ErrorCode, ObjectType, Oid, Repository, RepositoryOpenFlags, Sort,
};
use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub(crate) fn oid<T: Into<[u8; 20]>>(id: T) -> Oid {
    Oid::from_bytes(&id.into()).expect("20 bytes make an object id")
}

fn raw(id: Oid) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(&id.as_bytes()[..20]);
    out
}

pub(crate) fn commit_id(id: Oid) -> CommitId {
    CommitId(raw(id))
}

pub(crate) fn tree_id(id: Oid) -> TreeId {
    TreeId(raw(id))
}

pub(crate) fn blob_id(id: Oid) -> BlobId {
    BlobId(raw(id))
}

impl From<CommitId> for [u8; 20] {
    fn from(id: CommitId) -> Self {
        id.0
    }
}
impl From<TreeId> for [u8; 20] {
    fn from(id: TreeId) -> Self {
        id.0
    }
}
impl From<BlobId> for [u8; 20] {
    fn from(id: BlobId) -> Self {
        id.0
    }
}

/// A repository's location, to be opened by another thread.
/// How much of the pack files libgit2 keeps mapped. Its defaults (1 GiB windows, 8 GiB in
/// all) keep every page a run touched resident until exit: on op-geth half of the audit's
/// peak RSS (207 MiB) was mapped pack data read once. Windows are re-mapped from the page
/// cache when needed again, which costs no measurable time (4.3–4.7 s either way).
const PACK_WINDOW: usize = 32 << 20;
const PACK_WINDOWS_MAPPED: usize = 64 << 20;

fn limit_pack_windows() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: libgit2 reads these globals when it maps a pack window; they are set once,
        // before the first repository of the process is opened.
        unsafe {
            let _ = git2::opts::set_mwindow_size(PACK_WINDOW);
            let _ = git2::opts::set_mwindow_mapped_limit(PACK_WINDOWS_MAPPED);
        }
    });
}

#[derive(Debug, Clone)]
pub struct RepoHandle(PathBuf);

impl RepoHandle {
    pub fn open(&self) -> Result<Repo> {
        Repo::open(&self.0)
    }
}

pub struct Repo {
    git: Repository,
    git_dir: PathBuf,
    /// Throw-away object directories of the merges run for this handle: their trees and blobs
    /// stay readable for as long as the handle lives.
    scratch: RefCell<Vec<merge::Scratch>>,
}

fn not_found<T>(
    result: std::result::Result<T, git2::Error>,
) -> std::result::Result<Option<T>, git2::Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl Repo {
    pub fn open(dir: &Path) -> Result<Repo> {
        if !dir.exists() {
            return Err(Error::NoSuchDirectory {
                path: dir.to_path_buf(),
            });
        }
        // git does not re-hash every object it reads, and neither do we: 16–22 % of a run went
        // to libgit2 verifying SHA-1s of objects the repository already vouches for.
        git2::opts::strict_hash_verification(false);
        limit_pack_windows();
        let git = Repository::open_ext(
            dir,
            RepositoryOpenFlags::empty(),
            std::iter::empty::<&Path>(),
        )
        .map_err(|source| match source.code() {
            ErrorCode::Owner => Error::NotOwned {
                path: std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
                source: source.into(),
            },
            _ => Error::NotARepository {
                path: dir.to_path_buf(),
                source: source.into(),
            },
        })?;
        let git_dir = git.path().to_path_buf();
        Ok(Repo {
            git,
            git_dir,
            scratch: RefCell::default(),
        })
    }

    /// Where another thread can open its own handle (git2's Repository is not Sync).
    pub fn handle(&self) -> RepoHandle {
        RepoHandle(self.git_dir.clone())
    }

    /// `Name <email>` from git's configuration, as a commit would be signed.
    pub fn user(&self) -> Option<String> {
        let config = self.git.config().ok()?;
        let name = config.get_string("user.name").ok()?;
        let email = config.get_string("user.email").ok()?;
        Some(format!("{name} <{email}>"))
    }

    /// `f` over many commits on every core, each worker with its own handle (a Repository is
    /// not Sync); results keep the commits' order, `None`s dropped.
    pub fn par_map<T: Send>(
        &self,
        commits: &[CommitId],
        f: impl Fn(&Repo, CommitId) -> Result<Option<T>> + Sync,
    ) -> Result<Vec<T>> {
        use rayon::prelude::*;
        let handle = self.handle();
        let chunk = commits
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(16);
        let parts = commits
            .par_chunks(chunk)
            .map(|part| {
                let local = handle.open()?;
                let mut out = Vec::with_capacity(part.len());
                for id in part {
                    out.extend(f(&local, *id)?);
                }
                Ok(out)
            })
            .collect::<Vec<Result<Vec<T>>>>();
        let mut out = Vec::with_capacity(commits.len());
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    pub fn workdir(&self) -> Option<&Path> {
        self.git.workdir()
    }

    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// The object directory shared by all worktrees.
    pub fn objects_dir(&self) -> PathBuf {
        self.git.commondir().join("objects")
    }

    pub fn is_shallow(&self) -> bool {
        self.git.is_shallow()
    }

    pub fn resolve_commit(&self, rev: &str) -> Result<CommitId> {
        // An empty repository, or HEAD on a branch not born yet: say so, not "unknown HEAD".
        if rev == "HEAD" {
            if let Err(error) = self.git.head() {
                if error.code() == ErrorCode::UnbornBranch {
                    return Err(Error::NoCommits {
                        path: self.workdir().unwrap_or(&self.git_dir).to_path_buf(),
                        empty: self.git.is_empty().unwrap_or(false),
                    });
                }
            }
        }
        let object = not_found(self.git.revparse_single(rev))
            .context(|| format!("could not resolve {rev}"))?;
        let Some(object) = object else {
            let help = match self.nearest_ref(rev) {
                Some(near) => {
                    format!("did you mean `{near}`? (`git branch -a` and `git tag` list the names)")
                }
                None => format!(
                    "check the name with `git rev-parse --verify {rev}`; upstream's branches and tags need `git fetch upstream --tags` first"
                ),
            };
            return Err(Error::UnknownRevision {
                rev: rev.to_string(),
                help,
            });
        };
        object
            .peel_to_commit()
            .map(|c| commit_id(c.id()))
            .map_err(|_| Error::UnknownRevision {
                rev: rev.to_string(),
                help: format!(
                    "{rev} names a {}, not a commit",
                    object.kind().map_or("object", |k| k.str())
                ),
            })
    }

    /// The branch, remote branch or tag whose short name is nearest to a mistyped `rev`
    /// (at most two edits away, and at most half its length).
    fn nearest_ref(&self, rev: &str) -> Option<String> {
        let references = self.git.references().ok()?;
        let mut best: Option<(usize, String)> = None;
        for reference in references.flatten() {
            let Ok(name) = reference.name() else { continue };
            let short = ["refs/heads/", "refs/remotes/", "refs/tags/"]
                .iter()
                .find_map(|prefix| name.strip_prefix(prefix));
            let Some(short) = short else { continue };
            let distance = edit_distance(rev, short);
            if distance <= 2
                && 2 * distance <= rev.chars().count()
                && best.as_ref().is_none_or(|(d, _)| distance < *d)
            {
                best = Some((distance, short.to_string()));
            }
        }
        best.map(|(_, name)| name)
    }

    pub fn has_remote(&self, name: &str) -> bool {
        self.git.find_remote(name).is_ok()
    }

    pub fn remote_names(&self) -> Vec<String> {
        self.git
            .remotes()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|n| n.ok().flatten().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every ref whose name starts with `prefix`, peeled to commits (non-commit refs skipped).
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, CommitId)>> {
        let mut out = Vec::new();
        let glob = format!("{prefix}*");
        for reference in self
            .git
            .references_glob(&glob)
            .context(|| format!("could not list {glob}"))?
        {
            let reference = reference.context(|| format!("could not read a ref under {prefix}"))?;
            if reference.kind() == Some(git2::ReferenceType::Symbolic) {
                continue;
            }
            let Ok(name) = reference.name() else { continue };
            if let Ok(commit) = reference.peel_to_commit() {
                out.push((name.to_string(), commit_id(commit.id())));
            }
        }
        out.sort();
        Ok(out)
    }

    /// `refs/remotes/<remote>/HEAD`'s target, else `main`, else `master`.
    pub fn default_branch(&self, remote: &str) -> Option<String> {
        let head = format!("refs/remotes/{remote}/HEAD");
        if let Ok(reference) = self.git.find_reference(&head) {
            if let Ok(Some(target)) = reference.symbolic_target() {
                return Some(target.to_string());
            }
        }
        ["main", "master"]
            .iter()
            .map(|b| format!("refs/remotes/{remote}/{b}"))
            .find(|r| self.git.find_reference(r).is_ok())
    }

    pub fn merge_base(&self, a: CommitId, b: CommitId) -> Result<Option<CommitId>> {
        Ok(not_found(self.git.merge_base(oid(a), oid(b)))
            .context(|| format!("could not compute the merge-base of {a} and {b}"))?
            .map(commit_id))
    }

    pub fn is_ancestor(&self, ancestor: CommitId, descendant: CommitId) -> Result<bool> {
        if ancestor == descendant {
            return Ok(true);
        }
        self.git
            .graph_descendant_of(oid(descendant), oid(ancestor))
            .context(|| format!("could not compare {ancestor} with {descendant}"))
    }

    /// Commits reachable from `include` but from none of `hide`, newest first (topological).
    pub fn walk(&self, include: &[CommitId], hide: &[CommitId]) -> Result<Vec<CommitId>> {
        let mut walk = self
            .git
            .revwalk()
            .context(|| "could not start a revision walk".into())?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .context(|| "could not sort the walk".into())?;
        for id in include {
            walk.push(oid(*id))
                .context(|| format!("could not walk from {id}"))?;
        }
        for id in hide {
            walk.hide(oid(*id))
                .context(|| format!("could not hide {id}"))?;
        }
        walk.map(|id| id.map(commit_id))
            .collect::<std::result::Result<Vec<_>, _>>()
            .context(|| "revision walk failed".into())
    }

    pub fn commit(&self, id: CommitId) -> Result<CommitInfo> {
        let mut info = self.commit_alone(id)?;
        if let Some(parent) = info.parents.first() {
            info.parent_tree = Some(self.tree_of(*parent)?);
        }
        Ok(info)
    }

    /// A commit without its first parent's tree (`parent_tree` is None): for a caller that
    /// reads the parents anyway and need not look each one up twice.
    pub fn commit_alone(&self, id: CommitId) -> Result<CommitInfo> {
        let commit = self
            .git
            .find_commit(oid(id))
            .context(|| format!("could not read commit {id}"))?;
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let author = commit.author();
        let parents: Vec<CommitId> = commit.parent_ids().map(commit_id).collect();
        Ok(CommitInfo {
            id,
            parents,
            tree: tree_id(commit.tree_id()),
            parent_tree: None,
            subject: message.lines().next().unwrap_or("").to_string(),
            author: format!(
                "{} <{}>",
                String::from_utf8_lossy(author.name_bytes()),
                String::from_utf8_lossy(author.email_bytes())
            ),
            time: commit.time().seconds(),
            message,
        })
    }

    pub fn tree_of(&self, commit: CommitId) -> Result<TreeId> {
        let found = self
            .git
            .find_commit(oid(commit))
            .context(|| format!("could not read commit {commit}"))?;
        Ok(tree_id(found.tree_id()))
    }

    fn find_tree(&self, tree: TreeId) -> Result<git2::Tree<'_>> {
        self.git
            .find_tree(oid(tree))
            .context(|| format!("could not read tree {tree}"))
    }

    /// Paths a commit changed. For a merge, only the paths where the result differs from
    /// every parent: what the merge itself wrote (conflict resolutions, evil merges).
    pub fn touched_paths(&self, commit: &CommitInfo) -> Result<Vec<String>> {
        let per_parent = |parent: Option<CommitId>| -> Result<HashSet<String>> {
            let parent_tree = match parent {
                Some(p) => Some(self.tree_of(p)?),
                None => None,
            };
            Ok(self
                .diff(parent_tree, commit.tree, false, &[])?
                .iter()
                .map(|d| d.path().to_string())
                .collect())
        };
        let mut parents = commit.parents.iter();
        let mut paths = per_parent(parents.next().copied())?;
        for parent in parents {
            let other = per_parent(Some(*parent))?;
            paths.retain(|p| other.contains(p));
        }
        let mut paths: Vec<String> = paths.into_iter().collect();
        paths.sort();
        Ok(paths)
    }

    /// `commit` as one patch of a `git format-patch` style mbox, its change taken as the
    /// difference between two trees (a cherry-pick of it onto another base).
    pub fn email(
        &self,
        commit: &CommitInfo,
        from: TreeId,
        to: TreeId,
        number: usize,
        count: usize,
    ) -> Result<Vec<u8>> {
        let found = self
            .git
            .find_commit(oid(commit.id))
            .context(|| format!("could not read commit {}", commit.id))?;
        let (old, new) = (self.find_tree(from)?, self.find_tree(to)?);
        let diff = self
            .git
            .diff_tree_to_tree(Some(&old), Some(&new), None)
            .context(|| "could not diff a cherry-pick".into())?;
        let body = commit
            .message
            .split_once('\n')
            .map_or("", |(_, rest)| rest)
            .trim()
            .to_string();
        let mut options = git2::EmailCreateOptions::new();
        options.always_number(count > 1);
        let email = git2::Email::from_diff(
            &diff,
            number,
            count,
            &oid(commit.id),
            commit.subject.as_str(),
            body.as_str(),
            &found.author(),
            &mut options,
        )
        .context(|| format!("could not write {} as a patch", commit.id))?;
        Ok(email.as_slice().to_vec())
    }

    /// Keeps a merge's throw-away object directory readable through this handle, for as long
    /// as the handle lives.
    pub fn add_scratch(&self, scratch: merge::Scratch) -> Result<()> {
        let odb = self
            .git
            .odb()
            .context(|| "could not open the object database".into())?;
        odb.add_disk_alternate(&scratch.objects().to_string_lossy())
            .context(|| "could not read the merge's objects".into())?;
        self.scratch.borrow_mut().push(scratch);
        Ok(())
    }
}

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

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(super::edit_distance("main", "main"), 0);
        assert_eq!(super::edit_distance("mian", "main"), 2);
        assert_eq!(super::edit_distance("upstream/man", "upstream/main"), 1);
        assert_eq!(super::edit_distance("", "abc"), 3);
        assert_eq!(super::edit_distance("kitten", "sitting"), 3);
    }
}
