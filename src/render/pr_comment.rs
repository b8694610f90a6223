//! `check --format markdown`: one pull-request comment, updated in place.
//!
//! The first line is a hidden marker (`<!-- forkdrift:check -->`) a workflow finds the comment
//! by; then the verdict, a table of counts and a collapsible section per list. The output is
//! deterministic (no clock) and always shorter than GitHub's 65,536-character limit: past the
//! budget a list ends with "… and N more", and every tag is still closed.

use crate::check::{CheckFinding, CheckReport, Verdict};
use crate::model::Severity;
use std::io::{self, Write};

pub const MARKER: &str = "<!-- forkdrift:check -->";
/// GitHub's limit on a comment body.
pub const MAX_CHARS: usize = 65_536;
/// What the comment may use, in bytes (never fewer than characters or UTF-16 units), with
/// headroom below the limit.
const BUDGET: usize = MAX_CHARS - 2_048;
/// Longest table cell, in characters.
const CELL: usize = 400;

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// Table-cell text: one line, no HTML, no column breaks, bounded.
fn cell(text: &str) -> String {
    let mut flat: String = text
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    if flat.chars().count() > CELL {
        flat = flat.chars().take(CELL - 1).collect::<String>() + "…";
    }
    flat.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

/// A code span that survives backticks in the text.
fn code(text: &str) -> String {
    let text = cell(text);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{fence}{text}{fence}")
    } else {
        format!("{fence} {text} {fence}")
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn row(f: &CheckFinding) -> String {
    let location = match f.lines {
        Some([start, end]) if start == end => format!("{}:{start}", f.finding.path),
        Some([start, end]) => format!("{}:{start}-{end}", f.finding.path),
        None => f.finding.path.clone(),
    };
    format!(
        "| {} | {} | {} | {} |\n",
        f.finding.severity.as_str(),
        f.finding.id,
        code(&location),
        cell(&f.finding.message)
    )
}

struct Section {
    title: String,
    open: bool,
    header: &'static str,
    rows: Vec<String>,
}

const TABLE: &str = "| severity | rule | location | message |\n|---|---|---|---|\n";

impl Section {
    fn frame(&self) -> (String, &'static str) {
        (
            format!(
                "<details{}><summary><b>{}</b> ({})</summary>\n\n{}",
                if self.open { " open" } else { "" },
                self.title,
                self.rows.len(),
                self.header
            ),
            "\n</details>\n\n",
        )
    }
}

fn by_severity(list: &[&CheckFinding]) -> [usize; 3] {
    let mut out = [0; 3];
    for f in list {
        match f.finding.severity {
            Severity::Error => out[0] += 1,
            Severity::Warning => out[1] += 1,
            Severity::Note => out[2] += 1,
            Severity::Off => {}
        }
    }
    out
}

fn verdict_line(check: &CheckReport) -> String {
    let threshold = match check.fail_on {
        Severity::Off => None,
        s => Some(s),
    };
    let at_or_above = |f: &&CheckFinding| {
        threshold.is_some_and(|t| f.finding.severity != Severity::Off && f.finding.severity >= t)
    };
    let failing = check.new.iter().filter(at_or_above).count();
    match (check.verdict, threshold) {
        (Verdict::Refused, _) => "## ⛔ forkdrift check refused: this change edits a protocol anchor\n\nThe protocol is upstream's contract with the rest of the stack; propose the change upstream instead.".to_string(),
        (Verdict::Fail, Some(t)) => format!(
            "## ❌ forkdrift check failed: {} at or above `{}`",
            plural(failing, "new finding"),
            t.as_str()
        ),
        (_, Some(t)) => format!(
            "## ✅ forkdrift check passed: no new finding at or above `{}`",
            t.as_str()
        ),
        (_, None) => "## ✅ forkdrift check passed (`--fail-on never`)".to_string(),
    }
}

/// The comment as a string (what [`render`] writes).
pub fn comment(check: &CheckReport) -> String {
    let mut head = String::new();
    head.push_str(MARKER);
    head.push('\n');
    head.push_str(&verdict_line(check));
    head.push_str(&format!(
        "\n\n`{}` ({}) → `{}` ({}) · fail on `{}` · {} {}\n\n",
        cell(&check.base.name),
        short(&check.base.commit),
        cell(&check.head.name),
        short(&check.head.commit),
        if check.fail_on == Severity::Off {
            "never"
        } else {
            check.fail_on.as_str()
        },
        check.tool.name,
        check.tool.version
    ));
    let suppressed: Vec<&CheckFinding> = check.suppressed.iter().map(|s| &s.finding).collect();
    let lists: [(&str, Vec<&CheckFinding>); 4] = [
        ("new", check.new.iter().collect()),
        (
            "unchanged (already at base)",
            check.unchanged.iter().collect(),
        ),
        ("fixed", check.fixed.iter().collect()),
        ("suppressed (baseline)", suppressed),
    ];
    head.push_str("| | errors | warnings | notes | total |\n|---|---:|---:|---:|---:|\n");
    for (name, list) in &lists {
        let [e, w, n] = by_severity(list);
        head.push_str(&format!("| {name} | {e} | {w} | {n} | {} |\n", list.len()));
    }
    if !check.baseline_warnings.is_empty() {
        head.push_str(&format!(
            "\n⚠️ {} in `.forkdrift.toml`.\n",
            plural(check.baseline_warnings.len(), "baseline warning")
        ));
    }
    head.push('\n');

    let mut sections = vec![Section {
        title: "New".into(),
        open: true,
        header: TABLE,
        rows: check.new.iter().map(row).collect(),
    }];
    sections.push(Section {
        title: "Baseline warnings".into(),
        open: true,
        header: "",
        rows: check
            .baseline_warnings
            .iter()
            .map(|w| format!("- {}\n", cell(w)))
            .collect(),
    });
    sections.push(Section {
        title: "Fixed".into(),
        open: false,
        header: TABLE,
        rows: check.fixed.iter().map(row).collect(),
    });
    sections.push(Section {
        title: "Suppressed by the baseline".into(),
        open: false,
        header: "| severity | rule | location | message | reason | owner | expires |\n|---|---|---|---|---|---|---|\n",
        rows: check
            .suppressed
            .iter()
            .map(|s| {
                let mut r = row(&s.finding);
                r.truncate(r.len() - 1); // the trailing newline
                let mut reason = cell(&s.accepted.reason);
                if let Some(pr) = &s.accepted.upstream_pr {
                    reason.push_str(&format!(" ([upstream PR]({}))", cell(pr)));
                }
                format!(
                    "{r} {reason} | {} | {} |\n",
                    cell(&s.accepted.owner),
                    s.accepted.expires.as_deref().unwrap_or("-")
                )
            })
            .collect(),
    });
    sections.push(Section {
        title: "Unchanged (already at base, not failed)".into(),
        open: false,
        header: TABLE,
        rows: check.unchanged.iter().map(row).collect(),
    });
    sections.retain(|s| !s.rows.is_empty());

    // What the comment needs whatever the lists hold: the head, each section's frame, the
    // "… and N more" line each may need, and the footer.
    let footer = "<sub>Fingerprints match findings across commits; accept one in `.forkdrift.toml` `[[baseline.accepted]]` (see `forkdrift baseline`).</sub>\n";
    let more = |n: usize| format!("\n… and {n} more\n");
    let fixed: usize = head.len()
        + footer.len()
        + sections
            .iter()
            .map(|s| {
                let (open, close) = s.frame();
                open.len() + close.len() + more(s.rows.len()).len()
            })
            .sum::<usize>();
    let mut left = BUDGET.saturating_sub(fixed);

    let mut out = head;
    for section in &sections {
        let (open, close) = section.frame();
        out.push_str(&open);
        let mut shown = 0;
        for r in &section.rows {
            if r.len() > left {
                break;
            }
            left -= r.len();
            out.push_str(r);
            shown += 1;
        }
        if shown < section.rows.len() {
            out.push_str(&more(section.rows.len() - shown));
            left = 0; // later sections show only their counts: the first ones matter most
        }
        out.push_str(close);
    }
    out.push_str(footer);
    out
}

pub fn render(check: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(comment(check).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::compare;
    use crate::check::tests::{accepted, finding, sample};

    #[test]
    fn a_small_comment() {
        let base = [finding(
            "FD102",
            "connector-modified",
            Severity::Warning,
            "old.py",
            "0000000000000001",
        )];
        let mut new = finding(
            "FD101",
            "framework-edit",
            Severity::Error,
            "a|b`c.py",
            "0000000000000002",
        );
        new.message = "uses <details> & pipes | and\nnewlines".into();
        let kept = finding(
            "FD101",
            "framework-edit",
            Severity::Error,
            "k.py",
            "0000000000000003",
        );
        let mut c = compare(
            &base,
            &[new, kept],
            &[
                accepted("0000000000000003", Some("2030-01-01")),
                accepted("00000000000000ff", None),
            ],
            "2025-01-01",
        );
        c.locate(|f| (f.path == "a|b`c.py").then_some([4, 4]));
        let text = comment(&sample(c, Severity::Error));
        assert!(text.starts_with("<!-- forkdrift:check -->\n## ❌ forkdrift check failed: 1 new finding at or above `error`\n"), "{text}");
        assert!(text.contains("| new | 1 | 0 | 0 | 1 |"));
        assert!(text.contains("| fixed | 0 | 1 | 0 | 1 |"));
        assert!(text.contains("| suppressed (baseline) | 1 | 0 | 0 | 1 |"));
        assert!(text.contains("| error | FD101 | `` a\\|b`c.py:4 `` | uses &lt;details&gt; &amp; pipes \\| and newlines |"), "{text}");
        assert!(
            text.contains("| needed for the on-prem auth | team-search | 2030-01-01 |"),
            "{text}"
        );
        assert!(text.contains("matches nothing"));
        assert_eq!(
            text.matches("<details").count(),
            text.matches("</details>").count()
        );
        assert_eq!(
            comment(&sample(
                compare(&[], &[], &[], "2025-01-01"),
                Severity::Error
            ))
            .lines()
            .nth(1),
            Some("## ✅ forkdrift check passed: no new finding at or above `error`")
        );
    }

    #[test]
    fn a_thousand_findings_stay_under_the_limit_and_well_formed() {
        let make = |prefix: &str, n: usize, severity: Severity| -> Vec<_> {
            (0..n)
                .map(|i| {
                    let mut f = finding(
                        "FD101",
                        "framework-edit",
                        severity,
                        &format!("connectors/{prefix}/ünïcödé/module_{i:04}.py"),
                        &format!("{prefix}{i:015}"),
                    );
                    f.message = format!(
                        "{i}: {}",
                        "a long message with <html> | pipes and ✓ ".repeat(12)
                    );
                    f
                })
                .collect()
        };
        let head: Vec<_> = make("n", 1000, Severity::Error)
            .into_iter()
            .chain(make("u", 300, Severity::Warning))
            .collect();
        let base: Vec<_> = make("u", 300, Severity::Warning)
            .into_iter()
            .chain(make("f", 200, Severity::Note))
            .collect();
        let build = || {
            let mut c = compare(&base, &head, &[], "2025-01-01");
            for i in 0..100 {
                c.warnings.push(format!("baseline entry {i:016x} matches nothing (no finding has this fingerprint): remove it"));
            }
            c.locate(|_| Some([10, 20]));
            comment(&sample(c, Severity::Error))
        };
        let text = build();
        assert!(text.len() < MAX_CHARS, "{} bytes", text.len());
        assert!(text.chars().count() < MAX_CHARS);
        assert!(text.encode_utf16().count() < MAX_CHARS);
        assert!(
            text.len() > MAX_CHARS / 2,
            "the budget is used: {} bytes",
            text.len()
        );
        assert!(text.starts_with(MARKER));
        assert!(text.contains("| new | 1000 | 0 | 0 | 1000 |"));
        assert!(text.contains("<b>New</b> (1000)"));
        let more: Vec<&str> = text.lines().filter(|l| l.starts_with("… and ")).collect();
        assert_eq!(more.len(), 4, "every truncated list says so: {more:?}");
        // Rows shown plus "… and N more" account for the whole new list.
        let shown = text
            .lines()
            .filter(|l| l.starts_with("| error | FD101 |"))
            .count();
        assert_eq!(format!("… and {} more", 1000 - shown), more[0]);
        // Well-formed: every section opened is closed, in order, and no row is cut.
        let opens = text.matches("<details").count();
        assert_eq!(opens, 4);
        assert_eq!(opens, text.matches("</details>").count());
        let mut depth = 0i32;
        for line in text.lines() {
            if line.starts_with("<details") {
                depth += 1;
            }
            if line == "</details>" {
                depth -= 1;
            }
            assert!((0..=1).contains(&depth), "nested or unbalanced at {line}");
            if line.starts_with("| ") {
                assert!(line.ends_with(" |"), "a cut row: {line}");
            }
        }
        assert_eq!(depth, 0);
        assert!(text.ends_with("</sub>\n"));
        // Stable: the same input gives the same comment.
        assert_eq!(build(), text);
    }
}
