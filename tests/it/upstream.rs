//! Issue 5: what upstream already has, what it should get, and what the fork's copies miss.

use crate::support::{Fixture, change, git_in, git_ok};

#[test]
fn finds_fork_work_upstream_already_has_by_every_method() {
    let fixture = Fixture::build("upstream-work");
    let report = fixture.audit(&[]);
    let found: Vec<(String, Vec<String>, String)> = report
        .already_upstream
        .iter()
        .map(|a| {
            (
                a.method.clone(),
                a.commits.clone(),
                a.upstream_commit.clone(),
            )
        })
        .collect();
    let expect = |method: &str, own: &[&str], upstream: &str| {
        (
            method.to_string(),
            own.iter().map(|id| fixture.id(id)).collect::<Vec<_>>(),
            fixture.id(upstream),
        )
    };
    let mut expected = vec![
        expect("patch-id", &["jira-pick"], "jira-fix"),
        expect("pr-number", &["drive-retry"], "drive-retry-upstream"),
        expect(
            "squash",
            &["jitter-3", "jitter-2", "jitter-1"],
            "jitter-upstream",
        ),
        expect("fuzzy", &["confluence-fix"], "confluence-upstream"),
    ];
    let mut found_sorted = found.clone();
    found_sorted.sort();
    expected.sort();
    assert_eq!(found_sorted, expected);

    // None of it counts as divergence.
    for path in [
        "connectors/sources/jira.py",
        "connectors/sources/google_drive.py",
        "connectors/utils.py",
        "connectors/sources/confluence.py",
    ] {
        let change = change(&report, path);
        assert!(change.already_upstream, "{path}");
        assert_eq!(change.risk, None, "{path}");
        assert!(!report.findings.iter().any(|f| f.path == path), "{path}");
    }
    assert_eq!(
        (report.summary.divergent, report.summary.already_upstream),
        (6, 4)
    );
    assert_eq!(report.summary.by_class["connector-modified"], 0);
    let settled: Vec<&str> = report
        .own_commits
        .iter()
        .filter(|c| c.already_upstream)
        .map(|c| c.subject.as_str())
        .collect();
    assert_eq!(settled.len(), 6);
    // Four paths, six commits: the summary counts both.
    assert_eq!(report.summary.own_commits_already_upstream, 6);
    // The conflict on google_drive.py is real (git reports it), but the fork's side is upstream's.
    let drive = report
        .conflicts
        .iter()
        .find(|c| c.path == "connectors/sources/google_drive.py")
        .unwrap();
    assert!(drive.already_upstream);
    assert_eq!(report.summary.fork_conflicts, report.summary.conflicts - 1);
}

#[test]
fn a_self_contained_framework_fix_is_a_candidate_and_a_coupled_one_is_not() {
    let fixture = Fixture::build("upstream-work");
    let report = fixture.audit(&[]);
    assert_eq!(report.pr_candidates.len(), 1);
    let candidate = &report.pr_candidates[0];
    assert_eq!(candidate.commits, vec![fixture.id("es-close")]);
    assert_eq!(
        (candidate.kind.as_str(), candidate.rank),
        ("framework-fix", 1)
    );
    assert_eq!(candidate.title, "Close the Elasticsearch client only once");
    assert!(candidate.has_tests && candidate.applies_cleanly);
    assert_eq!(
        candidate.paths,
        vec!["connectors/es/client.py", "tests/es/test_client_close.py"]
    );
    assert!(
        report.notes.iter().any(
            |n| n.contains("Let the framework skip Acme's system tables")
                && n.contains("depends on the fork's own connectors")
        ),
        "{:?}",
        report.notes
    );
}

#[test]
fn a_series_that_changes_nothing_on_the_target_and_debug_logging_are_no_candidates() {
    let fixture = Fixture::build("reverted");
    let report = fixture.audit(&[]);
    assert!(
        report.pr_candidates.is_empty(),
        "{:?}",
        report
            .pr_candidates
            .iter()
            .map(|c| &c.title)
            .collect::<Vec<_>>()
    );
    let note = |subject: &str, why: &str| {
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains(subject) && n.contains(why)),
            "{subject}: {:?}",
            report.notes
        );
    };
    note("Retry more and wait longer", "changes nothing");
    note("turn on debug logging", "only changes logging");
    let out = fixture.temp.path().join("prs");
    fixture
        .forkdrift(&["candidates", "--export", out.to_str().unwrap()])
        .assert()
        .success();
    let exported = std::fs::read_dir(&out).map_or(0, |d| d.count());
    assert_eq!(exported, 0, "no empty patch is exported");
}

#[test]
fn exported_candidates_apply_with_git_am_onto_the_target() {
    let fixture = Fixture::build("upstream-work");
    let export = fixture.temp.path().join("export");
    fixture
        .forkdrift(&["candidates", "--export", export.to_str().unwrap()])
        .assert()
        .success();
    let mut files: Vec<String> = std::fs::read_dir(&export)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        vec![
            "01-close-the-elasticsearch-client-only-once.mbox",
            "01-close-the-elasticsearch-client-only-once.md"
        ]
    );

    let clone = fixture.temp.path().join("apply");
    let url = format!("file://{}", fixture.path().display());
    git_ok(
        fixture.temp.path(),
        &["clone", "--quiet", &url, clone.to_str().unwrap()],
    );
    git_ok(
        &clone,
        &[
            "fetch",
            "--quiet",
            "origin",
            "+refs/remotes/upstream/*:refs/remotes/upstream/*",
        ],
    );
    let target = fixture.id("refs/remotes/upstream/main");
    git_ok(&clone, &["checkout", "--quiet", "--detach", &target]);
    let output = std::process::Command::new("git")
        .current_dir(&clone)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args([
            "-c",
            "user.name=Reviewer",
            "-c",
            "user.email=r@example.com",
            "am",
        ])
        .arg(export.join("01-close-the-elasticsearch-client-only-once.mbox"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git am: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        git_in(&clone, &["log", "-1", "--format=%s%n%an"]),
        "Close the Elasticsearch client only once\nFin Fork\n"
    );
    let client = std::fs::read_to_string(clone.join("connectors/es/client.py")).unwrap();
    assert!(client.contains("if self.client is not None:"));
    assert!(clone.join("tests/es/test_client_close.py").exists());
}

#[test]
fn a_copy_lists_the_upstream_fixes_its_source_got_since() {
    let fixture = Fixture::build("upstream-work");
    let report = fixture.audit(&[]);
    assert_eq!(report.stale_copies.len(), 1);
    let stale = &report.stale_copies[0];
    assert_eq!(
        (stale.unit.as_str(), stale.source_unit.as_str()),
        ("acme", "mysql")
    );
    let missing: Vec<(String, Vec<u32>)> = stale
        .missing
        .iter()
        .map(|c| (c.commit.clone(), c.prs.clone()))
        .collect();
    assert_eq!(
        missing,
        vec![
            (fixture.id("mysql-fix-2"), vec![72]),
            (fixture.id("mysql-fix-1"), vec![71])
        ]
    );
    assert!(stale.broken_imports.is_empty());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind.as_str() == "stale-copy" && f.message.contains("#72, #71"))
    );
}

#[test]
fn a_copy_left_behind_by_the_restructure_imports_modules_that_moved() {
    let report = Fixture::build("restructure").audit(&[]);
    let stale = &report.stale_copies[0];
    assert_eq!(
        stale.broken_imports,
        vec![
            "connectors.source (from connectors.source import BaseDataSource, ConfigurationError)"
        ]
    );
    // The restructure itself touched the source: the copy missed it.
    assert_eq!(
        subjects_of(&stale.missing),
        vec!["Merge develop to main - all connector framework changes (#3819)"]
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind.as_str() == "missing-import" && f.path == "connectors/sources/acme.py")
    );
}

fn subjects_of(commits: &[forkdrift::model::CommitRef]) -> Vec<&str> {
    commits.iter().map(|c| c.subject.as_str()).collect()
}

#[test]
fn in_place_edits_come_with_the_copy_and_rename_to_do_instead() {
    let report = Fixture::build("demo").audit(&[]);
    assert_eq!(report.in_place_edits.len(), 1);
    let edit = &report.in_place_edits[0];
    assert_eq!(
        (edit.unit.as_str(), edit.suggested_unit.as_str()),
        ("mysql", "mysql_custom")
    );
    assert_eq!(
        edit.files,
        vec![[
            "connectors/sources/mysql.py".to_string(),
            "connectors/sources/mysql_custom.py".to_string()
        ]]
    );
    assert_eq!(
        edit.tests,
        vec![[
            "tests/sources/test_mysql.py".to_string(),
            "tests/sources/test_mysql_custom.py".to_string()
        ]]
    );
    assert_eq!(
        edit.registration.as_deref(),
        Some("\"mysql_custom\": \"connectors.sources.mysql_custom:MySqlCustomDataSource\",")
    );
}

#[test]
fn the_same_line_elsewhere_and_a_removal_of_everything_are_not_the_forks_work() {
    let fixture = Fixture::build("moves");
    let report = fixture.audit(&[]);
    // Upstream added `self._logger = logger` to AccessControl, not to SecurityInfo; and
    // "rm codebase" deletes the fork's dropped line only because it deletes every line.
    assert!(
        report.already_upstream.is_empty(),
        "{:#?}",
        report.already_upstream
    );
    let security = change(&report, "connectors/security.py");
    assert!(!security.already_upstream);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.path == "connectors/utils.py")
    );
}

#[test]
fn a_change_the_fork_took_back_is_no_work_upstream_has() {
    let fixture = Fixture::build("upstream-work");
    // The Confluence fix goes back to what it was: upstream's fix is nothing left to drop.
    fixture.commit_edit(
        "connectors/sources/confluence.py",
        "{self.root}{relative}",
        "{relative}",
        "Revert \"Report Confluence errors with the page's URL\"",
    );
    // The Drive fix is tuned, not taken back: the commit that made it is still upstream's.
    fixture.commit_edit(
        "connectors/sources/google_drive.py",
        "@retryable(retries=5, interval=2",
        "@retryable(retries=6, interval=2",
        "Retry Google Drive calls six times",
    );
    let report = fixture.audit(&[]);
    let mut found: Vec<(String, Vec<String>)> = report
        .already_upstream
        .iter()
        .map(|a| (a.method.clone(), a.commits.clone()))
        .collect();
    found.sort();
    let ids = |names: &[&str]| names.iter().map(|n| fixture.id(n)).collect::<Vec<_>>();
    let mut expected = vec![
        ("patch-id".to_string(), ids(&["jira-pick"])),
        ("pr-number".to_string(), ids(&["drive-retry"])),
        (
            "squash".to_string(),
            ids(&["jitter-3", "jitter-2", "jitter-1"]),
        ),
    ];
    expected.sort();
    assert_eq!(found, expected);
    // Without the fix or its revert, the fork has no change to Confluence at all.
    assert!(
        !report
            .changes
            .iter()
            .any(|c| c.path == "connectors/sources/confluence.py")
    );
}

#[test]
fn a_commit_that_only_brings_back_upstreams_lines_is_no_pr_candidate() {
    let fixture = Fixture::from_toml(
        r##"description = "A fork that switched off framework imports, then switched one back on."

[[step]]
commit = "upstream/main"
message = "Connectors framework (#1)"
write = { "connectors/config.py" = "def _default_config():\n    return {\"service\": {\"idling\": 30}}\n", "connectors/utils.py" = "import asyncio\nimport os\nimport random\nimport time\n\n\ndef pause():\n    return asyncio.sleep(1)\n", "connectors/sources/mysql.py" = "class MySqlDataSource:\n    pass\n", "connectors/VERSION" = "8.10.0.0\n" }

[[step]]
tag = "v8.10.0.0"
at = "upstream/main"

[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Trim the imports we do not ship"
edit = [{ path = "connectors/utils.py", replace = [["import os\nimport random\nimport time\n", "# import os\n# import random\n# import time\n"]] }]

[[step]]
commit = "fork/main"
message = "Raise the idle time"
edit = [{ path = "connectors/config.py", replace = [['"idling": 30', '"idling": 60']] }]

[[step]]
commit = "fork/main"
id = "random-back"
message = "Jitter needs random after all"
edit = [{ path = "connectors/utils.py", replace = [["# import random\n", "import random\n"]] }]
"##,
    );
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    let back = fixture.id("random-back");
    assert!(
        !report
            .pr_candidates
            .iter()
            .any(|c| c.commits.contains(&back)),
        "{:?}",
        report.pr_candidates
    );
    assert!(
        report.notes.iter().any(|n| n.contains(&back[..12])
            && n.contains("only moves its files toward upstream's version")),
        "{:?}",
        report.notes
    );
}

#[test]
fn a_commit_that_only_switches_upstreams_code_off_is_no_pr_candidate() {
    let fixture = Fixture::from_toml(
        r##"description = "A fork that comments out an upstream source, deletes a stale upstream line, and drops its own debug line."

[[step]]
commit = "upstream/main"
message = "Connectors framework (#1)"
write = { "connectors/config.py" = "SOURCES = {\n    \"mysql\": \"connectors.sources.mysql:MySqlDataSource\",\n    \"jira\": \"connectors.sources.jira:JiraDataSource\",\n}\n", "connectors/utils.py" = "import asyncio\nimport os\n\n\ndef pause():\n    return asyncio.sleep(1)\n", "connectors/sources/mysql.py" = "class MySqlDataSource:\n    pass\n", "connectors/VERSION" = "8.10.0.0\n" }

[[step]]
tag = "v8.10.0.0"
at = "upstream/main"

[[step]]
commit = "fork/main"
at = "upstream/main"
id = "switch-off"
message = "We do not ship MySQL"
edit = [{ path = "connectors/config.py", replace = [["    \"mysql\"", "    # \"mysql\""]] }]

[[step]]
commit = "fork/main"
message = "Notes"
write = { "docs/NOTES.md" = "ours\n" }

[[step]]
commit = "fork/main"
id = "stale-import"
message = "Drop an unused import"
edit = [{ path = "connectors/utils.py", replace = [["import os\n", ""]] }]

[[step]]
commit = "fork/main"
message = "More notes"
write = { "docs/NOTES.md" = "ours\nmore\n" }

[[step]]
commit = "fork/main"
id = "debug-on"
message = "Log pauses"
edit = [{ path = "connectors/utils.py", replace = [["    return asyncio.sleep(1)\n", "    print(\"pause\")\n    return asyncio.sleep(1)\n"]] }]

[[step]]
commit = "fork/main"
message = "Even more notes"
write = { "docs/NOTES.md" = "ours\nmore\nand more\n" }

[[step]]
commit = "fork/main"
id = "debug-off"
message = "No more pause logs"
edit = [{ path = "connectors/utils.py", replace = [["    print(\"pause\")\n", ""]] }]
"##,
    );
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    let switched_off = |id: &str| {
        let id = fixture.id(id);
        report.notes.iter().any(|n| {
            n.contains(&id[..12]) && n.contains("only deletes or comments out upstream's code")
        })
    };
    assert!(switched_off("switch-off"), "{:?}", report.notes);
    let candidates: Vec<&String> = report
        .pr_candidates
        .iter()
        .flat_map(|c| &c.commits)
        .collect();
    assert!(!candidates.contains(&&fixture.id("switch-off")));
    // Deleting a line is how many fixes look; dropping the fork's own line is its clean-up.
    for id in ["stale-import", "debug-off"] {
        assert!(!switched_off(id), "{id}: {:?}", report.notes);
    }
    assert!(
        candidates.contains(&&fixture.id("stale-import")),
        "{:?}",
        report.pr_candidates
    );
}

/// A fix that calls the fork's own code does not build upstream (op-geth's fixes that call its
/// `IsOptimism`); one that uses only upstream's names, or brings its own helper, does.
#[test]
fn a_fix_that_calls_the_forks_own_code_is_no_pr_candidate() {
    let fixture = Fixture::from_toml(
        r##"description = "A fork adds a helper of its own to the framework, then fixes two framework files: one with the helper, one without."

[[step]]
commit = "upstream/main"
message = "Connectors framework (#1)"
write = { "connectors/es/settings.py" = "def request_timeout():\n    return 10\n", "connectors/es/client.py" = "from connectors.es.settings import request_timeout\n\n\ndef connect(hosts):\n    return {\"hosts\": hosts, \"timeout\": request_timeout()}\n", "connectors/utils.py" = "def retries():\n    return 1\n", "connectors/config.py" = "SOURCES = {}\n", "connectors/es/limits.py" = "def page_size():\n    return 100\n", "connectors/es/errors.py" = "NOT_FOUND = \"not found\"\nGONE = \"gone\"\n\n\ndef lookup(found):\n    return found or NOT_FOUND\n", "connectors/sources/mysql.py" = "class MySqlDataSource:\n    pass\n", "connectors/VERSION" = "8.10.0.0\n" }

[[step]]
tag = "v8.10.0.0"
at = "upstream/main"

[[step]]
commit = "fork/main"
at = "upstream/main"
id = "adds-helper"
message = "Acme clusters are slower"
edit = [{ path = "connectors/es/settings.py", replace = [["    return 10\n", "    return 10\n\n\ndef acme_slow_cluster():\n    return True\n"]] }]

[[step]]
commit = "fork/main"
id = "bigger-pages"
message = "Bigger pages"
edit = [{ path = "connectors/es/limits.py", replace = [["return 100", "return 500"]] }]

[[step]]
commit = "upstream/main"
message = "Smaller pages (#2)"
edit = [{ path = "connectors/es/limits.py", replace = [["return 100", "return 50"]] }]

[[step]]
commit = "fork/main"
id = "calls-ours"
message = "Give slow clusters more time"
edit = [{ path = "connectors/es/client.py", replace = [["from connectors.es.settings import request_timeout\n", "from connectors.es.settings import acme_slow_cluster, request_timeout\n"], ["\"timeout\": request_timeout()", "\"timeout\": request_timeout() * (3 if acme_slow_cluster() else 1)"]] }]

[[step]]
commit = "fork/main"
id = "say-gone"
message = "Say gone"
edit = [{ path = "connectors/es/errors.py", replace = [["return found or NOT_FOUND", "return found or GONE"]] }]

[[step]]
commit = "fork/main"
message = "Notes"
write = { "docs/NOTES.md" = "ours\n" }

[[step]]
commit = "fork/main"
id = "unused"
message = "Remove an unused constant"
edit = [{ path = "connectors/es/errors.py", replace = [["NOT_FOUND = \"not found\"\n", ""]] }]

[[step]]
commit = "fork/main"
id = "own-helper"
message = "Retry more, through a helper"
edit = [{ path = "connectors/utils.py", replace = [["def retries():\n    return 1\n", "def retries():\n    return backoff_steps()\n\n\ndef backoff_steps():\n    return 3\n"]] }]
"##,
    );
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    let mut proposed: Vec<&String> = report
        .pr_candidates
        .iter()
        .flat_map(|c| &c.commits)
        .collect();
    proposed.sort();
    // The helper itself is framework work that builds upstream; so are the fix that brings
    // its own helper, and the edit that stops using a constant.
    let mut expected = [
        fixture.id("adds-helper"),
        fixture.id("say-gone"),
        fixture.id("own-helper"),
    ];
    expected.sort();
    assert_eq!(
        proposed,
        expected.iter().collect::<Vec<_>>(),
        "{:?}",
        report.notes
    );
    let calls = fixture.id("calls-ours");
    let at = |id: &str| {
        report
            .notes
            .iter()
            .position(|n| n.contains(&id[..12]))
            .unwrap_or_else(|| panic!("a note says why {id} is no candidate: {:?}", report.notes))
    };
    let reason = &report.notes[at(&calls)];
    // Taking out a definition the target still uses breaks upstream too: picked onto the
    // target, errors.py keeps upstream's `return found or NOT_FOUND`.
    let unused = fixture.id("unused");
    assert!(
        report.notes[at(&unused)].ends_with(
            "is not a PR candidate: it removes `NOT_FOUND`, which the target still uses (connectors/es/errors.py): it would not build upstream"
        ),
        "{:?}",
        report.notes
    );
    // What does not apply is listed after the other reasons: there can be hundreds.
    let pages = fixture.id("bigger-pages");
    assert!(report.notes[at(&pages)].contains("does not apply cleanly"));
    assert!(at(&calls) < at(&pages), "{:?}", report.notes);
    assert!(
        reason.ends_with(
            "is not a PR candidate: it uses `acme_slow_cluster`, which the target does not have (the fork's connectors/es/settings.py had it before): it would not build upstream"
        ),
        "{reason}"
    );
}

/// A fix that re-shapes a call for the fork's own signature builds only on the fork (op-geth's
/// "correct RPCMarshalBlock signature" passes six arguments to a function go-ethereum defines
/// with four). A change of a signature with its callers builds anywhere.
#[test]
fn a_fix_that_calls_with_the_forks_own_signature_is_no_pr_candidate() {
    let fixture = Fixture::from_toml(
        r##"description = "A fork widens a framework function, then adapts a caller in another file; and widens another function with its caller in one commit."

[[step]]
commit = "upstream/main"
message = "The agent (#1)"
write = { "block.go" = "package agent\n\n// Marshal renders a block.\nfunc Marshal(block int, full bool) string {\n\treturn \"\"\n}\n", "era.go" = "package agent\n\nfunc export(block int) string {\n\treturn Marshal(block, true)\n}\n", "limits.go" = "package agent\n\nfunc pageSize(kind string) int {\n\treturn 100\n}\n\nfunc pages(total int) int {\n\treturn total / pageSize(\"all\")\n}\n" }

[[step]]
commit = "fork/main"
at = "upstream/main"
id = "widen"
message = "Marshal with the chain's config"
edit = [{ path = "block.go", replace = [["func Marshal(block int, full bool) string {", "func Marshal(block int, full bool, config string) string {"]] }]

[[step]]
commit = "fork/main"
id = "caller"
message = "Correct the Marshal call"
edit = [{ path = "era.go", replace = [["return Marshal(block, true)", "return Marshal(block, true, \"mainnet\")"]] }]

[[step]]
commit = "fork/main"
id = "together"
message = "Page sizes per source and kind"
edit = [{ path = "limits.go", replace = [["func pageSize(kind string) int {", "func pageSize(source string, kind string) int {"], ["pageSize(\"all\")", "pageSize(\"any\", \"all\")"]] }]
"##,
    );
    let report = fixture.audit(&["--rules", "generic"]);
    let proposed: Vec<&String> = report
        .pr_candidates
        .iter()
        .flat_map(|c| &c.commits)
        .collect();
    // "widen" alone would break era.go upstream too; callers left behind are not looked for.
    assert!(proposed.contains(&&fixture.id("together")), "{proposed:?}");
    assert!(!proposed.contains(&&fixture.id("caller")), "{proposed:?}");
    let caller = &fixture.id("caller")[..12];
    assert!(
        report.notes.contains(&format!(
            "{caller} \"Correct the Marshal call\" is not a PR candidate: it calls `Marshal` with 3 arguments, which the target's block.go defines with 2: it would not build upstream"
        )),
        "{:?}",
        report.notes
    );
}
