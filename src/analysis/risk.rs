//! Upgrade risk as a score 0–100 with its reasons. Paths and the whole upgrade use one scale:
//! the upgrade scores at least its hardest path, so a fork whose every path is easy cannot
//! outrank one with a single hard conflict, and fifty conflicts cannot score below one. The
//! model is documented in the README ("Risk score"); keep both in step.

use crate::model::{ChangeClass, Risk};

/// What is known about one changed path of the fork (or one conflicted path upstream alone
/// changed, which the maintainer must still resolve).
#[derive(Debug, Default, Clone)]
pub struct PathFacts {
    pub class: Option<ChangeClass>,
    pub fork_conflict: bool,
    pub upstream_conflict: bool,
    /// Lines in conflict (the larger side); 0 when git reports no line ranges.
    pub conflict_lines: u64,
    pub orphaned: bool,
    /// Upstream commits touching the file since the fork point.
    pub churn_since_fork_point: usize,
    /// Of those, the ones in the six months before the target.
    pub churn_recent: usize,
    /// The file is new on the fork's side: upstream churn elsewhere cannot touch its lines.
    pub added: bool,
    pub lines_changed: u64,
}

/// `per` points per power of ten of `n` (1 → 0, 10 → per, 100 → 2·per), at most `cap`: sizes
/// span four orders of magnitude on real forks, and a linear term either saturates at a few
/// dozen lines or ignores everything below a few hundred.
fn decades(n: u64, per: f64, cap: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    ((per * (n as f64).log10()).round() as u32).min(cap)
}

pub fn path_risk(facts: &PathFacts) -> Risk {
    let mut terms: Vec<(u32, String)> = Vec::new();
    let conflicted = facts.fork_conflict || facts.upstream_conflict;
    if facts.fork_conflict {
        terms.push((35, "the fork's edit conflicts with the target".into()));
    } else if facts.upstream_conflict {
        // Not the fork's doing, but the maintainer resolves it all the same.
        terms.push((
            25,
            "conflicts with the target because of the release branch, not the fork".into(),
        ));
    }
    if conflicted && facts.conflict_lines > 0 {
        terms.push((
            decades(facts.conflict_lines + 1, 10.0, 30),
            format!("{} lines in conflict", facts.conflict_lines),
        ));
    }
    if facts.orphaned {
        terms.push((
            35,
            "left behind in a directory the target no longer has".into(),
        ));
    }
    // A conflict already says that upstream changed the file; counting its commits again
    // would score the same fact twice.
    if !conflicted && !facts.added && facts.churn_since_fork_point > 0 {
        let points = (10 + 3 * facts.churn_since_fork_point).min(25) as u32;
        let recent = if facts.churn_recent > 0 {
            format!(", {} in the last 6 months", facts.churn_recent)
        } else {
            String::new()
        };
        let commits = match facts.churn_since_fork_point {
            1 => "1 commit".to_string(),
            n => format!("{n} commits"),
        };
        terms.push((
            points,
            format!(
                "upstream changed the same file since the fork point ({commits}{recent}); it merges cleanly but needs review"
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
    // In a conflict, the lines in conflict measure the work; the edit's size would count it
    // twice.
    if !conflicted && facts.lines_changed >= 10 {
        terms.push((
            decades(facts.lines_changed, 5.0, 15),
            format!("{} lines changed by the fork", facts.lines_changed),
        ));
    }
    finish(terms)
}

/// The whole upgrade, from the scores of its paths.
#[derive(Debug, Default, Clone)]
pub struct OverallFacts {
    /// Each divergent path's score, and each conflicted path upstream alone changed, as
    /// `(path, score)`.
    pub paths: Vec<(String, u32)>,
    /// Paths to resolve by hand: conflicts (whoever caused them) and orphans.
    pub to_resolve: usize,
    pub fork_conflicts: usize,
    /// Distinct upstream commits touching files the fork changed, since the fork point.
    pub churn: usize,
    /// The protocol gate refuses the upgrade until someone accepts it.
    pub refused: bool,
}

pub fn overall_risk(facts: &OverallFacts) -> Risk {
    let mut terms: Vec<(u32, String)> = Vec::new();
    if let Some((path, score)) = facts
        .paths
        .iter()
        .filter(|(_, score)| *score > 0)
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
    {
        terms.push((*score, format!("the hardest path, {path}")));
    }
    if facts.to_resolve > 1 {
        terms.push((
            decades(facts.to_resolve as u64, 15.0, 30),
            format!(
                "{} paths to resolve by hand ({} caused by the fork)",
                facts.to_resolve,
                crate::model::plural(facts.fork_conflicts, "conflict", "conflicts")
            ),
        ));
    }
    if facts.churn > 0 {
        terms.push((
            decades(facts.churn as u64 + 1, 5.0, 15),
            format!(
                "{} touched files the fork changed",
                crate::model::plural(facts.churn, "upstream commit", "upstream commits")
            ),
        ));
    }
    if facts.refused {
        terms.push((
            40,
            "the connector protocol changed: refused until someone accepts it".into(),
        ));
    }
    finish(terms)
}

fn finish(mut terms: Vec<(u32, String)>) -> Risk {
    terms.retain(|(points, _)| *points > 0);
    terms.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let score = terms.iter().map(|(points, _)| points).sum::<u32>().min(100);
    Risk {
        score,
        reasons: terms
            .into_iter()
            .map(|(points, why)| format!("+{points} {why}"))
            .collect(),
        upstream_churn: None,
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
            conflict_lines: 1000,
            orphaned: true,
            lines_changed: 400,
            ..PathFacts::default()
        });
        assert_eq!(risk.score, 100);
        assert!(
            risk.reasons
                .contains(&"+35 the fork's edit conflicts with the target".to_string())
        );
        assert_eq!(
            path_risk(&PathFacts::default()),
            Risk {
                score: 0,
                reasons: vec![],
                upstream_churn: None,
            }
        );
    }

    #[test]
    fn a_small_edit_is_not_scored_twice_for_one_upstream_change() {
        let risk = path_risk(&PathFacts {
            class: Some(ChangeClass::Framework),
            fork_conflict: true,
            conflict_lines: 2,
            churn_since_fork_point: 10,
            churn_recent: 10,
            lines_changed: 2,
            ..PathFacts::default()
        });
        assert_eq!(risk.score, 35 + 5 + 15, "{risk:?}");
        assert!(!risk.reasons.iter().any(|r| r.contains("upstream changed")));
    }

    #[test]
    fn the_upgrade_scores_at_least_its_hardest_path() {
        let risk = overall_risk(&OverallFacts {
            paths: vec![("a".into(), 70), ("b".into(), 10)],
            to_resolve: 50,
            fork_conflicts: 2,
            refused: true,
            ..OverallFacts::default()
        });
        assert_eq!(risk.score, 100);
        assert_eq!(risk.reasons[0], "+70 the hardest path, a");
    }
}
