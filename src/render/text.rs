//! What the small commands print: `explain`, `rules`, `accept-protocol`, `fixture`, the
//! demo's frame, the list of exported candidates, and the refusal diagnostic.

use super::Style;
use crate::model::Refused;
use crate::model::{Acceptance, Explanation, ProtocolReport, short_id};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub fn explanation(explanation: &Explanation, style: &Style) -> String {
    let unit = explanation
        .unit
        .as_ref()
        .map(|u| format!(" (unit {u})"))
        .unwrap_or_default();
    // A path the fork left alone has no class of change: say what a change would be, not
    // that an untouched upstream connector is "modified".
    let class = match explanation.change {
        Some(_) => format!("{}{unit}", explanation.class.as_str()),
        None => format!(
            "none, unchanged{unit}; a change here would be {}",
            explanation.class.as_str()
        ),
    };
    let mut text = format!(
        "{}\n  class  {class}\n  rule   {}\n  pack   {} ({})\n",
        style.bold(&explanation.path),
        explanation.rule,
        explanation.pack,
        explanation.pack_origin,
    );
    text.push_str(&match explanation.change {
        Some(status) => {
            format!("  change {status:?} by the fork since the merge-base\n").to_lowercase()
        }
        None => "  change none: the fork leaves this path as the merge-base has it\n".into(),
    });
    for fact in &explanation.facts {
        let _ = writeln!(text, "  · {fact}");
    }
    text
}

pub fn packs(packs: &[(String, String)]) -> String {
    packs
        .iter()
        .map(|(name, description)| format!("{name:<20} {description}\n"))
        .collect()
}

pub fn pack_checked(name: &str, families: usize, zones: usize, anchors: usize) -> String {
    format!("{name}: ok — {families} unit families, {zones} zones, {anchors} protocol anchors\n")
}

pub fn accepted(acceptance: &Acceptance) -> String {
    match acceptance {
        Acceptance::NothingToAccept { target, verdict } => format!(
            "nothing to accept: the protocol verdict between the fork point and {target} is `{verdict}`\n"
        ),
        Acceptance::Already {
            target,
            fingerprint,
        } => format!(
            "the protocol of {target} is already accepted (fingerprint {})\n",
            &fingerprint[..16]
        ),
        Acceptance::Recorded {
            target,
            changes,
            fingerprint,
            file,
        } => format!(
            "accepted the protocol of {target} ({}, fingerprint {}) in {}\ncommit it, so that CI runs see the acceptance\n",
            super::plural(*changes, "schema change", "schema changes"),
            &fingerprint[..16],
            file.display()
        ),
    }
}

pub fn built(path: &Path, description: &str) -> String {
    format!("built {} ({description})\n", path.display())
}

pub fn exported(dir: &Path, written: &[PathBuf]) -> String {
    let mut text = format!("\nwrote {} files to {}:\n", written.len(), dir.display());
    for path in written {
        let _ = writeln!(text, "  {}", path.display());
    }
    text
}

/// Why the run exits 1: the findings at or above `--fail-on`, by rule.
pub fn failing(findings: &[&crate::model::Finding], fail_on: &str) -> String {
    let mut ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    format!(
        "exit 1: {} at or above --fail-on {fail_on} ({}); `--fail-on never` reports without failing\n",
        super::plural(findings.len(), "finding", "findings"),
        ids.join(", ")
    )
}

pub fn demo_header(path: &Path, kept: bool, style: &Style) -> String {
    // Without --keep the directory is gone by the time anyone reads its name.
    let place = if kept {
        format!("built in {}", path.display())
    } else {
        "built in a temporary directory".into()
    };
    format!(
        "{}\n\n",
        style.dim(&format!(
            "Demo: a fork of an elastic/connectors-shaped upstream, {place}"
        ))
    )
}

pub fn demo_footer(path: &Path, kept: bool, style: &Style) -> String {
    let kept = if kept {
        format!(
            "The demo stays in {}, its upstream beside it in ../upstream.git.",
            path.display()
        )
    } else {
        "Keep the demo repository with `forkdrift demo --keep DIR`.".into()
    };
    format!(
        "\n{}\n  cd your-fork\n  git remote add upstream https://github.com/elastic/connectors && git fetch upstream --tags\n  forkdrift audit            # or: --to upstream/9.2, --format json, --hops\n{kept}\n",
        style.bold("Run the same on your own fork:")
    )
}

/// What an upgrade refusal tells the user: each change in the protocol's own terms, who made
/// it, when it shipped, and what to do next.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("refusing to upgrade {what}: the protocol changed in substance\n{changes}")]
#[diagnostic(code(forkdrift::protocol_changed), help("{help}"))]
pub struct Refusal {
    pub what: String,
    pub changes: String,
    pub help: String,
}

pub fn refusal(refused: &Refused) -> Refusal {
    let report: &ProtocolReport = &refused.protocol;
    let mut changes = String::new();
    for anchor in report.anchors.iter().filter(|a| !a.changes.is_empty()) {
        let _ = writeln!(changes, "  {} ({}):", anchor.name, anchor.path);
        for change in &anchor.changes {
            let _ = write!(changes, "    {}", change.detail);
            let prs: Vec<String> = change.commits.iter().filter_map(|c| c.pr_label()).collect();
            if !prs.is_empty() {
                let _ = write!(changes, "  ({})", prs.join(", "));
            } else if let Some(commit) = change.commits.last() {
                let _ = write!(changes, "  ({})", short_id(&commit.commit));
            }
            if let Some(release) = &change.first_release {
                let _ = write!(changes, "  first released in {release}");
            }
            changes.push('\n');
        }
    }
    let notes = refused
        .release_notes
        .as_ref()
        .map(|url| format!("read the release notes ({url}); "))
        .unwrap_or_else(|| "read the release notes; ".into());
    Refusal {
        what: refused.what.clone(),
        changes: changes.trim_end().to_string(),
        help: format!(
            "{notes}take a snapshot of your data first; then adapt the fork and record the review: `forkdrift accept-protocol --to {} --why \"…\"` (fingerprint {})",
            refused.to,
            &report.fingerprint[..16]
        ),
    }
}

pub fn written(written: &crate::outcome::Written) -> String {
    let mut text = String::new();
    for file in &written.files {
        let _ = writeln!(text, "wrote {}", file.display());
    }
    let _ = writeln!(
        text,
        "history: {} ({} {}{})",
        written.history.display(),
        written.points,
        if written.points == 1 {
            "point"
        } else {
            "points"
        },
        if written.backfilled > 0 {
            format!(", {} computed by the backfill", written.backfilled)
        } else {
            String::new()
        }
    );
    if !written.unreachable.is_empty() {
        let _ = writeln!(
            text,
            "no point before the first commits: {}",
            written.unreachable.join(", ")
        );
    }
    if written.skipped > 0 {
        let _ = writeln!(
            text,
            "{} history lines were not readable and are kept as they are",
            written.skipped
        );
    }
    text
}

pub fn initialized(file: &Path) -> String {
    format!(
        "wrote {}: check the pack, the target and the own paths it guessed, then commit it; `forkdrift audit` reads it\n",
        file.display()
    )
}

pub fn baselined(added: usize, file: &Path) -> String {
    if added == 0 {
        return format!(
            "no new findings: {} already accepts them all\n",
            file.display()
        );
    }
    format!(
        "accepted {added} {} in {}: review the entries (`git diff`), write each reason, and commit the file\n",
        if added == 1 { "finding" } else { "findings" },
        file.display()
    )
}

/// `check` on a terminal: the verdict, then each new finding with where it stands.
pub fn check(check: &crate::check::CheckReport) -> String {
    let counts = &check.counts;
    let mut text = format!(
        "forkdrift check {} ({}..{}): {} new, {} unchanged, {} fixed, {} suppressed\n",
        check.verdict.as_str(),
        short_id(&check.base.commit),
        short_id(&check.head.commit),
        counts.new,
        counts.unchanged,
        counts.fixed,
        counts.suppressed,
    );
    for new in &check.new {
        let finding = &new.finding;
        let at = match new.lines {
            Some([first, last]) if first == last => format!("{}:{first}", finding.path),
            Some([first, last]) => format!("{}:{first}-{last}", finding.path),
            None => finding.path.clone(),
        };
        let _ = writeln!(
            text,
            "  {} {} {at}: {}",
            finding.severity.as_str(),
            finding.id,
            finding.message
        );
    }
    for warning in &check.baseline_warnings {
        let _ = writeln!(text, "  baseline: {warning}");
    }
    text
}
