//! `audit --hops`: each release point between the fork point and the target with what merging
//! it would cost: conflicts in total and caused by the fork, a risk score, and the protocol
//! verdict since the previous hop.

use super::gate;
use super::placement::orphaned_between;
use super::protocol::Verdict;
use super::risk::{self, OverallFacts, PathFacts};
use crate::error::{Error, Result};
use crate::facts::{Facts, Objects, ReleasePoint};
use crate::model::{Change, Conflict, Hop, Origin, Status};
use std::collections::HashSet;

/// The conflicted paths of merging a point: with the fork, and with the fork point alone.
pub struct HopMerge {
    pub conflicts: Vec<String>,
    pub fork_conflicts: Vec<String>,
    /// Why git could not merge the point (an object it could not read): its conflicts are
    /// unknown, and the sweep goes on without them.
    pub unmerged: Option<Error>,
}

impl HopMerge {
    /// A point's merges: the fork's conflicted paths, and those of its conflicts the fork
    /// causes (attributed as the audit attributes its own: [`attribution::cause`] over the
    /// fork point's conflicts at this point and the blame of the fork's lines in each
    /// conflict). Conflicts on work upstream already has are not the fork's to resolve.
    pub fn new(conflicts: Vec<String>, attributed: &[Conflict]) -> HopMerge {
        let fork_conflicts = attributed
            .iter()
            .filter(|c| c.cause == Origin::Fork && !c.already_upstream)
            .map(|c| c.path.clone())
            .collect();
        HopMerge {
            conflicts,
            fork_conflicts,
            unmerged: None,
        }
    }

    /// A point git could not merge, and why.
    pub fn unmerged(error: Error) -> HopMerge {
        HopMerge {
            conflicts: Vec::new(),
            fork_conflicts: Vec::new(),
            unmerged: Some(error),
        }
    }
}

/// A note for each point git could not merge: which, why, and what to do about it.
pub fn unmerged_notes(points: &[ReleasePoint], merges: &[HopMerge]) -> Vec<String> {
    points
        .iter()
        .zip(merges)
        .filter_map(|(point, merged)| {
            let error = merged.unmerged.as_ref()?;
            let help = miette::Diagnostic::help(error)
                .map(|help| format!(" ({help})"))
                .unwrap_or_default();
            Some(format!(
                "{} was not merged, and its conflicts are unknown: {error}{help}",
                point.name
            ))
        })
        .collect()
}

pub fn sweep(
    facts: &Facts,
    objects: &dyn Objects,
    changes: &[Change],
    points: &[ReleasePoint],
    merges: Vec<HopMerge>,
) -> Result<Vec<Hop>> {
    let divergent: Vec<&Change> = changes.iter().filter(|c| c.is_divergent()).collect();
    let mut previous = facts.fork_point;
    let mut hops = Vec::with_capacity(points.len());
    for (point, merged) in points.iter().zip(merges) {
        let (verdict, protocol) = gate::compare(facts, objects, previous, point.commit)?;
        previous = point.commit;
        let tree = gate::tree_of(facts, point.commit)?;
        let mut orphans = Vec::new();
        for change in divergent.iter().filter(|c| c.status == Status::Added) {
            if orphaned_between(objects, facts.trees.base, tree, &change.path)? {
                orphans.push(change.path.clone());
            }
        }
        // No blame and no churn per hop: each path scores as on the audit's scale without
        // those terms, so a hop's score reads like the audit's.
        let mut paths: Vec<(String, u32)> = Vec::new();
        let mut scored: HashSet<&String> = HashSet::new();
        for change in &divergent {
            let conflict = merged
                .conflicts
                .iter()
                .find(|p| **p == change.path || change.target_path.as_ref() == Some(*p));
            scored.extend(conflict);
            let fork_conflict = conflict.is_some_and(|p| merged.fork_conflicts.contains(p));
            let score = risk::path_risk(&PathFacts {
                class: Some(change.class),
                fork_conflict,
                upstream_conflict: conflict.is_some() && !fork_conflict,
                orphaned: orphans.contains(&change.path),
                lines_changed: change.lines_added + change.lines_deleted,
                ..PathFacts::default()
            })
            .score;
            paths.push((change.path.clone(), score));
        }
        for path in merged.conflicts.iter().filter(|p| !scored.contains(p)) {
            let fork_conflict = merged.fork_conflicts.contains(path);
            let score = risk::path_risk(&PathFacts {
                fork_conflict,
                upstream_conflict: !fork_conflict,
                ..PathFacts::default()
            })
            .score;
            paths.push((path.clone(), score));
        }
        let mut risk = risk::overall_risk(&OverallFacts {
            paths,
            to_resolve: merged.conflicts.len() + orphans.len(),
            fork_conflicts: merged.fork_conflicts.len(),
            refused: verdict == Verdict::Schema && !protocol.accepted,
            ..OverallFacts::default()
        });
        if merged.unmerged.is_some() {
            risk.reasons
                .push("conflicts unknown: git could not merge this point".into());
        }
        hops.push(Hop {
            version: point.version.text.clone(),
            name: point.name.clone(),
            commit: point.commit.to_string(),
            conflicts: merged.conflicts.len(),
            fork_conflicts: merged.fork_conflicts.len(),
            conflict_paths: merged.conflicts.clone(),
            risk,
            protocol: Some(verdict.as_str().into()),
            protocol_warnings: protocol.warnings.iter().map(|w| w.path.clone()).collect(),
            merge_error: merged.unmerged.as_ref().map(ToString::to_string),
        });
    }
    Ok(hops)
}
