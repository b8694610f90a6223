//! The audit of issue 2: classes, units, origins, copies, registration, relocation, findings.

use crate::support::{Fixture, change, kinds};
use forkdrift::model::{ChangeClass, Origin, Status};

#[test]
fn demo_fork_is_classified_path_by_path() {
    let fixture = Fixture::build("demo");
    let report = fixture.audit(&[]);

    let table: Vec<(&str, ChangeClass, Option<&str>, Origin)> = report
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.class, c.unit.as_deref(), c.origin))
        .collect();
    assert_eq!(
        table,
        vec![
            (
                "connectors/config.py",
                ChangeClass::Registration,
                None,
                Origin::Fork
            ),
            (
                "connectors/es/client.py",
                ChangeClass::Framework,
                None,
                Origin::Fork
            ),
            (
                "connectors/sources/acme.py",
                ChangeClass::ConnectorAdded,
                Some("acme"),
                Origin::Fork
            ),
            (
                "connectors/sources/minio.py",
                ChangeClass::ConnectorAdded,
                Some("minio"),
                Origin::Fork
            ),
            (
                "connectors/sources/mysql.py",
                ChangeClass::ConnectorModified,
                Some("mysql"),
                Origin::Fork
            ),
            (
                "connectors/sources/zendesk.py",
                ChangeClass::ConnectorAdded,
                Some("zendesk"),
                Origin::Fork
            ),
            (
                "tests/sources/test_acme.py",
                ChangeClass::Test,
                Some("acme"),
                Origin::Fork
            ),
            (
                "tests/sources/test_zendesk.py",
                ChangeClass::Test,
                Some("zendesk"),
                Origin::Fork
            ),
        ]
    );
    assert_eq!(
        change(&report, "connectors/config.py").registers,
        vec!["acme", "minio", "zendesk"]
    );
    assert_eq!(
        change(&report, "connectors/sources/mysql.py").commits,
        vec![fixture.id("mysql-verify")],
        "own commits that touched the path"
    );

    let acme = change(&report, "connectors/sources/acme.py")
        .copied_from
        .clone()
        .expect("acme is a copy");
    assert_eq!(
        (acme.path.as_str(), acme.unit.as_str()),
        ("connectors/sources/mysql.py", "mysql")
    );
    assert!((0.7..0.9).contains(&acme.similarity), "{acme:?}");
    let minio = change(&report, "connectors/sources/minio.py")
        .copied_from
        .clone()
        .expect("minio is a copy");
    assert_eq!(minio.unit, "s3");
    assert_eq!(
        change(&report, "connectors/sources/zendesk.py").copied_from,
        None,
        "hand-written"
    );
    let tests = change(&report, "tests/sources/test_acme.py")
        .copied_from
        .clone()
        .expect("copied tests");
    assert_eq!(tests.path, "tests/sources/test_mysql.py");
    assert_eq!(
        change(&report, "tests/sources/test_zendesk.py").copied_from,
        None
    );

    assert_eq!(
        kinds(&report),
        vec![
            ("framework-edit".into(), "connectors/es/client.py".into()),
            (
                "connector-modified".into(),
                "connectors/sources/mysql.py".into()
            ),
            (
                "copy-without-tests".into(),
                "connectors/sources/minio.py".into()
            ),
            ("conflict".into(), "connectors/sources/mysql.py".into()),
            ("stale-copy".into(), "connectors/sources/acme.py".into()),
            (
                "protocol-change".into(),
                "docs/CONNECTOR_PROTOCOL.md".into()
            ),
        ]
    );
    let severities: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.severity.as_str())
        .collect();
    assert_eq!(
        severities,
        vec!["error", "warning", "warning", "warning", "warning", "note"]
    );
    assert_eq!(report.own_commits.len(), 6);
    assert_eq!(report.fork_point, fixture.id("framework"));
}

#[test]
fn json_contract_has_versioned_schema_and_full_ids() {
    let fixture = Fixture::build("demo");
    let output = fixture
        .forkdrift(&["audit", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["schema"], "forkdrift.audit/1");
    for pointer in [
        "/fork/commit",
        "/target/commit",
        "/merge_base",
        "/fork_point",
        "/own_commits/0/commit",
    ] {
        let id = value.pointer(pointer).and_then(|v| v.as_str()).unwrap();
        assert!(
            id.len() == 40 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "{pointer}: {id}"
        );
    }
    for field in [
        "path",
        "old_path",
        "status",
        "class",
        "unit",
        "origin",
        "copied_from",
        "target_path",
        "lines_added",
        "lines_deleted",
    ] {
        assert!(
            value["changes"][0].get(field).is_some(),
            "changes[] lacks {field}"
        );
    }
    for field in ["id", "severity", "kind", "path", "message", "fingerprint"] {
        assert!(
            value["findings"][0].get(field).is_some(),
            "findings[] lacks {field}"
        );
    }
    assert_eq!(value["fork"]["ref"], "HEAD");
    assert_eq!(value["target"]["ref"], "upstream/main");
    assert_eq!(value["pack"], "elastic-connectors");
}

#[test]
fn fingerprints_survive_new_commits() {
    let fixture = Fixture::build("demo");
    let before = fixture.audit(&[]);
    // Another own commit that changes nothing the findings are about.
    std::fs::write(fixture.path().join("NOTES.md"), "fork notes\n").unwrap();
    fixture.git(&["add", "NOTES.md"]);
    fixture.git(&[
        "-c",
        "user.name=T",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-qm",
        "notes",
    ]);
    let after = fixture.audit(&[]);
    let prints = |r: &forkdrift::model::Report| {
        r.findings
            .iter()
            .map(|f| f.fingerprint.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(prints(&before), prints(&after));
    assert_ne!(before.fork.commit, after.fork.commit);
}

#[test]
fn release_branch_fork_tells_backports_from_its_own_work() {
    let fixture = Fixture::build("release-branch");
    let report = fixture.audit(&[]);
    let origins: Vec<(&str, Origin)> = report
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.origin))
        .collect();
    assert_eq!(
        origins,
        vec![
            ("connectors/sources/google_drive.py", Origin::Fork),
            ("connectors/sources/jira.py", Origin::Both),
            ("connectors/utils.py", Origin::Upstream),
        ]
    );
    // Backports are upstream's: no finding for utils.py although it is a framework file.
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.path == "connectors/utils.py")
    );
    // The fork's merge of the release branch is its own commit; the branch tip is its fork point.
    assert_eq!(report.own_commits.len(), 3);
    assert!(report.own_commits[0].merge);
    assert_eq!(report.fork_point, fixture.id("late-backport"));
    assert_eq!(report.merge_base, fixture.id("refs/tags/v8.10.0.0"));
}

#[test]
fn a_registration_line_is_not_a_settings_edit() {
    let fixture = Fixture::build("copies");
    let registration = fixture.audit(&[]);
    let config = change(&registration, "connectors/config.py");
    assert_eq!(
        (config.class, config.registers.clone()),
        (
            ChangeClass::Registration,
            vec!["acme".into(), "zendesk".into()]
        )
    );
    assert!(
        !registration
            .findings
            .iter()
            .any(|f| f.path == "connectors/config.py")
    );

    let settings = fixture.audit(&["--fork", "settings"]);
    let config = change(&settings, "connectors/config.py");
    assert_eq!(config.class, ChangeClass::Framework);
    assert_eq!(config.registers, vec!["acme"]);
    assert_eq!(
        kinds(&settings)[0],
        ("framework-edit".into(), "connectors/config.py".into())
    );
}

#[test]
fn copies_with_tests_raise_no_test_finding() {
    let fixture = Fixture::build("copies");
    let report = fixture.audit(&[]);
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.kind.as_str() == "copy-without-tests")
    );
    assert_eq!(
        change(&report, "connectors/sources/acme.py")
            .copied_from
            .as_ref()
            .unwrap()
            .unit,
        "mysql"
    );
    assert_eq!(
        change(&report, "connectors/sources/zendesk.py").copied_from,
        None
    );
}

#[test]
fn relocation_follows_the_restructure() {
    let fixture = Fixture::build("restructure");
    let report = fixture.audit(&[]);
    let target = |path: &str| change(&report, path).target_path.clone();
    assert_eq!(
        target("connectors/sources/confluence.py").as_deref(),
        Some("app/connectors_service/connectors/sources/confluence/datasource.py")
    );
    assert_eq!(
        target("connectors/sources/mysql.py").as_deref(),
        Some("app/connectors_service/connectors/sources/mysql/datasource.py"),
        "the package file that received most of the module"
    );
    assert_eq!(
        target("connectors/source.py").as_deref(),
        Some("libs/connectors_sdk/connectors_sdk/source.py")
    );
    assert_eq!(
        target("connectors/config.py").as_deref(),
        Some("app/connectors_service/connectors/config.py")
    );
    assert_eq!(
        target("connectors/sources/acme.py").as_deref(),
        Some("connectors/sources/acme.py"),
        "left behind by the merge"
    );
    assert_eq!(
        target("tests/sources/test_acme.py").as_deref(),
        Some("app/connectors_service/tests/sources/test_acme.py")
    );
    // The copy's source is followed too.
    let copied = change(&report, "connectors/sources/acme.py")
        .copied_from
        .clone()
        .unwrap();
    assert_eq!(
        copied.target_path.as_deref(),
        Some("app/connectors_service/connectors/sources/mysql/datasource.py")
    );
}

#[test]
fn binary_and_non_utf8_files_are_counted_not_diffed() {
    let fixture = Fixture::build("binary");
    let report = fixture.audit(&[]);
    let logo = change(&report, "docs/logo.png");
    assert!(logo.binary);
    assert_eq!((logo.lines_added, logo.lines_deleted), (0, 0));
    let legacy = change(&report, "docs/legacy.txt");
    assert!(!legacy.binary);
    assert_eq!((legacy.lines_added, legacy.lines_deleted), (1, 0));
    let dump = change(&report, "tests/sources/fixtures/mysql/dump.bin");
    assert_eq!(
        (dump.status, dump.class, dump.unit.as_deref()),
        (Status::Added, ChangeClass::Test, Some("mysql"))
    );
    assert_eq!(report.conflicts[0].kind, "binary");
    assert!(report.conflicts[0].ours_lines.is_empty());
}

#[test]
fn a_bare_repository_audits_like_a_clone() {
    let mut scenario = forkdrift::fixtures::Scenario::embedded("demo").unwrap();
    scenario.bare = true;
    let temp = tempfile::tempdir().unwrap();
    let built = forkdrift::fixtures::build(&scenario, &temp.path().join("fork.git")).unwrap();
    let output = crate::support::forkdrift_in(temp.path())
        .arg("-C")
        .arg(&built.path)
        .args(["audit", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bare: forkdrift::model::Report = serde_json::from_slice(&output.stdout).unwrap();
    let clone = Fixture::build("demo").audit(&[]);
    assert_eq!(bare.changes, clone.changes);
    assert_eq!(bare.findings, clone.findings);
}

#[test]
fn explain_names_the_rule() {
    let fixture = Fixture::build("demo");
    let output = fixture
        .forkdrift(&["explain", "connectors/sources/generic_database.py"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("class  none, unchanged; a change here would be framework"),
        "{text}"
    );
    assert!(
        text.contains("`generic_database` exists upstream but is not registered: a shared helper"),
        "{text}"
    );
    let output = fixture
        .forkdrift(&["explain", "tests/sources/test_acme.py"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("class  test (unit acme)"), "{text}");
    assert!(
        text.contains(
            "its tests belong at tests/sources/test_acme.py, tests/sources/fixtures/acme/"
        ),
        "{text}"
    );
    // An upstream connector the fork left alone is not "connector-modified".
    let output = fixture
        .forkdrift(&["explain", "connectors/sources/s3.py"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains(
            "class  none, unchanged (unit s3); a change here would be connector-modified"
        ),
        "{text}"
    );
}

#[test]
fn risk_reads_on_one_scale() {
    // The upgrade is at least as hard as its hardest path: the demo's conflicting in-place
    // edit of mysql scored 55 while the upgrade scored 16.
    for name in ["demo", "conflicts", "release-branch", "restructure"] {
        let report = Fixture::build(name).audit(&[]);
        let hardest = report
            .changes
            .iter()
            .filter_map(|c| c.risk.as_ref())
            .map(|r| r.score)
            .max()
            .unwrap_or(0);
        assert!(
            report.risk.score >= hardest,
            "{name}: {} < {hardest}: {:?}",
            report.risk.score,
            report.risk.reasons
        );
    }
    // Lines in conflict count, and a conflict is not scored again as upstream churn.
    let report = Fixture::build("demo").audit(&[]);
    let mysql = change(&report, "connectors/sources/mysql.py");
    let reasons = &mysql.risk.as_ref().unwrap().reasons;
    assert!(
        reasons.iter().any(|r| r.ends_with("lines in conflict")),
        "{reasons:?}"
    );
    assert!(
        !reasons.iter().any(|r| r.contains("upstream changed it")),
        "{reasons:?}"
    );
    // One upstream commit (the restructure) touching three files the fork changed is one
    // commit, not three.
    let report = Fixture::build("restructure").audit(&[]);
    assert!(
        report
            .risk
            .reasons
            .iter()
            .any(|r| r.ends_with(" 1 upstream commit touched files the fork changed")),
        "{:?}",
        report.risk.reasons
    );
    // A refusal by the protocol gate is part of the upgrade's risk.
    let report = Fixture::build("protocol").audit(&[]);
    assert!(
        report.risk.reasons.iter().any(|r| r.contains("refused")),
        "{:?}",
        report.risk.reasons
    );
}

#[test]
fn explain_tells_the_audits_facts_and_resolves_paths_like_git() {
    use crate::support::forkdrift_in;
    let fixture = Fixture::build("conflicts");
    let explain = |dir: &std::path::Path, path: &str| {
        let output = forkdrift_in(fixture.temp.path())
            .current_dir(dir)
            .args(["explain", path])
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // Upstream renamed s3 to aws_s3 after the merge-base; the fork never touched aws_s3.py.
    let (code, text, _) = explain(fixture.path(), "connectors/sources/aws_s3.py");
    assert_eq!(code, Some(0));
    assert!(
        text.contains("the fork does not change it: upstream added it after the merge-base"),
        "{text}"
    );
    assert!(
        text.contains("upstream added it since, the fork does not change it"),
        "{text}"
    );
    // Relative to the current directory, as git resolves paths.
    let sources = fixture.path().join("connectors/sources");
    for path in [
        "postgresql.py",
        "./postgresql.py",
        "../sources/postgresql.py",
    ] {
        let (code, text, stderr) = explain(&sources, path);
        assert_eq!(code, Some(0), "{path}: {stderr}");
        assert!(
            text.contains("connectors/sources/postgresql.py"),
            "{path}: {text}"
        );
    }
    // A directory gets a clear answer, not a classification.
    let (code, _, stderr) = explain(&sources, ".");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is a directory"), "{stderr}");
    // So does a path that exists nowhere, not a classification of nothing.
    let (code, _, stderr) = explain(&sources, "nonexistent.py");
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("connectors/sources/nonexistent.py is in neither the fork"),
        "{stderr}"
    );
    assert!(
        stderr.contains("in a work tree a path is relative to the current directory (or -C's), as git's are, and in a bare repository to its top"),
        "{stderr}"
    );
}

#[test]
fn a_relocation_moves_a_file_and_never_many_to_one() {
    let report = Fixture::build("relocations").audit(&[]);
    for path in [
        "tests/sources/fixtures/mysql/connector.json",
        "tests/sources/fixtures/s3/connector.json",
        "Dockerfile",
    ] {
        assert_eq!(change(&report, path).target_path, None, "{path}");
    }
}

/// FD101 says what the fork did to the framework file: a file it added is no edit of
/// upstream's (op-geth's core/superchain.go).
#[test]
fn a_framework_finding_says_whether_the_fork_added_changed_or_deleted_the_file() {
    let fixture = Fixture::from_toml(
        r#"description = "A fork that adds, changes and deletes framework files."

[[step]]
commit = "upstream/main"
message = "Connectors framework (#1)"
write = { "connectors/config.py" = "SOURCES = {}\n", "connectors/es/client.py" = "TIMEOUT = 10\n", "connectors/es/legacy.py" = "OLD = 1\n", "connectors/sources/mysql.py" = "class MySqlDataSource:\n    pass\n", "connectors/VERSION" = "8.10.0.0\n" }

[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Our framework work"
write = { "connectors/es/acme_retry.py" = "RETRIES = 3\n", "connectors/es/client.py" = "TIMEOUT = 30\n" }
delete = ["connectors/es/legacy.py"]
"#,
    );
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    let mut messages: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.id == "FD101")
        .map(|f| f.message.as_str())
        .collect();
    messages.sort();
    assert_eq!(
        messages,
        [
            "the fork adds framework file connectors/es/acme_retry.py",
            "the fork changes framework file connectors/es/client.py",
            "the fork deletes framework file connectors/es/legacy.py",
        ]
    );
}

/// A fork that merged from two upstream branches builds on commits neither of which contains
/// the other (op-geth merged from three): the newest is the fork point, and a remark says why.
#[test]
fn a_fork_that_merged_from_two_upstream_branches_says_which_is_its_fork_point() {
    let fixture = Fixture::from_toml(
        r#"description = "A fork that merged a release branch and main, neither containing the other."

[[step]]
commit = "upstream/main"
message = "Connectors framework (#1)"
date = "2024-01-01"
write = { "connectors/config.py" = "SOURCES = {}\n", "connectors/es/client.py" = "TIMEOUT = 10\n", "connectors/sources/mysql.py" = "class MySqlDataSource:\n    pass\n", "connectors/VERSION" = "8.10.0.0\n" }

[[step]]
branch = "upstream/8.10"
at = "upstream/main"

[[step]]
commit = "upstream/8.10"
id = "backport"
message = "[8.10] Fix MySQL (#3)"
date = "2024-01-02"
edit = [{ path = "connectors/sources/mysql.py", replace = [["    pass\n", "    pass  # fixed\n"]] }]

[[step]]
commit = "upstream/main"
id = "newest"
message = "Longer timeout (#2)"
date = "2024-01-03"
edit = [{ path = "connectors/es/client.py", replace = [["TIMEOUT = 10", "TIMEOUT = 20"]] }]

[[step]]
commit = "fork/main"
at = "upstream/8.10"
message = "Acme source"
date = "2024-01-04"
write = { "connectors/sources/acme.py" = "class AcmeDataSource:\n    pass\n" }

[[step]]
merge = "upstream/main"
into = "fork/main"
message = "Merge main"
date = "2024-01-05"
"#,
    );
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    assert_eq!(report.fork_point, fixture.id("newest"));
    let newest = fixture.id("newest");
    assert!(
        report.notes.iter().any(|n| n
            == &format!("the fork builds on 2 upstream commits none of which contains the others (it merged from several upstream branches or tags); the newest, {}, is taken as the fork point", &newest[..12])),
        "{:?}",
        report.notes
    );
}

/// A conflict whose lines a dozen own commits wrote lists ten on a screen and counts the rest;
/// `--all` and the JSON list them all.
#[test]
fn a_conflict_lists_its_first_ten_commits_on_a_screen() {
    let mut scenario = String::from(
        r#"description = "Twelve own commits each add a retry step where upstream rewrites the block."

[[step]]
commit = "upstream/main"
message = "The agent (#1)"
write = { "agent.go" = "package agent\n\nfunc steps() []int {\n\treturn []int{\n\t\t0,\n\t}\n}\n" }

[[step]]
commit = "upstream/main"
message = "Return no steps (#2)"
edit = [{ path = "agent.go", replace = [["\t\t0,\n", "\t\t-1,\n"]] }]
"#,
    );
    for n in 1..=12 {
        let at = if n == 1 {
            "at = \"upstream/main~1\"\n"
        } else {
            ""
        };
        scenario.push_str(&format!(
            "\n[[step]]\ncommit = \"fork/main\"\n{at}message = \"Step {n}\"\nedit = [{{ path = \"agent.go\", replace = [[\"\\t}}\\n}}\", \"\\t\\t{n},\\n\\t}}\\n}}\"]] }}]\n"
        ));
    }
    let fixture = Fixture::from_toml(&scenario);
    let report = fixture.audit(&["--rules", "generic"]);
    assert_eq!(report.conflicts.len(), 1, "{:?}", report.conflicts);
    assert_eq!(report.conflicts[0].commits.len(), 12);
    let screen = |all: bool| {
        let mut args = vec!["audit", "--rules", "generic", "--color", "never"];
        if all {
            args.push("--all");
        }
        let output = fixture.forkdrift(&args).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let text = screen(false);
    assert_eq!(text.matches(" Step ").count(), 10, "{text}");
    assert!(
        text.contains("… and 2 more (--all, or --format json, lists them)"),
        "{text}"
    );
    assert_eq!(screen(true).matches(" Step ").count(), 12);
}
