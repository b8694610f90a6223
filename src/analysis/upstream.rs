//! Fork work that upstream already has. Own commits are looked for among the upstream
//! commits since the merge-base that touched the same files (or where those files went): one
//! by one by patch-id, by a `cherry picked from` trailer and by PR number with the same
//! subject; and as branches. A branch of own commits (merges from upstream inside it do not
//! cut it) is judged the way a person reads a pull request: the upstream commit that merged
//! it makes the branch's net change, and the branch explains most of that commit. Commits that
//! ride along (formatting, lint fixes, a change the branch undid later) belong to the PR;
//! the fork's own work before or on top of it does not.

use super::backports;
use super::patches::{self, CONTAINED, LineChanges};
use crate::error::Result;
use crate::facts::{BlobId, CommitId, CommitInfo, Facts, Objects, TreeId, Upstream, par_map};
use crate::model::{AlreadyUpstream, Change, Origin};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A commit belongs to a PR when at least this share of its line changes is the PR's or is
/// undone or redone elsewhere in its branch ...
const BELONGS: f64 = 0.5;
/// ... and a commit before the PR's first or after its last commit that shares its lines
/// only when nearly all of it does: the fork's own work on top of a PR is the fork's.
const RIDES_ALONG: f64 = 0.8;
/// An upstream commit the fork's change makes at least this share of is mostly that change:
/// the merge of the PR, not a bigger commit that happens to contain it.
const MOSTLY: f64 = 0.5;

/// An upstream commit this many times wider than the fork's change, and at least
/// [`WIDE_PATHS`] paths wide (a restructure, a whole-tree reformat, a removal of the code
/// base), contains a small change by sheer size ...
const WIDE_RATIO: usize = 10;
const WIDE_PATHS: usize = 20;
/// ... unless the change explains at least this share of its line changes in the files the
/// fork touched: the commit that merged a fix is mostly that fix.
const MIN_EXPLAINED: f64 = 0.05;

/// Whether `upstream` can be the commit that merged `own` (which touched `own_paths` paths),
/// and how well: the share of `own` it makes, then the share of itself `own` explains, so that
/// of two commits that both make a fix the one that is mostly that fix wins.
fn weigh(
    own: &LineChanges,
    own_paths: usize,
    theirs: &LineChanges,
    upstream: &Upstream,
) -> Option<(f64, f64)> {
    let share = own.contained_in(theirs);
    let explained = own.explains(theirs);
    let wide = upstream.paths.len() >= WIDE_PATHS.max(WIDE_RATIO * own_paths.max(1));
    (share >= CONTAINED && (!wide || explained >= MIN_EXPLAINED)).then_some((share, explained))
}

/// The paths worth watching upstream: what the fork changed, what its own commits touched, and
/// where those files live at the target.
pub fn watched_paths(facts: &Facts, changes: &[Change]) -> Vec<String> {
    let mut watched: BTreeSet<String> = BTreeSet::new();
    for change in changes.iter().filter(|c| c.origin != Origin::Upstream) {
        watched.insert(change.path.clone());
        watched.extend(change.old_path.clone());
        watched.extend(change.target_path.clone());
    }
    for commit in &facts.own {
        watched.extend(facts.touched.get(&commit.id).into_iter().flatten().cloned());
    }
    watched.into_iter().collect()
}

/// `path` is watched, or lies in a watched directory: what a pathspec of `watched` selects.
fn watches(watched: &HashSet<&str>, path: &str) -> bool {
    watched.contains(path)
        || path
            .match_indices('/')
            .any(|(at, _)| watched.contains(&path[..at]))
}

/// The line changes between two trees. Renames are paired first, so that a move carries only
/// its edits: a file the fork deleted must not pass for upstream's rename of it.
pub fn line_changes(
    objects: &dyn Objects,
    from_tree: Option<TreeId>,
    to_tree: TreeId,
    paths: &[String],
) -> Result<LineChanges> {
    let mut changes = LineChanges::default();
    if let Some(pairs) = edited_in_place(objects, from_tree, to_tree, paths)? {
        for (old, new) in pairs {
            if old != new {
                add_blobs(objects, &mut changes, Some(old), Some(new))?;
            }
        }
        return Ok(changes);
    }
    let mut deltas = objects.diff(from_tree, to_tree, true, paths)?;
    // The path filter hides the other side of a move into or out of the watched paths, which
    // then reads as a whole file added or deleted: a pure move commit would pass for every
    // line of the file. Pair renames over the whole change, then keep the watched ones.
    if from_tree.is_some()
        && deltas
            .iter()
            .any(|d| d.old_id.is_none() || d.new_id.is_none())
    {
        let watched: HashSet<&str> = paths.iter().map(String::as_str).collect();
        let is_watched =
            |path: &Option<String>| path.as_deref().is_some_and(|p| watches(&watched, p));
        deltas = objects
            .diff(from_tree, to_tree, true, &[])?
            .into_iter()
            .filter(|d| paths.is_empty() || is_watched(&d.old_path) || is_watched(&d.new_path))
            .collect();
    }
    for delta in deltas {
        add_blobs(objects, &mut changes, delta.old_id, delta.new_id)?;
    }
    Ok(changes)
}

/// The blobs of `paths` on both sides, when every path is a file in both trees: then the
/// change is those files' edits, with no tree diff to run and no added or deleted file to
/// pair as a move. None when a path is added, deleted or not a file on one side.
fn edited_in_place(
    objects: &dyn Objects,
    from_tree: Option<TreeId>,
    to_tree: TreeId,
    paths: &[String],
) -> Result<Option<Vec<(BlobId, BlobId)>>> {
    let Some(from_tree) = from_tree.filter(|_| !paths.is_empty()) else {
        return Ok(None);
    };
    let mut pairs = Vec::with_capacity(paths.len());
    for path in paths {
        match (
            objects.entry(from_tree, path)?,
            objects.entry(to_tree, path)?,
        ) {
            (Some(old), Some(new)) => pairs.push((old, new)),
            _ => return Ok(None),
        }
    }
    Ok(Some(pairs))
}

/// Adds the line changes between two blobs (None: the file is absent on that side).
fn add_blobs(
    objects: &dyn Objects,
    changes: &mut LineChanges,
    old: Option<BlobId>,
    new: Option<BlobId>,
) -> Result<()> {
    let read = |id: Option<BlobId>| -> Result<Option<Vec<u8>>> {
        match id {
            Some(id) => objects.blob_if_present(id),
            None => Ok(Some(Vec::new())),
        }
    };
    // Binary files and blobs this clone lacks say nothing about lines.
    let (Some(old), Some(new)) = (read(old)?, read(new)?) else {
        return Ok(());
    };
    if !old.contains(&0) && !new.contains(&0) {
        changes.add_file(&old, &new);
    }
    Ok(())
}

fn patch_id(objects: &dyn Objects, commit: &CommitInfo) -> Result<Option<String>> {
    match commit.parent_tree {
        Some(parent) => objects.patch_id(parent, commit.tree),
        None => Ok(None),
    }
}

/// A reading of some own commits as one upstream commit, before the readings compete.
#[derive(Debug, Clone)]
struct Proposal {
    /// Index into the upstream commits that touched a watched path.
    upstream: usize,
    /// Indices into the own commits, oldest first.
    members: Vec<usize>,
    method: &'static str,
    share: f64,
    explained: f64,
}

/// The own commits' branches: each own commit (merges aside) follows the own commit below it,
/// looking through merges, so `Merge branch 'main' into …` does not cut a PR branch in two.
/// Where two commits follow the same one, the branches part: each is its own line.
fn branches(own: &[&CommitInfo], facts: &Facts) -> Vec<Vec<usize>> {
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
fn undone(line: &[usize], lines: &[LineChanges]) -> Vec<HashSet<u64>> {
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

/// Whether a commit's change is still there at a later commit of its branch, read from that
/// commit's files: a change a merge from main overwrote (a NOTICE.txt regenerated) was
/// superseded, and rides along in the PR that carried it.
struct Survival<'o> {
    objects: &'o dyn Objects,
    /// The blob at each (tree, path) asked about, and each blob's line keys: a file's blob
    /// is the same in most of the trees asked about, and its keys are read once (keyed by
    /// tree and path, op-geth's audit held a copy per upstream commit: 100 MB).
    entries: RefCell<HashMap<(TreeId, String), Option<BlobId>>>,
    keys: RefCell<HashMap<BlobId, HashSet<u64>>>,
}

impl Survival<'_> {
    fn new(objects: &dyn Objects) -> Survival<'_> {
        Survival {
            objects,
            entries: RefCell::default(),
            keys: RefCell::default(),
        }
    }

    /// The share of `change` (made in `paths`) that is gone at `tip`: lines it added that are
    /// not there, lines it removed that are back.
    fn superseded(&self, change: &LineChanges, paths: &[String], tip: TreeId) -> f64 {
        if change.is_empty() {
            return 0.0;
        }
        let mut at_tip: HashSet<u64> = HashSet::new();
        for path in paths {
            let blob = *self
                .entries
                .borrow_mut()
                .entry((tip, path.clone()))
                .or_insert_with(|| self.objects.entry(tip, path).ok().flatten());
            let Some(blob) = blob else {
                continue;
            };
            let mut keys = self.keys.borrow_mut();
            let keys = keys.entry(blob).or_insert_with(|| {
                // A file this clone cannot read says nothing about what survived.
                match self.objects.blob_if_present(blob) {
                    Ok(Some(bytes)) => patches::line_keys(&bytes),
                    _ => HashSet::new(),
                }
            });
            at_tip.extend(keys.iter().copied());
        }
        let gone = change.added.iter().filter(|k| !at_tip.contains(k)).count()
            + change.removed.iter().filter(|k| at_tip.contains(k)).count();
        gone as f64 / change.len() as f64
    }
}

/// For an own commit (an index into `own`, oldest first), the own commits that descend from
/// it, merges looked through, oldest first.
fn descendants<'f>(facts: &'f Facts, own: &[&CommitInfo]) -> impl Fn(usize) -> Vec<usize> + 'f {
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
fn taken_back<'c>(
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

/// The net change of commits applied in order: a line added and removed again is no change.
fn compose<'a>(changes: impl IntoIterator<Item = &'a LineChanges>) -> LineChanges {
    let mut net = LineChanges::default();
    for change in changes {
        net.blocks
            .extend(change.blocks.iter().map(|(k, b)| (*k, *b)));
        for key in &change.removed {
            if !net.added.remove(key) {
                net.removed.insert(*key);
            }
        }
        for key in &change.added {
            if !net.removed.remove(key) {
                net.added.insert(*key);
            }
        }
    }
    net
}

/// Own commits upstream already has, one entry per upstream commit (a squash-merged PR is one
/// entry with all its commits), with how they were recognised. `changes` (with their target
/// paths) tell where moved files went.
pub fn already_upstream(
    facts: &Facts,
    objects: &dyn Objects,
    changes: &[Change],
) -> Result<Vec<AlreadyUpstream>> {
    let watched = watched_paths(facts, changes);
    let watched_set: HashSet<&str> = watched.iter().map(String::as_str).collect();
    let touched = &facts.touched;
    let range = &facts.since_base;
    let own: Vec<&CommitInfo> = facts
        .own
        .iter()
        .rev()
        .filter(|c| c.parents.len() == 1)
        .collect();
    if own.is_empty() {
        return Ok(Vec::new());
    }
    let own_paths = |i: usize| -> &[String] {
        touched
            .get(&own[i].id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    // Where each path the fork touched lives at the target, so that moved fixes are found.
    let mut aliases: HashMap<&str, Vec<&str>> = HashMap::new();
    for change in changes {
        let entry = aliases.entry(change.path.as_str()).or_default();
        entry.extend(change.target_path.as_deref());
        entry.extend(change.old_path.as_deref());
    }
    // Only commits that touched a watched path can hold the fork's work.
    let upstream: Vec<&Upstream> = facts
        .upstream
        .iter()
        .filter(|u| {
            u.meta.parents.len() == 1
                && range.contains(&u.meta.id)
                && !facts.own_ids.contains(&u.meta.id)
                && u.paths.iter().any(|p| watched_set.contains(p.as_str()))
        })
        .collect();
    // Upstream commits by path, so that each own commit meets only those that touched its
    // files (or where they went), not every upstream commit.
    let mut by_path: HashMap<&str, Vec<usize>> = HashMap::new();
    for (u, commit) in upstream.iter().enumerate() {
        for path in &commit.paths {
            if watched_set.contains(path.as_str()) {
                by_path.entry(path.as_str()).or_default().push(u);
            }
        }
    }
    let related: Vec<BTreeSet<usize>> = (0..own.len())
        .map(|i| {
            let mut found = BTreeSet::new();
            for path in own_paths(i) {
                let names = std::iter::once(path.as_str())
                    .chain(aliases.get(path.as_str()).into_iter().flatten().copied());
                for name in names {
                    found.extend(by_path.get(name).into_iter().flatten().copied());
                }
            }
            found
        })
        .collect();
    let in_target = facts.graph.reachable(&[facts.target.id]);
    let watched = &watched[..];

    let mut proposals = exact_matches(facts, objects, &own, &upstream, &related)?;

    let survival = Survival::new(objects);
    // Every line change the branches below compare, read up front on every core: the own
    // commits of each branch that meets an upstream commit, and those upstream commits.
    let lines_met: Vec<(Vec<usize>, BTreeSet<usize>)> = branches(&own, facts)
        .into_iter()
        .map(|line| {
            let candidates: BTreeSet<usize> = line
                .iter()
                .flat_map(|&i| related[i].iter().copied())
                .collect();
            (line, candidates)
        })
        .filter(|(_, candidates)| !candidates.is_empty())
        .collect();
    let own_needed: BTreeSet<usize> = lines_met.iter().flat_map(|(l, _)| l).copied().collect();
    let upstream_needed: BTreeSet<usize> = lines_met.iter().flat_map(|(_, c)| c).copied().collect();
    let own_needed: Vec<usize> = own_needed.into_iter().collect();
    let upstream_needed: Vec<usize> = upstream_needed.into_iter().collect();
    let mut mine: Vec<Option<LineChanges>> = vec![None; own.len()];
    for (i, changes) in own_needed
        .iter()
        .zip(par_map(objects, &own_needed, |objects, &i| {
            // A commit's own changed paths are all watched: they narrow the diff.
            match own_paths(i) {
                [] => Ok(LineChanges::default()),
                paths => line_changes(objects, own[i].parent_tree, own[i].tree, paths),
            }
        })?)
    {
        mine[*i] = Some(changes);
    }
    let theirs: HashMap<usize, LineChanges> = upstream_needed
        .iter()
        .copied()
        .zip(par_map(objects, &upstream_needed, |objects, &u| {
            let meta = &upstream[u].meta;
            // The upstream commit's watched paths, not every watched path: a pathspec of
            // hundreds of paths costs the tree diff more than the commit's own few.
            let paths: Vec<String> = upstream[u]
                .paths
                .iter()
                .filter(|p| watches(&watched_set, p))
                .cloned()
                .collect();
            if paths.is_empty() {
                Ok(LineChanges::default())
            } else {
                line_changes(objects, meta.parent_tree, meta.tree, &paths)
            }
        })?)
        .collect();
    for (line, candidates) in lines_met {
        let lines: Vec<LineChanges> = line
            .iter()
            .map(|&i| mine[i].clone().unwrap_or_default())
            .collect();
        let positions: Vec<usize> = (0..line.len()).collect();
        let undone = undone(&positions, &lines);
        for u in candidates {
            let target = &theirs[&u];
            let superseded = |at: usize, tip: usize| {
                survival.superseded(&lines[at], own_paths(line[at]), own[line[tip]].tree)
            };
            let branch = Branch {
                line: &line,
                lines: &lines,
                undone: &undone,
                related: &related,
                paths_of: &own_paths,
                superseded: &superseded,
            };
            let absorbed = |at: usize| match upstream[u].meta.parent_tree {
                Some(tree) => 1.0 - survival.superseded(&lines[at], own_paths(line[at]), tree),
                None => 0.0,
            };
            if let Some(found) = read_branch(&branch, u, target, &absorbed) {
                let (members, net, paths) = found;
                if let Some((share, explained)) = weigh(&net, paths, target, upstream[u]) {
                    proposals.push(Proposal {
                        upstream: u,
                        method: if members.len() > 1 { "squash" } else { "fuzzy" },
                        members,
                        share,
                        explained,
                    });
                }
            }
        }
    }

    // A change the fork itself took back later (telegraf's fork moved a workflow to
    // actions/checkout@v3, as upstream did, and back to v2 an hour later) is no work of the
    // fork's that upstream has: there is nothing left to drop.
    // A revert touches the paths of what it reverts, so it met the same upstream commits and
    // its line changes were read above.
    let changes_of = |i: usize| mine[i].as_ref();
    let later = descendants(facts, &own);
    proposals.retain(|p| {
        let newest = p.members.iter().copied().max();
        !newest.is_some_and(|newest| taken_back(&p.members, &later(newest), &changes_of))
    });

    // The readings compete for the commits: the best reading takes its commits first.
    let evidence = |p: &Proposal| {
        let meta = &upstream[p.upstream].meta;
        let title = patches::normalized_subject(&meta.subject);
        let numbers = crate::model::pr_numbers(&meta.subject);
        p.members.iter().any(|&i| {
            patches::normalized_subject(&own[i].subject) == title
                || crate::model::pr_numbers(&own[i].subject)
                    .iter()
                    .any(|n| numbers.contains(n))
        })
    };
    let bucket = |x: f64| (x * 20.0).round() as i64;
    let key = |p: &Proposal| {
        (
            p.explained >= MOSTLY,
            in_target.contains(&upstream[p.upstream].meta.id),
            evidence(p),
            bucket(p.explained),
            bucket(p.share),
            p.members.len(),
            p.method != "squash" && p.method != "fuzzy",
        )
    };
    let readings = proposals.clone();
    let mut ranked: Vec<(usize, Proposal)> = proposals.into_iter().enumerate().collect();
    ranked.sort_by(|(ia, a), (ib, b)| key(b).cmp(&key(a)).then(ia.cmp(ib)));
    let mut taken: HashSet<usize> = HashSet::new();
    let mut accepted: Vec<Proposal> = Vec::new();
    for (_, mut proposal) in ranked {
        let free: Vec<usize> = proposal
            .members
            .iter()
            .copied()
            .filter(|i| !taken.contains(i))
            .collect();
        if free.is_empty() {
            continue;
        }
        if free.len() < proposal.members.len() {
            // What is left of the reading must still be the upstream commit's on its own.
            let Some(target) = theirs.get(&proposal.upstream) else {
                continue;
            };
            let net = compose(free.iter().filter_map(|&i| mine[i].as_ref()));
            let paths: HashSet<&String> = free.iter().flat_map(|&i| own_paths(i)).collect();
            let Some((share, explained)) =
                weigh(&net, paths.len(), target, upstream[proposal.upstream])
            else {
                continue;
            };
            proposal.share = share;
            proposal.explained = explained;
            proposal.members = free;
        }
        taken.extend(proposal.members.iter().copied());
        accepted.push(proposal);
    }

    // One entry per upstream commit: a PR whose commits were found by several readings is
    // still one PR.
    let mut by_upstream: Vec<(usize, Vec<Proposal>)> = Vec::new();
    for proposal in accepted {
        match by_upstream
            .iter_mut()
            .find(|(u, _)| *u == proposal.upstream)
        {
            Some((_, group)) => group.push(proposal),
            None => by_upstream.push((proposal.upstream, vec![proposal])),
        }
    }
    let mut copies = backports::Index::new(facts);
    let mut found = Vec::new();
    for (u, group) in by_upstream {
        let mut members: Vec<usize> = group.iter().flat_map(|p| p.members.clone()).collect();
        members.sort_unstable();
        let largest = group
            .iter()
            .max_by_key(|p| p.members.len())
            .expect("a group has a reading");
        let method = if members.len() > 1 && group.len() > 1 {
            "squash"
        } else {
            largest.method
        };
        let similarity = group.iter().map(|p| p.share).fold(1.0, f64::min);
        let commits: Vec<String> = members
            .iter()
            .rev()
            .map(|&i| own[i].id.to_string())
            .collect();
        let net = compose(members.iter().filter_map(|&i| mine[i].as_ref()));
        let member_infos: Vec<&CommitInfo> = members.iter().map(|&i| own[i]).collect();
        // Another upstream commit that is mostly the same commits' work is the same PR
        // elsewhere, whatever its subject says: a backport branch squashed two PRs into one.
        let also: Vec<&CommitInfo> = readings
            .iter()
            .filter(|p| {
                p.upstream != u
                    && p.explained >= MOSTLY
                    && 2 * p.members.iter().filter(|i| members.contains(i)).count() >= members.len()
            })
            .map(|p| &upstream[p.upstream].meta)
            .collect();
        let same = copies.same_pr(
            objects,
            watched,
            &upstream[u].meta,
            &member_infos,
            &also,
            &net,
            &in_target,
        )?;
        found.push(AlreadyUpstream {
            commit: commits[0].clone(),
            commits,
            upstream_commit: same.commit.id.to_string(),
            method: method.into(),
            similarity: super::similarity::round(similarity),
            upstream_subject: same.commit.subject.clone(),
            pr: same.pr,
            also_in: same.also_in,
            in_target: in_target.contains(&same.commit.id),
        });
    }
    found.sort_by(|a, b| a.commit.cmp(&b.commit));
    Ok(found)
}

/// One line of own commits (oldest first) and what is known of each.
struct Branch<'b, 'p> {
    /// Indices into the own commits.
    line: &'b [usize],
    /// By position in the line.
    lines: &'b [LineChanges],
    undone: &'b [HashSet<u64>],
    /// By own commit: the upstream commits that touched its files.
    related: &'b [BTreeSet<usize>],
    paths_of: &'b dyn Fn(usize) -> &'p [String],
    /// By positions: the share of the first's change gone at the second.
    superseded: &'b dyn Fn(usize, usize) -> f64,
}

/// The commits of a line that upstream commit `u` (line changes `target`) merged: those that
/// are mostly its lines (the PR's own commits); between them, what is in the blocks it
/// changed or what later commits or merges superseded; before or after them, what is nearly
/// all its lines or undone within the line. `absorbed` tells, by position,
/// how much of a commit's change upstream already had when `u` merged. `None` when no commit
/// of the line is mostly `u`'s. With the members: their net change and how many paths they
/// touched.
fn read_branch(
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

/// One-by-one matches that need no line comparison: a `cherry picked from` trailer, the same
/// patch-id, the same PR number and subject.
fn exact_matches<'a>(
    facts: &Facts,
    objects: &dyn Objects,
    own: &[&'a CommitInfo],
    upstream: &[&'a Upstream],
    related: &[BTreeSet<usize>],
) -> Result<Vec<Proposal>> {
    let all_ids: HashSet<String> = facts.since_base.iter().map(CommitId::to_string).collect();
    let mut out = Vec::new();
    let exact = |i: usize, u: usize, method: &'static str| Proposal {
        upstream: u,
        members: vec![i],
        method,
        share: 1.0,
        explained: 1.0,
    };
    let own_paths = |i: usize| facts.touched.get(&own[i].id).map_or(&[][..], Vec::as_slice);
    // Equal patch-ids need equal sets of changed paths: only such pairs are worth the two
    // tree diffs a patch-id costs (a third of an op-geth audit went to patch-ids of pairs
    // that could never match).
    let same_paths = |i: usize, u: usize| {
        let own_paths = own_paths(i);
        upstream[u].paths.len() == own_paths.len()
            && upstream[u]
                .paths
                .iter()
                .all(|p| own_paths.binary_search(p).is_ok())
    };
    let picked: Vec<Option<usize>> = own
        .iter()
        .map(|commit| {
            let picked = patches::cherry_picked_from(&commit.message)
                .into_iter()
                .find(|id| {
                    all_ids.contains(id) || all_ids.iter().any(|full| full.starts_with(id.as_str()))
                })?;
            upstream
                .iter()
                .position(|u| u.meta.id.to_string().starts_with(&picked))
        })
        .collect();
    // Every patch-id the matching below may compare, computed up front on every core. Like
    // the upstream side's below, a commit whose blobs this clone lacks (a partial clone) has
    // no patch-id to match, and the other matches still apply.
    let own_patched: Vec<usize> = (0..own.len())
        .filter(|&i| picked[i].is_none() && related[i].iter().any(|&u| same_paths(i, u)))
        .collect();
    let upstream_patched: Vec<usize> = own_patched
        .iter()
        .flat_map(|&i| {
            related[i]
                .iter()
                .copied()
                .filter(move |&u| same_paths(i, u))
        })
        .collect::<BTreeSet<usize>>()
        .into_iter()
        .collect();
    let patch_ids = |commits: &[usize], meta: &(dyn Fn(usize) -> &'a CommitInfo + Sync)| {
        par_map(objects, commits, |objects, &at| {
            Ok(patch_id(objects, meta(at)).ok().flatten())
        })
        .map(|ids| {
            commits
                .iter()
                .copied()
                .zip(ids)
                .collect::<HashMap<usize, Option<String>>>()
        })
    };
    let own_patch_ids = patch_ids(&own_patched, &|i| own[i])?;
    let upstream_patch_ids = patch_ids(&upstream_patched, &|u| &upstream[u].meta)?;
    for (i, commit) in own.iter().enumerate() {
        if let Some(u) = picked[i] {
            out.push(exact(i, u, "cherry-pick"));
            continue;
        }
        if related[i].is_empty() {
            continue;
        }
        if let Some(Some(own_patch)) = own_patch_ids.get(&i) {
            if let Some(&u) = related[i].iter().find(|&&u| {
                same_paths(i, u)
                    && upstream_patch_ids.get(&u).and_then(Option::as_ref) == Some(own_patch)
            }) {
                out.push(exact(i, u, "patch-id"));
                continue;
            }
        }
        let prs = crate::model::pr_numbers(&commit.subject);
        let subject = patches::normalized_subject(&commit.subject);
        if let Some(&u) = related[i].iter().find(|&&u| {
            !prs.is_empty()
                && crate::model::pr_numbers(&upstream[u].meta.subject)
                    .iter()
                    .any(|n| prs.contains(n))
                && patches::normalized_subject(&upstream[u].meta.subject) == subject
        }) {
            out.push(exact(i, u, "pr-number"));
        }
    }
    Ok(out)
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
