//! `forkdrift candidates --export DIR`: each PR candidate as an mbox series that `git am`
//! applies onto the target, and its suggested PR text.

use crate::analysis::candidates::{Candidate, slug};
use crate::error::{IoContext, Result};
use crate::facts::Facts;
use crate::repo::Repo;
use std::path::{Path, PathBuf};

/// Writes `NN-slug.mbox` and `NN-slug.md` per candidate; returns the files written.
pub fn export(
    repo: &Repo,
    facts: &Facts,
    candidates: &[Candidate],
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    if dir.exists() && !dir.is_dir() {
        return Err(crate::Error::Usage {
            message: format!("--export {}: that is a file, not a directory", dir.display()),
            help: "name a directory (new, or one to add to): each candidate becomes an .mbox series and a .md PR text in it".into(),
        });
    }
    std::fs::create_dir_all(dir).io_context(|| format!("could not create {}", dir.display()))?;
    let mut written = Vec::new();
    for candidate in candidates {
        let name = format!(
            "{:02}-{}",
            candidate.report.rank,
            slug(&candidate.report.title)
        );
        let mut mbox = Vec::new();
        let mut previous = facts.trees.target;
        let count = candidate.commits.len();
        for (index, (commit, tree)) in candidate.commits.iter().zip(&candidate.steps).enumerate() {
            mbox.extend(repo.email(commit, previous, *tree, index + 1, count)?);
            previous = *tree;
        }
        let mbox_path = dir.join(format!("{name}.mbox"));
        std::fs::write(&mbox_path, mbox)
            .io_context(|| format!("could not write {}", mbox_path.display()))?;
        let md_path = dir.join(format!("{name}.md"));
        std::fs::write(
            &md_path,
            format!("# {}\n\n{}", candidate.report.title, candidate.report.body),
        )
        .io_context(|| format!("could not write {}", md_path.display()))?;
        written.push(mbox_path);
        written.push(md_path);
    }
    Ok(written)
}
