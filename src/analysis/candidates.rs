//! Pull-request candidates: the fork's framework fixes (and fixes to upstream connectors it
//! edited in place) that upstream should have. A candidate is an own commit, or a short
//! series of them on the same files, that depends on nothing fork-only (no fork connector,
//! registration or name) and applies cleanly to the target (a cherry-pick by git's merge, in
//! memory). Ranked by the fork-caused conflicts and the risk on its files; exported
//! as mbox series that `git am` applies onto the target.

use super::fork_names::{self, ForkName};
use super::upstream::Settled;
use crate::error::Result;
use crate::facts::{CommitInfo, Delta, Facts, Files, Objects, Picks, TreeId, par_map};
use crate::model::{Change, ChangeClass, Conflict, PrCandidate};
use regex::Regex;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A candidate with what its export needs: the trees of each cherry-pick step onto the target.
pub struct Candidate {
    pub report: PrCandidate,
    pub commits: Vec<CommitInfo>,
    /// Tree after each step; the first step applies onto the target's tree.
    pub steps: Vec<TreeId>,
}

/// Own commits on the same files, oldest first, that could go upstream together.
pub struct Series<'f> {
    pub kind: &'static str,
    pub commits: Vec<&'f CommitInfo>,
    pub paths: BTreeSet<String>,
}

/// The series that could become upstream PRs, and a note for each framework commit that
/// cannot: it depends on the fork's own connectors, registrations or names.
pub fn series<'f>(
    facts: &'f Facts,
    objects: &dyn Objects,
    changes: &[Change],
    settled: &Settled,
) -> Result<(Vec<Series<'f>>, Vec<String>)> {
    let touched = &facts.touched;
    let by_path: HashMap<&str, &Change> = changes.iter().map(|c| (c.path.as_str(), c)).collect();
    let fork_units: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.class == ChangeClass::ConnectorAdded)
        .filter_map(|c| c.unit.as_deref())
        .collect();
    let fork_names = (!fork_units.is_empty()).then(|| {
        let words: Vec<String> = fork_units.iter().map(|u| regex::escape(u)).collect();
        // A unit's name inside an identifier (`ACME_TABLES`, `acme_client`) counts too.
        Regex::new(&format!(
            r"(?i)(?:^|[^a-z0-9])(?:{})(?:[^a-z0-9]|$)",
            words.join("|")
        ))
        .expect("escaped words")
    });

    // Oldest first: a series applies in the order it was written.
    let own: Vec<&CommitInfo> = facts
        .own
        .iter()
        .rev()
        .filter(|c| c.parents.len() == 1 && !settled.contains(&c.id))
        .collect();
    let mut notes = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    for commit in own {
        let paths: Vec<&String> = touched
            .get(&commit.id)
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        let class_of = |p: &str| by_path.get(p).map(|c| c.class);
        let framework = paths
            .iter()
            .any(|p| class_of(p) == Some(ChangeClass::Framework));
        let in_place = paths
            .iter()
            .any(|p| class_of(p) == Some(ChangeClass::ConnectorModified));
        if !framework && !in_place {
            continue;
        }
        let kind = if framework {
            "framework-fix"
        } else {
            "connector-fix"
        };
        // Fork-only material: the fork's connectors, their registrations and tests.
        let coupled_path = paths.iter().find(|p| {
            let change = by_path.get(p.as_str());
            matches!(
                change.map(|c| c.class),
                Some(ChangeClass::ConnectorAdded | ChangeClass::Registration)
            ) || change.is_some_and(|c| {
                c.class == ChangeClass::Test
                    && c.unit.as_deref().is_some_and(|u| fork_units.contains(u))
            })
        });
        let coupled_name = match &fork_names {
            Some(pattern) => changed_lines(objects, commit, false)?
                .lines()
                .find(|l| pattern.is_match(l))
                .map(str::to_string),
            None => None,
        };
        // A follow-up on the same files joins the previous commit's series.
        let follows_up = series.last().is_some_and(|last: &Series| {
            last.kind == kind
                && paths.iter().any(|p| last.paths.contains(*p))
                && last
                    .commits
                    .last()
                    .is_some_and(|c| commit.parents[0] == c.id)
        });
        // Removing upstream's plug-ins or parsers is what this fork wants, not a fix upstream
        // lacks (extremenetworks/telegraf's "remove starlak plugin").
        if !follows_up && only_disables(objects, commit, &paths, &facts.base_files)? {
            notes.push(format!(
                "{} \"{}\" is not a PR candidate: it only deletes or comments out upstream's code, the fork's choice rather than a fix",
                commit.id.short(),
                commit.subject,
            ));
            continue;
        }
        if let Some(path) = coupled_path {
            notes.push(format!(
                "{} \"{}\" is not a PR candidate: it also changes the fork's own {path}",
                commit.id.short(),
                commit.subject
            ));
            continue;
        }
        if let Some(line) = coupled_name {
            notes.push(format!(
                "{} \"{}\" is not a PR candidate: it depends on the fork's own connectors (`{}`)",
                commit.id.short(),
                commit.subject,
                line.trim()
            ));
            continue;
        }
        let paths: BTreeSet<String> = paths.into_iter().cloned().collect();
        match series.last_mut() {
            Some(last) if follows_up => {
                last.commits.push(commit);
                last.paths.extend(paths);
            }
            _ => series.push(Series {
                kind,
                commits: vec![commit],
                paths,
            }),
        }
    }
    Ok((series, notes))
}

/// The series that apply cleanly to the target (`picks`: each series picked onto it),
/// ranked by the fork-caused conflicts and the risk on their files; a note for each that
/// does not apply, or that git could not pick.
pub fn rank(
    facts: &Facts,
    objects: &dyn Objects,
    changes: &[Change],
    conflicts: &[Conflict],
    series: Vec<Series>,
    picks: Vec<Picks>,
    notes: &mut Vec<String>,
) -> Result<Vec<Candidate>> {
    let by_path: HashMap<&str, &Change> = changes.iter().map(|c| (c.path.as_str(), c)).collect();
    let mut out = Vec::new();
    // Series that do not apply come last among the remarks: on a long-lived fork they are
    // most of them (157 of op-geth's), and a screen shows the first twenty.
    let mut unapplied = Vec::new();
    // Whether a series applies says nothing when there is nothing to propose: every series is
    // read for that (178 on op-geth), on every core.
    let restores = par_map(objects, &series, |objects, series| {
        Ok(restores_upstream(facts, objects, &series.commits))
    })?;
    for (
        (
            Series {
                kind,
                commits,
                paths,
            },
            Picks { steps, unmerged },
        ),
        restores,
    ) in series.into_iter().zip(picks).zip(restores)
    {
        let clean = steps.len() == commits.len();
        let first = commits[0];
        if restores {
            notes.push(format!(
                "{} \"{}\" is not a PR candidate: it only moves its files toward upstream's version (every line it writes, upstream has)",
                first.id.short(),
                first.subject,
            ));
            continue;
        }
        if let Some(error) = unmerged {
            notes.push(format!(
                "{} \"{}\" could not be tried as a PR candidate: {error}",
                first.id.short(),
                first.subject,
            ));
            continue;
        }
        if !clean {
            unapplied.push(format!(
                "{} \"{}\" is not a PR candidate: it does not apply cleanly to {} (if it belongs upstream, rebase it first)",
                first.id.short(),
                first.subject,
                facts.target.name
            ));
            continue;
        }
        // A pick that leaves the tree as it was changes nothing there: `git am` rejects such
        // a patch, and a series whose picks all do so (an edit the fork later reverted, to
        // what upstream has) is work upstream already has, not a PR.
        let mut kept: Vec<(&CommitInfo, TreeId)> = Vec::new();
        let mut previous = facts.trees.target;
        for (commit, tree) in commits.iter().zip(&steps) {
            if *tree != previous {
                kept.push((commit, *tree));
            }
            previous = *tree;
        }
        if kept.is_empty() || steps.last() == Some(&facts.trees.target) {
            notes.push(format!(
                "{} \"{}\" is not a PR candidate: picked onto {} it changes nothing (the target already has its result)",
                first.id.short(),
                first.subject,
                facts.target.name
            ));
            continue;
        }
        let (commits, steps): (Vec<&CommitInfo>, Vec<TreeId>) = kept.into_iter().unzip();
        let first = commits[0];
        if let Some(why) = debugging(objects, &commits) {
            notes.push(format!(
                "{} \"{}\" is not a PR candidate: {why}",
                first.id.short(),
                first.subject,
            ));
            continue;
        }
        let removes_conflicts = conflicts
            .iter()
            .filter(|c| c.is_fork_caused())
            .filter(|c| {
                paths.contains(&c.path)
                    || by_path.values().any(|ch| {
                        paths.contains(&ch.path) && ch.target_path.as_deref() == Some(&c.path)
                    })
            })
            .count();
        let risk: u32 = paths
            .iter()
            .filter_map(|p| by_path.get(p.as_str()))
            .filter_map(|c| c.risk.as_ref())
            .map(|r| r.score)
            .sum();
        let has_tests = paths.iter().any(|p| {
            by_path
                .get(p.as_str())
                .is_some_and(|c| c.class == ChangeClass::Test)
        });
        let title = if commits.len() == 1 {
            first.subject.clone()
        } else {
            format!("{} (+{} follow-ups)", first.subject, commits.len() - 1)
        };
        // The PR lands on upstream's layout: a file upstream moved is named where it is now,
        // as the exported patches name it.
        let files: Vec<String> = paths
            .iter()
            .map(|path| {
                match by_path
                    .get(path.as_str())
                    .and_then(|c| c.target_path.as_deref())
                {
                    Some(moved) if moved != path => format!("{moved} (the fork's {path})"),
                    _ => path.clone(),
                }
            })
            .collect();
        let body = body(
            &facts.pack.name,
            kind,
            &commits,
            &files,
            has_tests,
            removes_conflicts,
        );
        out.push((
            (removes_conflicts, risk, has_tests),
            Candidate {
                report: PrCandidate {
                    kind: kind.to_string(),
                    commits: commits.iter().map(|c| c.id.to_string()).collect(),
                    title,
                    body,
                    paths: paths.into_iter().collect(),
                    has_tests,
                    applies_cleanly: true,
                    removes_conflicts,
                    rank: 0,
                },
                commits: commits.into_iter().cloned().collect(),
                steps,
            },
        ));
    }
    // A fix that calls the fork's own code does not build upstream.
    crate::progress::phase("looking for the fork's own names in the candidates");
    let picked: Vec<Picked> = out
        .iter()
        .map(|(_, c)| {
            let mut files = Vec::new();
            for commit in &c.commits {
                files.extend(file_changes(objects, commit)?);
            }
            Ok(Picked {
                commits: &c.commits,
                result: *c.steps.last().expect("a kept series has a step"),
                files,
            })
        })
        .collect::<Result<_>>()?;
    let names = fork_names::fork_only_names(facts, objects, changes, &picked)?;
    let reshaped = super::arity::mismatches(facts, objects, &picked)?;
    let mut kept = Vec::with_capacity(out.len());
    for ((candidate, name), reshaped) in out.into_iter().zip(names).zip(reshaped) {
        let reason = match (name, reshaped) {
            (Some(ForkName::Calls { name, path }), _) => Some(format!(
                "it uses `{name}`, which the target does not have (the fork's {path} had it before)"
            )),
            (Some(ForkName::Removes { name, path }), _) => Some(format!(
                "it removes `{name}`, which the target still uses ({path})"
            )),
            (None, Some(call)) => Some(format!(
                "it calls `{}` with {} arguments, which the target's {} defines with {}",
                call.name, call.passes, call.path, call.takes
            )),
            (None, None) => None,
        };
        match reason {
            Some(reason) => {
                let first = &candidate.1.commits[0];
                notes.push(format!(
                    "{} \"{}\" is not a PR candidate: {reason}: it would not build upstream",
                    first.id.short(),
                    first.subject,
                ));
            }
            None => kept.push(candidate),
        }
    }
    notes.append(&mut unapplied);
    let mut out = kept;
    out.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.report.commits[0].cmp(&b.1.report.commits[0]))
    });
    let mut ranked: Vec<Candidate> = out.into_iter().map(|(_, c)| c).collect();
    for (rank, candidate) in (1u32..).zip(ranked.iter_mut()) {
        candidate.report.rank = rank;
    }
    Ok(ranked)
}

/// Work meant for the fork's own debugging is no upstream fix: a series whose changed lines
/// only log (or turn logging up), or a long series that is mostly debugging by its subjects.
/// Whether a series only undoes the fork's own divergence: in each of its files, the version
/// after it lies on a shortest way from the version before it to the merge-base's, so the
/// series is a step back toward upstream (extremenetworks/telegraf commented out every output
/// plug-in in `plugins/outputs/all/all.go` and later un-commented one: upstream has that
/// line, there is nothing to propose). An edit of the fork's own code is no such step, even
/// when its new line happens to exist upstream elsewhere in the file.
fn restores_upstream(facts: &Facts, objects: &dyn Objects, commits: &[&CommitInfo]) -> bool {
    let (Some(first), Some(last)) = (commits.first(), commits.last()) else {
        return false;
    };
    let Some(before) = first.parent_tree else {
        return false;
    };
    let paths: BTreeSet<&String> = commits
        .iter()
        .filter_map(|c| facts.touched.get(&c.id))
        .flatten()
        .collect();
    // Lines compared without their indentation: the fork's ` \t_ "…/discard"` brings back
    // upstream's `\t_ "…/discard"`.
    let read = |tree: TreeId, path: &str| -> Option<String> {
        match objects.read(tree, path) {
            Ok(Some(bytes)) => String::from_utf8(bytes)
                .ok()
                .map(|text| text.lines().map(str::trim).collect::<Vec<_>>().join("\n")),
            Ok(None) => Some(String::new()),
            Err(_) => None,
        }
    };
    // Lines inserted and deleted by a shortest edit script (Myers' is one).
    let distance = |a: &str, b: &str| {
        similar::TextDiff::from_lines(a, b)
            .iter_all_changes()
            .filter(|c| c.tag() != similar::ChangeTag::Equal)
            .count()
    };
    let mut brought_back = 0;
    for path in paths {
        let (Some(old), Some(new), Some(base)) = (
            read(before, path),
            read(last.tree, path),
            read(facts.trees.base, path),
        ) else {
            return false;
        };
        // A file upstream lacks has nothing of upstream's to bring back.
        if base.is_empty() {
            return false;
        }
        // Every line it writes is upstream's (a lone brace proves nothing: the shortest way
        // through two files that differ by a fork-only block can pass any brace)...
        let at_base: HashSet<&str> = base.lines().collect();
        for change in similar::TextDiff::from_lines(&old, &new).iter_all_changes() {
            let line = change.value().trim_end_matches('\n');
            if change.tag() == similar::ChangeTag::Insert && line.len() >= 3 {
                if !at_base.contains(line) {
                    return false;
                }
                brought_back += 1;
            }
        }
        // ... and the step is one along a shortest way back to upstream's version.
        if distance(&new, &base) + distance(&old, &new) != distance(&old, &base) {
            return false;
        }
    }
    brought_back > 0
}

fn debugging(objects: &dyn Objects, commits: &[&CommitInfo]) -> Option<String> {
    let debug_subject = Regex::new(r"(?i)\b(debug\w*|logging|log level|verbose|wip|tmp|temp)\b")
        .expect("a valid pattern");
    let log_line = Regex::new(
        r"(?i)(\bdebug\b|\blog(ger|ging)?\b|\.(debug|info|trace)\(|print\(|console\.log|log_?level|verbose)",
    )
    .expect("a valid pattern");
    let mut lines = 0;
    let mut logging = 0;
    for commit in commits {
        let Ok(text) = changed_lines(objects, commit, true) else {
            return None;
        };
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            lines += 1;
            if log_line.is_match(line) {
                logging += 1;
            }
        }
    }
    if lines > 0 && logging == lines {
        return Some("it only changes logging (debug output is the fork's own business)".into());
    }
    let debug_subjects = commits
        .iter()
        .filter(|c| debug_subject.is_match(&c.subject))
        .count();
    if commits.len() > 5 && debug_subjects * 2 > commits.len() {
        return Some(format!(
            "a series of {} commits, {debug_subjects} of them debugging by their subjects: split out the fix before proposing it",
            commits.len()
        ));
    }
    None
}

/// A blob's bytes; empty when absent or when this clone lacks it (a partial clone): the text
/// compared is then what could be read.
fn read(objects: &dyn Objects, id: Option<crate::facts::BlobId>) -> Result<Vec<u8>> {
    Ok(id
        .map(|id| objects.blob_if_present(id))
        .transpose()?
        .flatten()
        .unwrap_or_default())
}

/// A series that picks cleanly onto the target, as the checks of what it needs from the fork
/// read it: its commits, the tree it leaves on the target, and the files its commits changed
/// (read once for those checks).
pub(super) struct Picked<'c> {
    pub commits: &'c [CommitInfo],
    pub result: TreeId,
    pub files: Vec<FileChange>,
}

/// A file a commit changed, with both versions' bytes (empty where the file is absent, or
/// where this clone lacks it).
pub(super) struct FileChange {
    pub delta: Delta,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// The files `commit` changed, as every reading of a candidate's lines takes them: renames
/// not paired, submodules left out (they have no lines).
pub(super) fn file_changes(objects: &dyn Objects, commit: &CommitInfo) -> Result<Vec<FileChange>> {
    let mut out = Vec::new();
    for delta in objects.diff(commit.parent_tree, commit.tree, false, &[])? {
        if delta.touches_submodule() {
            continue;
        }
        let (old, new) = (read(objects, delta.old_id)?, read(objects, delta.new_id)?);
        out.push(FileChange { delta, old, new });
    }
    Ok(out)
}

/// Whether a commit only switches upstream's code off: it deletes upstream's files or
/// comments out its lines (as the merge-base has them, `base_files`: `//`, `#`, `--`, `;`,
/// `/*` …), and adds nothing else. extremenetworks/telegraf's "remove starlak
/// plugin" turns an import into `//_ "…/starlark"`. Taking out the fork's own lines (its
/// debug logs) is a clean-up of the fork's work, not this.
fn only_disables(
    objects: &dyn Objects,
    commit: &CommitInfo,
    paths: &[&String],
    base_files: &Files,
) -> Result<bool> {
    // Most commits add a file or a line of code: tell them before reading upstream's files.
    if paths.iter().any(|p| !base_files.contains_key(p.as_str())) {
        return Ok(false);
    }
    let files = file_changes(objects, commit)?;
    if files.is_empty() || files.iter().any(|f| f.delta.old_id.is_none()) {
        return Ok(false);
    }
    let code = |line: &[u8]| -> Vec<u8> {
        line.iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect()
    };
    let uncommented = |line: &[u8]| -> Vec<u8> {
        let mut text = code(line);
        while let Some(rest) = ["//", "#", "--", ";", "/*"]
            .iter()
            .find_map(|marker| text.strip_prefix(marker.as_bytes()))
        {
            text = rest.to_vec();
        }
        text
    };
    // Deleting lines alone is how many fixes look ("Remove unused variable to fix linter"):
    // only a deleted file or a commented-out line says the code is switched off.
    let mut switched_off = false;
    let mut gone_lines: Vec<(&str, Vec<Vec<u8>>)> = Vec::new();
    for FileChange { delta, old, new } in &files {
        let old_lines: Vec<&[u8]> = old.split(|&b| b == b'\n').collect();
        let new_lines: Vec<&[u8]> = new.split(|&b| b == b'\n').collect();
        let kept: HashSet<&[u8]> = new_lines.iter().copied().collect();
        let before: HashSet<&[u8]> = old_lines.iter().copied().collect();
        let gone: Vec<&[u8]> = old_lines
            .iter()
            .copied()
            .filter(|l| !kept.contains(l))
            .collect();
        let gone_code: HashSet<Vec<u8>> = gone.iter().map(|l| code(l)).collect();
        for line in new_lines.iter().filter(|l| !before.contains(*l)) {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if !gone_code.contains(&uncommented(line)) || gone_code.contains(&code(line)) {
                return Ok(false);
            }
            switched_off = true;
        }
        switched_off |= delta.new_id.is_none();
        let Some(path) = delta.old_path.as_deref() else {
            return Ok(false);
        };
        gone_lines.push((path, gone.iter().map(|l| l.to_vec()).collect()));
    }
    if !switched_off {
        return Ok(false);
    }
    // What is switched off must be upstream's: taking out the fork's own lines is not.
    for (path, gone) in gone_lines {
        let Some(&upstreams) = base_files.get(path) else {
            return Ok(false);
        };
        let upstreams = read(objects, Some(upstreams))?;
        let upstreams: HashSet<&[u8]> = upstreams.split(|&b| b == b'\n').collect();
        if gone.iter().any(|l| !upstreams.contains(l.as_slice())) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The lines a commit adds, and with `removed` also those it removes, as text.
fn changed_lines(objects: &dyn Objects, commit: &CommitInfo, removed: bool) -> Result<String> {
    let mut text = String::new();
    for FileChange { old, new, .. } in file_changes(objects, commit)? {
        let (old, new) = (String::from_utf8_lossy(&old), String::from_utf8_lossy(&new));
        let old_lines: HashSet<&str> = old.lines().collect();
        let new_lines: HashSet<&str> = new.lines().collect();
        let added = new.lines().filter(|l| !old_lines.contains(l));
        let gone = old.lines().filter(|l| removed && !new_lines.contains(l));
        for line in added.chain(gone) {
            text.push_str(line);
            text.push('\n');
        }
    }
    Ok(text)
}

fn body(
    pack: &str,
    kind: &str,
    commits: &[&CommitInfo],
    files: &[String],
    has_tests: bool,
    removes: usize,
) -> String {
    let what = if kind == "framework-fix" {
        "a framework change"
    } else {
        "a fix to an upstream connector"
    };
    // The generic pack knows no project by name: "a downstream fork of generic" says nothing.
    let of = match pack {
        "generic" => String::new(),
        name => format!(" of {name}"),
    };
    let mut body = format!(
        "This is {what} a downstream fork{of} carries. Upstream is the right home for it: \
         the fork would stop diverging here{}.\n\nCommits:\n",
        if removes > 0 {
            format!(" (its next upgrade conflicts on {removes} of the files this changes)")
        } else {
            String::new()
        }
    );
    for commit in commits {
        body.push_str(&format!("- {} ({})\n", commit.subject, commit.id.short()));
    }
    body.push_str("\nFiles:\n");
    for file in files {
        body.push_str(&format!("- {file}\n"));
    }
    body.push_str(if has_tests {
        "\nTests are included.\n"
    } else {
        "\nNo tests yet: add them before opening the PR.\n"
    });
    body
}

/// A file name for a candidate: its title, lower-case, dashes for the rest.
pub fn slug(title: &str) -> String {
    let mut slug: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    slug.trim_matches('-')
        .chars()
        .take(48)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pr_text_says_where_the_upgrade_conflicts_not_that_the_conflicts_go_away() {
        let files = ["connectors/es/client.py".to_string()];
        let text = body("elastic-connectors", "framework-fix", &[], &files, false, 2);
        assert!(
            text.starts_with(
                "This is a framework change a downstream fork of elastic-connectors carries. Upstream is the right home for it: the fork would stop diverging here (its next upgrade conflicts on 2 of the files this changes).\n"
            ),
            "{text}"
        );
    }
}
