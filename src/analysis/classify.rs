//! Which class a changed path belongs to, and why. Pure: the caller supplies the trees'
//! file lists and the registration files' contents.
//!
//! Order of decision: registration file (all changed lines register units → `registration`,
//! else `framework`) → unit families (a registered module's location, else the family's
//! path pattern; unregistered upstream modules are shared helpers → `framework`) → unit test
//! templates → zones (first match) → `other`.

use crate::facts::EntryKind;
use crate::model::ChangeClass;
use crate::rules::Pack;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A registration entry: `"dir": "connectors.sources.directory:DirectoryDataSource"`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Registered {
    pub family: usize,
    pub key: String,
    pub module: String,
    pub class: Option<String>,
    /// `<module_root>/<module with dots as slashes>`: a `.py` file or a package directory.
    pub location: String,
    /// The unit's name: the module's last segment.
    pub unit: String,
}

/// Registration entries found in one registration file's text.
pub fn parse_registrations(pack: &Pack, family: usize, text: &str) -> Vec<Registered> {
    let Some(registration) = &pack.families[family].registration else {
        return Vec::new();
    };
    let root = &pack.families[family].module_root;
    text.lines()
        .filter_map(|line| {
            let caps = registration.line.captures(line)?;
            let module = caps.name("module")?.as_str().to_string();
            let relative = module.replace('.', "/");
            let location = if root.is_empty() {
                relative
            } else {
                format!("{root}/{relative}")
            };
            Some(Registered {
                family,
                key: caps.name("key")?.as_str().to_string(),
                unit: module.rsplit('.').next().unwrap_or(&module).to_string(),
                class: caps.name("class").map(|c| c.as_str().to_string()),
                module,
                location,
            })
        })
        .collect()
}

/// What is known about units at the merge-base, the fork and the target.
#[derive(Debug, Default)]
pub struct UnitIndex {
    /// Registered modules (any side), longest location first so nested packages win.
    registered: Vec<Registered>,
    /// Registered locations (a module without `.py`, or a package directory) → entry index.
    by_location: HashMap<String, usize>,
    /// Per family: units registered at the merge-base; None when the base has no registration file.
    base_registered: Vec<Option<HashSet<String>>>,
    base_units: HashSet<(usize, String)>,
    fork_units: HashSet<(usize, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub class: ChangeClass,
    pub unit: Option<String>,
    pub family: Option<usize>,
    /// Human-readable: which rule decided, for `explain` and the `rule` field.
    pub rule: String,
    pub registers: Vec<String>,
}

impl UnitIndex {
    /// `registrations[side]` holds the entries parsed at base (0), fork (1) and target (2);
    /// `base_files`/`fork_files` list the trees' paths.
    pub fn new<'a>(
        pack: &Pack,
        registrations: [Vec<Registered>; 3],
        base_has_registration: Vec<bool>,
        base_files: impl Iterator<Item = &'a str>,
        fork_files: impl Iterator<Item = &'a str>,
    ) -> UnitIndex {
        let mut index = UnitIndex {
            base_registered: base_has_registration
                .iter()
                .enumerate()
                .map(|(family, known)| {
                    known.then(|| {
                        registrations[0]
                            .iter()
                            .filter(|r| r.family == family)
                            .map(|r| r.unit.clone())
                            .collect()
                    })
                })
                .collect(),
            ..UnitIndex::default()
        };
        let mut seen = BTreeSet::new();
        for entry in registrations.iter().flatten() {
            let family = &pack.families[entry.family];
            let inside = entry
                .location
                .starts_with(&format!("{}/", family.path.base_dir()));
            if inside && seen.insert(entry.location.clone()) {
                index.registered.push(entry.clone());
            }
        }
        index.registered.sort_by(|a, b| a.location.cmp(&b.location));
        index.by_location = index
            .registered
            .iter()
            .enumerate()
            .map(|(position, entry)| (entry.location.clone(), position))
            .collect();
        // A package's `__init__.py` alone does not make its directory a unit.
        let counts = |path: &&str| !is_init(path);
        for path in base_files.filter(counts) {
            if let Some((family, unit)) = index.unit_of(pack, path) {
                index.base_units.insert((family, unit));
            }
        }
        for path in fork_files.filter(counts) {
            if let Some((family, unit)) = index.unit_of(pack, path) {
                index.fork_units.insert((family, unit));
            }
        }
        index
    }

    /// The unit a path belongs to: a registered module's files first, then the family pattern.
    pub fn unit_of(&self, pack: &Pack, path: &str) -> Option<(usize, String)> {
        // The registered module file itself, then the innermost registered package above it
        // (so that `atlassian/confluence/` wins over `atlassian/`).
        let module = pack
            .families
            .iter()
            .filter_map(|f| path.strip_suffix(f.module_suffix.as_str()))
            .find_map(|m| self.by_location.get(m));
        let package = || {
            let mut dir = path;
            while let Some((parent, _)) = dir.rsplit_once('/') {
                if let Some(found) = self.by_location.get(parent) {
                    return Some(found);
                }
                dir = parent;
            }
            None
        };
        if let Some(&position) = module.or_else(package) {
            let entry = &self.registered[position];
            return Some((entry.family, entry.unit.clone()));
        }
        // `__init__.py` beside the modules is the package's own, not a unit `__init__`.
        pack.families
            .iter()
            .enumerate()
            .find_map(|(index, family)| {
                family
                    .path
                    .match_path(path)
                    .filter(|unit| !(unit.starts_with("__") && unit.ends_with("__")))
                    .map(|unit| (index, unit.to_string()))
            })
    }

    pub fn exists_at_base(&self, family: usize, unit: &str) -> bool {
        self.base_units.contains(&(family, unit.to_string()))
    }

    pub fn exists_at_fork(&self, family: usize, unit: &str) -> bool {
        self.fork_units.contains(&(family, unit.to_string()))
    }

    /// An upstream module in the sources directory that the upstream never registered.
    pub fn is_helper(&self, family: usize, unit: &str) -> bool {
        self.exists_at_base(family, unit)
            && self.base_registered[family]
                .as_ref()
                .is_some_and(|registered| !registered.contains(unit))
    }

    pub fn key_of(&self, family: usize, unit: &str) -> Option<&str> {
        self.registered
            .iter()
            .find(|r| r.family == family && r.unit == unit)
            .map(|r| r.key.as_str())
    }

    pub fn unit_of_key(&self, family: usize, key: &str) -> Option<&str> {
        self.registered
            .iter()
            .find(|r| r.family == family && r.key == key)
            .map(|r| r.unit.as_str())
    }

    pub fn registered(&self) -> &[Registered] {
        &self.registered
    }
}

/// A package's `__init__.py`.
fn is_init(path: &str) -> bool {
    path.rsplit('/').next() == Some("__init__.py")
}

/// How the lines of a registration file changed: `None` when the path is no registration
/// file; otherwise whether every changed line is a registration, and the keys it touches.
pub struct RegistrationEdit {
    pub only_registrations: bool,
    pub keys: Vec<String>,
}

pub fn registration_edit(
    pack: &Pack,
    path: &str,
    old: &str,
    new: &str,
) -> Option<RegistrationEdit> {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let Some(family) = pack
        .families
        .iter()
        .find(|f| f.registration.as_ref().is_some_and(|r| r.path == path))
    else {
        // A registration path `.forkdrift.toml` declares has no entry pattern: lines only
        // added there are registrations, anything else edits upstream's code.
        if !pack.is_own_registration(path) {
            return None;
        }
        let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &old_lines, &new_lines);
        let only_added = ops.iter().all(|op| {
            op.old_range().all(|at| {
                old_lines[at].trim().is_empty() || matches!(op, similar::DiffOp::Equal { .. })
            })
        });
        return Some(RegistrationEdit {
            only_registrations: only_added,
            keys: Vec::new(),
        });
    };
    let registration = family.registration.as_ref().expect("found above");
    let mut only = true;
    let mut keys = BTreeSet::new();
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &old_lines, &new_lines);
    for op in ops {
        let (old_range, new_range) = (op.old_range(), op.new_range());
        if matches!(op, similar::DiffOp::Equal { .. }) {
            continue;
        }
        for line in old_lines[old_range].iter().chain(&new_lines[new_range]) {
            if line.trim().is_empty() {
                continue;
            }
            match registration.line.captures(line).and_then(|c| c.name("key")) {
                Some(key) => {
                    keys.insert(key.as_str().to_string());
                }
                None => only = false,
            }
        }
    }
    Some(RegistrationEdit {
        only_registrations: only,
        keys: keys.into_iter().collect(),
    })
}

/// Classifies one changed path.
///
/// `deleted` says the path no longer exists in the fork; `kind` what the entry is (a
/// submodule or a symlink is never a connector unit: the zones decide, and the rule says so);
/// `registration` is the result of [`registration_edit`] when the path is a registration file.
pub fn classify(
    pack: &Pack,
    index: &UnitIndex,
    path: &str,
    deleted: bool,
    kind: EntryKind,
    registration: Option<&RegistrationEdit>,
) -> Decision {
    let what = match kind {
        EntryKind::File => None,
        EntryKind::Symlink => Some("symlink (mode 120000), not a connector unit"),
        EntryKind::Submodule => Some(
            "submodule (gitlink, mode 160000): a commit of another repository, never a connector unit",
        ),
    };
    if let Some(what) = what {
        let mut decision = by_zone(pack, path);
        decision.rule = format!("{what}; {}", decision.rule);
        return decision;
    }
    if let Some(edit) = registration {
        return if edit.only_registrations {
            Decision {
                class: ChangeClass::Registration,
                unit: None,
                family: None,
                rule: "registration file: every changed line is a registration entry".into(),
                registers: edit.keys.clone(),
            }
        } else {
            Decision {
                class: ChangeClass::Framework,
                unit: None,
                family: None,
                rule: "registration file: lines other than registration entries changed".into(),
                registers: edit.keys.clone(),
            }
        };
    }

    // A file the fork adds where `.forkdrift.toml` says plug-ins are registered registers one
    // (telegraf's `plugins/inputs/all/acme.go`); removing one edits upstream's registrations.
    if pack.is_own_registration(path) {
        return Decision {
            class: if deleted {
                ChangeClass::Framework
            } else {
                ChangeClass::Registration
            },
            unit: None,
            family: None,
            rule: if deleted {
                "registration path (.forkdrift.toml): an upstream file removed".into()
            } else {
                "registration path (.forkdrift.toml): a file added".into()
            },
            registers: Vec::new(),
        };
    }

    // A package's `__init__.py` makes no unit of a directory that has nothing else and that
    // no registration names.
    let unit_of = index.unit_of(pack, path).filter(|(family, unit)| {
        !is_init(path)
            || index.exists_at_base(*family, unit)
            || index.exists_at_fork(*family, unit)
            || index.key_of(*family, unit).is_some()
    });
    if let Some((family, unit)) = unit_of {
        let layout = &pack.families[family].layout;
        let pattern = &pack.families[family].path.text;
        if index.is_helper(family, &unit) {
            return Decision {
                class: ChangeClass::Framework,
                unit: None,
                family: Some(family),
                rule: format!(
                    "{pattern} ({layout}): `{unit}` exists upstream but is not registered: a shared helper"
                ),
                registers: Vec::new(),
            };
        }
        let (class, why) = if !index.exists_at_base(family, &unit) {
            (
                ChangeClass::ConnectorAdded,
                "not in the upstream at the merge-base",
            )
        } else if deleted && !index.exists_at_fork(family, &unit) {
            (
                ChangeClass::ConnectorDeleted,
                "an upstream unit the fork removed",
            )
        } else {
            (
                ChangeClass::ConnectorModified,
                "an upstream unit edited in place",
            )
        };
        return Decision {
            class,
            unit: Some(unit.clone()),
            family: Some(family),
            rule: format!("{pattern} ({layout}): unit `{unit}`, {why}"),
            registers: Vec::new(),
        };
    }

    for (family_index, family) in pack.families.iter().enumerate() {
        for template in &family.tests {
            if let Some(name) = template.match_path(path) {
                let unit = if template.placeholder == "key" {
                    index
                        .unit_of_key(family_index, name)
                        .unwrap_or(name)
                        .to_string()
                } else {
                    name.to_string()
                };
                return Decision {
                    class: ChangeClass::Test,
                    unit: Some(unit.clone()),
                    family: Some(family_index),
                    rule: format!(
                        "test template {} ({}): tests of `{unit}`",
                        template.text, family.layout
                    ),
                    registers: Vec::new(),
                };
            }
        }
    }

    by_zone(pack, path)
}

/// The class the zones give a path (first match), else `other`.
fn by_zone(pack: &Pack, path: &str) -> Decision {
    if let Some((index, zone)) = pack.zone(path) {
        let glob = zone
            .globs
            .iter()
            .find(|g| crate::rules::glob(g).is_some_and(|m| m.is_match(path)))
            .cloned()
            .unwrap_or_default();
        let note = zone
            .note
            .as_ref()
            .map(|n| format!(" — {n}"))
            .unwrap_or_default();
        return Decision {
            class: zone.kind.class(),
            unit: None,
            family: None,
            rule: format!("zone #{} `{glob}`{note}", index + 1),
            registers: Vec::new(),
        };
    }

    Decision {
        class: ChangeClass::Other,
        unit: None,
        family: None,
        rule: "no zone matches".into(),
        registers: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
    "sources": {
        "mysql": "connectors.sources.mysql:MySqlDataSource",
        "dir": "connectors.sources.directory:DirectoryDataSource",
        "s3": "connectors.sources.s3:S3DataSource",
    }
"#;

    /// The elastic-connectors pack over a small 9.2-layout tree: mysql, directory and s3 are
    /// registered upstream, generic_database is an unregistered helper, acme is the fork's.
    fn index(pack: &Pack) -> UnitIndex {
        let base = parse_registrations(pack, 0, CONFIG);
        let fork = parse_registrations(
            pack,
            0,
            &CONFIG.replace(
                "\"dir\"",
                "\"acme\": \"connectors.sources.acme:AcmeDataSource\",\n        \"dir\"",
            ),
        );
        let base_files = [
            "connectors/config.py",
            "connectors/sources/mysql.py",
            "connectors/sources/directory.py",
            "connectors/sources/generic_database.py",
            "connectors/sources/s3.py",
        ];
        let fork_files = [
            "connectors/config.py",
            "connectors/sources/mysql.py",
            "connectors/sources/directory.py",
            "connectors/sources/generic_database.py",
            "connectors/sources/acme.py",
        ];
        UnitIndex::new(
            pack,
            [base, fork, Vec::new()],
            vec![true, false],
            base_files.into_iter(),
            fork_files.into_iter(),
        )
    }

    fn edit(only_registrations: bool) -> RegistrationEdit {
        RegistrationEdit {
            only_registrations,
            keys: vec!["acme".into()],
        }
    }

    /// The decision order: registration file, unit families (helpers are framework), unit
    /// test templates, zones, other.
    #[test]
    fn decision_order() {
        let pack = Pack::builtin("elastic-connectors").unwrap();
        let index = index(&pack);
        let only = edit(true);
        let mixed = edit(false);
        // (path, deleted in the fork, registration edit, class, unit)
        type Case<'a> = (
            &'a str,
            bool,
            Option<&'a RegistrationEdit>,
            ChangeClass,
            Option<&'a str>,
        );
        let cases: &[Case] = &[
            (
                "connectors/config.py",
                false,
                Some(&only),
                ChangeClass::Registration,
                None,
            ),
            (
                "connectors/config.py",
                false,
                Some(&mixed),
                ChangeClass::Framework,
                None,
            ),
            (
                "connectors/sources/mysql.py",
                false,
                None,
                ChangeClass::ConnectorModified,
                Some("mysql"),
            ),
            (
                "connectors/sources/directory.py",
                false,
                None,
                ChangeClass::ConnectorModified,
                Some("directory"),
            ),
            (
                "connectors/sources/acme.py",
                false,
                None,
                ChangeClass::ConnectorAdded,
                Some("acme"),
            ),
            (
                "connectors/sources/s3.py",
                true,
                None,
                ChangeClass::ConnectorDeleted,
                Some("s3"),
            ),
            (
                "connectors/sources/generic_database.py",
                false,
                None,
                ChangeClass::Framework,
                None,
            ),
            (
                "tests/sources/test_mysql.py",
                false,
                None,
                ChangeClass::Test,
                Some("mysql"),
            ),
            (
                "tests/sources/fixtures/dir/docker-compose.yml",
                false,
                None,
                ChangeClass::Test,
                Some("directory"),
            ),
            ("tests/test_sink.py", false, None, ChangeClass::Test, None),
            ("docs/DEVELOPING.md", false, None, ChangeClass::Docs, None),
            (
                "connectors/es/client.py",
                false,
                None,
                ChangeClass::Framework,
                None,
            ),
            ("config.yml", false, None, ChangeClass::Other, None),
        ];
        for (path, deleted, registration, class, unit) in cases {
            let decision = classify(
                &pack,
                &index,
                path,
                *deleted,
                EntryKind::File,
                *registration,
            );
            assert_eq!(
                (decision.class, decision.unit.as_deref()),
                (*class, *unit),
                "{path}: {}",
                decision.rule
            );
        }
    }

    #[test]
    fn registration_edits_tell_entries_from_other_lines() {
        let pack = Pack::builtin("elastic-connectors").unwrap();
        let added = CONFIG.replace(
            "\"dir\"",
            "\"acme\": \"connectors.sources.acme:AcmeDataSource\",\n        \"dir\"",
        );
        let edit = registration_edit(&pack, "connectors/config.py", CONFIG, &added).unwrap();
        assert!(edit.only_registrations);
        assert_eq!(edit.keys, vec!["acme".to_string()]);
        let tuned = CONFIG.replace("\"sources\"", "\"timeout\": 30,\n    \"sources\"");
        let edit = registration_edit(&pack, "connectors/config.py", CONFIG, &tuned).unwrap();
        assert!(!edit.only_registrations);
        assert!(registration_edit(&pack, "connectors/es/client.py", "a", "b").is_none());
    }
}
