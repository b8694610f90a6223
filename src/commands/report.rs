//! `forkdrift report`: the periodic divergence report. The audit and plan of today, written as
//! a self-contained page (`index.html`), `report.json` and `report.md`, and one line of metrics
//! appended to the history; `--backfill` computes the same metrics at past dates, from the fork
//! and the target as they were then, so that the trend starts with a year of history.

use super::audit::{self, Audit};
use super::plan;
use crate::error::{IoContext, Result};
use crate::facts::CommitId;
use crate::history::{self, Metrics};
use crate::model::{Refused, Report};
use crate::repo::Repo;
use crate::repo::collect::Selection;
use crate::repo::git::Git;
use crate::time::{self, DAY};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Weekly,
    Monthly,
}

#[derive(Debug, Clone)]
pub struct Backfill {
    pub cadence: Cadence,
    /// The first date, as seconds since the epoch (midnight UTC).
    pub since: i64,
}

pub struct ReportRun {
    pub audit: Audit,
    /// Every point of the history, oldest first.
    pub history: Vec<Metrics>,
    /// Points computed by this run's backfill, and dates it could not compute (no commit yet).
    pub backfilled: usize,
    pub unreachable: Vec<String>,
    /// History lines this version could not read.
    pub skipped: usize,
    pub written: Vec<PathBuf>,
}

/// Called before each point of a backfill: (done, total).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

pub fn report(
    repo: &Repo,
    git: &Git,
    selection: &Selection,
    out: &Path,
    history_path: &Path,
    backfill: Option<&Backfill>,
    progress: Progress,
) -> Result<ReportRun> {
    std::fs::create_dir_all(out).io_context(|| format!("could not create {}", out.display()))?;
    let existing = history::read(history_path)
        .io_context(|| format!("could not read {}", history_path.display()))?;
    let known: BTreeSet<String> = existing.points.iter().map(|m| m.date.clone()).collect();

    let mut backfilled = 0;
    let mut unreachable = Vec::new();
    if let Some(backfill) = backfill {
        let fork = repo.resolve_commit(&selection.fork)?;
        let target = repo.resolve_commit(&crate::repo::collect::target_name(repo, selection)?)?;
        let (fork_line, target_line) = (
            first_parent_line(repo, fork)?,
            first_parent_line(repo, target)?,
        );
        let dates: Vec<i64> = schedule(backfill, time::now())
            .into_iter()
            .filter(|d| !known.contains(&time::format_date(*d)))
            .collect();
        // Between two dates nothing may have moved: a point whose fork and target are those of
        // a point already computed (in this run or an earlier one) is that point again.
        let mut computed: HashMap<(String, String), Metrics> = existing
            .points
            .iter()
            .map(|m| ((m.fork.clone(), m.target.clone()), m.clone()))
            .collect();
        let mut points: Vec<(i64, (String, String))> = Vec::new();
        for date in &dates {
            let end_of_day = date + DAY - 1;
            match (
                as_of(&fork_line, end_of_day),
                as_of(&target_line, end_of_day),
            ) {
                (Some(fork_then), Some(target_then)) => {
                    points.push((*date, (fork_then.to_string(), target_then.to_string())));
                }
                _ => unreachable.push(time::format_date(*date)),
            }
        }
        // The pairs not computed yet are audited in parallel, each worker with its own
        // repository handle (a handle is not Sync): the points are independent.
        let mut missing: Vec<(String, String)> = points
            .iter()
            .map(|(_, key)| key.clone())
            .filter(|key| !computed.contains_key(key))
            .collect();
        missing.sort();
        missing.dedup();
        progress(0, missing.len());
        let handle = repo.handle();
        let audited: Vec<Result<((String, String), Metrics)>> = {
            use rayon::prelude::*;
            missing
                .par_iter()
                .map(|key| {
                    let local = handle.open()?;
                    let then = Selection {
                        fork: key.0.clone(),
                        to: Some(key.1.clone()),
                        ..selection.clone()
                    };
                    let past = audit::audit(&local, git, &then, false)?;
                    Ok((key.clone(), metrics(&past, "")))
                })
                .collect()
        };
        for result in audited {
            let (key, metrics) = result?;
            computed.insert(key, metrics);
        }
        for (date, key) in &points {
            let metrics = Metrics {
                date: time::format_date(*date),
                ..computed[key].clone()
            };
            history::append(history_path, &metrics)
                .io_context(|| format!("could not write {}", history_path.display()))?;
            backfilled += 1;
        }
        let dates = &missing;
        progress(dates.len(), dates.len());
    }

    let today = plan::plan(repo, git, selection)?;
    let now = metrics(&today, &time::format_date(time::now()));
    history::append(history_path, &now)
        .io_context(|| format!("could not write {}", history_path.display()))?;
    let read = history::read(history_path)
        .io_context(|| format!("could not read {}", history_path.display()))?;
    let mut points = read.points;
    points.sort_by(|a, b| a.date.cmp(&b.date));
    // A rerun on the same day replaces that day's point on the page.
    points.dedup_by(|later, earlier| {
        let same = later.date == earlier.date;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });

    let written = write_pages(out, &today.report, today.refusal().as_ref(), &points)?;
    Ok(ReportRun {
        audit: today,
        history: points,
        backfilled,
        unreachable,
        skipped: read.skipped,
        written,
    })
}

fn metrics(audit: &Audit, date: &str) -> Metrics {
    let facts = &audit.facts;
    let behind = facts.graph.walk(&[facts.target.id], &[facts.fork.id]).len();
    let ahead = facts.graph.walk(&[facts.fork.id], &[facts.target.id]).len();
    Metrics::from_report(&audit.report, date, behind, ahead)
}

fn write_pages(
    out: &Path,
    report: &Report,
    refusal: Option<&Refused>,
    history: &[Metrics],
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut page = Vec::new();
    crate::render::html::render(report, history, &mut page)
        .io_context(|| "could not render the page".into())?;
    let mut json = Vec::new();
    crate::render::json::render(report, &mut json)
        .io_context(|| "could not render the JSON report".into())?;
    let mut markdown = Vec::new();
    crate::render::markdown::render(report, refusal, &mut markdown)
        .io_context(|| "could not render the Markdown report".into())?;
    for (name, bytes) in [
        ("index.html", page),
        ("report.json", json),
        ("report.md", markdown),
    ] {
        let path = out.join(name);
        write_atomically(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// Readers of the page (a web server, a CI artifact) never see half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .io_context(|| format!("could not write in {}", dir.display()))?;
    std::io::Write::write_all(&mut temp, bytes)
        .io_context(|| format!("could not write {}", path.display()))?;
    temp.persist(path)
        .map_err(|e| e.error)
        .io_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}

/// The backfill's dates, from `since` up to (not including) today: every 7 days, or the same
/// day of every month.
fn schedule(backfill: &Backfill, now: i64) -> Vec<i64> {
    let today = now - now.rem_euclid(DAY);
    let mut dates = Vec::new();
    let mut date = backfill.since - backfill.since.rem_euclid(DAY);
    let mut months = 0;
    while date < today {
        dates.push(date);
        date = match backfill.cadence {
            Cadence::Weekly => date + 7 * DAY,
            Cadence::Monthly => {
                months += 1;
                time::add_months(backfill.since, months)
            }
        };
    }
    dates
}

/// A ref's first-parent line, newest first, with commit times: read once per backfill.
fn first_parent_line(repo: &Repo, tip: CommitId) -> Result<Vec<(i64, CommitId)>> {
    let mut line = Vec::new();
    let mut current = Some(tip);
    while let Some(id) = current {
        let commit = repo.commit(id)?;
        line.push((commit.time, id));
        current = commit.parents.first().copied();
    }
    Ok(line)
}

/// The newest commit of a ref's first-parent line committed at or before `when`: the ref as it
/// was then, read from history (a reflog does not go back that far, nor exist in a clone).
fn as_of(line: &[(i64, CommitId)], when: i64) -> Option<CommitId> {
    line.iter()
        .find(|(time, _)| *time <= when)
        .map(|(_, id)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_run_weekly_or_monthly_up_to_today() {
        let since = time::parse_iso("2024-01-31T12:00:00Z").unwrap();
        let now = time::parse_iso("2024-05-02T08:00:00Z").unwrap();
        let monthly: Vec<String> = schedule(
            &Backfill {
                cadence: Cadence::Monthly,
                since,
            },
            now,
        )
        .into_iter()
        .map(time::format_date)
        .collect();
        assert_eq!(
            monthly,
            ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
        );
        let weekly = schedule(
            &Backfill {
                cadence: Cadence::Weekly,
                since,
            },
            now,
        );
        assert_eq!(weekly.len(), 14);
    }
}
