//! `forkdrift explain PATH`: the audit's own decision for one path, and the facts it rests on.

use super::changes::{self, registration_of};
use super::classify;
use super::placement::TargetPaths;
use crate::error::{Error, Result};
use crate::facts::{DeltaStatus, Facts, Objects};
use crate::model::{Explanation, Origin, Status};

pub fn explain(facts: &Facts, objects: &dyn Objects, path: &str) -> Result<Explanation> {
    let pack = &facts.pack;
    let is_file = |files: &crate::facts::Files| files.contains_key(path);
    let is_dir = |files: &crate::facts::Files| {
        let prefix = format!("{path}/");
        path.is_empty() || files.keys().any(|p| p.starts_with(&prefix))
    };
    if ![&facts.fork_files, &facts.base_files, &facts.target_files]
        .iter()
        .any(|f| is_file(f))
        && [&facts.fork_files, &facts.target_files]
            .iter()
            .any(|f| is_dir(f))
    {
        return Err(Error::Usage {
            message: format!(
                "{} is a directory: forkdrift explains one file at a time",
                if path.is_empty() { "." } else { path }
            ),
            help: "name a file in it; `forkdrift audit --all` lists every changed path".into(),
        });
    }
    let known = [&facts.fork_files, &facts.base_files, &facts.target_files]
        .iter()
        .any(|f| is_file(f) || is_dir(f))
        || facts
            .fork_deltas
            .iter()
            .any(|d| d.old_path.as_deref() == Some(path));
    if !known {
        return Err(Error::Usage {
            message: format!(
                "{path} is in neither the fork, the merge-base nor the target ({})",
                facts.target.name
            ),
            help: "check the spelling; in a work tree a path is relative to the current directory (or -C's), as git's are, and in a bare repository to its top; `forkdrift audit --all` lists every changed path".into(),
        });
    }
    let index = changes::unit_index(facts, objects)?;
    let delta = facts
        .fork_deltas
        .iter()
        .find(|d| d.path() == path || d.old_path.as_deref() == Some(path));
    let registration = match delta {
        Some(delta) => registration_of(facts, objects, delta)?,
        None => None,
    };
    // A path the fork never changed is nobody's deletion, whatever upstream did to it.
    let deleted = delta.is_some_and(|d| d.status == DeltaStatus::Deleted);
    let kind = match delta {
        Some(delta) => delta.kind(),
        None => facts
            .fork_special
            .get(path)
            .or_else(|| facts.base_special.get(path))
            .copied()
            .unwrap_or_default(),
    };
    let mut decision = classify::classify(pack, &index, path, deleted, kind, registration.as_ref());
    let audited = delta
        .map(|delta| changes::change(facts, objects, &index, delta))
        .transpose()?;
    let origin = audited.as_ref().map(|c| c.origin);
    if origin == Some(Origin::Upstream) {
        decision.rule = decision
            .rule
            .replace("the fork removed", "upstream removed on the fork's branch")
            .replace(
                "not in the upstream at the merge-base",
                "not in the upstream at the merge-base; upstream added it on the fork's branch",
            );
    } else if delta.is_none() {
        decision.rule = decision.rule.replace(
            "not in the upstream at the merge-base",
            "not in the upstream at the merge-base; upstream added it since, the fork does not change it",
        );
    }
    let present = |here: bool| if here { "present" } else { "absent" };
    let mut notes = vec![format!(
        "at the merge-base {}: {}; in the fork: {}; at the target: {}",
        facts.merge_base.short(),
        present(facts.base_files.contains_key(path)),
        present(facts.fork_files.contains_key(path)),
        present(facts.target_files.contains_key(path)),
    )];
    if let Some(family) = decision.family {
        let spec = &pack.families[family];
        notes.push(format!(
            "unit family `{}`: units at {}",
            spec.layout, spec.path.text
        ));
        if let Some(unit) = &decision.unit {
            if let Some(key) = index.key_of(family, unit) {
                notes.push(format!("`{unit}` is registered as \"{key}\""));
            }
            let tests: Vec<String> = spec
                .tests
                .iter()
                .map(|t| {
                    t.instantiate(
                        index
                            .key_of(family, unit)
                            .filter(|_| t.placeholder == "key")
                            .unwrap_or(unit),
                    )
                })
                .collect();
            if !tests.is_empty() {
                notes.push(format!("its tests belong at {}", tests.join(", ")));
            }
        }
    }
    let (at_base, in_fork, at_target) = (
        facts.base_files.contains_key(path),
        facts.fork_files.contains_key(path),
        facts.target_files.contains_key(path),
    );
    match (delta.is_some(), origin) {
        (false, _) => notes.push(match (at_base, in_fork, at_target) {
            (false, false, true) => {
                "the fork does not change it: upstream added it after the merge-base".into()
            }
            (true, true, false) => {
                "the fork does not change it: upstream deleted it after the merge-base".into()
            }
            _ => "the fork does not change it since the merge-base".into(),
        }),
        (true, Some(Origin::Upstream)) => notes.push(
            "only upstream commits changed it on the fork's branch (backports): not the fork's work"
                .into(),
        ),
        _ => {}
    }
    if delta.is_some() && at_base && !at_target {
        let paths = TargetPaths::new(facts, objects, true)?;
        notes.push(match paths.locate(objects, path)? {
            Some(moved) => format!("upstream moved it: at the target it lives at {moved}"),
            None => "upstream removed it: no file of the target holds most of its lines".into(),
        });
    }
    if let Some(edit) = &registration {
        notes.push(if edit.only_registrations && edit.keys.is_empty() {
            "the fork only adds lines to a registration path .forkdrift.toml declares".into()
        } else if edit.only_registrations {
            format!(
                "the fork's edit only adds or removes registration entries ({})",
                edit.keys.join(", ")
            )
        } else {
            "the fork's edit changes lines that are not registration entries".into()
        });
    }
    Ok(Explanation {
        path: path.to_string(),
        pack: pack.name.clone(),
        pack_origin: pack.origin.clone(),
        class: decision.class,
        rule: decision.rule,
        unit: decision.unit,
        change: delta.map(|d| Status::from(d.status)),
        facts: notes,
    })
}
