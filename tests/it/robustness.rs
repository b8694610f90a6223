//! Bad and odd input (docs/ROBUSTNESS.md names a test of this file or of cli.rs/trust.rs for
//! every row): the audit completes, or ends with exit 2 and a diagnostic that says what to do.
//! Never a panic.

use crate::support::{Fixture, change, commit_as_fork, forkdrift_in, git_ok};
use forkdrift::model::{ChangeClass, EntryKind, Origin, Status};
use predicates::prelude::*;
use std::path::Path;

/// The upstream of the tests below: a registration file and one connector, on the
/// elastic-connectors 8.x layout.
const UPSTREAM: &str = r#"
description = "robustness"

[[step]]
commit = "upstream/main"
message = "Connectors framework (#1)"
write = { "connectors/config.py" = """
def _default_config():
    return {
        "sources": {
            "mysql": "connectors.sources.mysql:MySqlDataSource",
        },
    }
""", "connectors/sources/mysql.py" = "class MySqlDataSource:\n    def get_docs(self):\n        return []\n", "connectors/es/client.py" = "TIMEOUT = 10\n", "connectors/VERSION" = "8.10.0.0\n" }
"#;

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

/// A fork commit made with the system git, with a pinned identity.
fn commit(dir: &Path, message_file: &Path) {
    commit_as_fork(dir, &["-F", message_file.to_str().unwrap()]);
}

fn commit_all(fixture: &Fixture, message: &[u8]) {
    let file = fixture.temp.path().join("message");
    std::fs::write(&file, message).unwrap();
    fixture.git(&["add", "-A"]);
    commit(fixture.path(), &file);
}

#[test]
fn submodules_symlinks_and_init_files_are_no_connector_units() {
    let fixture = Fixture::from_toml(&format!(
        r#"{UPSTREAM}
[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Vendor the SDK, alias mysql, make sources a package"
submodules = {{ "vendor/sdk" = "0123456789abcdef0123456789abcdef01234567", "connectors/sources/sdk" = "89abcdef0123456789abcdef0123456789abcdef" }}
links = {{ "connectors/sources/alias.py" = "mysql.py" }}
write = {{ "connectors/sources/__init__.py" = "", "app/connectors_service/connectors/sources/common/__init__.py" = "" }}
"#
    ));
    assert_eq!(
        fixture
            .git(&["ls-tree", "HEAD", "vendor/sdk"])
            .split_whitespace()
            .next(),
        Some("160000")
    );
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    for path in ["vendor/sdk", "connectors/sources/sdk"] {
        let sdk = change(&report, path);
        assert_eq!(sdk.kind, Some(EntryKind::Submodule), "{path}");
        assert_eq!(sdk.unit, None, "{path}: {}", sdk.rule);
        assert!(sdk.rule.starts_with("submodule"), "{path}: {}", sdk.rule);
        assert!(!sdk.binary, "{path}");
    }
    let alias = change(&report, "connectors/sources/alias.py");
    assert_eq!(alias.kind, Some(EntryKind::Symlink));
    assert_eq!(alias.unit, None, "{}", alias.rule);
    assert!(alias.rule.starts_with("symlink"), "{}", alias.rule);
    for path in [
        "connectors/sources/__init__.py",
        "app/connectors_service/connectors/sources/common/__init__.py",
    ] {
        let init = change(&report, path);
        assert_eq!(init.kind, None);
        assert_eq!(init.unit, None, "{path}: {}", init.rule);
        assert!(
            !matches!(
                init.class,
                ChangeClass::ConnectorAdded | ChangeClass::ConnectorModified
            ),
            "{path}: {}",
            init.rule
        );
    }
    // No connector was added, so nothing is reported as an uncopied or untested connector.
    assert!(
        report
            .changes
            .iter()
            .all(|c| c.class != ChangeClass::ConnectorAdded),
        "{:?}",
        report.changes
    );
    // The terminal says what they are where it counts lines.
    let output = fixture
        .forkdrift(&[
            "audit",
            "--rules",
            "elastic-connectors",
            "--all",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = |path: &str| {
        stdout
            .lines()
            .filter(|l| l.starts_with("    A "))
            .find(|l| l.trim_end().ends_with(path) || l.contains(&format!("{path} ")))
            .unwrap_or_else(|| panic!("no line for {path}: {stdout}"))
            .to_string()
    };
    assert!(line("vendor/sdk").contains("submodule"), "{stdout}");
    assert!(
        line("connectors/sources/alias.py").contains("symlink"),
        "{stdout}"
    );
}

#[test]
fn detached_head() {
    let fixture = Fixture::build("minimal");
    fixture.git(&["checkout", "--quiet", "--detach", "HEAD"]);
    let report = fixture.audit(&[]);
    assert_eq!(report.changes.len(), 1);
    assert_eq!(report.changes[0].path, "connectors/config.py");
}

#[test]
fn an_empty_repository_has_no_commits() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("empty");
    git_ok(dir.path(), &["init", "--quiet", repo.to_str().unwrap()]);
    let mut command = forkdrift_in(dir.path());
    command.arg("-C").arg(&repo).arg("audit");
    fails_with(command, "has no commits", "commit or fetch it first");
    let mut command = forkdrift_in(dir.path());
    command.arg("-C").arg(&repo).arg("audit");
    command
        .assert()
        .stderr(predicate::str::contains("unknown revision").not());
}

/// A copy of the fixture whose objects are all loose, so that one can be damaged or removed.
fn loose_copy(fixture: &Fixture) -> std::path::PathBuf {
    let copy = fixture.temp.path().join("loose");
    git_ok(
        fixture.temp.path(),
        &[
            "clone",
            "--quiet",
            "--no-local",
            fixture.path().to_str().unwrap(),
            copy.to_str().unwrap(),
        ],
    );
    // The clone's remote refs become the upstream again; its objects come unpacked.
    git_ok(&copy, &["remote", "rename", "origin", "upstream"]);
    git_ok(
        &copy,
        &[
            "fetch",
            "--quiet",
            fixture.path().to_str().unwrap(),
            "+refs/remotes/upstream/*:refs/remotes/upstream/*",
        ],
    );
    let pack_dir = copy.join(".git/objects/pack");
    for entry in std::fs::read_dir(&pack_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pack") {
            let moved = fixture.temp.path().join("moved.pack");
            std::fs::rename(&path, &moved).unwrap();
            let status = std::process::Command::new("git")
                .current_dir(&copy)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .args(["unpack-objects", "-q"])
                .stdin(std::fs::File::open(&moved).unwrap())
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
    for entry in std::fs::read_dir(&pack_dir).unwrap() {
        let _ = std::fs::remove_file(entry.unwrap().path());
    }
    copy
}

fn object_file(repo: &Path, id: &str) -> std::path::PathBuf {
    repo.join(".git/objects").join(&id[..2]).join(&id[2..])
}

#[test]
fn a_damaged_object_the_answer_needs_is_named() {
    let fixture = Fixture::build("minimal");
    let copy = loose_copy(&fixture);
    let blob = git_ok(&copy, &["rev-parse", "HEAD:connectors/config.py"]);
    let blob = blob.trim();
    let file = object_file(&copy, blob);
    // Damaged: the zlib stream's body overwritten, its length kept. (A loose object cut short
    // makes libgit2 1.9 inflate forever, in git_zstream_get_output: not tested here.)
    let mut bytes = std::fs::read(&file).unwrap();
    for byte in bytes.iter_mut().skip(2) {
        *byte ^= 0x5a;
    }
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, &bytes).unwrap();
    let mut command = forkdrift_in(fixture.temp.path());
    command.arg("-C").arg(&copy).arg("audit");
    fails_with(command, &blob[..12], "git fsck");
    // Gone altogether.
    std::fs::remove_file(&file).unwrap();
    let mut command = forkdrift_in(fixture.temp.path());
    command.arg("-C").arg(&copy).arg("audit");
    fails_with(command, &blob[..12], "--refetch");
}

#[test]
fn a_blob_gits_merge_cannot_read_is_named_with_its_path() {
    // Both sides edit postgresql.py: the merge needs the fork's version, which is gone.
    let fixture = Fixture::build("conflicts");
    let copy = loose_copy(&fixture);
    let blob = git_ok(
        &copy,
        &["rev-parse", "HEAD:connectors/sources/postgresql.py"],
    );
    let blob = blob.trim();
    std::fs::remove_file(object_file(&copy, blob)).unwrap();
    let mut command = forkdrift_in(fixture.temp.path());
    command.arg("-C").arg(&copy).arg("audit");
    fails_with(
        command,
        &format!("git could not read object {blob} (connectors/sources/postgresql.py in commit "),
        "git fetch --refetch",
    );
}

#[test]
fn a_partial_clone_is_read_offline() {
    // A blob-less clone: git would fetch each blob a merge needs from the promisor remote.
    let fixture = Fixture::build("conflicts");
    let source = fixture.path().to_str().unwrap().to_string();
    git_ok(
        fixture.path(),
        &["config", "uploadpack.allowFilter", "true"],
    );
    let clone = fixture.temp.path().join("partial");
    git_ok(
        fixture.temp.path(),
        &[
            "clone",
            "--quiet",
            "--no-checkout",
            "--filter=blob:none",
            &format!("file://{source}"),
            clone.to_str().unwrap(),
        ],
    );
    git_ok(
        &clone,
        &[
            "fetch",
            "--quiet",
            "--filter=blob:none",
            "origin",
            "+refs/remotes/upstream/*:refs/remotes/upstream/*",
        ],
    );
    let objects = || {
        let mut files: Vec<_> = walkdir(&clone.join(".git/objects"));
        files.sort();
        files
    };
    let before = objects();
    let trace = fixture.temp.path().join("trace.json");
    let mut command = forkdrift_in(fixture.temp.path());
    command
        .env("GIT_TRACE2_EVENT", &trace)
        .arg("-C")
        .arg(&clone)
        .args(["audit", "--fork", "origin/main", "--to", "upstream/main"]);
    fails_with(
        command,
        "git could not read object",
        "partial clone, and forkdrift does not fetch: `git -c remote.origin.partialclonefilter= fetch --refetch origin`",
    );
    assert_eq!(objects(), before, "the clone's objects are as they were");
    let events = std::fs::read_to_string(&trace).unwrap();
    assert!(events.contains("merge-tree"), "git's events were traced");
    assert!(
        !events.contains("\"fetch\""),
        "no git process fetched: {events}"
    );
}

/// Every file under `dir`, recursively.
fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_missing_blob_the_answer_does_not_need_is_a_note() {
    let fixture = Fixture::from_toml(&format!(
        r#"{UPSTREAM}
[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Add the acme connector"
write = {{ "connectors/sources/acme.py" = "class AcmeDataSource:\n    def get_docs(self):\n        yield {{'id': 1}}\n" }}
edit = [{{ path = "connectors/config.py", replace = [['"mysql": "connectors.sources.mysql:MySqlDataSource",', '"mysql": "connectors.sources.mysql:MySqlDataSource",\n            "acme": "connectors.sources.acme:AcmeDataSource",']] }}]
"#
    ));
    let copy = loose_copy(&fixture);
    let blob = git_ok(&copy, &["rev-parse", "HEAD:connectors/sources/acme.py"]);
    std::fs::remove_file(object_file(&copy, blob.trim())).unwrap();
    let output = forkdrift_in(fixture.temp.path())
        .arg("-C")
        .arg(&copy)
        .args(["audit", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: forkdrift::model::Report = serde_json::from_slice(&output.stdout).unwrap();
    let acme = change(&report, "connectors/sources/acme.py");
    assert_eq!(acme.class, ChangeClass::ConnectorAdded);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("connectors/sources/acme.py") && n.contains("could not be read")),
        "{:?}",
        report.notes
    );
}

#[test]
fn non_utf8_paths_and_messages() {
    use std::os::unix::ffi::OsStrExt;
    let fixture = Fixture::build("minimal");
    let name = std::ffi::OsStr::from_bytes(b"connectors/caf\xe9.py");
    std::fs::write(fixture.path().join(name), "x = 1\n").unwrap();
    commit_all(&fixture, b"Caf\xe9: a Latin-1 message\n\nna\xefve body\n");
    let report = fixture.audit(&[]);
    assert!(
        report
            .changes
            .iter()
            .any(|c| c.path.starts_with("connectors/caf")),
        "{:?}",
        report.changes
    );
    fixture
        .forkdrift(&["audit", "--fail-on", "never", "--all"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn crlf_files_count_their_lines() {
    let fixture = Fixture::build("minimal");
    std::fs::write(
        fixture.path().join("connectors/windows.py"),
        "a = 1\r\nb = 2\r\nc = 3\r\n",
    )
    .unwrap();
    commit_all(&fixture, b"A CRLF file\n");
    let report = fixture.audit(&[]);
    let crlf = change(&report, "connectors/windows.py");
    assert_eq!(
        (crlf.lines_added, crlf.lines_deleted, crlf.binary),
        (3, 0, false)
    );
}

#[test]
fn case_only_renames() {
    let fixture = Fixture::from_toml(&format!(
        r#"{UPSTREAM}
[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Rename the client, case only"
rename = {{ "connectors/es/client.py" = "connectors/es/Client.py" }}
"#
    ));
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    let renamed = change(&report, "connectors/es/Client.py");
    assert_eq!(renamed.status, Status::Renamed);
    assert_eq!(renamed.old_path.as_deref(), Some("connectors/es/client.py"));
}

#[test]
fn lfs_pointer_files_are_text_like_any_other() {
    let fixture = Fixture::from_toml(&format!(
        r#"{UPSTREAM}
[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Track the test dump with LFS"
write = {{ ".gitattributes" = "*.bin filter=lfs diff=lfs merge=lfs -text\n", "tests/sources/fixtures/mysql/dump.bin" = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n" }}
"#
    ));
    let report = fixture.audit(&["--rules", "elastic-connectors"]);
    let pointer = change(&report, "tests/sources/fixtures/mysql/dump.bin");
    assert_eq!(pointer.class, ChangeClass::Test);
    assert_eq!(pointer.lines_added, 3);
}

#[test]
fn a_100_mb_file() {
    let fixture = Fixture::build("minimal");
    let big = std::fs::File::create(fixture.path().join("connectors/big.bin")).unwrap();
    big.set_len(100 * 1024 * 1024).unwrap();
    drop(big);
    let file = fixture.temp.path().join("message");
    std::fs::write(&file, "A 100 MB file\n").unwrap();
    git_ok(
        fixture.path(),
        &["-c", "core.compression=1", "add", "connectors/big.bin"],
    );
    commit(fixture.path(), &file);
    let report = fixture.audit(&[]);
    let big = change(&report, "connectors/big.bin");
    assert!(big.binary);
}

/// `text` as a TOML basic string, for scenarios written by a test.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What `git merge-tree --write-tree --name-only` finds in conflict when merging `theirs`
/// into `ours`, in git's order (by path).
fn merge_tree_conflicts(fixture: &Fixture, ours: &str, theirs: &str) -> Vec<String> {
    fixture
        .git(&[
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            ours,
            theirs,
        ])
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// `forkdrift audit --format json` with the default `--fail-on error`: its exit code and report.
fn audit_with_exit_code(fixture: &Fixture) -> (Option<i32>, forkdrift::model::Report) {
    let output = fixture
        .forkdrift(&["audit", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("the JSON report does not parse ({e}): {stderr}"));
    (output.status.code(), report)
}

/// The registration line of a connector in `connectors/config.py`.
fn registration(key: &str, class: &str) -> String {
    format!("            \"{key}\": \"connectors.sources.{key}:{class}DataSource\",")
}

/// A module-layout data source whose lines, apart from its name, are its own (`"{n}"`), so
/// that a copy of it is told from a copy of any other.
const SOURCE: &str = r#"from connectors.source import BaseDataSource


class Src{n}DataSource(BaseDataSource):
    """Data source {n}."""

    def __init__(self, configuration):
        super().__init__(configuration=configuration)
        self.page_size = "{n}"

    async def get_docs(self, filtering=None):
        async for doc in self.client.fetch("{n}"):
            yield doc, None
"#;

/// An elastic-connectors-shaped upstream of 100,002 files — 10,000 data sources, their
/// 10,000 tests, 80,000 framework modules in 200 packages, the registration file and the
/// version — and a fork that adds a connector copied from one of them, edits another in place
/// and edits the framework, against a target that changes some of the same files.
#[test]
fn a_tree_of_100_000_files() {
    const SOURCES: usize = 10_000;
    let registrations: String = (0..SOURCES)
        .map(|n| registration(&format!("src{n:04}"), &format!("Src{n:04}")) + "\n")
        .collect();
    let config = format!(
        "def _default_config():\n    return {{\n        \"sources\": {{\n{registrations}        }},\n    }}\n"
    );
    let test = "from connectors.sources.src{n} import Src{n}DataSource\n\n\ndef test_src{n}_get_docs():\n    source = Src{n}DataSource(configuration={})\n    assert source.page_size == \"{n}\"\n";
    let mut generate = vec![
        format!(
            "{{ path = \"connectors/sources/src{{n}}.py\", count = {SOURCES}, text = {} }}",
            toml_string(SOURCE)
        ),
        format!(
            "{{ path = \"tests/sources/test_src{{n}}.py\", count = {SOURCES}, text = {} }}",
            toml_string(test)
        ),
    ];
    for k in 0..200 {
        let module = format!(
            "\"\"\"Framework module p{k:03}/m{{n}}.\"\"\"\n\nLIMIT = \"{k:03}-{{n}}\"\n\n\ndef handle_{{n}}(value):\n    return value\n"
        );
        generate.push(format!(
            "{{ path = \"connectors/lib/p{k:03}/m{{n}}.py\", count = 400, text = {} }}",
            toml_string(&module)
        ));
    }
    // A `replace` pair that adds a registration line after another.
    let register_after = |key: &str, class: &str, added: &str, added_class: &str| {
        let line = registration(key, class);
        let both = format!("{line}\n{}", registration(added, added_class));
        format!("[{}, {}]", toml_string(&line), toml_string(&both))
    };
    let fixture = Fixture::from_toml(&format!(
        r#"description = "A 100,000-file upstream and a fork of it"
# No work tree: checking out 100,000 files is no part of an audit.
bare = true

[[step]]
commit = "upstream/main"
id = "base"
message = "Connectors framework and {SOURCES} data sources (#1)"
generate = [{generate}]
write = {{ "connectors/config.py" = {config}, "connectors/VERSION" = "8.10.0.0\n" }}

[[step]]
tag = "v8.10.0.0"
at = "upstream/main"

[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Add the acme connector, a copy of src4242"
copy = [{{ from = "connectors/sources/src4242.py", to = "connectors/sources/acme.py", replace = [["Src4242", "Acme"]] }}, {{ from = "tests/sources/test_src4242.py", to = "tests/sources/test_acme.py", replace = [["Src4242", "Acme"], ["src4242", "acme"]] }}]
edit = [{{ path = "connectors/config.py", replace = [{acme}] }}]

[[step]]
commit = "fork/main"
message = "Larger pages for src0007"
edit = [{{ path = "connectors/sources/src0007.py", replace = [['self.page_size = "0007"', 'self.page_size = "0007-large"']] }}]

[[step]]
commit = "fork/main"
message = "Raise the framework's limits"
edit = [{{ path = "connectors/lib/p017/m123.py", replace = [['LIMIT = "017-123"', 'LIMIT = "fork"']] }}, {{ path = "connectors/lib/p042/m007.py", replace = [['LIMIT = "042-007"', 'LIMIT = "fork"']] }}]

[[step]]
commit = "upstream/main"
message = "Page src0007 by cursor (#2)"
edit = [{{ path = "connectors/sources/src0007.py", replace = [['self.page_size = "0007"', 'self.page_size = "cursor"']] }}]

[[step]]
commit = "upstream/main"
message = "Tune the framework (#3)"
delete = ["connectors/lib/p042/m007.py"]
edit = [{{ path = "connectors/lib/p017/m123.py", replace = [['LIMIT = "017-123"', 'LIMIT = "upstream"']] }}, {{ path = "connectors/lib/p100/m300.py", replace = [['LIMIT = "100-300"', 'LIMIT = "upstream"']] }}]

[[step]]
commit = "upstream/main"
message = "Add the zendesk connector (#4)"
write = {{ "connectors/sources/zendesk.py" = "class ZendeskDataSource:\n    pass\n" }}
edit = [{{ path = "connectors/config.py", replace = [{zendesk}] }}]
"#,
        generate = generate.join(", "),
        config = toml_string(&config),
        acme = register_after("src4242", "Src4242", "acme", "Acme"),
        zendesk = register_after("src9999", "Src9999", "zendesk", "Zendesk"),
    ));
    let base = fixture.id("base");
    let files = fixture.git(&["ls-tree", "-r", "--name-only", &base]);
    assert_eq!(files.lines().count(), 100_002);

    let (code, report) = audit_with_exit_code(&fixture);
    // Framework edits are errors: exit 1 with the default `--fail-on error`.
    assert_eq!(code, Some(1));
    assert_eq!(report.pack, "elastic-connectors");
    assert_eq!(report.fork.commit, fixture.id("refs/heads/main"));
    assert_eq!(
        report.target.commit,
        fixture.id("refs/remotes/upstream/main")
    );
    assert_eq!((&report.merge_base, &report.fork_point), (&base, &base));
    let fork = report.fork.commit.as_str();
    let target = report.target.commit.as_str();

    // The own commits are what git lists, in its order (newest first).
    let own: Vec<&str> = report
        .own_commits
        .iter()
        .map(|c| c.commit.as_str())
        .collect();
    let listed = fixture.git(&["rev-list", fork, "^upstream/main"]);
    assert_eq!(own, listed.lines().collect::<Vec<_>>());
    let count = fixture.git(&["rev-list", "--count", fork, "^upstream/main"]);
    assert_eq!(own.len().to_string(), count.trim());
    assert_eq!(report.summary.own_commits, 3);

    // The conflicts are git's, and the three the scenario makes.
    let conflicts: Vec<(&str, &str)> = report
        .conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.kind.as_str()))
        .collect();
    assert_eq!(
        conflicts,
        vec![
            ("connectors/lib/p017/m123.py", "content"),
            ("connectors/lib/p042/m007.py", "modify/delete"),
            ("connectors/sources/src0007.py", "content"),
        ]
    );
    assert_eq!(
        conflicts.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        merge_tree_conflicts(&fixture, fork, target)
    );
    assert!(report.conflicts.iter().all(|c| c.cause == Origin::Fork));
    assert_eq!(
        (report.summary.conflicts, report.summary.fork_conflicts),
        (3, 3)
    );

    // Every path the fork changed, and only those, classified.
    let changed = fixture.git(&["diff", "--name-only", &base, fork]);
    assert_eq!(
        report
            .changes
            .iter()
            .map(|c| c.path.as_str())
            .collect::<Vec<_>>(),
        changed.lines().collect::<Vec<_>>()
    );
    let classes: Vec<(&str, ChangeClass, Option<&str>, Status, Origin)> = report
        .changes
        .iter()
        .map(|c| {
            (
                c.path.as_str(),
                c.class,
                c.unit.as_deref(),
                c.status,
                c.origin,
            )
        })
        .collect();
    use ChangeClass::*;
    use Origin::Fork;
    assert_eq!(
        classes,
        vec![
            (
                "connectors/config.py",
                Registration,
                None,
                Status::Modified,
                Fork
            ),
            (
                "connectors/lib/p017/m123.py",
                Framework,
                None,
                Status::Modified,
                Fork
            ),
            (
                "connectors/lib/p042/m007.py",
                Framework,
                None,
                Status::Modified,
                Fork
            ),
            (
                "connectors/sources/acme.py",
                ConnectorAdded,
                Some("acme"),
                Status::Added,
                Fork
            ),
            (
                "connectors/sources/src0007.py",
                ConnectorModified,
                Some("src0007"),
                Status::Modified,
                Fork
            ),
            (
                "tests/sources/test_acme.py",
                Test,
                Some("acme"),
                Status::Added,
                Fork
            ),
        ]
    );
    assert_eq!(
        change(&report, "connectors/config.py").registers,
        vec!["acme"]
    );
    for (copy, source, unit) in [
        (
            "connectors/sources/acme.py",
            "connectors/sources/src4242.py",
            "src4242",
        ),
        (
            "tests/sources/test_acme.py",
            "tests/sources/test_src4242.py",
            "src4242",
        ),
    ] {
        let from = change(&report, copy)
            .copied_from
            .as_ref()
            .unwrap_or_else(|| panic!("{copy} is no copy"));
        assert_eq!((from.path.as_str(), from.unit.as_str()), (source, unit));
    }
    assert!(report.already_upstream.is_empty());
}

/// A fork of 1,000 own commits that merges upstream after every fifth: upstream moves on by
/// 200 commits meanwhile, one per merge (one of them conflicts, and the merge resolves it), and
/// by 3 more since the last merge, the target. One own commit is a fix upstream merged later
/// as its own (#402).
#[test]
fn a_fork_with_1_000_own_commits_and_merges_from_upstream() {
    let framework = "\"\"\"Framework module {n}.\"\"\"\n\nLIMIT = \"{n}\"\n\n\ndef limit():\n    return LIMIT\n";
    let registrations: String = (0..20)
        .map(|n| registration(&format!("src{n:02}"), &format!("Src{n:02}")) + "\n")
        .collect();
    let config = format!(
        "def _default_config():\n    return {{\n        \"sources\": {{\n{registrations}        }},\n    }}\n"
    );
    let mut scenario = format!(
        r#"description = "1,000 own commits, merging upstream every 5"

[[step]]
commit = "upstream/main"
message = "Connectors framework and 20 data sources (#1)"
generate = [{{ path = "connectors/sources/src{{n}}.py", count = 20, text = {source} }}, {{ path = "connectors/lib/m{{n}}.py", count = 50, text = {framework} }}]
write = {{ "connectors/config.py" = {config}, "connectors/VERSION" = "8.10.0.0\n", "connectors/es/client.py" = "TIMEOUT = 10\nRETRIES = 3\n" }}

[[step]]
tag = "v8.10.0.0"
at = "upstream/main"
"#,
        source = toml_string(SOURCE),
        framework = toml_string(framework),
        config = toml_string(&config),
    );
    // One commit on `branch` that replaces `old` by `new` in `path`.
    let replace = |branch: &str, id: &str, message: &str, path: &str, old: &str, new: &str| {
        format!(
            "\n[[step]]\ncommit = \"{branch}\"\nid = \"{id}\"\nmessage = \"{message}\"\nedit = [{{ path = \"{path}\", replace = [[{}, {}]] }}]\n",
            toml_string(old),
            toml_string(new)
        )
    };
    let page_size = |n: &str| format!("self.page_size = \"{n}\"");
    let fix = |branch: &str, id: &str| {
        replace(
            branch,
            id,
            "Fix the m07 limit (#402)",
            "connectors/lib/m07.py",
            "LIMIT = \"07\"",
            "LIMIT = \"07-fixed\"",
        )
    };
    let fork_files = [
        "connectors/sources/acme.py",
        "tests/sources/test_acme.py",
        "docs/fork.md",
    ];
    for k in 1..=200 {
        let id = format!("u{k}");
        scenario += &match k {
            12 => replace(
                "upstream/main",
                &id,
                "Page src03 by cursor (#112)",
                "connectors/sources/src03.py",
                &page_size("03"),
                &page_size("cursor"),
            ),
            50 => format!(
                "\n[[step]]\ncommit = \"upstream/main\"\nid = \"{id}\"\nmessage = \"Add the zendesk connector (#150)\"\nwrite = {{ \"connectors/sources/zendesk.py\" = \"class ZendeskDataSource:\\n    pass\\n\" }}\nedit = [{{ path = \"connectors/config.py\", replace = [['\"sources\": {{', {}]] }}]\n",
                toml_string(&format!(
                    "\"sources\": {{\n{}",
                    registration("zendesk", "Zendesk")
                ))
            ),
            100 => replace(
                "upstream/main",
                &id,
                "Document src05 (#200)",
                "connectors/sources/src05.py",
                "\"\"\"Data source 05.\"\"\"",
                "\"\"\"Data source 05, paged.\"\"\"",
            ),
            _ => format!(
                "\n[[step]]\ncommit = \"upstream/main\"\nid = \"{id}\"\nmessage = \"Upstream change {k} (#{})\"\nedit = [{{ path = \"connectors/lib/m{:02}.py\", append = \"VALUE_{k} = {k}\\n\" }}]\n",
                100 + k,
                k % 50
            ),
        };
        for i in 5 * (k - 1) + 1..=5 * k {
            let id = format!("f{i}");
            scenario += &match i {
                1 => format!(
                    "\n[[step]]\ncommit = \"fork/main\"\nat = \"upstream/main\"\nid = \"{id}\"\nmessage = \"Add the acme connector\"\ncopy = [{{ from = \"connectors/sources/src01.py\", to = \"connectors/sources/acme.py\", replace = [[\"Src01\", \"Acme\"]] }}]\nwrite = {{ \"tests/sources/test_acme.py\" = \"from connectors.sources.acme import AcmeDataSource\\n\", \"docs/fork.md\" = \"# The fork\\n\" }}\nedit = [{{ path = \"connectors/config.py\", replace = [[{}, {}]] }}]\n",
                    toml_string(&registration("src19", "Src19")),
                    toml_string(&format!(
                        "{}\n{}",
                        registration("src19", "Src19"),
                        registration("acme", "Acme")
                    ))
                ),
                20 => fix("fork/main", "fork-fix"),
                52 => replace(
                    "fork/main",
                    &id,
                    "Larger pages for src03",
                    "connectors/sources/src03.py",
                    &page_size("03"),
                    &page_size("03-large"),
                ),
                700 => replace(
                    "fork/main",
                    &id,
                    "Fewer retries",
                    "connectors/es/client.py",
                    "RETRIES = 3",
                    "RETRIES = 1",
                ),
                900 => replace(
                    "fork/main",
                    &id,
                    "Larger pages for src05",
                    "connectors/sources/src05.py",
                    &page_size("05"),
                    &page_size("05-large"),
                ),
                _ => format!(
                    "\n[[step]]\ncommit = \"fork/main\"\nid = \"{id}\"\nmessage = \"Acme, step {i}\"\nedit = [{{ path = \"{}\", append = \"# step {i}\\n\" }}]\n",
                    fork_files[i % 3]
                ),
            };
        }
        scenario += &format!(
            "\n[[step]]\nmerge = \"upstream/main\"\ninto = \"fork/main\"\nid = \"merge{k}\"\nmessage = \"Merge upstream/main into main\"\n"
        );
        if k == 12 {
            // Both sides changed src03's page size: the fork keeps both.
            let resolved = SOURCE
                .replace("{n}", "03")
                .replace(&page_size("03"), &page_size("03-large-cursor"));
            scenario += &format!(
                "write = {{ \"connectors/sources/src03.py\" = {} }}\n",
                toml_string(&resolved)
            );
        }
    }
    scenario += &replace(
        "upstream/main",
        "u-src05",
        "Page src05 by cursor (#400)",
        "connectors/sources/src05.py",
        &page_size("05"),
        &page_size("cursor"),
    );
    scenario += &replace(
        "upstream/main",
        "u-retries",
        "More retries (#401)",
        "connectors/es/client.py",
        "RETRIES = 3",
        "RETRIES = 5",
    );
    scenario += &fix("upstream/main", "upstream-fix");
    let fixture = Fixture::from_toml(&scenario);
    let fork = fixture.id("refs/heads/main");
    let last_merged = fixture.id("u200");
    assert_eq!(fixture.git(&["rev-parse", "HEAD^2"]).trim(), last_merged);
    // The merge after upstream's 12th commit resolved a real conflict.
    let resolving = fixture.id("merge12");
    assert_eq!(
        merge_tree_conflicts(
            &fixture,
            &format!("{resolving}^1"),
            &format!("{resolving}^2")
        ),
        vec!["connectors/sources/src03.py"]
    );

    let (code, report) = audit_with_exit_code(&fixture);
    // The fork's edit of the Elasticsearch client is an error: exit 1.
    assert_eq!(code, Some(1));
    assert_eq!(report.fork.commit, fork);
    assert_eq!(report.target.commit, fixture.id("upstream-fix"));
    // The fork builds on what it merged last.
    assert_eq!(report.merge_base, last_merged);
    assert_eq!(report.fork_point, last_merged);

    // Own commits: reachable from the fork and from no upstream ref, merges included
    // (docs/json-schema.md); the 1,000 that are no merge are the fork's own work.
    let mut own: Vec<&str> = report
        .own_commits
        .iter()
        .map(|c| c.commit.as_str())
        .collect();
    own.sort_unstable();
    let listed = fixture.git(&["rev-list", &fork, "^upstream/main"]);
    let mut listed: Vec<&str> = listed.lines().collect();
    listed.sort_unstable();
    assert_eq!(own, listed);
    let count = |args: &[&str]| -> usize {
        let mut all = vec!["rev-list", "--count"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[&fork, "^upstream/main"]);
        fixture.git(&all).trim().parse().unwrap()
    };
    assert_eq!((count(&[]), count(&["--no-merges"])), (1_200, 1_000));
    assert_eq!(report.own_commits.len(), count(&[]));
    assert_eq!(report.summary.own_commits, count(&[]));
    assert_eq!(
        report.own_commits.iter().filter(|c| !c.merge).count(),
        count(&["--no-merges"])
    );

    // The conflicts of the next upgrade are git's.
    let conflicts: Vec<(&str, &str)> = report
        .conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.kind.as_str()))
        .collect();
    assert_eq!(
        conflicts,
        vec![
            ("connectors/es/client.py", "content"),
            ("connectors/sources/src05.py", "content"),
        ]
    );
    assert_eq!(
        conflicts.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        merge_tree_conflicts(&fixture, &fork, &report.target.commit)
    );
    assert_eq!(
        report
            .conflicts
            .iter()
            .map(|c| (c.cause, c.commits.clone()))
            .collect::<Vec<_>>(),
        vec![
            (Origin::Fork, vec![fixture.id("f700")]),
            (Origin::Fork, vec![fixture.id("f900")])
        ]
    );

    // What the merges brought from upstream is not the fork's: the changes are the fork's
    // diff from the last merged commit, line for line, each with the own commits git's log
    // names for it (the merge that resolved src03 among them).
    let changes: Vec<(&str, ChangeClass, Option<&str>, Origin)> = report
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.class, c.unit.as_deref(), c.origin))
        .collect();
    use ChangeClass::*;
    use Origin::Fork;
    assert_eq!(
        changes,
        vec![
            ("connectors/config.py", Registration, None, Fork),
            ("connectors/es/client.py", Framework, None, Fork),
            ("connectors/lib/m07.py", Framework, None, Fork),
            (
                "connectors/sources/acme.py",
                ConnectorAdded,
                Some("acme"),
                Fork
            ),
            (
                "connectors/sources/src03.py",
                ConnectorModified,
                Some("src03"),
                Fork
            ),
            (
                "connectors/sources/src05.py",
                ConnectorModified,
                Some("src05"),
                Fork
            ),
            ("docs/fork.md", Docs, None, Fork),
            ("tests/sources/test_acme.py", Test, Some("acme"), Fork),
        ]
    );
    let numstat = fixture.git(&["diff", "--numstat", &last_merged, &fork]);
    let numstat: Vec<(u64, u64, &str)> = numstat
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let mut number = || fields.next().unwrap().parse::<u64>().unwrap();
            (number(), number(), line.rsplit('\t').next().unwrap())
        })
        .collect();
    assert_eq!(
        report
            .changes
            .iter()
            .map(|c| (c.lines_added, c.lines_deleted, c.path.as_str()))
            .collect::<Vec<_>>(),
        numstat
    );
    // A merge counts for a path where it differs from every parent, as with git's
    // `--full-history --simplify-merges`: the merge that resolved src03 and the one that
    // joined acme's registration with zendesk's, not the one that only brought upstream's
    // src05.
    for c in &report.changes {
        let logged = fixture.git(&[
            "log",
            "--format=%H",
            "--full-history",
            "--simplify-merges",
            &fork,
            "^upstream/main",
            "--",
            &c.path,
        ]);
        let mut logged: Vec<&str> = logged.lines().collect();
        logged.sort_unstable();
        let mut commits: Vec<&str> = c.commits.iter().map(String::as_str).collect();
        commits.sort_unstable();
        assert_eq!(commits, logged, "{}", c.path);
    }
    assert_eq!(
        change(&report, "connectors/sources/src03.py").commits,
        vec![resolving.clone(), fixture.id("f52")]
    );
    assert_eq!(
        change(&report, "connectors/config.py").commits,
        vec![fixture.id("merge50"), fixture.id("f1")]
    );
    assert_eq!(
        change(&report, "connectors/sources/src05.py").commits,
        vec![fixture.id("f900")]
    );
    // Merges joined upstream's appends to m07 with the fork's fix after it.
    assert_eq!(
        change(&report, "connectors/lib/m07.py").commits,
        ["merge157", "merge107", "merge57", "merge7", "fork-fix"].map(|id| fixture.id(id))
    );
    assert_eq!(
        change(&report, "connectors/config.py").registers,
        vec!["acme"]
    );
    // Every path upstream changed and the fork merged, that the fork did not change itself, is
    // left out.
    let merged = fixture.git(&["diff", "--name-only", "v8.10.0.0", &last_merged]);
    for path in merged.lines() {
        assert!(
            numstat.iter().any(|(_, _, p)| *p == path)
                || report.changes.iter().all(|c| c.path != path),
            "{path}"
        );
    }

    // Already upstream: the fix upstream merged as #402, and nothing else.
    let already: Vec<(&str, &str, bool)> = report
        .already_upstream
        .iter()
        .map(|a| (a.commit.as_str(), a.upstream_commit.as_str(), a.in_target))
        .collect();
    let (fork_fix, upstream_fix) = (fixture.id("fork-fix"), fixture.id("upstream-fix"));
    assert_eq!(
        already,
        vec![(fork_fix.as_str(), upstream_fix.as_str(), true)]
    );
    assert_eq!(
        report
            .own_commits
            .iter()
            .filter(|c| c.already_upstream)
            .map(|c| c.commit.as_str())
            .collect::<Vec<_>>(),
        vec![fork_fix.as_str()]
    );
    assert_eq!(
        report
            .changes
            .iter()
            .filter(|c| c.already_upstream)
            .map(|c| c.path.as_str())
            .collect::<Vec<_>>(),
        vec!["connectors/lib/m07.py"]
    );
    assert_eq!(
        (report.summary.already_upstream, report.summary.divergent),
        (1, 7)
    );
}

#[test]
fn a_forks_own_release_tags_are_no_upstream_releases() {
    let fixture = Fixture::build("fork-tags");
    let report = fixture.audit(&["--hops"]);
    // The fork's tag must not hide the own commit below it.
    let own: Vec<&str> = report
        .own_commits
        .iter()
        .map(|c| c.commit.as_str())
        .collect();
    assert_eq!(
        own,
        vec![fixture.id("fork-sources"), fixture.id("fork-idle")],
        "{:?}",
        report.notes
    );
    let hops: Vec<&str> = report.hops.iter().map(|h| h.name.as_str()).collect();
    assert!(
        hops.iter()
            .all(|h| !h.starts_with("v8.1011") && !h.starts_with("v8.1010")),
        "{hops:?}"
    );
    let note = report
        .notes
        .iter()
        .find(|n| n.contains("tag pattern"))
        .unwrap_or_else(|| panic!("no note on the fork's tags: {:?}", report.notes));
    assert!(
        note.contains("2 tags") && note.contains("v8.101000.0") && note.contains("v8.101100.0"),
        "{note}"
    );
    assert!(
        !note.contains("v8.11.0.0") && !note.contains("v8.9.0.0"),
        "{note}"
    );
    let repo = forkdrift::repo::Repo::open(fixture.path()).unwrap();
    let facts = forkdrift::repo::collect::collect(
        &repo,
        &forkdrift::repo::git::Git::hermetic(),
        &forkdrift::repo::collect::Selection::default(),
    )
    .unwrap();
    let releases: Vec<&str> = facts.releases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(releases, vec!["v8.9.0.0", "v8.10.0.0", "v8.11.0.0"]);

    // The terminal report says so too, and `plan` does not hop to the fork's own "release".
    fixture
        .forkdrift(&["audit", "--fail-on", "never"])
        .assert()
        .success()
        .stdout(predicate::str::contains("v8.101000.0"));
    let plan = fixture
        .forkdrift(&["plan", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    let plan: forkdrift::model::Report = serde_json::from_slice(&plan.stdout).unwrap();
    let versions: Vec<&str> = plan
        .plan
        .as_ref()
        .unwrap()
        .hops
        .iter()
        .map(|h| h.version.as_str())
        .collect();
    assert_eq!(versions, vec!["8.11.0.0"]);
    // Nor does `--to VERSION` resolve to one of the fork's tags.
    fails_with(
        fixture.forkdrift(&["plan", "--to", "8.101000"]),
        "unknown revision `8.101000`",
        "no upstream release is version 8.101000; the newest are ",
    );
}

/// How a fuzz target's input must end: a value, or a diagnostic that renders with a help line.
fn renders_with_help(input: &Path, error: &forkdrift::Error) {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, error)
        .unwrap_or_else(|e| panic!("{}: the diagnostic does not render: {e}", input.display()));
    assert!(out.contains("help:"), "{}: {out}", input.display());
}

/// Every input a fuzz target (`fuzz/`) ever crashed on, kept in
/// `tests/data/fuzz-regressions/<target>/`, with the seeds we wrote (`fuzz/seeds/<target>/`),
/// run as the target runs it: never a panic.
#[test]
fn fuzz_regressions_end_in_a_value_or_a_diagnostic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let inputs = |target: &str| -> Vec<(std::path::PathBuf, String)> {
        let mut out = Vec::new();
        for dir in [
            root.join("tests/data/fuzz-regressions").join(target),
            root.join("fuzz/seeds").join(target),
        ] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                // The targets skip input that is not UTF-8, as the callers never pass it.
                if let Ok(text) = String::from_utf8(std::fs::read(&path).unwrap()) {
                    out.push((path, text));
                }
            }
        }
        out.sort();
        out
    };

    let mut packs = inputs("rule_pack");
    for entry in std::fs::read_dir(root.join("rules")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        packs.push((path, text));
    }
    for (path, text) in &packs {
        match forkdrift::rules::Pack::parse("fuzz", text, "fuzz.toml") {
            Ok(pack) => {
                for probe in ["src/a.rs", "connectors/sources/x/y.py", "", "a/b/c"] {
                    let _ = pack.zone(probe);
                }
            }
            Err(error) => renders_with_help(path, &error),
        }
    }

    for (path, text) in inputs("config") {
        if let Err(error) = forkdrift::config::acceptances(&text, Path::new(".forkdrift.toml")) {
            renders_with_help(&path, &error);
        }
    }

    let marker = regex::Regex::new(forkdrift::analysis::protocol::ENUM_MARKER).unwrap();
    let docs = inputs("protocol_doc");
    assert!(!docs.is_empty(), "the protocol_doc seeds are gone");
    for (_, text) in docs {
        let (before, after) = text.split_once('\0').unwrap_or((&text, ""));
        let old = forkdrift::analysis::protocol::document_items(before, &marker);
        let new = forkdrift::analysis::protocol::document_items(after, &marker);
        for change in forkdrift::analysis::protocol::diff(&old, &new) {
            let _ = change.describe();
        }
    }
}

#[test]
fn a_hop_git_cannot_merge_is_marked_and_the_sweep_goes_on() {
    // Only the merge with v1.1.0 needs agent.go as v1.1.0 has it; the target rewrote the
    // line again. The blob goes missing: that hop is unknown, the others are exact.
    let fixture = Fixture::from_toml(
        r#"description = "A fork whose every upstream release rewrites the line it edited."

[[step]]
commit = "upstream/main"
message = "The agent (#1)"
write = { "agent.go" = "package agent\n\nconst Retries = 3\n" }

[[step]]
tag = "v1.0.0"
at = "upstream/main"

[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Retry more"
edit = [{ path = "agent.go", replace = [["Retries = 3", "Retries = 5"]] }]

[[step]]
commit = "upstream/main"
message = "Retry less (#2)"
edit = [{ path = "agent.go", replace = [["Retries = 3", "Retries = 2"]] }]

[[step]]
tag = "v1.1.0"
at = "upstream/main"

[[step]]
commit = "upstream/main"
message = "Retry once (#3)"
edit = [{ path = "agent.go", replace = [["Retries = 2", "Retries = 1"]] }]

[[step]]
tag = "v1.2.0"
at = "upstream/main"
"#,
    );
    let copy = loose_copy(&fixture);
    let blob = git_ok(&copy, &["rev-parse", "v1.1.0:agent.go"]);
    let blob = blob.trim();
    std::fs::remove_file(object_file(&copy, blob)).unwrap();
    let mut command = forkdrift_in(fixture.temp.path());
    command.arg("-C").arg(&copy).args([
        "audit", "--rules", "generic", "--to", "v1.2.0", "--hops", "--format", "json",
    ]);
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: forkdrift::model::Report = serde_json::from_slice(&output.stdout).unwrap();
    let hops: Vec<(&str, usize, Option<&str>)> = report
        .hops
        .iter()
        .map(|h| (h.name.as_str(), h.conflicts, h.merge_error.as_deref()))
        .collect();
    let error = format!("git could not read object {blob} (agent.go in commit ");
    assert!(
        matches!(&hops[..], [("v1.1.0", 0, Some(e)), ("v1.2.0", 1, None)] if e.starts_with(&error)),
        "{hops:?}"
    );
    assert!(
        report.notes.iter().any(|n| n.starts_with(
            "v1.1.0 was not merged, and its conflicts are unknown: git could not read object"
        ) && n.contains("git fetch --refetch")),
        "{:?}",
        report.notes
    );
    assert_eq!(report.hops[1].conflict_paths, ["agent.go"]);
    let mut command = forkdrift_in(fixture.temp.path());
    command.arg("-C").arg(&copy).args([
        "audit", "--rules", "generic", "--to", "v1.2.0", "--hops", "--color", "never",
    ]);
    let terminal = String::from_utf8(command.output().unwrap().stdout).unwrap();
    let row = terminal
        .lines()
        .find(|l| l.trim_start().starts_with("1.1.0 "));
    assert_eq!(
        row.map(|r| r.split_whitespace().take(4).collect::<Vec<_>>()),
        Some(vec!["1.1.0", "v1.1.0", "?", "?"]),
        "{terminal}"
    );
}

#[test]
fn a_pr_candidate_git_cannot_pick_is_named_and_the_others_are_tried() {
    // Picking "Time out later" onto the target merges agent.go as the fork's merge from
    // upstream wrote it, and nothing else needs that version (no other merge writes it
    // again: upstream changed the file since): it goes missing. "Retry more" picks as before.
    let fixture = Fixture::from_toml(
        r##"description = "Two framework fixes to one file, a merge from upstream between them."

[[step]]
commit = "upstream/main"
message = "The agent (#1)"
write = { "agent.go" = "package agent\n\n// How often.\nconst Retries = 3\n\n// How long.\nconst Timeout = 30\n\n// How many.\nconst Workers = 4\n" }

[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Retry more"
edit = [{ path = "agent.go", replace = [["Retries = 3", "Retries = 5"]] }]

[[step]]
commit = "upstream/main"
message = "More workers (#2)"
edit = [{ path = "agent.go", replace = [["Workers = 4", "Workers = 8"]] }]

[[step]]
merge = "upstream/main"
into = "fork/main"
message = "Merge branch 'main' of upstream"

[[step]]
commit = "fork/main"
message = "Time out later"
edit = [{ path = "agent.go", replace = [["Timeout = 30", "Timeout = 60"]] }]

[[step]]
commit = "upstream/main"
message = "Say what the package is (#3)"
edit = [{ path = "agent.go", replace = [["package agent", "// Package agent runs the checks.\npackage agent"]] }]
"##,
    );
    let copy = loose_copy(&fixture);
    let blob = git_ok(&copy, &["rev-parse", "HEAD~1:agent.go"]);
    let blob = blob.trim();
    std::fs::remove_file(object_file(&copy, blob)).unwrap();
    let mut command = forkdrift_in(fixture.temp.path());
    command.arg("-C").arg(&copy).args([
        "audit",
        "--rules",
        "generic",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: forkdrift::model::Report = serde_json::from_slice(&output.stdout).unwrap();
    let titles: Vec<&str> = report
        .pr_candidates
        .iter()
        .map(|c| c.title.as_str())
        .collect();
    assert_eq!(titles, ["Retry more"], "{:?}", report.notes);
    let untried = format!(
        "\"Time out later\" could not be tried as a PR candidate: git could not read object {blob} (agent.go in "
    );
    assert!(
        report.notes.iter().any(|n| n.contains(&untried)),
        "{:?}",
        report.notes
    );
}
