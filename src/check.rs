//! `forkdrift check`: the findings a range `base..head` introduces, compared with the same
//! analysis at `base` by their stable fingerprints. This module is the report model (a
//! versioned JSON contract, `forkdrift.check/1`) and the pure comparison; the analysis that
//! produces the two finding lists and the head line numbers lives elsewhere.
//!
//! - `new`: at head and not at base — these can fail the check;
//! - `unchanged`: at base and at head — counted, never failed;
//! - `fixed`: at base and no longer at head;
//! - `suppressed`: at head and accepted in `.forkdrift.toml`'s baseline (still reported and
//!   counted, never hidden); an expired acceptance no longer suppresses;
//! - `baseline_warnings`: baseline entries that expired, match nothing, or still carry the
//!   placeholder reason.

use crate::baseline::Accepted;
use crate::model::{Finding, RefInfo, Report, Severity, Tool};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

pub const CHECK_SCHEMA: &str = "forkdrift.check/1";

/// The kind of a finding that edits a protocol anchor (FD301): a range that introduces one is
/// refused (exit 3).
pub const PROTOCOL_EDIT: &str = "protocol-edit";

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing new at or above `--fail-on`.
    Pass,
    /// A new finding at or above `--fail-on`.
    Fail,
    /// The range edits a protocol anchor.
    Refused,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Refused => "refused",
        }
    }

    /// The process exit code: 0 pass, 1 fail, 3 refused (2 is for errors, which have no report).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Refused => 3,
        }
    }
}

/// Whether a finding existed at base: SARIF's `baselineState`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    New,
    Unchanged,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// 1-based inclusive lines of the head version the annotation sits on (the PR's added
    /// lines); `null` for the whole file (and always for `fixed`, which head no longer has).
    pub lines: Option<[u64; 2]>,
}

impl From<Finding> for CheckFinding {
    fn from(finding: Finding) -> Self {
        CheckFinding {
            finding,
            lines: None,
        }
    }
}

/// A finding at head that the baseline accepts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: CheckFinding,
    /// Whether the range introduced it (`new`) or it existed at base (`unchanged`).
    pub state: State,
    pub accepted: Accepted,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Counts {
    pub new: usize,
    pub unchanged: usize,
    pub fixed: usize,
    pub suppressed: usize,
    pub baseline_warnings: usize,
    /// New findings per severity (`error`, `warning`, `note`; every key present).
    pub new_by_severity: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckReport {
    pub schema: String,
    pub tool: Tool,
    pub base: RefInfo,
    pub head: RefInfo,
    pub verdict: Verdict,
    pub fail_on: Severity,
    /// The audit at head.
    pub report: Report,
    pub new: Vec<CheckFinding>,
    pub unchanged: Vec<CheckFinding>,
    pub fixed: Vec<CheckFinding>,
    pub suppressed: Vec<Suppressed>,
    pub baseline_warnings: Vec<String>,
    pub counts: Counts,
}

impl CheckReport {
    /// Assembles the report from a comparison; the verdict follows from `fail_on` and from
    /// whether the range edits a protocol anchor ([`verdict`]).
    pub fn new(
        base: RefInfo,
        head: RefInfo,
        report: Report,
        comparison: Comparison,
        fail_on: Severity,
    ) -> CheckReport {
        let verdict = verdict(&comparison, fail_on);
        let counts = comparison.counts();
        CheckReport {
            schema: CHECK_SCHEMA.into(),
            tool: Tool::default(),
            base,
            head,
            verdict,
            fail_on,
            report,
            new: comparison.new,
            unchanged: comparison.unchanged,
            fixed: comparison.fixed,
            suppressed: comparison.suppressed,
            baseline_warnings: comparison.warnings,
            counts,
        }
    }
}

/// The split of base and head findings, with the baseline applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    pub new: Vec<CheckFinding>,
    pub unchanged: Vec<CheckFinding>,
    pub fixed: Vec<CheckFinding>,
    pub suppressed: Vec<Suppressed>,
    pub warnings: Vec<String>,
}

impl Comparison {
    /// Sets the head lines of every finding head has (`fixed` ones keep `None`).
    pub fn locate(&mut self, mut lines: impl FnMut(&Finding) -> Option<[u64; 2]>) {
        for f in self.new.iter_mut().chain(self.unchanged.iter_mut()) {
            f.lines = lines(&f.finding);
        }
        for s in &mut self.suppressed {
            s.finding.lines = lines(&s.finding.finding);
        }
    }

    /// The range introduces an edit of a protocol anchor — accepted in the baseline or not: a
    /// baseline is no way around the protocol gate.
    pub fn edits_protocol(&self) -> bool {
        self.new
            .iter()
            .chain(
                self.suppressed
                    .iter()
                    .filter(|s| s.state == State::New)
                    .map(|s| &s.finding),
            )
            .any(|f| f.finding.kind.as_str() == PROTOCOL_EDIT)
    }

    pub fn counts(&self) -> Counts {
        let mut new_by_severity: BTreeMap<String, usize> = [Severity::Error, Severity::Warning]
            .into_iter()
            .chain([Severity::Note])
            .map(|s| (s.as_str().to_string(), 0))
            .collect();
        for f in &self.new {
            *new_by_severity
                .entry(f.finding.severity.as_str().to_string())
                .or_default() += 1;
        }
        Counts {
            new: self.new.len(),
            unchanged: self.unchanged.len(),
            fixed: self.fixed.len(),
            suppressed: self.suppressed.len(),
            baseline_warnings: self.warnings.len(),
            new_by_severity,
        }
    }
}

/// Splits findings by fingerprint into new, unchanged and fixed, and applies the baseline:
/// a head finding a live entry accepts is `suppressed` instead of new or unchanged. An entry
/// whose `expires` date (`YYYY-MM-DD`, inclusive) is before `today` no longer suppresses and is
/// a warning; so is an entry that matches no head finding (stale: the finding was fixed, or the
/// fingerprint is wrong) and one whose reason is still the `TODO` placeholder.
/// Order follows the inputs (head's order for new, unchanged and suppressed; base's for fixed).
pub fn compare(
    base: &[Finding],
    head: &[Finding],
    accepted: &[Accepted],
    today: &str,
) -> Comparison {
    let base_prints: HashSet<&str> = base.iter().map(|f| f.fingerprint.as_str()).collect();
    let head_prints: HashSet<&str> = head.iter().map(|f| f.fingerprint.as_str()).collect();
    let mut out = Comparison::default();

    let mut live: HashMap<&str, &Accepted> = HashMap::new();
    for entry in accepted {
        let what = describe(entry);
        if entry.reason.trim().starts_with("TODO") {
            out.warnings.push(format!(
                "baseline entry {what} still has the placeholder reason: say why it is accepted"
            ));
        }
        if let Some(expires) = entry.expires.as_deref().filter(|e| *e < today) {
            out.warnings.push(format!(
                "baseline entry {what} expired on {expires}: the finding counts again; fix it or renew the acceptance (owner: {})",
                entry.owner
            ));
            continue;
        }
        if !head_prints.contains(entry.fingerprint.as_str()) {
            let why = if base_prints.contains(entry.fingerprint.as_str()) {
                "the finding is fixed"
            } else {
                "no finding has this fingerprint"
            };
            out.warnings.push(format!(
                "baseline entry {what} matches nothing ({why}): remove it"
            ));
            continue;
        }
        live.entry(entry.fingerprint.as_str()).or_insert(entry);
    }

    for finding in head {
        let state = if base_prints.contains(finding.fingerprint.as_str()) {
            State::Unchanged
        } else {
            State::New
        };
        let finding = CheckFinding::from(finding.clone());
        match (live.get(finding.finding.fingerprint.as_str()), state) {
            (Some(accepted), _) => out.suppressed.push(Suppressed {
                finding,
                state,
                accepted: (*accepted).clone(),
            }),
            (None, State::New) => out.new.push(finding),
            (None, State::Unchanged) => out.unchanged.push(finding),
        }
    }
    out.fixed = base
        .iter()
        .filter(|f| !head_prints.contains(f.fingerprint.as_str()))
        .cloned()
        .map(CheckFinding::from)
        .collect();
    out
}

fn describe(entry: &Accepted) -> String {
    let mut what = entry.fingerprint.clone();
    match (entry.kind.as_deref(), entry.path.as_deref()) {
        (Some(kind), Some(path)) => what.push_str(&format!(" ({kind} {path})")),
        (Some(kind), None) => what.push_str(&format!(" ({kind})")),
        (None, Some(path)) => what.push_str(&format!(" ({path})")),
        (None, None) => {}
    }
    what
}

/// `refused` when the range edits a protocol anchor; else `fail` when a new (not suppressed)
/// finding is at or above `fail_on` (`Severity::Off` = never); else `pass`.
pub fn verdict(comparison: &Comparison, fail_on: Severity) -> Verdict {
    if comparison.edits_protocol() {
        Verdict::Refused
    } else if fail_on != Severity::Off
        && comparison
            .new
            .iter()
            .any(|f| f.finding.severity != Severity::Off && f.finding.severity >= fail_on)
    {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn finding(
        id: &str,
        kind: &str,
        severity: Severity,
        path: &str,
        fp: &str,
    ) -> Finding {
        Finding {
            id: id.into(),
            severity,
            kind: crate::catalog::Kind::from_key(kind).expect("a catalog kind"),
            path: path.into(),
            message: format!("{kind} at {path}"),
            fingerprint: fp.into(),
            unit: None,
            help: None,
        }
    }

    /// A check report around `comparison`, with an otherwise empty audit at head.
    pub(crate) fn sample(comparison: Comparison, fail_on: Severity) -> CheckReport {
        let at = |name: &str, c: char| RefInfo {
            name: name.into(),
            commit: c.to_string().repeat(40),
        };
        let report = Report {
            schema: crate::model::AUDIT_SCHEMA.into(),
            tool: Tool::default(),
            fork: at("HEAD", 'b'),
            target: at("upstream/main", 'c'),
            merge_base: "d".repeat(40),
            fork_point: "d".repeat(40),
            pack: "elastic-connectors".into(),
            own_commits: vec![],
            changes: vec![],
            findings: vec![],
            summary: Default::default(),
            conflicts: vec![],
            risk: Default::default(),
            hops: vec![],
            protocol: None,
            plan: None,
            already_upstream: vec![],
            pr_candidates: vec![],
            stale_copies: vec![],
            in_place_edits: vec![],
            deps: None,
            pins: vec![],
            notes: vec![],
        };
        CheckReport::new(
            at("origin/main", 'a'),
            at("HEAD", 'b'),
            report,
            comparison,
            fail_on,
        )
    }

    pub(crate) fn accepted(fp: &str, expires: Option<&str>) -> Accepted {
        Accepted {
            fingerprint: fp.into(),
            kind: Some("framework-edit".into()),
            path: Some("a.py".into()),
            reason: "needed for the on-prem auth".into(),
            owner: "team-search".into(),
            upstream_pr: None,
            expires: expires.map(str::to_string),
        }
    }

    fn prints(list: &[CheckFinding]) -> Vec<&str> {
        list.iter()
            .map(|f| f.finding.fingerprint.as_str())
            .collect()
    }

    #[test]
    fn splits_by_fingerprint() {
        let base = [
            finding("FD101", "framework-edit", Severity::Error, "a.py", "aaaa"),
            finding(
                "FD102",
                "connector-modified",
                Severity::Warning,
                "b.py",
                "bbbb",
            ),
        ];
        // Same finding with another message and path (a rename): still unchanged.
        let mut moved = base[0].clone();
        moved.path = "moved/a.py".into();
        moved.message = "reworded".into();
        let head = [
            moved,
            finding("FD101", "framework-edit", Severity::Error, "c.py", "cccc"),
        ];
        let c = compare(&base, &head, &[], "2025-01-01");
        assert_eq!(prints(&c.new), ["cccc"]);
        assert_eq!(prints(&c.unchanged), ["aaaa"]);
        assert_eq!(c.unchanged[0].finding.path, "moved/a.py", "head's version");
        assert_eq!(prints(&c.fixed), ["bbbb"]);
        assert!(c.suppressed.is_empty() && c.warnings.is_empty());
        assert_eq!(verdict(&c, Severity::Error), Verdict::Fail);
        assert_eq!(verdict(&c, Severity::Off), Verdict::Pass);
        let counts = c.counts();
        assert_eq!((counts.new, counts.unchanged, counts.fixed), (1, 1, 1));
        assert_eq!(counts.new_by_severity["error"], 1);
        assert_eq!(counts.new_by_severity["note"], 0);
    }

    #[test]
    fn existing_findings_never_fail() {
        let base = [finding(
            "FD101",
            "framework-edit",
            Severity::Error,
            "a.py",
            "aaaa",
        )];
        let head = [
            base[0].clone(),
            finding(
                "FD102",
                "connector-modified",
                Severity::Warning,
                "b.py",
                "bbbb",
            ),
        ];
        let c = compare(&base, &head, &[], "2025-01-01");
        assert_eq!(verdict(&c, Severity::Error), Verdict::Pass);
        assert_eq!(verdict(&c, Severity::Warning), Verdict::Fail);
        assert_eq!(verdict(&c, Severity::Note), Verdict::Fail);
    }

    #[test]
    fn baseline_suppresses_and_counts() {
        let head = [
            finding("FD101", "framework-edit", Severity::Error, "a.py", "aaaa"),
            finding("FD101", "framework-edit", Severity::Error, "b.py", "bbbb"),
        ];
        let base = [head[1].clone()];
        let c = compare(
            &base,
            &head,
            &[accepted("aaaa", Some("2025-01-01")), accepted("bbbb", None)],
            "2025-01-01",
        );
        assert!(c.new.is_empty() && c.unchanged.is_empty());
        assert_eq!(c.suppressed.len(), 2);
        assert_eq!(c.suppressed[0].state, State::New);
        assert_eq!(c.suppressed[1].state, State::Unchanged);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(verdict(&c, Severity::Note), Verdict::Pass);
        assert_eq!(c.counts().suppressed, 2);
    }

    #[test]
    fn expired_stale_and_placeholder_entries_warn() {
        let base = [finding(
            "FD102",
            "connector-modified",
            Severity::Warning,
            "f.py",
            "ffff",
        )];
        let head = [finding(
            "FD101",
            "framework-edit",
            Severity::Error,
            "a.py",
            "aaaa",
        )];
        let mut todo = accepted("aaaa", None);
        todo.reason = "TODO: why this is accepted".into();
        let entries = [
            accepted("aaaa", Some("2024-12-31")), // expired: no longer suppresses
            accepted("ffff", None),               // fixed since
            accepted("0000", None),               // never existed
        ];
        let c = compare(&base, &head, &entries, "2025-01-01");
        assert_eq!(
            prints(&c.new),
            ["aaaa"],
            "an expired acceptance counts again"
        );
        assert!(c.suppressed.is_empty());
        assert_eq!(c.warnings.len(), 3, "{:#?}", c.warnings);
        assert!(c.warnings[0].contains("expired on 2024-12-31"));
        assert!(c.warnings[0].contains("team-search"));
        assert!(c.warnings[1].contains("matches nothing (the finding is fixed)"));
        assert!(c.warnings[2].contains("no finding has this fingerprint"));
        assert_eq!(verdict(&c, Severity::Error), Verdict::Fail);

        let c = compare(&[], &head, &[todo], "2025-01-01");
        assert_eq!(
            c.suppressed.len(),
            1,
            "a placeholder reason still suppresses"
        );
        assert!(c.warnings[0].contains("placeholder reason"));
    }

    #[test]
    fn protocol_edits_are_refused_even_when_accepted() {
        let head = [finding(
            "FD301",
            PROTOCOL_EDIT,
            Severity::Error,
            "docs/P.md",
            "pppp",
        )];
        let c = compare(&[], &head, &[], "2025-01-01");
        assert_eq!(verdict(&c, Severity::Off), Verdict::Refused);
        let c = compare(&[], &head, &[accepted("pppp", None)], "2025-01-01");
        assert_eq!(verdict(&c, Severity::Error), Verdict::Refused);
        // One that existed at base is not the range's doing.
        let c = compare(&head, &head, &[], "2025-01-01");
        assert_eq!(verdict(&c, Severity::Warning), Verdict::Pass);
        assert_eq!(Verdict::Refused.exit_code(), 3);
    }

    #[test]
    fn locate_sets_head_lines_and_json_flattens() {
        let head = [finding(
            "FD101",
            "framework-edit",
            Severity::Error,
            "a.py",
            "aaaa",
        )];
        let base = [finding(
            "FD102",
            "connector-modified",
            Severity::Warning,
            "b.py",
            "bbbb",
        )];
        let mut c = compare(&base, &head, &[], "2025-01-01");
        c.locate(|_| Some([3, 5]));
        assert_eq!(c.new[0].lines, Some([3, 5]));
        assert_eq!(c.fixed[0].lines, None);
        let json = serde_json::to_value(&c.new[0]).unwrap();
        assert_eq!(json["fingerprint"], "aaaa");
        assert_eq!(json["lines"], serde_json::json!([3, 5]));
        let back: CheckFinding = serde_json::from_value(json).unwrap();
        assert_eq!(back, c.new[0]);

        let check = sample(c, Severity::Error);
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["schema"], CHECK_SCHEMA);
        assert_eq!(json["verdict"], "fail");
        assert_eq!(json["fail_on"], "error");
        assert_eq!(json["base"]["ref"], "origin/main");
        assert_eq!(json["fixed"][0]["lines"], serde_json::Value::Null);
        let back: CheckReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, check);
    }
}
