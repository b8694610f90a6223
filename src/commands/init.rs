//! `forkdrift init`: a commented `.forkdrift.toml` for the user to edit — the pack detected
//! from the target's tree (else `generic`), the upstream remote, the default target, and what
//! the fork owns, guessed from the directories it added since the merge-base.

use crate::commands::audit::audit;
use crate::config::quote;
use crate::error::Result;
use crate::facts::Files;
use crate::model::{ChangeClass, Status};
use crate::repo::Repo;
use crate::repo::collect::Selection;
use crate::repo::git::Git;
use std::collections::{BTreeMap, BTreeSet};

/// A directory with at least this many subdirectories upstream holds plug-ins: a directory the
/// fork adds beside them is one more (`plugins/inputs/acme` beside `cpu`, `mem`, `disk`).
const PLUGIN_SIBLINGS: usize = 3;

/// What the fork's additions suggest it owns.
#[derive(Debug, Default, PartialEq)]
pub struct Guess {
    /// Unit pattern → the directories the fork added there.
    pub units: BTreeMap<String, BTreeSet<String>>,
    /// Own paths (`dir/**`).
    pub paths: BTreeSet<String>,
}

/// The configuration text `init` proposes.
pub fn init(repo: &Repo, git: &Git, selection: &Selection) -> Result<String> {
    // Detect the pack as an audit would; where none fits, the generic pack still reads the fork.
    let mut probe = selection.clone();
    let detected = match &selection.rules {
        Some(rules) => Some(rules.clone()),
        None => match crate::repo::collect::detect_pack(repo, selection)? {
            Some(name) => Some(name),
            None => {
                probe.rules = Some("generic".into());
                None
            }
        },
    };
    let run = audit(repo, git, &probe, false)?;
    let facts = &run.facts;
    let guess = guess(&run.report.changes, &facts.base_files);
    let rules = detected.unwrap_or_else(|| "generic".into());
    Ok(render(
        &rules,
        selection.rules.is_some(),
        facts.remote.as_deref(),
        &facts.target.name,
        &facts.merge_base.short(),
        &guess,
    ))
}

/// Groups the files the fork added (and its pack counts as framework or nothing) by the
/// shallowest directory the merge-base lacks.
pub fn guess(changes: &[crate::model::Change], base_files: &Files) -> Guess {
    let base_dirs: BTreeSet<&str> = base_files.keys().flat_map(|path| ancestors(path)).collect();
    let mut subdirs: BTreeMap<&str, usize> = BTreeMap::new();
    for dir in &base_dirs {
        *subdirs.entry(parent(dir)).or_default() += 1;
    }
    let mut guess = Guess::default();
    let unclaimed =
        |class: ChangeClass| matches!(class, ChangeClass::Framework | ChangeClass::Other);
    for change in changes
        .iter()
        .filter(|c| c.is_divergent() && c.status == Status::Added && unclaimed(c.class))
    {
        let Some(new_dir) = ancestors(&change.path)
            .into_iter()
            .find(|dir| !base_dirs.contains(dir))
        else {
            // A file the fork put at the root is its own; one inside upstream's directories
            // may be framework code (a new module the framework imports): the user decides.
            if !change.path.contains('/') {
                guess.paths.insert(change.path.clone());
            }
            continue;
        };
        let parent = parent(new_dir);
        if !parent.is_empty() && subdirs.get(parent).copied().unwrap_or(0) >= PLUGIN_SIBLINGS {
            guess
                .units
                .entry(format!("{parent}/{{unit}}/**"))
                .or_default()
                .insert(new_dir.to_string());
        } else {
            guess.paths.insert(format!("{new_dir}/**"));
        }
    }
    guess
}

/// `a/b/c.go` → `a`, `a/b`.
fn ancestors(path: &str) -> Vec<&str> {
    path.match_indices('/').map(|(at, _)| &path[..at]).collect()
}

fn parent(dir: &str) -> &str {
    dir.rsplit_once('/').map_or("", |(parent, _)| parent)
}

fn render(
    rules: &str,
    chosen: bool,
    remote: Option<&str>,
    target: &str,
    merge_base: &str,
    guess: &Guess,
) -> String {
    let mut out = String::from(
        "# forkdrift's configuration for this fork (format: docs/configuration.md).\n\
         # Written by `forkdrift init`: check it, edit it, then commit it to the fork.\n\
         # Command-line options (--rules, --upstream, --to) win over what is set here.\n\n",
    );
    let how = if chosen {
        "as chosen with --rules"
    } else if rules == "generic" {
        "the generic one: no built-in pack\n# recognises the upstream"
    } else {
        "detected from the target's tree"
    };
    out.push_str(&format!(
        "# The rule pack that describes the upstream, {how}.\n\
         # `forkdrift rules list` shows the built-in packs; a .toml pack file (relative to the\n\
         # repository root) works too.\nrules = {}\n\n[upstream]\n",
        quote(rules)
    ));
    out.push_str("# The remote that holds the upstream.\n");
    match remote {
        Some(remote) => out.push_str(&format!("remote = {}\n", quote(remote))),
        None => out.push_str("# remote = \"upstream\"\n"),
    }
    out.push_str(&format!(
        "# The default upgrade target: a branch, tag, commit or version, as --to takes.\ntarget = {}\n\n",
        quote(target)
    ));
    let generic = rules == "generic";
    out.push_str(&format!(
        "# What the fork owns, guessed from the directories it added since the merge-base\n\
         # ({merge_base}). {}\n[own]\n",
        if generic {
            "The generic pack counts everything else as upstream's framework,\n# which the fork should not edit."
        } else {
            "The pack knows the upstream's own units; declare here what it\n# cannot see."
        }
    ));
    out.push_str(
        "# Plug-in directories: each directory there is one unit, upstream's and the fork's\n\
         # alike, so that copies and in-place edits are told apart.\n",
    );
    if guess.units.is_empty() {
        out.push_str("units = []\n");
    } else {
        out.push_str("units = [\n");
        for (pattern, dirs) in &guess.units {
            let dirs: Vec<&str> = dirs.iter().map(String::as_str).collect();
            out.push_str(&format!(
                "  {},  # the fork added {}\n",
                quote(pattern),
                dirs.join(", ")
            ));
        }
        out.push_str("]\n");
    }
    out.push_str("# The fork's own code elsewhere: each entry is one unit.\n");
    if guess.paths.is_empty() {
        out.push_str("paths = []\n");
    } else {
        out.push_str("paths = [\n");
        for path in &guess.paths {
            out.push_str(&format!("  {},\n", quote(path)));
        }
        out.push_str("]\n");
    }
    out.push_str(
        "# Where plug-ins are registered (`plugins/inputs/all/**`): lines the fork only adds\n\
         # there register its units instead of editing upstream's code.\nregistration = []\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::facts::BlobId;
    use crate::model::Origin;
    use std::path::Path;

    fn added(path: &str, class: ChangeClass) -> crate::model::Change {
        crate::model::Change {
            path: path.into(),
            old_path: None,
            status: Status::Added,
            class,
            unit: None,
            origin: Origin::Fork,
            copied_from: None,
            target_path: None,
            lines_added: 1,
            lines_deleted: 0,
            binary: false,
            commits: Vec::new(),
            registers: Vec::new(),
            rule: String::new(),
            orphaned: false,
            risk: None,
            already_upstream: false,
            kind: None,
        }
    }

    #[test]
    fn guesses_plugin_directories_and_own_paths() {
        let base: Files = [
            "plugins/inputs/cpu/cpu.go",
            "plugins/inputs/mem/mem.go",
            "plugins/inputs/disk/disk.go",
            "internal/config/config.go",
            "agent/agent.go",
        ]
        .into_iter()
        .map(|p| (p.to_string(), BlobId([0; 20])))
        .collect();
        let changes = [
            added("plugins/inputs/acme/acme.go", ChangeClass::Framework),
            added("plugins/inputs/acme/acme_test.go", ChangeClass::Framework),
            added("internal/acme/client.go", ChangeClass::Framework),
            added("internal/acme/deep/x.go", ChangeClass::Framework),
            added("agent/extra.go", ChangeClass::Framework),
            added("VERSION.acme", ChangeClass::Other),
            added("docs/acme/index.md", ChangeClass::Docs),
        ];
        let guess = guess(&changes, &base);
        assert_eq!(
            guess.units,
            BTreeMap::from([(
                "plugins/inputs/{unit}/**".to_string(),
                BTreeSet::from(["plugins/inputs/acme".to_string()])
            )])
        );
        assert_eq!(
            guess.paths,
            BTreeSet::from(["VERSION.acme".to_string(), "internal/acme/**".to_string()])
        );
    }

    #[test]
    fn what_init_writes_is_a_valid_configuration() {
        let guess = Guess {
            units: BTreeMap::from([(
                "plugins/inputs/{unit}/**".into(),
                BTreeSet::from(["plugins/inputs/acme".into()]),
            )]),
            paths: BTreeSet::from(["internal/acme/**".into()]),
        };
        let text = render(
            "generic",
            false,
            Some("upstream"),
            "upstream/main",
            "0c66051c3876",
            &guess,
        );
        let parsed = config::parse(&text, Path::new(".forkdrift.toml")).unwrap();
        assert_eq!(parsed.rules.as_deref(), Some("generic"));
        assert_eq!(parsed.remote.as_deref(), Some("upstream"));
        assert_eq!(parsed.target.as_deref(), Some("upstream/main"));
        assert_eq!(parsed.own.units, ["plugins/inputs/{unit}/**"]);
        assert_eq!(parsed.own.paths, ["internal/acme/**"]);

        let empty = render(
            "elastic-connectors",
            false,
            None,
            "upstream/main",
            "0c66051c3876",
            &Guess::default(),
        );
        let parsed = config::parse(&empty, Path::new(".forkdrift.toml")).unwrap();
        assert!(parsed.own.is_empty());
        assert_eq!(parsed.remote, None);
    }
}
