//! Bad input: a miette diagnostic with a `help:` line and exit 2, never a panic.

use crate::support::{Fixture, forkdrift_in, git_ok};
use predicates::prelude::*;

fn fails_with(mut command: assert_cmd::Command, message: &str, help: &str) {
    command
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(message))
        .stderr(predicate::str::contains("help:"))
        .stderr(predicate::str::contains(help))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn outside_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = forkdrift_in(dir.path());
    command.arg("-C").arg(dir.path()).arg("audit");
    fails_with(
        command,
        "is not inside a git repository",
        "must be inside your fork's clone",
    );
    // A file is no directory to start from, though a repository may hold it.
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "x").unwrap();
    let repo = Fixture::build("minimal");
    let inside = repo.path().join("README.md");
    std::fs::write(&inside, "x").unwrap();
    for path in [&file, &inside] {
        let mut command = forkdrift_in(dir.path());
        command.arg("-C").arg(path).arg("audit");
        fails_with(command, "is a file, not a directory", "a directory");
    }
    // libgit2's message, without the class and code git2 adds for programmers.
    let mut command = forkdrift_in(dir.path());
    command.arg("-C").arg(dir.path()).arg("audit");
    command
        .assert()
        .stderr(predicate::str::contains("could not find repository"))
        .stderr(predicate::str::contains("class=").not());
}

#[test]
fn without_an_upstream_remote() {
    let fixture = Fixture::build("minimal");
    fixture.git(&["remote", "rename", "upstream", "origin"]);
    fails_with(
        fixture.forkdrift(&["audit"]),
        "no remote named `upstream`",
        "git remote add upstream",
    );
    // With --rules the help names the pack's upstream URL.
    fails_with(
        fixture.forkdrift(&["audit", "--rules", "elastic-connectors"]),
        "no remote named `upstream`",
        "git remote add upstream https://github.com/elastic/connectors",
    );
    // The remote can be named, and refs outside any remote can be the target.
    fixture
        .forkdrift(&["audit", "--upstream", "origin", "--fail-on", "never"])
        .assert()
        .code(0);
    fixture
        .forkdrift(&["audit", "--to", "v8.10.0.0", "--fail-on", "never"])
        .assert()
        .code(0);
}

#[test]
fn unknown_revision() {
    let fixture = Fixture::build("minimal");
    fails_with(
        fixture.forkdrift(&["audit", "--to", "upstream/nope"]),
        "unknown revision `upstream/nope`",
        "upstream's branches need `git fetch upstream` first",
    );
    // The fetch names the remote the revision names, or the one there is.
    fixture.git(&["remote", "rename", "upstream", "elastic"]);
    fails_with(
        fixture.forkdrift(&["audit", "--upstream", "elastic", "--to", "elastic/nope"]),
        "unknown revision `elastic/nope`",
        "elastic's branches need `git fetch elastic` first",
    );
    fails_with(
        fixture.forkdrift(&["audit", "--upstream", "elastic", "--to", "no-such-branch"]),
        "unknown revision `no-such-branch`",
        "need `git fetch elastic --tags` first",
    );
    fixture.git(&["remote", "rename", "elastic", "upstream"]);
    fails_with(
        fixture.forkdrift(&["audit", "--fork", "nope"]),
        "unknown revision `nope`",
        "git rev-parse --verify nope",
    );
    // A typo of a ref that exists names it.
    fails_with(
        fixture.forkdrift(&["audit", "--to", "upstream/mian"]),
        "unknown revision `upstream/mian`",
        "did you mean `upstream/main`?",
    );
    // A version no release carries: the help names the releases there are.
    fails_with(
        fixture.forkdrift(&["plan", "--to", "9.9"]),
        "unknown revision `9.9`",
        "no upstream release is version 9.9; the newest are 8.10.0.0: name one of those",
    );
}

#[test]
fn unrelated_histories() {
    let fixture = Fixture::build("unrelated");
    fails_with(
        fixture.forkdrift(&["audit", "--rules", "elastic-connectors"]),
        "have no merge-base",
        "share no commit",
    );
}

#[test]
fn shallow_clone_without_a_merge_base() {
    let fixture = Fixture::build("minimal");
    let clone = fixture.temp.path().join("shallow");
    let url = format!("file://{}", fixture.path().display());
    git_ok(
        fixture.temp.path(),
        &[
            "clone",
            "--quiet",
            "--depth",
            "1",
            &url,
            clone.to_str().unwrap(),
        ],
    );
    git_ok(&clone, &["remote", "add", "upstream", &url]);
    git_ok(
        &clone,
        &[
            "fetch",
            "--quiet",
            "--depth",
            "1",
            "upstream",
            "+refs/remotes/upstream/*:refs/remotes/upstream/*",
        ],
    );
    let mut command = forkdrift_in(fixture.temp.path());
    command
        .arg("-C")
        .arg(&clone)
        .args(["audit", "--to", "upstream/main"]);
    fails_with(command, "in this shallow clone", "git fetch --unshallow");
}

#[test]
fn invalid_rule_pack_points_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("broken.toml");
    std::fs::write(
        &pack,
        "name = \"broken\"\ndescription = \"x\"\n[[units]]\nlayout = \"x\"\npath = \"**/sources/{unit}.py\"\n",
    )
    .unwrap();
    let mut command = forkdrift_in(dir.path());
    command.args(["rules", "check"]).arg(&pack);
    command
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "only literal directories may come before {unit}",
        ))
        .stderr(predicate::str::contains("broken.toml:5:"));

    std::fs::write(&pack, "name = \"broken\"\ndescription = \"x\"\nzones = 3\n").unwrap();
    let mut command = forkdrift_in(dir.path());
    command.args(["rules", "check"]).arg(&pack);
    command
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown field `zones`"))
        .stderr(predicate::str::contains("help: see docs/rule-packs.md"));

    let fixture = Fixture::build("minimal");
    fails_with(
        fixture.forkdrift(&["audit", "--rules", pack.to_str().unwrap()]),
        "invalid rule pack",
        "rule-packs.md",
    );
    fails_with(
        fixture.forkdrift(&["audit", "--rules", dir.path().to_str().unwrap()]),
        "that is a directory, not a rule pack",
        "forkdrift rules list",
    );
    fails_with(
        fixture.forkdrift(&["audit", "--rules", "nope"]),
        "no rule pack named `nope`",
        "built-in packs",
    );
}

#[test]
fn builtin_packs_load_and_are_named_after_their_files() {
    for name in forkdrift::rules::Pack::builtin_names() {
        let pack =
            forkdrift::rules::Pack::builtin(&name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(pack.name, name);
    }
    let dir = tempfile::tempdir().unwrap();
    forkdrift_in(dir.path())
        .args(["rules", "list"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("elastic-connectors"));
}

#[test]
fn git_missing_or_too_old_for_merge_ort() {
    let fixture = Fixture::build("minimal");
    let mut command = fixture.forkdrift(&["audit"]);
    command.env("FORKDRIFT_GIT", fixture.temp.path().join("no-such-git"));
    fails_with(
        command,
        "no-such-git` (named by FORKDRIFT_GIT)",
        "fix or unset it",
    );
    let mut command = fixture.forkdrift(&["audit"]);
    command.env("PATH", fixture.temp.path());
    fails_with(command, "could not run `git`", "install git 2.40 or newer");

    let old = fixture.temp.path().join("old-git");
    std::fs::write(&old, "#!/bin/sh\necho 'git version 2.34.1'\n").unwrap();
    let mut permissions = std::fs::metadata(&old).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&old, permissions).unwrap();
    let mut command = fixture.forkdrift(&["audit"]);
    command.env("FORKDRIFT_GIT", &old);
    fails_with(
        command,
        "needs git 2.40 or newer, found 2.34.1",
        "merge-ort",
    );
}

#[test]
fn unknown_severity_keys_point_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("typo.toml");
    let text = forkdrift::rules::Pack::builtin("elastic-connectors")
        .unwrap()
        .source_text
        .replace("name = \"elastic-connectors\"", "name = \"typo\"")
        .replace(
            "connector-modified = \"warning\"",
            "framwork-edit = \"off\"",
        );
    std::fs::write(&pack, text).unwrap();
    let mut command = forkdrift_in(dir.path());
    command.args(["rules", "check"]).arg(&pack);
    command
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown finding kind `framwork-edit`",
        ))
        .stderr(predicate::str::contains("typo.toml:"))
        .stderr(predicate::str::contains(
            "help: the kinds are: framework-edit",
        ));
}

/// The review's reproduction: a named group that exists but does not take part in the match
/// (`latest` matches the tag pattern without a version) made `audit` panic with exit 101.
#[test]
fn a_pack_group_that_does_not_take_part_cannot_panic() {
    let fixture = Fixture::build("minimal");
    fixture.git(&["tag", "latest", "upstream/main"]);
    let pack = fixture.temp.path().join("custom.toml");
    let text = forkdrift::rules::Pack::builtin("elastic-connectors")
        .unwrap()
        .source_text
        .replace("name = \"elastic-connectors\"", "name = \"custom\"");
    let tags = text
        .lines()
        .find(|l| l.starts_with("tags = "))
        .expect("the pack names its release tags")
        .to_string();
    let text = text.replace(
        &tags,
        "tags = '''^(?:v(?P<version>\\d+(?:\\.\\d+)+)|latest)$'''",
    );
    std::fs::write(&pack, text).unwrap();
    let mut check = forkdrift_in(fixture.temp.path());
    check.args(["rules", "check"]).arg(&pack).assert().code(0);
    for args in [
        vec!["audit", "--hops"],
        vec!["plan"],
        vec!["audit", "--format", "json"],
    ] {
        let mut all = args.clone();
        all.extend(["--fail-on", "never", "--rules", pack.to_str().unwrap()]);
        fixture
            .forkdrift(&all)
            .assert()
            .code(0)
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn a_deps_series_naming_an_uncoupled_gem_points_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("typo.toml");
    let text = forkdrift::rules::Pack::builtin("karafka-web")
        .unwrap()
        .source_text
        .replace("name = \"karafka-web\"", "name = \"typo\"")
        .replace(
            "{ karafka-web = \"0.11\", karafka = \"2.5\" }",
            "{ karafka-web = \"0.11\", karafak = \"2.5\" }",
        );
    std::fs::write(&pack, &text).unwrap();
    let line = text.lines().position(|l| l.contains("karafak")).unwrap() + 1;
    let mut command = forkdrift_in(dir.path());
    command.args(["rules", "check"]).arg(&pack);
    command
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`karafak` is not one of the coupled gems",
        ))
        .stderr(predicate::str::contains(format!("typo.toml:{line}:")));
}

/// `--timings` adds a table of stages to stderr and changes nothing else: stdout and the exit
/// code are those of the same run without it.
#[test]
fn timings_go_to_stderr_and_change_nothing_else() {
    let fixture = Fixture::build("demo");
    let runs: [&[&str]; 7] = [
        &["audit", "--hops", "--format", "json"],
        &["audit"],
        &["plan", "--format", "json"],
        &["deps", "--format", "json"],
        &["candidates", "--format", "json"],
        &["check", "--base", "HEAD~1", "--format", "json"],
        &["explain", "connectors/sources/mysql.py"],
    ];
    for args in runs {
        let plain = fixture.forkdrift(args).output().unwrap();
        let timed = fixture
            .forkdrift(&[args, &["--timings"][..]].concat())
            .output()
            .unwrap();
        assert_eq!(plain.status.code(), timed.status.code(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&plain.stdout),
            String::from_utf8_lossy(&timed.stdout),
            "{args:?}"
        );
        let stderr = String::from_utf8_lossy(&timed.stderr);
        for stage in [
            "forkdrift timings (wall clock):",
            "opening the repository",
            "resolving the fork, the target and the rule pack",
            "merging the fork with the target",
            " s  total\n",
        ] {
            assert!(stderr.contains(stage), "{args:?}: no `{stage}` in {stderr}");
        }
        assert!(!String::from_utf8_lossy(&plain.stderr).contains("timings"));
    }
    let timed = fixture
        .forkdrift(&["audit", "--hops", "--timings"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&timed.stderr);
    assert!(
        stderr.contains("merging the release points on the way"),
        "{stderr}"
    );
    assert!(stderr.contains("blaming the conflicting lines"), "{stderr}");

    // `report` writes files; its stdout names them, its stderr has the table.
    let out = fixture.temp.path().join("report");
    let report = fixture
        .forkdrift(&[
            "report",
            "--timings",
            "--backfill",
            "weekly",
            "--since",
            "2023-06-01",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&report.stdout).contains("timings"));
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert!(stderr.contains(" s  total\n"), "{stderr}");
    // Each backfilled date is audited again: one row per stage, with its count.
    assert_eq!(
        stderr.matches("backfill: … of … dates (×").count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("merging the fork with the target").count(),
        1,
        "{stderr}"
    );

    // The commands that read no repository have no stages to time.
    fixture
        .forkdrift(&["rules", "list", "--timings"])
        .assert()
        .code(2);
}

#[test]
fn an_exit_status_of_one_says_which_findings_caused_it() {
    let fixture = Fixture::build("demo");
    let output = fixture.forkdrift(&["audit"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("exit 1: 1 finding at or above --fail-on error (FD101); `--fail-on never` reports without failing"),
        "{stderr}"
    );
    // Quiet runs and machine formats keep stderr for errors.
    for args in [&["audit", "-q"][..], &["audit", "--format", "json"]] {
        let output = fixture.forkdrift(args).output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert!(!String::from_utf8_lossy(&output.stderr).contains("exit 1"));
    }
}

#[test]
fn a_bad_command_line_is_a_diagnostic_with_help_too() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut command = forkdrift_in(dir.path());
        command.args(args);
        command
    };
    fails_with(
        run(&["audit", "--format", "yaml"]),
        "invalid value 'yaml' for '--format <FORMAT>'",
        "possible values: terminal, json, markdown",
    );
    fails_with(
        run(&["audti"]),
        "unrecognized subcommand 'audti'",
        "a similar subcommand exists: 'audit'",
    );
    fails_with(
        run(&["check"]),
        "the following required arguments were not provided: --base <REV>",
        "usage: forkdrift check --base <REV>",
    );
}

/// `--to 8.10` means upstream's 8.10 release even where the fork has a branch of that name
/// (top-gg's fork keeps an `8.18` branch behind upstream's): the fork's branch is no upgrade
/// target, and a remark says how to name it after all.
#[test]
fn a_version_is_upstreams_release_even_where_the_fork_has_a_branch_of_that_name() {
    let fixture = Fixture::build("release-branch");
    let base = fixture.git(&["merge-base", "HEAD", "upstream/8.10"]);
    fixture.git(&["branch", "8.10", base.trim()]);
    let report = fixture.audit(&["--to", "8.10"]);
    assert_eq!(report.target.name, "upstream/8.10");
    assert_eq!(
        report.target.commit,
        fixture.git(&["rev-parse", "upstream/8.10"]).trim()
    );
    assert!(
        report.notes.iter().any(|n| n.starts_with(
            "--to 8.10 is taken as upstream's release 8.10.0.0 (upstream/8.10), not as the fork's branch 8.10: name `heads/8.10` for that"
        )),
        "{:?}",
        report.notes
    );
    let own = fixture.audit(&["--to", "heads/8.10"]);
    assert_eq!(own.target.commit, base.trim());
}
