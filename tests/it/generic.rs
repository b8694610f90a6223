//! Any upstream: the generic pack with what `.forkdrift.toml` declares the fork's own, and
//! `forkdrift init`, on a Go project no built-in pack knows (fixtures/generic-go.toml).

use crate::support::{Fixture, change, git_ok, kinds};
use forkdrift::model::{ChangeClass, Origin};
use predicates::prelude::*;

fn classes(report: &forkdrift::model::Report) -> Vec<(String, ChangeClass, Option<String>)> {
    report
        .changes
        .iter()
        .map(|c| (c.path.clone(), c.class, c.unit.clone()))
        .collect()
}

#[test]
fn the_generic_pack_classifies_a_go_fork_by_what_it_declares_its_own() {
    let fixture = Fixture::build("generic-go");
    let report = fixture.audit(&[]);
    assert_eq!(report.pack, "generic");
    let unit = |u: &str| Some(u.to_string());
    assert_eq!(
        classes(&report),
        [
            (".forkdrift.toml".into(), ChangeClass::Build, None),
            ("agent/agent.go".into(), ChangeClass::Framework, None),
            (
                "internal/acme/client.go".into(),
                ChangeClass::ConnectorAdded,
                unit("acme")
            ),
            (
                "internal/config/config.go".into(),
                ChangeClass::Framework,
                None
            ),
            (
                "plugins/inputs/acmecpu/acmecpu.go".into(),
                ChangeClass::ConnectorAdded,
                unit("acmecpu")
            ),
            (
                "plugins/inputs/acmecpu/acmecpu_test.go".into(),
                ChangeClass::ConnectorAdded,
                unit("acmecpu")
            ),
            (
                "plugins/inputs/all/all.go".into(),
                ChangeClass::Registration,
                None
            ),
            (
                "plugins/inputs/mem/mem.go".into(),
                ChangeClass::ConnectorModified,
                unit("mem")
            ),
        ]
    );
    let copied = |path: &str| {
        change(&report, path)
            .copied_from
            .as_ref()
            .map(|c| c.path.clone())
    };
    assert_eq!(
        copied("plugins/inputs/acmecpu/acmecpu.go").as_deref(),
        Some("plugins/inputs/cpu/cpu.go")
    );
    assert_eq!(
        copied("plugins/inputs/acmecpu/acmecpu_test.go").as_deref(),
        Some("plugins/inputs/cpu/cpu_test.go")
    );
    assert_eq!(copied("internal/acme/client.go"), None);

    let conflicts: Vec<(&str, Origin)> = report
        .conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.cause))
        .collect();
    assert_eq!(
        conflicts,
        [
            ("agent/agent.go", Origin::Fork),
            ("plugins/inputs/mem/mem.go", Origin::Fork)
        ]
    );
    let expected = fixture.git(&[
        "merge-tree",
        "--write-tree",
        "--name-only",
        "--no-messages",
        "HEAD",
        "upstream/main",
    ]);
    assert_eq!(
        expected.lines().skip(1).collect::<Vec<_>>(),
        ["agent/agent.go", "plugins/inputs/mem/mem.go"]
    );

    let mut found = kinds(&report);
    found.sort();
    let expect = |kind: &str, path: &str| (kind.to_string(), path.to_string());
    assert_eq!(
        found,
        [
            expect("conflict", "agent/agent.go"),
            expect("conflict", "plugins/inputs/mem/mem.go"),
            expect("connector-modified", "plugins/inputs/mem/mem.go"),
            expect("framework-edit", "agent/agent.go"),
            expect("framework-edit", "internal/config/config.go"),
            expect("stale-copy", "plugins/inputs/acmecpu/acmecpu.go"),
        ]
    );
}

/// Without its configuration, the same fork is all framework under the generic pack, and no
/// pack is detected at all: the diagnostic names the way out.
#[test]
fn without_the_configuration_the_generic_pack_sees_only_framework() {
    let fixture = Fixture::build("generic-go");
    git_ok(fixture.path(), &["rm", "--quiet", ".forkdrift.toml"]);
    git_ok(
        fixture.path(),
        &[
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "commit",
            "--quiet",
            "-m",
            "No configuration",
        ],
    );
    fixture
        .forkdrift(&["audit"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no rule pack recognises"))
        .stderr(predicate::str::contains("--rules generic"))
        .stderr(predicate::str::contains("forkdrift init"));
    let report = fixture.audit(&["--rules", "generic"]);
    // A unit directory of upstream's edited in place, without the declaration that it
    // registers the inputs.
    assert_eq!(
        change(&report, "plugins/inputs/all/all.go").class,
        ChangeClass::Framework
    );
    assert!(
        report
            .changes
            .iter()
            .all(|c| c.class != ChangeClass::ConnectorAdded),
        "{:?}",
        classes(&report)
    );
    // The pack names no project: a PR body says "a downstream fork", not "of generic".
    assert!(!report.pr_candidates.is_empty());
    for candidate in &report.pr_candidates {
        assert!(
            candidate
                .body
                .starts_with("This is a framework change a downstream fork carries."),
            "{}",
            candidate.body
        );
    }
}

/// The configuration is read from the work tree wherever forkdrift runs, and from the fork's
/// tree in a bare clone: the same report every way.
#[test]
fn the_configuration_counts_from_anywhere_and_in_a_bare_clone() {
    let fixture = Fixture::build("generic-go");
    let from_elsewhere = fixture.audit(&[]);
    let inside = crate::support::forkdrift_in(fixture.temp.path())
        .current_dir(fixture.path().join("plugins"))
        .args(["audit", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    let inside: forkdrift::model::Report = serde_json::from_slice(&inside.stdout).unwrap();
    assert_eq!(classes(&inside), classes(&from_elsewhere));

    let bare = fixture.temp.path().join("bare.git");
    git_ok(
        fixture.temp.path(),
        &[
            "clone",
            "--quiet",
            "--mirror",
            fixture.path().to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let output = crate::support::forkdrift_in(fixture.temp.path())
        .arg("-C")
        .arg(&bare)
        .args([
            "audit",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--fork",
            "main",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let in_bare: forkdrift::model::Report = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(classes(&in_bare), classes(&from_elsewhere));
}

#[test]
fn init_proposes_the_pack_the_remote_the_target_and_the_own_paths() {
    let fixture = Fixture::build("generic-go");
    let path = fixture.path().join(".forkdrift.toml");
    std::fs::remove_file(&path).unwrap();
    let printed = fixture.forkdrift(&["init", "--print"]).output().unwrap();
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    insta::assert_snapshot!("init_generic_go", String::from_utf8_lossy(&printed.stdout));
    assert!(!path.exists(), "--print writes nothing");

    fixture.forkdrift(&["init"]).assert().success();
    assert_eq!(std::fs::read(&path).unwrap(), printed.stdout);
    fixture
        .forkdrift(&["init"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("init does not overwrite it"))
        .stderr(predicate::str::contains("help:"));
    fixture.forkdrift(&["init", "--force"]).assert().success();

    // What init wrote is what the fork committed by hand: the same audit.
    let report = fixture.audit(&[]);
    assert_eq!(
        change(&report, "plugins/inputs/acmecpu/acmecpu.go").class,
        ChangeClass::ConnectorAdded
    );
    assert_eq!(
        change(&report, "internal/acme/client.go").unit.as_deref(),
        Some("acme")
    );
}

#[test]
fn init_on_a_known_upstream_names_its_pack() {
    let fixture = Fixture::build("copies");
    let printed = fixture.forkdrift(&["init", "--print"]).output().unwrap();
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(text.contains("rules = \"elastic-connectors\""), "{text}");
    assert!(text.contains("units = []"), "{text}");
}

#[test]
fn configuration_errors_point_at_the_line() {
    let fixture = Fixture::build("generic-go");
    let path = fixture.path().join(".forkdrift.toml");
    let cases = [
        (
            "rules = \"generic\"\n\n[own]\nunits = [\"**/{unit}/**\"]\n",
            "only literal directories may come before {unit}",
            ".forkdrift.toml:4:10",
        ),
        (
            "rules = \"generic\"\n[upstream]\nremtoe = \"upstream\"\n",
            "unknown field `remtoe`",
            ".forkdrift.toml:3:1",
        ),
        (
            "rules = \"genric\"\n",
            "no rule pack named `genric`",
            ".forkdrift.toml:1:9",
        ),
        (
            "[own]\npaths = [\"internal/acme/**\", \"**/vendor/**\"]\n",
            "an own path starts with literal directories",
            ".forkdrift.toml:2:30",
        ),
    ];
    for (text, message, at) in cases {
        std::fs::write(&path, text).unwrap();
        fixture
            .forkdrift(&["audit"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains(at))
            .stderr(predicate::str::contains("help:"));
    }
}

/// A declaration that matches nothing is a typo or a directory that moved: the report says so.
#[test]
fn own_declarations_that_match_nothing_are_noted() {
    let fixture = Fixture::build("generic-go");
    std::fs::write(
        fixture.path().join(".forkdrift.toml"),
        "rules = \"generic\"\n[own]\nunits = [\"plugin/inputs/{unit}/**\"]\npaths = [\"internal/acme/**\"]\nregistration = [\"plugins/input/all/**\"]\n",
    )
    .unwrap();
    let report = fixture.audit(&[]);
    let notes: Vec<&str> = report
        .notes
        .iter()
        .map(String::as_str)
        .filter(|n| n.starts_with(".forkdrift.toml"))
        .collect();
    assert_eq!(
        notes,
        [
            ".forkdrift.toml declares `plugin/inputs/{unit}/**` (own units (.forkdrift.toml)), which matches no path of the merge-base, the fork or the target",
            ".forkdrift.toml declares the registration path `plugins/input/all/**`, which matches no path of the merge-base, the fork or the target",
        ]
    );
}

/// A remote or target named in the file that does not exist says where the name came from.
#[test]
fn a_remote_or_target_the_configuration_names_must_exist() {
    let fixture = Fixture::build("generic-go");
    let path = fixture.path().join(".forkdrift.toml");
    for (upstream, message) in [
        (
            "remote = \"upstraem\"",
            "the upstream remote `upstraem` that .forkdrift.toml names does not exist here",
        ),
        (
            "target = \"upstream/release-1.222\"",
            "the target `upstream/release-1.222` that .forkdrift.toml names does not exist here",
        ),
    ] {
        std::fs::write(
            &path,
            format!("rules = \"generic\"\n[upstream]\n{upstream}\n"),
        )
        .unwrap();
        fixture
            .forkdrift(&["audit"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("help:"));
    }
    // The command line overrides it.
    fixture
        .forkdrift(&["audit", "--to", "upstream/main", "--fail-on", "never"])
        .assert()
        .success();
}
