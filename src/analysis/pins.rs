//! Python dependency pins the fork changed against upstream: `requirements/*.txt` (elastic up
//! to 9.2) and `pyproject.toml` dependency lists (9.3+), compared per package between the fork
//! point, the fork and the target, whichever file each tree keeps them in — a pin moved from
//! `requirements/framework.txt` to `app/connectors_service/pyproject.toml` is the same pin.

use crate::catalog::Kind;
use crate::error::Result;
use crate::facts::{Facts, Files, Objects, TreeId};
use crate::model::{Finding, PinChange};
use std::collections::BTreeMap;

use super::findings::{FindingBuilder, NewFinding};

/// Package (normalised: lower case, `_` and `.` as `-`) → (requirement, file).
pub type Pins = BTreeMap<String, (String, String)>;

/// The pins of one requirements line (`aiohttp[speedups]==3.9.5 ; python_version < "3.12"`);
/// None for comments, options (`-r base.txt`) and blank lines.
pub fn requirement_line(line: &str) -> Option<(String, String)> {
    let line = line.split(" #").next()?.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
        return None;
    }
    let line = line.split(';').next()?.trim();
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(line.len());
    let name = &line[..end];
    if name.is_empty() {
        return None;
    }
    let mut rest = line[end..].trim_start();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r).trim_start();
    }
    Some((normalise(name), rest.replace(' ', "")))
}

fn normalise(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// `[project] dependencies` and `[project.optional-dependencies]` of a pyproject.toml.
pub fn pyproject(text: &str) -> Vec<(String, String)> {
    let Ok(value) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let Some(project) = value.get("project").and_then(|p| p.as_table()) else {
        return Vec::new();
    };
    let mut lines: Vec<&str> = Vec::new();
    if let Some(deps) = project.get("dependencies").and_then(|d| d.as_array()) {
        lines.extend(deps.iter().filter_map(|d| d.as_str()));
    }
    if let Some(groups) = project
        .get("optional-dependencies")
        .and_then(|d| d.as_table())
    {
        for group in groups.values().filter_map(|g| g.as_array()) {
            lines.extend(group.iter().filter_map(|d| d.as_str()));
        }
    }
    lines.into_iter().filter_map(requirement_line).collect()
}

/// Every pin of the files `globs` select, in path order (the first file naming a package wins).
pub fn pins_of(files: &[(String, String)]) -> Pins {
    let mut pins = Pins::new();
    for (path, text) in files {
        let entries = if path.ends_with(".toml") {
            pyproject(text)
        } else {
            text.lines().filter_map(requirement_line).collect()
        };
        for (name, requirement) in entries {
            pins.entry(name).or_insert((requirement, path.clone()));
        }
    }
    pins
}

/// Packages whose pin differs between the fork point and the fork, with the target's pin.
pub fn compare(old: &Pins, fork: &Pins, target: &Pins) -> Vec<PinChange> {
    let mut names: Vec<&String> = old.keys().chain(fork.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| old.get(*n).map(|p| &p.0) != fork.get(*n).map(|p| &p.0))
        .map(|name| PinChange {
            package: name.clone(),
            path: fork
                .get(name)
                .or_else(|| old.get(name))
                .map(|p| p.1.clone())
                .unwrap_or_default(),
            old: old.get(name).map(|p| p.0.clone()),
            fork: fork.get(name).map(|p| p.0.clone()),
            target: target.get(name).map(|p| p.0.clone()),
        })
        .collect()
}

fn read_pins(
    objects: &dyn Objects,
    tree: TreeId,
    files: &Files,
    globs: &[globset::GlobMatcher],
) -> Result<Pins> {
    let mut texts = Vec::new();
    for path in files.keys().filter(|p| globs.iter().any(|g| g.is_match(p))) {
        if let Some(bytes) = objects.read(tree, path)? {
            texts.push((path.clone(), String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok(pins_of(&texts))
}

/// The pins the fork changed against its fork point, and a finding for each.
pub fn check(facts: &Facts, objects: &dyn Objects) -> Result<(Vec<PinChange>, Vec<Finding>)> {
    let globs: Vec<_> = facts
        .pack
        .pins
        .iter()
        .filter_map(|g| crate::rules::glob(g))
        .collect();
    if globs.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let point_files = objects.files(facts.trees.fork_point)?;
    let old = read_pins(objects, facts.trees.fork_point, &point_files, &globs)?;
    let fork = read_pins(objects, facts.trees.fork, &facts.fork_files, &globs)?;
    let target = read_pins(objects, facts.trees.target, &facts.target_files, &globs)?;
    let changes = compare(&old, &fork, &target);
    let mut builder = FindingBuilder::new(&facts.pack);
    let none = "unpinned".to_string();
    for change in &changes {
        builder.add(NewFinding {
            kind: Kind::DependencyPin,
            key: &change.package,
            path: &change.path,
            unit: None,
            args: &[
                ("package", &change.package),
                ("fork", change.fork.as_ref().unwrap_or(&none)),
                ("old", change.old.as_ref().unwrap_or(&none)),
                ("target", change.target.as_ref().unwrap_or(&none)),
            ],
        });
    }
    Ok((changes, builder.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requirement_lines() {
        assert_eq!(
            requirement_line("aiohttp==3.8.5"),
            Some(("aiohttp".into(), "==3.8.5".into()))
        );
        assert_eq!(
            requirement_line("elasticsearch[async] == 8.18.0  # pinned for the client"),
            Some(("elasticsearch".into(), "==8.18.0".into()))
        );
        assert_eq!(
            requirement_line("Pyyaml>=6.0 ; python_version < \"3.12\""),
            Some(("pyyaml".into(), ">=6.0".into()))
        );
        assert_eq!(
            requirement_line("httpx_ntlm"),
            Some(("httpx-ntlm".into(), "".into()))
        );
        assert_eq!(requirement_line("-r framework.txt"), None);
        assert_eq!(requirement_line("# comment"), None);
    }

    #[test]
    fn a_pin_moved_from_requirements_to_pyproject_compares_per_package() {
        let old = pins_of(&[(
            "requirements/framework.txt".into(),
            "aiohttp==3.8.5\naiofiles==23.1.0\n".into(),
        )]);
        let fork = pins_of(&[(
            "requirements/framework.txt".into(),
            "aiohttp==3.9.1\naiofiles==23.1.0\nhttpx==0.27.0\n".into(),
        )]);
        let target = pins_of(&[(
            "app/connectors_service/pyproject.toml".into(),
            "[project]\nname = \"x\"\ndependencies = [\"aiohttp==3.14.3\", \"aiofiles==23.2.1\"]\n[project.optional-dependencies]\ntests = [\"pytest==8.0.0\"]\n"
                .into(),
        )]);
        let changes = compare(&old, &fork, &target);
        type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
        let rows: Vec<Row> = changes
            .iter()
            .map(|c| {
                (
                    c.package.as_str(),
                    c.old.as_deref(),
                    c.fork.as_deref(),
                    c.target.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "aiohttp",
                    Some("==3.8.5"),
                    Some("==3.9.1"),
                    Some("==3.14.3")
                ),
                ("httpx", None, Some("==0.27.0"), None),
            ]
        );
        assert_eq!(changes[0].path, "requirements/framework.txt");
        assert!(target.contains_key("pytest"));
    }
}
