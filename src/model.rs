//! The report: what every renderer prints and what `--format json` serialises. Its JSON form
//! is a versioned contract (docs/json-schema.md): fields are added, never renamed or dropped.
//! Every list is sorted so that output is deterministic.

use crate::catalog::Kind;
use crate::facts::{CommitInfo, DeltaStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const AUDIT_SCHEMA: &str = "forkdrift.audit/1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    pub fork: RefInfo,
    pub target: RefInfo,
    pub merge_base: String,
    /// The newest upstream commit the fork's own work starts from.
    pub fork_point: String,
    pub pack: String,
    pub own_commits: Vec<OwnCommit>,
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    pub conflicts: Vec<Conflict>,
    pub risk: Risk,
    pub hops: Vec<Hop>,
    pub protocol: Option<ProtocolReport>,
    pub plan: Option<Plan>,
    pub already_upstream: Vec<AlreadyUpstream>,
    pub pr_candidates: Vec<PrCandidate>,
    pub stale_copies: Vec<StaleCopy>,
    pub in_place_edits: Vec<InPlaceEdit>,
    /// The coupled gems as the fork locks them (packs with a `[deps]` table and a lock).
    #[serde(default)]
    pub deps: Option<Deps>,
    /// Python dependency pins the fork changed against its fork point.
    #[serde(default)]
    pub pins: Vec<PinChange>,
    /// Things the user should know that are not findings (shallow history, several fork points…).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "forkdrift".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RefInfo {
    #[serde(rename = "ref")]
    pub name: String,
    pub commit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OwnCommit {
    pub commit: String,
    pub subject: String,
    pub author: String,
    pub date: String,
    /// PR numbers named in the subject (`(#1234)`).
    pub prs: Vec<u32>,
    pub merge: bool,
    /// Upstream already has this change (see `already_upstream`): not divergence.
    pub already_upstream: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Added,
    Modified,
    Deleted,
    Renamed,
    TypeChanged,
}

impl From<DeltaStatus> for Status {
    fn from(status: DeltaStatus) -> Self {
        match status {
            DeltaStatus::Added => Status::Added,
            DeltaStatus::Modified => Status::Modified,
            DeltaStatus::Deleted => Status::Deleted,
            DeltaStatus::Renamed => Status::Renamed,
            DeltaStatus::TypeChanged => Status::TypeChanged,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeClass {
    Framework,
    ConnectorModified,
    ConnectorDeleted,
    ConnectorAdded,
    Registration,
    Test,
    Docs,
    Build,
    Other,
}

impl ChangeClass {
    pub const ALL: [ChangeClass; 9] = [
        ChangeClass::Framework,
        ChangeClass::ConnectorModified,
        ChangeClass::ConnectorDeleted,
        ChangeClass::ConnectorAdded,
        ChangeClass::Registration,
        ChangeClass::Test,
        ChangeClass::Docs,
        ChangeClass::Build,
        ChangeClass::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeClass::Framework => "framework",
            ChangeClass::ConnectorModified => "connector-modified",
            ChangeClass::ConnectorDeleted => "connector-deleted",
            ChangeClass::ConnectorAdded => "connector-added",
            ChangeClass::Registration => "registration",
            ChangeClass::Test => "test",
            ChangeClass::Docs => "docs",
            ChangeClass::Build => "build",
            ChangeClass::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Only own commits touched the path.
    Fork,
    /// Only commits some upstream ref has (backports on a release branch) touched it.
    Upstream,
    Both,
}

/// What a changed entry is when it is not a regular file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A symbolic link (mode 120000).
    Symlink,
    /// A submodule (a gitlink, mode 160000): a commit of another repository.
    Submodule,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Symlink => "symlink",
            EntryKind::Submodule => "submodule",
        }
    }

    pub fn of(kind: crate::facts::EntryKind) -> Option<EntryKind> {
        match kind {
            crate::facts::EntryKind::File => None,
            crate::facts::EntryKind::Symlink => Some(EntryKind::Symlink),
            crate::facts::EntryKind::Submodule => Some(EntryKind::Submodule),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Change {
    pub path: String,
    pub old_path: Option<String>,
    pub status: Status,
    pub class: ChangeClass,
    pub unit: Option<String>,
    pub origin: Origin,
    pub copied_from: Option<CopiedFrom>,
    /// Where this file lives at the target (following upstream moves and splits); for a file
    /// the fork added, where the merge puts it.
    pub target_path: Option<String>,
    pub lines_added: u64,
    pub lines_deleted: u64,
    pub binary: bool,
    /// Own commits that touched the path, newest first.
    pub commits: Vec<String>,
    /// Units whose registration lines this change adds or removes.
    pub registers: Vec<String>,
    /// Which rule decided the class.
    pub rule: String,
    /// In the merged tree it sits in a directory the target no longer has.
    pub orphaned: bool,
    pub risk: Option<Risk>,
    /// Every own commit that touched it is already upstream: not divergence.
    pub already_upstream: bool,
    /// `symlink` or `submodule`; absent for regular files (added in schema 1.x).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<EntryKind>,
}

impl Change {
    /// The fork's own work that upstream does not have: what findings and risk are about.
    pub fn is_divergent(&self) -> bool {
        self.origin != Origin::Upstream && !self.already_upstream
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CopiedFrom {
    pub path: String,
    pub similarity: f64,
    pub unit: String,
    /// Where the source lives at the target.
    pub target_path: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Off,
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Off => "off",
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// Rule code, stable across versions (table in docs/json-schema.md).
    pub id: String,
    pub severity: Severity,
    pub kind: Kind,
    pub path: String,
    pub message: String,
    /// Stable across runs and commits for the same finding.
    pub fingerprint: String,
    pub unit: Option<String>,
    pub help: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub own_commits: usize,
    /// Every path changed since the merge-base, upstream backports included.
    pub changes: usize,
    /// The fork's own changes that upstream does not have: what `by_class` counts.
    pub divergent: usize,
    /// Own changes upstream already has (not divergence): paths, not commits.
    pub already_upstream: usize,
    /// Own commits upstream already has (those of `own_commits` with `already_upstream`).
    /// Added in the same schema version: older reports read as 0.
    #[serde(default)]
    pub own_commits_already_upstream: usize,
    pub by_class: BTreeMap<String, usize>,
    pub by_origin: BTreeMap<String, usize>,
    pub findings: BTreeMap<String, usize>,
    pub conflicts: usize,
    pub fork_conflicts: usize,
    pub orphaned: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Conflict {
    pub path: String,
    /// merge-ort's conflict type: content, modify/delete, rename/delete, add/add, file-location, …
    pub kind: String,
    pub cause: Origin,
    /// Own commits that wrote the conflicting lines (or touched the path, for non-content conflicts).
    pub commits: Vec<String>,
    /// 1-based inclusive line ranges in the fork's and the target's version.
    pub ours_lines: Vec<[u64; 2]>,
    pub theirs_lines: Vec<[u64; 2]>,
    /// git's own words.
    pub message: String,
    /// Every own commit behind it is already upstream: resolve it by taking the target's side.
    pub already_upstream: bool,
}

impl Conflict {
    /// Caused by the fork's own work that upstream does not have.
    pub fn is_fork_caused(&self) -> bool {
        self.cause == Origin::Fork && !self.already_upstream
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Risk {
    pub score: u32,
    pub reasons: Vec<String>,
    /// A path's upstream churn, whether or not it scored (a conflict already says upstream
    /// changed the file): reports show it beside the score. Not on the overall risk or hops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_churn: Option<UpstreamChurn>,
}

/// Upstream commits that touched a path.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UpstreamChurn {
    /// Since the fork point.
    pub since_fork_point: usize,
    /// Of those, in the six months before the target.
    pub recent: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Hop {
    pub version: String,
    #[serde(rename = "ref")]
    pub name: String,
    pub commit: String,
    pub conflicts: usize,
    pub fork_conflicts: usize,
    /// The paths merging this point with the fork conflicts on, as `git merge-tree
    /// --write-tree --name-only` lists them: a sweep can be checked against git hop by hop.
    #[serde(default)]
    pub conflict_paths: Vec<String>,
    pub risk: Risk,
    pub protocol: Option<String>,
    /// Whole-file protocol anchors that changed since the previous hop (warn only).
    #[serde(default)]
    pub protocol_warnings: Vec<String>,
    /// Why git could not merge this point (an object it could not read); its conflict counts
    /// and paths are then unknown and read 0. None when it merged.
    #[serde(default)]
    pub merge_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProtocolReport {
    /// `schema`, `prose` or `none`.
    pub verdict: String,
    pub anchors: Vec<AnchorReport>,
    /// Fingerprint of the target's protocol, for `accept-protocol`.
    pub fingerprint: String,
    pub accepted: bool,
    pub from: String,
    pub to: String,
    /// Whole-file anchors whose bytes changed: a weaker signal that never sets the verdict.
    #[serde(default)]
    pub warnings: Vec<ProtocolWarning>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProtocolWarning {
    pub name: String,
    pub path: String,
    /// The upstream commits between the compared commits that changed the file.
    pub commits: Vec<CommitRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AnchorReport {
    pub name: String,
    pub path: String,
    /// `document`, `values` or `file`.
    pub kind: String,
    pub verdict: String,
    pub changes: Vec<ProtocolChange>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProtocolChange {
    /// `+`, `-` or `~`.
    pub op: String,
    pub item: String,
    pub detail: String,
    pub commits: Vec<CommitRef>,
    pub first_release: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct CommitRef {
    pub commit: String,
    pub subject: String,
    pub prs: Vec<u32>,
}

impl CommitRef {
    pub fn of(commit: &CommitInfo) -> CommitRef {
        CommitRef {
            commit: commit.id.to_string(),
            subject: commit.subject.clone(),
            prs: pr_numbers(&commit.subject),
        }
    }

    /// `#123`, from the first PR number the subject names.
    pub fn pr_label(&self) -> Option<String> {
        self.prs.first().map(|n| format!("#{n}"))
    }
}

/// Numbers of pull requests a subject names: `Fix x (#12) (#34)` → [12, 34].
pub fn pr_numbers(subject: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut rest = subject;
    while let Some(start) = rest.find("(#") {
        let digits: String = rest[start + 2..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !digits.is_empty() && rest[start + 2 + digits.len()..].starts_with(')') {
            if let Ok(n) = digits.parse() {
                out.push(n);
            }
        }
        rest = &rest[start + 2..];
    }
    out
}

/// `1 error`, `2 errors`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The 12-digit abbreviation of a commit id written as hex.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    pub from_version: Option<String>,
    pub hops: Vec<PlanHop>,
    /// The plan stops at the first hop that needs a protocol acceptance.
    pub stopped_at: Option<String>,
}

impl Plan {
    /// The checklist steps every hop shares: printed once, after the hops.
    pub fn common_checklist(&self) -> Vec<&String> {
        self.hops.first().map_or(Vec::new(), |first| {
            first
                .checklist
                .iter()
                .filter(|item| self.hops.iter().all(|h| h.checklist.contains(item)))
                .collect()
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlanHop {
    pub version: String,
    #[serde(rename = "ref")]
    pub name: String,
    pub commit: String,
    pub protocol: String,
    pub needs_acceptance: bool,
    pub conflicts: usize,
    pub fork_conflicts: usize,
    pub notes: Vec<ReleaseNote>,
    pub checklist: Vec<String>,
    /// The protocol comparison with the previous hop, when anything changed.
    pub protocol_report: Option<ProtocolReport>,
    /// As [`Hop::merge_error`].
    #[serde(default)]
    pub merge_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReleaseNote {
    pub text: String,
    pub breaking: bool,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AlreadyUpstream {
    pub commit: String,
    /// Several own commits squash-merged upstream as one.
    pub commits: Vec<String>,
    pub upstream_commit: String,
    /// `patch-id`, `cherry-pick`, `pr-number`, `squash` or `fuzzy`.
    pub method: String,
    pub similarity: f64,
    /// The upstream commit's subject: for a squash-merged PR, its title and number.
    #[serde(default)]
    pub upstream_subject: String,
    /// The upstream pull request that merged it, when its subject names one.
    #[serde(default)]
    pub pr: Option<u32>,
    /// The same pull request elsewhere upstream: backports on release branches, or the
    /// original on the default branch when the target is a release branch.
    #[serde(default)]
    pub also_in: Vec<AlsoIn>,
    /// Whether the target contains `upstream_commit`; false: upstream has the work on another
    /// ref, and the upgrade to this target does not bring it yet.
    #[serde(default = "contained")]
    pub in_target: bool,
}

/// Reports written before `in_target` existed named the target's copy when there was one.
fn contained() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AlsoIn {
    pub commit: String,
    /// An upstream ref that has it: a release branch when one does.
    #[serde(rename = "ref")]
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PrCandidate {
    /// `framework-fix` or `connector-fix`.
    pub kind: String,
    pub commits: Vec<String>,
    pub title: String,
    pub body: String,
    pub paths: Vec<String>,
    pub has_tests: bool,
    pub applies_cleanly: bool,
    /// Conflicts of the next upgrade this PR would remove.
    pub removes_conflicts: usize,
    pub rank: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StaleCopy {
    pub unit: String,
    pub source_unit: String,
    pub source_path: String,
    /// Upstream commits to the source since the copy was made.
    pub missing: Vec<CommitRef>,
    /// Framework imports of the copy that no longer resolve at the target.
    pub broken_imports: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InPlaceEdit {
    pub unit: String,
    pub suggested_unit: String,
    pub files: Vec<[String; 2]>,
    pub tests: Vec<[String; 2]>,
    pub registration: Option<String>,
    /// `files` and `tests` where the target keeps them, when upstream moved the unit (the
    /// elastic 9.3 restructure): a copy made at the fork's paths would be left behind by the
    /// upgrade. Empty when the target keeps them where the fork has them.
    #[serde(default)]
    pub at_target: Vec<[String; 2]>,
}

impl Report {
    /// The findings `--fail-on threshold` exits 1 for.
    pub fn failing(&self, threshold: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| {
            threshold != Severity::Off && f.severity >= threshold && f.severity != Severity::Off
        })
    }

    /// The exit code `--fail-on` asks for: true when some finding reaches `threshold`.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.failing(threshold).next().is_some()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pr_numbers_come_from_parenthesised_references() {
        assert_eq!(
            super::pr_numbers("[9.2] Fix sync (#3973) (#3978)"),
            vec![3973, 3978]
        );
        assert_eq!(super::pr_numbers("Mention #12 and (#x)"), Vec::<u32>::new());
    }
}

/// `forkdrift explain PATH`: the decision for one path, and the facts it rests on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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

/// What `accept-protocol` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Acceptance {
    NothingToAccept {
        target: String,
        verdict: String,
    },
    Already {
        target: String,
        fingerprint: String,
    },
    Recorded {
        target: String,
        changes: usize,
        fingerprint: String,
        file: std::path::PathBuf,
    },
}

/// What a refusal says: which upgrade, the protocol changes, where the release notes are.
#[derive(Debug, Clone)]
pub struct Refused {
    pub what: String,
    pub to: String,
    pub protocol: ProtocolReport,
    pub release_notes: Option<String>,
}

/// Is this finding about dependencies (the coupled gems or a pin): what `forkdrift deps` shows
/// and fails on.
pub fn is_dependency_finding(report: &Report, finding: &Finding) -> bool {
    finding.kind == Kind::DependencyPin
        || report
            .deps
            .as_ref()
            .is_some_and(|d| d.findings.contains(&finding.fingerprint))
}

/// The coupled gems of the fork's lock and whether they move together.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Deps {
    /// The lock read, relative to the fork's root.
    pub lockfile: String,
    pub gems: Vec<LockedDep>,
    /// Moves every coupled gem the lock holds at once.
    pub command: String,
    /// Ids of the findings about the coupled gems (FD501–FD503).
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockedDep {
    /// The current name (`karafka-rdkafka` for a lock that still says `rdkafka`).
    pub name: String,
    /// The name the lock uses, when it is an old one.
    pub locked_as: Option<String>,
    pub version: String,
    /// `gem`, `git` or `path`.
    pub source: String,
    /// Platform builds locked besides the plain one: `x86_64-linux`.
    pub platforms: Vec<String>,
    /// The series (`major.minor`) the version belongs to.
    pub series: String,
    /// The newest release of that series among the upstream's release tags (the pack's own gem).
    pub newest_in_series: Option<String>,
}

/// A dependency pin the fork changed: at the fork point, in the fork, at the target (None: not
/// pinned there).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PinChange {
    pub package: String,
    /// The fork's file that pins it (or pinned it, when the fork dropped it).
    pub path: String,
    pub old: Option<String>,
    pub fork: Option<String>,
    pub target: Option<String>,
}
