//! Who wrote the fork's side of each conflict: `git blame --porcelain`, bounded below by the
//! merge-base (lines older than it are upstream's, whatever commit wrote them), one process per
//! file for all its ranges. libgit2's blame walks the whole history back to the root for every
//! hunk; git's stops at the boundary.

use super::Repo;
use super::background::Background;
use super::git::Git;
use crate::facts::CommitId;
use std::collections::{BTreeMap, HashMap};

/// `(path, first, last)` (1-based, inclusive) → the commits that wrote those lines, or None
/// where git could not blame them (the path is not in the fork, a binary file…).
pub fn blame(
    repo: &Repo,
    git: &Git,
    fork: CommitId,
    merge_base: CommitId,
    ranges: &[(String, usize, usize)],
) -> Blamed {
    blame_at(repo.git_dir(), git, fork, merge_base, ranges)
}

pub type Blamed = HashMap<(String, usize, usize), Option<Vec<CommitId>>>;

/// [`blame`] on a thread of its own, while the caller goes on with other work.
pub fn start(
    repo: &Repo,
    git: &Git,
    fork: CommitId,
    merge_base: CommitId,
    ranges: Vec<(String, usize, usize)>,
) -> Background<Blamed> {
    let (git_dir, git) = (repo.git_dir().to_path_buf(), git.clone());
    Background::start(move || blame_at(&git_dir, &git, fork, merge_base, &ranges))
}

fn blame_at(
    git_dir: &std::path::Path,
    git: &Git,
    fork: CommitId,
    merge_base: CommitId,
    ranges: &[(String, usize, usize)],
) -> Blamed {
    let mut by_path: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (path, first, last) in ranges {
        by_path.entry(path).or_default().push((*first, *last));
    }
    let files: Vec<(&str, Vec<(usize, usize)>)> = by_path.into_iter().collect();
    // One git process per file, as many at once as there are cores: each blame is a walk of
    // its own. Threads of its own, not rayon's: the caller's rayon work runs alongside.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let blamed: Vec<(usize, Option<HashMap<usize, CommitId>>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..cores.min(files.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((path, lines)) = files.get(at) else {
                            return done;
                        };
                        done.push((at, blame_file(git_dir, git, fork, merge_base, path, lines)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut out = HashMap::new();
    for (at, authors) in blamed {
        let (path, lines) = &files[at];
        for &(first, last) in lines {
            let commits = authors.as_ref().map(|by_line| {
                let mut commits: Vec<CommitId> = (first..=last)
                    .filter_map(|line| by_line.get(&line).copied())
                    .collect();
                commits.dedup();
                commits
            });
            out.insert((path.to_string(), first, last), commits);
        }
    }
    out
}

/// Final line number → the commit that wrote it, for the given ranges of one file.
fn blame_file(
    git_dir: &std::path::Path,
    git: &Git,
    fork: CommitId,
    merge_base: CommitId,
    path: &str,
    lines: &[(usize, usize)],
) -> Option<HashMap<usize, CommitId>> {
    let mut command = git.command(Some(git_dir));
    // A user's list of revisions to skip would change who wrote a line, or fail the run when
    // the listed file does not exist here.
    command.args(["-c", "blame.ignoreRevsFile=", "blame", "--porcelain"]);
    for (first, last) in lines {
        command.arg("-L").arg(format!("{first},{last}"));
    }
    command
        .arg(fork.to_string())
        .arg(format!("^{merge_base}"))
        .arg("--")
        .arg(path);
    let output = git.output(&mut command, None).ok()?;
    if !output.status.success() {
        return None;
    }
    Some(parse_porcelain(&output.stdout))
}

/// Every header line of `--porcelain` output starts with the commit and names the final line:
/// `<40 hex> <original line> <final line> [<group size>]`; content lines start with a tab.
fn parse_porcelain(stdout: &[u8]) -> HashMap<usize, CommitId> {
    let mut out = HashMap::new();
    for line in stdout.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let mut fields = line.split(' ');
        let (Some(id), Some(_), Some(last)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let (Ok(id), Ok(last)) = (id.parse::<CommitId>(), last.parse::<usize>()) else {
            continue;
        };
        out.insert(last, id);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn porcelain_headers_name_the_final_lines() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let text = format!(
            "{a} 1 3 2\nauthor X\n\tline three\n{a} 2 4\n\tline four\n{b} 9 5 1\nboundary\n\tline five\n"
        );
        let found = super::parse_porcelain(text.as_bytes());
        assert_eq!(found.len(), 3);
        assert_eq!(found[&3].to_string(), a);
        assert_eq!(found[&5].to_string(), b);
    }
}
