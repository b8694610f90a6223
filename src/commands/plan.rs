//! `forkdrift plan`: the audit, then every hop from the fork's version to the target.

use super::audit::{self, Audit};
use crate::analysis::{hops::HopMerge, plan, releases};
use crate::error::Result;
use crate::repo::Repo;
use crate::repo::collect::Selection;
use crate::repo::git::Git;

pub fn plan(repo: &Repo, git: &Git, selection: &Selection) -> Result<Audit> {
    let mut audit = audit::audit(repo, git, selection, false)?;
    crate::progress::phase("merging the release points on the way");
    let (from_version, points) = releases::hop_points(&audit.facts, repo)?;
    let merges: Vec<HopMerge> = audit::hop_merges(repo, git, &mut audit, &points)?;
    let plan = plan::plan(
        &audit.facts,
        repo,
        &audit.report.changes,
        from_version,
        &points,
        merges,
    )?;
    audit.refused = plan.stopped_at.is_some();
    audit.report.plan = Some(plan);
    Ok(audit)
}
