//! The HTML divergence report: built from the demo's JSON report, it must carry nothing from
//! the repository live, load nothing from elsewhere, and have every section.

use crate::support::forkdrift_in;
use forkdrift::history::{self, HISTORY_SCHEMA, Metrics};
use forkdrift::model::*;
use std::sync::OnceLock;

/// The demo's report, computed once by the real binary.
fn demo_report() -> Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT
        .get_or_init(|| {
            let home = tempfile::tempdir().unwrap();
            let output = forkdrift_in(home.path())
                .args(["demo", "--format", "json"])
                .output()
                .unwrap();
            assert!(
                matches!(output.status.code(), Some(0 | 1 | 3)),
                "forkdrift demo failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            serde_json::from_slice(&output.stdout).expect("the demo's JSON report parses")
        })
        .clone()
}

fn render(report: &Report, history: &[Metrics]) -> String {
    let mut out = Vec::new();
    forkdrift::render::html::render(report, history, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A year of monthly points ending with the report's own.
fn fake_history(report: &Report) -> Vec<Metrics> {
    let now = Metrics::from_report(report, "2024-12-01", 57, report.summary.own_commits + 2);
    (1..=12)
        .map(|month| {
            let mut m = now.clone();
            let back = 12 - month;
            m.date = format!("2024-{month:02}-01");
            if back > 0 {
                // A fork that grew its framework edits, then sent most of them upstream.
                const LINES: [u64; 12] = [0, 9, 9, 24, 31, 46, 46, 58, 40, 40, 12, 6];
                const UPSTREAM: [usize; 12] = [0, 0, 1, 1, 2, 2, 4, 5, 3, 3, 1, 1];
                let i = back - 1;
                m.fork = format!("{back:040}");
                m.commits_behind = 57 - back * 4 + (back % 3);
                m.framework_lines = now.framework_lines + LINES[11 - i];
                m.conflicts = now.conflicts + [0, 1, 1, 2, 3, 3, 2, 2, 1, 1, 0][i];
                m.fork_conflicts = now.fork_conflicts + [0, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0][i];
                m.risk = now.risk + [4, 18, 22, 30, 41, 38, 30, 27, 15, 12, 6][i];
                m.already_upstream = UPSTREAM[11 - i];
            }
            m
        })
        .collect()
}

const PAYLOADS: [&str; 4] = [
    "<script>alert(1)</script>",
    "\"onload=alert(2) x=\"",
    "</svg><img src=x>",
    "]]><b>cdata</b>",
];

fn evil(tag: &str) -> String {
    format!("{tag} {}", PAYLOADS.concat())
}

/// The demo report with hostile text in every kind of place the page shows.
fn poisoned(mut report: Report) -> Report {
    report.fork.name = format!("refs/heads/{}", evil("branch"));
    report.target.name = evil("target");
    report.pack = evil("pack");
    let first = report.own_commits[0].commit.clone();
    for commit in &mut report.own_commits {
        commit.subject = evil("subject");
        commit.author = evil("author");
    }
    let framework = report
        .changes
        .iter_mut()
        .find(|c| c.class == ChangeClass::Framework)
        .expect("the demo edits the framework");
    framework.path = format!("connectors/{}.py", evil("path"));
    framework.commits = vec![first.clone()];
    framework
        .risk
        .get_or_insert_with(Default::default)
        .reasons
        .push(evil("reason"));
    for change in &mut report.changes {
        if change.class == ChangeClass::ConnectorAdded {
            change.unit = Some(evil("unit"));
            if let Some(from) = &mut change.copied_from {
                from.path = evil("copied");
                from.unit = evil("source");
            }
        }
    }
    report.notes.push(evil("note"));
    report.conflicts.push(Conflict {
        path: evil("conflict"),
        kind: evil("kind"),
        cause: Origin::Fork,
        commits: vec![first.clone()],
        ours_lines: vec![],
        theirs_lines: vec![],
        message: evil("message"),
        already_upstream: false,
    });
    report.pr_candidates.push(PrCandidate {
        kind: "framework-fix".into(),
        commits: vec![first.clone()],
        title: evil("title"),
        body: evil("body"),
        paths: vec![evil("pr-path")],
        has_tests: false,
        applies_cleanly: true,
        removes_conflicts: 1,
        rank: 1,
    });
    report.stale_copies.push(StaleCopy {
        unit: evil("unit"),
        source_unit: evil("stale-source"),
        source_path: evil("stale-path"),
        missing: vec![CommitRef {
            commit: "a".repeat(40),
            subject: evil("upstream-fix"),
            prs: vec![],
        }],
        broken_imports: vec![evil("import")],
    });
    report.already_upstream.push(AlreadyUpstream {
        commit: first.clone(),
        commits: vec![first.clone()],
        upstream_commit: evil("upstream-commit"),
        method: evil("method"),
        similarity: 1.0,
        upstream_subject: evil("upstream-subject"),
        pr: Some(2671),
        also_in: vec![AlsoIn {
            commit: evil("also-in-commit"),
            reference: evil("also-in-ref"),
        }],
        in_target: false,
    });
    report.plan = Some(Plan {
        from_version: Some(evil("from")),
        hops: vec![PlanHop {
            version: evil("version"),
            name: evil("hop-ref"),
            commit: "b".repeat(40),
            protocol: "schema".into(),
            needs_acceptance: true,
            conflicts: 2,
            fork_conflicts: 1,
            notes: vec![ReleaseNote {
                text: evil("release-note"),
                breaking: true,
                source: evil("changelog"),
            }],
            checklist: vec![evil("step")],
            protocol_report: None,
            merge_error: Some(evil("merge-error")),
        }],
        stopped_at: Some(evil("stop")),
    });
    report
}

fn assert_inert(page: &str) {
    for payload in PAYLOADS {
        assert!(!page.contains(payload), "{payload:?} is live in the page");
    }
    assert!(!page.contains("<script>alert"));
    assert!(!page.contains("\"onload="));
    assert!(!page.contains("]]>"));
    assert!(!page.contains("<img"));
    assert!(!page.contains("<b>cdata"));
    // Every </svg> closes one of the page's own charts.
    assert_eq!(
        page.matches("</svg>").count(),
        page.matches("<svg ").count()
    );
    // The one script is the page's own sorter.
    assert_eq!(page.matches("<script").count(), 1);
}

#[test]
fn text_from_the_repository_is_escaped_everywhere() {
    let report = poisoned(demo_report());
    let mut history = fake_history(&report);
    for m in &mut history {
        m.date = format!("{} {}", m.date, PAYLOADS[1]);
        m.protocol = evil("protocol");
    }
    history.last_mut().unwrap().fork = report.fork.commit.clone();
    let page = render(&report, &history);
    assert_inert(&page);
    // …and the text is there, escaped.
    assert!(page.contains("subject &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&lt;/svg&gt;&lt;img src=x&gt;"));
    assert!(page.contains("]]&gt;&lt;b&gt;cdata"));
    assert!(page.contains("&quot;onload=alert(2) x=&quot;"));
    for place in [
        "branch",
        "target",
        "subject",
        "author",
        "path",
        "reason",
        "unit",
        "copied",
        "source",
        "note",
        "conflict",
        "title",
        "body",
        "pr-path",
        "upstream-fix",
        "import",
        "release-note",
        "step",
        "stop",
        "method",
    ] {
        assert!(
            page.contains(&format!("{place} &lt;script&gt;")),
            "{place} is not shown"
        );
    }
}

#[test]
fn the_page_is_self_contained_and_has_every_section() {
    let report = demo_report();
    let history = fake_history(&report);
    let page = render(&report, &history);
    let text = page.replace("<wbr>", "");
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.trim_end().ends_with("</html>"));
    assert!(page.contains("<meta name=\"viewport\""));
    assert!(
        page.contains("prefers-color-scheme: dark") || page.contains("prefers-color-scheme:dark")
    );
    assert!(page.contains("default-src 'none'"));
    for heading in [
        ">Connectors</h2>",
        ">Framework files</h2>",
        ">Conflicts of the next upgrade</h2>",
        ">PR candidates</h2>",
        ">Upgrade plan</h2>",
        ">Work already upstream</h2>",
        ">Trends</h2>",
        ">Remarks</h2>",
    ] {
        assert!(page.contains(heading), "no {heading}");
    }
    // Five charts, each with the same numbers as a table under it.
    // (twice: a wide and a narrow version)
    assert_eq!(page.matches("<svg ").count(), 10);
    assert_eq!(page.matches("<summary>The numbers</summary>").count(), 5);
    assert!(page.contains(">2024-01-01</text>"));
    assert!(page.contains(">2024-12-01</text>"));
    // Nothing is loaded from anywhere.
    for reference in ["http://", "https://", " src=", "@import", "url(", "<link"] {
        assert!(!page.contains(reference), "{reference} in the page");
    }
    // The headline reads the recorded point for this fork and target.
    assert!(page.contains(">Commits behind</div><div class=\"value\">57<"));
    // The demo's framework edit and its copied connector are in the tables.
    let framework = report
        .changes
        .iter()
        .find(|c| c.class == ChangeClass::Framework)
        .unwrap();
    assert!(text.contains(&format!("<code>{}</code>", framework.path)));
    let copy = report
        .changes
        .iter()
        .find_map(|c| {
            c.copied_from
                .as_ref()
                .filter(|_| c.class == ChangeClass::ConnectorAdded)
        })
        .expect("the demo copies a connector");
    assert!(text.contains(&format!("<code>{}</code>", copy.path)));
}

/// A path's risk counts its upstream churn also where a conflict, not the churn, scored (the
/// demo's mysql.py), and the page's churn column shows the count.
#[test]
fn the_churn_column_counts_every_paths_upstream_commits() {
    let report = demo_report();
    let churn = |path: &str| {
        let churn = report
            .changes
            .iter()
            .find(|c| c.path == path)
            .and_then(|c| c.risk.as_ref()?.upstream_churn)
            .unwrap_or_else(|| panic!("{path}'s risk counts its churn"));
        (churn.since_fork_point, churn.recent)
    };
    assert_eq!(churn("connectors/sources/mysql.py"), (1, 1));
    assert_eq!(churn("connectors/es/client.py"), (1, 1));
    let page = render(&report, &[]);
    let start = page
        .find(r#"data-sort="connectors/es/client.py""#)
        .expect("a row for the framework file");
    let row = &page[start..start + page[start..].find("</tr>").unwrap()];
    assert!(
        row.contains(
            r#"<td class="num" data-sort="1">1<br><span class="muted">1 recent</span></td>"#
        ),
        "{row}"
    );
}

#[test]
fn the_page_reads_without_history() {
    let page = render(&demo_report(), &[]);
    assert!(page.contains("No history yet"));
    assert!(!page.contains("<svg "));
    assert!(page.contains("not recorded in the history"));
}

#[test]
fn metrics_of_the_demo_add_up() {
    let report = demo_report();
    let m = Metrics::from_report(&report, "2024-05-06", 9, 7);
    assert_eq!(m.schema, HISTORY_SCHEMA);
    assert_eq!(m.date, "2024-05-06");
    assert_eq!((m.commits_behind, m.commits_ahead), (9, 7));
    assert_eq!(m.fork, report.fork.commit);
    assert_eq!(m.target, report.target.commit);
    assert_eq!(m.own_commits, report.summary.own_commits);
    assert_eq!(m.conflicts, report.summary.conflicts);
    assert_eq!(m.fork_conflicts, report.summary.fork_conflicts);
    assert_eq!(m.risk, report.risk.score);
    let framework = report
        .summary
        .by_class
        .get("framework")
        .copied()
        .unwrap_or(0);
    assert_eq!(m.framework_files, framework);
    assert!(m.framework_files > 0 && m.framework_lines > 0);
    assert!(m.connectors_added >= 1 && m.connectors_modified >= 1);
    assert_eq!(m.pr_candidates, report.pr_candidates.len());
    assert_eq!(
        m.protocol,
        report
            .protocol
            .as_ref()
            .map_or("none".to_string(), |p| p.verdict.clone())
    );
}

#[test]
fn metrics_survive_the_history_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    let points = fake_history(&demo_report());
    for point in &points {
        history::append(&path, point).unwrap();
    }
    let read = history::read(&path).unwrap();
    assert_eq!(read.skipped, 0);
    assert_eq!(read.points, points);
}

/// Writes the demo page with a year of history for a look in a browser:
/// `FORKDRIFT_REPORT_DEMO=/tmp/forkdrift-report-demo cargo test --test it report::write_demo_page -- --ignored`
/// then `scripts/screenshot.sh /tmp/forkdrift-report-demo/index.html /tmp/forkdrift-report-demo/page`.
#[test]
#[ignore = "writes a page for people to look at"]
fn write_demo_page() {
    let dir = std::env::var("FORKDRIFT_REPORT_DEMO")
        .unwrap_or_else(|_| "/tmp/forkdrift-report-demo".to_string());
    std::fs::create_dir_all(&dir).unwrap();
    let report = demo_report();
    let page = render(&report, &fake_history(&report));
    std::fs::write(format!("{dir}/index.html"), page).unwrap();
}

/// `forkdrift report` end to end on the demo: the three files, one history line per run and
/// per backfill date, past points not recomputed, the page carrying the backfilled trend.
#[test]
fn report_writes_the_page_and_grows_the_history() {
    let fixture = crate::support::Fixture::build("demo");
    let out = fixture.temp.path().join("report");
    let out_arg = out.to_str().unwrap().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec!["report", "--out", out_arg.as_str()];
        args.extend_from_slice(extra);
        fixture.forkdrift(&args).assert().code(0);
    };
    run(&["--backfill", "weekly", "--since", "2023-06-01"]);
    for name in ["index.html", "report.json", "report.md", "history.jsonl"] {
        assert!(out.join(name).is_file(), "{name} was not written");
    }
    let history = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    let lines: Vec<&str> = history.lines().collect();
    let first = lines.len();
    assert!(first > 3, "{history}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("\"schema\":\"forkdrift.history/1\""))
    );
    // The demo's fork gains its own commits in June 2023: the early weeks show fewer of them.
    let own = |line: &str| {
        serde_json::from_str::<serde_json::Value>(line).unwrap()["own_commits"]
            .as_u64()
            .unwrap()
    };
    assert!(own(lines[0]) < own(lines[first - 1]), "{history}");
    let report: forkdrift::model::Report =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report.schema, "forkdrift.audit/1");

    // Again with the same backfill: the past points are there already; only today's is added.
    run(&["--backfill", "weekly", "--since", "2023-06-01"]);
    let again = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    assert_eq!(again.lines().count(), first + 1);

    // A truncated last line (a crash of something less careful) is dropped, not fatal.
    std::fs::write(
        out.join("history.jsonl"),
        format!("{again}{{\"schema\":\"forkd"),
    )
    .unwrap();
    run(&[]);
    let healed = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    assert_eq!(healed.lines().count(), first + 2);
    assert!(healed.ends_with('\n'));
}
