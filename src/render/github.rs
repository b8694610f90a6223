//! `check --format github`: GitHub Actions workflow commands that annotate the pull request's
//! added lines with the findings the range introduces (`::error file=…,line=…::message`).
//!
//! GitHub shows a limited number of annotations: 10 errors, 10 warnings and 10 notices per
//! step, 50 per job. Past `limit` per severity the findings are printed as plain log lines
//! under a summary of what was not annotated: nothing is dropped silently.

use crate::check::{CheckFinding, CheckReport};
use crate::model::Severity;
use std::io::{self, Write};

/// GitHub's per-step limit for each of errors, warnings and notices.
pub const STEP_LIMIT: usize = 10;

/// The message part of a workflow command (actions/toolkit's `escapeData`).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value of a workflow command (actions/toolkit's `escapeProperty`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        _ => "notice",
    }
}

fn title(f: &CheckFinding) -> String {
    let name = crate::catalog::CATALOG
        .iter()
        .find(|e| e.id == f.finding.id)
        .map_or(f.finding.kind.as_str(), |e| e.name);
    format!("{} {name}", f.finding.id)
}

fn message(f: &CheckFinding) -> String {
    match &f.finding.help {
        Some(help) => format!("{}\nhelp: {help}", f.finding.message),
        None => f.finding.message.clone(),
    }
}

fn location(f: &CheckFinding) -> String {
    match f.lines {
        Some([start, end]) => format!("{}:{start}-{end}", f.finding.path),
        None => f.finding.path.clone(),
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

pub fn render(check: &CheckReport, out: &mut dyn Write, limit: usize) -> io::Result<()> {
    // errors, warnings, notices annotated so far
    let mut used = [0usize; 3];
    let slot = |severity: Severity| match severity {
        Severity::Error => 0,
        Severity::Warning => 1,
        _ => 2,
    };
    let mut left_out: Vec<String> = Vec::new();

    for f in check
        .new
        .iter()
        .filter(|f| f.finding.severity != Severity::Off)
    {
        let severity = f.finding.severity;
        if used[slot(severity)] >= limit {
            left_out.push(format!(
                "  {} {} {}: {}",
                severity.as_str(),
                f.finding.id,
                location(f),
                message(f).replace(['\r', '\n'], " ")
            ));
            continue;
        }
        used[slot(severity)] += 1;
        let mut properties = vec![format!("file={}", escape_property(&f.finding.path))];
        if let Some([start, end]) = f.lines {
            properties.push(format!("line={start}"));
            properties.push(format!("endLine={end}"));
        }
        properties.push(format!("title={}", escape_property(&title(f))));
        writeln!(
            out,
            "::{} {}::{}",
            command(severity),
            properties.join(","),
            escape_data(&message(f))
        )?;
    }
    for warning in &check.baseline_warnings {
        if used[1] >= limit {
            left_out.push(format!(
                "  warning baseline: {}",
                warning.replace(['\r', '\n'], " ")
            ));
            continue;
        }
        used[1] += 1;
        writeln!(
            out,
            "::warning file={},title={}::{}",
            escape_property(crate::config::CONFIG_FILE),
            escape_property("forkdrift baseline"),
            escape_data(warning)
        )?;
    }

    if !left_out.is_empty() {
        writeln!(
            out,
            "forkdrift: {} not annotated (GitHub shows {limit} of each severity per step, 50 per job); see `--format markdown` or `--format sarif` for all of them:",
            plural(left_out.len(), "finding")
        )?;
        for line in &left_out {
            writeln!(out, "{line}")?;
        }
    }

    let counts = &check.counts;
    let by = |s: &str| counts.new_by_severity.get(s).copied().unwrap_or(0);
    writeln!(
        out,
        "forkdrift check: {} (fail on {}) — {} new ({}, {}, {}), {} unchanged, {} fixed, {} suppressed by the baseline, {}; base {} ({}), head {} ({})",
        check.verdict.as_str(),
        check.fail_on.as_str(),
        counts.new,
        plural(by("error"), "error"),
        plural(by("warning"), "warning"),
        plural(by("note"), "note"),
        counts.unchanged,
        counts.fixed,
        counts.suppressed,
        plural(counts.baseline_warnings, "baseline warning"),
        check.base.name,
        &check.base.commit[..check.base.commit.len().min(12)],
        check.head.name,
        &check.head.commit[..check.head.commit.len().min(12)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::{finding, sample};
    use crate::check::{Comparison, compare};

    fn text(check: &CheckReport, limit: usize) -> String {
        let mut out = Vec::new();
        render(check, &mut out, limit).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_properties_and_data() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");

        let mut f = finding(
            "FD101",
            "framework-edit",
            Severity::Error,
            "src/a,b:c.py",
            "aaaa",
        );
        f.message = "100% framework\nsecond line".into();
        let mut c = compare(&[], &[f], &[], "2025-01-01");
        c.locate(|_| Some([7, 9]));
        let out = text(&sample(c, Severity::Error), STEP_LIMIT);
        let first = out.lines().next().unwrap();
        assert_eq!(
            first,
            "::error file=src/a%2Cb%3Ac.py,line=7,endLine=9,title=FD101 framework edit::100%25 framework%0Asecond line"
        );
        assert!(out.lines().last().unwrap().starts_with(
            "forkdrift check: fail (fail on error) — 1 new (1 error, 0 warnings, 0 notes)"
        ));
    }

    #[test]
    fn levels_whole_file_and_help() {
        let mut w = finding(
            "FD102",
            "connector-modified",
            Severity::Warning,
            "w.py",
            "wwww",
        );
        w.help = Some("copy it".into());
        let n = finding("FD302", "protocol-change", Severity::Note, "n.md", "nnnn");
        let c = compare(&[], &[w, n], &[], "2025-01-01");
        let out = text(&sample(c, Severity::Error), STEP_LIMIT);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "::warning file=w.py,title=FD102 connector edited in place::connector-modified at w.py%0Ahelp: copy it"
        );
        assert!(lines[1].starts_with("::notice file=n.md,title=FD302 protocol change::"));
        assert!(lines[2].starts_with("forkdrift check: pass"));
    }

    #[test]
    fn over_the_limit_is_listed_not_dropped() {
        let head: Vec<_> = (0..13)
            .map(|i| {
                finding(
                    "FD101",
                    "framework-edit",
                    Severity::Error,
                    &format!("f{i:02}.py"),
                    &format!("{i:016x}"),
                )
            })
            .chain((0..2).map(|i| {
                finding(
                    "FD102",
                    "connector-modified",
                    Severity::Warning,
                    &format!("w{i}.py"),
                    &format!("w{i:015x}"),
                )
            }))
            .collect();
        let mut c: Comparison = compare(&[], &head, &[], "2025-01-01");
        c.warnings.push("baseline entry x matches nothing".into());
        let out = text(&sample(c, Severity::Error), STEP_LIMIT);
        assert_eq!(
            out.lines().filter(|l| l.starts_with("::error ")).count(),
            10
        );
        assert_eq!(
            out.lines().filter(|l| l.starts_with("::warning ")).count(),
            3
        );
        assert!(out.contains("::warning file=.forkdrift.toml,title=forkdrift baseline::baseline entry x matches nothing"));
        assert!(
            out.contains(
                "forkdrift: 3 findings not annotated (GitHub shows 10 of each severity per step"
            ),
            "{out}"
        );
        for i in 10..13 {
            assert!(
                out.contains(&format!("  error FD101 f{i}.py: framework-edit at f{i}.py")),
                "{out}"
            );
        }
        assert!(
            out.lines()
                .last()
                .unwrap()
                .contains("13 errors, 2 warnings, 0 notes")
        );
    }
}
