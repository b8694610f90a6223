//! `forkdrift check`: fixture pull requests on the demo fork, judged by what they add.

use crate::support::{Fixture, git_ok};
use predicates::prelude::*;
use serde_json::Value;

/// Commits `files` on a new branch `pr` from the fork's HEAD (pinned identity and date).
fn pull_request(fixture: &Fixture, files: &[(&str, &str)], message: &str) {
    let dir = fixture.path();
    git_ok(dir, &["checkout", "--quiet", "-b", "pr"]);
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    git_ok(dir, &["add", "--all"]);
    git_ok(
        dir,
        &[
            "-c",
            "user.name=Pat Request",
            "-c",
            "user.email=pat@fork.example",
            "commit",
            "--quiet",
            "--date=2024-03-01T10:00:00Z",
            "-m",
            message,
        ],
    );
}

fn read(fixture: &Fixture, path: &str) -> String {
    std::fs::read_to_string(fixture.path().join(path)).unwrap()
}

fn check(fixture: &Fixture, format: &str) -> assert_cmd::assert::Assert {
    fixture
        .forkdrift(&[
            "check", "--base", "main", "--head", "pr", "--format", format,
        ])
        .assert()
}

#[test]
fn a_new_framework_edit_fails_with_an_annotation_on_its_lines() {
    let fixture = Fixture::build("demo");
    let utils = read(&fixture, "connectors/utils.py");
    pull_request(
        &fixture,
        &[(
            "connectors/utils.py",
            &format!("{utils}\n\ndef retry_forever():\n    return True\n"),
        )],
        "Retry forever",
    );
    let lines = utils.lines().count();
    let assert = check(&fixture, "github").code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let annotation = stdout
        .lines()
        .find(|l| l.starts_with("::error") && l.contains("connectors/utils.py"))
        .unwrap_or_else(|| panic!("no annotation in:\n{stdout}"));
    assert!(
        annotation.contains(&format!("line={},endLine={}", lines + 1, lines + 4)),
        "{annotation}"
    );
    assert!(annotation.contains("title=FD101"), "{annotation}");
    // The fork's old framework edit (the Elasticsearch client) is counted, not failed.
    let json: Value =
        serde_json::from_slice(&check(&fixture, "json").code(1).get_output().stdout).unwrap();
    assert_eq!(json["schema"], "forkdrift.check/1");
    assert_eq!(json["new"].as_array().unwrap().len(), 1);
    assert!(
        json["unchanged"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "connectors/es/client.py")
    );
}

#[test]
fn a_copied_connector_with_tests_and_registration_passes() {
    let fixture = Fixture::build("demo");
    let source = read(&fixture, "connectors/sources/jira.py").replace("Jira", "Tracker");
    let tests = read(&fixture, "tests/sources/test_jira.py")
        .replace("Jira", "Tracker")
        .replace("jira", "tracker");
    let config = read(&fixture, "connectors/config.py").replace(
        "            \"mysql\": \"connectors.sources.mysql:MySqlDataSource\",",
        "            \"mysql\": \"connectors.sources.mysql:MySqlDataSource\",\n            \"tracker\": \"connectors.sources.tracker:TrackerDataSource\",",
    );
    pull_request(
        &fixture,
        &[
            ("connectors/sources/tracker.py", &source),
            ("tests/sources/test_tracker.py", &tests),
            ("connectors/config.py", &config),
        ],
        "Add the tracker connector, a copy of jira",
    );
    check(&fixture, "terminal")
        .code(0)
        .stdout(predicate::str::starts_with("forkdrift check pass"));
}

#[test]
fn editing_the_protocol_document_is_refused() {
    let fixture = Fixture::build("demo");
    let protocol = read(&fixture, "docs/CONNECTOR_PROTOCOL.md");
    pull_request(
        &fixture,
        &[(
            "docs/CONNECTOR_PROTOCOL.md",
            &format!("{protocol}\nA fork's note on the protocol.\n"),
        )],
        "Document our protocol tweak",
    );
    check(&fixture, "markdown")
        .code(3)
        .stdout(predicate::str::starts_with("<!-- forkdrift:check -->"));
}

#[test]
fn undoing_a_framework_edit_is_reported_as_fixed() {
    let fixture = Fixture::build("demo");
    let base = fixture.git(&["merge-base", "HEAD", "upstream/main"]);
    let upstream = crate::support::git_in(
        fixture.path(),
        &["show", &format!("{}:connectors/es/client.py", base.trim())],
    );
    pull_request(
        &fixture,
        &[("connectors/es/client.py", &upstream)],
        "Send the timeout change upstream instead",
    );
    let json: Value =
        serde_json::from_slice(&check(&fixture, "json").code(0).get_output().stdout).unwrap();
    assert!(
        json["fixed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "connectors/es/client.py" && f["id"] == "FD101"),
        "{json:#}"
    );
}

#[test]
fn a_baseline_suppresses_what_it_accepts_and_warns_of_what_it_cannot() {
    let fixture = Fixture::build("demo");
    fixture
        .forkdrift(&["baseline", "--owner", "Fin Fork <fin@fork.example>"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("accepted"));
    let config = read(&fixture, ".forkdrift.toml");
    assert!(config.contains("[[baseline.accepted]]"), "{config}");
    // A stale entry (matches nothing) and an expired one.
    let stale = "\n[[baseline.accepted]]\nfingerprint = \"0123456789abcdef\"\nreason = \"gone\"\nowner = \"x\"\n";
    let expired = config.replacen(
        "[[baseline.accepted]]\n",
        "[[baseline.accepted]]\nexpires = \"2024-01-01\"\n",
        1,
    );
    std::fs::write(
        fixture.path().join(".forkdrift.toml"),
        format!("{expired}{stale}"),
    )
    .unwrap();
    let utils = read(&fixture, "connectors/utils.py");
    pull_request(
        &fixture,
        &[("connectors/utils.py", &format!("{utils}\nX = 1\n"))],
        "A framework tweak",
    );
    let json: Value = serde_json::from_slice(&check(&fixture, "json").get_output().stdout).unwrap();
    assert!(
        !json["suppressed"].as_array().unwrap().is_empty(),
        "{json:#}"
    );
    let warnings: Vec<&str> = json["baseline_warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("0123456789abcdef")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("expired")),
        "{warnings:?}"
    );
}
