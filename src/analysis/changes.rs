//! Every path the fork changed since the merge-base, classified and traced to its origin: the
//! own commits that touched it, and whether upstream commits (backports on a release branch
//! the fork sits on) did too.

use super::classify::{self, Decision, Registered, UnitIndex};
use crate::error::Result;
use crate::facts::{CommitId, Delta, DeltaStatus, Facts, LineStats, Objects};
use crate::model::{Change, Origin, Status};
use std::collections::HashMap;

/// What is known about units at the merge-base, the fork and the target: their registrations
/// and which exist where.
pub fn unit_index(facts: &Facts, objects: &dyn Objects) -> Result<UnitIndex> {
    let pack = &facts.pack;
    let trees = &facts.trees;
    let mut registrations: [Vec<Registered>; 3] = Default::default();
    let mut base_has = Vec::with_capacity(pack.families.len());
    for (family, spec) in pack.families.iter().enumerate() {
        let Some(registration) = &spec.registration else {
            base_has.push(false);
            continue;
        };
        for (side, tree) in [trees.base, trees.fork, trees.target]
            .into_iter()
            .enumerate()
        {
            if let Some(bytes) = objects.read(tree, &registration.path)? {
                if side == 0 {
                    base_has.push(true);
                }
                registrations[side].extend(classify::parse_registrations(
                    pack,
                    family,
                    &String::from_utf8_lossy(&bytes),
                ));
            } else if side == 0 {
                base_has.push(false);
            }
        }
    }
    // Symlinks and submodules make no unit exist.
    Ok(UnitIndex::new(
        pack,
        registrations,
        base_has,
        facts
            .base_files
            .keys()
            .filter(|p| !facts.base_special.contains_key(*p))
            .map(String::as_str),
        facts
            .fork_files
            .keys()
            .filter(|p| !facts.fork_special.contains_key(*p))
            .map(String::as_str),
    ))
}

/// Who touched each path since the merge-base: the own commits (by position in the
/// newest-first list) and whether any upstream commit did. Built once for all changes.
struct Touchers<'t> {
    by_path: HashMap<&'t str, (Vec<usize>, bool)>,
}

impl<'t> Touchers<'t> {
    fn new(facts: &'t Facts) -> Self {
        let position: HashMap<CommitId, usize> = facts
            .own
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        let mut by_path: HashMap<&str, (Vec<usize>, bool)> = HashMap::new();
        for (commit, paths) in &facts.touched {
            for path in paths {
                let entry = by_path.entry(path.as_str()).or_default();
                match position.get(commit) {
                    Some(index) => entry.0.push(*index),
                    None => entry.1 = true,
                }
            }
        }
        Touchers { by_path }
    }

    /// Own commit positions (sorted) and whether upstream touched any of `paths`.
    fn of(&self, paths: &[&str]) -> (Vec<usize>, bool) {
        let mut own = Vec::new();
        let mut upstream = false;
        for path in paths {
            if let Some((commits, by_upstream)) = self.by_path.get(path) {
                own.extend(commits);
                upstream |= by_upstream;
            }
        }
        own.sort_unstable();
        own.dedup();
        (own, upstream)
    }
}

/// Every change of the fork since the merge-base, classified, with its origin and size.
pub fn changes(facts: &Facts, objects: &dyn Objects, index: &UnitIndex) -> Result<Vec<Change>> {
    let touchers = Touchers::new(facts);
    facts
        .fork_deltas
        .iter()
        .map(|delta| change_of(facts, objects, index, &touchers, delta))
        .collect()
}

/// The audit's change for one delta of the fork: what `explain` reports, without reading the
/// line counts of every other change.
pub fn change(
    facts: &Facts,
    objects: &dyn Objects,
    index: &UnitIndex,
    delta: &Delta,
) -> Result<Change> {
    change_of(facts, objects, index, &Touchers::new(facts), delta)
}

/// How a registration file's lines changed, when `delta` modified one.
pub fn registration_of(
    facts: &Facts,
    objects: &dyn Objects,
    delta: &Delta,
) -> Result<Option<classify::RegistrationEdit>> {
    let path = delta.path();
    let is_registration = facts
        .pack
        .families
        .iter()
        .any(|f| f.registration.as_ref().is_some_and(|r| r.path == path))
        || facts.pack.is_own_registration(path);
    match (delta.status, delta.old_id, delta.new_id) {
        (DeltaStatus::Modified, Some(old), Some(new)) if is_registration => {
            let (old, new) = (objects.blob(old)?, objects.blob(new)?);
            Ok(classify::registration_edit(
                &facts.pack,
                path,
                &String::from_utf8_lossy(&old),
                &String::from_utf8_lossy(&new),
            ))
        }
        _ => Ok(None),
    }
}

fn change_of(
    facts: &Facts,
    objects: &dyn Objects,
    index: &UnitIndex,
    touchers: &Touchers,
    delta: &Delta,
) -> Result<Change> {
    let path = delta.path().to_string();
    let old_path = (delta.status == DeltaStatus::Renamed)
        .then(|| delta.old_path.clone())
        .flatten();
    let names: Vec<&str> = std::iter::once(path.as_str())
        .chain(old_path.as_deref())
        .collect();
    let (own, by_upstream) = touchers.of(&names);
    let commits: Vec<String> = own.iter().map(|i| facts.own[*i].id.to_string()).collect();
    let origin = match (!commits.is_empty(), by_upstream) {
        (true, true) => Origin::Both,
        (false, true) => Origin::Upstream,
        _ => Origin::Fork,
    };
    // A submodule's ids name commits of another repository: no lines to count.
    let stats = if delta.touches_submodule() {
        LineStats::default()
    } else {
        objects.line_stats(delta.old_id, delta.new_id)?
    };
    let registration = registration_of(facts, objects, delta)?;
    let deleted = delta.status == DeltaStatus::Deleted;
    let Decision {
        class,
        unit,
        rule,
        registers,
        ..
    } = classify::classify(
        &facts.pack,
        index,
        &path,
        deleted,
        delta.kind(),
        registration.as_ref(),
    );
    Ok(Change {
        path,
        old_path,
        status: Status::from(delta.status),
        class,
        unit,
        origin,
        copied_from: None,
        target_path: None,
        lines_added: stats.added,
        lines_deleted: stats.deleted,
        binary: stats.binary,
        commits,
        registers,
        rule,
        orphaned: false,
        risk: None,
        already_upstream: false,
        kind: crate::model::EntryKind::of(delta.kind()),
    })
}
