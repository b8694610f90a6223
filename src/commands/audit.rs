//! `forkdrift audit`: read the facts, run every analysis step, assemble the report; with
//! `--hops`, merge every release point on the way as well.

use crate::analysis::candidates::{self, Candidate};
use crate::analysis::protocol::Verdict;
use crate::analysis::{
    attribution, changes, churn, conflicts, copying, deps, findings, gate, hops, pins, placement,
    releases, stale, summary, upstream,
};
use crate::error::Result;
use crate::facts::{CommitId, Facts, ReleasePoint};
use crate::model::{AUDIT_SCHEMA, OwnCommit, RefInfo, Refused, Report, Tool};
use crate::repo::Repo;
use crate::repo::collect::{self, Selection};
use crate::repo::git::Git;
use std::collections::{HashMap, HashSet};

/// The report, and what other commands reuse of the analysis.
pub struct Audit {
    pub facts: Facts,
    pub report: Report,
    /// The protocol changed in substance and nobody accepted it: the upgrade is refused.
    pub refused: bool,
    /// PR candidates with what `candidates --export` needs.
    pub candidates: Vec<Candidate>,
    /// Who wrote the fork's side of the target's conflicts, and the own commits upstream
    /// already has: what a hop's conflicts are attributed with.
    pub blame: attribution::Blame,
    pub settled: upstream::Settled,
}

impl Audit {
    /// The refusal of a plan stops at its hop; an audit's is about the target.
    pub fn refusal(&self) -> Option<Refused> {
        let audit = self;
        if !audit.refused {
            return None;
        }
        let report = &audit.report;
        let stop = report
            .plan
            .as_ref()
            .and_then(|p| p.hops.last().filter(|_| p.stopped_at.is_some()));
        let (what, to, protocol) = match stop {
            Some(hop) => (
                format!("to {} ({})", hop.version, hop.name),
                hop.name.clone(),
                hop.protocol_report.as_ref(),
            ),
            None => (
                format!("to {}", report.target.name),
                report.target.name.clone(),
                report.protocol.as_ref(),
            ),
        };
        Some(Refused {
            what,
            to,
            protocol: protocol?.clone(),
            release_notes: audit.facts.pack.release_notes.clone(),
        })
    }
}

pub fn audit(repo: &Repo, git: &Git, selection: &Selection, with_hops: bool) -> Result<Audit> {
    let facts = collect::collect(repo, git, selection)?;
    crate::progress::phase("analysing the changes");
    let mut audit = analyse(repo, git, facts)?;
    if with_hops {
        crate::progress::phase("merging the release points on the way");
        let (_, points) = releases::hop_points(&audit.facts, repo)?;
        let merges = hop_merges(repo, git, &mut audit, &points)?;
        audit.report.hops =
            hops::sweep(&audit.facts, repo, &audit.report.changes, &points, merges)?;
    }
    Ok(audit)
}

/// The fork and its fork point merged with each point, the fork's conflicts attributed as
/// the audit attributes the target's: its lines in each conflict blamed (what the target's
/// conflicts did not already blame), against the fork point's conflicts at that point. A
/// hop's count of conflicts the fork causes is then what an audit to that point says. A
/// point git could not merge gets a note in the report.
pub fn hop_merges(
    repo: &Repo,
    git: &Git,
    audit: &mut Audit,
    points: &[ReleasePoint],
) -> Result<Vec<hops::HopMerge>> {
    let merges = attributed_merges(repo, git, audit, points)?;
    audit
        .report
        .notes
        .extend(hops::unmerged_notes(points, &merges));
    Ok(merges)
}

fn attributed_merges(
    repo: &Repo,
    git: &Git,
    audit: &Audit,
    points: &[ReleasePoint],
) -> Result<Vec<hops::HopMerge>> {
    let facts = &audit.facts;
    let changes = &audit.report.changes;
    let ids: Vec<CommitId> = points.iter().map(|p| p.commit).collect();
    let merged = crate::repo::later::merge_points(repo, git, facts, &ids)?;
    // Blame decides a conflict's cause only where the fork point conflicts too (elsewhere the
    // fork causes it), and whether it is settled only when some own work is upstream's; and
    // it can name an own commit only in a file some own commit touched.
    let own_touched: HashSet<&String> = facts
        .own
        .iter()
        .filter_map(|c| facts.touched.get(&c.id))
        .flatten()
        .collect();
    let mut wanted: Vec<(String, usize, usize)> = merged
        .iter()
        .flat_map(|m| {
            let decides = m
                .raw
                .iter()
                .filter(|c| !audit.settled.is_empty() || m.fork_point_conflicts.contains(&c.path));
            attribution::blame_requests(facts, changes, decides)
        })
        .filter(|range| !audit.blame.contains_key(range) && own_touched.contains(&range.0))
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut blame = audit.blame.clone();
    if !wanted.is_empty() {
        blame.extend(crate::repo::blame::blame(
            repo,
            git,
            facts.fork.id,
            facts.merge_base,
            &wanted,
        ));
    }
    Ok(merged
        .into_iter()
        .map(|m| {
            if let Some(error) = m.unmerged {
                return hops::HopMerge::unmerged(error);
            }
            let point: HashSet<String> = m.fork_point_conflicts.into_iter().collect();
            let attributed = attribution::attribute_against(
                facts,
                changes,
                m.raw,
                &blame,
                &audit.settled,
                &point,
            );
            hops::HopMerge::new(m.conflicts, &attributed)
        })
        .collect())
}

/// Every step of the audit on facts already read. The repository is asked only for what the
/// steps found they need: blame of the conflicting lines, cherry-picks of the PR candidates,
/// and the history of copies made before the merge-base.
pub fn analyse(repo: &Repo, git: &Git, facts: Facts) -> Result<Audit> {
    let objects = repo;
    let index = changes::unit_index(&facts, objects)?;
    let mut changes = changes::changes(&facts, objects, &index)?;
    let mut unreadable = Vec::new();
    let copies = copying::detect(&facts, objects, &index, &mut changes, &mut unreadable)?;
    placement::relocate(&facts, objects, &mut changes)?;
    // The conflicts' lines are blamed while upstream matching runs: the blame needs only
    // where each conflicted file is the fork's.
    let raw = conflicts::conflicts(&facts.merges.fork, objects)?;
    let blaming = crate::repo::blame::start(
        repo,
        git,
        facts.fork.id,
        facts.merge_base,
        attribution::blame_requests(&facts, &changes, &raw),
    );

    // Work upstream already has is not divergence: mark it before anything is counted.
    let already = upstream::already_upstream(&facts, objects, &changes)?;
    let mut settled = upstream::Settled::new(&facts, &already);
    let mut left_out = settled.confirm_conflicts(&facts, objects, &changes, &raw)?;
    // A merge writes a path only where it resolves its parents; on a PR branch that merged
    // main, that resolution is part of the work upstream squashed. The path is upstream's
    // when every commit that authored it is.
    let merges: HashSet<CommitId> = facts
        .own
        .iter()
        .filter(|c| c.parents.len() > 1)
        .map(|c| c.id)
        .collect();
    for change in changes.iter_mut() {
        let Ok(commits) = change
            .commits
            .iter()
            .map(|id| id.parse::<CommitId>())
            .collect::<std::result::Result<Vec<_>, _>>()
        else {
            continue;
        };
        let names: Vec<&str> = std::iter::once(change.path.as_str())
            .chain(change.old_path.as_deref())
            .chain(change.target_path.as_deref())
            .collect();
        let authors: Vec<&CommitId> = commits.iter().filter(|id| !merges.contains(id)).collect();
        change.already_upstream =
            !authors.is_empty() && authors.iter().all(|id| settled.has_in(id, &names));
        // Commits upstream merged, whose merge left this file out: say why the path is
        // still the fork's although its commits are upstream's.
        if !change.already_upstream && !authors.is_empty() {
            if let Some((commit, subject)) =
                authors.iter().find_map(|id| settled.left_out(id, &names))
            {
                left_out.push(format!(
                    "{}: the own commits that changed it are upstream's, but {} \"{subject}\" that has them leaves this file out: the fork's change to it is still the fork's",
                    change.path,
                    crate::model::short_id(commit),
                ));
            }
        }
    }

    crate::progress::phase("blaming the conflicting lines");
    let blame = blaming.finish();
    crate::progress::phase("analysing the conflicts and the protocol");
    let conflicts = attribution::attribute(&facts, &changes, raw, &blame, &settled);
    placement::place_in_merge(&facts, objects, &mut changes)?;
    let (verdict, protocol) = gate::compare(&facts, objects, facts.fork_point, facts.target.id)?;
    let refused = verdict == Verdict::Schema && !protocol.accepted;
    let risk = churn::assess(&facts, &mut changes, &conflicts, refused);

    let (series, mut candidate_notes) = candidates::series(&facts, objects, &changes, &settled)?;
    crate::progress::phase("trying the pull-request candidates on the target");
    let picked: Vec<Vec<_>> = series.iter().map(|s| s.commits.clone()).collect();
    let steps = crate::repo::later::cherry_pick(repo, git, facts.target.id, &picked)?;
    let candidates = candidates::rank(
        &facts,
        objects,
        &changes,
        &conflicts,
        series,
        steps,
        &mut candidate_notes,
    )?;

    crate::progress::phase("checking the copies against upstream");
    let mut older = HashMap::new();
    for copy in &copies {
        if let Some(at) = stale::copied_at(&facts, copy, &changes) {
            if let std::collections::hash_map::Entry::Vacant(slot) = older.entry(at) {
                slot.insert(crate::repo::later::upstream_since(repo, git, &facts, at)?);
            }
        }
    }
    let stale = stale::stale_copies(&facts, objects, &copies, &changes, &older)?;
    let in_place = stale::in_place_edits(
        &facts.pack,
        &index,
        &changes,
        &facts.fork_files,
        &facts.target_files,
    );

    let mut findings = findings::findings(&facts.pack, &changes, &conflicts, &copies, &stale);
    // What the fork's own edits did to the protocol: an edit of a file that holds the
    // protocol's values, elsewhere in that file (karafka-web's sampler.rb, whose
    // SCHEMA_VERSION a macOS `ps` fix leaves alone), is a framework edit, not a protocol edit.
    let (_, own_protocol) = gate::compare(&facts, objects, facts.fork_point, facts.fork.id)?;
    let protocol_edited: HashSet<&str> = own_protocol
        .anchors
        .iter()
        .filter(|a| a.verdict != Verdict::None.as_str())
        .map(|a| a.path.as_str())
        .collect();
    findings::protocol_findings(
        &facts.pack,
        &changes,
        &protocol_edited,
        verdict,
        &protocol,
        &mut findings,
    );
    let deps = deps::check(&facts, objects)?.map(|(deps, more)| {
        findings::merge(&mut findings, more);
        deps
    });
    let (pins, more) = pins::check(&facts, objects)?;
    findings::merge(&mut findings, more);
    let own_commits = facts
        .own
        .iter()
        .map(|c| OwnCommit {
            commit: c.id.to_string(),
            subject: c.subject.clone(),
            author: c.author.clone(),
            date: crate::time::format_iso(c.time),
            prs: crate::model::pr_numbers(&c.subject),
            merge: c.is_merge(),
            already_upstream: settled.contains(&c.id),
        })
        .collect();

    let mut report = Report {
        schema: AUDIT_SCHEMA.into(),
        tool: Tool::default(),
        fork: RefInfo {
            name: facts.fork.name.clone(),
            commit: facts.fork.id.to_string(),
        },
        target: RefInfo {
            name: facts.target.name.clone(),
            commit: facts.target.id.to_string(),
        },
        merge_base: facts.merge_base.to_string(),
        fork_point: facts.fork_point.to_string(),
        pack: facts.pack.name.clone(),
        own_commits,
        changes,
        findings,
        summary: Default::default(),
        conflicts,
        risk,
        hops: Vec::new(),
        protocol: Some(protocol),
        plan: None,
        already_upstream: already,
        pr_candidates: candidates.iter().map(|c| c.report.clone()).collect(),
        stale_copies: stale,
        in_place_edits: in_place,
        deps,
        pins,
        notes: facts
            .notes
            .iter()
            .cloned()
            .chain(unreadable_note(&unreadable))
            .chain(left_out)
            .chain(candidate_notes)
            .collect(),
    };
    summary::summarize(&mut report);
    Ok(Audit {
        facts,
        report,
        refused,
        candidates,
        blame,
        settled,
    })
}

/// Files whose contents this clone lacks, left out of the comparisons that wanted them.
fn unreadable_note(paths: &[String]) -> Option<String> {
    (!paths.is_empty()).then(|| {
        format!(
            "{} file(s) could not be read (this clone lacks their objects) and were left out of copy detection: {}; `git fetch --refetch` restores them",
            paths.len(),
            paths.join(", ")
        )
    })
}
