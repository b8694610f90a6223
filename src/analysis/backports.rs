//! The same pull request elsewhere upstream. A PR merged on the default branch comes back as
//! backports on release branches (`[8.14] Fix the sync (#2312) (#2414)`), and a backport
//! branch may squash two PRs into one: the PR numbers in the subjects, or the same title,
//! tie them together, and the line changes confirm it (PR numbers of a fork and of its
//! upstream collide). Of the copies, the one the target contains is what the upgrade brings.

use super::patches::{self, CONTAINED, LineChanges};
use super::upstream::line_changes;
use crate::error::Result;
use crate::facts::{CommitId, CommitInfo, Facts, Objects, Upstream};
use crate::model::{AlsoIn, pr_numbers};
use std::collections::{HashMap, HashSet};

/// Titles shorter than this (`fix`, `wip`, `update readme`) tie nothing together.
const MIN_TITLE: usize = 12;
/// A copy of a PR makes at least this share of the fork's change, or the change makes this
/// share of it.
const OVERLAP: f64 = 0.5;

/// The upstream commits by PR number and by title, and which refs have which commits.
pub struct Index<'f> {
    facts: &'f Facts,
    by_number: HashMap<u32, Vec<&'f Upstream>>,
    by_title: HashMap<String, Vec<&'f Upstream>>,
    reach: HashMap<CommitId, HashSet<CommitId>>,
}

/// What an already-upstream match names: the upstream commit (the target's copy when it has
/// one), its PR number and the other copies.
pub struct SamePr<'f> {
    pub commit: &'f CommitInfo,
    pub pr: Option<u32>,
    pub also_in: Vec<AlsoIn>,
}

impl<'f> Index<'f> {
    pub fn new(facts: &'f Facts) -> Index<'f> {
        let mut by_number: HashMap<u32, Vec<&Upstream>> = HashMap::new();
        let mut by_title: HashMap<String, Vec<&Upstream>> = HashMap::new();
        for commit in facts
            .upstream
            .iter()
            .filter(|u| facts.since_base.contains(&u.meta.id))
        {
            for number in pr_numbers(&commit.meta.subject) {
                by_number.entry(number).or_default().push(commit);
            }
            let title = patches::normalized_subject(&commit.meta.subject);
            if title.len() >= MIN_TITLE {
                by_title.entry(title).or_default().push(commit);
            }
        }
        Index {
            facts,
            by_number,
            by_title,
            reach: HashMap::new(),
        }
    }

    /// The copies of the PR that merged `chosen`, as far as `members` (the own commits), their
    /// net change `net` and `also` (upstream commits known to hold the same work) tell.
    /// `watched` are the paths line changes are read in.
    #[allow(clippy::too_many_arguments)]
    pub fn same_pr(
        &mut self,
        objects: &dyn Objects,
        watched: &[String],
        chosen: &'f CommitInfo,
        members: &[&CommitInfo],
        also: &[&'f CommitInfo],
        net: &LineChanges,
        in_target: &HashSet<CommitId>,
    ) -> Result<SamePr<'f>> {
        let mut numbers: Vec<u32> = pr_numbers(&chosen.subject);
        for member in members {
            numbers.extend(pr_numbers(&member.subject));
        }
        let titles: HashSet<String> = std::iter::once(chosen)
            .chain(members.iter().copied())
            .map(|c| patches::normalized_subject(&c.subject))
            .collect();
        let mut seen: HashSet<CommitId> = HashSet::from([chosen.id]);
        let mut copies: Vec<(&'f CommitInfo, f64)> = Vec::new();
        let named: Vec<&'f Upstream> = numbers
            .iter()
            .flat_map(|n| self.by_number.get(n).into_iter().flatten())
            .chain(
                titles
                    .iter()
                    .flat_map(|t| self.by_title.get(t).into_iter().flatten()),
            )
            .copied()
            .collect();
        // A commit the PR's number or title names is read in all its files: a backport to a
        // release branch from before a restructure has the fix at the old paths.
        let candidates: Vec<(&'f CommitInfo, &[String])> = also
            .iter()
            .map(|c| (*c, watched))
            .chain(named.iter().map(|u| (&u.meta, u.paths.as_slice())))
            .collect();
        for (candidate, paths) in candidates {
            if !seen.insert(candidate.id) {
                continue;
            }
            let theirs = line_changes(objects, candidate.parent_tree, candidate.tree, paths)?;
            let made = net.contained_in(&theirs);
            // A revert names the PR too, and removes what it added: it is no copy.
            if made >= OVERLAP || (!theirs.is_empty() && theirs.contained_in(net) >= OVERLAP) {
                copies.push((candidate, made));
            }
        }
        // What the upgrade brings: the target's copy, when the chosen commit is not the target's.
        let mut primary = chosen;
        if !in_target.contains(&chosen.id) {
            if let Some(at) = copies
                .iter()
                .position(|(c, made)| in_target.contains(&c.id) && *made >= CONTAINED)
            {
                primary = copies[at].0;
                copies[at].0 = chosen;
            }
        }
        let mut also_in = Vec::new();
        for (commit, _) in copies {
            also_in.push(AlsoIn {
                commit: commit.id.to_string(),
                reference: self.ref_of(commit.id, in_target),
            });
        }
        also_in.sort_by(|a, b| (&a.reference, &a.commit).cmp(&(&b.reference, &b.commit)));
        Ok(SamePr {
            commit: primary,
            pr: pr_numbers(&primary.subject).first().copied(),
            also_in,
        })
    }

    /// A ref that has `id`: the target, else the default branch (where originals are), else
    /// the oldest release branch that has it (where a backport landed), else the first other
    /// upstream ref by name.
    fn ref_of(&mut self, id: CommitId, in_target: &HashSet<CommitId>) -> String {
        let facts = self.facts;
        if in_target.contains(&id) {
            return facts.target.name.clone();
        }
        let default = facts.upstream_refs.first().map(|r| (r.name.clone(), r.id));
        let releases = facts
            .releases
            .iter()
            .filter(|r| r.branch)
            .map(|r| (r.name.clone(), r.commit));
        let mut others: Vec<(String, CommitId)> = facts
            .upstream_refs
            .iter()
            .skip(1)
            .map(|r| (r.name.clone(), r.id))
            .collect();
        others.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
        for (name, tip) in default.into_iter().chain(releases).chain(others) {
            let reach = self
                .reach
                .entry(tip)
                .or_insert_with(|| facts.graph.reachable(&[tip]));
            if reach.contains(&id) {
                return name;
            }
        }
        String::new()
    }
}
