//! `check --format sarif`: SARIF 2.1.0 for code scanning (GitHub's upload-sarif and others).
//!
//! One rule per catalog entry; one result per finding of the range: `new` and `unchanged` ones
//! (`baselineState` says which), baseline-accepted ones with an external suppression, and
//! `fixed` ones as `absent` results of kind `pass` (level `none`: nothing to act on).
//! `partialFingerprints["forkdrift/v1"]` carries the stable fingerprint. A test validates the
//! output against the official schema (tests/data/sarif-schema-2.1.0.json).

use crate::catalog::{self, CATALOG};
use crate::check::{CheckFinding, CheckReport, State};
use crate::model::Severity;
use serde_json::{Value, json};
use std::io::{self, Write};

pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const FINGERPRINT_KEY: &str = "forkdrift/v1";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
        Severity::Off => "none",
    }
}

/// `connector edited in place` → `ConnectorEditedInPlace`.
pub fn camel_case(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

/// A relative path as a URI reference: everything but unreserved characters and `/` is
/// percent-encoded (so a `:` in the first segment cannot read as a scheme).
pub fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn rules() -> Vec<Value> {
    // Templates name the finding's specifics; a rule speaks of them in general.
    let general = [
        ("unit", "the connector"),
        ("source", "its source connector"),
        ("expected", "the test directory"),
        ("path", "the file"),
        ("target_path", "the file"),
    ];
    CATALOG
        .iter()
        .map(|entry| {
            let help = match entry.help {
                Some(help) => format!(
                    "{} What to do: {}.",
                    entry.description,
                    catalog::render(help, &general)
                ),
                None => entry.description.to_string(),
            };
            json!({
                "id": entry.id,
                "name": camel_case(entry.name),
                "shortDescription": {"text": entry.summary},
                "fullDescription": {"text": entry.description},
                "help": {"text": help},
                "defaultConfiguration": {"level": level(entry.severity)},
                "properties": {"tags": ["forkdrift", entry.key]},
            })
        })
        .collect()
}

fn result(f: &CheckFinding, state: &str) -> Value {
    let finding = &f.finding;
    let mut artifact = json!({
        "artifactLocation": {"uri": uri_reference(&finding.path)},
    });
    if let Some([start, end]) = f.lines {
        artifact["region"] = json!({"startLine": start.max(1), "endLine": end.max(start).max(1)});
    }
    let mut text = finding.message.clone();
    if let Some(help) = &finding.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    let mut result = json!({
        "ruleId": finding.id,
        "level": level(finding.severity),
        "message": {"text": text},
        "locations": [{"physicalLocation": artifact}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "baselineState": state,
        "properties": {"kind": finding.kind},
    });
    if let Some(index) = CATALOG.iter().position(|e| e.id == finding.id) {
        result["ruleIndex"] = json!(index);
    }
    if let Some(unit) = &finding.unit {
        result["properties"]["unit"] = json!(unit);
    }
    result
}

/// The SARIF log as a JSON value; `include_fixed` adds the `absent` results.
pub fn document(check: &CheckReport, include_fixed: bool) -> Value {
    let mut results: Vec<Value> = Vec::new();
    results.extend(check.new.iter().map(|f| result(f, "new")));
    results.extend(check.unchanged.iter().map(|f| result(f, "unchanged")));
    for s in &check.suppressed {
        let state = match s.state {
            State::New => "new",
            State::Unchanged => "unchanged",
        };
        let mut r = result(&s.finding, state);
        let mut justification = format!("{} (owner: {})", s.accepted.reason, s.accepted.owner);
        if let Some(pr) = &s.accepted.upstream_pr {
            justification.push_str(&format!("; upstream: {pr}"));
        }
        if let Some(expires) = &s.accepted.expires {
            justification.push_str(&format!("; accepted until {expires}"));
        }
        r["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": justification,
        }]);
        results.push(r);
    }
    if include_fixed {
        for f in &check.fixed {
            let mut r = result(f, "absent");
            r["kind"] = json!("pass");
            r["level"] = json!("none");
            results.push(r);
        }
    }

    let mut driver = json!({
        "name": check.tool.name,
        "version": check.tool.version,
        "semanticVersion": check.tool.version,
        "rules": rules(),
    });
    let uri = option_env!("CARGO_PKG_REPOSITORY")
        .filter(|u| !u.is_empty())
        .or(option_env!("CARGO_PKG_HOMEPAGE").filter(|u| !u.is_empty()));
    if let Some(uri) = uri {
        driver["informationUri"] = json!(uri);
    }
    let notifications: Vec<Value> = check
        .baseline_warnings
        .iter()
        .map(|w| json!({"level": "warning", "message": {"text": w}}))
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [{
                "executionSuccessful": true,
                "toolConfigurationNotifications": notifications,
            }],
            "results": results,
            "properties": {
                "forkdrift/verdict": check.verdict.as_str(),
                "forkdrift/base": check.base.commit,
                "forkdrift/head": check.head.commit,
            },
        }],
    })
}

pub fn render(check: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(check, true)).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(
            camel_case("connector edited in place"),
            "ConnectorEditedInPlace"
        );
        assert_eq!(camel_case("copy without its tests"), "CopyWithoutItsTests");
        assert_eq!(
            uri_reference("connectors/sources/acme.py"),
            "connectors/sources/acme.py"
        );
        assert_eq!(
            uri_reference("a b/c:d,e%é.py"),
            "a%20b/c%3Ad%2Ce%25%C3%A9.py"
        );
    }
}
