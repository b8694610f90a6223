//! Every kind of finding, as data: id, name, default severity, description, help and message
//! template, in one table. Rule ids, the pack's `[severities]` keys, the docs' table and SARIF's
//! rules all derive from it, so a kind cannot exist in one place and be missing in another.

use crate::model::Severity;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    FrameworkEdit,
    ConnectorModified,
    ConnectorDeleted,
    CopyWithoutTests,
    ZoneWarning,
    Orphaned,
    Conflict,
    ProtocolEdit,
    ProtocolChange,
    ProtocolFileChange,
    StaleCopy,
    MissingImport,
    Lockstep,
    DependencyConstraint,
    BehindSeries,
    DependencyPin,
}

/// One kind of finding. `message` and `help` are templates: `{name}` takes the argument of that
/// name (see [`render`]).
#[derive(Debug)]
pub struct Entry {
    pub kind: Kind,
    /// Stable across versions: `FD101`.
    pub id: &'static str,
    /// The kind's key in JSON and in a pack's `[severities]`: `framework-edit`.
    pub key: &'static str,
    /// A name for people (SARIF's `rule.name` is this, in CamelCase).
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what the finding says.
    pub summary: &'static str,
    /// Why it matters.
    pub description: &'static str,
    pub message: &'static str,
    pub help: Option<&'static str>,
}

pub const CATALOG: &[Entry] = &[
    Entry {
        kind: Kind::FrameworkEdit,
        id: "FD101",
        key: "framework-edit",
        name: "framework edit",
        severity: Severity::Error,
        summary: "The fork changes a framework file.",
        description: "Framework changes make every upgrade conflict-prone and drift from upstream's behaviour. Keep them out of the fork and send them upstream as pull requests.",
        message: "the fork {changes} framework file {path}",
        help: Some(
            "keep framework changes out of the fork: send them upstream as a pull request (`forkdrift candidates`)",
        ),
    },
    Entry {
        kind: Kind::ConnectorModified,
        id: "FD102",
        key: "connector-modified",
        name: "connector edited in place",
        severity: Severity::Warning,
        summary: "An upstream connector is edited in place.",
        description: "Upstream keeps changing its connectors; an in-place edit conflicts with those changes on every upgrade. Copy and rename the connector, with its tests, and change the copy.",
        message: "upstream connector `{unit}` edited in place ({path})",
        help: Some("copy-and-rename `{unit}` (and its tests) and change the copy instead"),
    },
    Entry {
        kind: Kind::ConnectorDeleted,
        id: "FD103",
        key: "connector-deleted",
        name: "connector deleted",
        severity: Severity::Warning,
        summary: "An upstream connector file is deleted by the fork.",
        description: "Upstream keeps changing the file the fork removed, so every upgrade can conflict on it. Unregister the connector instead of deleting it.",
        message: "upstream connector file {path} deleted by the fork",
        help: Some(
            "upstream will keep changing it: every upgrade can conflict here; unregister the connector instead",
        ),
    },
    Entry {
        kind: Kind::CopyWithoutTests,
        id: "FD104",
        key: "copy-without-tests",
        name: "copy without its tests",
        severity: Severity::Warning,
        summary: "A copied connector lacks the tests of its source.",
        description: "Upstream's advice is to copy a data source and its tests; a copy without tests loses the coverage its source had.",
        message: "`{unit}` is a copy of upstream `{source}` ({similarity} % similar) but its tests were not copied",
        help: Some("copy the tests of `{source}` too, renamed, to {expected}"),
    },
    Entry {
        kind: Kind::ZoneWarning,
        id: "FD105",
        key: "zone-warning",
        name: "change in a warned zone",
        severity: Severity::Warning,
        summary: "The fork changes a path its rule pack warns about.",
        description: "The rule pack marks some paths (a committed configuration file, say) as places a fork should not change.",
        message: "{path}: {warning}",
        help: None,
    },
    Entry {
        kind: Kind::Orphaned,
        id: "FD201",
        key: "orphaned",
        name: "orphaned by the upgrade",
        severity: Severity::Warning,
        summary: "After the upgrade a fork file sits in a directory the target no longer has.",
        description: "The merge is textually clean, yet nothing imports the file any more: upstream moved the layout from under it.",
        message: "after the upgrade {target_path} sits in a directory the target no longer has: it merges without a conflict, yet nothing imports it any more",
        help: Some("move it into the target's layout as part of the upgrade"),
    },
    Entry {
        kind: Kind::Conflict,
        id: "FD202",
        key: "conflict",
        name: "upgrade conflict",
        severity: Severity::Warning,
        summary: "Merging the target conflicts on a path the fork changed.",
        description: "git's own merge (merge-ort) reports a conflict that the fork's own work causes.",
        message: "merging the target conflicts on {path} ({conflict}){advice}",
        help: None,
    },
    Entry {
        kind: Kind::ProtocolEdit,
        id: "FD301",
        key: "protocol-edit",
        name: "protocol edit",
        severity: Severity::Error,
        summary: "The fork changes the protocol: an anchor's values or document, or a whole-file anchor.",
        description: "The protocol is upstream's contract with the rest of the stack; a fork that changes it breaks that contract.",
        message: "the fork changes the protocol in {path}",
        help: Some(
            "the protocol is upstream's contract with the stack: propose the change upstream instead",
        ),
    },
    Entry {
        kind: Kind::ProtocolChange,
        id: "FD302",
        key: "protocol-change",
        name: "protocol change",
        severity: Severity::Note,
        summary: "The protocol changed between the fork point and the target.",
        description: "An upgrade across a protocol change needs care: snapshot first, read the release notes, upgrade the stack in order. An error while nobody accepted it.",
        message: "the protocol {change}",
        help: None,
    },
    Entry {
        kind: Kind::ProtocolFileChange,
        id: "FD303",
        key: "protocol-file-change",
        name: "protocol file change",
        severity: Severity::Warning,
        summary: "A whole-file protocol anchor changed; it never sets the verdict.",
        description: "The pack watches a file (the protocol module) byte for byte. Its code changed but the documents and values the verdict is made of did not; the change may still matter, so it is worth a look, but it neither sets the verdict nor refuses.",
        message: "the protocol file {path} changed ({commits}); the verdict comes from the protocol's documents and values only",
        help: Some("read these commits for behaviour the protocol's model does not capture"),
    },
    Entry {
        kind: Kind::StaleCopy,
        id: "FD401",
        key: "stale-copy",
        name: "stale copy",
        severity: Severity::Warning,
        summary: "Upstream changed a copy's source after the copy was made.",
        description: "A copied-and-renamed connector stops receiving upstream's fixes to its source; review them and port what applies.",
        message: "`{unit}` was copied from `{source}`, which upstream changed {times} since ({prs}): the copy lacks those fixes",
        help: Some("review them and port what applies to `{unit}`"),
    },
    Entry {
        kind: Kind::MissingImport,
        id: "FD402",
        key: "missing-import",
        name: "import missing at the target",
        severity: Severity::Warning,
        summary: "A copy imports a project module the target no longer has.",
        description: "After the upgrade the copy will fail to import: follow the framework's move.",
        message: "`{unit}` imports {import}, which the target no longer has",
        help: Some(
            "follow the framework's move (see `forkdrift explain` and the target's layout) when you upgrade",
        ),
    },
    Entry {
        kind: Kind::Lockstep,
        id: "FD501",
        key: "lockstep",
        name: "coupled gems out of step",
        severity: Severity::Error,
        summary: "Two coupled gems are locked at series that do not go together.",
        description: "Coupled gems (karafka and karafka-web, say) are released in matching series; a pair outside the pack's series table may install yet fail at boot or at runtime, which Bundler cannot see.",
        message: "{gem} {version} and {other} {other_version} do not go together: {gem} {series} goes with {other} {expected}",
        help: Some(
            "move them together: `{command}` (raise the Gemfile's requirements first if they pin a series)",
        ),
    },
    Entry {
        kind: Kind::DependencyConstraint,
        id: "FD502",
        key: "dependency-constraint",
        name: "locked version outside a constraint",
        severity: Severity::Error,
        summary: "A coupled gem's locked version is outside what another gem requires of it.",
        description: "A runtime constraint (a gemspec's, as the fork states it or as the lock records it) does not admit the version the lock holds: the lock is stale or was edited by hand.",
        message: "{gem} {version} is outside {requirer}'s requirement `{requirement}` ({origin})",
        help: Some("re-resolve the coupled gems together: `{command}`"),
    },
    Entry {
        kind: Kind::BehindSeries,
        id: "FD503",
        key: "behind-series",
        name: "behind its series",
        severity: Severity::Warning,
        summary: "A coupled gem is locked behind the newest release of its series that upstream has.",
        description: "Patch releases of a series carry fixes (and sometimes breaking schema changes); the coupled gems are tested at their newest patches together.",
        message: "{gem} {version} is behind {newest}, the newest {series} release upstream has",
        help: Some("{action}"),
    },
    Entry {
        kind: Kind::DependencyPin,
        id: "FD504",
        key: "dependency-pin",
        name: "dependency pin changed",
        severity: Severity::Warning,
        summary: "The fork changes a dependency pin of the framework.",
        description: "Pins are the framework's: upstream moves them on every release, and a fork's own pin conflicts with that and runs the framework on a version upstream never tested.",
        message: "the fork pins {package} {fork} (upstream {old}, the target {target})",
        help: Some("propose the bump upstream, or take the target's pin when you upgrade"),
    },
];

impl Kind {
    pub fn entry(self) -> &'static Entry {
        CATALOG
            .iter()
            .find(|e| e.kind == self)
            .expect("every kind has a catalog entry")
    }

    pub fn id(self) -> &'static str {
        self.entry().id
    }

    pub fn as_str(self) -> &'static str {
        self.entry().key
    }

    pub fn default_severity(self) -> Severity {
        self.entry().severity
    }

    /// The kind a pack's `[severities]` key names.
    pub fn from_key(key: &str) -> Option<Kind> {
        CATALOG.iter().find(|e| e.key == key).map(|e| e.kind)
    }
}

/// Fills `{name}` placeholders from `args`; a placeholder without an argument stays as written
/// (a test checks that every template's placeholders are supplied where it is used).
pub fn render(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_keys_are_unique_and_every_kind_is_listed() {
        let mut ids: Vec<&str> = CATALOG.iter().map(|e| e.id).collect();
        let mut keys: Vec<&str> = CATALOG.iter().map(|e| e.key).collect();
        ids.sort_unstable();
        ids.dedup();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(ids.len(), CATALOG.len());
        assert_eq!(keys.len(), CATALOG.len());
        for entry in CATALOG {
            assert_eq!(Kind::from_key(entry.key), Some(entry.kind));
            assert_eq!(
                serde_json::to_string(&entry.kind).unwrap(),
                format!("\"{}\"", entry.key)
            );
        }
    }

    #[test]
    fn templates_fill_named_arguments() {
        assert_eq!(
            render(
                "`{unit}` at {path} {missing}",
                &[("unit", "acme"), ("path", "a.py")]
            ),
            "`acme` at a.py {missing}"
        );
        assert_eq!(render("no braces", &[]), "no braces");
        assert_eq!(render("open { only", &[]), "open { only");
    }

    /// The docs' table of rules is the catalog's: every id with its key, no more, no fewer.
    #[test]
    fn the_docs_table_lists_the_catalog() {
        let docs = include_str!("../docs/json-schema.md");
        let mut listed: Vec<(String, String)> = docs
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let id = cells.get(1)?;
                let key = cells.get(2)?.trim_matches('`');
                (id.starts_with("FD") && id.len() == 5).then(|| (id.to_string(), key.to_string()))
            })
            .collect();
        listed.sort();
        let mut catalog: Vec<(String, String)> = CATALOG
            .iter()
            .map(|e| (e.id.to_string(), e.key.to_string()))
            .collect();
        catalog.sort();
        assert_eq!(listed, catalog);
    }
}
