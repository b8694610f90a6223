//! The only user of git2 and of the `git` program. Owned values leave this module; `NotFound`
//! becomes `Option`; every error carries context. Nothing here writes to the repository.

pub mod git;
pub mod merge;

use crate::error::{Error, GitContext, Result};
use git2::{
    DiffFindOptions, DiffOptions, ErrorCode, ObjectType, Oid, Repository, RepositoryOpenFlags, Sort,
};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// A repository's location, to be opened by another thread.
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
}

#[derive(Debug, Clone)]
pub struct CommitMeta {
    pub id: Oid,
    pub parents: Vec<Oid>,
    pub tree: Oid,
    pub subject: String,
    pub message: String,
    pub author: String,
    pub time: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
    TypeChanged,
}

#[derive(Debug, Clone)]
pub struct Delta {
    pub status: DeltaStatus,
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    pub old_id: Option<Oid>,
    pub new_id: Option<Oid>,
}

impl Delta {
    /// The path the change is known by: its new path, or the old one for deletions.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .expect("a delta has a path")
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineStats {
    pub added: u64,
    pub deleted: u64,
    pub binary: bool,
}

/// A file in a tree: path → blob id (submodules and symlinks included, as git lists them).
pub type Files = BTreeMap<String, Oid>;

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
        let git = Repository::open_ext(
            dir,
            RepositoryOpenFlags::empty(),
            std::iter::empty::<&Path>(),
        )
        .map_err(|source| Error::NotARepository {
            path: dir.to_path_buf(),
            source,
        })?;
        let git_dir = git.path().to_path_buf();
        Ok(Repo { git, git_dir })
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
        commits: &[Oid],
        f: impl Fn(&Repo, Oid) -> Result<Option<T>> + Sync,
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

    pub fn resolve_commit(&self, rev: &str) -> Result<Oid> {
        let object = not_found(self.git.revparse_single(rev))
            .context(|| format!("could not resolve {rev}"))?;
        let Some(object) = object else {
            return Err(Error::UnknownRevision {
                rev: rev.to_string(),
                help: "check the name with `git rev-parse --verify <rev>`; upstream refs need `git fetch upstream --tags` first".into(),
            });
        };
        object
            .peel_to_commit()
            .map(|c| c.id())
            .map_err(|_| Error::UnknownRevision {
                rev: rev.to_string(),
                help: format!(
                    "{rev} names a {}, not a commit",
                    object.kind().map_or("object", |k| k.str())
                ),
            })
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
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, Oid)>> {
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
                out.push((name.to_string(), commit.id()));
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

    pub fn merge_base(&self, a: Oid, b: Oid) -> Result<Option<Oid>> {
        not_found(self.git.merge_base(a, b))
            .context(|| format!("could not compute the merge-base of {a} and {b}"))
    }

    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> Result<bool> {
        if ancestor == descendant {
            return Ok(true);
        }
        self.git
            .graph_descendant_of(descendant, ancestor)
            .context(|| format!("could not compare {ancestor} with {descendant}"))
    }

    /// Commits reachable from `include` but from none of `hide`, newest first (topological).
    pub fn walk(&self, include: &[Oid], hide: &[Oid]) -> Result<Vec<Oid>> {
        let mut walk = self
            .git
            .revwalk()
            .context(|| "could not start a revision walk".into())?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .context(|| "could not sort the walk".into())?;
        for id in include {
            walk.push(*id)
                .context(|| format!("could not walk from {id}"))?;
        }
        for id in hide {
            walk.hide(*id).context(|| format!("could not hide {id}"))?;
        }
        walk.collect::<std::result::Result<Vec<_>, _>>()
            .context(|| "revision walk failed".into())
    }

    pub fn commit(&self, id: Oid) -> Result<CommitMeta> {
        let commit = self
            .git
            .find_commit(id)
            .context(|| format!("could not read commit {id}"))?;
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let author = commit.author();
        Ok(CommitMeta {
            id,
            parents: commit.parent_ids().collect(),
            tree: commit.tree_id(),
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

    pub fn tree_of(&self, commit: Oid) -> Result<Oid> {
        Ok(self.commit(commit)?.tree)
    }

    /// Every blob in a tree, by path.
    pub fn files(&self, tree: Oid) -> Result<Files> {
        let tree = self
            .git
            .find_tree(tree)
            .context(|| format!("could not read tree {tree}"))?;
        let mut files = Files::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() != Some(ObjectType::Tree) {
                if let Ok(name) = entry.name() {
                    files.insert(format!("{dir}{name}"), entry.id());
                }
            }
            git2::TreeWalkResult::Ok
        })
        .context(|| "could not walk a tree".into())?;
        Ok(files)
    }

    /// The blob at `path` in `tree`, if any.
    pub fn entry(&self, tree: Oid, path: &str) -> Result<Option<Oid>> {
        let tree = self
            .git
            .find_tree(tree)
            .context(|| format!("could not read tree {tree}"))?;
        let entry = not_found(tree.get_path(Path::new(path)))
            .context(|| format!("could not look up {path}"))?;
        Ok(entry
            .filter(|e| e.kind() != Some(ObjectType::Tree))
            .map(|e| e.id()))
    }

    /// Does `dir` exist as a directory in `tree`?
    pub fn has_dir(&self, tree: Oid, dir: &str) -> Result<bool> {
        if dir.is_empty() {
            return Ok(true);
        }
        let tree = self
            .git
            .find_tree(tree)
            .context(|| format!("could not read tree {tree}"))?;
        let entry = not_found(tree.get_path(Path::new(dir)))
            .context(|| format!("could not look up {dir}"))?;
        Ok(entry.is_some_and(|e| e.kind() == Some(ObjectType::Tree)))
    }

    /// A blob, or None when this clone lacks it (partial clones omit blobs).
    pub fn blob_if_present(&self, id: Oid) -> Result<Option<Vec<u8>>> {
        let blob =
            not_found(self.git.find_blob(id)).context(|| format!("could not read blob {id}"))?;
        Ok(blob.map(|b| b.content().to_vec()))
    }

    pub fn blob(&self, id: Oid) -> Result<Vec<u8>> {
        let blob = self
            .git
            .find_blob(id)
            .context(|| format!("could not read blob {id}"))?;
        Ok(blob.content().to_vec())
    }

    pub fn read(&self, tree: Oid, path: &str) -> Result<Option<Vec<u8>>> {
        match self.entry(tree, path)? {
            Some(id) => Ok(Some(self.blob(id)?)),
            None => Ok(None),
        }
    }

    /// Changes between two trees (`None`: the empty tree). With `renames`, git's rename
    /// detection pairs deletions and additions.
    pub fn diff(
        &self,
        old: Option<Oid>,
        new: Oid,
        renames: bool,
        paths: &[String],
    ) -> Result<Vec<Delta>> {
        let old_tree = match old {
            Some(id) => Some(
                self.git
                    .find_tree(id)
                    .context(|| format!("could not read tree {id}"))?,
            ),
            None => None,
        };
        let new_tree = self
            .git
            .find_tree(new)
            .context(|| format!("could not read tree {new}"))?;
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
                        source: error,
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
            let old_id = (!old_file.id().is_zero()).then(|| old_file.id());
            let new_id = (!new_file.id().is_zero()).then(|| new_file.id());
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
            });
        }
        Ok(out)
    }

    /// Paths a commit changed. For a merge, only the paths where the result differs from
    /// every parent: what the merge itself wrote (conflict resolutions, evil merges).
    pub fn touched_paths(&self, commit: &CommitMeta) -> Result<Vec<String>> {
        let per_parent = |parent: Option<Oid>| -> Result<HashSet<String>> {
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

    /// git's patch-id of a commit's diff to its first parent (stable: whitespace-insensitive).
    pub fn patch_id(&self, commit: &CommitMeta) -> Result<Option<Oid>> {
        let Some(parent) = commit.parents.first() else {
            return Ok(None);
        };
        let old = self
            .git
            .find_tree(self.tree_of(*parent)?)
            .context(|| "could not read a tree".into())?;
        let new = self
            .git
            .find_tree(commit.tree)
            .context(|| "could not read a tree".into())?;
        let diff = self
            .git
            .diff_tree_to_tree(Some(&old), Some(&new), None)
            .context(|| "could not diff a commit".into())?;
        if diff.deltas().len() == 0 {
            return Ok(None);
        }
        diff.patchid(None)
            .map(Some)
            .context(|| format!("could not compute the patch-id of {}", commit.id))
    }

    /// Line-level blame of `path` at `commit`, for lines `first..=last` (1-based): the commit
    /// that wrote each line, stopping at `oldest`.
    pub fn blame_lines(
        &self,
        commit: Oid,
        path: &str,
        first: usize,
        last: usize,
    ) -> Result<Vec<Oid>> {
        let mut options = git2::BlameOptions::new();
        options.newest_commit(commit).min_line(first).max_line(last);
        let blame = self
            .git
            .blame_file(Path::new(path), Some(&mut options))
            .context(|| format!("could not blame {path}"))?;
        let mut out = Vec::new();
        for hunk in blame.iter() {
            out.push(hunk.final_commit_id());
        }
        Ok(out)
    }

    /// Lines added and deleted between two blobs, counted by libgit2's xdiff as
    /// `git diff --numstat` would; binary blobs count no lines.
    pub fn line_stats(&self, old: Option<Oid>, new: Option<Oid>) -> Result<LineStats> {
        let find = |id: Option<Oid>| -> Result<Option<git2::Blob<'_>>> {
            id.map(|id| {
                not_found(self.git.find_blob(id)).context(|| format!("could not read blob {id}"))
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

    /// `commit` as one patch of a `git format-patch` style mbox, its change taken as the
    /// difference between two trees (a cherry-pick of it onto another base).
    pub fn email(
        &self,
        commit: &CommitMeta,
        from: Oid,
        to: Oid,
        number: usize,
        count: usize,
    ) -> Result<Vec<u8>> {
        let found = self
            .git
            .find_commit(commit.id)
            .context(|| format!("could not read commit {}", commit.id))?;
        let old = self
            .git
            .find_tree(from)
            .context(|| format!("could not read tree {from}"))?;
        let new = self
            .git
            .find_tree(to)
            .context(|| format!("could not read tree {to}"))?;
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
            &commit.id,
            commit.subject.as_str(),
            body.as_str(),
            &found.author(),
            &mut options,
        )
        .context(|| format!("could not write {} as a patch", commit.id))?;
        Ok(email.as_slice().to_vec())
    }

    /// Adds a throw-away object directory (from a merge run) to this handle's object lookup.
    pub fn add_scratch_objects(&self, dir: &Path) -> Result<()> {
        let odb = self
            .git
            .odb()
            .context(|| "could not open the object database".into())?;
        odb.add_disk_alternate(&dir.to_string_lossy())
            .context(|| "could not read the merge's objects".into())
    }
}

/// Numbers of pull requests a subject names: `Fix x (#12) (#34)` → [12, 34].
pub fn pr_numbers(subject: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut rest = subject;
    while let Some(start) = rest.find("(#") {
        let digits: String = rest[start + 2..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !digits.is_empty() && rest[start + 2 + digits.len()..].starts_with(')') {
            if let Ok(n) = digits.parse() {
                out.push(n);
            }
        }
        rest = &rest[start + 2..];
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pr_numbers_come_from_parenthesised_references() {
        assert_eq!(
            super::pr_numbers("[9.2] Fix sync (#3973) (#3978)"),
            vec![3973, 3978]
        );
        assert_eq!(super::pr_numbers("Mention #12 and (#x)"), Vec::<u32>::new());
    }
}
