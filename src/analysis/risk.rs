//! Upgrade risk beyond textual conflicts, as a score 0–100 with its reasons. The formula is
//! documented in the README ("Risk score"); keep both in step.

use crate::model::{ChangeClass, Risk};

/// What is known about one changed path of the fork.
#[derive(Debug, Default, Clone)]
pub struct PathFacts {
    pub class: Option<ChangeClass>,
    pub fork_conflict: bool,
    pub upstream_conflict: bool,
    pub orphaned: bool,
    /// Upstream changed the same file since the fork point and it merged cleanly.
    pub same_file_clean: bool,
    /// Upstream commits touching the file since the fork point.
    pub churn_since_fork_point: usize,
    /// Upstream commits touching the file in the six months before the target.
    pub churn_recent: usize,
    pub lines_changed: u64,
}

pub fn path_risk(facts: &PathFacts) -> Risk {
    let mut terms: Vec<(u32, String)> = Vec::new();
    if facts.fork_conflict {
        terms.push((40, "the fork's edit conflicts with the target".into()));
    } else if facts.upstream_conflict {
        terms.push((
            15,
            "conflicts with the target because of the release branch, not the fork".into(),
        ));
    }
    if facts.orphaned {
        terms.push((
            35,
            "left behind in a directory the target no longer has".into(),
        ));
    }
    if facts.same_file_clean {
        terms.push((
            20,
            "upstream changed the same file; it merges cleanly but needs review".into(),
        ));
    }
    if facts.churn_since_fork_point > 0 {
        let points = (3 * facts.churn_since_fork_point).min(15) as u32;
        terms.push((
            points,
            format!(
                "{} upstream commits touched it since the fork point",
                facts.churn_since_fork_point
            ),
        ));
    }
    if facts.churn_recent > 0 {
        let points = (2 * facts.churn_recent).min(10) as u32;
        terms.push((
            points,
            format!(
                "{} upstream commits touched it in the last 6 months",
                facts.churn_recent
            ),
        ));
    }
    match facts.class {
        Some(ChangeClass::Framework) => terms.push((15, "framework zone".into())),
        Some(ChangeClass::ConnectorModified) => {
            terms.push((10, "upstream connector edited in place".into()))
        }
        Some(ChangeClass::ConnectorDeleted) => {
            terms.push((10, "upstream connector removed".into()))
        }
        Some(ChangeClass::Registration) => terms.push((3, "registration file".into())),
        _ => {}
    }
    if facts.lines_changed >= 20 {
        let points = (facts.lines_changed / 20).min(10) as u32;
        terms.push((
            points,
            format!("{} lines changed by the fork", facts.lines_changed),
        ));
    }
    finish(terms)
}

/// Counts over the fork's divergent changes, for the overall score.
#[derive(Debug, Default, Clone)]
pub struct OverallFacts {
    pub fork_conflicts: usize,
    pub orphaned: usize,
    pub framework_edits: usize,
    pub same_file_clean: usize,
    pub churn: usize,
}

pub fn overall_risk(facts: &OverallFacts) -> Risk {
    let mut terms: Vec<(u32, String)> = Vec::new();
    let mut add = |count: usize, each: usize, cap: usize, what: &str| {
        if count > 0 {
            terms.push(((count * each).min(cap) as u32, format!("{count} {what}")));
        }
    };
    add(facts.fork_conflicts, 8, 40, "conflicts caused by the fork");
    add(facts.orphaned, 10, 20, "files orphaned by the upgrade");
    add(facts.framework_edits, 4, 20, "framework edits");
    add(
        facts.same_file_clean,
        2,
        10,
        "files both sides changed that merge cleanly",
    );
    if facts.churn >= 5 {
        terms.push((
            (facts.churn / 5).min(10) as u32,
            format!(
                "{} upstream commits touched files the fork changed",
                facts.churn
            ),
        ));
    }
    finish(terms)
}

fn finish(mut terms: Vec<(u32, String)>) -> Risk {
    terms.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let score = terms.iter().map(|(points, _)| points).sum::<u32>().min(100);
    Risk {
        score,
        reasons: terms
            .into_iter()
            .map(|(points, why)| format!("+{points} {why}"))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_add_up_and_cap_at_100() {
        let risk = path_risk(&PathFacts {
            class: Some(ChangeClass::Framework),
            fork_conflict: true,
            orphaned: true,
            churn_since_fork_point: 10,
            churn_recent: 10,
            lines_changed: 400,
            ..PathFacts::default()
        });
        assert_eq!(risk.score, 100);
        assert_eq!(
            risk.reasons[0],
            "+40 the fork's edit conflicts with the target"
        );
        assert_eq!(
            path_risk(&PathFacts::default()),
            Risk {
                score: 0,
                reasons: vec![]
            }
        );
    }
}
