//! The one reader: turns the user's selection into [`Facts`]. It resolves the fork and the
//! target, the upstream refs and the rule pack, the merge-base, the own commits and the fork
//! point; walks and diffs the commits once; reads the release points and the acceptances; and
//! has git merge the next upgrade. Each failure becomes a diagnostic that says how to recover.
//! The later reads that depend on what the analysis found (blame of conflicting lines,
//! cherry-picks of PR candidates, merges of hops) are functions here too.

use super::Repo;
use super::git::Git;
use super::merge::{self, MergeRequest};
use crate::analysis::releases;
use crate::config::{self, Acceptance, CONFIG_FILE};
use crate::error::{Error, Result};
use crate::facts::{
    CommitId, CommitInfo, Facts, Graph, Merges, Objects, Resolved, TreeId, Trees, Upstream,
};
use crate::rules::Pack;
use globset::GlobSet;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// What the user selected, resolved into values (globs compiled, defaults applied).
#[derive(Debug, Clone)]
pub struct Selection {
    /// The fork revision.
    pub fork: String,
    /// The upstream remote, when named (default `upstream`).
    pub remote: Option<String>,
    /// The target revision (default: the remote's default branch).
    pub to: Option<String>,
    /// More refs (globs over full ref names) that count as upstream.
    pub upstream_refs: Option<GlobSet>,
    /// `--rules NAME|FILE`; auto-detected from the target's tree when absent.
    pub rules: Option<String>,
    /// What resolving the selection decided that the report should say (`--to 9.3` chose
    /// v9.3.4).
    pub notes: Vec<String>,
    /// What `.forkdrift.toml` declares the fork's own.
    pub own: config::Own,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            fork: "HEAD".into(),
            remote: None,
            to: None,
            upstream_refs: None,
            rules: None,
            notes: Vec::new(),
            own: config::Own::default(),
        }
    }
}

/// The fork, the target and what every command derives from them before reading history.
struct Endpoints {
    pack: Pack,
    fork: Resolved,
    target: Resolved,
    remote: Option<String>,
    tips: Vec<CommitId>,
    refs: Vec<Resolved>,
    merge_base: CommitId,
    /// The fork's own commits (reachable from the fork, from no upstream ref), newest first.
    own: Vec<CommitId>,
    /// Full names of the release-pattern tags no upstream ref reaches (see [`foreign_tags`]).
    foreign_tags: Vec<String>,
    notes: Vec<String>,
}

fn endpoints(repo: &Repo, selection: &Selection) -> Result<Endpoints> {
    let fork = repo.resolve_commit(&selection.fork)?;
    let explicit_pack = selection.rules.as_deref().map(Pack::load).transpose()?;
    let remote_name = selection
        .remote
        .clone()
        .unwrap_or_else(|| "upstream".into());
    let remote_refs = repo.refs_under(&format!("refs/remotes/{remote_name}/"))?;
    let remote =
        (repo.has_remote(&remote_name) || !remote_refs.is_empty()).then(|| remote_name.clone());

    let target_name = match (&selection.to, &remote) {
        (Some(to), _) => to.clone(),
        (None, Some(remote)) => {
            let branch = repo
                .default_branch(remote)
                .ok_or_else(|| Error::NoDefaultBranch {
                    remote: remote.clone(),
                })?;
            branch.trim_start_matches("refs/remotes/").to_string()
        }
        (None, None) => return Err(no_remote(repo, &remote_name, explicit_pack.as_ref(), fork)),
    };
    if remote.is_none() && selection.remote.is_some() {
        return Err(no_remote(repo, &remote_name, explicit_pack.as_ref(), fork));
    }
    let target = repo.resolve_commit(&target_name)?;
    let target_tree = repo.tree_of(target)?;

    let mut pack = match explicit_pack {
        Some(pack) => pack,
        None => {
            let name = detect_in(repo, target_tree).ok_or_else(|| Error::NoPackDetected {
                target: target_name.clone(),
            })?;
            Pack::builtin(&name)?
        }
    };

    pack.add_own(&selection.own)?;

    let mut tips: Vec<CommitId> = remote_refs.iter().map(|(_, id)| *id).collect();
    // Names for the upstream branches: a backport is told by the release branch that has it,
    // an original by the default branch, which is listed first.
    let default_branch = remote
        .as_deref()
        .and_then(|r| repo.default_branch(r))
        .map(|b| b.trim_start_matches("refs/remotes/").to_string());
    let mut refs: Vec<Resolved> = remote_refs
        .iter()
        .map(|(name, id)| Resolved {
            name: name.trim_start_matches("refs/remotes/").to_string(),
            id: *id,
        })
        .collect();
    refs.sort_by_key(|r| Some(&r.name) != default_branch.as_ref());
    let mut notes = selection.notes.clone();
    if let Some(globs) = &selection.upstream_refs {
        let before = tips.len();
        for (name, id) in repo.refs_under("refs/")? {
            if globs.is_match(&name) {
                tips.push(id);
                refs.push(Resolved { name, id });
            }
        }
        if tips.len() == before {
            notes.push(
                "--upstream-ref matches no ref: globs match full ref names (`refs/heads/vendor/*`), and nothing was added to upstream".into(),
            );
        }
    }
    let upstream_branches = !tips.is_empty();
    let release_tags: Vec<(String, CommitId)> = match &pack.versions {
        Some(versions) => repo
            .refs_under("refs/tags/")?
            .into_iter()
            .filter(|(name, _)| {
                versions
                    .tags
                    .is_match(name.trim_start_matches("refs/tags/"))
            })
            .collect(),
        None => Vec::new(),
    };
    if selection.rules.is_some() && !pack.detect.is_empty() {
        let present = pack.detect.iter().any(|path| {
            repo.entry(target_tree, path).ok().flatten().is_some()
                || repo.has_dir(target_tree, path).unwrap_or(false)
        });
        if !present {
            notes.push(format!(
                "the rule pack {} expects {} in the target's tree and none is there: is it the pack for this upstream?",
                pack.name,
                pack.detect.join(", ")
            ));
        }
    }
    // A target that upstream does not have (a fork commit) counts as upstream all the same:
    // the fork's work below it would silently stop being the fork's.
    let mut known: Vec<CommitId> = tips.clone();
    known.extend(release_tags.iter().map(|(_, id)| *id));
    if !known.is_empty() && !known.contains(&target) && !repo.walk(&[target], &known)?.is_empty() {
        notes.push(format!(
            "--to {target_name} names a commit no upstream ref has: it is treated as upstream, so the fork's work below it is not counted as the fork's"
        ));
    }
    tips.push(target);
    tips.sort();
    tips.dedup();

    let merge_base = repo
        .merge_base(fork, target)?
        .ok_or_else(|| Error::NoMergeBase {
            ours: selection.fork.clone(),
            theirs: target_name.clone(),
            shallow: repo.is_shallow(),
        })?;
    crate::progress::phase("walking the fork's own commits");
    let own = repo.walk(&[fork], &tips)?;
    crate::progress::phase("telling upstream's release tags from the fork's");
    let foreign_tags = foreign_tags(
        repo,
        &release_tags,
        &tips,
        &own,
        merge_base,
        upstream_branches,
    )?;
    if let Some(note) = foreign_tags_note(&foreign_tags) {
        notes.push(note);
    }
    tips.extend(
        release_tags
            .iter()
            .filter(|(name, _)| !foreign_tags.contains(name))
            .map(|(_, id)| *id),
    );
    tips.sort();
    tips.dedup();
    Ok(Endpoints {
        pack,
        fork: Resolved {
            name: selection.fork.clone(),
            id: fork,
        },
        target: Resolved {
            name: target_name,
            id: target,
        },
        remote,
        tips,
        refs,
        merge_base,
        own,
        foreign_tags,
        notes,
    })
}

fn detect_in(repo: &Repo, tree: TreeId) -> Option<String> {
    Pack::detect(|path| {
        repo.entry(tree, path).ok().flatten().is_some() || repo.has_dir(tree, path).unwrap_or(false)
    })
}

/// The built-in pack that recognises the selection's target tree, if one does.
pub fn detect_pack(repo: &Repo, selection: &Selection) -> Result<Option<String>> {
    let probe = Selection {
        rules: Some("generic".into()),
        ..selection.clone()
    };
    let target = repo.resolve_commit(&target_name(repo, &probe)?)?;
    Ok(detect_in(repo, repo.tree_of(target)?))
}

/// The tags the pack's pattern matches that no upstream ref reaches: a fork's own release
/// tags (`v1.101411.0` on op-geth) look like upstream's and must not pass for its releases,
/// nor hide the fork's commits below them. `upstream` holds the upstream refs and the target,
/// `own` the fork's commits none of them reaches.
///
/// Bounded by the history since the merge-base, never by upstream's whole history: a tag on an
/// own commit is the fork's (`own` is walked anyway); a tag on neither side whose commit is
/// not older than the merge-base is walked from, hidden by the upstream refs, which stops once
/// the walk is below the tag; an older tag is taken for an ancestor of the merge-base, as
/// every old upstream release is, since proving it would walk upstream's history back to its
/// first commit (go-ethereum: ~400 tags, to 2013). Without an upstream ref but the target
/// (`--to` and tags only), tags newer than the target are upstream's as far as anyone knows.
fn foreign_tags(
    repo: &Repo,
    tags: &[(String, CommitId)],
    upstream: &[CommitId],
    own: &[CommitId],
    merge_base: CommitId,
    upstream_branches: bool,
) -> Result<Vec<String>> {
    let own: HashSet<CommitId> = own.iter().copied().collect();
    let mut foreign = Vec::new();
    let mut undecided = Vec::new();
    let since = repo.commit_alone(merge_base)?.time;
    for (name, id) in tags {
        if upstream.contains(id) {
            continue;
        }
        if own.contains(id) {
            foreign.push(name.clone());
        } else if upstream_branches && repo.commit_alone(*id)?.time >= since {
            undecided.push((name, *id));
        }
    }
    if !undecided.is_empty() {
        let ids: Vec<CommitId> = undecided.iter().map(|(_, id)| *id).collect();
        let unreached: HashSet<CommitId> = repo.walk(&ids, upstream)?.into_iter().collect();
        foreign.extend(
            undecided
                .into_iter()
                .filter(|(_, id)| unreached.contains(id))
                .map(|(name, _)| name.clone()),
        );
    }
    foreign.sort();
    Ok(foreign)
}

fn foreign_tags_note(tags: &[String]) -> Option<String> {
    const SHOWN: usize = 5;
    if tags.is_empty() {
        return None;
    }
    let mut names: Vec<&str> = tags
        .iter()
        .take(SHOWN)
        .map(|t| t.trim_start_matches("refs/tags/"))
        .collect();
    let more = tags.len().saturating_sub(SHOWN);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    names.sort();
    Some(format!(
        "the rule pack's tag pattern matches {} tag(s) that no upstream ref reaches ({}{more}): they are taken for the fork's own, not for upstream releases; if they are upstream's, fetch the upstream branch that has them",
        tags.len(),
        names.join(", ")
    ))
}

/// The target the selection names: `--to`, else the upstream remote's default branch.
pub fn target_name(repo: &Repo, selection: &Selection) -> Result<String> {
    if let Some(to) = &selection.to {
        return Ok(to.clone());
    }
    Ok(endpoints(repo, selection)?.target.name)
}

/// Reads everything the analysis needs, and merges the next upgrade.
pub fn collect(repo: &Repo, git: &Git, selection: &Selection) -> Result<Facts> {
    crate::progress::phase("resolving the fork, the target and the rule pack");
    let Endpoints {
        pack,
        fork,
        target,
        remote,
        tips,
        refs: upstream_refs,
        merge_base,
        own: own_ordered,
        foreign_tags,
        notes: endpoint_notes,
    } = endpoints(repo, selection)?;

    let own_ids: HashSet<CommitId> = own_ordered.iter().copied().collect();
    let own = own_ordered
        .iter()
        .map(|id| repo.commit(*id))
        .collect::<Result<Vec<_>>>()?;

    let mut notes = endpoint_notes;
    // A target that upstream does not have (a fork commit) counts as upstream all the same:
    // the fork's work below it would silently stop being the fork's.
    if repo.is_shallow() {
        notes.push(
            "this clone is shallow: own commits and churn are counted only within the fetched history (`git fetch --unshallow`)".into(),
        );
    }
    let fork_point = fork_point(repo, fork.id, &own, &own_ids, &mut notes)?;
    let trees = Trees {
        base: repo.tree_of(merge_base)?,
        fork: repo.tree_of(fork.id)?,
        target: repo.tree_of(target.id)?,
        fork_point: repo.tree_of(fork_point)?,
    };

    crate::progress::phase("walking the history since the merge-base");
    // The history forkdrift reasons about: the fork's side since the merge-base, every upstream
    // ref's side since the merge-base, and the target's side since the fork point.
    let fork_range = repo.walk(&[fork.id], &[merge_base])?;
    let since_base_ordered = repo.walk(&tips, &[merge_base])?;
    let since_point = repo.walk(&[target.id], &[fork_point])?;
    let since_base: HashSet<CommitId> = since_base_ordered.iter().copied().collect();
    let mut graph_ids = since_base_ordered.clone();
    let mut seen = since_base.clone();
    for id in fork_range.iter().chain(&since_point) {
        if seen.insert(*id) {
            graph_ids.push(*id);
        }
    }
    let infos: HashMap<CommitId, CommitInfo> = own.iter().map(|c| (c.id, c.clone())).collect();
    let mut commits = repo.par_map(&graph_ids, |local, id| match infos.get(&id) {
        Some(info) => Ok(Some(info.clone())),
        None => local.commit_alone(id).map(Some),
    })?;
    // Most first parents are commits just read: their trees need no second lookup.
    let tree_of: HashMap<CommitId, TreeId> = commits.iter().map(|c| (c.id, c.tree)).collect();
    for commit in commits.iter_mut().filter(|c| c.parent_tree.is_none()) {
        if let Some(parent) = commit.parents.first() {
            commit.parent_tree = Some(match tree_of.get(parent) {
                Some(tree) => *tree,
                None => repo.tree_of(*parent)?,
            });
        }
    }

    let touched: HashMap<CommitId, Vec<String>> = {
        let by_id: HashMap<CommitId, &CommitInfo> = commits.iter().map(|c| (c.id, c)).collect();
        let range: Vec<CommitId> = fork_range.clone();
        repo.par_map(&range, |local, id| {
            Ok(Some((id, local.touched_paths(by_id[&id])?)))
        })?
        .into_iter()
        .collect()
    };

    // One diff per upstream commit: every path it changed, for upstream matching, churn,
    // stale copies and release notes alike.
    let to_scan: Vec<&CommitInfo> = commits
        .iter()
        .filter(|c| !c.is_merge() && (since_base.contains(&c.id) || since_point.contains(&c.id)))
        .collect();
    crate::progress::phase("scanning what upstream's commits changed");
    let upstream = scan(repo, git, &to_scan)?;

    let graph = Graph::new(order_like(&graph_ids, commits));
    crate::progress::phase("reading the release points and the acceptances");
    let releases = release_points(repo, &pack, remote.as_deref(), &foreign_tags)?;
    let acceptances = acceptances(repo, trees.fork)?;

    crate::progress::phase("merging the fork with the target");
    let merges = merge_next_upgrade(repo, git, fork.id, fork_point, target.id)?;
    if let Some(note) = attributes_note(git)? {
        notes.push(note);
    }
    crate::progress::phase("reading the trees and the fork's diff");
    let (base_files, base_special) = repo.files_and_special(trees.base)?;
    let (fork_files, fork_special) = repo.files_and_special(trees.fork)?;
    let target_files = repo.files(trees.target)?;
    notes.extend(unmatched_own(
        &pack,
        [&base_files, &fork_files, &target_files],
    ));
    Ok(Facts {
        target_time: repo.commit(target.id)?.time,
        base_files,
        fork_files,
        base_special,
        fork_special,
        target_files,
        fork_deltas: repo.diff(Some(trees.base), trees.fork, true, &[])?,
        pack,
        fork,
        target,
        remote,
        upstream_tips: tips,
        upstream_refs,
        merge_base,
        fork_point,
        own,
        own_ids,
        trees,
        touched,
        graph,
        since_base,
        since_point,
        upstream,
        releases,
        acceptances,
        merges,
        notes,
    })
}

/// `commits` (in any order) listed as `ids` lists them.
fn order_like(ids: &[CommitId], commits: Vec<CommitInfo>) -> Vec<CommitInfo> {
    let mut by_id: HashMap<CommitId, CommitInfo> = commits.into_iter().map(|c| (c.id, c)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

/// Every path each commit changed against its first parent: one `git log --raw` for all of
/// them (git's tree diff in one process is an order of magnitude faster than one libgit2 diff
/// per commit).
pub(super) fn scan(repo: &Repo, git: &Git, commits: &[&CommitInfo]) -> Result<Vec<Upstream>> {
    if commits.is_empty() {
        return Ok(Vec::new());
    }
    let mut input = String::with_capacity(commits.len() * 41);
    for commit in commits {
        input.push_str(&commit.id.to_string());
        input.push('\n');
    }
    let mut command = git.command(Some(repo.git_dir()));
    command.args([
        "log",
        "--stdin",
        "--no-walk=unsorted",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        "--root",
        "--no-show-signature",
        "--diff-merges=off",
        "--format=%x00%H",
    ]);
    let output = git.run(command, Some(input.as_bytes()))?;
    let mut paths = parse_raw(&output);
    Ok(commits
        .iter()
        .map(|commit| Upstream {
            meta: (*commit).clone(),
            paths: paths.remove(&commit.id).unwrap_or_default(),
        })
        .collect())
}

/// `git log --raw -z --format=%x00%H`: NUL-separated fields; a commit id opens each commit,
/// a `:mode mode id id status` field is followed by the path it changed.
fn parse_raw(output: &[u8]) -> HashMap<CommitId, Vec<String>> {
    let mut out: HashMap<CommitId, Vec<String>> = HashMap::new();
    let mut current: Option<CommitId> = None;
    let mut fields = output.split(|&b| b == 0);
    while let Some(field) = fields.next() {
        let field = String::from_utf8_lossy(field);
        let field = field.trim_start_matches('\n');
        if field.starts_with(':') {
            if let (Some(id), Some(path)) = (current, fields.next()) {
                out.entry(id)
                    .or_default()
                    .push(String::from_utf8_lossy(path).into_owned());
            }
        } else if let Ok(id) = field.trim().parse::<CommitId>() {
            current = Some(id);
            out.entry(id).or_default();
        }
    }
    for paths in out.values_mut() {
        paths.sort();
    }
    out
}

/// Merge drivers (`merge=union`) come from the fork's `.gitattributes` only with git 2.42+;
/// older git reads none, and says so rather than differ silently from `git merge`.
fn attributes_note(git: &Git) -> Result<Option<String>> {
    let (major, minor, found) = git.version()?;
    Ok(((major, minor) < super::git::ATTR_SOURCE_MIN).then(|| {
        format!(
            "git {found} cannot read .gitattributes from a commit (2.42+ can): merges ignore the fork's merge attributes (such as merge=union), so conflicts may differ from `git merge` in a checkout"
        )
    }))
}

/// The fork and the fork point merged with the target; the merged trees stay readable through
/// `repo`.
fn merge_next_upgrade(
    repo: &Repo,
    git: &Git,
    fork: CommitId,
    fork_point: CommitId,
    target: CommitId,
) -> Result<Merges> {
    let mut requests = vec![MergeRequest::commits(fork, target)];
    if fork_point != fork {
        requests.push(MergeRequest::commits(fork_point, target));
    }
    let git = git.with_attributes_of(fork);
    let mut outcomes = merge::merge_all(repo, &git, &requests)?.into_iter();
    let fork_merge = outcomes.next().expect("one outcome per request");
    Ok(Merges {
        merged_files: repo.files(fork_merge.tree)?,
        fork: fork_merge,
        fork_point: outcomes.next(),
    })
}

/// The newest upstream commit the fork's own work builds on: among the upstream parents of own
/// commits, the one no other descends from (the latest merge from upstream wins).
fn fork_point(
    repo: &Repo,
    fork: CommitId,
    own: &[CommitInfo],
    own_ids: &HashSet<CommitId>,
    notes: &mut Vec<String>,
) -> Result<CommitId> {
    if own.is_empty() {
        return Ok(fork);
    }
    let mut boundary: Vec<CommitId> = own
        .iter()
        .flat_map(|c| c.parents.iter().copied())
        .filter(|p| !own_ids.contains(p))
        .collect();
    boundary.sort();
    boundary.dedup();
    let mut heads = Vec::new();
    for candidate in &boundary {
        let mut superseded = false;
        for other in &boundary {
            if other != candidate && repo.is_ancestor(*candidate, *other)? {
                superseded = true;
                break;
            }
        }
        if !superseded {
            heads.push(*candidate);
        }
    }
    if heads.is_empty() {
        // Own commits all the way down to a root: the fork has no upstream history at all.
        return Ok(own.last().map_or(fork, |c| c.id));
    }
    let mut dated = heads
        .iter()
        .map(|h| Ok((repo.commit(*h)?.time, *h)))
        .collect::<Result<Vec<_>>>()?;
    dated.sort();
    let newest = dated.last().expect("non-empty").1;
    if dated.len() > 1 {
        notes.push(format!(
            "the fork builds on {} unrelated upstream lines; the newest ({}) is taken as the fork point",
            dated.len(),
            newest.short()
        ));
    }
    Ok(newest)
}

/// A declaration of `.forkdrift.toml` that no path of the merge-base, the fork or the target
/// matches declares nothing: a typo, or a directory that moved.
fn unmatched_own(pack: &Pack, trees: [&crate::facts::Files; 3]) -> Vec<String> {
    let mut notes = Vec::new();
    let any = |matches: &dyn Fn(&str) -> bool| trees.iter().any(|t| t.keys().any(|p| matches(p)));
    for family in pack
        .families
        .iter()
        .filter(|f| f.layout.contains(".forkdrift.toml"))
    {
        if !any(&|path| family.path.match_path(path).is_some()) {
            notes.push(format!(
                ".forkdrift.toml declares `{}` ({}), which matches no path of the merge-base, the fork or the target",
                family.path.text, family.layout
            ));
        }
    }
    for (glob, text) in pack
        .own_registration
        .iter()
        .zip(pack.own_registration_text.iter())
    {
        if !any(&|path| glob.is_match(path)) {
            notes.push(format!(
                ".forkdrift.toml declares the registration path `{text}`, which matches no path of the merge-base, the fork or the target"
            ));
        }
    }
    notes
}

/// The fork's `.forkdrift.toml`: the work tree's when there is one (so an edit counts before it
/// is committed), else the one committed in the fork revision's tree.
pub fn fork_config(repo: &Repo, fork: &str) -> Result<Option<config::ForkConfig>> {
    if let Some(path) = repo.workdir().map(|w| w.join(CONFIG_FILE)) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return config::parse(&text, &path).map(Some);
        }
    }
    let Ok(fork) = repo.resolve_commit(fork) else {
        return Ok(None);
    };
    match repo.read(repo.tree_of(fork)?, CONFIG_FILE)? {
        Some(bytes) => {
            config::parse(&String::from_utf8_lossy(&bytes), Path::new(CONFIG_FILE)).map(Some)
        }
        None => Ok(None),
    }
}

/// The selection with `.forkdrift.toml`'s defaults filled in where the command line is silent.
pub fn configure(repo: &Repo, selection: &Selection) -> Result<Selection> {
    let Some(config) = fork_config(repo, &selection.fork)? else {
        return Ok(selection.clone());
    };
    // What the file names and the command line does not override must exist: the error then
    // says where the name came from, not only that git does not know it.
    let from_file = |what: &str, name: &str, help: &str| Error::Usage {
        message: format!("{what} `{name}` that .forkdrift.toml names does not exist here"),
        help: format!(
            "{help}, fix [upstream] in .forkdrift.toml, or override it on the command line"
        ),
    };
    if let (None, Some(remote)) = (&selection.remote, &config.remote) {
        if !repo.has_remote(remote)
            && repo
                .refs_under(&format!("refs/remotes/{remote}/"))?
                .is_empty()
        {
            return Err(from_file(
                "the upstream remote",
                remote,
                &format!("add it (`git remote add {remote} <url> && git fetch {remote} --tags`)"),
            ));
        }
    }
    if let (None, Some(target)) = (&selection.to, &config.target) {
        if repo.resolve_commit(target).is_err()
            && crate::analysis::versions::Version::parse(target).is_none()
        {
            return Err(from_file(
                "the target",
                target,
                "fetch it (`git fetch upstream --tags`), check it with `git rev-parse --verify`",
            ));
        }
    }
    let mut configured = selection.clone();
    configured.remote = selection.remote.clone().or(config.remote);
    configured.to = selection.to.clone().or(config.target);
    configured.rules = selection.rules.clone().or_else(|| {
        // A pack file is named relative to the repository root, wherever forkdrift runs.
        config.rules.map(|rules| match repo.workdir() {
            Some(root) if rules.ends_with(".toml") && Path::new(&rules).is_relative() => {
                root.join(rules).to_string_lossy().into_owned()
            }
            _ => rules,
        })
    });
    configured.own = config.own;
    Ok(configured)
}

/// Acceptances recorded in the fork: committed in the fork's tree, and (with a work tree) in
/// the working copy, so a fresh acceptance counts before it is committed.
fn acceptances(repo: &Repo, fork_tree: TreeId) -> Result<Vec<Acceptance>> {
    let mut out = Vec::new();
    if let Some(bytes) = repo.read(fork_tree, CONFIG_FILE)? {
        out.extend(config::acceptances(
            &String::from_utf8_lossy(&bytes),
            Path::new(CONFIG_FILE),
        )?);
    }
    if let Some(path) = repo.workdir().map(|w| w.join(CONFIG_FILE)) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            for acceptance in config::acceptances(&text, &path)? {
                if !out.contains(&acceptance) {
                    out.push(acceptance);
                }
            }
        }
    }
    Ok(out)
}

fn no_remote(repo: &Repo, name: &str, pack: Option<&Pack>, fork: CommitId) -> Error {
    // A fork looks like its upstream: its own tree names the pack, and so the URL.
    let detected = match pack {
        Some(_) => None,
        None => repo.tree_of(fork).ok().and_then(|tree| {
            Pack::detect(|path| repo.entry(tree, path).ok().flatten().is_some())
                .and_then(|name| Pack::builtin(&name).ok())
        }),
    };
    let url = pack
        .or(detected.as_ref())
        .and_then(|p| p.upstream_url.clone())
        .unwrap_or_else(|| "<upstream-url>".into());
    let existing = repo.remote_names();
    let existing = if existing.is_empty() {
        String::new()
    } else {
        format!(
            " (this repository has: {}; pick one with --upstream NAME)",
            existing.join(", ")
        )
    };
    Error::NoRemote {
        name: name.into(),
        help: format!(
            "add it and fetch it: `git remote add {name} {url} && git fetch {name} --tags`{existing}; or name the target with --to <rev>"
        ),
    }
}

/// `--to` may name a version (`9.1`, `8.13.0.0`) rather than a revision: the release point of
/// exactly that version, or for `MAJOR.MINOR` the newest release of that minor.
pub fn resolve_version(repo: &Repo, selection: &Selection) -> Result<Selection> {
    let Some(to) = &selection.to else {
        return Ok(selection.clone());
    };
    if repo.resolve_commit(to).is_ok() {
        return Ok(selection.clone());
    }
    let Some(wanted) = crate::analysis::versions::Version::parse(to) else {
        return Ok(selection.clone());
    };
    let probe = endpoints(
        repo,
        &Selection {
            to: None,
            ..selection.clone()
        },
    )?;
    let points = release_points(
        repo,
        &probe.pack,
        probe.remote.as_deref(),
        &probe.foreign_tags,
    )?;
    let exact = points
        .iter()
        .rev()
        .find(|p| p.version == wanted && !p.version.is_prerelease());
    let two_parts = to.trim_start_matches('v').split('.').count() == 2;
    let by_minor = points
        .iter()
        .rev()
        .find(|p| two_parts && p.version.minor() == wanted.minor() && !p.version.is_prerelease());
    // `9.3` means the minor, so its newest patch, as every other hop goes to; `9.3.0` means
    // exactly that release.
    let newest_of_minor = points
        .iter()
        .filter(|p| p.version.minor() == wanted.minor() && !p.version.is_prerelease())
        .max_by(|a, b| a.version.cmp(&b.version));
    let chosen = if two_parts {
        newest_of_minor
    } else {
        exact.or(by_minor)
    };
    Ok(match chosen {
        Some(point) => {
            let mut notes = selection.notes.clone();
            if two_parts {
                notes.push(format!(
                    "--to {to} is a minor version: going to its newest release, {} ({}); name all its parts for another",
                    point.version.text, point.name
                ));
            }
            Selection {
                to: Some(point.name.clone()),
                notes,
                ..selection.clone()
            }
        }
        None => selection.clone(),
    })
}

/// The release tags and the remote's release branches the pack's version scheme recognises,
/// but the tags that are not upstream's (`foreign`: full ref names).
fn release_points(
    repo: &Repo,
    pack: &Pack,
    remote: Option<&str>,
    foreign: &[String],
) -> Result<Vec<crate::facts::ReleasePoint>> {
    let branches = match remote {
        Some(remote) => repo
            .refs_under(&format!("refs/remotes/{remote}/"))?
            .into_iter()
            .map(|(name, id)| Ok((name, id, repo.tree_of(id)?)))
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let tags: Vec<(String, CommitId)> = repo
        .refs_under("refs/tags/")?
        .into_iter()
        .filter(|(name, _)| !foreign.contains(name))
        .collect();
    releases::release_points(pack, remote, &tags, &branches, repo)
}
