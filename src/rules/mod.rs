//! Rule packs: what an upstream project looks like, as data (`rules/*.toml`, format in
//! `docs/rule-packs.md`). A pack declares zones (globs → kind), unit families (where a
//! plug-in lives, how it is registered, where its tests go), severities, protocol anchors,
//! the version scheme and the upgrade checklist. Loading validates everything and points a
//! miette diagnostic at the offending line.

mod file;
pub mod pattern;

use file::PackFile;

use crate::catalog::{CATALOG, Kind};
use crate::error::{Error, Result};
use crate::model::{ChangeClass, Severity};
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use pattern::UnitPattern;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// A compiled, validated pack.
#[derive(Debug)]
pub struct Pack {
    pub name: String,
    pub description: String,
    /// `builtin` or the file it was read from.
    pub origin: String,
    pub source_text: String,
    pub upstream_url: Option<String>,
    pub release_notes: Option<String>,
    pub detect: Vec<String>,
    pub families: Vec<UnitFamily>,
    pub zones: Vec<Zone>,
    zone_set: GlobSet,
    /// Which zone each glob of `zone_set` belongs to.
    zone_of_glob: Vec<usize>,
    pub severities: BTreeMap<Kind, Severity>,
    pub protocol: Protocol,
    pub versions: Option<Versions>,
    pub plan: PlanRules,
    pub changelog: Option<Changelog>,
    pub deps: Option<DepsRules>,
    /// Globs of Python requirement files (`requirements/*.txt`, `pyproject.toml`) whose pins the
    /// fork should not change.
    pub pins: Vec<String>,
    /// Registration paths `.forkdrift.toml` declares (`[own] registration`), for packs without
    /// a registration file of their own.
    pub own_registration: Vec<globset::GlobMatcher>,
}

/// Gems that must move together (`[deps]`): which ones, which of their minor series go
/// together, and where the fork's lock and gemspecs are.
#[derive(Debug, Default)]
pub struct DepsRules {
    /// The gem the upstream's release tags version, if the upstream is one of the coupled gems.
    pub gem: Option<String>,
    pub lockfiles: Vec<String>,
    /// Globs of the fork's gemspecs, whose runtime constraints must admit the locked versions.
    pub gemspecs: Vec<String>,
    pub coupled: Vec<String>,
    /// Old name → current name (`rdkafka` → `karafka-rdkafka`).
    pub renamed: BTreeMap<String, String>,
    /// The update command the gems to move are appended to: `bundle update`.
    pub command: String,
    /// Rows of compatible minor series: gem → the minors (`0.9`, `0.10`) of one row.
    pub series: Vec<BTreeMap<String, Vec<String>>>,
}

/// A family of plug-ins ("data sources") in one layout of the upstream.
#[derive(Debug)]
pub struct UnitFamily {
    pub layout: String,
    pub path: UnitPattern,
    pub tests: Vec<UnitPattern>,
    pub registration: Option<Registration>,
    /// Prefix that turns a registered module (`connectors.sources.mysql`) into a path.
    pub module_root: String,
    /// What a module's file name ends in (`.py`): `connectors/sources/mysql.py` is module
    /// `connectors.sources.mysql`.
    pub module_suffix: String,
    /// Finds the project module a source line imports (group `module`, dot- or
    /// slash-separated), for the broken-import check of copies.
    pub import: Option<Regex>,
    /// Finds a unit's class-name stem (`MySql` in `MySqlDataSource`, group `name`), so that a
    /// copy whose classes were renamed apart from its file still compares as a copy.
    pub class_name: Option<Regex>,
}

#[derive(Debug)]
pub struct Registration {
    pub path: String,
    /// Named groups: `key`, `module`, optionally `class`.
    pub line: Regex,
    /// How to write a registration for a new unit: `{key}`, `{module}`, `{class}`.
    pub template: Option<String>,
}

#[derive(Debug)]
pub struct Zone {
    pub kind: ZoneKind,
    pub globs: Vec<String>,
    pub note: Option<String>,
    /// A finding raised for any fork change in this zone.
    pub warn: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZoneKind {
    Framework,
    Test,
    Docs,
    Build,
    Other,
}

impl ZoneKind {
    pub fn class(self) -> ChangeClass {
        match self {
            ZoneKind::Framework => ChangeClass::Framework,
            ZoneKind::Test => ChangeClass::Test,
            ZoneKind::Docs => ChangeClass::Docs,
            ZoneKind::Build => ChangeClass::Build,
            ZoneKind::Other => ChangeClass::Other,
        }
    }
}

#[derive(Debug)]
pub struct Protocol {
    /// In documents, a line that opens an enum's list of values and names it (group `name`).
    pub enum_marker: Regex,
    pub documents: Vec<DocumentAnchor>,
    pub values: Vec<ValueAnchor>,
    pub files: Vec<FileAnchor>,
}

/// A document whose schema lives in code blocks (fields, types, enum lists, mappings).
#[derive(Debug)]
pub struct DocumentAnchor {
    pub name: String,
    pub paths: Vec<String>,
}

/// Values extracted from code by pattern, compared as values.
#[derive(Debug)]
pub struct ValueAnchor {
    pub name: String,
    pub paths: Vec<String>,
    /// Opens a named scope (`class JobStatus(Enum):`); group `scope`.
    pub scope: Option<Regex>,
    /// Group `name` and `value`; quotes around the value are not part of it.
    pub value: Regex,
}

/// Whole files: any change is a warn-only signal.
#[derive(Debug)]
pub struct FileAnchor {
    pub name: String,
    pub paths: Vec<String>,
}

#[derive(Debug)]
pub struct Versions {
    pub scheme: VersionScheme,
    /// Release tags; group `version`.
    pub tags: Regex,
    /// Release branches on the upstream remote; group `version`.
    pub branches: Option<Regex>,
    /// Files that state the version; group `version`.
    pub sources: Vec<(String, Regex)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionScheme {
    /// Numeric dot-separated parts (`8.10.0.0`, `8.16.0`), pre-releases (`-rc1`) before the release.
    Dotted,
    /// Ruby gem versions: `1.0.0.rc2 < 1.0.0`, `0.11.10 > 0.11.9`.
    Gem,
}

#[derive(Debug, Default)]
pub struct PlanRules {
    pub checklist: Vec<String>,
    /// Packages upgraded together (Karafka's lockstep gems).
    pub coupled: Vec<String>,
    pub command: Option<String>,
}

#[derive(Debug)]
pub struct Changelog {
    pub path: String,
    pub section: Regex,
    pub breaking: Regex,
}

impl Pack {
    pub fn severity(&self, kind: Kind) -> Severity {
        self.severities
            .get(&kind)
            .copied()
            .unwrap_or_else(|| kind.default_severity())
    }

    /// The first zone whose globs match `path`.
    pub fn zone(&self, path: &str) -> Option<(usize, &Zone)> {
        let index = self
            .zone_set
            .matches(path)
            .into_iter()
            .map(|g| self.zone_of_glob[g])
            .min()?;
        Some((index, &self.zones[index]))
    }

    pub fn builtin_names() -> Vec<String> {
        builtins().map(|(name, _)| name).collect()
    }

    pub fn builtin(name: &str) -> Result<Pack> {
        let (_, text) = builtins()
            .find(|(n, _)| n == name)
            .ok_or_else(|| Error::UnknownPack {
                name: name.to_string(),
                known: Pack::builtin_names().join(", "),
            })?;
        Pack::parse(name, &text, "builtin")
    }

    /// `--rules NAME|FILE`: a path if it names an existing file or ends in `.toml`.
    pub fn load(spec: &str) -> Result<Pack> {
        let path = Path::new(spec);
        if spec.ends_with(".toml") || path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                context: format!("could not read rule pack {spec}"),
                source,
            })?;
            Pack::parse(spec, &text, spec)
        } else {
            // A built-in pack's name wins over a directory of that name where forkdrift runs
            // (a karafka fork has a karafka/ directory).
            Pack::builtin(spec).map_err(|unknown| {
                if path.is_dir() {
                    Error::Usage {
                        message: format!("--rules {spec}: that is a directory, not a rule pack"),
                        help: "name a built-in pack (`forkdrift rules list`) or a pack file, path/to/pack.toml".into(),
                    }
                } else {
                    unknown
                }
            })
        }
    }

    pub fn parse(display_name: &str, text: &str, origin: &str) -> Result<Pack> {
        let fail = |message: String,
                    span: Option<std::ops::Range<usize>>,
                    label: &str,
                    help: Option<String>| {
            crate::error::FileError::error(
                crate::error::FileKind::Pack,
                display_name,
                text,
                message,
                span,
                label,
                // Every diagnostic has a help line: the format reference at least.
                help.unwrap_or_else(|| "see docs/rule-packs.md for the pack format".into()),
            )
        };
        let file: PackFile = toml::from_str(text).map_err(|e| {
            fail(
                e.message().to_string(),
                e.span(),
                "here",
                Some("see docs/rule-packs.md for the pack format".into()),
            )
        })?;
        let span_err = |spanned_span: std::ops::Range<usize>, message: String| {
            fail(message, Some(spanned_span), "invalid", None)
        };

        if origin == "builtin" && file.name.get_ref() != display_name {
            return Err(fail(
                format!(
                    "the pack is named `{}` but its file is {display_name}.toml",
                    file.name.get_ref()
                ),
                Some(file.name.span()),
                "must equal the file name",
                None,
            ));
        }

        let regex = |s: &Spanned<String>| {
            Regex::new(s.get_ref()).map_err(|e| {
                fail(
                    e.to_string(),
                    Some(s.span()),
                    "invalid",
                    Some("patterns are Rust regular expressions (the regex crate's syntax; no look-around): escape literal `(`, `[`, `{`, `.` with `\\`; see docs/rule-packs.md".into()),
                )
            })
        };
        let need_groups = |s: &Spanned<String>, re: &Regex, groups: &[&str]| -> Result<()> {
            for group in groups {
                if !re.capture_names().any(|n| n == Some(group)) {
                    return Err(span_err(
                        s.span(),
                        format!("the pattern needs a named group `(?P<{group}>…)`"),
                    ));
                }
            }
            Ok(())
        };

        let mut families = Vec::new();
        for family in &file.units {
            let path = UnitPattern::parse(family.path.get_ref())
                .map_err(|m| span_err(family.path.span(), m))?;
            if path.placeholder != "unit" {
                return Err(span_err(
                    family.path.span(),
                    "a unit path uses {unit}".into(),
                ));
            }
            let tests = family
                .tests
                .iter()
                .map(|t| UnitPattern::parse(t.get_ref()).map_err(|m| span_err(t.span(), m)))
                .collect::<Result<Vec<_>>>()?;
            let registration = match &family.registration {
                Some(reg) => {
                    let line = regex(&reg.line)?;
                    need_groups(&reg.line, &line, &["key", "module"])?;
                    Some(Registration {
                        path: reg.path.clone(),
                        line,
                        template: reg.template.clone(),
                    })
                }
                None => None,
            };
            let class_name = match &family.class_name {
                Some(pattern) => {
                    let re = regex(pattern)?;
                    need_groups(pattern, &re, &["name"])?;
                    Some(re)
                }
                None => None,
            };
            let import = match &family.import {
                Some(pattern) => {
                    let re = regex(pattern)?;
                    need_groups(pattern, &re, &["module"])?;
                    Some(re)
                }
                None => None,
            };
            families.push(UnitFamily {
                class_name,
                import,
                module_suffix: family.module_suffix.clone().unwrap_or_default(),
                layout: family.layout.clone(),
                path,
                tests,
                registration,
                module_root: family.module_root.clone().unwrap_or_default(),
            });
        }

        let mut zones = Vec::new();
        let mut zone_set = GlobSetBuilder::new();
        let mut zone_of_glob = Vec::new();
        for (index, zone) in file.zones.iter().enumerate() {
            for glob in &zone.paths {
                let compiled = GlobBuilder::new(glob.get_ref())
                    .literal_separator(true)
                    .build()
                    .map_err(|e| span_err(glob.span(), e.kind().to_string()))?;
                zone_set.add(compiled);
                zone_of_glob.push(index);
            }
            zones.push(Zone {
                kind: zone.kind,
                globs: zone.paths.iter().map(|g| g.get_ref().clone()).collect(),
                note: zone.note.clone(),
                warn: zone.warn.clone(),
            });
        }
        let zone_set = zone_set
            .build()
            .map_err(|e| fail(e.to_string(), None, "", None))?;

        let mut severities = BTreeMap::new();
        for (key, level) in &file.severities {
            let Some(kind) = Kind::from_key(key.get_ref()) else {
                let known: Vec<&str> = CATALOG.iter().map(|e| e.key).collect();
                return Err(fail(
                    format!("unknown finding kind `{}`", key.get_ref()),
                    Some(key.span()),
                    "not a finding kind",
                    Some(format!("the kinds are: {}", known.join(", "))),
                ));
            };
            let severity = match level.get_ref().as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "note" => Severity::Note,
                "off" => Severity::Off,
                other => {
                    return Err(span_err(
                        level.span(),
                        format!("unknown severity `{other}`: use error, warning, note or off"),
                    ));
                }
            };
            severities.insert(kind, severity);
        }

        let enum_marker = match &file.protocol.enum_marker {
            Some(pattern) => {
                let re = regex(pattern)?;
                need_groups(pattern, &re, &["name"])?;
                re
            }
            None => Regex::new(crate::analysis::protocol::ENUM_MARKER).expect("static pattern"),
        };
        let mut protocol = Protocol {
            enum_marker,
            documents: Vec::new(),
            values: Vec::new(),
            files: Vec::new(),
        };
        for document in &file.protocol.document {
            protocol.documents.push(DocumentAnchor {
                name: document.name.clone(),
                paths: document.paths.clone(),
            });
        }
        for values in &file.protocol.values {
            let value = regex(&values.value)?;
            need_groups(&values.value, &value, &["name", "value"])?;
            let scope = match &values.scope {
                Some(s) => {
                    let re = regex(s)?;
                    need_groups(s, &re, &["scope"])?;
                    Some(re)
                }
                None => None,
            };
            protocol.values.push(ValueAnchor {
                name: values.name.clone(),
                paths: values.paths.clone(),
                scope,
                value,
            });
        }
        for files in &file.protocol.files {
            protocol.files.push(FileAnchor {
                name: files.name.clone(),
                paths: files.paths.clone(),
            });
        }

        let versions = match &file.versions {
            Some(v) => {
                let tags = regex(&v.tags)?;
                need_groups(&v.tags, &tags, &["version"])?;
                let branches = match &v.branches {
                    Some(b) => {
                        let re = regex(b)?;
                        need_groups(b, &re, &["version"])?;
                        Some(re)
                    }
                    None => None,
                };
                let mut sources = Vec::new();
                for source in &v.source {
                    let re = regex(&source.regex)?;
                    need_groups(&source.regex, &re, &["version"])?;
                    sources.push((source.path.clone(), re));
                }
                Some(Versions {
                    scheme: v.scheme,
                    tags,
                    branches,
                    sources,
                })
            }
            None => None,
        };

        let changelog = match &file.changelog {
            Some(c) => {
                let section = regex(&c.section)?;
                need_groups(&c.section, &section, &["version"])?;
                Some(Changelog {
                    path: c.path.clone(),
                    section,
                    breaking: regex(&c.breaking)?,
                })
            }
            None => None,
        };

        let deps = match &file.deps {
            Some(d) => {
                let coupled: Vec<String> = d.coupled.iter().map(|g| g.get_ref().clone()).collect();
                let known = |gem: &Spanned<String>| -> Result<()> {
                    if coupled.contains(gem.get_ref()) {
                        Ok(())
                    } else {
                        Err(span_err(
                            gem.span(),
                            format!("`{}` is not one of the coupled gems", gem.get_ref()),
                        ))
                    }
                };
                if let Some(gem) = &d.gem {
                    known(gem)?;
                }
                for current in d.renamed.values() {
                    known(current)?;
                }
                let mut series = Vec::new();
                for row in &d.series {
                    let mut minors = BTreeMap::new();
                    for (gem, versions) in row {
                        known(gem)?;
                        let mut list = Vec::new();
                        for version in versions.items() {
                            if crate::analysis::versions::Version::parse(version).is_none() {
                                return Err(span_err(
                                    gem.span(),
                                    format!("`{version}` is not a series such as \"2.4\""),
                                ));
                            }
                            list.push(version.clone());
                        }
                        minors.insert(gem.get_ref().clone(), list);
                    }
                    series.push(minors);
                }
                Some(DepsRules {
                    gem: d.gem.as_ref().map(|g| g.get_ref().clone()),
                    lockfiles: d.lockfiles.clone(),
                    gemspecs: d.gemspecs.clone(),
                    coupled,
                    renamed: d
                        .renamed
                        .iter()
                        .map(|(old, new)| (old.clone(), new.get_ref().clone()))
                        .collect(),
                    command: d.command.clone(),
                    series,
                })
            }
            None => None,
        };

        Ok(Pack {
            deps,
            pins: file.pins,
            own_registration: Vec::new(),
            name: file.name.into_inner(),
            description: file.description,
            origin: origin.to_string(),
            source_text: text.to_string(),
            upstream_url: file.upstream_url,
            release_notes: file.release_notes,
            detect: file.detect,
            families,
            zones,
            zone_set,
            zone_of_glob,
            severities,
            protocol,
            versions,
            plan: PlanRules {
                checklist: file.plan.checklist,
                coupled: file.plan.coupled,
                command: file.plan.command,
            },
            changelog,
        })
    }

    /// Adds what a fork declares its own in `.forkdrift.toml` as unit families after the
    /// pack's own, so a pack's layout still wins where both describe a path.
    pub fn add_own(&mut self, own: &crate::config::Own) -> Result<()> {
        let invalid = |pattern: &str, message: String| Error::Usage {
            message: format!("invalid own path `{pattern}` in .forkdrift.toml: {message}"),
            help: "see docs/configuration.md".into(),
        };
        let declared = own
            .units
            .iter()
            .map(|u| (u, UnitPattern::parse(u), "own units (.forkdrift.toml)"))
            .chain(
                own.paths
                    .iter()
                    .map(|p| (p, UnitPattern::own_path(p), "own paths (.forkdrift.toml)")),
            );
        for pattern in &own.registration {
            self.own_registration
                .push(glob(pattern).ok_or_else(|| invalid(pattern, "not a glob".into()))?);
        }
        for (text, pattern, layout) in declared {
            self.families.push(UnitFamily {
                layout: layout.into(),
                path: pattern.map_err(|m| invalid(text, m))?,
                tests: Vec::new(),
                registration: None,
                module_root: String::new(),
                module_suffix: String::new(),
                import: None,
                class_name: None,
            });
        }
        Ok(())
    }

    /// Whether `.forkdrift.toml` declares `path` a registration path.
    pub fn is_own_registration(&self, path: &str) -> bool {
        self.own_registration.iter().any(|g| g.is_match(path))
    }

    /// Which built-in pack fits an upstream tree best: the one with most `detect` paths present.
    pub fn detect(exists: impl Fn(&str) -> bool) -> Option<String> {
        // Only the `detect` lists: compiling every pack's patterns to pick one took longer
        // than reading the fork's own commits.
        #[derive(Deserialize)]
        struct Detect {
            #[serde(default)]
            detect: Vec<String>,
        }
        builtins()
            .filter_map(|(name, text)| {
                let pack: Detect = toml::from_str(&text).ok()?;
                let hits = pack.detect.iter().filter(|p| exists(p)).count();
                (hits > 0).then_some((hits, name))
            })
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
            .map(|(_, name)| name)
    }
}

fn builtins() -> impl Iterator<Item = (String, String)> {
    crate::embedded::RULES.iter().filter_map(|(path, bytes)| {
        let name = path.strip_suffix(".toml")?;
        Some((
            name.to_string(),
            String::from_utf8_lossy(bytes).into_owned(),
        ))
    })
}

/// Glob matching for ad-hoc path lists (`detect`, anchors), with `*` kept inside a segment.
pub fn glob(pattern: &str) -> Option<globset::GlobMatcher> {
    Glob::new(pattern).ok()?;
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}
