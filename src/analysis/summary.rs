//! The report's summary: counts that agree with its lists.

use crate::model::{ChangeClass, Origin, Report, Severity, Summary};

/// Sorts the changes and counts them, the findings and the conflicts.
pub fn summarize(report: &mut Report) {
    report.changes.sort_by(|a, b| a.path.cmp(&b.path));
    let mut summary = Summary {
        own_commits: report.own_commits.len(),
        own_commits_already_upstream: report
            .own_commits
            .iter()
            .filter(|c| c.already_upstream)
            .count(),
        changes: report.changes.len(),
        ..Summary::default()
    };
    for class in ChangeClass::ALL {
        summary.by_class.insert(class.as_str().into(), 0);
    }
    for change in &report.changes {
        if change.is_divergent() {
            summary.divergent += 1;
            *summary
                .by_class
                .entry(change.class.as_str().into())
                .or_default() += 1;
        }
        summary.already_upstream += usize::from(change.already_upstream);
        let origin = match change.origin {
            Origin::Fork => "fork",
            Origin::Upstream => "upstream",
            Origin::Both => "both",
        };
        *summary.by_origin.entry(origin.into()).or_default() += 1;
        summary.orphaned += usize::from(change.orphaned);
    }
    for severity in [Severity::Error, Severity::Warning, Severity::Note] {
        summary.findings.insert(severity.as_str().into(), 0);
    }
    for finding in &report.findings {
        *summary
            .findings
            .entry(finding.severity.as_str().into())
            .or_default() += 1;
    }
    summary.conflicts = report.conflicts.len();
    summary.fork_conflicts = report
        .conflicts
        .iter()
        .filter(|c| c.is_fork_caused())
        .count();
    report.summary = summary;
}
