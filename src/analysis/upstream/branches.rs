//! Own commits read as branches: which commits follow which, what a branch undid, and which
//! of its commits an upstream commit merged.

use super::{BELONGS, RIDES_ALONG};
use crate::analysis::patches::{CONTAINED, LineChanges, compose};
use crate::facts::{CommitId, CommitInfo, Facts};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The own commits' branches: each own commit (merges aside) follows the own commit below it,
/// looking through merges, so `Merge branch 'main' into …` does not cut a PR branch in two.
/// Where two commits follow the same one, the branches part: each is its own line.
pub(super) fn branches(own: &[&CommitInfo], facts: &Facts) -> Vec<Vec<usize>> {
    let index: HashMap<CommitId, usize> = own.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let merges: HashMap<CommitId, &CommitInfo> = facts
        .own
        .iter()
        .filter(|c| c.is_merge())
        .map(|c| (c.id, c))
        .collect();
    let below = |commit: &CommitInfo| -> Option<usize> {
        let mut at = *commit.parents.first()?;
        let mut seen = HashSet::new();
        loop {
            if let Some(i) = index.get(&at) {
                return Some(*i);
            }
            let merge = merges.get(&at)?;
            if !seen.insert(at) {
                return None;
            }
            // The merged-in side is upstream's (or another branch's): stay on the branch.
            at = *merge
                .parents
                .iter()
                .find(|p| index.contains_key(p) || merges.contains_key(p))?;
        }
    };
    let preds: Vec<Option<usize>> = own.iter().map(|c| below(c)).collect();
    let mut followers = vec![0usize; own.len()];
    for pred in preds.iter().flatten() {
        followers[*pred] += 1;
    }
    let mut line_of: Vec<usize> = vec![0; own.len()];
    let mut lines: Vec<Vec<usize>> = Vec::new();
    // `own` is oldest first, so a commit's predecessor has its line already.
    for (i, pred) in preds.iter().enumerate() {
        match pred {
            Some(p) if followers[*p] == 1 && line_of[*p] < lines.len() => {
                line_of[i] = line_of[*p];
                lines[line_of[i]].push(i);
            }
            _ => {
                line_of[i] = lines.len();
                lines.push(vec![i]);
            }
        }
    }
    lines
}

/// For each commit of a line, its line changes that another commit of the line undoes or
/// redoes: a change reverted later, a line put back.
pub(super) fn undone(line: &[usize], lines: &[LineChanges]) -> Vec<HashSet<u64>> {
    let mut added: HashMap<u64, u32> = HashMap::new();
    let mut removed: HashMap<u64, u32> = HashMap::new();
    for &i in line {
        for key in &lines[i].added {
            *added.entry(*key).or_default() += 1;
        }
        for key in &lines[i].removed {
            *removed.entry(*key).or_default() += 1;
        }
    }
    let elsewhere = |counts: &HashMap<u64, u32>, key: &u64, mine: bool| {
        counts.get(key).copied().unwrap_or(0) > u32::from(mine)
    };
    line.iter()
        .map(|&i| {
            let own = &lines[i];
            own.added
                .iter()
                .filter(|k| elsewhere(&removed, k, own.removed.contains(k)))
                .chain(
                    own.removed
                        .iter()
                        .filter(|k| elsewhere(&added, k, own.added.contains(k))),
                )
                .copied()
                .collect()
        })
        .collect()
}

/// The share of `own`'s line changes that `target` makes, that its branch undid (`undone`),
/// or, with `near`, that sit in a block `target` changed too (`target_blocks`): a lint fix
/// whose line review edited again before the squash.
fn belongs(
    own: &LineChanges,
    undone: &HashSet<u64>,
    target: &LineChanges,
    target_blocks: Option<&HashSet<u64>>,
) -> f64 {
    if own.is_empty() {
        return 0.0;
    }
    let near = |key: &u64| {
        target_blocks.is_some_and(|blocks| own.blocks.get(key).is_some_and(|b| blocks.contains(b)))
    };
    let count = |mine: &HashSet<u64>, theirs: &HashSet<u64>| {
        mine.iter()
            .filter(|k| theirs.contains(k) || undone.contains(k) || near(k))
            .count()
    };
    (count(&own.added, &target.added) + count(&own.removed, &target.removed)) as f64
        / own.len() as f64
}

/// For an own commit (an index into `own`, oldest first), the own commits that descend from
/// it, merges looked through, oldest first.
pub(super) fn descendants<'f>(
    facts: &'f Facts,
    own: &[&CommitInfo],
) -> impl Fn(usize) -> Vec<usize> + 'f {
    let mut children: HashMap<CommitId, Vec<CommitId>> = HashMap::new();
    for commit in &facts.own {
        for parent in &commit.parents {
            children.entry(*parent).or_default().push(commit.id);
        }
    }
    let index: HashMap<CommitId, usize> = own.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let ids: Vec<CommitId> = own.iter().map(|c| c.id).collect();
    move |from: usize| {
        let mut seen: HashSet<CommitId> = HashSet::new();
        let mut stack = vec![ids[from]];
        while let Some(id) = stack.pop() {
            for child in children.get(&id).into_iter().flatten() {
                if seen.insert(*child) {
                    stack.push(*child);
                }
            }
        }
        let mut out: Vec<usize> = seen
            .iter()
            .filter_map(|id| index.get(id).copied())
            .collect();
        out.sort_unstable();
        out
    }
}

/// Whether the own commits `later` than `members` take the members' net change back (a
/// revert, or the old lines written again by hand).
pub(super) fn taken_back<'c>(
    members: &[usize],
    later: &[usize],
    changes_of: &dyn Fn(usize) -> Option<&'c LineChanges>,
) -> bool {
    if later.is_empty() {
        return false;
    }
    let made = compose(members.iter().filter_map(|&i| changes_of(i)));
    if made.is_empty() {
        return false;
    }
    let kept = compose(
        members
            .iter()
            .chain(later.iter().filter(|i| !members.contains(i)))
            .filter_map(|&i| changes_of(i)),
    );
    // Both halves are undone: the lines added are gone and the lines removed are back. A
    // later edit of the same lines (a fix adopted, then tuned) removes what it added but does
    // not bring the old lines back.
    let undone = |mine: &HashSet<u64>, net: &HashSet<u64>| {
        mine.is_empty()
            || mine.iter().filter(|k| !net.contains(k)).count() as f64 / mine.len() as f64
                >= BELONGS
    };
    undone(&made.added, &kept.added) && undone(&made.removed, &kept.removed)
}

/// One line of own commits (oldest first) and what is known of each.
pub(super) struct Branch<'b, 'p> {
    /// Indices into the own commits.
    pub(super) line: &'b [usize],
    /// By position in the line.
    pub(super) lines: &'b [LineChanges],
    pub(super) undone: &'b [HashSet<u64>],
    /// By own commit: the upstream commits that touched its files.
    pub(super) related: &'b [BTreeSet<usize>],
    pub(super) paths_of: &'b dyn Fn(usize) -> &'p [String],
    /// By positions: the share of the first's change gone at the second.
    pub(super) superseded: &'b dyn Fn(usize, usize) -> f64,
}

/// The commits of a line that upstream commit `u` (line changes `target`) merged: those that
/// are mostly its lines (the PR's own commits); between them, what is in the blocks it
/// changed or what later commits or merges superseded; before or after them, what is nearly
/// all its lines or undone within the line. `absorbed` tells, by position,
/// how much of a commit's change upstream already had when `u` merged. `None` when no commit
/// of the line is mostly `u`'s. With the members: their net change and how many paths they
/// touched.
pub(super) fn read_branch(
    branch: &Branch,
    u: usize,
    target: &LineChanges,
    absorbed: &dyn Fn(usize) -> f64,
) -> Option<(Vec<usize>, LineChanges, usize)> {
    let Branch {
        line,
        lines,
        undone,
        related,
        paths_of,
        superseded,
    } = branch;
    let strict = |at: usize| belongs(&lines[at], &undone[at], target, None);
    // Read once a seed is found: most candidates have none.
    let blocks = std::cell::OnceCell::new();
    let near = |at: usize| {
        let blocks = blocks.get_or_init(|| target.touched_blocks());
        belongs(&lines[at], &undone[at], target, Some(blocks))
    };
    let seeds: Vec<usize> = (0..line.len())
        .filter(|&at| {
            related[line[at]].contains(&u)
                && lines[at].contained_in(target) > 0.0
                && strict(at) >= BELONGS
        })
        .collect();
    let (&first, &last) = (seeds.first()?, seeds.last()?);
    // Beyond the PR's own commits, a commit in the same blocks is no evidence: on op-geth the
    // fork's later "change from constant to literal" edits the function the secp256r1 PR added.
    let rides = |at: usize| !lines[at].is_empty() && strict(at) >= RIDES_ALONG;
    let mut from = first;
    while from > 0 && rides(from - 1) {
        from -= 1;
    }
    let mut to = last;
    while to + 1 < line.len() && rides(to + 1) {
        to += 1;
    }
    // Between the PR's own commits, what is in its blocks (formatting, lint) rides along, and
    // so does what did not last (a later commit or a merge from main overwrote it) or what
    // upstream already had when it merged the PR (a NOTICE.txt bump main made too, which the
    // squash therefore lacks). Touching the same files is not enough: op-geth's "Enable on
    // fjord" sits between the commits of the secp256r1 PR and is the fork's own. Before and
    // after them, only what the extension above took.
    let gone = |at: usize| {
        related[line[at]].contains(&u)
            && (superseded(at, last) >= BELONGS || absorbed(at) >= BELONGS)
    };
    let inside: Vec<usize> = (from..=to)
        .filter(|&at| {
            !(first..=last).contains(&at) || lines[at].is_empty() || near(at) >= BELONGS || gone(at)
        })
        .collect();
    // Riders that are in the upstream commit's blocks but not its lines (a lint fix whose line
    // review rewrote), or whose change did not last, count for nothing: the others must still
    // be the upstream commit's.
    let counted = |at: &usize| strict(*at) >= BELONGS || (near(*at) < BELONGS && !gone(*at));
    let measure = |members: &[usize]| {
        let net = compose(
            members
                .iter()
                .filter(|at| counted(at))
                .map(|&at| &lines[at]),
        );
        let paths: HashSet<&String> = members.iter().flat_map(|&at| paths_of(line[at])).collect();
        (net, paths.len())
    };
    let (net, paths) = measure(&inside);
    // Ride-alongs that spoil the reading were not part of it: fall back to the PR's own commits.
    let (members, net, paths) = if net.contained_in(target) >= CONTAINED || inside == seeds {
        (inside, net, paths)
    } else {
        let (net, paths) = measure(&seeds);
        (seeds, net, paths)
    };
    // Commits whose changes cancel down to a single line say little: telegraf's two lint fixes
    // of a README heading net out to its removal, which upstream's rewording of that heading
    // "contains".
    if net.is_empty() || (members.len() > 1 && net.len() < 2) {
        return None;
    }
    Some((members.into_iter().map(|at| line[at]).collect(), net, paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(old: &str, new: &str) -> LineChanges {
        let mut lines = LineChanges::default();
        lines.add_file(old.as_bytes(), new.as_bytes());
        lines
    }

    #[test]
    fn a_line_added_and_taken_out_again_is_no_net_change() {
        let base = "def track(error):\n    count = 1\n";
        let debug = "def track(error):\n    count = 1\n    print(error)\n";
        let fixed = "def track(error):\n    count = 2\n";
        let steps = [
            change(base, debug),
            change(debug, base),
            change(base, fixed),
        ];
        let net = compose(steps.iter());
        let direct = change(base, fixed);
        assert_eq!((net.added, net.removed), (direct.added, direct.removed));
        let undone = undone(&[0, 1, 2], &steps);
        assert_eq!(
            (undone[0].len(), undone[1].len(), undone[2].len()),
            (1, 1, 0)
        );
    }

    #[test]
    fn a_lint_fix_review_rewrote_is_in_the_squash_s_block_and_other_work_is_not() {
        let base = "class Client:\n    def call(self):\n        pass\n\n    def pages(self):\n        size = 100\n";
        let lint = base.replace("        pass\n", "        # back off\n        pass\n");
        let squash = change(
            base,
            &base.replace(
                "        pass\n",
                "        # back off exponentially\n        pass\n",
            ),
        );
        let blocks = squash.touched_blocks();
        let none = HashSet::new();
        let lint = change(base, &lint);
        assert_eq!(belongs(&lint, &none, &squash, None), 0.0);
        assert_eq!(belongs(&lint, &none, &squash, Some(&blocks)), 1.0);
        let other = change(base, &base.replace("size = 100", "size = 500"));
        assert_eq!(belongs(&other, &none, &squash, Some(&blocks)), 0.0);
    }
}
