//! Findings: what the user should act on, each with a stable rule id and fingerprint.

use crate::model::{Finding, Severity};
use crate::rules::Pack;

/// Rule ids, stable across versions; documented in docs/json-schema.md.
pub fn rule_id(kind: &str) -> &'static str {
    match kind {
        "framework-edit" => "FD101",
        "connector-modified" => "FD102",
        "connector-deleted" => "FD103",
        "copy-without-tests" => "FD104",
        "zone-warning" => "FD105",
        "orphaned" => "FD201",
        "conflict" => "FD202",
        "protocol-edit" => "FD301",
        "protocol-change" => "FD302",
        "stale-copy" => "FD401",
        "missing-import" => "FD402",
        _ => "FD000",
    }
}

/// Stable for the same finding across runs and commits: it hashes what the finding is about,
/// never commit ids or line numbers.
pub fn fingerprint(kind: &str, key: &str) -> String {
    let id = git2::Oid::hash_object(
        git2::ObjectType::Blob,
        format!("forkdrift\0{kind}\0{key}").as_bytes(),
    )
    .expect("hashing in memory cannot fail");
    id.to_string()[..16].to_string()
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

    /// Adds a finding unless the pack turned its kind off. `key` identifies it for the
    /// fingerprint (a path, a unit, a protocol item).
    pub fn add(
        &mut self,
        kind: &str,
        key: &str,
        path: &str,
        unit: Option<&str>,
        message: String,
        help: Option<String>,
    ) {
        self.add_with(
            self.pack.severity(kind),
            kind,
            key,
            path,
            unit,
            message,
            help,
        );
    }

    #[allow(clippy::too_many_arguments)]
    pub fn add_with(
        &mut self,
        severity: Severity,
        kind: &str,
        key: &str,
        path: &str,
        unit: Option<&str>,
        message: String,
        help: Option<String>,
    ) {
        if severity == Severity::Off {
            return;
        }
        self.findings.push(Finding {
            id: rule_id(kind).into(),
            severity,
            kind: kind.into(),
            path: path.into(),
            message,
            fingerprint: fingerprint(kind, key),
            unit: unit.map(str::to_string),
            help,
        });
    }

    /// Most severe first, then by kind and path.
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

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprints_are_stable_and_distinct() {
        assert_eq!(
            super::fingerprint("framework-edit", "connectors/es/client.py").len(),
            16
        );
        assert_eq!(
            super::fingerprint("framework-edit", "a"),
            super::fingerprint("framework-edit", "a")
        );
        assert_ne!(
            super::fingerprint("framework-edit", "a"),
            super::fingerprint("orphaned", "a")
        );
    }
}
