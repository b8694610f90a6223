//! What the analysis reasons about: an owned snapshot of one fork and its upstream, read once
//! by `repo::collect`, and a read-only, content-addressed [`Objects`] store for the file
//! contents it reads lazily. Every analysis step is a function of these two and the rule pack:
//! none opens the repository or runs git.

pub mod memory;

use crate::analysis::versions::Version;
use crate::config::Acceptance;
use crate::error::Result;
pub use crate::ids::{BlobId, CommitId, TreeId};
use crate::rules::Pack;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A file in a tree: path → blob id (submodules and symlinks included, as git lists them).
pub type Files = BTreeMap<String, BlobId>;

/// Reads by object id: the answer for an id never changes, so a step that reads only through
/// this trait stays a pure function of its inputs.
pub trait Objects {
    fn blob(&self, id: BlobId) -> Result<Vec<u8>>;
    /// None when this clone lacks the blob (partial clones, pruned snapshots).
    fn blob_if_present(&self, id: BlobId) -> Result<Option<Vec<u8>>>;
    /// The blob at `path` in `tree`, if any (directories are not entries).
    fn entry(&self, tree: TreeId, path: &str) -> Result<Option<BlobId>>;
    fn has_dir(&self, tree: TreeId, dir: &str) -> Result<bool>;
    fn files(&self, tree: TreeId) -> Result<Files>;
    /// Changes between two trees (`None`: the empty tree), restricted to `paths` when given.
    /// With `renames`, deletions and additions are paired as git's rename detection does.
    fn diff(
        &self,
        old: Option<TreeId>,
        new: TreeId,
        renames: bool,
        paths: &[String],
    ) -> Result<Vec<Delta>>;
    /// Lines added and deleted between two blobs, as `git diff --numstat` counts them.
    fn line_stats(&self, old: Option<BlobId>, new: Option<BlobId>) -> Result<LineStats>;
    /// git's patch-id of the change between two trees (None when they are equal).
    fn patch_id(&self, old: TreeId, new: TreeId) -> Result<Option<String>>;

    /// Opens more readers of the same objects, one per worker thread (a reader need not be
    /// Sync); None where reading is cheap enough to stay on one thread.
    fn opener(&self) -> Option<Opener> {
        None
    }

    fn read(&self, tree: TreeId, path: &str) -> Result<Option<Vec<u8>>> {
        match self.entry(tree, path)? {
            Some(id) => Ok(Some(self.blob(id)?)),
            None => Ok(None),
        }
    }
}

/// Opens another reader of the same objects.
pub type Opener = Box<dyn Fn() -> Result<Box<dyn Objects>> + Send + Sync>;

/// `f` over `items` on every core when `objects` can open more readers (else on this thread),
/// results in the items' order: reading blobs and diffing them is most of what upstream
/// matching costs, and each item is independent.
pub fn par_map<I: Sync, T: Send>(
    objects: &dyn Objects,
    items: &[I],
    f: impl Fn(&dyn Objects, &I) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    use rayon::prelude::*;
    let threads = rayon::current_num_threads();
    let opener = match objects.opener() {
        Some(opener) if threads > 1 && items.len() > 1 => opener,
        _ => return items.iter().map(|item| f(objects, item)).collect(),
    };
    // Small chunks balance uneven items (one commit may rewrite a 5,000-line file); each chunk
    // opens one reader, which costs far less than one item.
    let chunk = items.len().div_ceil(threads * 4).max(1);
    let parts = items
        .par_chunks(chunk)
        .map(|part| {
            let local = opener()?;
            part.iter().map(|item| f(local.as_ref(), item)).collect()
        })
        .collect::<Vec<Result<Vec<T>>>>();
    let mut out = Vec::with_capacity(items.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
    TypeChanged,
}

/// What a tree entry is, from its git mode: a file (100644, 100755), a symlink (120000: its
/// blob holds the target path) or a submodule (160000, a gitlink: its id names a commit of
/// another repository, which this one does not hold).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum EntryKind {
    #[default]
    File,
    Symlink,
    Submodule,
}

impl EntryKind {
    /// From a git file mode.
    pub fn from_mode(mode: u32) -> EntryKind {
        match mode & 0o170000 {
            0o120000 => EntryKind::Symlink,
            0o160000 => EntryKind::Submodule,
            _ => EntryKind::File,
        }
    }
}

/// The symlinks and submodules of a tree, path → kind (regular files are not listed).
pub type Special = BTreeMap<String, EntryKind>;

#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub status: DeltaStatus,
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    pub old_id: Option<BlobId>,
    pub new_id: Option<BlobId>,
    /// What the entry was and is (None on the side where it does not exist).
    pub old_kind: Option<EntryKind>,
    pub new_kind: Option<EntryKind>,
}

impl Delta {
    /// The path the change is known by: its new path, or the old one for deletions.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .expect("a delta has a path")
    }

    /// What the entry is known as: its new kind, or the old one for deletions.
    pub fn kind(&self) -> EntryKind {
        self.new_kind.or(self.old_kind).unwrap_or_default()
    }

    /// A submodule on either side: its ids are commits of another repository, not blobs.
    pub fn touches_submodule(&self) -> bool {
        self.old_kind == Some(EntryKind::Submodule) || self.new_kind == Some(EntryKind::Submodule)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineStats {
    pub added: u64,
    pub deleted: u64,
    pub binary: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommitInfo {
    pub id: CommitId,
    pub parents: Vec<CommitId>,
    pub tree: TreeId,
    /// The first parent's tree: what the commit's own change is measured against.
    pub parent_tree: Option<TreeId>,
    pub subject: String,
    pub message: String,
    pub author: String,
    pub time: i64,
}

impl CommitInfo {
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }
}

/// A ref resolved to a commit, with the name the user gave it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: String,
    pub id: CommitId,
}

#[derive(Debug, Clone, Copy)]
pub struct Trees {
    pub base: TreeId,
    pub fork: TreeId,
    pub target: TreeId,
    pub fork_point: TreeId,
}

/// The commits forkdrift read, with their parents, newest first: every upstream commit since
/// the merge-base (from every upstream ref) and every commit between the merge-base and the
/// fork. Walks inside it need no repository; what lies below the merge-base is common history.
#[derive(Debug, Default)]
pub struct Graph {
    commits: HashMap<CommitId, CommitInfo>,
    order: Vec<CommitId>,
}

impl Graph {
    /// `commits` newest first, as git's topological walk lists them.
    pub fn new(commits: Vec<CommitInfo>) -> Graph {
        let order = commits.iter().map(|c| c.id).collect();
        Graph {
            commits: commits.into_iter().map(|c| (c.id, c)).collect(),
            order,
        }
    }

    pub fn get(&self, id: CommitId) -> Option<&CommitInfo> {
        self.commits.get(&id)
    }

    pub fn contains(&self, id: CommitId) -> bool {
        self.commits.contains_key(&id)
    }

    /// Every commit of the graph reachable from `tips` (themselves included).
    pub fn reachable(&self, tips: &[CommitId]) -> HashSet<CommitId> {
        let mut seen = HashSet::new();
        let mut stack: Vec<CommitId> = tips.iter().copied().filter(|t| self.contains(*t)).collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(commit) = self.commits.get(&id) {
                stack.extend(
                    commit
                        .parents
                        .iter()
                        .filter(|p| self.contains(**p) && !seen.contains(*p)),
                );
            }
        }
        seen
    }

    /// Commits reachable from `include` and from none of `hide`, newest first.
    pub fn walk(&self, include: &[CommitId], hide: &[CommitId]) -> Vec<CommitId> {
        let wanted = self.reachable(include);
        let hidden = self.reachable(hide);
        self.order
            .iter()
            .copied()
            .filter(|id| wanted.contains(id) && !hidden.contains(id))
            .collect()
    }

    /// Is `ancestor` reachable from `descendant`? A commit outside the graph lies below the
    /// merge-base, in the history every graph commit shares.
    pub fn is_ancestor(&self, ancestor: CommitId, descendant: CommitId) -> bool {
        if ancestor == descendant {
            return true;
        }
        match (self.contains(ancestor), self.contains(descendant)) {
            (true, _) => self.reachable(&[descendant]).contains(&ancestor),
            (false, true) => true,
            (false, false) => false,
        }
    }
}

/// An upstream release: a release tag, or a release branch standing for its newest patch.
#[derive(Debug, Clone)]
pub struct ReleasePoint {
    pub version: Version,
    /// How to name it: `v8.11.4.0`, `upstream/8.11`, or the target's own name.
    pub name: String,
    pub commit: CommitId,
    pub branch: bool,
}

/// A series of commits cherry-picked onto the target: the trees after each clean step, up to
/// its first conflict, or up to the step git could not do (`unmerged`: an object it could
/// not read).
#[derive(Debug, Default)]
pub struct Picks {
    pub steps: Vec<TreeId>,
    pub unmerged: Option<crate::error::Error>,
}

/// What git's merge-ort reported for one merge.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    pub tree: TreeId,
    pub clean: bool,
    pub entries: Vec<StageEntry>,
    pub messages: Vec<MergeMessage>,
    /// What git wrote after the opening and the closing conflict markers: the names the
    /// merge was asked with (ours, theirs), `:path` added where the side knows the file by
    /// another path. A file may hold marker-like lines of its own (telegraf's smart_test.go
    /// quotes a `<<<<<<< HEAD`).
    pub labels: [String; 2],
}

impl MergeOutcome {
    /// The conflicted paths, as `git merge-tree --name-only` lists them.
    pub fn conflicted_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.entries.iter().map(|e| e.path.clone()).collect();
        paths.dedup();
        paths
    }
}

#[derive(Debug, Clone)]
pub struct StageEntry {
    pub id: BlobId,
    /// 1 base, 2 ours, 3 theirs.
    pub stage: u8,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct MergeMessage {
    pub paths: Vec<String>,
    /// A stable type: `Auto-merging`, `CONFLICT (contents)`, `CONFLICT (modify/delete)`, …
    pub kind: String,
    pub text: String,
}

/// An upstream commit and every path it changed against its first parent (merges excluded).
#[derive(Debug, Clone)]
pub struct Upstream {
    pub meta: CommitInfo,
    pub paths: Vec<String>,
}

/// The next upgrade as git merges it: the fork with the target, and the fork point with the
/// target (what happens without the fork's own work).
#[derive(Debug, Clone)]
pub struct Merges {
    pub fork: MergeOutcome,
    pub fork_point: Option<MergeOutcome>,
    /// Every file of the fork's merged tree.
    pub merged_files: Files,
}

/// One fork and its upstream, as read.
pub struct Facts {
    pub pack: Pack,
    pub fork: Resolved,
    pub target: Resolved,
    /// When the target was committed: "recent" churn counts back from it.
    pub target_time: i64,
    pub remote: Option<String>,
    /// Tips of every upstream ref: remote branches, release tags, extra refs, the target.
    pub upstream_tips: Vec<CommitId>,
    /// The upstream remote's branches (its default branch first) and the extra upstream refs,
    /// by name (`upstream/8.14`).
    pub upstream_refs: Vec<Resolved>,
    /// Tips of the lines upstream ships: the target, the default branch, release tags and
    /// branches, and the `--upstream-ref` refs. Its other branches (feature work, devnets)
    /// hold work upstream has not taken yet.
    pub shipped: Vec<CommitId>,
    pub merge_base: CommitId,
    /// The newest upstream commit the fork's own work builds on.
    pub fork_point: CommitId,
    /// Commits reachable from the fork and from no upstream ref, newest first.
    pub own: Vec<CommitInfo>,
    pub own_ids: HashSet<CommitId>,
    pub trees: Trees,
    pub base_files: Files,
    pub fork_files: Files,
    /// The symlinks and submodules among `base_files` and `fork_files`.
    pub base_special: Special,
    pub fork_special: Special,
    pub target_files: Files,
    /// What the fork changed since the merge-base, renames paired.
    pub fork_deltas: Vec<Delta>,
    /// Paths each commit between the merge-base and the fork touched (for a merge: what the
    /// merge itself wrote).
    pub touched: HashMap<CommitId, Vec<String>>,
    pub graph: Graph,
    /// Upstream commits since the merge-base, from every upstream ref.
    pub since_base: HashSet<CommitId>,
    /// Commits the target has and the fork point lacks, newest first.
    pub since_point: Vec<CommitId>,
    /// Every non-merge commit of `since_base` and `since_point`, with the paths it changed.
    pub upstream: Vec<Upstream>,
    /// Release tags and release branches, ascending by version.
    pub releases: Vec<ReleasePoint>,
    pub acceptances: Vec<Acceptance>,
    pub merges: Merges,
    /// Things the user should know that are not findings (shallow history, …).
    pub notes: Vec<String>,
}

impl Facts {
    pub fn commit(&self, id: CommitId) -> Option<&CommitInfo> {
        self.graph.get(id)
    }
}
