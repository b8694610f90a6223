//! The views of `plan`, `candidates` and the upstream bookkeeping section.

use super::*;

/// `forkdrift plan`: the header, then each hop with what it takes.
pub fn plan(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    header(report, "plan", out, style)?;
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
    let common = plan.common_checklist();
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
            "\n{} {} {} · {} · {}",
            style.bold(&format!("{}.", number + 1)),
            style.bold(&hop.version),
            style.dim(&format!("({})", hop.name)),
            protocol,
            crate::render::hop_conflicts(
                hop.conflicts,
                hop.fork_conflicts,
                hop.merge_error.as_ref()
            ),
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
            for note in notes.iter().take(crate::render::SHOWN_RELEASE_NOTES) {
                let mark = if note.breaking {
                    style.severity(Severity::Warning, "breaking ")
                } else {
                    String::new()
                };
                writeln!(out, "     - {mark}{}", note.text)?;
            }
            if let Some(more) =
                crate::render::left_out(notes.len(), crate::render::SHOWN_RELEASE_NOTES)
            {
                writeln!(out, "     - … and {more} more (`--format json` lists them)")?;
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
        // One line per upstream commit: a PR branch of nineteen commits is one piece of work.
        for found in &report.already_upstream {
            let own = match found.commits.as_slice() {
                [] | [_] => format!(
                    "{} {} is",
                    style.dim(short(&found.commit)),
                    subject(&found.commit)
                ),
                many => format!("{} commits of this branch are", many.len()),
            };
            let theirs = format!(
                "{} {}",
                short(&found.upstream_commit),
                found.upstream_subject
            );
            writeln!(
                out,
                "  {own} upstream as {}  {}",
                theirs.trim_end(),
                style.dim(&format!("({})", found.method))
            )?;
            if !found.in_target {
                writeln!(
                    out,
                    "    {}",
                    style.dim(&format!(
                        "not in {} yet: upgrading to it does not bring this",
                        report.target.name
                    ))
                )?;
            }
            if !found.also_in.is_empty() {
                let copies: Vec<String> = found
                    .also_in
                    .iter()
                    .map(|c| format!("{} ({})", short(&c.commit), c.reference))
                    .collect();
                writeln!(
                    out,
                    "    {}",
                    style.dim(&format!("also in {}", copies.join(", ")))
                )?;
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
                            ", on {} of the upgrade",
                            plural(
                                candidate.removes_conflicts,
                                "conflicted path",
                                "conflicted paths"
                            )
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
            if !edit.at_target.is_empty() {
                writeln!(
                    out,
                    "    {} upstream moved it; after the upgrade the copy belongs at:",
                    style.severity(Severity::Warning, "at the target:")
                )?;
                for [from, to] in &edit.at_target {
                    writeln!(out, "    {from} → {to}")?;
                }
            }
        }
    }
    Ok(())
}

/// `forkdrift candidates`: the header, then the bookkeeping sections and the notes.
pub fn candidates(report: &Report, out: &mut dyn Write, style: &Style) -> io::Result<()> {
    header(report, "candidates", out, style)?;
    bookkeeping(report, out, style)?;
    if report.pr_candidates.is_empty() {
        writeln!(
            out,
            "\nNo pull-request candidates: no self-contained framework fix applies cleanly to the target."
        )?;
    }
    super::notes(report, out, style)?;
    Ok(())
}
