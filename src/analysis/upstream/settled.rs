//! Which of the fork's changes upstream already has: own commits upstream already has, and
//! the files the upstream commits that have them touched.

use crate::facts::{CommitId, Facts};
use crate::model::AlreadyUpstream;
use std::collections::{HashMap, HashSet};

/// Own commits upstream already has, each with the paths the upstream commits that have it
/// touched. A commit of a squash-merged branch is upstream's, but its change to a file is
/// only where the squash touched that file: review can leave a file out of the PR (top-gg's
/// wiring of ErrorMonitor into sync_job_runner.py, which #2671 does not touch), and the
/// fork's change to it is still the fork's to carry.
#[derive(Debug, Clone, Default)]
pub struct Settled {
    paths: HashMap<CommitId, HashSet<String>>,
    /// The upstream commit that has each own commit, and its subject.
    merged_as: HashMap<CommitId, (String, String)>,
}

impl Settled {
    pub fn new(facts: &Facts, already: &[AlreadyUpstream]) -> Settled {
        let touched: HashMap<String, &Vec<String>> = facts
            .upstream
            .iter()
            .map(|u| (u.meta.id.to_string(), &u.paths))
            .collect();
        let mut paths: HashMap<CommitId, HashSet<String>> = HashMap::new();
        let mut merged_as = HashMap::new();
        for entry in already {
            let upstream: HashSet<&String> = std::iter::once(&entry.upstream_commit)
                .chain(entry.also_in.iter().map(|a| &a.commit))
                .filter_map(|id| touched.get(id))
                .flat_map(|paths| paths.iter())
                .collect();
            for own in entry.commits.iter().filter_map(|id| id.parse().ok()) {
                paths
                    .entry(own)
                    .or_default()
                    .extend(upstream.iter().map(|p| (*p).clone()));
                merged_as.entry(own).or_insert_with(|| {
                    (
                        entry.upstream_commit.clone(),
                        entry.upstream_subject.clone(),
                    )
                });
            }
        }
        Settled { paths, merged_as }
    }

    /// The upstream commit that has the own commit `id`, and its subject.
    pub fn merged_as(&self, id: &CommitId) -> Option<(&str, &str)> {
        self.merged_as
            .get(id)
            .map(|(commit, subject)| (commit.as_str(), subject.as_str()))
    }

    /// Upstream already has the own commit `id`.
    pub fn contains(&self, id: &CommitId) -> bool {
        self.paths.contains_key(id)
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Upstream already has the own commit `id` in the file known by any of `names` (where
    /// the fork has it, where it was, where the target has it).
    pub fn has_in(&self, id: &CommitId, names: &[&str]) -> bool {
        self.paths
            .get(id)
            .is_some_and(|paths| names.iter().any(|name| paths.contains(*name)))
    }
}
