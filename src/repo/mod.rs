//! The only user of git2 and of the `git` program. Owned values leave this module; `NotFound`
//! becomes `Option`; every error carries context. Nothing here writes to the repository.

pub mod background;
pub mod blame;
pub mod collect;
mod fork_config;
pub mod git;
pub mod later;
pub mod merge;
mod objects;
mod refs;
mod selection;

use crate::error::{Error, GitContext, Result};
use crate::facts::{BlobId, CommitId, CommitInfo, Objects, TreeId};
use git2::{ErrorCode, Oid, Repository, RepositoryOpenFlags, Sort};
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
        // libgit2 would search upward from a file and audit whatever repository holds it.
        if !dir.is_dir() {
            return Err(Error::Usage {
                message: format!("{} is a file, not a directory", dir.display()),
                help: "-C names the fork's clone (or bare repository): a directory".into(),
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
