//! `--format markdown`: for pull-request comments and periodic divergence reports.

use super::{SHOWN_NOTES, plural, quote_path};
use crate::model::Refused;
use crate::model::*;
use std::io::{self, Write};

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A path in a table cell: quoted as git quotes it, so a newline cannot break the row.
fn path_cell(path: &str) -> String {
    cell(&quote_path(path))
}

/// The report; a refusal by the protocol gate comes first, with everything the terminal's
/// diagnostic says.
pub fn render(report: &Report, refusal: Option<&Refused>, out: &mut dyn Write) -> io::Result<()> {
    let summary = &report.summary;
    // A plan is the audit with its hops: the heading says which the reader has.
    let command = if report.plan.is_some() {
        "plan"
    } else {
        "audit"
    };
    writeln!(
        out,
        "## forkdrift {command}: `{}` against `{}`\n",
        report.fork.name, report.target.name
    )?;
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(
        out,
        "| fork | `{}` ({}) |",
        short(&report.fork.commit),
        plural(summary.own_commits, "own commit", "own commits")
    )?;
    writeln!(out, "| target | `{}` |", short(&report.target.commit))?;
    writeln!(
        out,
        "| merge-base / fork point | `{}` / `{}` |",
        short(&report.merge_base),
        short(&report.fork_point)
    )?;
    writeln!(out, "| rule pack | {} |", report.pack)?;
    let classes: Vec<String> = summary
        .by_class
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| format!("{n} {c}"))
        .collect();
    writeln!(
        out,
        "| changed paths | {}, {} divergent ({}) |",
        summary.changes,
        summary.divergent,
        classes.join(", ")
    )?;
    let count = |s: &str| summary.findings.get(s).copied().unwrap_or(0);
    writeln!(
        out,
        "| findings | {}, {}, {} |",
        plural(count("error"), "error", "errors"),
        plural(count("warning"), "warning", "warnings"),
        plural(count("note"), "note", "notes")
    )?;
    writeln!(
        out,
        "| next upgrade | {} ({} caused by the fork), {} orphaned, risk {}/100 |",
        plural(summary.conflicts, "conflict", "conflicts"),
        summary.fork_conflicts,
        summary.orphaned,
        report.risk.score
    )?;
    if let Some(protocol) = &report.protocol {
        writeln!(
            out,
            "| protocol | {}{} |",
            protocol.verdict,
            if protocol.accepted { " (accepted)" } else { "" }
        )?;
    }
    if let Some(refused) = refusal {
        let refusal = super::text::refusal(refused);
        writeln!(
            out,
            "\n### Refused: upgrading {}\n\nThe protocol changed in substance:\n\n```\n{}\n```\n\n**What to do:** {}",
            refusal.what, refusal.changes, refusal.help
        )?;
    }

    if !report.findings.is_empty() {
        writeln!(
            out,
            "\n### Findings\n\n| severity | rule | path | message |\n|---|---|---|---|"
        )?;
        for f in &report.findings {
            writeln!(
                out,
                "| {} | {} | `{}` | {} |",
                f.severity.as_str(),
                f.id,
                path_cell(&f.path),
                cell(&f.message)
            )?;
        }
    }
    if !report.conflicts.is_empty() {
        writeln!(
            out,
            "\n### Conflicts of the next upgrade\n\n| cause | kind | path | own commits |\n|---|---|---|---|"
        )?;
        for c in &report.conflicts {
            let commits: Vec<String> = c
                .commits
                .iter()
                .map(|id| format!("`{}`", short(id)))
                .collect();
            let cause = match c.cause {
                Origin::Fork => "fork",
                Origin::Upstream => "upstream",
                Origin::Both => "both",
            };
            writeln!(
                out,
                "| {cause} | {} | `{}` | {} |",
                c.kind,
                path_cell(&c.path),
                commits.join(" ")
            )?;
        }
    }
    if !report.hops.is_empty() {
        writeln!(
            out,
            "\n### Upgrade hops\n\n| version | ref | conflicts | fork-caused | risk | protocol |\n|---|---|---|---|---|---|"
        )?;
        for h in &report.hops {
            let [conflicts, fork] =
                super::hop_counts(h.conflicts, h.fork_conflicts, h.merge_error.as_ref());
            writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} |",
                h.version,
                h.name,
                conflicts,
                fork,
                h.risk.score,
                super::terminal::protocol_cell(h)
            )?;
        }
    }
    if !report.already_upstream.is_empty() {
        writeln!(
            out,
            "\n### Already upstream\n\n| own commits | upstream commit | also in | method |\n|---|---|---|---|"
        )?;
        // One row per upstream commit (a squash-merged PR), not one per own commit.
        for a in &report.already_upstream {
            let own = match a.commits.as_slice() {
                [] => format!("`{}`", short(&a.commit)),
                [one] => format!("`{}`", short(one)),
                many => format!(
                    "{} commits (`{}` … `{}`)",
                    many.len(),
                    short(&many[many.len() - 1]),
                    short(&many[0])
                ),
            };
            let also: Vec<String> = a
                .also_in
                .iter()
                .map(|c| format!("`{}` {}", short(&c.commit), cell(&c.reference)))
                .collect();
            writeln!(
                out,
                "| {own} | `{}` {} | {} | {} |",
                short(&a.upstream_commit),
                cell(&a.upstream_subject),
                also.join(", "),
                a.method
            )?;
        }
    }
    if !report.pr_candidates.is_empty() {
        writeln!(
            out,
            "\n### Send upstream\n\n| rank | kind | title | commits | applies |\n|---|---|---|---|---|"
        )?;
        for p in &report.pr_candidates {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                p.rank,
                p.kind,
                cell(&p.title),
                p.commits.len(),
                if p.applies_cleanly { "yes" } else { "no" }
            )?;
        }
    }
    if !report.stale_copies.is_empty() {
        writeln!(
            out,
            "\n### Copies missing upstream fixes\n\n| copy | source | missing commits | broken imports |\n|---|---|---|---|"
        )?;
        for s in &report.stale_copies {
            let missing: Vec<String> = s.missing.iter().map(|c| cell(&c.subject)).collect();
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                s.unit,
                s.source_unit,
                missing.join("<br>"),
                s.broken_imports.join(", ")
            )?;
        }
    }
    if !report.in_place_edits.is_empty() {
        writeln!(
            out,
            "\n### Instead of editing upstream connectors in place\n"
        )?;
        for edit in &report.in_place_edits {
            writeln!(out, "- copy `{}` to `{}`:", edit.unit, edit.suggested_unit)?;
            for [from, to] in edit.files.iter().chain(&edit.tests) {
                writeln!(out, "  - `{from}` → `{to}`")?;
            }
            if let Some(line) = &edit.registration {
                writeln!(out, "  - register: `{}`", line.trim())?;
            }
            if !edit.at_target.is_empty() {
                writeln!(
                    out,
                    "  - upstream moved it; after the upgrade the copy belongs at:"
                )?;
                for [from, to] in &edit.at_target {
                    writeln!(out, "    - `{from}` → `{to}`")?;
                }
            }
        }
    }
    if let Some(deps) = &report.deps {
        deps_section(deps, out)?;
    }
    if !report.pins.is_empty() {
        writeln!(
            out,
            "\n### Dependency pins the fork changed\n\n| package | upstream | fork | target | file |\n|---|---|---|---|---|"
        )?;
        for pin in &report.pins {
            let show = |p: &Option<String>| cell(p.as_deref().unwrap_or("-"));
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&pin.package),
                show(&pin.old),
                show(&pin.fork),
                show(&pin.target),
                path_cell(&pin.path)
            )?;
        }
    }
    if let Some(plan) = &report.plan {
        plan_section(plan, out)?;
    }

    writeln!(
        out,
        "\n<details><summary>{} changed paths</summary>\n",
        summary.changes
    )?;
    writeln!(
        out,
        "| path | class | unit | origin | lines | copied from | at target |\n|---|---|---|---|---|---|---|"
    )?;
    for c in &report.changes {
        let origin = match c.origin {
            Origin::Fork => "fork",
            Origin::Upstream => "upstream",
            Origin::Both => "both",
        };
        let lines = if let Some(kind) = c.kind {
            kind.as_str().into()
        } else if c.binary {
            "binary".into()
        } else {
            format!("+{} -{}", c.lines_added, c.lines_deleted)
        };
        let copied = c
            .copied_from
            .as_ref()
            .map(|f| format!("`{}` ({:.2})", path_cell(&f.path), f.similarity))
            .unwrap_or_default();
        let mut target = c
            .target_path
            .as_deref()
            .map(|t| format!("`{}`", path_cell(t)))
            .unwrap_or_default();
        if c.orphaned {
            target.push_str(" **orphaned**");
        }
        writeln!(
            out,
            "| `{}` | {} | {} | {origin} | {lines} | {copied} | {target} |",
            path_cell(&c.path),
            c.class.as_str(),
            c.unit.as_deref().unwrap_or("")
        )?;
    }
    writeln!(out, "\n</details>")?;
    if !report.notes.is_empty() {
        writeln!(out, "\n### Remarks\n")?;
        // A deep fork has a note per framework commit that does not apply to the target: the
        // rest fold away, as the changes table does.
        let (first, rest) = report.notes.split_at(report.notes.len().min(SHOWN_NOTES));
        for note in first {
            writeln!(out, "- {}", cell(note))?;
        }
        if !rest.is_empty() {
            writeln!(out, "\n<details><summary>{} more</summary>\n", rest.len())?;
            for note in rest {
                writeln!(out, "- {}", cell(note))?;
            }
            writeln!(out, "\n</details>")?;
        }
    }
    Ok(())
}

fn plan_section(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "\n### Upgrade plan from {}, one minor at a time\n",
        plan.from_version.as_deref().unwrap_or("the fork point")
    )?;
    writeln!(
        out,
        "| # | version | ref | protocol | conflicts | fork-caused |\n|---|---|---|---|---|---|"
    )?;
    for (number, hop) in plan.hops.iter().enumerate() {
        let protocol = if hop.needs_acceptance {
            format!("**{} — needs acceptance**", hop.protocol)
        } else {
            hop.protocol.clone()
        };
        let [conflicts, fork] =
            super::hop_counts(hop.conflicts, hop.fork_conflicts, hop.merge_error.as_ref());
        writeln!(
            out,
            "| {} | {} | `{}` | {protocol} | {conflicts} | {fork} |",
            number + 1,
            hop.version,
            hop.name,
        )?;
    }
    let mut seen_notes = std::collections::HashSet::new();
    let common = plan.common_checklist();
    for hop in &plan.hops {
        writeln!(out, "\n#### {}\n", hop.version)?;
        if let Some(report) = &hop.protocol_report {
            for anchor in report.anchors.iter().filter(|a| !a.changes.is_empty()) {
                for change in &anchor.changes {
                    let mut about: Vec<String> =
                        change.commits.iter().filter_map(|c| c.pr_label()).collect();
                    if let Some(release) = &change.first_release {
                        about.push(format!("first released in {release}"));
                    }
                    let about = if about.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", about.join(", "))
                    };
                    writeln!(
                        out,
                        "- protocol ({}): `{}`{about}",
                        anchor.name, change.detail
                    )?;
                }
            }
        }
        let notes: Vec<&ReleaseNote> = hop
            .notes
            .iter()
            .filter(|n| seen_notes.insert(n.text.clone()))
            .collect();
        if !notes.is_empty() {
            writeln!(out, "Release notes that matter:\n")?;
        }
        for note in notes.iter().take(super::SHOWN_RELEASE_NOTES) {
            writeln!(
                out,
                "- {}{}",
                if note.breaking { "**breaking** " } else { "" },
                cell(&note.text)
            )?;
        }
        if let Some(more) = super::left_out(notes.len(), super::SHOWN_RELEASE_NOTES) {
            writeln!(out, "- … and {more} more (`--format json` lists them)")?;
        }
        for item in hop.checklist.iter().filter(|i| !common.contains(i)) {
            writeln!(out, "\n**First:** {item}")?;
        }
    }
    if !common.is_empty() {
        writeln!(out, "\n#### Checklist for each hop\n")?;
        for (step, item) in common.iter().enumerate() {
            writeln!(out, "{}. {}", step + 1, item)?;
        }
    }
    if let Some(version) = &plan.stopped_at {
        writeln!(
            out,
            "\n**The plan stops at {version}: its protocol changed and has not been accepted.**"
        )?;
    }
    Ok(())
}

fn deps_section(deps: &Deps, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\n### Coupled gems ({})\n", path_cell(&deps.lockfile))?;
    writeln!(
        out,
        "| gem | locked | series | newest of the series upstream | source |\n|---|---|---|---|---|"
    )?;
    for gem in &deps.gems {
        let mut source = gem.source.clone();
        if let Some(old) = &gem.locked_as {
            source.push_str(&format!(", locked as `{old}`"));
        }
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&gem.name),
            cell(&gem.version),
            gem.series,
            gem.newest_in_series.as_deref().unwrap_or(""),
            cell(&source)
        )?;
    }
    if !deps.findings.is_empty() {
        writeln!(out, "\nMove them together: `{}`", deps.command)?;
    }
    Ok(())
}
