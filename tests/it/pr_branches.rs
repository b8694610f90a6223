//! Issue 11 §1: work upstream already has, on pull-request branches shaped like real forks'
//! (merges from main inside the branch, twenty commits, review edits upstream, a backport
//! branch of two PRs, a branch part upstream and part fork, a restructure that must not match).

use crate::support::{Fixture, change};
use forkdrift::model::{AlreadyUpstream, Report};
use std::sync::OnceLock;

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture::build("pr-branches"))
}

/// A match as the test reads it: own commits oldest first, upstream commit, method, PR and
/// `also_in` (commit, ref), all by step id.
type Match = (
    Vec<String>,
    String,
    String,
    Option<u32>,
    Vec<(String, String)>,
);

fn matches(report: &Report) -> Vec<Match> {
    let fixture = fixture();
    let name = |id: &str| {
        fixture
            .built
            .ids
            .iter()
            .filter(|(step, full)| full.as_str() == id && !step.contains('/'))
            .map(|(step, _)| step.clone())
            .min()
            .unwrap_or_else(|| id.to_string())
    };
    report
        .already_upstream
        .iter()
        .map(|a: &AlreadyUpstream| {
            (
                a.commits.iter().rev().map(|c| name(c)).collect(),
                name(&a.upstream_commit),
                a.method.clone(),
                a.pr,
                a.also_in
                    .iter()
                    .map(|c| (name(&c.commit), c.reference.clone()))
                    .collect(),
            )
        })
        .collect()
}

fn ids(prefix: &str, range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| format!("{prefix}-{n:02}")).collect()
}

fn settled(report: &Report) -> Vec<String> {
    let fixture = fixture();
    let mut out: Vec<String> = report
        .own_commits
        .iter()
        .filter(|c| c.already_upstream)
        .map(|c| {
            fixture
                .built
                .ids
                .iter()
                .find(|(step, full)| **full == c.commit && !step.contains('/'))
                .map_or(c.commit.clone(), |(step, _)| step.clone())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_pr_branch_with_a_merge_from_main_is_upstream_and_the_forks_work_on_top_is_not() {
    let report = fixture().audit(&[]);
    assert_eq!(
        matches(&report),
        vec![(
            vec!["gd-1".into(), "gd-2".into(), "gd-3".into()],
            "gd-squash".into(),
            "squash".into(),
            Some(2700),
            vec![],
        )]
    );
    // The merge from main is neither upstream's work nor the fork's; the two commits on top
    // (one in the same file) stay the fork's.
    assert_eq!(settled(&report), vec!["gd-1", "gd-2", "gd-3"]);
    let drive = change(&report, "connectors/sources/google_drive.py");
    assert!(!drive.already_upstream);
    assert!(!change(&report, "connectors/config.py").already_upstream);
}

#[test]
fn a_twenty_commit_branch_with_merges_and_review_edits_is_one_pr_with_its_backport() {
    let report = fixture().audit(&["--fork", "error-monitor"]);
    assert_eq!(
        matches(&report),
        vec![(
            ids("em", 1..=20),
            "em-squash".into(),
            "squash".into(),
            Some(2671),
            vec![("em-9.1".into(), "upstream/9.1".into())],
        )]
    );
    assert_eq!(settled(&report), ids("em", 1..=20));
    // Review edits upstream: the squash is not the branch line for line.
    let found = &report.already_upstream[0];
    assert!(
        found.similarity < 1.0 && found.similarity >= 0.8,
        "{}",
        found.similarity
    );
    assert_eq!(
        found.upstream_subject,
        "Port ErrorMonitor class from ruby connectors (#2671)"
    );
    assert_eq!(report.summary.divergent, 0, "{:?}", report.notes);

    // One line per PR, not one per commit.
    let output = fixture()
        .forkdrift(&["audit", "--fork", "error-monitor", "--fail-on", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let squash = &fixture().id("em-squash")[..12];
    let backport = &fixture().id("em-9.1")[..12];
    assert!(
        text.contains(&format!(
            "20 commits of this branch are upstream as {squash} Port ErrorMonitor class from ruby connectors (#2671)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("also in {backport} (upstream/9.1)")),
        "{text}"
    );
    assert_eq!(text.matches("is upstream as").count(), 0, "{text}");
}

#[test]
fn a_backport_branch_of_two_prs_is_the_release_branchs_squash_beside_the_originals() {
    let report = fixture().audit(&["--fork", "backport-8.14", "--to", "upstream/8.14"]);
    assert_eq!(
        matches(&report),
        vec![(
            vec!["bp-2312".into(), "bp-2337".into()],
            "squash-2414".into(),
            "squash".into(),
            Some(2414),
            vec![
                ("pr-2312".into(), "upstream/main".into()),
                ("pr-2337".into(), "upstream/main".into()),
            ],
        )]
    );

    // Upgrading to main instead: main has each PR, and the 8.14 squash is beside each.
    let report = fixture().audit(&["--fork", "backport-8.14", "--to", "upstream/main"]);
    let beside = vec![("squash-2414".to_string(), "upstream/8.14".to_string())];
    let mut found = matches(&report);
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                vec!["bp-2312".into()],
                "pr-2312".into(),
                "patch-id".into(),
                Some(2312),
                beside.clone(),
            ),
            (
                vec!["bp-2337".into()],
                "pr-2337".into(),
                "patch-id".into(),
                Some(2337),
                beside,
            ),
        ]
    );
}

#[test]
fn a_restructure_that_contains_a_small_change_by_size_is_not_the_commit_that_merged_it() {
    let fixture = fixture();
    // The restructure does add the fork's two lines, among many more of its own.
    let diff = fixture.git(&[
        "show",
        &fixture.id("restructure"),
        "--",
        "connectors/sources/s3.py",
    ]);
    assert!(
        diff.contains("\n+import logging\n")
            && diff.contains("\n+logger = logging.getLogger(__name__)\n")
    );
    let report = fixture.audit(&["--fork", "s3-logging"]);
    assert!(
        report.already_upstream.is_empty(),
        "{:?}",
        report.already_upstream
    );
    assert!(!change(&report, "connectors/sources/s3.py").already_upstream);
}

/// A PR branch that merged main and resolved a conflict there: the merge wrote the file too,
/// but only the PR's commit authored it, and upstream squashed the resolved result. The path
/// is upstream's, not a divergent framework edit.
#[test]
fn a_path_a_merge_resolved_on_a_squashed_pr_branch_is_upstream() {
    let fixture = Fixture::from_toml(
        r#"
description = "A PR branch merges main, resolving a conflict; upstream squashes the result."

[[step]]
commit = "upstream/main"
message = "Framework (#1)"
write = { "connectors/es/settings.py" = "def settings():\n    timeout = 10\n    retries = 1\n    return timeout, retries\n" }

[[step]]
commit = "fork/main"
at = "upstream/main"
id = "pr"
message = "Longer timeout"
edit = [{ path = "connectors/es/settings.py", replace = [["timeout = 10", "timeout = 30"]] }]

[[step]]
commit = "upstream/main"
message = "More retries (#2)"
edit = [{ path = "connectors/es/settings.py", replace = [["retries = 1", "retries = 3"]] }]

[[step]]
merge = "upstream/main"
into = "fork/main"
id = "merge"
message = "Merge branch 'main' into longer-timeout"
write = { "connectors/es/settings.py" = "def settings():\n    timeout = 30\n    retries = 3\n    return timeout, retries\n" }

[[step]]
commit = "upstream/main"
id = "squash"
message = "Longer timeout (#3)"
edit = [{ path = "connectors/es/settings.py", replace = [["timeout = 10", "timeout = 30"]] }]
"#,
    );
    // The merge wrote the path: git shows it in the merge's combined diff.
    let combined = fixture.git(&[
        "show",
        "--format=",
        "--name-only",
        "--cc",
        &fixture.id("merge"),
    ]);
    assert_eq!(combined.trim(), "connectors/es/settings.py");
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    assert_eq!(
        report
            .already_upstream
            .iter()
            .map(|a| (a.upstream_commit.clone(), a.commits.clone()))
            .collect::<Vec<_>>(),
        [(fixture.id("squash"), vec![fixture.id("pr")])]
    );
    let change = change(&report, "connectors/es/settings.py");
    assert!(change.already_upstream, "{change:?}");
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.path != "connectors/es/settings.py"),
        "{:?}",
        report.findings
    );
}

/// A squash is read only against what upstream merged: the default branch, release tags and
/// branches, the target and `--upstream-ref` refs. The same squash on another upstream
/// branch (a devnet, someone's feature work) is work upstream has not taken.
#[test]
fn a_squash_on_an_unmerged_upstream_branch_is_not_upstreams_yet() {
    let fixture = Fixture::from_toml(
        r#"
description = "A fork's two-commit change, squashed upstream on a feature branch only."

[[step]]
commit = "upstream/main"
message = "Framework (#1)"
write = { "connectors/es/settings.py" = "def settings():\n    timeout = 10\n    retries = 1\n    backoff = 2\n    return timeout, retries, backoff\n" }

[[step]]
commit = "fork/main"
at = "upstream/main"
id = "own-1"
message = "Longer timeout"
edit = [{ path = "connectors/es/settings.py", replace = [["timeout = 10", "timeout = 30"]] }]

[[step]]
commit = "fork/main"
id = "own-2"
message = "More retries, and back off longer"
edit = [{ path = "connectors/es/settings.py", replace = [["retries = 1\n    backoff = 2", "retries = 3\n    backoff = 5"]] }]

[[step]]
commit = "upstream/slow-clusters"
at = "upstream/main"
id = "squash"
message = "Be patient with slow clusters (#2)"
edit = [{ path = "connectors/es/settings.py", replace = [["timeout = 10\n    retries = 1\n    backoff = 2", "timeout = 30\n    retries = 3\n    backoff = 5"]] }]
"#,
    );
    let found = |args: &[&str]| -> Vec<(String, Vec<String>, String)> {
        let args = [&["--rules", "elastic-connectors"][..], args].concat();
        fixture
            .audit(&args)
            .already_upstream
            .iter()
            .map(|a| {
                (
                    a.upstream_commit.clone(),
                    a.commits.clone(),
                    a.method.clone(),
                )
            })
            .collect()
    };
    assert_eq!(found(&[]), []);
    let squashed = vec![(
        fixture.id("squash"),
        vec![fixture.id("own-2"), fixture.id("own-1")],
        "squash".to_string(),
    )];
    // Declared upstream, or the target itself: then upstream has it.
    assert_eq!(
        found(&["--upstream-ref", "refs/remotes/upstream/slow-clusters"]),
        squashed
    );
    assert_eq!(found(&["--to", "upstream/slow-clusters"]), squashed);
    // Upstream has it, the target does not: the change stays the fork's to carry through
    // this upgrade, not upstream's to take.
    let settled = |args: &[&str]| {
        let args = [&["--rules", "elastic-connectors"][..], args].concat();
        change(&fixture.audit(&args), "connectors/es/settings.py").already_upstream
    };
    assert!(!settled(&[
        "--upstream-ref",
        "refs/remotes/upstream/slow-clusters"
    ]));
    assert!(settled(&["--to", "upstream/slow-clusters"]));
}

/// Review can leave a file out of the PR: the branch is upstream's, its change to that file
/// is not (top-gg's ErrorMonitor wiring in sync_job_runner.py, left out of #2671).
#[test]
fn a_file_the_squash_left_out_stays_the_forks() {
    let fixture = Fixture::from_toml(
        r#"
description = "A PR branch adds a helper and wires it in; upstream squashes the helper alone."

[[step]]
commit = "upstream/main"
message = "Framework (#1)"
write = { "connectors/utils.py" = "def truncate(text):\n    return text[:10]\n", "connectors/runner.py" = "from connectors.utils import truncate\n\n\ndef run(job):\n    return truncate(job)\n" }

[[step]]
commit = "fork/main"
at = "upstream/main"
id = "helper"
message = "Add an error monitor"
edit = [{ path = "connectors/utils.py", replace = [["    return text[:10]\n", "    return text[:10]\n\n\nclass ErrorMonitor:\n    def __init__(self, limit=10):\n        self.limit = limit\n        self.errors = 0\n\n    def track(self, error):\n        self.errors += 1\n        return self.errors < self.limit\n"]] }]

[[step]]
commit = "fork/main"
id = "wiring"
message = "Reset the error monitor, and use it in the runner"
edit = [
  { path = "connectors/utils.py", replace = [["        return self.errors < self.limit\n", "        return self.errors < self.limit\n\n    def reset(self):\n        self.errors = 0\n"]] },
  { path = "connectors/runner.py", replace = [["from connectors.utils import truncate\n", "from connectors.utils import ErrorMonitor, truncate\n"]] },
]

[[step]]
commit = "upstream/main"
id = "squash"
message = "Add an error monitor (#2)"
edit = [{ path = "connectors/utils.py", replace = [["    return text[:10]\n", "    return text[:10]\n\n\nclass ErrorMonitor:\n    def __init__(self, limit=10):\n        self.limit = limit\n        self.errors = 0\n\n    def track(self, error):\n        self.errors += 1\n        return self.errors < self.limit\n\n    def reset(self):\n        self.errors = 0\n"]] }]

[[step]]
commit = "upstream/main"
message = "Import what the runner logs with (#3)"
edit = [{ path = "connectors/runner.py", replace = [["from connectors.utils import truncate\n", "from connectors.utils import truncate\nfrom connectors.logger import logger\n"]] }]
"#,
    );
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    assert_eq!(
        report
            .already_upstream
            .iter()
            .map(|a| (a.upstream_commit.clone(), a.commits.clone()))
            .collect::<Vec<_>>(),
        [(
            fixture.id("squash"),
            vec![fixture.id("wiring"), fixture.id("helper")]
        )]
    );
    assert!(change(&report, "connectors/utils.py").already_upstream);
    assert!(!change(&report, "connectors/runner.py").already_upstream);
    let conflicts: Vec<(&str, bool)> = report
        .conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.already_upstream))
        .collect();
    assert_eq!(conflicts, [("connectors/runner.py", false)]);
    assert_eq!(report.summary.fork_conflicts, 1);
    let squash = &fixture.id("squash")[..12];
    assert!(
        report.notes.contains(&format!(
            "connectors/runner.py: the own commits that changed it are upstream's, but {squash} \"Add an error monitor (#2)\" that has them leaves this file out: the fork's change to it is still the fork's"
        )),
        "{:?}",
        report.notes
    );
}

/// A squash that takes a file but not all of its code leaves that code the fork's: top-gg's
/// branch nests its error-monitor defaults under `"extraction"` in config.py, #2671 does not,
/// and "take the target's side" would drop the nesting the fork's own code reads.
#[test]
fn a_conflict_whose_code_the_squash_did_not_take_is_the_forks() {
    let fixture = Fixture::from_toml(
        r#"
description = "A PR branch adds a monitor and nests its defaults; upstream squashes it unnested."

[[step]]
commit = "upstream/main"
message = "Framework (#1)"
write = { "connectors/config.py" = "DEFAULTS = {\n    \"service\": {\n        \"idling\": 30,\n    },\n}\n", "connectors/utils.py" = "def truncate(text):\n    return text[:10]\n" }

[[step]]
commit = "fork/main"
at = "upstream/main"
id = "pr"
message = "Add an error monitor"
edit = [
  { path = "connectors/utils.py", append = "\n\nclass ErrorMonitor:\n    def __init__(self, max_errors=10):\n        self.max_errors = max_errors\n        self.errors = 0\n\n    def track(self, error):\n        self.errors += 1\n        if self.errors > self.max_errors:\n            raise RuntimeError(error)\n" },
  { path = "connectors/config.py", replace = [["        \"idling\": 30,\n", "        \"idling\": 30,\n        \"extraction\": {\n            \"error_monitor\": {\"max_errors\": 10},\n        },\n"]] },
]

[[step]]
commit = "upstream/main"
id = "squash"
message = "Add an error monitor (#2)"
edit = [
  { path = "connectors/utils.py", append = "\n\nclass ErrorMonitor:\n    def __init__(self, max_errors=10):\n        self.max_errors = max_errors\n        self.errors = 0\n\n    def track(self, error):\n        self.errors += 1\n        if self.errors > self.max_errors:\n            raise RuntimeError(error)\n" },
  { path = "connectors/config.py", replace = [["        \"idling\": 30,\n", "        \"idling\": 30,\n        \"error_monitor\": {\"max_errors\": 10},\n"]] },
]
"#,
    );
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    let upstream: Vec<(&str, &[String])> = report
        .already_upstream
        .iter()
        .map(|a| (a.upstream_commit.as_str(), a.commits.as_slice()))
        .collect();
    assert_eq!(
        upstream,
        [(fixture.id("squash").as_str(), &[fixture.id("pr")][..])]
    );
    let conflicts: Vec<(&str, bool)> = report
        .conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.already_upstream))
        .collect();
    assert_eq!(conflicts, [("connectors/config.py", false)]);
    assert!(change(&report, "connectors/utils.py").already_upstream);
    assert!(!change(&report, "connectors/config.py").already_upstream);
    let squash = &fixture.id("squash")[..12];
    assert!(
        report.notes.contains(&format!(
            "connectors/config.py: the fork's lines in its conflict are not all in {squash} \"Add an error monitor (#2)\", which has its commits (`\"extraction\": {{` is not): the conflict is the fork's to resolve"
        )),
        "{:?}",
        report.notes
    );
}
