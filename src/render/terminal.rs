//! The report for a person at a terminal: counts first, then what to act on, then the
//! conflicts of the next upgrade (fork-caused first), then every change grouped by class.

use super::{Style, plural, quote_path};
use crate::model::*;
use std::io::{self, Write};

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn status_letter(status: Status) -> &'static str {
    match status {
        Status::Added => "A",
        Status::Modified => "M",
        Status::Deleted => "D",
        Status::Renamed => "R",
        Status::TypeChanged => "T",
    }
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Fork => "fork",
        Origin::Upstream => "upstream",
        Origin::Both => "both",
    }
}

fn ranges(list: &[[u64; 2]]) -> String {
    list.iter()
        .map(|[a, b]| {
            if a == b {
                a.to_string()
            } else if b < a {
                format!("after {b}")
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub fn render(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    header(report, out, style)?;
    act_on(report, out, style)?;
    conflicts(report, out, style)?;
    hops(report, out, style)?;
    copies(report, out, style)?;
    bookkeeping(report, out, style)?;
    deps_section(report, out, style)?;
    pins_section(report, out, style)?;
    changes(report, out, style)?;
    if !report.notes.is_empty() {
        writeln!(out, "\n{}", style.bold("Notes"))?;
        for note in &report.notes {
            writeln!(out, "  {note}")?;
        }
    }
    writeln!(
        out,
        "\n{}",
        style.dim("`forkdrift explain PATH` tells which rule decided a path's class.")
    )?;
    Ok(())
}

pub fn header(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    let summary = &report.summary;
    writeln!(
        out,
        "{} {}",
        style.bold("forkdrift audit"),
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
    let settled = report
        .own_commits
        .iter()
        .filter(|c| c.already_upstream)
        .count();
    if settled > 0 {
        writeln!(
            out,
            "already upstream: {} (not counted as divergence)",
            plural(settled, "own commit", "own commits")
        )?;
    }
    Ok(())
}

fn act_on(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    let actionable: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .collect();
    if actionable.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{}", style.bold("Act on these"))?;
    for finding in actionable {
        let label = format!("{:<7}", finding.severity.as_str());
        writeln!(
            out,
            "  {} {} {}",
            style.severity(finding.severity, &label),
            style.dim(&finding.id),
            finding.message
        )?;
        if let Some(help) = &finding.help {
            writeln!(out, "          {} {help}", style.dim("help:"))?;
        }
    }
    Ok(())
}

fn conflicts(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
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
        for commit in &conflict.commits {
            let subject = report
                .own_commits
                .iter()
                .find(|c| &c.commit == commit)
                .map_or("", |c| c.subject.as_str());
            writeln!(out, "           {} {}", style.dim(short(commit)), subject)?;
        }
    }
    Ok(())
}

fn hops(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
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
        writeln!(
            out,
            "  {:<14} {:<24} {:>9} {:>6} {:>5}  {}",
            hop.version,
            hop.name,
            hop.conflicts,
            hop.fork_conflicts,
            hop.risk.score,
            protocol_cell(hop)
        )?;
    }
    Ok(())
}

fn copies(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
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

fn changes(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
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

/// `forkdrift plan`: the header, then each hop with what it takes.
pub fn plan(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    header(report, out, style)?;
    deps_section(report, out, style)?;
    let Some(plan) = &report.plan else {
        return Ok(());
    };
    writeln!(
        out,
        "\n{} from {} to {}, one minor at a time",
        style.bold("Upgrade plan"),
        plan.from_version.as_deref().unwrap_or("the fork point"),
        report.target.name
    )?;
    let mut seen_notes = std::collections::HashSet::new();
    // The steps every hop shares print once, after the hops; a hop lists only its own.
    let common: Vec<&String> = plan.hops.first().map_or(Vec::new(), |first| {
        first
            .checklist
            .iter()
            .filter(|item| plan.hops.iter().all(|h| h.checklist.contains(item)))
            .collect()
    });
    for (number, hop) in plan.hops.iter().enumerate() {
        let protocol = match hop.protocol.as_str() {
            "schema" if hop.needs_acceptance => {
                style.severity(Severity::Error, "protocol changed — needs acceptance")
            }
            "schema" => "protocol changed — accepted".to_string(),
            "prose" => "protocol prose only".to_string(),
            _ => "protocol unchanged".to_string(),
        };
        writeln!(
            out,
            "\n{} {} {} · {} · {} ({} caused by the fork)",
            style.bold(&format!("{}.", number + 1)),
            style.bold(&hop.version),
            style.dim(&format!("({})", hop.name)),
            protocol,
            plural(hop.conflicts, "conflict", "conflicts"),
            hop.fork_conflicts
        )?;
        if let Some(report) = &hop.protocol_report {
            for warning in &report.warnings {
                writeln!(out, "     {}", warning_line(warning))?;
            }
            for anchor in report.anchors.iter().filter(|a| !a.changes.is_empty()) {
                for change in &anchor.changes {
                    let prs: Vec<String> = change
                        .commits
                        .iter()
                        .flat_map(|c| c.prs.first().map(|n| format!("#{n}")))
                        .collect();
                    // A constant's name says little without the anchor it belongs to.
                    let detail = if anchor.kind == "values" {
                        format!("{}: {}", anchor.name, change.detail)
                    } else {
                        change.detail.clone()
                    };
                    let mut about = prs.join(" ");
                    if let Some(release) = &change.first_release {
                        about.push_str(&format!(" first released in {release}"));
                    }
                    writeln!(out, "     {detail}  {}", style.dim(about.trim()))?;
                }
            }
        }
        // A note reached from several hops (the same PR on two release branches) shows once.
        let notes: Vec<&ReleaseNote> = hop
            .notes
            .iter()
            .filter(|n| seen_notes.insert(n.text.clone()))
            .collect();
        if !notes.is_empty() {
            writeln!(out, "   release notes that matter:")?;
            for note in notes {
                let mark = if note.breaking {
                    style.severity(Severity::Warning, "breaking ")
                } else {
                    String::new()
                };
                writeln!(out, "     - {mark}{}", note.text)?;
            }
        }
        for item in hop.checklist.iter().filter(|i| !common.contains(i)) {
            writeln!(out, "   first: {item}")?;
        }
    }
    if !common.is_empty() {
        writeln!(out, "\n{}", style.bold("Checklist for each hop"))?;
        for (step, item) in common.iter().enumerate() {
            writeln!(out, "  {}. {item}", step + 1)?;
        }
    }
    if let Some(version) = &plan.stopped_at {
        writeln!(
            out,
            "\n{} the plan stops at {version}: its protocol changed and has not been accepted.",
            style.severity(Severity::Error, "stop:")
        )?;
    }
    Ok(())
}

/// What upstream already has, what it should get, what the copies miss, what to do instead of
/// editing in place.
pub fn bookkeeping(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    let subject = |id: &str| {
        report
            .own_commits
            .iter()
            .find(|c| c.commit == id)
            .map_or("", |c| c.subject.as_str())
    };
    if !report.already_upstream.is_empty() {
        writeln!(
            out,
            "\n{}",
            style.bold("Already upstream (not counted as divergence)")
        )?;
        for found in &report.already_upstream {
            for (index, commit) in found.commits.iter().enumerate() {
                let line = format!("  {} {}", style.dim(short(commit)), subject(commit));
                if index == 0 {
                    let how = format!("{} in {}", found.method, short(&found.upstream_commit));
                    writeln!(out, "{line}  {}", style.dim(&format!("← {how}")))?;
                } else {
                    writeln!(out, "{line}")?;
                }
            }
        }
    }
    if !report.pr_candidates.is_empty() {
        writeln!(out, "\n{}", style.bold("Send upstream as pull requests"))?;
        for candidate in &report.pr_candidates {
            writeln!(
                out,
                "  {}. {} {}",
                candidate.rank,
                candidate.title,
                style.dim(&format!(
                    "({}, {}, {}{})",
                    candidate.kind,
                    plural(candidate.commits.len(), "commit", "commits"),
                    if candidate.has_tests {
                        "with tests"
                    } else {
                        "no tests"
                    },
                    if candidate.removes_conflicts > 0 {
                        format!(
                            ", removes {}",
                            plural(candidate.removes_conflicts, "conflict", "conflicts")
                        )
                    } else {
                        String::new()
                    }
                ))
            )?;
        }
        writeln!(
            out,
            "  {}",
            style.dim(
                "`forkdrift candidates --export DIR` writes them as patch series for `git am`."
            )
        )?;
    }
    if !report.stale_copies.is_empty() {
        writeln!(out, "\n{}", style.bold("Copies missing upstream fixes"))?;
        for copy in &report.stale_copies {
            writeln!(out, "  {} (copy of {}):", copy.unit, copy.source_unit)?;
            for commit in &copy.missing {
                writeln!(
                    out,
                    "    {} {}",
                    style.dim(short(&commit.commit)),
                    commit.subject
                )?;
            }
            for import in &copy.broken_imports {
                writeln!(
                    out,
                    "    {} {import}",
                    style.severity(Severity::Warning, "import gone at the target:")
                )?;
            }
        }
    }
    if !report.in_place_edits.is_empty() {
        writeln!(
            out,
            "\n{}",
            style.bold("Instead of editing upstream connectors in place")
        )?;
        for edit in &report.in_place_edits {
            writeln!(out, "  copy `{}` to `{}`:", edit.unit, edit.suggested_unit)?;
            for [from, to] in edit.files.iter().chain(&edit.tests) {
                writeln!(out, "    {from} → {to}")?;
            }
            if let Some(line) = &edit.registration {
                writeln!(out, "    register: {line}")?;
            }
        }
    }
    Ok(())
}

/// `forkdrift candidates`: the header, then the bookkeeping sections and the notes.
pub fn candidates(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    header(report, out, style)?;
    bookkeeping(report, out, style)?;
    if report.pr_candidates.is_empty() {
        writeln!(
            out,
            "\nNo pull-request candidates: no self-contained framework fix applies cleanly to the target."
        )?;
    }
    if !report.notes.is_empty() {
        writeln!(out, "\n{}", style.bold("Notes"))?;
        for note in &report.notes {
            writeln!(out, "  {note}")?;
        }
    }
    Ok(())
}

/// A whole-file protocol anchor that changed: worth a look, not a verdict.
fn warning_line(warning: &crate::model::ProtocolWarning) -> String {
    let mut prs: Vec<String> = warning
        .commits
        .iter()
        .map(|c| {
            c.pr_label()
                .unwrap_or_else(|| short_id(&c.commit).to_string())
        })
        .collect();
    prs.dedup();
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
fn deps_section(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
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
    header(report, out, style)?;
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
        let label = format!("{:<7}", finding.severity.as_str());
        writeln!(
            out,
            "  {} {} {}",
            style.severity(finding.severity, &label),
            style.dim(&finding.id),
            finding.message
        )?;
        if let Some(help) = &finding.help {
            writeln!(out, "          {} {help}", style.dim("help:"))?;
        }
    }
    Ok(())
}

fn pins_section(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
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
