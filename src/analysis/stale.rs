//! What the fork's copies miss, and what its in-place edits should have been.
//!
//! A copied-and-renamed connector stops receiving upstream's fixes to its source: list the
//! upstream commits to the source since the copy was made (in either layout), and the
//! framework modules the copy imports that the target no longer has. For an upstream
//! connector edited in place, spell out the copy-and-rename to do instead.

use super::classify::UnitIndex;
use super::copying::{CopiedUnit, UnitKey};
use crate::error::Result;
use crate::facts::{CommitId, Facts, Files, Objects, TreeId, Upstream};
use crate::model::{Change, ChangeClass, CommitRef, InPlaceEdit, StaleCopy};
use crate::rules::{Pack, UnitFamily};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The suffix of the suggested name for a connector the fork edited in place.
const COPY_SUFFIX: &str = "custom";

/// The commit a copy was made on: the parent of the oldest own commit that added its main file.
pub fn copied_at(facts: &Facts, copy: &CopiedUnit, changes: &[Change]) -> Option<CommitId> {
    let made: CommitId = changes
        .iter()
        .find(|c| c.path == copy.main_path)
        .and_then(|c| c.commits.last())
        .and_then(|id| id.parse().ok())?;
    let commit = facts.own.iter().find(|c| c.id == made)?;
    Some(commit.parents.first().copied().unwrap_or(facts.merge_base))
}

/// For each copy, the upstream commits to its source since the copy was made (in every layout
/// the pack knows), and the project modules it imports that the target no longer has.
/// `older`: upstream commits the target has and the copy's commit lacks that lie below the
/// merge-base (read apart, by copied-at commit).
pub fn stale_copies(
    facts: &Facts,
    objects: &dyn Objects,
    copies: &[CopiedUnit],
    changes: &[Change],
    older: &HashMap<CommitId, Vec<Upstream>>,
) -> Result<Vec<StaleCopy>> {
    let pack = &facts.pack;
    let mut out = Vec::new();
    for copy in copies {
        let Some(copied_at) = copied_at(facts, copy, changes) else {
            continue;
        };
        let paths: BTreeSet<String> = pack
            .families
            .iter()
            .map(|f| f.path.instantiate(&copy.source_unit))
            .chain(
                changes
                    .iter()
                    .filter_map(|c| c.copied_from.as_ref())
                    .filter(|f| f.unit == copy.source_unit)
                    .filter_map(|f| f.target_path.clone()),
            )
            .collect();
        let since: HashSet<CommitId> = facts
            .graph
            .walk(&[facts.target.id], &[copied_at])
            .into_iter()
            .collect();
        let touches = |touched: &String| {
            paths
                .iter()
                .any(|p| touched == p || p.ends_with('/') && touched.starts_with(p.as_str()))
        };
        let mut seen = HashSet::new();
        let mut missing: Vec<(i64, CommitRef)> = facts
            .upstream
            .iter()
            .filter(|u| since.contains(&u.meta.id))
            .chain(older.get(&copied_at).into_iter().flatten())
            .filter(|u| u.paths.iter().any(touches) && seen.insert(u.meta.id))
            .map(|u| (u.meta.time, CommitRef::of(&u.meta)))
            .collect();
        // Newest first, like git log.
        missing.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.commit.cmp(&b.1.commit)));
        let missing: Vec<CommitRef> = missing.into_iter().map(|(_, c)| c).collect();
        let broken_imports = broken_imports(facts, objects, copy, changes)?;
        if missing.is_empty() && broken_imports.is_empty() {
            continue;
        }
        out.push(StaleCopy {
            unit: copy.unit.clone(),
            source_unit: copy.source_unit.clone(),
            source_path: copy.source_path.clone(),
            missing,
            broken_imports,
        });
    }
    Ok(out)
}

/// Imports of project modules (they resolve in the fork) that the target lacks, by the
/// family's import pattern.
fn broken_imports(
    facts: &Facts,
    objects: &dyn Objects,
    copy: &CopiedUnit,
    changes: &[Change],
) -> Result<Vec<String>> {
    let pack = &facts.pack;
    let family = &pack.families[copy.family];
    let Some(import) = &family.import else {
        return Ok(Vec::new());
    };
    let roots: BTreeSet<&str> = std::iter::once("")
        .chain(pack.families.iter().map(|f| f.module_root.as_str()))
        .collect();
    let resolves = |tree: TreeId, module: &str| -> Result<bool> {
        let relative = module.replace('.', "/");
        for root in &roots {
            let base = if root.is_empty() {
                relative.clone()
            } else {
                format!("{root}/{relative}")
            };
            let file = format!("{base}{}", family.module_suffix);
            if objects.entry(tree, &file)?.is_some() || objects.has_dir(tree, &base)? {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let (fork_tree, target_tree) = (facts.trees.fork, facts.trees.target);
    let mut broken = BTreeSet::new();
    for change in changes.iter().filter(|c| {
        c.unit.as_deref() == Some(copy.unit.as_str()) && c.class == ChangeClass::ConnectorAdded
    }) {
        let Some(text) = objects.read(fork_tree, &change.path)? else {
            continue;
        };
        for line in String::from_utf8_lossy(&text).lines() {
            let Some(module) = imported_module(import, line) else {
                continue;
            };
            if resolves(fork_tree, module)? && !resolves(target_tree, module)? {
                broken.insert(format!("{} ({})", module, line.trim()));
            }
        }
    }
    Ok(broken.into_iter().collect())
}

/// The module a line imports, by the pack's pattern (group `module`).
fn imported_module<'l>(pattern: &regex::Regex, line: &'l str) -> Option<&'l str> {
    pattern
        .captures(line)
        .and_then(|c| c.name("module"))
        .map(|m| m.as_str())
        .filter(|m| !m.is_empty())
}

/// The copy-and-rename to do instead of each in-place edit.
pub fn in_place_edits(
    pack: &Pack,
    index: &UnitIndex,
    changes: &[Change],
    fork_files: &Files,
    target_files: &Files,
) -> Vec<InPlaceEdit> {
    let edited: BTreeSet<UnitKey> = changes
        .iter()
        .filter(|c| c.class == ChangeClass::ConnectorModified && c.is_divergent())
        .filter_map(|c| index.unit_of(pack, &c.path))
        .collect();
    // Each file's unit, looked up once.
    let mut unit_files: BTreeMap<UnitKey, Vec<&str>> = BTreeMap::new();
    for path in fork_files.keys() {
        if let Some(key) = index.unit_of(pack, path).filter(|k| edited.contains(k)) {
            unit_files.entry(key).or_default().push(path);
        }
    }
    let mut out = Vec::new();
    for (family, unit) in edited {
        let spec: &UnitFamily = &pack.families[family];
        let new_unit = format!("{unit}_{COPY_SUFFIX}");
        let registered = index
            .registered()
            .iter()
            .find(|r| r.family == family && r.unit == unit);
        // The unit's files, moved to the new name: a registered package keeps its place in the tree.
        let (old_location, new_location) = match registered {
            Some(entry) => {
                let parent = entry.location.rsplit_once('/').map_or("", |(p, _)| p);
                (entry.location.clone(), format!("{parent}/{new_unit}"))
            }
            None => {
                let old = spec.path.instantiate(&unit);
                let new = spec.path.instantiate(&new_unit);
                (
                    old.trim_end_matches('/')
                        .trim_end_matches(spec.module_suffix.as_str())
                        .to_string(),
                    new.trim_end_matches('/')
                        .trim_end_matches(spec.module_suffix.as_str())
                        .to_string(),
                )
            }
        };
        let files: Vec<[String; 2]> = unit_files
            .get(&(family, unit.clone()))
            .into_iter()
            .flatten()
            .filter_map(|p| {
                p.strip_prefix(&old_location)
                    .map(|rest| [p.to_string(), format!("{new_location}{rest}")])
            })
            .collect();
        let key = registered.map_or(unit.as_str(), |r| r.key.as_str());
        let new_key = format!("{key}_{COPY_SUFFIX}");
        let tests: Vec<[String; 2]> = fork_files
            .keys()
            .filter_map(|p| {
                spec.tests.iter().find_map(|template| {
                    let (old, new) = if template.placeholder == "key" {
                        (key, new_key.as_str())
                    } else {
                        (unit.as_str(), new_unit.as_str())
                    };
                    let name = template.match_path(p)?;
                    (name == old).then(|| {
                        let from = template.instantiate(old);
                        let to = template.instantiate(new);
                        [
                            p.clone(),
                            format!("{to}{}", p.strip_prefix(&from).unwrap_or("")),
                        ]
                    })
                })
            })
            .collect();
        let registration = match (
            registered,
            spec.registration.as_ref().and_then(|r| r.template.as_ref()),
        ) {
            (Some(entry), Some(template)) => {
                let module = match entry.module.rsplit_once('.') {
                    Some((parent, _)) => format!("{parent}.{new_unit}"),
                    None => new_unit.clone(),
                };
                let class = entry.class.clone().unwrap_or_default();
                let stem = spec.class_name.as_ref().and_then(|re| {
                    re.captures(&format!("class {class}"))
                        .and_then(|c| c.name("name").map(|n| n.as_str().to_string()))
                });
                let new_class = match stem {
                    Some(stem) => class.replacen(&stem, &format!("{stem}Custom"), 1),
                    None => format!("Custom{class}"),
                };
                Some(
                    template
                        .replace("{key}", &new_key)
                        .replace("{module}", &module)
                        .replace("{class}", &new_class)
                        .trim()
                        .to_string(),
                )
            }
            _ => None,
        };
        let at_target = at_target(
            pack,
            changes,
            &files,
            [&unit, &new_unit],
            [key, &new_key],
            target_files,
        );
        out.push(InPlaceEdit {
            unit: unit.clone(),
            suggested_unit: new_unit,
            files,
            tests,
            registration,
            at_target,
        });
    }
    out
}

/// Where the copy belongs after the upgrade, when upstream moved the unit (the elastic 9.3
/// restructure turned `connectors/sources/postgresql.py` into a package under
/// `app/connectors_service/`): the unit's files and tests at the target, each under the
/// target layout's name for the new unit. Empty when the target keeps the fork's paths.
/// `units` and `keys` are the unit's name and registration key, old and new.
fn at_target(
    pack: &Pack,
    changes: &[Change],
    files: &[[String; 2]],
    [unit, new_unit]: [&str; 2],
    [key, new_key]: [&str; 2],
    target_files: &Files,
) -> Vec<[String; 2]> {
    let moved = changes.iter().find_map(|c| {
        let target = c.target_path.as_deref()?;
        (target != c.path && files.iter().any(|[from, _]| *from == c.path)).then_some(target)
    });
    let Some(moved) = moved else {
        return Vec::new();
    };
    // The family whose layout the target's file is in.
    let Some(family) = pack.families.iter().find(|f| {
        let dir = f.path.instantiate(unit);
        moved.starts_with(dir.trim_end_matches(f.module_suffix.as_str()))
    }) else {
        return Vec::new();
    };
    let strip = |path: String| {
        path.trim_end_matches(family.module_suffix.as_str())
            .to_string()
    };
    let mut places = vec![(
        strip(family.path.instantiate(unit)),
        strip(family.path.instantiate(new_unit)),
    )];
    for template in &family.tests {
        let (old, new) = if template.placeholder == "key" {
            (key, new_key)
        } else {
            (unit, new_unit)
        };
        places.push((template.instantiate(old), template.instantiate(new)));
    }
    let mut out = Vec::new();
    for (from, to) in places {
        for path in target_files.keys().filter(|p| p.starts_with(&from)) {
            out.push([path.clone(), format!("{to}{}", &path[from.len()..])]);
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn imports_name_their_modules() {
        // The elastic-connectors pack's pattern.
        let pattern =
            regex::Regex::new(r"^\s*(?:from|import)\s+(?P<module>[^.\s,][^\s,]*)").unwrap();
        let module = |line| super::imported_module(&pattern, line);
        assert_eq!(
            module("from connectors.source import BaseDataSource"),
            Some("connectors.source")
        );
        assert_eq!(module("    import aiomysql"), Some("aiomysql"));
        assert_eq!(module("import os, sys"), Some("os"));
        assert_eq!(module("from . import client"), None);
        assert_eq!(module("x = 1"), None);
    }
}
