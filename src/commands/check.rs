//! `forkdrift check --base REV`: what a pull request adds. The audit at the PR's head and at
//! its base, against the same target, compared by the findings' stable fingerprints: new ones
//! can fail the check, those already at the base are counted, never failed; the fork's
//! baseline of accepted findings suppresses (and counts) the rest.

use super::audit;
use crate::baseline::{self, Accepted};
use crate::check::{CheckReport, compare};
use crate::config::CONFIG_FILE;
use crate::error::Result;
use crate::facts::{BlobId, Objects};
use crate::model::{RefInfo, Severity};
use crate::repo::Repo;
use crate::repo::collect::Selection;
use crate::repo::git::Git;
use std::path::Path;

/// `selection.fork` is the PR's head; `base` its base revision.
pub fn check(
    repo: &Repo,
    git: &Git,
    selection: &Selection,
    base: &str,
    fail_on: Severity,
) -> Result<CheckReport> {
    let head = audit::audit(repo, git, selection, false)?;
    let at_base = Selection {
        fork: base.to_string(),
        to: Some(head.facts.target.id.to_string()),
        ..selection.clone()
    };
    let before = audit::audit(repo, git, &at_base, false)?;
    let accepted = accepted(repo, head.facts.trees.fork)?;
    let today = crate::time::format_date(crate::time::now());
    let mut comparison = compare(
        &before.report.findings,
        &head.report.findings,
        &accepted,
        &today,
    );
    let (old_files, new_files) = (&before.facts.fork_files, &head.facts.fork_files);
    comparison.locate(|finding| {
        first_added_lines(
            repo,
            old_files.get(&finding.path).copied(),
            new_files.get(&finding.path).copied(),
        )
    });
    Ok(CheckReport::new(
        RefInfo {
            name: base.to_string(),
            commit: before.facts.fork.id.to_string(),
        },
        head.report.fork.clone(),
        head.report,
        comparison,
        fail_on,
    ))
}

/// The accepted findings: committed in the head's `.forkdrift.toml`, and in the work tree's
/// (so that a fresh `forkdrift baseline` counts before it is committed).
fn accepted(repo: &Repo, head_tree: crate::facts::TreeId) -> Result<Vec<Accepted>> {
    let mut out = Vec::new();
    if let Some(bytes) = repo.read(head_tree, CONFIG_FILE)? {
        out.extend(baseline::parse(
            &String::from_utf8_lossy(&bytes),
            CONFIG_FILE,
        )?);
    }
    if let Some(workdir) = repo.workdir() {
        for entry in baseline::read(&workdir.join(CONFIG_FILE))? {
            if !out.iter().any(|a| a.fingerprint == entry.fingerprint) {
                out.push(entry);
            }
        }
    }
    Ok(out)
}

/// Where the PR's edit of a file begins and ends in the head version: the first run of lines
/// it added (1-based, inclusive), or the whole file when the PR added it; None when the PR
/// leaves the file as it was (the annotation then stands on the file).
fn first_added_lines(
    objects: &dyn Objects,
    old: Option<BlobId>,
    new: Option<BlobId>,
) -> Option<[u64; 2]> {
    let new_id = new?;
    if old == Some(new_id) {
        return None;
    }
    let new = objects.blob_if_present(new_id).ok()??;
    let old = match old {
        Some(id) => objects.blob_if_present(id).ok()??,
        None => Vec::new(),
    };
    let (old, new) = (String::from_utf8_lossy(&old), String::from_utf8_lossy(&new));
    let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
    diff.ops().iter().find_map(|op| {
        let range = op.new_range();
        let adds = !matches!(
            op,
            similar::DiffOp::Equal { .. } | similar::DiffOp::Delete { .. }
        );
        (adds && !range.is_empty()).then(|| [range.start as u64 + 1, range.end as u64])
    })
}

/// `forkdrift baseline`: today's findings, appended to `.forkdrift.toml` as accepted entries
/// for a person to review (`git diff` shows them), each with a reason still to write.
pub fn write_baseline(
    repo: &Repo,
    git: &Git,
    selection: &Selection,
    owner: &str,
    file: &Path,
) -> Result<usize> {
    let audit = audit::audit(repo, git, selection, false)?;
    let known: Vec<String> = baseline::read(file)?
        .into_iter()
        .map(|a| a.fingerprint)
        .collect();
    let fresh: Vec<_> = audit
        .report
        .findings
        .into_iter()
        .filter(|f| !known.contains(&f.fingerprint))
        .collect();
    if fresh.is_empty() {
        return Ok(0);
    }
    let today = crate::time::format_date(crate::time::now());
    let block = baseline::write_baseline(&fresh, owner, &today);
    let mut text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(crate::Error::Io {
                context: format!("could not read {}", file.display()),
                source,
            });
        }
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&block);
    baseline::parse(&text, &file.display().to_string())?;
    crate::error::IoContext::io_context(std::fs::write(file, text), || {
        format!("could not write {}", file.display())
    })?;
    Ok(fresh.len())
}
