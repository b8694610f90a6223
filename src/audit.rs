//! The audit: every path the fork changed since its merge-base with the target, classified,
//! traced to its origin, followed to the target, checked for copies; then the next upgrade
//! merged with git's own engine (in a throw-away object store) for conflicts, orphans and
//! risk. The pure reasoning lives in `analysis`; this module feeds it from the repository.

use crate::analysis::classify::{self, Decision, Registered, UnitIndex};
use crate::analysis::conflicts;
use crate::analysis::copies::{self, CopyIndex, UnitText};
use crate::analysis::findings::FindingBuilder;
use crate::analysis::protocol::Verdict;
use crate::analysis::relocate::Relocator;
use crate::analysis::risk::{self, OverallFacts, PathFacts};
use crate::error::Result;
use crate::model::*;
use crate::repo::git::Git;
use crate::repo::merge::{self, MergeOutcome, MergeRequest};
use crate::repo::{Delta, DeltaStatus, Files, Repo};
use crate::session::{Selection, Session};
use git2::Oid;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// How far back "recent" upstream churn reaches.
const RECENT_DAYS: i64 = 182;

#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    pub selection: Selection,
    /// Sweep the release points between the fork point and the target.
    pub hops: bool,
}

/// The report and what other commands reuse of the analysis.
pub struct AuditRun<'r> {
    pub session: Session<'r>,
    pub report: Report,
    /// Paths each commit between the merge-base and the fork touched.
    pub touched: HashMap<Oid, Vec<String>>,
    pub index: UnitIndex,
    pub trees: Trees,
    /// The protocol changed in substance and nobody accepted it: the upgrade is refused.
    pub refused: bool,
    /// PR candidates with what `candidates --export` needs.
    pub candidates: Vec<crate::candidates::Candidate>,
    /// The merges' throw-away objects (the candidates' cherry-picked trees among them),
    /// readable through the repository handle until the run is dropped.
    pub scratch: merge::Scratch,
}

#[derive(Debug, Clone, Copy)]
pub struct Trees {
    pub base: Oid,
    pub fork: Oid,
    pub target: Oid,
    pub fork_point: Oid,
}

pub fn audit<'r>(repo: &'r Repo, git: &Git, options: &AuditOptions) -> Result<AuditRun<'r>> {
    let session = Session::open(repo, &options.selection)?;
    let trees = Trees {
        base: repo.tree_of(session.merge_base)?,
        fork: repo.tree_of(session.fork.id)?,
        target: repo.tree_of(session.target.id)?,
        fork_point: repo.tree_of(session.fork_point)?,
    };

    let range = repo.walk(&[session.fork.id], &[session.merge_base])?;
    let touched = touched_paths(repo, &range)?;
    let own_by_time: Vec<Oid> = session.own.iter().map(|c| c.id).collect();

    let deltas = repo.diff(Some(trees.base), trees.fork, true, &[])?;
    let base_files = repo.files(trees.base)?;
    let fork_files = repo.files(trees.fork)?;
    let target_files = repo.files(trees.target)?;

    let index = unit_index(repo, &session, &trees, &base_files, &fork_files)?;
    let touchers = Touchers::new(&touched, &own_by_time);
    let mut changes = Vec::with_capacity(deltas.len());
    for delta in &deltas {
        changes.push(change_of(
            repo,
            &session,
            &index,
            &touchers,
            &own_by_time,
            delta,
        )?);
    }
    let divergent = |c: &Change| c.origin != Origin::Upstream && !c.already_upstream;

    let copies = detect_copies(
        repo,
        &session,
        &index,
        &base_files,
        &fork_files,
        &mut changes,
    )?;
    relocate(repo, &trees, &base_files, &target_files, &mut changes)?;

    // Work upstream already has is not divergence: mark it before anything is counted.
    // One pass over the upstream commits that upstream matching (since the merge-base) and
    // churn (since the fork point) both read.
    let watched = crate::upstream::watched_paths(&session, &touched, &changes);
    let since_base = repo.walk(&session.upstream_tips, &[session.merge_base])?;
    let since_point = repo.walk(&[session.target.id], &[session.fork_point])?;
    let range: HashSet<Oid> = since_base.iter().copied().collect();
    let mut to_scan = since_base;
    to_scan.extend(since_point.iter().filter(|id| !range.contains(id)));
    let scanned = crate::upstream::scan(repo, &to_scan, &watched)?;
    let already = crate::upstream::already_upstream(
        repo, &session, &touched, &changes, &range, &scanned, &watched,
    )?;
    let settled: HashSet<Oid> = already
        .iter()
        .flat_map(|a| a.commits.iter())
        .filter_map(|id| Oid::from_str(id).ok())
        .collect();
    for change in changes.iter_mut() {
        change.already_upstream = !change.commits.is_empty()
            && change
                .commits
                .iter()
                .all(|id| Oid::from_str(id).is_ok_and(|id| settled.contains(&id)));
    }

    // The next upgrade, merged by git: the fork, and the upstream state its work starts from.
    let mut requests = vec![MergeRequest {
        ours: session.fork.id,
        theirs: session.target.id,
        base: None,
    }];
    if session.fork_point != session.fork.id {
        requests.push(MergeRequest {
            ours: session.fork_point,
            theirs: session.target.id,
            base: None,
        });
    }
    let (scratch, outcomes) = merge::merge_all(repo, git, &requests)?;
    repo.add_scratch_objects(scratch.objects())?;
    let point_paths: HashSet<String> = outcomes
        .get(1)
        .map(|o| o.conflicted_paths().into_iter().collect())
        .unwrap_or_default();
    let conflicts = attribute(
        repo,
        &session,
        &touched,
        &changes,
        &outcomes[0],
        &point_paths,
        &settled,
    )?;
    let merged_files = repo.files(outcomes[0].tree)?;
    place_in_merge(repo, &trees, &merged_files, &outcomes[0], &mut changes)?;

    let churn = upstream_churn(repo, &session, &changes, &since_point, &scanned, &watched)?;
    let conflict_cause: HashMap<&str, Origin> = conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.cause))
        .collect();
    let mut overall = OverallFacts::default();
    for change in changes.iter_mut().filter(|c| divergent(c)) {
        let here = |path: &str| conflict_cause.get(path).copied();
        let cause = here(&change.path).or_else(|| change.target_path.as_deref().and_then(here));
        let (since, recent) = churn.get(&change.path).copied().unwrap_or_default();
        let facts = PathFacts {
            class: Some(change.class),
            fork_conflict: cause == Some(Origin::Fork),
            upstream_conflict: cause == Some(Origin::Upstream),
            orphaned: change.orphaned,
            same_file_clean: cause.is_none() && since > 0 && change.status != Status::Added,
            churn_since_fork_point: since,
            churn_recent: recent,
            lines_changed: change.lines_added + change.lines_deleted,
        };
        overall.orphaned += usize::from(facts.orphaned);
        overall.framework_edits += usize::from(change.class == ChangeClass::Framework);
        overall.same_file_clean += usize::from(facts.same_file_clean);
        overall.churn += since;
        change.risk = Some(risk::path_risk(&facts));
    }
    overall.fork_conflicts = conflicts
        .iter()
        .filter(|c| c.cause == Origin::Fork && !c.already_upstream)
        .count();

    let (verdict, protocol) = crate::gate::Gate::new(repo, &session)?.compare(
        repo,
        session.fork_point,
        session.target.id,
    )?;
    let refused = verdict == Verdict::Schema && !protocol.accepted;

    let (candidates, candidate_notes) = crate::candidates::candidates(
        repo,
        git,
        &session,
        &crate::candidates::Findings {
            changes: &changes,
            conflicts: &conflicts,
            touched: &touched,
            settled: &settled,
        },
        &scratch,
    )?;
    let stale =
        crate::stale::stale_copies(repo, &session, &copies, &changes, trees.fork, trees.target)?;
    let in_place = crate::stale::in_place_edits(&session.pack, &index, &changes, &fork_files);

    let mut findings = findings(&session, &changes, &conflicts, &copies, &stale);
    protocol_findings(&session, &changes, verdict, &protocol, &mut findings);
    let own_commits = session
        .own
        .iter()
        .map(|c| OwnCommit {
            commit: c.id.to_string(),
            subject: c.subject.clone(),
            author: c.author.clone(),
            date: crate::time::format_iso(c.time),
            prs: crate::repo::pr_numbers(&c.subject),
            merge: c.parents.len() > 1,
            already_upstream: settled.contains(&c.id),
        })
        .collect();

    let mut report = Report {
        schema: AUDIT_SCHEMA.into(),
        tool: Tool::default(),
        fork: RefInfo {
            name: session.fork.name.clone(),
            commit: session.fork.id.to_string(),
        },
        target: RefInfo {
            name: session.target.name.clone(),
            commit: session.target.id.to_string(),
        },
        merge_base: session.merge_base.to_string(),
        fork_point: session.fork_point.to_string(),
        pack: session.pack.name.clone(),
        own_commits,
        changes,
        findings,
        summary: Summary::default(),
        conflicts,
        risk: risk::overall_risk(&overall),
        hops: Vec::new(),
        protocol: Some(protocol),
        plan: None,
        already_upstream: already,
        pr_candidates: candidates.iter().map(|c| c.report.clone()).collect(),
        stale_copies: stale,
        in_place_edits: in_place,
        notes: session
            .notes
            .iter()
            .cloned()
            .chain(candidate_notes)
            .collect(),
    };
    if options.hops {
        report.hops = crate::hops::sweep(repo, git, &session, &report.changes)?;
    }
    summarize(&mut report);
    Ok(AuditRun {
        session,
        report,
        touched,
        index,
        trees,
        refused,
        candidates,
        scratch,
    })
}

/// A protocol change between the fork point and the target, and fork edits of the protocol.
fn protocol_findings(
    session: &Session,
    changes: &[Change],
    verdict: Verdict,
    protocol: &ProtocolReport,
    findings: &mut Vec<Finding>,
) {
    let pack = &session.pack;
    let mut builder = FindingBuilder::new(pack);
    let anchors = crate::gate::anchor_paths(pack);
    for change in changes
        .iter()
        .filter(|c| c.origin != Origin::Upstream && !c.already_upstream)
    {
        let touches = anchors
            .iter()
            .any(|a| *a == change.path || change.old_path.as_deref() == Some(a));
        if touches {
            builder.add(
                "protocol-edit",
                &change.path,
                &change.path,
                None,
                format!("the fork edits protocol anchor {}", change.path),
                Some("the protocol is upstream's contract with the stack: propose the change upstream instead".into()),
            );
        }
    }
    if verdict != Verdict::None {
        let severity = match (verdict, protocol.accepted) {
            (Verdict::Schema, false) => Severity::Error,
            _ => Severity::Note,
        };
        let count: usize = protocol.anchors.iter().map(|a| a.changes.len()).sum();
        let message = match verdict {
            Verdict::Schema => format!(
                "the protocol changed between the fork point and the target ({count} schema changes){}",
                if protocol.accepted { "; accepted" } else { "" }
            ),
            _ => "the protocol documents changed in prose only".into(),
        };
        builder.add_with(
            severity,
            "protocol-change",
            &protocol.fingerprint,
            &protocol
                .anchors
                .first()
                .map_or(String::new(), |a| a.path.clone()),
            None,
            message,
            None,
        );
    }
    findings.extend(builder.finish());
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.path.cmp(&b.path))
    });
}

/// Paths each commit touched, computed in parallel (one repository handle per worker).
fn touched_paths(repo: &Repo, commits: &[Oid]) -> Result<HashMap<Oid, Vec<String>>> {
    let touched = repo.par_map(commits, |local, id| {
        Ok(Some((id, local.touched_paths(&local.commit(id)?)?)))
    })?;
    Ok(touched.into_iter().collect())
}

fn unit_index(
    repo: &Repo,
    session: &Session,
    trees: &Trees,
    base: &Files,
    fork: &Files,
) -> Result<UnitIndex> {
    let pack = &session.pack;
    let mut registrations: [Vec<Registered>; 3] = Default::default();
    let mut base_has = Vec::with_capacity(pack.families.len());
    for (family, spec) in pack.families.iter().enumerate() {
        let Some(registration) = &spec.registration else {
            base_has.push(false);
            continue;
        };
        for (side, tree) in [trees.base, trees.fork, trees.target]
            .into_iter()
            .enumerate()
        {
            if let Some(bytes) = repo.read(tree, &registration.path)? {
                if side == 0 {
                    base_has.push(true);
                }
                registrations[side].extend(classify::parse_registrations(
                    pack,
                    family,
                    &String::from_utf8_lossy(&bytes),
                ));
            } else if side == 0 {
                base_has.push(false);
            }
        }
    }
    Ok(UnitIndex::new(
        pack,
        registrations,
        base_has,
        base.keys().map(String::as_str),
        fork.keys().map(String::as_str),
    ))
}

/// Who touched each path since the merge-base: the own commits (by position in the
/// newest-first list) and whether any upstream commit did. Built once for all changes.
struct Touchers<'t> {
    by_path: HashMap<&'t str, (Vec<usize>, bool)>,
}

impl<'t> Touchers<'t> {
    fn new(touched: &'t HashMap<Oid, Vec<String>>, own_by_time: &[Oid]) -> Self {
        let position: HashMap<Oid, usize> = own_by_time
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i))
            .collect();
        let mut by_path: HashMap<&str, (Vec<usize>, bool)> = HashMap::new();
        for (commit, paths) in touched {
            for path in paths {
                let entry = by_path.entry(path.as_str()).or_default();
                match position.get(commit) {
                    Some(index) => entry.0.push(*index),
                    None => entry.1 = true,
                }
            }
        }
        Touchers { by_path }
    }

    /// Own commit positions (sorted) and whether upstream touched any of `paths`.
    fn of(&self, paths: &[&str]) -> (Vec<usize>, bool) {
        let mut own = Vec::new();
        let mut upstream = false;
        for path in paths {
            if let Some((commits, by_upstream)) = self.by_path.get(path) {
                own.extend(commits);
                upstream |= by_upstream;
            }
        }
        own.sort_unstable();
        own.dedup();
        (own, upstream)
    }
}

fn change_of(
    repo: &Repo,
    session: &Session,
    index: &UnitIndex,
    touchers: &Touchers,
    own_by_time: &[Oid],
    delta: &Delta,
) -> Result<Change> {
    let path = delta.path().to_string();
    let old_path = (delta.status == DeltaStatus::Renamed)
        .then(|| delta.old_path.clone())
        .flatten();
    let names: Vec<&str> = std::iter::once(path.as_str())
        .chain(old_path.as_deref())
        .collect();
    let (own, by_upstream) = touchers.of(&names);
    let commits: Vec<String> = own.iter().map(|i| own_by_time[*i].to_string()).collect();
    let origin = match (!commits.is_empty(), by_upstream) {
        (true, true) => Origin::Both,
        (false, true) => Origin::Upstream,
        _ => Origin::Fork,
    };

    let stats = repo.line_stats(delta.old_id, delta.new_id)?;
    let registration = if delta.status == DeltaStatus::Modified {
        match (delta.old_id, delta.new_id) {
            (Some(old), Some(new))
                if session
                    .pack
                    .families
                    .iter()
                    .any(|f| f.registration.as_ref().is_some_and(|r| r.path == path)) =>
            {
                let (old, new) = (repo.blob(old)?, repo.blob(new)?);
                classify::registration_edit(
                    &session.pack,
                    &path,
                    &String::from_utf8_lossy(&old),
                    &String::from_utf8_lossy(&new),
                )
            }
            _ => None,
        }
    } else {
        None
    };
    let deleted = delta.status == DeltaStatus::Deleted;
    let Decision {
        class,
        unit,
        rule,
        registers,
        ..
    } = classify::classify(&session.pack, index, &path, deleted, registration.as_ref());
    Ok(Change {
        path,
        old_path,
        status: match delta.status {
            DeltaStatus::Added => Status::Added,
            DeltaStatus::Modified => Status::Modified,
            DeltaStatus::Deleted => Status::Deleted,
            DeltaStatus::Renamed => Status::Renamed,
            DeltaStatus::TypeChanged => Status::TypeChanged,
        },
        class,
        unit,
        origin,
        copied_from: None,
        target_path: None,
        lines_added: stats.added,
        lines_deleted: stats.deleted,
        binary: stats.binary,
        commits,
        registers,
        rule,
        orphaned: false,
        risk: None,
        already_upstream: false,
    })
}

/// A copied unit and where its source's tests are, for the copy-without-tests check.
pub struct CopiedUnit {
    pub family: usize,
    pub unit: String,
    pub source_family: usize,
    pub source_unit: String,
    pub similarity: f64,
    pub main_path: String,
    pub source_path: String,
    pub source_has_tests: bool,
    pub has_tests: bool,
}

fn read_unit(repo: &Repo, files: &Files, paths: &[String]) -> Result<Vec<(String, Vec<u8>)>> {
    paths
        .iter()
        .map(|p| Ok((p.clone(), repo.blob(files[p])?)))
        .collect()
}

fn unit_names(
    session: &Session,
    family: usize,
    unit: &str,
    files: &[(String, Vec<u8>)],
) -> Vec<String> {
    let mut names = vec![unit.to_string()];
    if let Some(pattern) = &session.pack.families[family].class_name {
        names.extend(copies::dominant_name(pattern, files));
    }
    names
}

/// Paths of each unit's tests in a tree, by (family, unit): files matching the `{unit}`
/// templates, and the `{key}` templates through the unit's registration key.
fn tests_by_unit(
    session: &Session,
    index: &UnitIndex,
    files: &Files,
) -> BTreeMap<(usize, String), Vec<String>> {
    let mut out: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    for path in files.keys() {
        for (family, spec) in session.pack.families.iter().enumerate() {
            if let Some(name) = spec
                .tests
                .iter()
                .find_map(|t| t.match_path(path).map(|n| (t.placeholder, n)))
            {
                let unit = match name {
                    ("key", key) => index.unit_of_key(family, key).unwrap_or(key).to_string(),
                    (_, unit) => unit.to_string(),
                };
                out.entry((family, unit)).or_default().push(path.clone());
                break;
            }
        }
    }
    out
}

fn detect_copies(
    repo: &Repo,
    session: &Session,
    index: &UnitIndex,
    base_files: &Files,
    fork_files: &Files,
    changes: &mut [Change],
) -> Result<Vec<CopiedUnit>> {
    let pack = &session.pack;
    let mut added: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    for change in changes
        .iter()
        .filter(|c| c.class == ChangeClass::ConnectorAdded && c.origin != Origin::Upstream)
    {
        if let Some(key) = index.unit_of(pack, &change.path) {
            added.entry(key).or_default().push(change.path.clone());
        }
    }
    let base_tests = tests_by_unit(session, index, base_files);
    let fork_tests = tests_by_unit(session, index, fork_files);
    // Tests the fork added for units that had none upstream.
    let mut added_tests: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    for change in changes.iter().filter(|c| {
        c.class == ChangeClass::Test && c.status == Status::Added && c.origin != Origin::Upstream
    }) {
        let owner = fork_tests
            .iter()
            .find(|(_, paths)| paths.contains(&change.path))
            .map(|(key, _)| key);
        if let Some(key) = owner.filter(|key| !base_tests.contains_key(*key)) {
            added_tests
                .entry(key.clone())
                .or_default()
                .push(change.path.clone());
        }
    }
    if added.is_empty() && added_tests.is_empty() {
        return Ok(Vec::new());
    }

    // The upstream corpus: every unit at the merge-base (helpers excluded).
    let mut unit_paths: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
    for path in base_files.keys() {
        if let Some((family, unit)) = index.unit_of(pack, path) {
            if !index.is_helper(family, &unit) {
                unit_paths
                    .entry((family, unit))
                    .or_default()
                    .push(path.clone());
            }
        }
    }
    let (sources, code_index) = corpus(repo, session, base_files, &unit_paths)?;
    let mut copied = Vec::new();
    for (key, paths, found) in match_units(
        repo,
        session,
        &code_index,
        &sources,
        fork_files,
        &added,
        changes,
    )? {
        let (source_family, source_unit) = sources[found.source].clone();
        let main = found
            .files
            .iter()
            .max_by(|a, b| a.2.total_cmp(&b.2).then_with(|| b.0.cmp(&a.0)));
        let (main_path, source_path) = match main {
            Some((path, source, _)) => (path.clone(), source.clone()),
            None => (
                paths[0].clone(),
                unit_paths[&(source_family, source_unit.clone())][0].clone(),
            ),
        };
        copied.push(CopiedUnit {
            family: key.0,
            source_has_tests: base_tests.contains_key(&(source_family, source_unit.clone())),
            has_tests: fork_tests.contains_key(&key),
            unit: key.1,
            source_family,
            source_unit,
            similarity: found.similarity,
            main_path,
            source_path,
        });
    }

    if !added_tests.is_empty() {
        let upstream_tests: BTreeMap<(usize, String), Vec<String>> = base_tests
            .into_iter()
            .filter(|((family, unit), _)| !index.is_helper(*family, unit))
            .collect();
        let (sources, test_index) = corpus(repo, session, base_files, &upstream_tests)?;
        match_units(
            repo,
            session,
            &test_index,
            &sources,
            fork_files,
            &added_tests,
            changes,
        )?;
    }
    Ok(copied)
}

/// Reads units into a copy index; returns each corpus entry's (family, unit) beside it.
fn corpus(
    repo: &Repo,
    session: &Session,
    files: &Files,
    units: &BTreeMap<(usize, String), Vec<String>>,
) -> Result<(Vec<(usize, String)>, CopyIndex)> {
    let mut keys = Vec::with_capacity(units.len());
    let mut texts = Vec::with_capacity(units.len());
    for ((family, unit), paths) in units {
        let files = read_unit(repo, files, paths)?;
        keys.push((*family, unit.clone()));
        texts.push(UnitText {
            unit: unit.clone(),
            names: unit_names(session, *family, unit, &files),
            files,
        });
    }
    Ok((keys, CopyIndex::new(&texts)))
}

type UnitMatch = (
    (usize, String),
    Vec<String>,
    crate::analysis::copies::CopyMatch,
);

/// Looks each added unit up in the index; marks its files' `copied_from`; returns the copies.
fn match_units(
    repo: &Repo,
    session: &Session,
    index: &CopyIndex,
    sources: &[(usize, String)],
    fork_files: &Files,
    added: &BTreeMap<(usize, String), Vec<String>>,
    changes: &mut [Change],
) -> Result<Vec<UnitMatch>> {
    let mut out = Vec::new();
    for ((family, unit), paths) in added {
        let files = read_unit(repo, fork_files, paths)?;
        let text = UnitText {
            unit: unit.clone(),
            names: unit_names(session, *family, unit, &files),
            files,
        };
        let Some(found) = index.find(&text, None) else {
            continue;
        };
        for (path, source_path, similarity) in &found.files {
            if let Some(change) = changes.iter_mut().find(|c| &c.path == path) {
                change.copied_from = Some(CopiedFrom {
                    path: source_path.clone(),
                    similarity: *similarity,
                    unit: sources[found.source].1.clone(),
                    target_path: None,
                });
            }
        }
        out.push(((*family, unit.clone()), paths.clone(), found));
    }
    Ok(out)
}

/// Where upstream files of the merge-base live at the target: the same path, or the file the
/// target added that holds most of their lines (a move, a rename with edits, a split).
struct TargetPaths<'f> {
    base: &'f Files,
    target: &'f Files,
    /// Built only when some file is missing at the target.
    relocator: Option<Relocator>,
}

impl<'f> TargetPaths<'f> {
    fn new(
        repo: &Repo,
        trees: &Trees,
        base: &'f Files,
        target: &'f Files,
        needed: bool,
    ) -> Result<Self> {
        let relocator = if needed {
            let added: Vec<(String, Vec<u8>)> = repo
                .diff(Some(trees.base), trees.target, false, &[])?
                .into_iter()
                .filter(|d| d.status == DeltaStatus::Added)
                .filter_map(|d| {
                    let id = d.new_id?;
                    Some(
                        repo.blob_if_present(id)
                            .map(|blob| blob.map(|b| (d.path().to_string(), b))),
                    )
                })
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect();
            Some(Relocator::new(added))
        } else {
            None
        };
        Ok(TargetPaths {
            base,
            target,
            relocator,
        })
    }

    fn locate(&self, repo: &Repo, path: &str) -> Result<Option<String>> {
        if self.target.contains_key(path) {
            return Ok(Some(path.to_string()));
        }
        let (Some(relocator), Some(id)) = (&self.relocator, self.base.get(path)) else {
            return Ok(None);
        };
        Ok(repo
            .blob_if_present(*id)?
            .and_then(|blob| relocator.locate(&blob, path))
            .map(|(p, _)| p))
    }
}

/// Where each file the fork touched lives at the target.
fn relocate(
    repo: &Repo,
    trees: &Trees,
    base: &Files,
    target: &Files,
    changes: &mut [Change],
) -> Result<()> {
    let upstream_path = |c: &Change| -> Option<String> {
        match c.status {
            Status::Added => None,
            Status::Renamed => c.old_path.clone(),
            _ => Some(c.path.clone()),
        }
    };
    let needed = changes.iter().any(|c| {
        upstream_path(c).is_some_and(|p| !target.contains_key(&p))
            || c.copied_from
                .as_ref()
                .is_some_and(|f| !target.contains_key(&f.path))
    });
    let paths = TargetPaths::new(repo, trees, base, target, needed)?;
    for change in changes.iter_mut() {
        if let Some(path) = upstream_path(change) {
            change.target_path = paths.locate(repo, &path)?;
        }
        if let Some(copied) = &mut change.copied_from {
            copied.target_path = paths.locate(repo, &copied.path.clone())?;
        }
    }
    Ok(())
}

/// Conflicts with their cause and the own commits behind them.
fn attribute(
    repo: &Repo,
    session: &Session,
    touched: &HashMap<Oid, Vec<String>>,
    changes: &[Change],
    outcome: &MergeOutcome,
    point_paths: &HashSet<String>,
    settled: &HashSet<Oid>,
) -> Result<Vec<Conflict>> {
    let fork_blob: HashMap<Oid, &str> = outcome
        .entries
        .iter()
        .filter(|e| e.stage == 2)
        .filter_map(|e| {
            Some((
                e.id,
                changes
                    .iter()
                    .find(|c| c.path == e.path || c.target_path.as_deref() == Some(&e.path))?
                    .path
                    .as_str(),
            ))
        })
        .collect();
    let stage2: HashMap<&str, Oid> = outcome
        .entries
        .iter()
        .filter(|e| e.stage == 2)
        .map(|e| (e.path.as_str(), e.id))
        .collect();
    let raw = conflicts::conflicts(outcome, |id| repo.blob(id))?;
    let mut out = Vec::with_capacity(raw.len());
    for conflict in raw {
        // The path the fork knows this file by: merge-ort may report it at the target's path.
        let fork_path = stage2
            .get(conflict.path.as_str())
            .and_then(|id| fork_blob.get(id).copied())
            .or_else(|| {
                changes
                    .iter()
                    .find(|c| c.target_path.as_deref() == Some(&conflict.path))
                    .map(|c| c.path.as_str())
            })
            .unwrap_or(conflict.path.as_str())
            .to_string();
        let mut commits: BTreeSet<Oid> = BTreeSet::new();
        let mut blamed = false;
        for range in &conflict.ours {
            if range.is_empty() {
                continue;
            }
            if let Ok(lines) =
                repo.blame_lines(session.fork.id, &fork_path, range.start + 1, range.end)
            {
                blamed = true;
                commits.extend(lines.into_iter().filter(|c| session.own_ids.contains(c)));
            }
        }
        if !blamed {
            commits.extend(
                session
                    .own
                    .iter()
                    .filter(|c| {
                        touched
                            .get(&c.id)
                            .is_some_and(|paths| paths.contains(&fork_path))
                    })
                    .map(|c| c.id),
            );
        }
        let cause = if !point_paths.contains(&conflict.path) || (blamed && !commits.is_empty()) {
            Origin::Fork
        } else {
            Origin::Upstream
        };
        // Newest first, like the own commits list.
        let ordered: Vec<String> = session
            .own
            .iter()
            .filter(|c| commits.contains(&c.id))
            .map(|c| c.id.to_string())
            .collect();
        out.push(Conflict {
            path: conflict.path.clone(),
            kind: conflict.kind.clone(),
            cause,
            commits: if cause == Origin::Fork {
                ordered
            } else {
                Vec::new()
            },
            ours_lines: conflict.ours.iter().map(conflicts::one_based).collect(),
            theirs_lines: conflict.theirs.iter().map(conflicts::one_based).collect(),
            message: readable(&conflict.message, session),
            already_upstream: cause == Origin::Fork
                && !commits.is_empty()
                && commits.iter().all(|c| settled.contains(c)),
        });
    }
    out.sort_by(|a, b| {
        (a.cause != Origin::Fork)
            .cmp(&(b.cause != Origin::Fork))
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok(out)
}

/// git names the merged commits by id; say which is which.
fn readable(message: &str, session: &Session) -> String {
    message
        .replace(
            &session.fork.id.to_string(),
            &format!("the fork ({})", session.fork.name),
        )
        .replace(
            &session.target.id.to_string(),
            &format!("the target ({})", session.target.name),
        )
}

/// Where each file the fork added or changed sits in the merged tree, and whether that
/// directory still exists upstream.
fn place_in_merge(
    repo: &Repo,
    trees: &Trees,
    merged: &Files,
    outcome: &MergeOutcome,
    changes: &mut [Change],
) -> Result<()> {
    for change in changes.iter_mut() {
        if change.status == Status::Deleted || change.origin == Origin::Upstream {
            continue;
        }
        let moved_by_merge = || {
            outcome
                .messages
                .iter()
                .filter(|m| m.paths.contains(&change.path))
                .flat_map(|m| m.paths.iter())
                .find(|p| **p != change.path && merged.contains_key(*p))
                .cloned()
        };
        let merged_path = if merged.contains_key(&change.path) {
            Some(change.path.clone())
        } else if let Some(target) = change
            .target_path
            .clone()
            .filter(|t| merged.contains_key(t))
        {
            Some(target)
        } else {
            moved_by_merge()
        };
        let Some(merged_path) = merged_path else {
            continue;
        };
        if change.status == Status::Added {
            change.target_path = Some(merged_path.clone());
        }
        change.orphaned = orphaned_between(repo, trees.base, trees.target, &merged_path)?;
    }
    Ok(())
}

/// In a directory the merge-base had and `target` no longer has: the nearest directory above
/// `path` that existed at the base is gone.
pub fn orphaned_between(repo: &Repo, base: Oid, target: Oid, path: &str) -> Result<bool> {
    let mut dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    while !dir.is_empty() && !repo.has_dir(base, dir)? {
        dir = dir.rsplit_once('/').map_or("", |(d, _)| d);
    }
    Ok(!dir.is_empty() && !repo.has_dir(target, dir)?)
}

/// Upstream commits touching each divergent path (or its target location): since the fork
/// point, and in the six months before the target.
fn upstream_churn(
    repo: &Repo,
    session: &Session,
    changes: &[Change],
    since_point: &[Oid],
    scanned: &[crate::upstream::Upstream],
    watched: &[String],
) -> Result<HashMap<String, (usize, usize)>> {
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    for change in changes.iter().filter(|c| c.origin != Origin::Upstream) {
        owners.insert(change.path.clone(), change.path.clone());
        if let Some(target) = &change.target_path {
            owners.insert(target.clone(), change.path.clone());
        }
    }
    if owners.is_empty() {
        return Ok(HashMap::new());
    }
    // The merge may have moved a file the fork added somewhere the scan did not watch.
    let unwatched: Vec<String> = owners
        .keys()
        .filter(|p| !watched.contains(p))
        .cloned()
        .collect();
    let extra = crate::upstream::scan(repo, since_point, &unwatched)?;
    let cutoff = repo.commit(session.target.id)?.time - RECENT_DAYS * crate::time::DAY;
    let since: HashSet<Oid> = since_point.iter().copied().collect();
    let mut counts: HashMap<String, (HashSet<Oid>, HashSet<Oid>)> = HashMap::new();
    for upstream in scanned
        .iter()
        .chain(&extra)
        .filter(|u| since.contains(&u.meta.id))
    {
        for path in &upstream.paths {
            let Some(owner) = owners.get(path) else {
                continue;
            };
            let entry = counts.entry(owner.clone()).or_default();
            entry.0.insert(upstream.meta.id);
            if upstream.meta.time >= cutoff {
                entry.1.insert(upstream.meta.id);
            }
        }
    }
    Ok(counts
        .into_iter()
        .map(|(path, (a, b))| (path, (a.len(), b.len())))
        .collect())
}

fn findings(
    session: &Session,
    changes: &[Change],
    conflicts: &[Conflict],
    copies: &[CopiedUnit],
    stale: &[StaleCopy],
) -> Vec<Finding> {
    let pack = &session.pack;
    let mut builder = FindingBuilder::new(pack);
    for change in changes
        .iter()
        .filter(|c| c.origin != Origin::Upstream && !c.already_upstream)
    {
        let path = change.path.as_str();
        match change.class {
            ChangeClass::Framework => builder.add(
                "framework-edit",
                path,
                path,
                None,
                format!("the fork changes framework file {path}"),
                Some("keep framework changes out of the fork: send them upstream as a pull request (`forkdrift candidates`)".into()),
            ),
            ChangeClass::ConnectorModified => {
                let unit = change.unit.as_deref().unwrap_or("?");
                builder.add(
                    "connector-modified",
                    path,
                    path,
                    change.unit.as_deref(),
                    format!("upstream connector `{unit}` edited in place ({path})"),
                    Some(format!("copy-and-rename `{unit}` (and its tests) and change the copy instead")),
                );
            }
            ChangeClass::ConnectorDeleted => builder.add(
                "connector-deleted",
                path,
                path,
                change.unit.as_deref(),
                format!("upstream connector file {path} deleted by the fork"),
                Some("upstream will keep changing it: every upgrade can conflict here; unregister the connector instead".into()),
            ),
            _ => {}
        }
        if let Some((_, zone)) = pack.zone(path) {
            if let Some(warning) = &zone.warn {
                if change.status != Status::Deleted {
                    builder.add(
                        "zone-warning",
                        path,
                        path,
                        None,
                        format!("{path}: {warning}"),
                        None,
                    );
                }
            }
        }
        if change.orphaned {
            builder.add(
                "orphaned",
                path,
                change.target_path.as_deref().unwrap_or(path),
                change.unit.as_deref(),
                format!(
                    "after the upgrade {} sits in a directory the target no longer has: it merges without a conflict, yet nothing imports it any more",
                    change.target_path.as_deref().unwrap_or(path)
                ),
                Some("move it into the target's layout as part of the upgrade".into()),
            );
        }
    }
    for copy in copies.iter().filter(|c| c.source_has_tests && !c.has_tests) {
        let expected = pack.families[copy.family]
            .tests
            .iter()
            .find(|t| t.placeholder == "unit")
            .map(|t| t.instantiate(&copy.unit))
            .unwrap_or_default();
        builder.add(
            "copy-without-tests",
            &copy.unit,
            &copy.main_path,
            Some(&copy.unit),
            format!(
                "`{}` is a copy of upstream `{}` ({:.0} % similar) but its tests were not copied",
                copy.unit,
                copy.source_unit,
                copy.similarity * 100.0
            ),
            Some(format!(
                "copy the tests of `{}` too, renamed, to {expected}",
                copy.source_unit
            )),
        );
    }
    for copy in stale {
        let path = copies
            .iter()
            .find(|c| c.unit == copy.unit)
            .map_or(copy.source_path.clone(), |c| c.main_path.clone());
        if !copy.missing.is_empty() {
            let prs: Vec<String> = copy
                .missing
                .iter()
                .flat_map(|c| c.prs.first().map(|n| format!("#{n}")))
                .collect();
            builder.add(
                "stale-copy",
                &copy.unit,
                &path,
                Some(&copy.unit),
                format!(
                    "`{}` was copied from `{}`, which upstream changed {} since ({}): the copy lacks those fixes",
                    copy.unit,
                    copy.source_unit,
                    if copy.missing.len() == 1 { "once".to_string() } else { format!("{} times", copy.missing.len()) },
                    if prs.is_empty() { "no PR numbers".to_string() } else { prs.join(", ") }
                ),
                Some(format!("review them and port what applies to `{}`", copy.unit)),
            );
        }
        for import in &copy.broken_imports {
            builder.add(
                "missing-import",
                &format!("{}:{import}", copy.unit),
                &path,
                Some(&copy.unit),
                format!("`{}` imports {import}, which the target no longer has", copy.unit),
                Some("follow the framework's move (see `forkdrift explain` and the target's layout) when you upgrade".into()),
            );
        }
    }
    for conflict in conflicts
        .iter()
        .filter(|c| c.cause == Origin::Fork && !c.already_upstream)
    {
        builder.add(
            "conflict",
            &conflict.path,
            &conflict.path,
            None,
            format!(
                "merging the target conflicts on {} ({})",
                conflict.path, conflict.kind
            ),
            None,
        );
    }
    builder.finish()
}

fn summarize(report: &mut Report) {
    report.changes.sort_by(|a, b| a.path.cmp(&b.path));
    let mut summary = Summary {
        own_commits: report.own_commits.len(),
        changes: report.changes.len(),
        ..Summary::default()
    };
    for class in ChangeClass::ALL {
        summary.by_class.insert(class.as_str().into(), 0);
    }
    for change in &report.changes {
        let divergent = change.origin != Origin::Upstream && !change.already_upstream;
        if divergent {
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
        .filter(|c| c.cause == Origin::Fork && !c.already_upstream)
        .count();
    report.summary = summary;
}

/// `forkdrift explain PATH`: the decision for one path, and the facts it rests on.
pub struct Explanation {
    pub path: String,
    pub pack: String,
    pub pack_origin: String,
    pub class: ChangeClass,
    pub rule: String,
    pub unit: Option<String>,
    /// How the fork changed the path since the merge-base, if at all.
    pub change: Option<Status>,
    pub facts: Vec<String>,
}

pub fn explain(repo: &Repo, selection: &Selection, path: &str) -> Result<Explanation> {
    let session = Session::open(repo, selection)?;
    let trees = Trees {
        base: repo.tree_of(session.merge_base)?,
        fork: repo.tree_of(session.fork.id)?,
        target: repo.tree_of(session.target.id)?,
        fork_point: repo.tree_of(session.fork_point)?,
    };
    let base_files = repo.files(trees.base)?;
    let fork_files = repo.files(trees.fork)?;
    let index = unit_index(repo, &session, &trees, &base_files, &fork_files)?;
    let delta = repo
        .diff(Some(trees.base), trees.fork, true, &[])?
        .into_iter()
        .find(|d| d.path() == path || d.old_path.as_deref() == Some(path));
    let registration = match (base_files.get(path), fork_files.get(path)) {
        (Some(old), Some(new)) => classify::registration_edit(
            &session.pack,
            path,
            &String::from_utf8_lossy(&repo.blob(*old)?),
            &String::from_utf8_lossy(&repo.blob(*new)?),
        ),
        _ => None,
    };
    let deleted = !fork_files.contains_key(path);
    let decision = classify::classify(&session.pack, &index, path, deleted, registration.as_ref());
    let mut facts = Vec::new();
    facts.push(format!(
        "at the merge-base {}: {}; in the fork: {}; at the target: {}",
        &session.merge_base.to_string()[..12],
        if base_files.contains_key(path) {
            "present"
        } else {
            "absent"
        },
        if fork_files.contains_key(path) {
            "present"
        } else {
            "absent"
        },
        if repo.entry(trees.target, path)?.is_some() {
            "present"
        } else {
            "absent"
        },
    ));
    if let Some(family) = decision.family {
        let spec = &session.pack.families[family];
        facts.push(format!(
            "unit family `{}`: units at {}",
            spec.layout, spec.path.text
        ));
        if let Some(unit) = &decision.unit {
            if let Some(key) = index.key_of(family, unit) {
                facts.push(format!("`{unit}` is registered as \"{key}\""));
            }
            let tests: Vec<String> = spec
                .tests
                .iter()
                .map(|t| {
                    t.instantiate(
                        index
                            .key_of(family, unit)
                            .filter(|_| t.placeholder == "key")
                            .unwrap_or(unit),
                    )
                })
                .collect();
            if !tests.is_empty() {
                facts.push(format!("its tests belong at {}", tests.join(", ")));
            }
        }
    }
    if base_files.contains_key(path) && repo.entry(trees.target, path)?.is_none() {
        let target_files = repo.files(trees.target)?;
        let paths = TargetPaths::new(repo, &trees, &base_files, &target_files, true)?;
        facts.push(match paths.locate(repo, path)? {
            Some(moved) => format!("upstream moved it: at the target it lives at {moved}"),
            None => "upstream removed it: no file of the target holds most of its lines".into(),
        });
    }
    if let Some(edit) = &registration {
        facts.push(if edit.only_registrations {
            format!(
                "the fork's edit only adds or removes registration entries ({})",
                edit.keys.join(", ")
            )
        } else {
            "the fork's edit changes lines that are not registration entries".into()
        });
    }
    Ok(Explanation {
        path: path.to_string(),
        pack: session.pack.name.clone(),
        pack_origin: session.pack.origin.clone(),
        class: decision.class,
        rule: decision.rule,
        unit: decision.unit,
        change: delta.map(|d| match d.status {
            DeltaStatus::Added => Status::Added,
            DeltaStatus::Modified => Status::Modified,
            DeltaStatus::Deleted => Status::Deleted,
            DeltaStatus::Renamed => Status::Renamed,
            DeltaStatus::TypeChanged => Status::TypeChanged,
        }),
        facts,
    })
}
