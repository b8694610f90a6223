//! What the fork's copies miss, and what its in-place edits should have been.
//!
//! A copied-and-renamed connector stops receiving upstream's fixes to its source: list the
//! upstream commits to the source since the copy was made (in either layout), and the
//! framework modules the copy imports that the target no longer has. For an upstream
//! connector edited in place, spell out the copy-and-rename to do instead.

use crate::analysis::classify::UnitIndex;
use crate::audit::CopiedUnit;
use crate::error::Result;
use crate::model::{Change, ChangeClass, CommitRef, InPlaceEdit, Origin, StaleCopy};
use crate::repo::{Files, Repo};
use crate::rules::Pack;
use crate::session::Session;
use git2::Oid;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The suffix of the suggested name for a connector the fork edited in place.
const COPY_SUFFIX: &str = "custom";

pub fn stale_copies(
    repo: &Repo,
    session: &Session,
    copies: &[CopiedUnit],
    changes: &[Change],
    fork_tree: Oid,
    target_tree: Oid,
) -> Result<Vec<StaleCopy>> {
    let pack = &session.pack;
    // Per copy: where its source lived and lives (in every layout the pack knows), and the
    // commit it was made on: the parent of the oldest own commit that added it.
    let mut plans = Vec::new();
    for copy in copies {
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
        let made = changes
            .iter()
            .find(|c| c.path == copy.main_path)
            .and_then(|c| c.commits.last())
            .and_then(|id| Oid::from_str(id).ok());
        let Some(made) = made else { continue };
        let copied_at = repo
            .commit(made)?
            .parents
            .first()
            .copied()
            .unwrap_or(session.merge_base);
        let since: HashSet<Oid> = repo
            .walk(&[session.target.id], &[copied_at])?
            .into_iter()
            .collect();
        plans.push((copy, paths, since));
    }
    // One pass over every upstream commit any copy may lack, each diffed once, in parallel.
    let all_paths: Vec<String> = plans
        .iter()
        .flat_map(|(_, p, _)| p.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut commits: Vec<Oid> = plans
        .iter()
        .flat_map(|(_, _, since)| since.iter().copied())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    commits.sort();
    let touching = repo.par_map(&commits, |local, id| {
        let commit = local.commit(id)?;
        if commit.parents.len() != 1 || all_paths.is_empty() {
            return Ok(None);
        }
        let parent = local.tree_of(commit.parents[0])?;
        let paths: Vec<String> = local
            .diff(Some(parent), commit.tree, false, &all_paths)?
            .iter()
            .map(|d| d.path().to_string())
            .collect();
        Ok((!paths.is_empty()).then_some((commit, paths)))
    })?;

    let mut out = Vec::new();
    for (copy, paths, since) in plans {
        let mut missing: Vec<(i64, CommitRef)> = touching
            .iter()
            .filter(|(commit, touched)| {
                since.contains(&commit.id)
                    && touched.iter().any(|t| {
                        paths
                            .iter()
                            .any(|p| t == p || p.ends_with('/') && t.starts_with(p.as_str()))
                    })
            })
            .map(|(commit, _)| {
                let reference = CommitRef {
                    commit: commit.id.to_string(),
                    subject: commit.subject.clone(),
                    prs: crate::repo::pr_numbers(&commit.subject),
                };
                (commit.time, reference)
            })
            .collect();
        // Newest first, like git log.
        missing.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.commit.cmp(&b.1.commit)));
        let missing: Vec<CommitRef> = missing.into_iter().map(|(_, c)| c).collect();
        let broken_imports = broken_imports(repo, pack, copy, changes, fork_tree, target_tree)?;
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

/// Python imports of project modules (they resolve in the fork) that the target lacks.
fn broken_imports(
    repo: &Repo,
    pack: &Pack,
    copy: &CopiedUnit,
    changes: &[Change],
    fork_tree: Oid,
    target_tree: Oid,
) -> Result<Vec<String>> {
    let roots: BTreeSet<&str> = std::iter::once("")
        .chain(pack.families.iter().map(|f| f.module_root.as_str()))
        .collect();
    let resolves = |tree: Oid, module: &str| -> Result<bool> {
        let relative = module.replace('.', "/");
        for root in &roots {
            let base = if root.is_empty() {
                relative.clone()
            } else {
                format!("{root}/{relative}")
            };
            if repo.entry(tree, &format!("{base}.py"))?.is_some() || repo.has_dir(tree, &base)? {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let mut broken = BTreeSet::new();
    for change in changes.iter().filter(|c| {
        c.unit.as_deref() == Some(copy.unit.as_str()) && c.class == ChangeClass::ConnectorAdded
    }) {
        let Some(text) = repo.read(fork_tree, &change.path)? else {
            continue;
        };
        for line in String::from_utf8_lossy(&text).lines() {
            let Some(module) = imported_module(line) else {
                continue;
            };
            if resolves(fork_tree, module)? && !resolves(target_tree, module)? {
                broken.insert(format!("{} ({})", module, line.trim()));
            }
        }
    }
    Ok(broken.into_iter().collect())
}

/// `from a.b import c` and `import a.b as c` name module `a.b`; relative imports name none.
fn imported_module(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let module = if let Some(rest) = line.strip_prefix("from ") {
        rest.split_whitespace().next()?
    } else if let Some(rest) = line.strip_prefix("import ") {
        rest.split([' ', ',']).next()?
    } else {
        return None;
    };
    (!module.starts_with('.') && !module.is_empty()).then_some(module)
}

/// The copy-and-rename to do instead of each in-place edit.
pub fn in_place_edits(
    pack: &Pack,
    index: &UnitIndex,
    changes: &[Change],
    fork_files: &Files,
) -> Vec<InPlaceEdit> {
    let edited: BTreeSet<(usize, String)> = changes
        .iter()
        .filter(|c| {
            c.class == ChangeClass::ConnectorModified
                && c.origin != Origin::Upstream
                && !c.already_upstream
        })
        .filter_map(|c| index.unit_of(pack, &c.path))
        .collect();
    // Each file's unit, looked up once.
    let mut unit_files: BTreeMap<(usize, String), Vec<&str>> = BTreeMap::new();
    for path in fork_files.keys() {
        if let Some(key) = index.unit_of(pack, path).filter(|k| edited.contains(k)) {
            unit_files.entry(key).or_default().push(path);
        }
    }
    let mut out = Vec::new();
    for (family, unit) in edited {
        let spec = &pack.families[family];
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
                        .trim_end_matches(".py")
                        .to_string(),
                    new.trim_end_matches('/')
                        .trim_end_matches(".py")
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
        out.push(InPlaceEdit {
            unit: unit.clone(),
            suggested_unit: new_unit,
            files,
            tests,
            registration,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn imports_name_their_modules() {
        assert_eq!(
            super::imported_module("from connectors.source import BaseDataSource"),
            Some("connectors.source")
        );
        assert_eq!(
            super::imported_module("    import aiomysql"),
            Some("aiomysql")
        );
        assert_eq!(super::imported_module("import os, sys"), Some("os"));
        assert_eq!(super::imported_module("from . import client"), None);
        assert_eq!(super::imported_module("x = 1"), None);
    }
}
