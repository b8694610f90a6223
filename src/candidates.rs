//! Pull-request candidates: the fork's framework fixes (and fixes to upstream connectors it
//! edited in place) that upstream should have. A candidate is an own commit, or a short
//! series of them on the same files, that depends on nothing fork-only (no fork connector,
//! registration or name) and applies cleanly to the target (a cherry-pick by git's merge, in
//! memory). Ranked by the conflicts and risk it would take out of the next upgrade; exported
//! as mbox series that `git am` applies onto the target.

use crate::error::{IoContext, Result};
use crate::model::{Change, ChangeClass, Conflict, Origin, PrCandidate};
use crate::repo::git::Git;
use crate::repo::merge::{self, MergeRequest, Scratch};
use crate::repo::{CommitMeta, Repo};
use crate::session::Session;
use git2::Oid;
use regex::Regex;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

/// A candidate with what its export needs: the trees of each cherry-pick step onto the target.
pub struct Candidate {
    pub report: PrCandidate,
    pub commits: Vec<CommitMeta>,
    /// Tree after each step; the first step applies onto the target's tree.
    pub steps: Vec<Oid>,
}

/// What the audit found that decides candidacy.
pub struct Findings<'a> {
    pub changes: &'a [Change],
    pub conflicts: &'a [Conflict],
    /// Paths each commit touched.
    pub touched: &'a HashMap<Oid, Vec<String>>,
    /// Own commits upstream already has.
    pub settled: &'a HashSet<Oid>,
}

/// Candidates, and a note for each framework commit that could not be one.
pub fn candidates(
    repo: &Repo,
    git: &Git,
    session: &Session,
    found: &Findings,
    scratch: &Scratch,
) -> Result<(Vec<Candidate>, Vec<String>)> {
    let Findings {
        changes,
        conflicts,
        touched,
        settled,
    } = *found;
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
    let own: Vec<&CommitMeta> = session
        .own
        .iter()
        .rev()
        .filter(|c| c.parents.len() == 1 && !settled.contains(&c.id))
        .collect();
    let mut notes = Vec::new();
    let mut series: Vec<(String, Vec<&CommitMeta>, BTreeSet<String>)> = Vec::new();
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
            Some(pattern) => added_text(repo, commit)?
                .lines()
                .find(|l| pattern.is_match(l))
                .map(str::to_string),
            None => None,
        };
        if let Some(path) = coupled_path {
            notes.push(format!(
                "{} \"{}\" is not a PR candidate: it also changes the fork's own {path}",
                &commit.id.to_string()[..12],
                commit.subject
            ));
            continue;
        }
        if let Some(line) = coupled_name {
            notes.push(format!(
                "{} \"{}\" is not a PR candidate: it depends on the fork's own connectors (`{}`)",
                &commit.id.to_string()[..12],
                commit.subject,
                line.trim()
            ));
            continue;
        }
        let paths: BTreeSet<String> = paths.into_iter().cloned().collect();
        // A follow-up on the same files joins the previous commit's series.
        match series.last_mut() {
            Some((last_kind, commits, last_paths))
                if *last_kind == kind
                    && !last_paths.is_disjoint(&paths)
                    && commits.last().is_some_and(|c| commit.parents[0] == c.id) =>
            {
                commits.push(commit);
                last_paths.extend(paths);
            }
            _ => series.push((kind.to_string(), vec![commit], paths)),
        }
    }

    let target_tree = repo.tree_of(session.target.id)?;
    let steps = cherry_pick_all(repo, git, scratch, target_tree, &series)?;
    let mut out = Vec::new();
    for ((kind, commits, paths), steps) in series.into_iter().zip(steps) {
        let clean = steps.len() == commits.len();
        let first = commits[0];
        if !clean {
            notes.push(format!(
                "{} \"{}\" does not apply cleanly to {}: rebase it before proposing it upstream",
                &first.id.to_string()[..12],
                first.subject,
                session.target.name
            ));
            continue;
        }
        let removes_conflicts = conflicts
            .iter()
            .filter(|c| c.cause == Origin::Fork)
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
        let body = body(
            session,
            &kind,
            &commits,
            &paths,
            has_tests,
            removes_conflicts,
        );
        out.push((
            (removes_conflicts, risk, has_tests),
            Candidate {
                report: PrCandidate {
                    kind,
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
    out.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.report.commits[0].cmp(&b.1.report.commits[0]))
    });
    let mut ranked: Vec<Candidate> = out.into_iter().map(|(_, c)| c).collect();
    for (index, candidate) in ranked.iter_mut().enumerate() {
        candidate.report.rank = index as u32 + 1;
    }
    Ok((ranked, notes))
}

/// Cherry-picks every series onto the target, one step of every series per git process. For
/// each series, the trees after each clean step; a series stops at its first conflict.
fn cherry_pick_all(
    repo: &Repo,
    git: &Git,
    scratch: &Scratch,
    target: Oid,
    series: &[(String, Vec<&CommitMeta>, BTreeSet<String>)],
) -> Result<Vec<Vec<Oid>>> {
    let mut steps: Vec<Vec<Oid>> = vec![Vec::new(); series.len()];
    let mut live: Vec<usize> = (0..series.len()).collect();
    let mut level = 0;
    while !live.is_empty() {
        let mut requests = Vec::with_capacity(live.len());
        for &index in &live {
            let commit = series[index].1[level];
            requests.push(MergeRequest {
                ours: steps[index].last().copied().unwrap_or(target),
                theirs: commit.tree,
                base: Some(repo.tree_of(commit.parents[0])?),
            });
        }
        let outcomes =
            merge::merge_into(repo.git_dir(), &repo.objects_dir(), git, scratch, &requests)?;
        let mut next = Vec::new();
        for (&index, outcome) in live.iter().zip(outcomes) {
            if outcome.clean {
                steps[index].push(outcome.tree);
                if level + 1 < series[index].1.len() {
                    next.push(index);
                }
            }
        }
        live = next;
        level += 1;
    }
    Ok(steps)
}

/// The lines a commit adds, as text.
fn added_text(repo: &Repo, commit: &CommitMeta) -> Result<String> {
    let parent = repo.tree_of(commit.parents[0])?;
    let mut text = String::new();
    for delta in repo.diff(Some(parent), commit.tree, false, &[])? {
        let old = delta
            .old_id
            .map(|id| repo.blob(id))
            .transpose()?
            .unwrap_or_default();
        let new = delta
            .new_id
            .map(|id| repo.blob(id))
            .transpose()?
            .unwrap_or_default();
        let (old, new) = (String::from_utf8_lossy(&old), String::from_utf8_lossy(&new));
        let old_lines: HashSet<&str> = old.lines().collect();
        for line in new.lines().filter(|l| !old_lines.contains(l)) {
            text.push_str(line);
            text.push('\n');
        }
    }
    Ok(text)
}

fn body(
    session: &Session,
    kind: &str,
    commits: &[&CommitMeta],
    paths: &BTreeSet<String>,
    has_tests: bool,
    removes: usize,
) -> String {
    let what = if kind == "framework-fix" {
        "a framework change"
    } else {
        "a fix to an upstream connector"
    };
    let mut body = format!(
        "This is {what} a downstream fork of {} carries. Upstream is the right home for it: \
         the fork would stop diverging here{}.\n\nCommits:\n",
        session.pack.name,
        if removes > 0 {
            format!(", and {removes} conflict(s) of its next upgrade would go away")
        } else {
            String::new()
        }
    );
    for commit in commits {
        body.push_str(&format!(
            "- {} ({})\n",
            commit.subject,
            &commit.id.to_string()[..12]
        ));
    }
    body.push_str("\nFiles:\n");
    for path in paths {
        body.push_str(&format!("- {path}\n"));
    }
    body.push_str(if has_tests {
        "\nTests are included.\n"
    } else {
        "\nNo tests yet: add them before opening the PR.\n"
    });
    body
}

fn slug(title: &str) -> String {
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

/// Writes `NN-slug.mbox` (for `git am`, onto the target) and `NN-slug.md` (title and body)
/// per candidate. Returns the files written.
pub fn export(
    repo: &Repo,
    session: &Session,
    candidates: &[Candidate],
    dir: &Path,
) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).io_context(|| format!("could not create {}", dir.display()))?;
    let mut written = Vec::new();
    let target_tree = repo.tree_of(session.target.id)?;
    for candidate in candidates {
        let name = format!(
            "{:02}-{}",
            candidate.report.rank,
            slug(&candidate.report.title)
        );
        let mut mbox = Vec::new();
        let mut previous = target_tree;
        let count = candidate.commits.len();
        for (index, (commit, tree)) in candidate.commits.iter().zip(&candidate.steps).enumerate() {
            mbox.extend(repo.email(commit, previous, *tree, index + 1, count)?);
            previous = *tree;
        }
        let mbox_path = dir.join(format!("{name}.mbox"));
        std::fs::write(&mbox_path, mbox)
            .io_context(|| format!("could not write {}", mbox_path.display()))?;
        let md_path = dir.join(format!("{name}.md"));
        std::fs::write(
            &md_path,
            format!("# {}\n\n{}", candidate.report.title, candidate.report.body),
        )
        .io_context(|| format!("could not write {}", md_path.display()))?;
        written.push(mbox_path);
        written.push(md_path);
    }
    Ok(written)
}
