//! Lockstep: the coupled gems a pack declares (`[deps]`) must move together. Reads the fork's
//! lock and gemspecs through `Objects` and checks three things Bundler alone does not: that
//! each pair of coupled gems is locked at series the pack's table says go together, that every
//! runtime constraint among them (as the lock records it and as the fork's gemspecs state it)
//! admits the locked version, and that the upstream's own gem is not behind the newest release
//! of its series.

use super::findings::{FindingBuilder, NewFinding};
use super::gemfile::{self, LockedGem, Requirement};
use super::versions::Version;
use crate::catalog::Kind;
use crate::error::Result;
use crate::facts::{Facts, Objects, ReleasePoint, TreeId};
use crate::model::{Deps, Finding, LockedDep};
use crate::rules::{DepsRules, Pack};
use std::collections::BTreeMap;

/// The coupled gems of the fork's lock and the findings about them; None when the pack has no
/// `[deps]` table or the fork has no lock.
pub fn check(facts: &Facts, objects: &dyn Objects) -> Result<Option<(Deps, Vec<Finding>)>> {
    let Some(rules) = &facts.pack.deps else {
        return Ok(None);
    };
    let tree = facts.trees.fork;
    let Some((lockfile, text)) = read_first(objects, tree, &rules.lockfiles)? else {
        return Ok(None);
    };
    let mut gemspecs = Vec::new();
    for path in facts.fork_files.keys() {
        if rules
            .gemspecs
            .iter()
            .any(|g| crate::rules::glob(g).is_some_and(|m| m.is_match(path)))
        {
            if let Some(bytes) = objects.read(tree, path)? {
                gemspecs.push((path.clone(), String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    Ok(Some(lockstep(
        &facts.pack,
        &lockfile,
        &text,
        &gemspecs,
        &facts.releases,
    )))
}

fn read_first(
    objects: &dyn Objects,
    tree: TreeId,
    paths: &[String],
) -> Result<Option<(String, String)>> {
    for path in paths {
        if let Some(bytes) = objects.read(tree, path)? {
            return Ok(Some((
                path.clone(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )));
        }
    }
    Ok(None)
}

/// A coupled gem as locked: its first (platform-independent if any) entry.
struct Locked<'a> {
    gem: &'a LockedGem,
    name: String,
    version: Version,
}

/// The check on texts already read: the lock, the fork's gemspecs (path, text) and the
/// upstream's release points.
pub fn lockstep(
    pack: &Pack,
    lockfile: &str,
    lock: &str,
    gemspecs: &[(String, String)],
    releases: &[ReleasePoint],
) -> (Deps, Vec<Finding>) {
    let rules = pack
        .deps
        .as_ref()
        .expect("lockstep runs for packs with [deps]");
    let entries = gemfile::parse_lock(lock);
    let mut locked: BTreeMap<String, Locked> = BTreeMap::new();
    let mut platforms: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for gem in &entries {
        let name = current_name(rules, &gem.name);
        if !rules.coupled.contains(&name) {
            continue;
        }
        if let Some(platform) = &gem.platform {
            platforms
                .entry(name.clone())
                .or_default()
                .push(platform.clone());
        }
        let Some(version) = Version::parse(&gem.version) else {
            continue;
        };
        let replace = match locked.get(&name) {
            None => true,
            // A plain entry is the one Bundler installs where no platform build matches.
            Some(seen) => seen.gem.platform.is_some() && gem.platform.is_none(),
        };
        if replace {
            locked.insert(
                name.clone(),
                Locked {
                    gem,
                    name: name.clone(),
                    version,
                },
            );
        }
    }

    // In the pack's order: the command lists the gems as the pack does.
    let ordered: Vec<&Locked> = rules
        .coupled
        .iter()
        .filter_map(|name| locked.get(name))
        .collect();
    let command = update_command(rules, &ordered);

    let newest = |name: &str, version: &Version| -> Option<Version> {
        if rules.gem.as_deref() != Some(name) {
            return None;
        }
        releases
            .iter()
            .filter(|p| !p.branch && !p.version.is_prerelease())
            .filter(|p| p.version.minor() == version.minor())
            .map(|p| p.version.clone())
            .max()
    };

    let mut builder = FindingBuilder::new(pack);

    // Series: for each pair, the rows that hold the first gem's series must allow the other's.
    for (i, a) in ordered.iter().enumerate() {
        for b in ordered.iter().skip(i + 1) {
            let Some(expected) = partner_series(rules, &a.name, &a.version, &b.name) else {
                continue;
            };
            if expected.iter().any(|s| in_series(&b.version, s)) {
                continue;
            }
            let series = series_of(&a.version);
            let key = format!("{}:{}:{}:{}", a.name, series, b.name, series_of(&b.version));
            add(
                &mut builder,
                Kind::Lockstep,
                &key,
                lockfile,
                &[
                    ("gem", &a.name),
                    ("version", &a.version.text),
                    ("other", &b.name),
                    ("other_version", &b.version.text),
                    ("series", &series),
                    ("expected", &expected.join(" or ")),
                    ("command", &command),
                ],
            );
        }
    }

    // Constraints the lock records for each coupled gem's own dependencies.
    for requirer in &ordered {
        for (dep, requirement) in &requirer.gem.requires {
            check_constraint(
                rules,
                &locked,
                &requirer.name,
                dep,
                requirement,
                lockfile,
                "as locked",
                &command,
                &mut builder,
            );
        }
    }
    // The fork's gemspecs: the fork may have changed a constraint without re-locking.
    for (path, text) in gemspecs {
        let requirer = path
            .rsplit('/')
            .next()
            .and_then(|f| f.strip_suffix(".gemspec"))
            .unwrap_or(path)
            .to_string();
        for (dep, requirement) in gemfile::parse_gemspec(text) {
            check_constraint(
                rules,
                &locked,
                &requirer,
                &dep,
                &requirement,
                path,
                path,
                &command,
                &mut builder,
            );
        }
    }

    let mut gems = Vec::new();
    for gem in &ordered {
        let newest_in_series = newest(&gem.name, &gem.version);
        if let Some(newest) = newest_in_series.as_ref().filter(|n| **n > gem.version) {
            let series = series_of(&gem.version);
            // A PATH gem is the fork itself: merging the release moves it, Bundler cannot.
            let action = match (gem.gem.source, newest_name(releases, newest)) {
                (gemfile::Source::Path, Some(tag)) => format!(
                    "merge upstream's {tag} into the fork (`forkdrift plan --to {}`)",
                    newest.text
                ),
                _ => format!("`{command}`"),
            };
            add(
                &mut builder,
                Kind::BehindSeries,
                &format!("{}:{}", gem.name, series),
                lockfile,
                &[
                    ("gem", &gem.name),
                    ("version", &gem.version.text),
                    ("newest", &newest.text),
                    ("series", &series),
                    ("action", &action),
                ],
            );
        }
        let mut builds = platforms.remove(&gem.name).unwrap_or_default();
        builds.sort();
        builds.dedup();
        gems.push(LockedDep {
            name: gem.name.clone(),
            locked_as: (gem.gem.name != gem.name).then(|| gem.gem.name.clone()),
            version: gem.version.text.clone(),
            source: gem.gem.source.as_str().into(),
            platforms: builds,
            series: series_of(&gem.version),
            newest_in_series: newest_in_series.map(|v| v.text),
        });
    }

    let findings = builder.finish();
    let deps = Deps {
        lockfile: lockfile.to_string(),
        gems,
        command,
        findings: findings.iter().map(|f| f.fingerprint.clone()).collect(),
    };
    (deps, findings)
}

#[allow(clippy::too_many_arguments)]
fn check_constraint(
    rules: &DepsRules,
    locked: &BTreeMap<String, Locked>,
    requirer: &str,
    dep: &str,
    requirement: &Requirement,
    path: &str,
    origin: &str,
    command: &str,
    builder: &mut FindingBuilder,
) {
    let dep = current_name(rules, dep);
    if requirement.is_empty() || !rules.coupled.contains(&dep) {
        return;
    }
    let Some(target) = locked.get(&dep) else {
        return;
    };
    if requirement.allows(&target.version) {
        return;
    }
    let requirement = requirement.to_string();
    add(
        builder,
        Kind::DependencyConstraint,
        &format!("{requirer}:{dep}:{requirement}:{origin}"),
        path,
        &[
            ("gem", &dep),
            ("version", &target.version.text),
            ("requirer", requirer),
            ("requirement", &requirement),
            ("origin", origin),
            ("command", command),
        ],
    );
}

/// The tag of a release version, to name it as the user's refs do.
fn newest_name<'r>(releases: &'r [ReleasePoint], version: &Version) -> Option<&'r str> {
    releases
        .iter()
        .filter(|p| !p.branch && p.version == *version)
        .map(|p| p.name.as_str())
        .next()
}

fn add(builder: &mut FindingBuilder, kind: Kind, key: &str, path: &str, args: &[(&str, &str)]) {
    builder.add(NewFinding {
        kind,
        key,
        path,
        unit: None,
        args,
    });
}

fn current_name(rules: &DepsRules, name: &str) -> String {
    rules
        .renamed
        .get(name)
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

/// `bundle update` and the coupled gems under the names the lock uses (Bundler knows no
/// other); an old name is kept, since renaming it is a Gemfile edit, not an update.
fn update_command(rules: &DepsRules, gems: &[&Locked]) -> String {
    let mut command = rules.command.clone();
    for gem in gems {
        command.push(' ');
        command.push_str(&gem.gem.name);
    }
    command
}

/// `0.11` of `0.11.10`.
fn series_of(version: &Version) -> String {
    let (major, minor) = version.minor();
    format!("{major}.{minor}")
}

fn in_series(version: &Version, series: &str) -> bool {
    Version::parse(series).is_some_and(|s| s.minor() == version.minor())
}

/// The series of `other` that the table's rows holding `gem`'s series allow; None when no row
/// names both.
fn partner_series(
    rules: &DepsRules,
    gem: &str,
    version: &Version,
    other: &str,
) -> Option<Vec<String>> {
    let mut allowed: Vec<String> = Vec::new();
    for row in &rules.series {
        let (Some(mine), Some(theirs)) = (row.get(gem), row.get(other)) else {
            continue;
        };
        if mine.iter().any(|s| in_series(version, s)) {
            allowed.extend(theirs.iter().cloned());
        }
    }
    (!allowed.is_empty()).then_some(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::CommitId;

    fn pack() -> Pack {
        Pack::builtin("karafka-web").unwrap()
    }

    fn release(version: &str) -> ReleasePoint {
        ReleasePoint {
            version: Version::parse(version).unwrap(),
            name: format!("v{version}"),
            commit: "a".repeat(40).parse::<CommitId>().unwrap(),
            branch: false,
        }
    }

    const LOCK_24_08: &str = "\
PATH
  remote: .
  specs:
    karafka-web (0.8.1)
      karafka (>= 2.3.0, < 2.4.0)

GEM
  remote: https://rubygems.org/
  specs:
    karafka (2.4.2)
      karafka-core (>= 2.4.0, < 2.5.0)
    karafka-core (2.4.0)
      rdkafka (>= 0.15.0)
    rdkafka (0.15.1-x86_64-linux)
    rdkafka (0.15.1)
";

    #[test]
    fn karafka_24_with_web_08_is_out_of_step_with_the_command() {
        let releases = [release("0.8.0"), release("0.8.2"), release("0.9.0")];
        let (deps, findings) = lockstep(&pack(), "Gemfile.lock", LOCK_24_08, &[], &releases);
        let command = "bundle update karafka karafka-core rdkafka karafka-web";
        assert_eq!(deps.command, command);
        let lockstep: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.kind == Kind::Lockstep)
            .collect();
        assert_eq!(lockstep.len(), 1, "{findings:#?}");
        assert_eq!(lockstep[0].id, "FD501");
        assert_eq!(
            lockstep[0].message,
            "karafka 2.4.2 and karafka-web 0.8.1 do not go together: karafka 2.4 goes with karafka-web 0.9 or 0.10"
        );
        assert!(lockstep[0].help.as_deref().unwrap().contains(command));
        // karafka-web's own constraint, as the lock records it, does not admit karafka 2.4.2.
        let constraint: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.kind == Kind::DependencyConstraint)
            .collect();
        assert_eq!(constraint.len(), 1);
        assert!(constraint[0].message.contains("`>= 2.3.0, < 2.4.0`"));
        // 0.8.2 is the newest 0.8 the upstream has.
        let behind: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.kind == Kind::BehindSeries)
            .collect();
        assert_eq!(behind.len(), 1);
        assert!(
            behind[0]
                .message
                .contains("karafka-web 0.8.1 is behind 0.8.2")
        );
        let rdkafka = deps
            .gems
            .iter()
            .find(|g| g.name == "karafka-rdkafka")
            .unwrap();
        assert_eq!(rdkafka.locked_as.as_deref(), Some("rdkafka"));
        assert_eq!(rdkafka.platforms, ["x86_64-linux"]);
        assert_eq!(deps.findings.len(), findings.len());
    }

    #[test]
    fn matching_series_pass() {
        let lock = "\
GEM
  remote: https://rubygems.org/
  specs:
    karafka (2.5.1)
    karafka-web (0.11.10)
      karafka (>= 2.5.0, < 2.6.0)
";
        let releases = [release("0.11.9"), release("0.11.10"), release("1.0.0.rc2")];
        let (deps, findings) = lockstep(&pack(), "Gemfile.lock", lock, &[], &releases);
        assert!(findings.is_empty(), "{findings:#?}");
        let web = deps.gems.iter().find(|g| g.name == "karafka-web").unwrap();
        assert_eq!(web.newest_in_series.as_deref(), Some("0.11.10"));
        assert_eq!(web.series, "0.11");
    }

    #[test]
    fn a_gemspec_the_fork_changed_without_relocking() {
        let lock = "\
GEM
  remote: https://rubygems.org/
  specs:
    karafka (2.4.0)
    karafka-web (0.9.1)
";
        let spec = "spec.add_dependency 'karafka', '>= 2.5.0', '< 2.6.0'\n";
        let (_, findings) = lockstep(
            &pack(),
            "Gemfile.lock",
            lock,
            &[("karafka-web.gemspec".into(), spec.into())],
            &[],
        );
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].path, "karafka-web.gemspec");
        assert_eq!(
            findings[0].message,
            "karafka 2.4.0 is outside karafka-web's requirement `>= 2.5.0, < 2.6.0` (karafka-web.gemspec)"
        );
    }
}
