//! Findings: what the user should act on, each of a kind from the catalog (which gives its id,
//! default severity and wording), with a fingerprint that stays the same across runs.

use super::copying::CopiedUnit;
use super::gate::anchor_paths;
use super::protocol::Verdict;
use crate::catalog::{self, Kind};
use crate::model::{
    Change, ChangeClass, Conflict, Finding, ProtocolReport, Severity, StaleCopy, Status,
};
use crate::rules::Pack;
use std::collections::HashSet;

/// Stable for the same finding across runs and commits: it hashes what the finding is about,
/// never commit ids or line numbers.
pub fn fingerprint(kind: Kind, key: &str) -> String {
    let mut id = crate::ids::blob_hash(format!("forkdrift\0{}\0{key}", kind.as_str()).as_bytes())
        .to_string();
    id.truncate(16);
    id
}

/// One finding to add: its kind, what it is about (`key`, for the fingerprint), where, and
/// the template arguments of its message and help.
pub struct NewFinding<'a> {
    pub kind: Kind,
    pub key: &'a str,
    pub path: &'a str,
    pub unit: Option<&'a str>,
    pub args: &'a [(&'a str, &'a str)],
}

pub struct FindingBuilder<'p> {
    pack: &'p Pack,
    findings: Vec<Finding>,
}

impl<'p> FindingBuilder<'p> {
    pub fn new(pack: &'p Pack) -> Self {
        FindingBuilder {
            pack,
            findings: Vec::new(),
        }
    }

    /// Adds a finding at the severity the pack gives its kind (none when turned off).
    pub fn add(&mut self, finding: NewFinding) {
        self.add_at(self.pack.severity(finding.kind), finding);
    }

    pub fn add_at(&mut self, severity: Severity, finding: NewFinding) {
        if severity == Severity::Off {
            return;
        }
        let entry = finding.kind.entry();
        self.findings.push(Finding {
            id: entry.id.into(),
            severity,
            kind: finding.kind,
            path: finding.path.into(),
            message: catalog::render(entry.message, finding.args),
            fingerprint: fingerprint(finding.kind, finding.key),
            unit: finding.unit.map(str::to_string),
            help: entry.help.map(|h| catalog::render(h, finding.args)),
        });
    }

    /// Most severe first, then by id and path.
    pub fn finish(mut self) -> Vec<Finding> {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.id.cmp(&b.id))
                .then_with(|| a.path.cmp(&b.path))
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        self.findings
            .dedup_by(|a, b| a.fingerprint == b.fingerprint);
        self.findings
    }
}

/// The findings of the fork's divergent changes, its copies and the upgrade's conflicts.
pub fn findings(
    pack: &Pack,
    changes: &[Change],
    conflicts: &[Conflict],
    copies: &[CopiedUnit],
    stale: &[StaleCopy],
) -> Vec<Finding> {
    let mut builder = FindingBuilder::new(pack);
    for change in changes.iter().filter(|c| c.is_divergent()) {
        change_findings(pack, change, &mut builder);
    }
    for copy in copies.iter().filter(|c| c.source_has_tests && !c.has_tests) {
        let expected = pack.families[copy.family]
            .tests
            .iter()
            .find(|t| t.placeholder == "unit")
            .map(|t| t.instantiate(&copy.unit))
            .unwrap_or_default();
        let similarity = format!("{:.0}", copy.similarity * 100.0);
        builder.add(NewFinding {
            kind: Kind::CopyWithoutTests,
            key: &copy.unit,
            path: &copy.main_path,
            unit: Some(&copy.unit),
            args: &[
                ("unit", &copy.unit),
                ("source", &copy.source_unit),
                ("similarity", &similarity),
                ("expected", &expected),
            ],
        });
    }
    for copy in stale {
        stale_findings(copies, copy, &mut builder);
    }
    for conflict in conflicts.iter().filter(|c| c.is_fork_caused()) {
        let moved_to = changes
            .iter()
            .filter(|_| conflict.kind.ends_with("/delete"))
            .find(|c| c.path == conflict.path)
            .and_then(|c| c.target_path.as_deref())
            .filter(|t| *t != conflict.path);
        let advice = moved_to.map_or(String::new(), |t| {
            format!("; upstream moved the file to {t}: carry the fork's edit there")
        });
        builder.add(NewFinding {
            kind: Kind::Conflict,
            key: &conflict.path,
            path: &conflict.path,
            unit: None,
            args: &[
                ("path", &conflict.path),
                ("conflict", &conflict.kind),
                ("advice", &advice),
            ],
        });
    }
    builder.finish()
}

fn change_findings(pack: &Pack, change: &Change, builder: &mut FindingBuilder) {
    let path = change.path.as_str();
    let unit = change.unit.as_deref();
    let kind = match change.class {
        ChangeClass::Framework => Some(Kind::FrameworkEdit),
        ChangeClass::ConnectorModified => Some(Kind::ConnectorModified),
        ChangeClass::ConnectorDeleted => Some(Kind::ConnectorDeleted),
        _ => None,
    };
    // A file the fork added to the framework (op-geth's core/superchain.go) is no edit of
    // upstream's.
    let changes = match change.status {
        Status::Added => "adds",
        Status::Deleted => "deletes",
        _ => "changes",
    };
    if let Some(kind) = kind {
        builder.add(NewFinding {
            kind,
            key: path,
            path,
            unit: unit.filter(|_| kind != Kind::FrameworkEdit),
            args: &[
                ("path", path),
                ("unit", unit.unwrap_or("?")),
                ("changes", changes),
            ],
        });
    }
    if let Some((_, zone)) = pack.zone(path) {
        if let Some(warning) = &zone.warn {
            if change.status != Status::Deleted {
                builder.add(NewFinding {
                    kind: Kind::ZoneWarning,
                    key: path,
                    path,
                    unit: None,
                    args: &[("path", path), ("warning", warning)],
                });
            }
        }
    }
    if change.orphaned {
        // Where the merge leaves the fork's file: an added file follows the merge (its
        // target_path), an edited one stays where the fork has it — never the target's own
        // live file an upstream rename produced.
        let target = if change.status == Status::Added {
            change.target_path.as_deref().unwrap_or(path)
        } else {
            path
        };
        builder.add(NewFinding {
            kind: Kind::Orphaned,
            key: path,
            path: target,
            unit,
            args: &[("target_path", target)],
        });
    }
}

fn stale_findings(copies: &[CopiedUnit], copy: &StaleCopy, builder: &mut FindingBuilder) {
    let path = copies
        .iter()
        .find(|c| c.unit == copy.unit)
        .map_or(copy.source_path.clone(), |c| c.main_path.clone());
    if !copy.missing.is_empty() {
        let prs: Vec<String> = copy.missing.iter().filter_map(|c| c.pr_label()).collect();
        let times = if copy.missing.len() == 1 {
            "once".to_string()
        } else {
            format!("{} times", copy.missing.len())
        };
        let prs = if prs.is_empty() {
            "no PR numbers".to_string()
        } else {
            prs.join(", ")
        };
        builder.add(NewFinding {
            kind: Kind::StaleCopy,
            key: &copy.unit,
            path: &path,
            unit: Some(&copy.unit),
            args: &[
                ("unit", &copy.unit),
                ("source", &copy.source_unit),
                ("times", &times),
                ("prs", &prs),
            ],
        });
    }
    for import in &copy.broken_imports {
        builder.add(NewFinding {
            kind: Kind::MissingImport,
            key: &format!("{}:{import}", copy.unit),
            path: &path,
            unit: Some(&copy.unit),
            args: &[("unit", &copy.unit), ("import", import)],
        });
    }
}

/// A protocol change between the fork point and the target, and fork edits of the protocol;
/// added to `findings`, which stay sorted.
/// `protocol_edited`: the anchors' paths where the fork's own work changed the protocol (its
/// values, its document, or a whole-file anchor's bytes), from the fork point to the fork.
pub fn protocol_findings(
    pack: &Pack,
    changes: &[Change],
    protocol_edited: &HashSet<&str>,
    verdict: Verdict,
    protocol: &ProtocolReport,
    findings: &mut Vec<Finding>,
) {
    let mut builder = FindingBuilder::new(pack);
    let anchors = anchor_paths(pack);
    for change in changes.iter().filter(|c| c.is_divergent()) {
        let touches = anchors.iter().any(|a| {
            (*a == change.path || change.old_path.as_deref() == Some(a))
                && protocol_edited.contains(a.as_str())
        });
        if touches {
            builder.add(NewFinding {
                kind: Kind::ProtocolEdit,
                key: &change.path,
                path: &change.path,
                unit: None,
                args: &[("path", &change.path)],
            });
        }
    }
    if verdict != Verdict::None {
        let severity = match (verdict, protocol.accepted) {
            (Verdict::Schema, false) => Severity::Error,
            _ => Severity::Note,
        };
        let count: usize = protocol.anchors.iter().map(|a| a.changes.len()).sum();
        let change = match verdict {
            Verdict::Schema => format!(
                "changed between the fork point and the target ({count} schema {}){}",
                if count == 1 { "change" } else { "changes" },
                if protocol.accepted { "; accepted" } else { "" }
            ),
            _ => "documents changed in prose only".into(),
        };
        let path = protocol
            .anchors
            .first()
            .map_or(String::new(), |a| a.path.clone());
        builder.add_at(
            severity,
            NewFinding {
                kind: Kind::ProtocolChange,
                key: &protocol.fingerprint,
                path: &path,
                unit: None,
                args: &[("change", &change)],
            },
        );
    }
    for warning in &protocol.warnings {
        let mut commits: Vec<String> = warning
            .commits
            .iter()
            .map(|c| {
                c.pr_label()
                    .unwrap_or_else(|| crate::model::short_id(&c.commit).to_string())
            })
            .collect();
        commits.dedup();
        if commits.is_empty() {
            commits.push("no commit in the compared range".into());
        }
        builder.add(NewFinding {
            kind: Kind::ProtocolFileChange,
            key: &warning.path,
            path: &warning.path,
            unit: None,
            args: &[("path", &warning.path), ("commits", &commits.join(", "))],
        });
    }
    merge(findings, builder.finish());
}

/// Adds findings of another step, keeping the order: most severe first, then id and path.
pub fn merge(findings: &mut Vec<Finding>, more: Vec<Finding>) {
    findings.extend(more);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.path.cmp(&b.path))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        // The value earlier versions wrote for this finding: baselines keep matching.
        assert_eq!(
            fingerprint(Kind::FrameworkEdit, "connectors/es/client.py").len(),
            16
        );
        assert_eq!(
            fingerprint(Kind::FrameworkEdit, "a"),
            fingerprint(Kind::FrameworkEdit, "a")
        );
        assert_ne!(
            fingerprint(Kind::FrameworkEdit, "a"),
            fingerprint(Kind::Orphaned, "a")
        );
    }
}
