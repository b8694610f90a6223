//! The divergence history behind `forkdrift report`: one JSON line of metrics per run.
//!
//! Every line carries its schema version. Appending rewrites the whole file through a
//! temporary file in the same directory and a rename, so a crash never leaves a half-written
//! history; a truncated last line (a history written by something less careful, or cut short
//! by a full disk) is skipped when reading and dropped by the next append.

use crate::model::{ChangeClass, Origin, Report};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::path::Path;

pub const HISTORY_SCHEMA: &str = "forkdrift.history/1";

/// One point of the history. Fields are added, never renamed or dropped (as for the report).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub schema: String,
    /// ISO date of the point (`YYYY-MM-DD`): the fork commit's date, or a backfill date.
    pub date: String,
    /// The audited fork commit.
    pub fork: String,
    /// The upgrade target's commit.
    pub target: String,
    /// Upstream commits the fork lacks: the target side since the merge-base.
    pub commits_behind: usize,
    /// The fork side since the merge-base.
    pub commits_ahead: usize,
    pub own_commits: usize,
    /// Lines added plus deleted over the divergent framework changes.
    pub framework_lines: u64,
    pub framework_files: usize,
    pub connectors_added: usize,
    /// Upstream connectors edited in place.
    pub connectors_modified: usize,
    pub conflicts: usize,
    pub fork_conflicts: usize,
    pub risk: u32,
    /// The protocol verdict (`schema`, `prose`, `none`); `none` when the pack has no anchors.
    pub protocol: String,
    pub pr_candidates: usize,
    /// Own commits upstream already has.
    pub already_upstream: usize,
}

/// A divergent change: the fork's own work that upstream does not have.
fn divergent(change: &crate::model::Change) -> bool {
    change.origin != Origin::Upstream && !change.already_upstream
}

impl Metrics {
    /// The metrics of one report. `commits_behind` and `commits_ahead` are not in the report;
    /// the caller counts them (target and fork side since the merge-base).
    pub fn from_report(
        report: &Report,
        date: &str,
        commits_behind: usize,
        commits_ahead: usize,
    ) -> Metrics {
        let divergent: Vec<_> = report.changes.iter().filter(|c| divergent(c)).collect();
        let framework: Vec<_> = divergent
            .iter()
            .filter(|c| c.class == ChangeClass::Framework)
            .collect();
        let units = |class: ChangeClass| {
            let mut units: Vec<&str> = divergent
                .iter()
                .filter(|c| c.class == class)
                .map(|c| c.unit.as_deref().unwrap_or(c.path.as_str()))
                .collect();
            units.sort_unstable();
            units.dedup();
            units.len()
        };
        Metrics {
            schema: HISTORY_SCHEMA.into(),
            date: date.into(),
            fork: report.fork.commit.clone(),
            target: report.target.commit.clone(),
            commits_behind,
            commits_ahead,
            own_commits: report.summary.own_commits,
            framework_lines: framework
                .iter()
                .map(|c| c.lines_added + c.lines_deleted)
                .sum(),
            framework_files: framework.len(),
            connectors_added: units(ChangeClass::ConnectorAdded),
            connectors_modified: units(ChangeClass::ConnectorModified),
            conflicts: report.summary.conflicts,
            fork_conflicts: report.summary.fork_conflicts,
            risk: report.risk.score,
            protocol: report
                .protocol
                .as_ref()
                .map_or_else(|| "none".to_string(), |p| p.verdict.clone()),
            pr_candidates: report.pr_candidates.len(),
            already_upstream: report
                .own_commits
                .iter()
                .filter(|c| c.already_upstream)
                .count(),
        }
    }
}

/// What `read` found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The valid points, in file order (oldest first when only `append` wrote the file).
    pub points: Vec<Metrics>,
    /// Lines that were not a history point: truncated, invalid or another schema.
    pub skipped: usize,
}

fn parse_line(line: &str) -> Option<Metrics> {
    let metrics: Metrics = serde_json::from_str(line).ok()?;
    // Schema 1 only grows fields (ignored here); another version is not ours to read.
    (metrics.schema == HISTORY_SCHEMA).then_some(metrics)
}

/// Reads a history file; a missing file is an empty history.
pub fn read(path: &Path) -> io::Result<History> {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(History::default()),
        Err(e) => return Err(e),
    };
    let mut history = History::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match parse_line(line) {
            Some(metrics) => history.points.push(metrics),
            None => history.skipped += 1,
        }
    }
    Ok(history)
}

/// Appends one point, atomically: the existing lines and the new one go to a temporary file
/// in the same directory, which then replaces the history. Existing lines are kept verbatim
/// (even ones this version cannot read), except a last line that is cut short — no final
/// newline and not valid — which is dropped. Returns how many lines were dropped (0 or 1).
/// Creates the directory if needed.
pub fn append(path: &Path, metrics: &Metrics) -> io::Result<usize> {
    let existing = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut keep: &[u8] = &existing;
    let mut dropped = 0;
    if !keep.is_empty() && !keep.ends_with(b"\n") {
        let start = keep
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |pos| pos + 1);
        let last = String::from_utf8_lossy(&keep[start..]);
        if parse_line(last.trim()).is_none() {
            keep = &keep[..start];
            if !last.trim().is_empty() {
                dropped = 1;
            }
        }
    }

    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".history-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(keep)?;
    if !keep.is_empty() && !keep.ends_with(b"\n") {
        temp.write_all(b"\n")?;
    }
    serde_json::to_writer(&mut temp, metrics)?;
    temp.write_all(b"\n")?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(date: &str, risk: u32) -> Metrics {
        Metrics {
            schema: HISTORY_SCHEMA.into(),
            date: date.into(),
            fork: "f".repeat(40),
            target: "t".repeat(40),
            commits_behind: 10,
            commits_ahead: 4,
            own_commits: 3,
            framework_lines: 42,
            framework_files: 2,
            connectors_added: 1,
            connectors_modified: 1,
            conflicts: 2,
            fork_conflicts: 1,
            risk,
            protocol: "none".into(),
            pr_candidates: 1,
            already_upstream: 0,
        }
    }

    #[test]
    fn a_missing_file_is_an_empty_history() {
        let dir = tempfile::tempdir().unwrap();
        let history = read(&dir.path().join("history.jsonl")).unwrap();
        assert_eq!(history, History::default());
    }

    #[test]
    fn append_then_read_round_trips_in_order_with_the_schema_on_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("history.jsonl");
        assert_eq!(append(&path, &point("2024-01-01", 10)).unwrap(), 0);
        assert_eq!(append(&path, &point("2024-02-01", 20)).unwrap(), 0);
        let history = read(&path).unwrap();
        assert_eq!(history.skipped, 0);
        assert_eq!(
            history.points,
            vec![point("2024-01-01", 10), point("2024-02-01", 20)]
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));
        assert!(
            text.lines()
                .all(|l| l.contains(r#""schema":"forkdrift.history/1""#))
        );
        // Nothing but the history is left in the directory.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("history.jsonl")]);
    }

    #[test]
    fn a_truncated_last_line_is_skipped_and_dropped_by_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        append(&path, &point("2024-01-01", 10)).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        let whole = serde_json::to_string(&point("2024-02-01", 20)).unwrap();
        text.push_str(&whole[..whole.len() / 2]);
        std::fs::write(&path, &text).unwrap();

        let history = read(&path).unwrap();
        assert_eq!(history.points, vec![point("2024-01-01", 10)]);
        assert_eq!(history.skipped, 1);

        assert_eq!(append(&path, &point("2024-03-01", 30)).unwrap(), 1);
        let history = read(&path).unwrap();
        assert_eq!(history.skipped, 0);
        assert_eq!(
            history.points,
            vec![point("2024-01-01", 10), point("2024-03-01", 30)]
        );
    }

    #[test]
    fn a_complete_last_line_without_newline_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let line = serde_json::to_string(&point("2024-01-01", 10)).unwrap();
        std::fs::write(&path, &line).unwrap();
        assert_eq!(append(&path, &point("2024-02-01", 20)).unwrap(), 0);
        let history = read(&path).unwrap();
        assert_eq!(history.points.len(), 2);
        assert_eq!(history.skipped, 0);
    }

    #[test]
    fn lines_of_another_schema_are_skipped_on_read_but_kept_on_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let mut other = serde_json::to_value(point("2024-01-01", 10)).unwrap();
        other["schema"] = "forkdrift.history/2".into();
        std::fs::write(&path, format!("{other}\nnot json\n")).unwrap();
        append(&path, &point("2024-02-01", 20)).unwrap();
        let history = read(&path).unwrap();
        assert_eq!(history.points, vec![point("2024-02-01", 20)]);
        assert_eq!(history.skipped, 2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&format!("{other}\nnot json\n")));
    }

    #[test]
    fn a_line_with_fields_added_later_is_read() {
        let mut value = serde_json::to_value(point("2024-01-01", 10)).unwrap();
        value["something_new"] = 3.into();
        assert_eq!(
            parse_line(&value.to_string()),
            Some(point("2024-01-01", 10))
        );
    }
}
