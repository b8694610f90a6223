//! Which connectors the fork added are copies of upstream ones, and whether their tests came
//! along: each added unit (and each added test file of a unit upstream has no tests for) is
//! looked up among the upstream units at the merge-base by [`CopyIndex`].

use super::classify::UnitIndex;
use super::copies::{self, CopyIndex, CopyMatch, UnitText};
use crate::error::Result;
use crate::facts::{Facts, Files, Objects};
use crate::model::{Change, ChangeClass, CopiedFrom, Origin, Status};
use crate::rules::Pack;
use std::collections::BTreeMap;

/// A unit: its family (index into the pack's families) and its name.
pub type UnitKey = (usize, String);

/// A copied unit and where its source's tests are, for the copy-without-tests check.
#[derive(Debug, Clone)]
pub struct CopiedUnit {
    pub family: usize,
    pub unit: String,
    pub source_family: usize,
    pub source_unit: String,
    pub similarity: f64,
    pub main_path: String,
    pub source_path: String,
    pub source_has_tests: bool,
    pub has_tests: bool,
}

/// The contents of a unit's files. A blob this clone lacks (a partial clone, a pruned or
/// damaged object store) is left out and its path added to `unreadable`: the unit is compared
/// on what could be read.
fn read_unit(
    objects: &dyn Objects,
    files: &Files,
    paths: &[String],
    unreadable: &mut Vec<String>,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        match objects.blob_if_present(files[path])? {
            Some(bytes) => out.push((path.clone(), bytes)),
            None => {
                if !unreadable.contains(path) {
                    unreadable.push(path.clone());
                }
            }
        }
    }
    Ok(out)
}

fn unit_text(pack: &Pack, key: &UnitKey, files: Vec<(String, Vec<u8>)>) -> UnitText {
    let (family, unit) = key;
    let mut names = vec![unit.clone()];
    if let Some(pattern) = &pack.families[*family].class_name {
        names.extend(copies::dominant_name(pattern, &files));
    }
    UnitText {
        unit: unit.clone(),
        names,
        files,
    }
}

/// Paths of each unit's tests in a tree: files matching the `{unit}` templates, and the
/// `{key}` templates through the unit's registration key.
pub fn tests_by_unit(
    pack: &Pack,
    index: &UnitIndex,
    files: &Files,
) -> BTreeMap<UnitKey, Vec<String>> {
    let mut out: BTreeMap<UnitKey, Vec<String>> = BTreeMap::new();
    for path in files.keys() {
        for (family, spec) in pack.families.iter().enumerate() {
            if let Some(name) = spec
                .tests
                .iter()
                .find_map(|t| t.match_path(path).map(|n| (t.placeholder, n)))
            {
                let unit = match name {
                    ("key", key) => index.unit_of_key(family, key).unwrap_or(key).to_string(),
                    (_, unit) => unit.to_string(),
                };
                out.entry((family, unit)).or_default().push(path.clone());
                break;
            }
        }
    }
    out
}

/// Finds the copies among the units (and unit tests) the fork added, marks their files'
/// `copied_from`, and returns the copied units.
pub fn detect(
    facts: &Facts,
    objects: &dyn Objects,
    index: &UnitIndex,
    changes: &mut [Change],
    unreadable: &mut Vec<String>,
) -> Result<Vec<CopiedUnit>> {
    let pack = &facts.pack;
    let mut added: BTreeMap<UnitKey, Vec<String>> = BTreeMap::new();
    for change in changes
        .iter()
        .filter(|c| c.class == ChangeClass::ConnectorAdded && c.origin != Origin::Upstream)
    {
        if let Some(key) = index.unit_of(pack, &change.path) {
            added.entry(key).or_default().push(change.path.clone());
        }
    }
    let base_tests = tests_by_unit(pack, index, &facts.base_files);
    let fork_tests = tests_by_unit(pack, index, &facts.fork_files);
    // Tests the fork added for units that had none upstream.
    let mut added_tests: BTreeMap<UnitKey, Vec<String>> = BTreeMap::new();
    for change in changes.iter().filter(|c| {
        c.class == ChangeClass::Test && c.status == Status::Added && c.origin != Origin::Upstream
    }) {
        let owner = fork_tests
            .iter()
            .find(|(_, paths)| paths.contains(&change.path))
            .map(|(key, _)| key);
        if let Some(key) = owner.filter(|key| !base_tests.contains_key(*key)) {
            added_tests
                .entry(key.clone())
                .or_default()
                .push(change.path.clone());
        }
    }
    if added.is_empty() && added_tests.is_empty() {
        return Ok(Vec::new());
    }

    // The upstream corpus: every unit at the merge-base (helpers excluded).
    let mut unit_paths: BTreeMap<UnitKey, Vec<String>> = BTreeMap::new();
    for path in facts
        .base_files
        .keys()
        .filter(|p| !facts.base_special.contains_key(*p))
    {
        if let Some((family, unit)) = index.unit_of(pack, path) {
            if !index.is_helper(family, &unit) {
                unit_paths
                    .entry((family, unit))
                    .or_default()
                    .push(path.clone());
            }
        }
    }
    let corpus = Corpus::read(pack, objects, &facts.base_files, &unit_paths, unreadable)?;
    let mut copied = Vec::new();
    for (key, paths, found) in corpus.match_units(
        pack,
        objects,
        &facts.fork_files,
        &added,
        changes,
        unreadable,
    )? {
        let (source_family, source_unit) = corpus.keys[found.source].clone();
        // A unit directory holds its tests too; its main file is code, however alike the
        // copied tests are.
        let is_test = |path: &str| {
            pack.zone(path)
                .is_some_and(|(_, zone)| zone.kind == crate::rules::ZoneKind::Test)
        };
        let main = found.files.iter().max_by(|a, b| {
            (!is_test(&a.0))
                .cmp(&!is_test(&b.0))
                .then_with(|| a.2.total_cmp(&b.2))
                .then_with(|| b.0.cmp(&a.0))
        });
        let (main_path, source_path) = match main {
            Some((path, source, _)) => (path.clone(), source.clone()),
            None => (
                paths[0].clone(),
                unit_paths[&(source_family, source_unit.clone())][0].clone(),
            ),
        };
        copied.push(CopiedUnit {
            family: key.0,
            source_has_tests: base_tests.contains_key(&(source_family, source_unit.clone())),
            has_tests: fork_tests.contains_key(&key),
            unit: key.1,
            source_family,
            source_unit,
            similarity: found.similarity,
            main_path,
            source_path,
        });
    }

    if !added_tests.is_empty() {
        let upstream_tests: BTreeMap<UnitKey, Vec<String>> = base_tests
            .into_iter()
            .filter(|((family, unit), _)| !index.is_helper(*family, unit))
            .collect();
        let tests = Corpus::read(
            pack,
            objects,
            &facts.base_files,
            &upstream_tests,
            unreadable,
        )?;
        tests.match_units(
            pack,
            objects,
            &facts.fork_files,
            &added_tests,
            changes,
            unreadable,
        )?;
    }
    Ok(copied)
}

/// Upstream units read into a copy index, with each entry's unit beside it.
pub struct Corpus {
    pub keys: Vec<UnitKey>,
    pub index: CopyIndex,
}

impl Corpus {
    pub fn read(
        pack: &Pack,
        objects: &dyn Objects,
        files: &Files,
        units: &BTreeMap<UnitKey, Vec<String>>,
        unreadable: &mut Vec<String>,
    ) -> Result<Corpus> {
        let mut keys = Vec::with_capacity(units.len());
        let mut texts = Vec::with_capacity(units.len());
        for (key, paths) in units {
            keys.push(key.clone());
            texts.push(unit_text(
                pack,
                key,
                read_unit(objects, files, paths, unreadable)?,
            ));
        }
        Ok(Corpus {
            keys,
            index: CopyIndex::new(&texts),
        })
    }

    /// Looks each added unit up; marks its files' `copied_from`; returns the copies.
    fn match_units(
        &self,
        pack: &Pack,
        objects: &dyn Objects,
        fork_files: &Files,
        added: &BTreeMap<UnitKey, Vec<String>>,
        changes: &mut [Change],
        unreadable: &mut Vec<String>,
    ) -> Result<Vec<(UnitKey, Vec<String>, CopyMatch)>> {
        let mut out = Vec::new();
        for (key, paths) in added {
            let text = unit_text(
                pack,
                key,
                read_unit(objects, fork_files, paths, unreadable)?,
            );
            let Some(found) = self.index.find(&text, None) else {
                continue;
            };
            for (path, source_path, similarity) in &found.files {
                if let Some(change) = changes.iter_mut().find(|c| &c.path == path) {
                    change.copied_from = Some(CopiedFrom {
                        path: source_path.clone(),
                        similarity: *similarity,
                        unit: self.keys[found.source].1.clone(),
                        target_path: None,
                    });
                }
            }
            out.push((key.clone(), paths.clone(), found));
        }
        Ok(out)
    }
}
