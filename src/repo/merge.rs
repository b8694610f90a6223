//! git's own merge engine, merge-ort, through `git merge-tree --write-tree --stdin`, with every
//! object it writes kept in a throw-away directory: the repository itself is only read.
//! One git process runs a whole batch of merges (the fork and its fork point against the
//! target, or every hop of a sweep).

use super::git::{ATTR_SOURCE_MIN, Git, MERGE_TREE_MIN};
use super::{Repo, blob_id, tree_id};
use crate::error::{Error, Result};
use crate::facts::{CommitId, MergeMessage, MergeOutcome, StageEntry, TreeId};
use git2::Oid;
use std::fmt::Write as _;
use std::path::Path;

/// What to merge. `Tree` sides with a `base` make a cherry-pick: the picked commit's change
/// (its parent's tree → its tree) applied onto `ours`.
#[derive(Debug, Clone, Copy)]
pub enum Side {
    Commit(CommitId),
    Tree(TreeId),
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Side::Commit(id) => id.fmt(f),
            Side::Tree(id) => id.fmt(f),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct MergeRequest {
    pub ours: Side,
    pub theirs: Side,
    /// Merge as if this were the merge-base (a cherry-pick: base = the picked commit's parent).
    pub base: Option<TreeId>,
}

impl MergeRequest {
    pub fn commits(ours: CommitId, theirs: CommitId) -> MergeRequest {
        MergeRequest {
            ours: Side::Commit(ours),
            theirs: Side::Commit(theirs),
            base: None,
        }
    }
}

/// Holds the throw-away object directory while the merged trees are being read.
/// It is removed when dropped, and when the run is interrupted ([`crate::cleanup`]).
pub struct Scratch {
    dir: crate::cleanup::TempDir,
}

impl Scratch {
    pub fn new() -> Result<Scratch> {
        let dir = crate::cleanup::TempDir::new_in(
            &scratch_parent(),
            "forkdrift-objects-",
            "a scratch object directory",
        )?;
        Ok(Scratch { dir })
    }

    pub fn objects(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// Below this much free room a memory file system is left alone: a scratch store holds every
/// tree and conflicted file the merges write (a few MB on op-geth; a 100 MB file that conflicts
/// writes twice that), and Docker's default /dev/shm is only 64 MB.
const MEMORY_ROOM: u64 = 1 << 30;

/// Where scratch object stores go. git writes each merged tree and conflicted file there as a
/// file of its own, and creating files on a disk file system cost a third of the PR
/// candidates' picks on op-geth (0.5 of 1.7 s, in the kernel); in memory that cost is gone.
/// A TMPDIR the user set is their choice and wins.
fn scratch_parent() -> std::path::PathBuf {
    let shm = Path::new("/dev/shm");
    let set = std::env::var_os("TMPDIR").is_some_and(|dir| !dir.is_empty());
    if !set && free_room(shm).is_some_and(|room| room >= MEMORY_ROOM) {
        return shm.to_path_buf();
    }
    std::env::temp_dir()
}

/// The room left for an unprivileged user in the file system holding `dir`, when `dir` is a
/// directory this process may write in.
fn free_room(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `path` is NUL-terminated and outlives both calls; `stats` is plain data that
    // statvfs fills in, and is read only when it succeeded.
    unsafe {
        if libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) != 0 {
            return None;
        }
        let mut stats: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(path.as_ptr(), &mut stats) != 0 {
            return None;
        }
        // Both counts are narrower than u64 on some targets.
        #[allow(clippy::useless_conversion)]
        Some(u64::from(stats.f_bavail).saturating_mul(u64::from(stats.f_frsize)))
    }
}

/// Runs every merge in one `git merge-tree --stdin` process.
/// The merged trees and stage blobs stay readable through `repo` for as long as it lives.
pub fn merge_all(repo: &Repo, git: &Git, requests: &[MergeRequest]) -> Result<Vec<MergeOutcome>> {
    let scratch = Scratch::new()?;
    let outcomes = merge_into(repo.git_dir(), &repo.objects_dir(), git, &scratch, requests)?;
    repo.add_scratch(scratch)?;
    Ok(outcomes)
}

/// [`merge_all`] for a repository known by its git directory and object store, so that
/// several threads can run merges at once.
pub fn merge_all_at(
    git_dir: &Path,
    objects: &Path,
    git: &Git,
    requests: &[MergeRequest],
) -> Result<(Scratch, Vec<MergeOutcome>)> {
    let scratch = Scratch::new()?;
    let outcomes = merge_into(git_dir, objects, git, &scratch, requests)?;
    Ok((scratch, outcomes))
}

/// Runs merges whose objects go into an existing scratch store (a series of cherry-picks,
/// each on the result of the last). `ours` and `theirs` may be trees when `base` is given.
pub fn merge_into(
    git_dir: &Path,
    objects: &Path,
    git: &Git,
    scratch: &Scratch,
    requests: &[MergeRequest],
) -> Result<Vec<MergeOutcome>> {
    git.require("the exact conflict list", MERGE_TREE_MIN, "2.40")?;
    // One `merge-tree --stdin` runs its merges one after another: split a long batch over the
    // cores (PR candidates, hops). Each process writes only new objects into the scratch store,
    // which git does atomically.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(requests.len() / 2).max(1);
    if workers == 1 {
        return merge_batch(git_dir, objects, git, scratch, requests);
    }
    // Dealt out in turn, not cut in halves: a batch is in history order, and merges of old
    // commits, far from the target, cost several times the recent ones' (op-geth's PR
    // candidates: 2 to 47 ms each), so halves leave one core idle at the end.
    let dealt: Vec<Vec<MergeRequest>> = (0..workers)
        .map(|worker| {
            requests
                .iter()
                .skip(worker)
                .step_by(workers)
                .copied()
                .collect()
        })
        .collect();
    let parts: Vec<Vec<MergeOutcome>> = std::thread::scope(|scope| {
        let running: Vec<_> = dealt
            .iter()
            .map(|part| scope.spawn(move || merge_batch(git_dir, objects, git, scratch, part)))
            .collect();
        running
            .into_iter()
            .map(|part| part.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect::<Result<_>>()
    })?;
    let mut parts: Vec<_> = parts.into_iter().map(Vec::into_iter).collect();
    Ok((0..requests.len())
        .map(|at| {
            parts[at % workers]
                .next()
                .expect("each part answers every request it was dealt")
        })
        .collect())
}

/// A merge's outcome, or why git could not do it: an object it could not read (a blob a
/// shallow, partial or damaged clone lacks), which is that merge's alone.
pub type Attempt = std::result::Result<MergeOutcome, Error>;

/// [`merge_into`], where a merge that needs an object git cannot read does not stop the
/// others: its slot holds [`Error::UnreadableObject`]. A hop sweep or the PR candidates'
/// picks go on without the one merge that needs it. Any other failure stops them all.
pub fn merge_each_into(
    git_dir: &Path,
    objects: &Path,
    git: &Git,
    scratch: &Scratch,
    requests: &[MergeRequest],
) -> Result<Vec<Attempt>> {
    match merge_into(git_dir, objects, git, scratch, requests) {
        Ok(outcomes) => Ok(outcomes.into_iter().map(Ok).collect()),
        // git stops a batch at the first merge it cannot do: the batch is redone one merge
        // per process, which costs only on this failing path.
        Err(Error::UnreadableObject { .. }) => requests
            .iter()
            .map(
                |request| match merge_batch(git_dir, objects, git, scratch, &[*request]) {
                    Ok(mut one) => Ok(Ok(one.pop().expect("one outcome per request"))),
                    Err(unreadable @ Error::UnreadableObject { .. }) => Ok(Err(unreadable)),
                    Err(other) => Err(other),
                },
            )
            .collect(),
        Err(other) => Err(other),
    }
}

fn merge_batch(
    git_dir: &Path,
    objects: &Path,
    git: &Git,
    scratch: &Scratch,
    requests: &[MergeRequest],
) -> Result<Vec<MergeOutcome>> {
    let mut input = String::new();
    for request in requests {
        match request.base {
            Some(base) => writeln!(input, "{base} -- {} {}", request.ours, request.theirs),
            None => writeln!(input, "{} {}", request.ours, request.theirs),
        }
        .expect("writing to a String cannot fail");
    }
    let mut command = git.command(Some(git_dir));
    // With --git-dir and no work tree, git takes the current directory for the work tree and
    // reads its .gitattributes: a report would depend on where forkdrift was started. Run in
    // the git directory, and read the attributes from the fork's tree as `git merge` in a
    // checkout of it would.
    command.current_dir(git_dir);
    if let Some(source) = git.attr_source() {
        let (major, minor, _) = git.version()?;
        if (major, minor) >= ATTR_SOURCE_MIN {
            command.arg(format!("--attr-source={source}"));
        }
    }
    command
        .env("GIT_OBJECT_DIRECTORY", scratch.objects())
        .env("GIT_ALTERNATE_OBJECT_DIRECTORIES", objects)
        .args(["merge-tree", "--write-tree", "--stdin", "-z"]);
    let output = git.output(&mut command, Some(input.as_bytes()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("unrelated histories") {
            return Err(Error::Usage {
                message: "the fork and the target have unrelated histories".into(),
                help: "check that --to names the fork's real upstream".into(),
            });
        }
        return Err(unreadable_object(git_dir, &stderr, requests)
            .unwrap_or_else(|| super::git::failure(&command, &output.stderr)));
    }
    parse(&output.stdout, requests)
}

/// git's merge stopped at an object it could not read (a missing or damaged blob): the
/// object, and the path one of the merged trees has it at, so that the user knows what to
/// fetch or repair. None when git failed for another reason.
fn unreadable_object(git_dir: &Path, stderr: &str, requests: &[MergeRequest]) -> Option<Error> {
    let line = stderr.lines().find(|line| {
        [
            "unable to read",
            "is corrupt",
            "unable to unpack",
            "bad object",
            "could not fetch",
        ]
        .iter()
        .any(|sign| line.contains(sign))
    })?;
    let id = line
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|word| word.len() == 40)?;
    // Opened again only on this failing path, to say where the object is and what to fetch.
    let repo = git2::Repository::open_bare(git_dir).ok();
    let place = repo
        .as_ref()
        .zip(Oid::from_str(id).ok())
        .and_then(|(repo, wanted)| place_of(repo, wanted, requests))
        .map(|(path, side)| format!(" ({path} in {side})"))
        .unwrap_or_default();
    Some(Error::UnreadableObject {
        id: id.to_string(),
        place,
        command: "merge-tree --write-tree --stdin".into(),
        stderr: line.trim().to_string(),
        promisor: repo.as_ref().and_then(promisor),
    })
}

/// The remote a partial clone came from (`remote.<name>.promisor = true`), if it is one.
fn promisor(repo: &git2::Repository) -> Option<String> {
    let config = repo.config().ok()?;
    let mut entries = config.entries(Some(r"remote\..*\.promisor")).ok()?;
    while let Some(Ok(entry)) = entries.next() {
        if entry.value().is_ok_and(|v| v == "true") {
            let name = entry.name().ok()?;
            return Some(
                name.strip_prefix("remote.")?
                    .strip_suffix(".promisor")?
                    .to_string(),
            );
        }
    }
    None
}

/// The first path at which a side of the merges (or a cherry-pick's base) holds `wanted`,
/// and that side. A failed run pays for the walks, a few trees at most.
fn place_of(
    repo: &git2::Repository,
    wanted: Oid,
    requests: &[MergeRequest],
) -> Option<(String, String)> {
    const TREES_LOOKED_AT: usize = 12;
    let mut seen = std::collections::HashSet::new();
    // A cherry-pick's base is where the blob it lacks most often is: the picked commit's
    // parent has the version of the file both sides changed.
    let sides = requests
        .iter()
        .flat_map(|request| {
            let base = request.base.map(Side::Tree);
            [Some(request.ours), Some(request.theirs), base]
        })
        .flatten()
        .filter(|side| seen.insert(side.to_string()))
        .take(TREES_LOOKED_AT);
    for side in sides {
        let short: String = side.to_string().chars().take(12).collect();
        let (tree, label) = match side {
            Side::Commit(id) => (
                repo.find_commit(super::oid(id)).and_then(|c| c.tree()),
                format!("commit {short}"),
            ),
            Side::Tree(id) => (repo.find_tree(super::oid(id)), format!("tree {short}")),
        };
        let Ok(tree) = tree else {
            continue;
        };
        let mut found = None;
        let _ = tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.id() == wanted {
                found = Some(format!("{dir}{}", entry.name().unwrap_or("?")));
                return git2::TreeWalkResult::Abort;
            }
            git2::TreeWalkResult::Ok
        });
        if let Some(path) = found {
            return Some((path, label));
        }
    }
    None
}

fn malformed(what: &str) -> Error {
    Error::GitFailed {
        command: "merge-tree --stdin -z".into(),
        stderr: format!("unexpected output: {what}"),
    }
}

fn parse(stdout: &[u8], requests: &[MergeRequest]) -> Result<Vec<MergeOutcome>> {
    let mut fields = stdout
        .split(|&b| b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let mut outcomes = Vec::with_capacity(requests.len());
    for request in requests {
        let status = fields
            .next()
            .ok_or_else(|| malformed("missing merge status"))?;
        let clean = match status.as_str() {
            "1" => true,
            "0" => false,
            other => return Err(malformed(&format!("merge status {other}"))),
        };
        let tree = fields.next().ok_or_else(|| malformed("missing tree"))?;
        let tree = tree_id(Oid::from_str(tree.trim()).map_err(|_| malformed("tree id"))?);
        let mut entries = Vec::new();
        let mut messages = Vec::new();
        if !clean {
            for field in fields.by_ref() {
                if field.is_empty() {
                    break;
                }
                let (meta, path) = field
                    .split_once('\t')
                    .ok_or_else(|| malformed("conflicted file info"))?;
                let mut meta = meta.split(' ');
                u32::from_str_radix(meta.next().unwrap_or(""), 8).map_err(|_| malformed("mode"))?;
                let id = blob_id(
                    Oid::from_str(meta.next().unwrap_or("")).map_err(|_| malformed("stage id"))?,
                );
                let stage = meta
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| malformed("stage"))?;
                entries.push(StageEntry {
                    id,
                    stage,
                    path: path.to_string(),
                });
            }
        }
        // Messages (present for conflicted merges) run until the empty field ending the record.
        loop {
            let field = fields
                .next()
                .ok_or_else(|| malformed("unterminated record"))?;
            if field.is_empty() {
                break;
            }
            let count: usize = field.parse().map_err(|_| malformed("message path count"))?;
            let paths = (0..count)
                .map(|_| fields.next().ok_or_else(|| malformed("message path")))
                .collect::<Result<Vec<_>>>()?;
            let kind = fields.next().ok_or_else(|| malformed("message type"))?;
            let text = fields.next().ok_or_else(|| malformed("message text"))?;
            messages.push(MergeMessage { paths, kind, text });
        }
        outcomes.push(MergeOutcome {
            tree,
            clean,
            entries,
            messages,
            labels: [request.ours.to_string(), request.theirs.to_string()],
        });
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_room_is_known_only_for_a_writable_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_room(dir.path()).is_some_and(|room| room > 0));
        assert_eq!(free_room(&dir.path().join("missing")), None);
    }
}
