//! How much upstream moved under the fork's changes: upstream commits touching each divergent
//! path (or where it lives at the target) since the fork point and in the six months before
//! the target; and from that, with the conflicts and orphans, each path's risk and the whole
//! upgrade's.

use super::risk::{self, OverallFacts, PathFacts};
use crate::facts::{CommitId, Facts};
use crate::model::{Change, ChangeClass, Conflict, Origin, Risk, Status};
use std::collections::{BTreeMap, HashMap, HashSet};

/// How far back "recent" upstream churn reaches.
const RECENT_DAYS: i64 = 182;

/// Per changed path: upstream commits touching it since the fork point, and of those the
/// recent ones.
pub fn upstream_churn(facts: &Facts, changes: &[Change]) -> HashMap<String, (usize, usize)> {
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
    let mut counts: HashMap<&str, (HashSet<CommitId>, HashSet<CommitId>)> = HashMap::new();
    for upstream in facts.upstream.iter().filter(|u| since.contains(&u.meta.id)) {
        for path in &upstream.paths {
            let Some(owner) = owners.get(path.as_str()) else {
                continue;
            };
            let entry = counts.entry(owner).or_default();
            entry.0.insert(upstream.meta.id);
            if upstream.meta.time >= cutoff {
                entry.1.insert(upstream.meta.id);
            }
        }
    }
    counts
        .into_iter()
        .map(|(path, (a, b))| (path.to_string(), (a.len(), b.len())))
        .collect()
}

/// Scores each divergent change and the upgrade as a whole.
pub fn assess(facts: &Facts, changes: &mut [Change], conflicts: &[Conflict]) -> Risk {
    let churn = upstream_churn(facts, changes);
    let conflict_cause: HashMap<&str, Origin> = conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.cause))
        .collect();
    let mut overall = OverallFacts::default();
    for change in changes.iter_mut().filter(|c| c.is_divergent()) {
        let here = |path: &str| conflict_cause.get(path).copied();
        let cause = here(&change.path).or_else(|| change.target_path.as_deref().and_then(here));
        let (since, recent) = churn.get(&change.path).copied().unwrap_or_default();
        let path = PathFacts {
            class: Some(change.class),
            fork_conflict: cause == Some(Origin::Fork),
            upstream_conflict: cause == Some(Origin::Upstream),
            orphaned: change.orphaned,
            same_file_clean: cause.is_none() && since > 0 && change.status != Status::Added,
            churn_since_fork_point: since,
            churn_recent: recent,
            lines_changed: change.lines_added + change.lines_deleted,
        };
        overall.orphaned += usize::from(path.orphaned);
        overall.framework_edits += usize::from(change.class == ChangeClass::Framework);
        overall.same_file_clean += usize::from(path.same_file_clean);
        overall.churn += since;
        change.risk = Some(risk::path_risk(&path));
    }
    overall.fork_conflicts = conflicts.iter().filter(|c| c.is_fork_caused()).count();
    risk::overall_risk(&overall)
}
