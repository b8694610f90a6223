//! The report for a person at a terminal: counts first, then what to act on, then the
//! conflicts of the next upgrade (fork-caused first), then every change grouped by class.

mod views;

pub use views::{bookkeeping, candidates, plan};

use super::{SHOWN_NOTES, Style, left_out, plural, quote_path};
use crate::model::*;
use std::collections::HashSet;
use std::io::{self, Write};

/// A conflict's own commits a screen lists; `--all` lists every one.
const SHOWN_CONFLICT_COMMITS: usize = 10;

pub(super) fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

pub(super) fn status_letter(status: Status) -> &'static str {
    match status {
        Status::Added => "A",
        Status::Modified => "M",
        Status::Deleted => "D",
        Status::Renamed => "R",
        Status::TypeChanged => "T",
    }
}

pub(super) fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Fork => "fork",
        Origin::Upstream => "upstream",
        Origin::Both => "both",
    }
}

/// A side's conflicting regions: `56`, `13-14`, and `empty after line 4` for a region where
/// that side has no lines; `, ` between regions.
pub(super) fn ranges(list: &[[u64; 2]]) -> String {
    list.iter()
        .map(|[a, b]| {
            if a == b {
                a.to_string()
            } else if b < a {
                format!("empty after line {b}")
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn render(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    header(report, "audit", out, style)?;
    act_on(report, out, style)?;
    conflicts(report, out, style)?;
    hops(report, out, style)?;
    copies(report, out, style)?;
    bookkeeping(report, out, style)?;
    deps_section(report, out, style)?;
    pins_section(report, out, style)?;
    changes(report, out, style)?;
    notes(report, out, style)?;
    writeln!(
        out,
        "\n{}",
        style.dim("`forkdrift explain PATH` tells which rule decided a path's class.")
    )?;
    Ok(())
}

/// The report's notes: the first [`SHOWN_NOTES`] of them, or all with `--all`.
pub fn notes(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    if report.notes.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{}", style.bold("Remarks"))?;
    let shown = if style.all { usize::MAX } else { SHOWN_NOTES };
    for note in report.notes.iter().take(shown) {
        writeln!(out, "  {note}")?;
    }
    if let Some(more) = left_out(report.notes.len(), shown) {
        writeln!(
            out,
            "  {}",
            style.dim(&format!(
                "… and {} (`--all` or `--format json` lists them all)",
                plural(more, "more remark", "more remarks")
            ))
        )?;
    }
    Ok(())
}

/// The lines every view opens with, named after the command that wrote it.
pub fn header(
    report: &Report,
    command: &str,
    out: &mut dyn Write,
    style: &Style,
) -> io::Result<()> {
    let summary = &report.summary;
    writeln!(
        out,
        "{} {}",
        style.bold(&format!("forkdrift {command}")),
        style.dim(&format!("· rule pack {}", report.pack))
    )?;
    writeln!(
        out,
        "fork    {} {} · {} · fork point {}",
        report.fork.name,
        style.dim(short(&report.fork.commit)),
        plural(summary.own_commits, "own commit", "own commits"),
        short(&report.fork_point)
    )?;
    writeln!(
        out,
        "target  {} {} · merge-base {}",
        report.target.name,
        style.dim(short(&report.target.commit)),
        short(&report.merge_base)
    )?;
    writeln!(out)?;
    let classes: Vec<String> = summary
        .by_class
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(class, n)| format!("{n} {class}"))
        .collect();
    let classes = if classes.is_empty() {
        String::new()
    } else {
        format!(": {}", classes.join(" · "))
    };
    writeln!(
        out,
        "{}, {} divergent{}",
        plural(summary.changes, "changed path", "changed paths"),
        summary.divergent,
        classes
    )?;
    let origins: Vec<String> = summary
        .by_origin
        .iter()
        .map(|(o, n)| format!("{n} {o}"))
        .collect();
    if !origins.is_empty() {
        writeln!(out, "origin: {}", origins.join(" · "))?;
    }
    let count = |s: &str| summary.findings.get(s).copied().unwrap_or(0);
    writeln!(
        out,
        "findings: {} · {} · {}",
        style.count(
            Severity::Error,
            count("error"),
            &plural(count("error"), "error", "errors")
        ),
        style.count(
            Severity::Warning,
            count("warning"),
            &plural(count("warning"), "warning", "warnings")
        ),
        plural(count("note"), "note", "notes")
    )?;
    writeln!(
        out,
        "next upgrade: {} ({} caused by the fork) · {} · risk {}/100",
        plural(summary.conflicts, "conflict", "conflicts"),
        summary.fork_conflicts,
        plural(summary.orphaned, "orphaned file", "orphaned files"),
        report.risk.score
    )?;
    if let Some(protocol) = &report.protocol {
        writeln!(
            out,
            "protocol: {}{}",
            protocol.verdict,
            if protocol.accepted { " (accepted)" } else { "" }
        )?;
        for warning in &protocol.warnings {
            writeln!(out, "  {}", warning_line(warning))?;
        }
    }
    let settled = summary.own_commits_already_upstream;
    if settled > 0 {
        writeln!(
            out,
            "already upstream: {} (not counted as divergence)",
            plural(settled, "own commit", "own commits")
        )?;
    }
    Ok(())
}

pub(super) fn act_on(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    let actionable: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .collect();
    if actionable.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{}", style.bold("Act on these"))?;
    // A help said once is not said again: op-geth's 104 framework edits share one.
    let mut said: HashSet<&str> = HashSet::new();
    for finding in actionable {
        let help = finding.help.as_deref().filter(|h| said.insert(h));
        finding_row(out, style, finding, help)?;
    }
    Ok(())
}

/// A finding as "Act on these" lists it: severity, id, message, and `help` beneath.
pub(super) fn finding_row(
    out: &mut dyn Write,
    style: &Style,
    finding: &Finding,
    help: Option<&str>,
) -> io::Result<()> {
    let label = format!("{:<7}", finding.severity.as_str());
    writeln!(
        out,
        "  {} {} {}",
        style.severity(finding.severity, &label),
        style.dim(&finding.id),
        finding.message
    )?;
    if let Some(help) = help {
        writeln!(out, "          {} {help}", style.dim("help:"))?;
    }
    Ok(())
}

pub(super) fn conflicts(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    if report.conflicts.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\n{}",
        style.bold("Conflicts of the next upgrade (git merge-ort)")
    )?;
    for conflict in &report.conflicts {
        // A fork-side conflict on work upstream already has is resolved by taking the
        // target's side: it is not the fork's to carry, as the header's count says.
        let label = if conflict.already_upstream {
            "settled"
        } else {
            origin_name(conflict.cause)
        };
        let cause = format!("{label:<8}");
        let cause = if conflict.is_fork_caused() {
            style.severity(Severity::Warning, &cause)
        } else {
            style.dim(&cause)
        };
        write!(
            out,
            "  {cause} {:<14} {}",
            conflict.kind,
            quote_path(&conflict.path)
        )?;
        if conflict.already_upstream {
            write!(out, "  (already upstream: take the target's side)")?;
        }
        if !conflict.ours_lines.is_empty() {
            write!(
                out,
                "  ours {} · theirs {}",
                ranges(&conflict.ours_lines),
                ranges(&conflict.theirs_lines)
            )?;
        }
        writeln!(out)?;
        // A long-lived fork's conflict can hold the lines of dozens of its merges from
        // upstream (op-geth's internal/ethapi/api.go: about 40): a screen shows the first.
        let shown = if style.all {
            conflict.commits.len()
        } else {
            SHOWN_CONFLICT_COMMITS
        };
        for commit in conflict.commits.iter().take(shown) {
            let subject = report
                .own_commits
                .iter()
                .find(|c| &c.commit == commit)
                .map_or("", |c| c.subject.as_str());
            writeln!(out, "           {} {}", style.dim(short(commit)), subject)?;
        }
        if let Some(more) = left_out(conflict.commits.len(), shown) {
            writeln!(
                out,
                "           {}",
                style.dim(&format!(
                    "… and {more} more (--all, or --format json, lists them)"
                ))
            )?;
        }
    }
    Ok(())
}

pub(super) fn hops(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    if report.hops.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{}", style.bold("Upgrade hops, one minor at a time"))?;
    writeln!(
        out,
        "  {:<14} {:<24} {:>9} {:>6} {:>5}  protocol",
        "version", "ref", "conflicts", "fork", "risk"
    )?;
    for hop in &report.hops {
        let [conflicts, fork] =
            crate::render::hop_counts(hop.conflicts, hop.fork_conflicts, hop.merge_error.as_ref());
        writeln!(
            out,
            "  {:<14} {:<24} {:>9} {:>6} {:>5}  {}",
            hop.version,
            hop.name,
            conflicts,
            fork,
            hop.risk.score,
            protocol_cell(hop)
        )?;
    }
    Ok(())
}

pub(super) fn copies(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    let copies: Vec<&Change> = report
        .changes
        .iter()
        .filter(|c| c.copied_from.is_some())
        .collect();
    if copies.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{}", style.bold("Copied and renamed from upstream"))?;
    for change in copies {
        let from = change.copied_from.as_ref().expect("filtered");
        writeln!(
            out,
            "  {}  ← {} ({} {:.0} %)",
            quote_path(&change.path),
            quote_path(&from.path),
            from.unit,
            from.similarity * 100.0
        )?;
    }
    Ok(())
}

pub(super) fn changes(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    if report.changes.is_empty() {
        writeln!(out, "\nThe fork changes nothing the target lacks.")?;
        return Ok(());
    }
    // The fork's divergence by class, counted as the summary counts it; upstream's own
    // changes (backports on a release branch) and work upstream already has fold into one
    // line unless `--all`.
    let shown = |c: &&Change| style.all || c.is_divergent();
    writeln!(out, "\n{}", style.bold("Changes by class"))?;
    for class in ChangeClass::ALL {
        let group: Vec<&Change> = report
            .changes
            .iter()
            .filter(|c| c.class == class)
            .filter(shown)
            .collect();
        if group.is_empty() {
            continue;
        }
        writeln!(out, "  {} ({})", style.bold(class.as_str()), group.len())?;
        for change in group {
            let lines = if let Some(kind) = change.kind {
                kind.as_str().to_string()
            } else if change.binary {
                "binary".to_string()
            } else {
                format!("+{} -{}", change.lines_added, change.lines_deleted)
            };
            let mut extras = Vec::new();
            if let Some(unit) = &change.unit {
                extras.push(format!("unit {unit}"));
            }
            if let Some(old) = &change.old_path {
                extras.push(format!("from {}", quote_path(old)));
            }
            if !change.registers.is_empty() {
                extras.push(format!("registers {}", change.registers.join(", ")));
            }
            if let Some(target) = change.target_path.as_deref().filter(|t| *t != change.path) {
                extras.push(format!("→ {}", quote_path(target)));
            }
            if change.orphaned {
                extras.push(style.severity(Severity::Warning, "orphaned"));
            }
            if change.already_upstream {
                extras.push("already upstream".into());
            }
            if let Some(risk) = change.risk.as_ref().filter(|r| r.score > 0) {
                extras.push(format!("risk {}", risk.score));
            }
            writeln!(
                out,
                "    {} {:<8} {:<10} {}{}",
                status_letter(change.status),
                origin_name(change.origin),
                lines,
                quote_path(&change.path),
                if extras.is_empty() {
                    String::new()
                } else {
                    style.dim(&format!("  {}", extras.join(" · ")))
                }
            )?;
        }
    }
    let upstream = report
        .changes
        .iter()
        .filter(|c| c.origin == Origin::Upstream)
        .count();
    let settled = report
        .changes
        .iter()
        .filter(|c| c.origin != Origin::Upstream && c.already_upstream)
        .count();
    if !style.all && upstream + settled > 0 {
        let mut parts = Vec::new();
        if upstream > 0 {
            parts.push(format!(
                "{} changed by upstream alone (backports)",
                plural(upstream, "path", "paths")
            ));
        }
        if settled > 0 {
            parts.push(format!(
                "{} already upstream",
                plural(settled, "path", "paths")
            ));
        }
        writeln!(
            out,
            "  {}",
            style.dim(&format!(
                "+ {}, not divergence: `--all` lists them",
                parts.join(" and ")
            ))
        )?;
    }
    Ok(())
}

/// A whole-file protocol anchor that changed: worth a look, not a verdict.
pub(super) fn warning_line(warning: &crate::model::ProtocolWarning) -> String {
    // PRs in number order, each once (history order put #2115 before #2090, and a PR with
    // a backport twice); commits without a PR number after them.
    let mut prs: Vec<(u32, String)> = warning
        .commits
        .iter()
        .map(|c| match c.prs.first() {
            Some(number) => (*number, format!("#{number}")),
            None => (u32::MAX, short_id(&c.commit).to_string()),
        })
        .collect();
    prs.sort();
    prs.dedup();
    let prs: Vec<String> = prs.into_iter().map(|(_, label)| label).collect();
    format!(
        "warning: {} ({}) changed (file anchor, not part of the verdict): {}",
        warning.name,
        warning.path,
        if prs.is_empty() {
            "-".to_string()
        } else {
            prs.join(" ")
        }
    )
}

/// A hop's verdict, with the whole-file anchors that changed (they do not set it).
pub(crate) fn protocol_cell(hop: &Hop) -> String {
    let verdict = hop.protocol.as_deref().unwrap_or("-");
    if hop.protocol_warnings.is_empty() {
        verdict.to_string()
    } else {
        format!(
            "{verdict} (file changed: {})",
            hop.protocol_warnings.join(", ")
        )
    }
}

/// The coupled gems as locked; the findings about them are in "Act on these" already.
pub(super) fn deps_section(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    let Some(deps) = &report.deps else {
        return Ok(());
    };
    writeln!(
        out,
        "\n{} ({})",
        style.bold("Coupled gems"),
        quote_path(&deps.lockfile)
    )?;
    for gem in &deps.gems {
        let newest = match &gem.newest_in_series {
            Some(newest) if *newest != gem.version => format!("newest of {}: {newest}", gem.series),
            Some(_) => "newest of its series".to_string(),
            None => String::new(),
        };
        let mut source = gem.source.clone();
        if let Some(old) = &gem.locked_as {
            source.push_str(&format!(", locked as {old}"));
        }
        if !gem.platforms.is_empty() {
            source.push_str(&format!(", also {}", gem.platforms.join(", ")));
        }
        writeln!(
            out,
            "  {:<16} {:<12} {:<24} {}",
            gem.name,
            gem.version,
            newest,
            style.dim(&source)
        )?;
    }
    let problems = report
        .findings
        .iter()
        .filter(|f| deps.findings.contains(&f.fingerprint))
        .count();
    if problems == 0 {
        writeln!(out, "  in step")?;
    } else {
        writeln!(
            out,
            "  {}; move them together: {}",
            plural(problems, "finding", "findings"),
            deps.command
        )?;
    }
    Ok(())
}

/// `forkdrift deps`: the header, the coupled gems, the pins the fork changed and the findings
/// about them.
pub fn deps(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    header(report, "deps", out, style)?;
    if report.deps.is_none() && report.pins.is_empty() {
        writeln!(
            out,
            "\nNo dependencies to check: the rule pack `{}` declares no [deps] and the fork changed no pin it watches, or the fork has no lock it names.",
            report.pack
        )?;
        return Ok(());
    }
    deps_section(report, out, style)?;
    pins_section(report, out, style)?;
    for finding in report
        .findings
        .iter()
        .filter(|f| crate::model::is_dependency_finding(report, f))
    {
        finding_row(out, style, finding, finding.help.as_deref())?;
    }
    Ok(())
}

pub(super) fn pins_section(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    if report.pins.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{}", style.bold("Dependency pins the fork changed"))?;
    writeln!(
        out,
        "  {:<24} {:<14} {:<14} {:<14} file",
        "package", "upstream", "fork", "target"
    )?;
    let show = |pin: &Option<String>| match pin.as_deref() {
        None => "-".to_string(),
        Some("") => "any".to_string(),
        Some(pin) => pin.to_string(),
    };
    for pin in &report.pins {
        writeln!(
            out,
            "  {:<24} {:<14} {:<14} {:<14} {}",
            pin.package,
            show(&pin.old),
            show(&pin.fork),
            show(&pin.target),
            style.dim(&quote_path(&pin.path))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn a_protocol_warning_lists_each_pr_once_in_number_order() {
        use crate::model::{CommitRef, ProtocolWarning};
        let commit = |id: &str, subject: &str| CommitRef {
            commit: id.repeat(40 / id.len()),
            subject: subject.into(),
            prs: crate::model::pr_numbers(subject),
        };
        let warning = ProtocolWarning {
            name: "protocol module".into(),
            path: "connectors/protocol/connectors.py".into(),
            commits: vec![
                commit("a", "Sync rules (#2115)"),
                commit("b", "Index errors (#2090)"),
                commit("c", "Tidy up"),
                commit("d", "[8.14] Sync rules (#2115) (#2120)"),
            ],
        };
        assert_eq!(
            super::warning_line(&warning),
            "warning: protocol module (connectors/protocol/connectors.py) changed (file anchor, not part of the verdict): #2090 #2115 cccccccccccc"
        );
    }

    #[test]
    fn regions_read_apart_and_an_empty_side_says_where() {
        assert_eq!(ranges(&[[5, 4], [13, 14]]), "empty after line 4, 13-14");
        assert_eq!(
            ranges(&[[1, 1], [6, 6], [48, 47]]),
            "1, 6, empty after line 47"
        );
    }
}
