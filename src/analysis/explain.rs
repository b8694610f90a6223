//! `forkdrift explain PATH`: the audit's own decision for one path, and the facts it rests on.

use super::changes::{self, registration_of};
use super::classify;
use super::placement::TargetPaths;
use crate::error::Result;
use crate::facts::{DeltaStatus, Facts, Objects};
use crate::model::{Explanation, Status};

pub fn explain(facts: &Facts, objects: &dyn Objects, path: &str) -> Result<Explanation> {
    let pack = &facts.pack;
    let index = changes::unit_index(facts, objects)?;
    let delta = facts
        .fork_deltas
        .iter()
        .find(|d| d.path() == path || d.old_path.as_deref() == Some(path));
    let registration = match delta {
        Some(delta) => registration_of(facts, objects, delta)?,
        None => None,
    };
    let deleted = match delta {
        Some(delta) => delta.status == DeltaStatus::Deleted,
        None => !facts.fork_files.contains_key(path),
    };
    let kind = match delta {
        Some(delta) => delta.kind(),
        None => facts
            .fork_special
            .get(path)
            .or_else(|| facts.base_special.get(path))
            .copied()
            .unwrap_or_default(),
    };
    let decision = classify::classify(pack, &index, path, deleted, kind, registration.as_ref());
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
    if facts.base_files.contains_key(path) && !facts.target_files.contains_key(path) {
        let paths = TargetPaths::new(facts, objects, true)?;
        notes.push(match paths.locate(objects, path)? {
            Some(moved) => format!("upstream moved it: at the target it lives at {moved}"),
            None => "upstream removed it: no file of the target holds most of its lines".into(),
        });
    }
    if let Some(edit) = &registration {
        notes.push(if edit.only_registrations {
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
