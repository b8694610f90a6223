//! `forkdrift plan`: the upgrade, one minor at a time. For each hop: the protocol verdict
//! since the previous hop, the conflicts of merging it (in total and caused by the fork),
//! the release notes that matter (breaking first) and the pack's checklist. The plan stops
//! at the first hop whose protocol needs an acceptance.

use super::gate;
use super::hops::HopMerge;
use super::protocol::Verdict;
use super::releases::captured_version;
use super::versions::Version;
use crate::error::Result;
use crate::facts::{CommitId, Facts, Objects, ReleasePoint};
use crate::model::{Change, Origin, Plan, PlanHop, ReleaseNote};
use regex::Regex;
use std::collections::{BTreeSet, HashSet};

pub fn plan(
    facts: &Facts,
    objects: &dyn Objects,
    changes: &[Change],
    from_version: Option<Version>,
    points: &[ReleasePoint],
    merges: Vec<HopMerge>,
) -> Result<Plan> {
    let pack = &facts.pack;
    let mut watched: BTreeSet<String> = gate::anchor_paths(pack).into_iter().collect();
    for change in changes.iter().filter(|c| c.origin != Origin::Upstream) {
        watched.insert(change.path.clone());
        watched.extend(change.target_path.clone());
    }

    let mut hops = Vec::new();
    let mut stopped_at = None;
    let mut previous = facts.fork_point;
    let mut previous_version = from_version.clone();
    for (point, merged) in points.iter().zip(merges) {
        let (verdict, protocol) = gate::compare(facts, objects, previous, point.commit)?;
        let needs_acceptance = verdict == Verdict::Schema && !protocol.accepted;
        let mut checklist = pack.plan.checklist.clone();
        if !pack.plan.coupled.is_empty() {
            checklist.insert(
                0,
                format!("Upgrade these together: {}.", pack.plan.coupled.join(", ")),
            );
        }
        if let Some(command) = &pack.plan.command {
            checklist.insert(1.min(checklist.len()), format!("Run `{command}`."));
        }
        if needs_acceptance {
            checklist.insert(
                0,
                format!(
                    "Review the protocol changes, then record them: `forkdrift accept-protocol --to {} --why \"…\"`.",
                    point.name
                ),
            );
        }
        hops.push(PlanHop {
            version: point.version.text.clone(),
            name: point.name.clone(),
            commit: point.commit.to_string(),
            protocol: verdict.as_str().into(),
            needs_acceptance,
            conflicts: merged.conflicts.len(),
            fork_conflicts: merged.fork_conflicts.len(),
            notes: release_notes(
                facts,
                objects,
                previous,
                point,
                previous_version.as_ref(),
                &watched,
            )?,
            checklist,
            protocol_report: (verdict != Verdict::None || !protocol.warnings.is_empty())
                .then_some(protocol),
            merge_error: merged.unmerged.as_ref().map(ToString::to_string),
        });
        if needs_acceptance {
            stopped_at = Some(point.version.text.clone());
            break;
        }
        previous = point.commit;
        previous_version = Some(point.version.clone());
    }
    Ok(Plan {
        from_version: from_version.map(|v| v.text),
        hops,
        stopped_at,
    })
}

/// The changelog sections between two versions, or else the PR titles that matter: those
/// touching what the fork changed or the protocol, and those that say they break things.
fn release_notes(
    facts: &Facts,
    objects: &dyn Objects,
    previous: CommitId,
    point: &ReleasePoint,
    previous_version: Option<&Version>,
    watched: &BTreeSet<String>,
) -> Result<Vec<ReleaseNote>> {
    let mut notes = Vec::new();
    if let Some(changelog) = &facts.pack.changelog {
        let tree = gate::tree_of(facts, point.commit)?;
        if let Some(bytes) = objects.read(tree, &changelog.path)? {
            notes = changelog_notes(
                &String::from_utf8_lossy(&bytes),
                changelog,
                previous_version,
                &point.version,
            );
        }
    }
    if notes.is_empty() {
        let breaking = Regex::new(r"(?i)\bbreaking\b|^\w+(\([^)]*\))?!:").expect("static pattern");
        let order = facts.graph.walk(&[point.commit], &[previous]);
        let since: HashSet<CommitId> = order.iter().copied().collect();
        let paths_of: std::collections::HashMap<CommitId, &Vec<String>> = facts
            .upstream
            .iter()
            .filter(|u| since.contains(&u.meta.id))
            .map(|u| (u.meta.id, &u.paths))
            .collect();
        for id in order {
            let Some(paths) = paths_of.get(&id) else {
                continue;
            };
            let commit = facts.commit(id).expect("a walked commit is in the graph");
            let is_breaking = breaking.is_match(&commit.subject);
            if is_breaking || paths.iter().any(|p| watched.contains(p)) {
                notes.push(ReleaseNote {
                    text: commit.subject.clone(),
                    breaking: is_breaking,
                    source: id.to_string(),
                });
            }
        }
    }
    notes.sort_by_key(|n| !n.breaking);
    Ok(notes)
}

/// The entries of a changelog's sections after `previous` up to `version`; entries under an
/// "Upgrade" heading count as breaking.
fn changelog_notes(
    text: &str,
    changelog: &crate::rules::Changelog,
    previous: Option<&Version>,
    version: &Version,
) -> Vec<ReleaseNote> {
    let mut notes = Vec::new();
    let mut section: Option<Version> = None;
    let mut upgrade_notes = false;
    for line in text.lines() {
        if changelog.section.is_match(line) {
            section = captured_version(&changelog.section, line);
            upgrade_notes = false;
            continue;
        }
        let Some(current) = &section else { continue };
        let in_range = previous.is_none_or(|p| current > p) && current <= version;
        if !in_range {
            continue;
        }
        let trimmed = line.trim();
        if trimmed.starts_with("###") {
            upgrade_notes = trimmed.to_ascii_lowercase().contains("upgrade");
            continue;
        }
        let entry = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "));
        let text = match entry {
            Some(entry) => entry.to_string(),
            None if upgrade_notes && !trimmed.is_empty() => trimmed.to_string(),
            None => continue,
        };
        notes.push(ReleaseNote {
            breaking: upgrade_notes || changelog.breaking.is_match(line),
            text: format!("{}: {text}", current.text),
            source: changelog.path.clone(),
        });
    }
    notes
}
