//! The next upgrade of issue 3: exact conflicts (as git's merge-ort reports them), their
//! cause and commits, orphans, risk and the hop sweep.

use crate::support::{Fixture, change, snapshot_dir};
use forkdrift::fixtures::Scenario;
use forkdrift::model::Origin;

/// Fixtures whose fork and target share history.
fn mergeable() -> Vec<String> {
    Scenario::names()
        .into_iter()
        .filter(|n| n != "unrelated")
        .collect()
}

#[test]
fn conflict_paths_equal_git_merge_tree_on_every_fixture() {
    for name in mergeable() {
        let fixture = Fixture::build(&name);
        let report = fixture.audit(&[]);
        let expected: Vec<String> = fixture
            .git(&[
                "merge-tree",
                "--write-tree",
                "--name-only",
                "--no-messages",
                "HEAD",
                &report.target.commit,
            ])
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect();
        let mut ours: Vec<String> = report.conflicts.iter().map(|c| c.path.clone()).collect();
        ours.sort();
        assert_eq!(ours, expected, "{name}");
    }
}

/// The regions git marks in a merged file: each side's lines between the markers.
fn marked_regions(merged: &str) -> Vec<(Vec<&str>, Vec<&str>)> {
    let mut regions = Vec::new();
    let mut lines = merged.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with("<<<<<<< ") {
            continue;
        }
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        let mut side = Some(&mut ours);
        for line in lines.by_ref() {
            if line.starts_with(">>>>>>> ") {
                break;
            } else if line == "=======" {
                side = Some(&mut theirs);
            } else if line.starts_with("||||||| ") {
                side = None;
            } else if let Some(side) = side.as_mut() {
                side.push(line);
            }
        }
        regions.push((ours, theirs));
    }
    regions
}

#[test]
fn conflict_regions_are_the_ones_git_marks_on_every_fixture() {
    let mut checked = 0;
    for name in mergeable() {
        let fixture = Fixture::build(&name);
        let report = fixture.audit(&[]);
        let merge = fixture.git(&["merge-tree", "--write-tree", "HEAD", &report.target.commit]);
        let tree = merge.lines().next().unwrap().to_string();
        // `<mode> <blob> <stage>\t<path>` lines name the fork's and the target's versions.
        let stage = |path: &str, stage: &str| {
            merge.lines().find_map(|line| {
                let (meta, at) = line.split_once('\t')?;
                let fields: Vec<&str> = meta.split(' ').collect();
                (at == path && fields.len() == 3 && fields[2] == stage)
                    .then(|| fixture.git(&["cat-file", "blob", fields[1]]))
            })
        };
        for conflict in report.conflicts.iter().filter(|c| c.kind == "content") {
            let merged = fixture.git(&["cat-file", "blob", &format!("{tree}:{}", conflict.path)]);
            let regions = marked_regions(&merged);
            let (ours, theirs) = (
                stage(&conflict.path, "2").unwrap(),
                stage(&conflict.path, "3").unwrap(),
            );
            let text = |file: &str, [first, last]: [u64; 2]| -> Vec<String> {
                let lines: Vec<&str> = file.lines().collect();
                lines[first as usize - 1..last as usize]
                    .iter()
                    .map(|l| l.to_string())
                    .collect()
            };
            assert_eq!(
                conflict.ours_lines.len(),
                regions.len(),
                "{name}: {}",
                conflict.path
            );
            assert_eq!(
                conflict.theirs_lines.len(),
                regions.len(),
                "{name}: {}",
                conflict.path
            );
            for (at, (mine, upstreams)) in regions.iter().enumerate() {
                assert_eq!(
                    text(&ours, conflict.ours_lines[at]),
                    *mine,
                    "{name}: {}",
                    conflict.path
                );
                assert_eq!(
                    text(&theirs, conflict.theirs_lines[at]),
                    *upstreams,
                    "{name}: {}",
                    conflict.path
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} content conflicts");
}

#[test]
fn comparing_a_repository_with_itself_finds_nothing() {
    for name in mergeable() {
        let fixture = Fixture::build(&name);
        let target = fixture.audit(&[]).target.commit;
        let report = fixture.audit(&["--fork", &target]);
        assert!(report.changes.is_empty(), "{name}: {:?}", report.changes);
        assert!(report.findings.is_empty(), "{name}: {:?}", report.findings);
        assert!(report.conflicts.is_empty(), "{name}");
        assert!(report.own_commits.is_empty(), "{name}");
        assert_eq!(report.risk.score, 0, "{name}");
    }
}

#[test]
fn every_command_leaves_the_repository_byte_identical() {
    let fixture = Fixture::build("demo");
    let git_dir = fixture.path().join(".git");
    let before = snapshot_dir(fixture.path());
    for args in [
        vec!["audit", "--hops", "--fail-on", "never"],
        vec!["audit", "--format", "json", "--fail-on", "never"],
        vec!["audit", "--format", "markdown", "--fail-on", "never"],
        vec!["plan", "--fail-on", "never"],
        vec!["explain", "connectors/sources/mysql.py"],
        vec!["candidates"],
        vec!["deps", "--fail-on", "never"],
        vec!["init", "--print"],
    ] {
        fixture.forkdrift(&args).assert().success();
        assert!(
            snapshot_dir(fixture.path()) == before,
            "`forkdrift {}` changed the repository",
            args.join(" ")
        );
    }
    // Not one object was written: git's merge ran against a throw-away object directory.
    assert!(git_dir.join("objects").exists());
}

#[test]
fn a_content_conflict_names_its_lines_and_the_commit_that_wrote_them() {
    let fixture = Fixture::build("demo");
    let report = fixture.audit(&[]);
    assert_eq!(report.conflicts.len(), 1);
    let conflict = &report.conflicts[0];
    assert_eq!(
        (
            conflict.path.as_str(),
            conflict.kind.as_str(),
            conflict.cause
        ),
        ("connectors/sources/mysql.py", "content", Origin::Fork)
    );
    assert_eq!(conflict.ours_lines, vec![[56, 56]]);
    assert_eq!(conflict.theirs_lines, vec![[56, 56]]);
    assert_eq!(conflict.commits, vec![fixture.id("mysql-verify")]);
    assert_eq!(report.summary.fork_conflicts, 1);
}

#[test]
fn each_kind_of_conflict_is_reported_as_git_reports_it() {
    let fixture = Fixture::build("conflicts");
    let report = fixture.audit(&[]);
    let kinds: Vec<(&str, &str, Vec<String>)> = report
        .conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.kind.as_str(), c.commits.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                "connectors/sources/aws_s3.py",
                "rename/delete",
                vec![fixture.id("drop-s3")]
            ),
            (
                "connectors/sources/directory.py",
                "modify/delete",
                vec![fixture.id("dir-edit")]
            ),
            (
                "connectors/sources/notion.py",
                "add/add",
                vec![fixture.id("notion-fork")]
            ),
            (
                "connectors/sources/postgresql.py",
                "content",
                vec![fixture.id("pg-edit")]
            ),
        ]
    );
    assert_eq!(
        report.conflicts[3].ours_lines.len(),
        3,
        "three conflicting hunks"
    );
    // The fork deleted an upstream connector, and moved a file: renames are followed.
    let s3 = change(&report, "connectors/sources/s3.py");
    assert_eq!(
        (s3.class, s3.unit.as_deref()),
        (forkdrift::model::ChangeClass::ConnectorDeleted, Some("s3"))
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind.as_str() == "connector-deleted" && f.path == "connectors/sources/s3.py")
    );
    let readme = change(&report, "docs/README.md");
    assert_eq!(
        (readme.status, readme.old_path.as_deref()),
        (forkdrift::model::Status::Renamed, Some("README.md"))
    );
    assert_eq!(readme.class, forkdrift::model::ChangeClass::Docs);
    assert_eq!(
        readme.target_path.as_deref(),
        Some("README.md"),
        "where upstream keeps it"
    );
    // utils.py merges cleanly, yet both sides changed it: a risk with its reason.
    let utils = change(&report, "connectors/utils.py");
    let risk = utils.risk.as_ref().unwrap();
    assert!(
        risk.reasons.iter().any(|r| r
            .contains("upstream changed the same file since the fork point")
            && r.ends_with("it merges cleanly but needs review")),
        "{risk:?}"
    );
    assert!(
        !report
            .conflicts
            .iter()
            .any(|c| c.path == "connectors/utils.py")
    );
}

#[test]
fn the_restructure_orphans_the_forks_connector_without_a_conflict() {
    let fixture = Fixture::build("restructure");
    let report = fixture.audit(&[]);
    let acme = change(&report, "connectors/sources/acme.py");
    assert!(acme.orphaned);
    assert!(
        !report
            .conflicts
            .iter()
            .any(|c| c.path.ends_with("/acme.py")),
        "no merge tool warns about it"
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind.as_str() == "orphaned" && f.path == "connectors/sources/acme.py")
    );
    // Edits that follow upstream's moves into live directories are not orphans.
    for path in [
        "connectors/sources/confluence.py",
        "connectors/source.py",
        "connectors/config.py",
        "tests/sources/test_acme.py",
    ] {
        assert!(!change(&report, path).orphaned, "{path}");
    }
    let location: Vec<(&str, &str)> = report
        .conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.kind.as_str()))
        .collect();
    assert_eq!(
        location,
        vec![
            (
                "app/connectors_service/connectors/sources/mysql/datasource.py",
                "content"
            ),
            (
                "app/connectors_service/tests/sources/test_acme.py",
                "file-location"
            ),
        ]
    );
    assert_eq!(report.conflicts[0].commits, vec![fixture.id("mysql-edit")]);
    assert_eq!(report.summary.orphaned, 1);
}

#[test]
fn a_release_branch_conflicts_with_main_without_the_forks_help() {
    let fixture = Fixture::build("release-branch");
    let report = fixture.audit(&[]);
    let causes: Vec<(&str, Origin)> = report
        .conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.cause))
        .collect();
    assert_eq!(
        causes,
        vec![
            ("connectors/sources/google_drive.py", Origin::Fork),
            ("connectors/utils.py", Origin::Upstream)
        ],
        "fork-caused first"
    );
    assert!(report.conflicts[1].commits.is_empty());
    assert_eq!(report.conflicts[0].commits, vec![fixture.id("fork-drive")]);
    assert_eq!(
        (report.summary.conflicts, report.summary.fork_conflicts),
        (2, 1)
    );
}

#[test]
fn with_no_own_work_every_conflict_is_upstreams() {
    let fixture = Fixture::build("release-branch");
    let report = fixture.audit(&["--fork", "upstream/8.10", "--to", "upstream/main", "--hops"]);
    assert!(report.own_commits.is_empty());
    assert!(!report.conflicts.is_empty());
    assert!(
        report
            .conflicts
            .iter()
            .all(|c| c.cause == Origin::Upstream && c.commits.is_empty()),
        "{:?}",
        report.conflicts
    );
    assert_eq!(report.summary.fork_conflicts, 0);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.kind.as_str() != "conflict")
    );
    assert!(report.hops.iter().all(|h| h.fork_conflicts == 0));
}

#[test]
fn the_header_and_the_targets_hop_row_count_alike() {
    let fixture = Fixture::build("release-branch");
    let report = fixture.audit(&["--hops"]);
    let last = report.hops.last().unwrap();
    assert_eq!(last.commit, report.target.commit);
    assert_eq!(
        (last.conflicts, last.fork_conflicts),
        (report.summary.conflicts, report.summary.fork_conflicts)
    );
}

#[test]
fn the_hop_sweep_walks_one_minor_at_a_time() {
    let fixture = Fixture::build("demo");
    let report = fixture.audit(&["--hops"]);
    let hops: Vec<(&str, &str, usize, usize, Option<&str>)> = report
        .hops
        .iter()
        .map(|h| {
            (
                h.version.as_str(),
                h.name.as_str(),
                h.conflicts,
                h.fork_conflicts,
                h.protocol.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        hops,
        vec![
            ("8.11.0.0", "upstream/8.11", 1, 1, Some("prose")),
            ("8.12.0.0", "upstream/8.12", 1, 1, Some("none")),
            ("8.13.0.0", "upstream/main", 1, 1, Some("none")),
        ]
    );
    assert!(report.hops.iter().all(|h| h.risk.score > 0));
}

#[test]
fn risk_scores_list_their_reasons() {
    let report = Fixture::build("demo").audit(&[]);
    let mysql = change(&report, "connectors/sources/mysql.py")
        .risk
        .clone()
        .unwrap();
    assert_eq!(
        mysql.reasons[0],
        "+35 the fork's edit conflicts with the target"
    );
    assert!(mysql.score >= 35);
    assert!(
        report
            .risk
            .reasons
            .iter()
            .any(|r| r.ends_with("the hardest path, connectors/sources/mysql.py")),
        "{:?}",
        report.risk
    );
}

#[test]
fn merges_read_the_forks_attributes_wherever_forkdrift_runs() {
    use crate::support::{forkdrift_in, git_ok};
    let fixture = Fixture::build("attributes");
    let args = ["audit", "--format", "json", "--fail-on", "never"];
    let inside = forkdrift_in(fixture.temp.path())
        .current_dir(fixture.path())
        .args(args)
        .output()
        .unwrap();
    let elsewhere = fixture.forkdrift(&args).output().unwrap();
    let bare = fixture.temp.path().join("bare.git");
    git_ok(
        fixture.temp.path(),
        &[
            "clone",
            "--quiet",
            "--mirror",
            fixture.path().to_str().unwrap(),
            "bare.git",
        ],
    );
    git_ok(
        &bare,
        &[
            "config",
            "remote.upstream.url",
            "https://example.invalid/upstream",
        ],
    );
    let in_bare = forkdrift_in(fixture.temp.path())
        .arg("-C")
        .arg(&bare)
        .args(args)
        .output()
        .unwrap();
    for output in [&inside, &elsewhere, &in_bare] {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(
        String::from_utf8_lossy(&inside.stdout),
        String::from_utf8_lossy(&elsewhere.stdout),
        "inside the work tree vs -C from elsewhere"
    );
    assert_eq!(
        String::from_utf8_lossy(&inside.stdout),
        String::from_utf8_lossy(&in_bare.stdout),
        "a clone vs a bare mirror"
    );

    // The conflicts are those of `git merge` in a checkout of the fork.
    let report: forkdrift::model::Report = serde_json::from_slice(&inside.stdout).unwrap();
    let ours: Vec<&str> = report.conflicts.iter().map(|c| c.path.as_str()).collect();
    let _ = fixture.git(&[
        "-c",
        "user.name=T",
        "-c",
        "user.email=t@example.invalid",
        "merge",
        "--no-commit",
        "--no-ff",
        &report.target.commit,
    ]);
    let unmerged = fixture.git(&["diff", "--name-only", "--diff-filter=U"]);
    assert_eq!(ours, unmerged.lines().collect::<Vec<_>>());
    assert_eq!(ours, vec!["connectors/config.py"]);
}

#[test]
fn each_hops_conflict_paths_are_what_git_merge_tree_names() {
    for name in ["demo", "release-branch"] {
        let fixture = Fixture::build(name);
        let report = fixture.audit(&["--hops"]);
        assert!(
            report.hops.iter().any(|h| !h.conflict_paths.is_empty()),
            "{name}: no hop conflicts, so nothing would be compared"
        );
        for hop in &report.hops {
            let listed = fixture.git(&[
                "merge-tree",
                "--write-tree",
                "--name-only",
                "--no-messages",
                &report.fork.commit,
                &hop.commit,
            ]);
            // The first line is the merged tree; the conflicted paths follow.
            let from_git: Vec<&str> = listed.lines().skip(1).collect();
            assert_eq!(hop.conflict_paths, from_git, "{name}: hop {}", hop.name);
            assert_eq!(
                hop.conflicts,
                hop.conflict_paths.len(),
                "{name}: hop {}",
                hop.name
            );
        }
    }
}

#[test]
fn each_hops_fork_conflicts_are_what_an_audit_to_that_point_says() {
    for name in ["demo", "release-branch"] {
        let fixture = Fixture::build(name);
        let report = fixture.audit(&["--hops"]);
        assert!(
            report.hops.iter().any(|h| h.fork_conflicts > 0),
            "{name}: no hop has conflicts the fork causes, so nothing would be compared"
        );
        for hop in &report.hops {
            let alone = fixture.audit(&["--to", &hop.commit]);
            let caused = alone
                .conflicts
                .iter()
                .filter(|c| c.cause == forkdrift::model::Origin::Fork && !c.already_upstream)
                .count();
            assert_eq!(hop.fork_conflicts, caused, "{name}: hop {}", hop.name);
        }
    }
}

#[test]
fn a_hop_attributes_its_own_conflicts() {
    // The fork lives on the 8.10 branch, whose backport conflicts with main's next release
    // in the timeout; the fork's own edit (the retries) conflicts only with the release after.
    // At 8.11 the one conflict is upstream's (the fork point has it too and no own line is in
    // it); at the target the same file conflicts in the fork's lines as well.
    let fixture = Fixture::from_toml(
        r#"description = "A fork on a release branch whose hops differ in who causes a conflict."

[[step]]
commit = "upstream/main"
message = "Connectors framework (#1)"
write = { "connectors/utils.py" = """TIMEOUT = 30

def helper_0():
    return 0

def helper_1():
    return 1

def helper_2():
    return 2

def helper_3():
    return 3

def helper_4():
    return 4

def helper_5():
    return 5

def helper_6():
    return 6

def helper_7():
    return 7

RETRIES = 3
""", "connectors/VERSION" = "8.10.0.0\n" }

[[step]]
tag = "v8.10.0.0"
at = "upstream/main"

[[step]]
branch = "upstream/8.10"
at = "upstream/main"

[[step]]
commit = "upstream/8.10"
message = "[8.10] Shorter timeout (#2) (#3)"
edit = [{ path = "connectors/utils.py", replace = [["TIMEOUT = 30", "TIMEOUT = 20"]] }]

[[step]]
commit = "fork/main"
at = "upstream/8.10"
message = "Retry more"
edit = [{ path = "connectors/utils.py", replace = [["RETRIES = 3", "RETRIES = 9"]] }]

[[step]]
commit = "upstream/main"
message = "Longer timeout (#4)"
edit = [
  { path = "connectors/utils.py", replace = [["TIMEOUT = 30", "TIMEOUT = 60"]] },
  { path = "connectors/VERSION", replace = [["8.10.0.0", "8.11.0.0"]] },
]

[[step]]
tag = "v8.11.0.0"
at = "upstream/main"

[[step]]
commit = "upstream/main"
message = "Retry less (#5)"
edit = [
  { path = "connectors/utils.py", replace = [["RETRIES = 3", "RETRIES = 2"]] },
  { path = "connectors/VERSION", replace = [["8.11.0.0", "8.12.0.0"]] },
]

[[step]]
tag = "v8.12.0.0"
at = "upstream/main"
"#,
    );
    let rules = ["--rules", "elastic-connectors"];
    let report = fixture.audit(&[&rules[..], &["--hops"]].concat());
    let counts: Vec<(String, usize, usize)> = report
        .hops
        .iter()
        .map(|h| (h.version.clone(), h.conflicts, h.fork_conflicts))
        .collect();
    assert_eq!(
        counts,
        [
            ("8.11.0.0".to_string(), 1, 0),
            ("8.12.0.0".to_string(), 1, 1)
        ]
    );
    for hop in &report.hops {
        let alone = fixture.audit(&[&rules[..], &["--to", &hop.commit]].concat());
        let caused = alone
            .conflicts
            .iter()
            .filter(|c| c.cause == forkdrift::model::Origin::Fork && !c.already_upstream)
            .count();
        assert_eq!(hop.fork_conflicts, caused, "hop {}", hop.version);
    }
}

#[test]
fn an_in_place_edit_across_the_restructure_is_advised_at_the_targets_paths_too() {
    let fixture = Fixture::build("restructure");
    let report = fixture.audit(&[]);
    let mysql = report
        .in_place_edits
        .iter()
        .find(|e| e.unit == "mysql")
        .expect("mysql is edited in place");
    // Before the upgrade: the fork's module layout.
    assert!(mysql.files.contains(&[
        "connectors/sources/mysql.py".to_string(),
        "connectors/sources/mysql_custom.py".to_string()
    ]));
    // After it: the target's package, every file of it, and its tests.
    let target_files = fixture.git(&["ls-tree", "-r", "--name-only", &report.target.commit]);
    let expected: Vec<[String; 2]> = target_files
        .lines()
        .filter(|p| {
            p.starts_with("app/connectors_service/connectors/sources/mysql/")
                || *p == "app/connectors_service/tests/sources/test_mysql.py"
        })
        .map(|p| [p.to_string(), p.replacen("mysql", "mysql_custom", 1)])
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(mysql.at_target, expected);
    // Every report that shows the advice shows where the copy goes after the upgrade.
    let [_, after] = &expected[0];
    let mut markdown = Vec::new();
    forkdrift::render::markdown::render(&report, None, &mut markdown).unwrap();
    let mut html = Vec::new();
    forkdrift::render::html::render(&report, &[], &mut html).unwrap();
    for (format, page) in [("markdown", markdown), ("html", html)] {
        // The page lets long paths break after each slash.
        let page = String::from_utf8(page).unwrap().replace("<wbr>", "");
        assert!(page.contains("upstream moved it"), "{format}");
        assert!(page.contains(after.as_str()), "{format} names {after}");
    }
}

#[test]
fn a_release_the_fork_point_contains_is_no_hop_even_when_the_version_file_reads_short() {
    // go-ethereum states its version in three constants; a pack that reads `Major = 1` alone
    // put every release since 1.0 that sits on a side branch on the way (v1.0.5, from 2015).
    let fixture = Fixture::from_toml(
        r#"description = "Upstream patches 1.0 on a side branch after the fork took 1.1."

[[step]]
commit = "upstream/main"
message = "The agent (#1)"
write = { "agent.go" = "package agent\n\nconst Retries = 3\n", "VERSION" = "1.0.0\n" }

[[step]]
tag = "v1.0.0"
at = "upstream/main"

[[step]]
branch = "upstream/release-1.0"
at = "upstream/main"

[[step]]
commit = "upstream/main"
message = "Release 1.1.0 (#2)"
edit = [{ path = "VERSION", replace = [["1.0.0", "1.1.0"]] }]

[[step]]
tag = "v1.1.0"
at = "upstream/main"

[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Retry more"
edit = [{ path = "agent.go", replace = [["Retries = 3", "Retries = 5"]] }]

[[step]]
commit = "upstream/release-1.0"
message = "Release 1.0.1 (#3)"
edit = [{ path = "VERSION", replace = [["1.0.0", "1.0.1"]] }]

[[step]]
tag = "v1.0.1"
at = "upstream/release-1.0"

[[step]]
commit = "upstream/main"
message = "Release 1.2.0 (#4)"
edit = [{ path = "VERSION", replace = [["1.1.0", "1.2.0"]] }]

[[step]]
tag = "v1.2.0"
at = "upstream/main"
"#,
    );
    let pack = fixture.temp.path().join("short-version.toml");
    std::fs::write(
        &pack,
        r#"name = "short-version"
description = "reads only the major of the version file"

[[zone]]
kind = "framework"
paths = ["**"]

[versions]
scheme = "dotted"
tags = '''^v(?P<version>\d+\.\d+\.\d+)$'''
source = [{ path = "VERSION", regex = '''^(?P<version>\d+)''' }]
"#,
    )
    .unwrap();
    let report = fixture.audit(&[
        "--rules",
        pack.to_str().unwrap(),
        "--to",
        "v1.2.0",
        "--hops",
    ]);
    let hops: Vec<&str> = report.hops.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hops, ["v1.2.0"]);
}

#[test]
fn a_conflict_marker_size_below_git_s_seven_still_names_the_lines() {
    let fixture = Fixture::from_toml(
        r#"description = "A repository whose Python files conflict with three-character markers."

[[step]]
commit = "upstream/main"
message = "The agent (#1)"
write = { ".gitattributes" = "*.py conflict-marker-size=3\n", "agent.py" = "import os\n\nRETRIES = 3\n\nTIMEOUT = 30\n" }

[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Retry more"
edit = [{ path = "agent.py", replace = [["RETRIES = 3", "RETRIES = 5"]] }]

[[step]]
commit = "upstream/main"
message = "Retry less (#2)"
edit = [{ path = "agent.py", replace = [["RETRIES = 3", "RETRIES = 2"]] }]
"#,
    );
    let tree = fixture.git(&[
        "--attr-source=HEAD",
        "merge-tree",
        "--write-tree",
        "HEAD",
        "upstream/main",
    ]);
    let tree = tree.lines().next().unwrap();
    let merged = fixture.git(&["cat-file", "blob", &format!("{tree}:agent.py")]);
    assert!(merged.contains("\n<<< "), "{merged}");
    let report = fixture.audit(&["--rules", "generic"]);
    assert_eq!(report.conflicts.len(), 1);
    let conflict = &report.conflicts[0];
    assert_eq!(
        (
            conflict.path.as_str(),
            &conflict.ours_lines,
            &conflict.theirs_lines
        ),
        ("agent.py", &vec![[3, 3]], &vec![[3, 3]])
    );
}
