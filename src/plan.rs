//! `forkdrift plan`: the upgrade, one minor at a time. For each hop: the protocol verdict
//! since the previous hop, the conflicts of merging it (in total and caused by the fork),
//! the release notes that matter (breaking first) and the pack's checklist. The plan stops
//! at the first hop whose protocol needs an acceptance.

use crate::analysis::protocol::Verdict;
use crate::analysis::versions::Version;
use crate::audit::{AuditOptions, AuditRun, audit};
use crate::error::Result;
use crate::hops::{self, ReleasePoint};
use crate::model::{Origin, Plan, PlanHop, ReleaseNote};
use crate::repo::Repo;
use crate::repo::git::Git;
use crate::session::{Selection, Session};
use git2::Oid;
use regex::Regex;
use std::collections::BTreeSet;

/// At most this many notes per hop; the rest are counted.
const MAX_NOTES: usize = 25;

/// `--to` may name a version (`9.1`, `8.13.0.0`) rather than a revision.
pub fn resolve_target(repo: &Repo, selection: &Selection) -> Result<Selection> {
    let Some(to) = &selection.to else {
        return Ok(selection.clone());
    };
    if repo.resolve_commit(to).is_ok() {
        return Ok(selection.clone());
    }
    let Some(wanted) = Version::parse(to) else {
        return Ok(selection.clone());
    };
    let probe = Session::open(
        repo,
        &Selection {
            to: None,
            ..selection.clone()
        },
    )?;
    let points = hops::release_points(repo, &probe)?;
    let exact = points
        .iter()
        .rev()
        .find(|p| p.version == wanted && !p.version.is_prerelease());
    let two_parts = to.trim_start_matches('v').split('.').count() == 2;
    let by_minor = points
        .iter()
        .rev()
        .find(|p| two_parts && p.version.minor() == wanted.minor() && !p.version.is_prerelease());
    match exact.or(by_minor) {
        Some(point) => Ok(Selection {
            to: Some(point.name.clone()),
            ..selection.clone()
        }),
        None => Ok(selection.clone()),
    }
}

pub fn plan<'r>(repo: &'r Repo, git: &Git, selection: &Selection) -> Result<AuditRun<'r>> {
    let selection = resolve_target(repo, selection)?;
    let mut run = audit(
        repo,
        git,
        &AuditOptions {
            selection,
            hops: false,
        },
    )?;
    let session = &run.session;
    let gate = crate::gate::Gate::new(repo, session)?;
    let (from_version, points) = hops::hop_points(repo, session, gate.releases())?;
    let merges = hops::merge_points(repo, git, session, &points)?;

    let mut watched: BTreeSet<String> = crate::gate::anchor_paths(&session.pack)
        .into_iter()
        .collect();
    for change in run
        .report
        .changes
        .iter()
        .filter(|c| c.origin != Origin::Upstream)
    {
        watched.insert(change.path.clone());
        watched.extend(change.target_path.clone());
    }
    let watched: Vec<String> = watched.into_iter().collect();

    let mut plan_hops = Vec::new();
    let mut stopped_at = None;
    let mut previous = session.fork_point;
    let mut previous_version = from_version.clone();
    for (point, merged) in points.iter().zip(merges) {
        let (verdict, protocol) = gate.compare(repo, previous, point.commit)?;
        let needs_acceptance = verdict == Verdict::Schema && !protocol.accepted;
        let mut checklist = session.pack.plan.checklist.clone();
        if !session.pack.plan.coupled.is_empty() {
            checklist.insert(
                0,
                format!(
                    "Upgrade these together: {}.",
                    session.pack.plan.coupled.join(", ")
                ),
            );
        }
        if let Some(command) = &session.pack.plan.command {
            checklist.insert(1.min(checklist.len()), format!("Run `{command}`."));
        }
        if needs_acceptance {
            checklist.insert(
                0,
                format!(
                    "Review the protocol changes, then record them: `forkdrift accept-protocol --to {} --why \"…\"`.",
                    point.name
                ),
            );
        }
        plan_hops.push(PlanHop {
            version: point.version.text.clone(),
            name: point.name.clone(),
            commit: point.commit.to_string(),
            protocol: verdict.as_str().into(),
            needs_acceptance,
            conflicts: merged.conflicts.len(),
            fork_conflicts: merged.fork_conflicts.len(),
            notes: release_notes(
                repo,
                session,
                previous,
                point,
                previous_version.as_ref(),
                &watched,
            )?,
            checklist,
            protocol_report: (verdict != Verdict::None).then_some(protocol),
        });
        if needs_acceptance {
            stopped_at = Some(point.version.text.clone());
            break;
        }
        previous = point.commit;
        previous_version = Some(point.version.clone());
    }
    run.refused = stopped_at.is_some();
    run.report.plan = Some(Plan {
        from_version: from_version.map(|v| v.text),
        hops: plan_hops,
        stopped_at,
    });
    Ok(run)
}

/// The changelog sections between two versions, or else the PR titles that matter: those
/// touching what the fork changed or the protocol, and those that say they break things.
fn release_notes(
    repo: &Repo,
    session: &Session,
    previous: Oid,
    point: &ReleasePoint,
    previous_version: Option<&Version>,
    watched: &[String],
) -> Result<Vec<ReleaseNote>> {
    let mut notes = Vec::new();
    if let Some(changelog) = &session.pack.changelog {
        if let Some(bytes) = repo.read(repo.tree_of(point.commit)?, &changelog.path)? {
            let text = String::from_utf8_lossy(&bytes);
            let mut section: Option<Version> = None;
            let mut upgrade_notes = false;
            for line in text.lines() {
                if let Some(caps) = changelog.section.captures(line) {
                    section = Version::parse(&caps["version"]);
                    upgrade_notes = false;
                    continue;
                }
                let Some(version) = &section else { continue };
                let in_range =
                    previous_version.is_none_or(|p| version > p) && *version <= point.version;
                if !in_range {
                    continue;
                }
                let trimmed = line.trim();
                if trimmed.starts_with("###") {
                    upgrade_notes = trimmed.to_ascii_lowercase().contains("upgrade");
                    continue;
                }
                let entry = trimmed
                    .strip_prefix("- ")
                    .or_else(|| trimmed.strip_prefix("* "));
                let text = match entry {
                    Some(entry) => entry.to_string(),
                    None if upgrade_notes && !trimmed.is_empty() => trimmed.to_string(),
                    None => continue,
                };
                notes.push(ReleaseNote {
                    breaking: upgrade_notes || changelog.breaking.is_match(line),
                    text: format!("{}: {text}", version.text),
                    source: changelog.path.clone(),
                });
            }
        }
    }
    if notes.is_empty() {
        let breaking = Regex::new(r"(?i)\bbreaking\b|^\w+(\([^)]*\))?!:").expect("static pattern");
        for id in repo.walk(&[point.commit], &[previous])? {
            let commit = repo.commit(id)?;
            if commit.parents.len() > 1 {
                continue;
            }
            let is_breaking = breaking.is_match(&commit.subject);
            let parent = match commit.parents.first() {
                Some(p) => Some(repo.tree_of(*p)?),
                None => None,
            };
            let relevant =
                is_breaking || !repo.diff(parent, commit.tree, false, watched)?.is_empty();
            if relevant {
                notes.push(ReleaseNote {
                    text: commit.subject.clone(),
                    breaking: is_breaking,
                    source: id.to_string(),
                });
            }
        }
    }
    notes.sort_by_key(|n| !n.breaking);
    if notes.len() > MAX_NOTES {
        let more = notes.len() - MAX_NOTES;
        notes.truncate(MAX_NOTES);
        notes.push(ReleaseNote {
            text: format!("… and {more} more"),
            breaking: false,
            source: String::new(),
        });
    }
    Ok(notes)
}
