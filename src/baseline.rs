//! The baseline: findings a fork accepts, listed by fingerprint in `.forkdrift.toml`.
//!
//! ```toml
//! [[baseline.accepted]]
//! fingerprint = "3f9a0c1d2b4e5f60"      # 16 hex digits, from the report
//! kind = "framework-edit"               # optional: checked against the catalog
//! path = "connectors/es/client.py"      # optional: for the reader
//! reason = "needed for on-prem auth until upstream takes the fix"
//! owner = "search-team"
//! upstream_pr = "https://github.com/elastic/connectors/pull/1234"   # optional
//! expires = "2025-06-30"                # optional, YYYY-MM-DD: accepted through that day
//! ```
//!
//! An accepted finding is reported as suppressed and counted, never hidden
//! ([`crate::check::compare`]). The same file holds `[[protocol.accepted]]` tables
//! (`accept-protocol`); each parser ignores the other's table.

use crate::error::{Error, FileError, FileKind, Result};
use crate::model::Finding;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// The placeholder reason `forkdrift baseline` writes; `check` warns while an entry keeps it.
pub const TODO_REASON: &str = "TODO: why this is accepted";

/// One accepted finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Accepted {
    pub fingerprint: String,
    pub kind: Option<String>,
    pub path: Option<String>,
    pub reason: String,
    pub owner: String,
    pub upstream_pr: Option<String>,
    /// `YYYY-MM-DD`; the acceptance holds through that day.
    pub expires: Option<String>,
}

#[derive(Deserialize)]
struct ConfigFile {
    // Other tables (`[[protocol.accepted]]`) belong to other parsers.
    #[serde(default)]
    baseline: BaselineFile,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    #[serde(default)]
    accepted: Vec<AcceptedFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptedFile {
    fingerprint: Spanned<String>,
    kind: Option<Spanned<String>>,
    path: Option<String>,
    reason: Spanned<String>,
    owner: Spanned<String>,
    upstream_pr: Option<Spanned<String>>,
    /// A string or a TOML date literal (`expires = 2025-06-30`).
    expires: Option<Spanned<toml::Value>>,
}

const HELP: &str = "each [[baseline.accepted]] entry needs fingerprint (16 hex digits), reason and owner; kind, path, upstream_pr (a URL) and expires (YYYY-MM-DD) are optional; `forkdrift baseline` writes a starting point";

/// `YYYY-MM-DD`, a real calendar date.
pub fn valid_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
        && crate::time::parse_iso(text).map(crate::time::format_date) == Some(text.to_string())
}

fn valid_fingerprint(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Parses the baseline of a `.forkdrift.toml` (`name` is what diagnostics call the file).
/// A file without a `[baseline]` table has an empty baseline.
pub fn parse(text: &str, name: &str) -> Result<Vec<Accepted>> {
    let fail = |message: String, span: Option<Range<usize>>, label: &str, help: Option<&str>| {
        FileError::error(
            FileKind::Baseline,
            name,
            text,
            message,
            span,
            label,
            help.unwrap_or(HELP).to_string(),
        )
    };
    let file: ConfigFile = toml::from_str(text)
        .map_err(|e| fail(e.message().to_string(), e.span(), "here", Some(HELP)))?;

    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    let mut out = Vec::with_capacity(file.baseline.accepted.len());
    for entry in file.baseline.accepted {
        let fingerprint = entry.fingerprint.get_ref().trim().to_string();
        if !valid_fingerprint(&fingerprint) {
            return Err(fail(
                format!("`{fingerprint}` is not a finding fingerprint"),
                Some(entry.fingerprint.span()),
                "expected 16 lowercase hex digits",
                Some(
                    "copy the `fingerprint` of the finding from `forkdrift audit --format json` or `forkdrift baseline`",
                ),
            ));
        }
        if seen.contains_key(&fingerprint) {
            return Err(fail(
                format!("fingerprint {fingerprint} is accepted twice"),
                Some(entry.fingerprint.span()),
                "already listed above",
                Some("keep one entry per finding"),
            ));
        }
        seen.insert(fingerprint.clone(), entry.fingerprint.span());
        if let Some(kind) = &entry.kind {
            if crate::catalog::Kind::from_key(kind.get_ref()).is_none() {
                let known: Vec<&str> = crate::catalog::CATALOG.iter().map(|e| e.key).collect();
                return Err(fail(
                    format!("unknown finding kind `{}`", kind.get_ref()),
                    Some(kind.span()),
                    "not a kind of finding",
                    Some(&format!("kinds: {}", known.join(", "))),
                ));
            }
        }
        for (field, value) in [("reason", &entry.reason), ("owner", &entry.owner)] {
            if value.get_ref().trim().is_empty() {
                return Err(fail(
                    format!("`{field}` is empty"),
                    Some(value.span()),
                    "must not be empty",
                    Some("an accepted finding needs a reason and someone who owns the decision"),
                ));
            }
        }
        if let Some(pr) = &entry.upstream_pr {
            let url = pr.get_ref().trim();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(fail(
                    format!("`upstream_pr` is not a URL: `{url}`"),
                    Some(pr.span()),
                    "expected https://…",
                    Some(
                        "link the upstream pull request, e.g. https://github.com/OWNER/REPO/pull/123",
                    ),
                ));
            }
        }
        let expires = match &entry.expires {
            None => None,
            Some(value) => {
                let text = match value.get_ref() {
                    toml::Value::String(s) => s.trim().to_string(),
                    toml::Value::Datetime(d) => d.to_string(),
                    other => other.to_string(),
                };
                if !valid_date(&text) {
                    return Err(fail(
                        format!("`expires` is not a date: `{text}`"),
                        Some(value.span()),
                        "expected YYYY-MM-DD",
                        Some(
                            "write the last day the acceptance holds, e.g. expires = \"2025-06-30\"",
                        ),
                    ));
                }
                Some(text)
            }
        };
        out.push(Accepted {
            fingerprint,
            kind: entry.kind.map(Spanned::into_inner),
            path: entry.path,
            reason: entry.reason.into_inner().trim().to_string(),
            owner: entry.owner.into_inner().trim().to_string(),
            upstream_pr: entry.upstream_pr.map(|s| s.into_inner().trim().to_string()),
            expires,
        });
    }
    Ok(out)
}

/// Reads a baseline file; a missing file is an empty baseline.
pub fn read(path: &Path) -> Result<Vec<Accepted>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(Error::Io {
            context: format!("could not read {}", path.display()),
            source,
        }),
    }
}

fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A starting baseline for the current findings, as TOML to append to `.forkdrift.toml` and
/// review: one `[[baseline.accepted]]` entry per finding, with the placeholder reason (which
/// `check` warns about until someone writes the real one) and a suggested expiry 90 days from
/// `today` (`YYYY-MM-DD`), commented out.
pub fn write_baseline(findings: &[Finding], owner: &str, today: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# forkdrift baseline, written on {today} for {} finding{}.\n",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    ));
    out.push_str(
        "# Review every entry: write why it is accepted (or delete it and fix the finding),\n\
         # link the upstream pull request if there is one, and set an expiry date.\n\
         # Accepted findings are still reported (as suppressed) and counted; they no longer fail\n\
         # `forkdrift check`. An entry that expires or matches no finding is reported as a warning.\n",
    );
    let expiry = crate::time::parse_iso(today)
        .map(|t| crate::time::format_date(t + 90 * crate::time::DAY))
        .unwrap_or_else(|| "YYYY-MM-DD".into());
    for f in findings {
        out.push_str("\n[[baseline.accepted]]\n");
        let message = f.message.replace(['\r', '\n'], " ");
        out.push_str(&format!(
            "# {} {} ({}): {message}\n",
            f.id,
            f.kind.as_str(),
            f.severity.as_str()
        ));
        out.push_str(&format!("fingerprint = {}\n", quote(&f.fingerprint)));
        out.push_str(&format!("kind = {}\n", quote(f.kind.as_str())));
        out.push_str(&format!("path = {}\n", quote(&f.path)));
        out.push_str(&format!("reason = {}\n", quote(TODO_REASON)));
        out.push_str(&format!("owner = {}\n", quote(owner)));
        out.push_str("# upstream_pr = \"https://github.com/OWNER/REPO/pull/NUMBER\"\n");
        out.push_str(&format!("# expires = {}\n", quote(&expiry)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn line_of(err: &Error, text: &str) -> usize {
        let Error::InvalidFile(e) = err else {
            panic!("not a baseline error: {err:?}");
        };
        let offset = e.span.expect("a span").offset();
        text[..offset].lines().count() + usize::from(text[..offset].ends_with('\n'))
    }

    const GOOD: &str = r#"
[[protocol.accepted]]
fingerprint = "0123456789012345678901234567890123456789"
pack = "elastic-connectors"
target = "upstream/main"
commit = "0123456789012345678901234567890123456789"
by = "A <a@example.com>"
why = "reviewed"
at = "2025-01-01T00:00:00Z"

[[baseline.accepted]]
fingerprint = "0123456789abcdef"
kind = "framework-edit"
path = "connectors/es/client.py"
reason = "on-prem auth"
owner = "search-team"
upstream_pr = "https://github.com/elastic/connectors/pull/1234"
expires = "2025-06-30"

[[baseline.accepted]]
fingerprint = "fedcba9876543210"
reason = "legacy"
owner = "ops"
expires = 2025-02-28
"#;

    #[test]
    fn parses_entries_next_to_protocol_acceptances() {
        let entries = parse(GOOD, ".forkdrift.toml").unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].kind.as_deref(), Some("framework-edit"));
        assert_eq!(
            entries[0].upstream_pr.as_deref(),
            Some("https://github.com/elastic/connectors/pull/1234")
        );
        assert_eq!(entries[1].expires.as_deref(), Some("2025-02-28"));
        assert_eq!(entries[1].kind, None);
        assert!(parse("", "x").unwrap().is_empty());
        assert!(
            parse("[[protocol.accepted]]\nwhatever = 1\n", "x")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn the_protocol_parser_accepts_a_file_with_a_baseline() {
        // `gate::record` parses the existing file with the protocol parser before appending.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".forkdrift.toml");
        std::fs::write(&path, GOOD).unwrap();
        let acceptance = crate::config::Acceptance {
            fingerprint: "f".repeat(40),
            pack: "elastic-connectors".into(),
            target: "upstream/9.3".into(),
            commit: "a".repeat(40),
            by: "B <b@example.com>".into(),
            why: "reviewed".into(),
            at: "2025-02-01T00:00:00Z".into(),
        };
        crate::config::record(&path, &acceptance).expect("the protocol parser accepts the file");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(parse(&text, "x").unwrap().len(), 2);
    }

    #[test]
    fn errors_point_at_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "[[baseline.accepted]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"2025-02-30\"\n",
                5,
                "not a date",
            ),
            (
                "[[baseline.accepted]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"30/06/2025\"\n",
                5,
                "not a date",
            ),
            (
                "\n\n[[baseline.accepted]]\nfingerprint = \"XYZ\"\nreason = \"r\"\nowner = \"o\"\n",
                4,
                "not a finding fingerprint",
            ),
            (
                "[[baseline.accepted]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\nowner = \"o\"\nowners = \"typo\"\n",
                5,
                "unknown field",
            ),
            (
                "[[baseline.accepted]]\nfingerprint = \"0123456789abcdef\"\nkind = \"framework\"\nreason = \"r\"\nowner = \"o\"\n",
                3,
                "unknown finding kind",
            ),
            (
                "[[baseline.accepted]]\nfingerprint = \"0123456789abcdef\"\nreason = \"  \"\nowner = \"o\"\n",
                3,
                "`reason` is empty",
            ),
            (
                "[[baseline.accepted]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\nowner = \"o\"\nupstream_pr = \"#1234\"\n",
                5,
                "not a URL",
            ),
            (
                "[[baseline.accepted]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\nowner = \"o\"\n\n[[baseline.accepted]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\nowner = \"o\"\n",
                7,
                "accepted twice",
            ),
        ];
        for (text, line, message) in cases {
            let err = parse(text, ".forkdrift.toml").unwrap_err();
            assert!(err.to_string().contains(message), "{err} for\n{text}");
            assert_eq!(line_of(&err, text), *line, "{err} for\n{text}");
        }
        // A missing field: toml's own message, still with a position.
        let text = "[[baseline.accepted]]\nfingerprint = \"0123456789abcdef\"\nreason = \"r\"\n";
        let err = parse(text, "x").unwrap_err();
        assert!(err.to_string().contains("owner"), "{err}");
    }

    #[test]
    fn dates() {
        assert!(valid_date("2024-02-29"));
        assert!(!valid_date("2023-02-29"));
        assert!(!valid_date("2024-2-29"));
        assert!(!valid_date("2024-02-29T00:00:00Z"));
        assert!(!valid_date(""));
    }

    #[test]
    fn written_baseline_parses_and_needs_review() {
        let findings = [crate::check::tests::finding(
            "FD101",
            "framework-edit",
            Severity::Error,
            "connectors/es/cli\"ent.py",
            "00000000000000aa",
        )];
        let text = write_baseline(&findings, "Ada <ada@example.com>", "2025-01-01");
        assert!(text.contains("# FD101 framework-edit (error)"));
        assert!(text.contains("# expires = \"2025-04-01\""));
        let entries = parse(&text, "baseline").unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].reason, TODO_REASON);
        assert_eq!(
            entries[0].path.as_deref(),
            Some("connectors/es/cli\"ent.py")
        );
        assert_eq!(entries[0].owner, "Ada <ada@example.com>");
        // Appended to an existing file, both parsers still read it.
        let combined = format!("{GOOD}\n{text}");
        assert_eq!(parse(&combined, "x").unwrap().len(), 3);
        let c = crate::check::compare(&[], &findings, &entries, "2025-01-01");
        assert_eq!(c.suppressed.len(), 1);
        assert!(c.warnings[0].contains("placeholder"));
    }
}
