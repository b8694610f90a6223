//! How much upstream moved under the fork's changes: upstream commits touching each divergent
//! path (or where it lives at the target) since the fork point and in the six months before
//! the target; and from that, with the conflicts and orphans, each path's risk and the whole
//! upgrade's.

use super::risk::{self, OverallFacts, PathFacts};
use crate::facts::{CommitId, Facts};
use crate::model::{Change, Conflict, Origin, Risk, Status};
use std::collections::{BTreeMap, HashMap, HashSet};

/// How far back "recent" upstream churn reaches.
const RECENT_DAYS: i64 = 182;

/// Per changed path: the upstream commits touching it (or where it lives at the target) since
/// the fork point, and of those the recent ones. Sets, not counts: one commit touches many
/// paths, and the upgrade's total must count it once.
pub fn upstream_churn(
    facts: &Facts,
    changes: &[Change],
) -> HashMap<String, (HashSet<CommitId>, HashSet<CommitId>)> {
    let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
    for change in changes.iter().filter(|c| c.origin != Origin::Upstream) {
        owners.insert(&change.path, &change.path);
        if let Some(target) = &change.target_path {
            owners.insert(target, &change.path);
        }
    }
    if owners.is_empty() {
        return HashMap::new();
    }
    let cutoff = facts.target_time - RECENT_DAYS * crate::time::DAY;
    let since: HashSet<CommitId> = facts.since_point.iter().copied().collect();
    let mut counts: HashMap<String, (HashSet<CommitId>, HashSet<CommitId>)> = HashMap::new();
    for upstream in facts.upstream.iter().filter(|u| since.contains(&u.meta.id)) {
        for path in &upstream.paths {
            let Some(owner) = owners.get(path.as_str()) else {
                continue;
            };
            let entry = counts.entry(owner.to_string()).or_default();
            entry.0.insert(upstream.meta.id);
            if upstream.meta.time >= cutoff {
                entry.1.insert(upstream.meta.id);
            }
        }
    }
    counts
}

/// Lines in conflict: the larger side, since either side's lines must be read to resolve it.
fn conflict_lines(conflict: &Conflict) -> u64 {
    let side = |ranges: &[[u64; 2]]| -> u64 {
        ranges
            .iter()
            .map(|[start, end]| (end + 1).saturating_sub(*start))
            .sum()
    };
    side(&conflict.ours_lines).max(side(&conflict.theirs_lines))
}

/// Scores each divergent change and the upgrade as a whole; `refused`: the protocol gate
/// refuses the upgrade.
pub fn assess(
    facts: &Facts,
    changes: &mut [Change],
    conflicts: &[Conflict],
    refused: bool,
) -> Risk {
    let churn = upstream_churn(facts, changes);
    let by_path: HashMap<&str, &Conflict> =
        conflicts.iter().map(|c| (c.path.as_str(), c)).collect();
    let mut overall = OverallFacts {
        refused,
        ..OverallFacts::default()
    };
    let mut touched: HashSet<CommitId> = HashSet::new();
    let mut scored: HashSet<&str> = HashSet::new();
    for change in changes.iter_mut().filter(|c| c.is_divergent()) {
        let here = |path: &str| by_path.get(path).copied();
        let conflict = here(&change.path).or_else(|| change.target_path.as_deref().and_then(here));
        // Work upstream already has is resolved by taking the target's side: nothing to weigh.
        let conflict = conflict.filter(|c| !c.already_upstream);
        if let Some(c) = conflict {
            scored.insert(c.path.as_str());
        }
        let cause = conflict.map(|c| c.cause);
        let empty = Default::default();
        let (since, recent) = churn.get(&change.path).unwrap_or(&empty);
        touched.extend(since.iter().copied());
        let lines_changed = change.lines_added + change.lines_deleted;
        let path = PathFacts {
            class: Some(change.class),
            fork_conflict: cause == Some(Origin::Fork),
            upstream_conflict: cause == Some(Origin::Upstream),
            // A conflict git reports without line ranges (modify/delete, rename/delete, …)
            // puts the fork's whole edit in question.
            conflict_lines: conflict.map_or(0, |c| match conflict_lines(c) {
                0 => lines_changed,
                n => n,
            }),
            orphaned: change.orphaned,
            churn_since_fork_point: since.len(),
            churn_recent: recent.len(),
            added: change.status == Status::Added,
            lines_changed,
        };
        overall.to_resolve += usize::from(path.orphaned && conflict.is_none());
        let mut risk = risk::path_risk(&path);
        overall.paths.push((change.path.clone(), risk.score));
        risk.upstream_churn = Some(crate::model::UpstreamChurn {
            since_fork_point: since.len(),
            recent: recent.len(),
        });
        change.risk = Some(risk);
    }
    // Conflicts on paths the fork never changed (a release branch that conflicts with main)
    // are the maintainer's to resolve all the same.
    for conflict in conflicts
        .iter()
        .filter(|c| !c.already_upstream && !scored.contains(c.path.as_str()))
    {
        let risk = risk::path_risk(&PathFacts {
            fork_conflict: conflict.cause == Origin::Fork,
            upstream_conflict: conflict.cause != Origin::Fork,
            conflict_lines: conflict_lines(conflict),
            ..PathFacts::default()
        });
        overall.paths.push((conflict.path.clone(), risk.score));
    }
    overall.to_resolve += conflicts.iter().filter(|c| !c.already_upstream).count();
    overall.fork_conflicts = conflicts.iter().filter(|c| c.is_fork_caused()).count();
    overall.churn = touched.len();
    risk::overall_risk(&overall)
}
