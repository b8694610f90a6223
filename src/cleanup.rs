//! What an interrupted run must not leave behind: the throw-away directories it created (the
//! scratch object stores of git's merges, the demo's temporary repositories) and the git
//! processes writing into them. The library only keeps the list; `main.rs` calls
//! [`interrupted`] from its signal handler (SIGINT, SIGTERM, SIGHUP) and then exits.

use crate::error::{IoContext, Result};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct Live {
    dirs: Vec<PathBuf>,
    children: Vec<u32>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    dirs: Vec::new(),
    children: Vec::new(),
});

fn live() -> MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A temporary directory that is removed when dropped, and also when the run is interrupted.
pub struct TempDir {
    dir: tempfile::TempDir,
}

impl TempDir {
    pub fn new(prefix: &str, what: &str) -> Result<TempDir> {
        TempDir::new_in(&std::env::temp_dir(), prefix, what)
    }

    pub fn new_in(parent: &Path, prefix: &str, what: &str) -> Result<TempDir> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(parent)
            .io_context(|| format!("could not create {what} in the temporary directory"))?;
        live().dirs.push(dir.path().to_path_buf());
        Ok(TempDir { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let path = self.dir.path();
        live().dirs.retain(|d| d != path);
    }
}

/// Paths being written that are worth nothing half-done (the demo built into `--keep DIR`):
/// removed on an interruption, and when dropped before [`Pending::finish`] (a failed build).
pub struct Pending {
    paths: Vec<PathBuf>,
}

impl Pending {
    /// `paths` (directories or files) are about to be created; none of them exists yet.
    pub fn new(paths: Vec<PathBuf>) -> Pending {
        live().dirs.extend(paths.iter().cloned());
        Pending { paths }
    }

    /// The paths are complete: keep them.
    pub fn finish(mut self) {
        let paths = std::mem::take(&mut self.paths);
        live().dirs.retain(|d| !paths.contains(d));
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.paths.is_empty() {
            return;
        }
        live().dirs.retain(|d| !self.paths.contains(d));
        for path in &self.paths {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// A git process is running (it may write into a scratch directory).
pub(crate) fn child_started(pid: u32) {
    live().children.push(pid);
}

pub(crate) fn child_ended(pid: u32) {
    live().children.retain(|p| *p != pid);
}

/// Stops the running git processes and removes every live temporary directory. Called once,
/// from the signal handler, right before the process exits.
pub fn interrupted() {
    let mut live = live();
    for pid in live.children.drain(..) {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
    for dir in live.dirs.drain(..) {
        if std::fs::remove_dir_all(&dir).is_err() {
            let _ = std::fs::remove_file(&dir);
        }
    }
}

/// How many temporary directories are live (for tests).
pub fn live_dirs() -> usize {
    live().dirs.len()
}
