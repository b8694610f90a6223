//! A command-line tool people trust at first touch: it touches only what is its own, keeps
//! its exit codes through broken pipes and signals, and every diagnostic helps.

use crate::support::{Fixture, commit_as_fork, forkdrift_in, git_ok};
use predicates::prelude::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_forkdrift"))
}

/// A hermetic std Command for the binary (for pipes and signals, which assert_cmd hides).
fn raw(home: &Path) -> Command {
    let mut command = Command::new(bin());
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    command
}

fn fails_with(mut command: assert_cmd::Command, message: &str, help: &str) {
    command
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message))
        .stderr(predicate::str::contains("help:"))
        .stderr(predicate::str::contains(help))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn demo_keep_refuses_a_directory_that_holds_anything() {
    let home = tempfile::tempdir().unwrap();
    // A user's work: a README, and a bare repository.
    let dir = home.path().join("mine");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("README.md"), "my notes\n").unwrap();
    let mut command = forkdrift_in(home.path());
    command.args(["demo", "--keep"]).arg(&dir);
    fails_with(command, "is not empty", "new or empty directory");
    assert_eq!(
        std::fs::read_to_string(dir.join("README.md")).unwrap(),
        "my notes\n"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    let bare = home.path().join("bare.git");
    git_ok(
        home.path(),
        &["init", "--quiet", "--bare", bare.to_str().unwrap()],
    );
    let before = crate::support::snapshot_dir(&bare);
    let mut command = forkdrift_in(home.path());
    command.args(["demo", "--keep"]).arg(&bare);
    fails_with(command, "is not empty", "new or empty directory");
    assert_eq!(crate::support::snapshot_dir(&bare), before);
    assert!(!bare.join(".git").exists());

    let file = home.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let mut command = forkdrift_in(home.path());
    command.args(["demo", "--keep"]).arg(&file);
    fails_with(command, "is not", "new or empty directory");
}

#[test]
fn kept_demo_has_an_upstream_to_fetch() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("demo");
    std::fs::create_dir(&dir).unwrap(); // empty is fine
    let mut command = forkdrift_in(home.path());
    command.args(["demo", "--keep"]).arg(&dir);
    command
        .assert()
        .code(0)
        .stdout(predicate::str::contains("The demo stays in"));
    let fork = dir.join("fork");
    git_ok(&fork, &["fetch", "--quiet", "upstream"]);
    let branches = git_ok(&fork, &["ls-remote", "--heads", "upstream"]);
    assert!(branches.contains("refs/heads/main"), "{branches}");
    // And the kept demo audits as the demo did.
    let mut audit = forkdrift_in(home.path());
    audit
        .arg("-C")
        .arg(&fork)
        .args(["audit", "--fail-on", "never"])
        .assert()
        .code(0);
}

/// Starts the binary with a stdout (and maybe stderr) pipe whose reading end is already
/// closed: every write to it fails with EPIPE.
fn with_broken_pipes(mut command: Command, stderr_too: bool) -> std::process::Output {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    drop(child.stdout.take());
    if stderr_too {
        drop(child.stderr.take());
    }
    child.wait_with_output().unwrap()
}

#[test]
fn broken_pipes_end_quietly_with_the_runs_exit_code() {
    let fixture = Fixture::build("protocol");
    let run = |args: &[&str], stderr_too: bool| {
        let mut command = raw(fixture.temp.path());
        command.arg("-C").arg(fixture.path()).args(args);
        with_broken_pipes(command, stderr_too)
    };
    // `forkdrift plan 2>&1 | head -1`: refused, exit 3, no panic.
    let output = run(&["plan"], true);
    assert_eq!(output.status.code(), Some(3));
    // `… | head`: the refusal still goes to stderr, and nothing about the pipe.
    let output = run(&["audit"], false);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refusing to upgrade"), "{stderr}");
    assert!(
        !stderr.contains("Broken pipe") && !stderr.contains("panicked"),
        "{stderr}"
    );
    // `--format json | head -c 10`.
    let output = run(&["audit", "--format", "json", "--fail-on", "never"], false);
    assert_eq!(output.status.code(), Some(3));
    let minimal = Fixture::build("minimal");
    let mut command = raw(minimal.temp.path());
    command
        .arg("-C")
        .arg(minimal.path())
        .args(["audit", "--format", "json", "--fail-on", "never"]);
    let output = with_broken_pipes(command, false);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn a_closed_or_full_stdout_is_an_error() {
    let fixture = Fixture::build("minimal");
    // `forkdrift audit >&-`
    let output = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" \"$@\" >&-")
        .arg(bin())
        .arg("-C")
        .arg(fixture.path())
        .args(["audit", "--fail-on", "never"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("could not write the report"), "{stderr}");
    assert!(stderr.contains("help:"), "{stderr}");
    // `> /dev/full`
    if Path::new("/dev/full").exists() {
        let mut command = raw(fixture.temp.path());
        command
            .arg("-C")
            .arg(fixture.path())
            .args(["audit", "--fail-on", "never"])
            .stdout(std::fs::File::create("/dev/full").unwrap());
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("help:"));
    }
    // `> /dev/null` is fine.
    let mut command = raw(fixture.temp.path());
    command
        .arg("-C")
        .arg(fixture.path())
        .args(["audit", "--fail-on", "never"])
        .stdout(Stdio::null());
    assert_eq!(command.output().unwrap().status.code(), Some(0));
}

fn leftovers(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("forkdrift-"))
        .collect()
}

#[test]
fn signals_leave_no_scratch_directory_behind() {
    let fixture = Fixture::build("minimal");
    // A git whose merges take their time, so that the signal lands mid-merge.
    let slow = fixture.temp.path().join("slow-git");
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(
        &slow,
        format!(
            "#!/bin/sh\ncase \"$*\" in *merge-tree*) sleep 20;; esac\nexec {} \"$@\"\n",
            real.trim()
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&slow).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&slow, permissions).unwrap();
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = raw(fixture.temp.path())
            .arg("-C")
            .arg(fixture.path())
            .args(["audit", "--fail-on", "never"])
            .env("TMPDIR", tmp.path())
            .env("FORKDRIFT_GIT", &slow)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while leftovers(tmp.path()).is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no scratch directory appeared"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "SIG{signal}");
        assert_eq!(leftovers(tmp.path()), Vec::<String>::new(), "SIG{signal}");
    }
}

/// A git that sleeps before running `git <word> …` (so that a signal lands mid-run).
fn slow_git(dir: &Path, word: &str) -> std::path::PathBuf {
    let slow = dir.join(format!("slow-git-{word}"));
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(
        &slow,
        format!(
            "#!/bin/sh\ncase \"$*\" in *\" {word} \"*) sleep 20;; esac\nexec {} \"$@\"\n",
            real.trim()
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&slow).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&slow, permissions).unwrap();
    slow
}

#[test]
fn signals_remove_a_half_built_kept_demo() {
    let home = tempfile::tempdir().unwrap();
    // Publishing the upstream (`git fetch` into DIR/upstream.git) is the last step of the
    // build: the fork is complete by then, the demo is not.
    let slow = slow_git(home.path(), "fetch");
    for (signal, code, existed) in [("TERM", 143, false), ("INT", 130, true)] {
        let dir = home.path().join(format!("kept-{signal}"));
        if existed {
            std::fs::create_dir(&dir).unwrap();
        }
        let mut child = raw(home.path())
            .arg("demo")
            .arg("--keep")
            .arg(&dir)
            .env("FORKDRIFT_GIT", &slow)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !dir.join("upstream.git/HEAD").exists() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the demo never reached its upstream"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "SIG{signal}");
        if existed {
            // The empty directory the user named stays, empty.
            assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "SIG{signal}");
        } else {
            assert!(!dir.exists(), "SIG{signal}: {} remains", dir.display());
        }
    }
}

#[test]
fn two_runs_at_once_on_one_repository() {
    let fixture = Fixture::build("demo");
    let args = ["audit", "--hops", "--format", "json", "--fail-on", "never"];
    let alone = fixture.forkdrift(&args).output().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            raw(fixture.temp.path())
                .arg("-C")
                .arg(fixture.path())
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(output.stdout, alone.stdout);
    }
}

#[test]
fn every_diagnostic_has_a_help_line() {
    let fixture = Fixture::build("minimal");
    let home = fixture.temp.path();

    // -C naming a path that does not exist.
    let mut command = forkdrift_in(home);
    command.arg("-C").arg(home.join("nope")).arg("audit");
    fails_with(command, "does not exist", "-C names the fork's clone");
    // -C where it means nothing.
    let mut command = forkdrift_in(home);
    command.arg("-C").arg(home).args(["rules", "list"]);
    fails_with(command, "means nothing to this command", "leave it out");

    // FORKDRIFT_GIT naming a missing program: named.
    let mut command = fixture.forkdrift(&["audit"]);
    command.env("FORKDRIFT_GIT", home.join("no-such-git"));
    fails_with(command, "no-such-git", "FORKDRIFT_GIT");

    // An unwritable TMPDIR.
    let mut command = fixture.forkdrift(&["audit"]);
    command.env("TMPDIR", home.join("no-such-tmp"));
    fails_with(command, "scratch object directory", "TMPDIR");

    // --export onto a file.
    let file = home.join("a-file");
    std::fs::write(&file, "x").unwrap();
    fails_with(
        fixture.forkdrift(&["candidates", "--export", file.to_str().unwrap()]),
        "that is a file",
        "name a directory",
    );

    // A bad regex in a pack.
    let pack = home.join("bad.toml");
    let text = forkdrift::rules::Pack::builtin("elastic-connectors")
        .unwrap()
        .source_text
        .replace("name = \"elastic-connectors\"", "name = \"bad\"");
    let tags = text
        .lines()
        .find(|l| l.starts_with("tags = "))
        .unwrap()
        .to_string();
    std::fs::write(
        &pack,
        text.replace(&tags, "tags = '''^v(?P<version>[0-9+$'''"),
    )
    .unwrap();
    let mut command = forkdrift_in(home);
    command.args(["rules", "check"]).arg(&pack);
    fails_with(command, "bad.toml", "regular expressions");

    // Unreadable objects.
    let broken = home.join("broken");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(fixture.path())
        .arg(&broken)
        .status()
        .unwrap();
    assert!(copied.success());
    // Every object gone, loose and packed; the refs remain.
    for entry in std::fs::read_dir(broken.join(".git/objects")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.len() == 2 || name == "pack" {
            std::fs::remove_dir_all(&path).unwrap();
        }
    }
    let mut command = forkdrift_in(home);
    command.arg("-C").arg(&broken).arg("audit");
    command
        .assert()
        .code(2)
        .stderr(predicate::str::contains("help:"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn a_repository_owned_by_another_user_names_safe_directory() {
    let fixture = Fixture::build("minimal");
    // Only root can give a repository away.
    let uid = String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout).unwrap();
    if uid.trim() != "0" {
        return;
    }
    let status = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(fixture.path())
        .status()
        .unwrap();
    assert!(status.success());
    fails_with(
        fixture.forkdrift(&["audit"]),
        "owned by another user",
        "safe.directory",
    );
}

#[test]
fn completions_man_page_and_help() {
    let home = tempfile::tempdir().unwrap();
    forkdrift_in(home.path())
        .args(["completions", "bash"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("_forkdrift"));
    forkdrift_in(home.path())
        .args(["completions", "zsh"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("#compdef forkdrift"));
    forkdrift_in(home.path())
        .arg("man")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(".TH forkdrift"));
    forkdrift_in(home.path())
        .args(["audit", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "possible values: terminal, json, markdown",
        ))
        .stdout(predicate::str::contains("[default: terminal]"))
        .stdout(predicate::str::contains("[default: upstream]"))
        .stdout(predicate::str::contains("[default: HEAD]"))
        .stdout(predicate::str::contains("[default: error]"));
    // What is compared and how it is shown are grouped; `check`'s `--head` is listed.
    let help = forkdrift_in(home.path())
        .args(["check", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let (options, rest) = help.split_once("\nFork and upstream:\n").unwrap();
    let (selection, output) = rest.split_once("\nOutput:\n").unwrap();
    assert!(options.contains("--base <REV>") && options.contains("--quiet"));
    assert!(selection.contains("--fork <REV>") && selection.contains("[alias: --head]"));
    assert!(output.contains("--format <FORMAT>") && output.contains("--fail-on <SEVERITY>"));
    forkdrift_in(home.path())
        .args(["--quiet", "--verbose", "rules", "list"])
        .assert()
        .code(2);
}

#[test]
fn quiet_and_verbose() {
    let fixture = Fixture::build("minimal");
    fixture
        .forkdrift(&["--verbose", "audit", "--fail-on", "never"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "forkdrift: merging the fork with the target: ",
        ));
    fixture
        .forkdrift(&["--quiet", "audit", "--fail-on", "never"])
        .assert()
        .code(0)
        .stderr("");
}

#[test]
fn explain_as_json() {
    let fixture = Fixture::build("restructure");
    let output = fixture
        .forkdrift(&["explain", "connectors/config.py", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let explanation: forkdrift::model::Explanation =
        serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(explanation.path, "connectors/config.py");
}

#[test]
fn zero_errors_are_never_red() {
    let fixture = Fixture::build("minimal");
    let output = fixture
        .forkdrift(&["--color", "always", "audit", "--fail-on", "never"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The minimal fork has an error and no warning: the zero stays plain.
    assert!(
        stdout.contains("\x1b[1;31m1 error\x1b[0m · 0 warnings ·"),
        "{stdout}"
    );
}

#[test]
fn paths_with_control_characters_are_quoted() {
    let fixture = Fixture::build("minimal");
    let name = "connectors/odd\nname.py";
    std::fs::write(fixture.path().join(name), "x = 1\n").unwrap();
    fixture.git(&["add", "--", name]);
    commit_as_fork(fixture.path(), &["-m", "odd name"]);
    let terminal = fixture
        .forkdrift(&["audit", "--fail-on", "never", "--all"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&terminal.stdout);
    assert!(stdout.contains("\"connectors/odd\\nname.py\""), "{stdout}");
    let markdown = fixture
        .forkdrift(&["audit", "--fail-on", "never", "--format", "markdown"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&markdown.stdout);
    assert!(
        stdout.contains("`\"connectors/odd\\nname.py\"`"),
        "{stdout}"
    );
}

#[test]
fn backports_fold_into_one_line_and_counts_agree() {
    let fixture = Fixture::build("release-branch");
    let report = fixture.audit(&[]);
    let upstream = report
        .changes
        .iter()
        .filter(|c| c.origin == forkdrift::model::Origin::Upstream)
        .count();
    assert!(upstream > 0, "the fixture has backports");
    let output = fixture
        .forkdrift(&["audit", "--fail-on", "never"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(stdout.contains(&format!("+ {upstream} path")), "{stdout}");
    assert!(stdout.contains("`--all` lists them"), "{stdout}");
    // Each class's count is the summary's.
    for (class, n) in report.summary.by_class.iter().filter(|(_, n)| **n > 0) {
        assert!(
            stdout.contains(&format!("  {class} ({n})")),
            "{class} {n}: {stdout}"
        );
    }
    let all = fixture
        .forkdrift(&["audit", "--fail-on", "never", "--all"])
        .output()
        .unwrap();
    let all = String::from_utf8_lossy(&all.stdout);
    for change in &report.changes {
        assert!(all.contains(&change.path), "--all lists {}", change.path);
    }
    assert!(!all.contains("`--all` lists them"));
}

#[test]
fn plan_prints_the_checklist_once_and_markdown_the_refusal() {
    let fixture = Fixture::build("protocol");
    let output = fixture.forkdrift(&["plan"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.matches("Checklist for each hop").count(),
        1,
        "{stdout}"
    );
    let markdown = fixture
        .forkdrift(&["plan", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(markdown.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&markdown.stdout);
    assert!(stdout.contains("### Refused"), "{stdout}");
    assert!(stdout.contains("accept-protocol --to"), "{stdout}");
    assert!(stdout.contains("first released in"), "{stdout}");
}

/// The demo's temporary path, which differs on every run.
fn normalise(text: &str) -> String {
    regex::Regex::new(r"\S*forkdrift-demo-[^/\s]+")
        .unwrap()
        .replace_all(text, "/tmp/forkdrift-demo-XXXXXX")
        .into_owned()
}

/// The README's example output is what the demo prints today (as trycmd would check it).
/// `FORKDRIFT_UPDATE_README=1 cargo test --test it readme` rewrites the block.
#[test]
fn readme_demo_output_is_what_the_demo_prints() {
    let home = tempfile::tempdir().unwrap();
    let output = forkdrift_in(home.path()).arg("demo").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let printed = normalise(&String::from_utf8_lossy(&output.stdout));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let (open, close) = ("<!-- demo-output -->\n", "<!-- /demo-output -->");
    let start = readme.find(open).expect("README marks the demo output") + open.len();
    let end = readme[start..].find(close).expect("the block is closed") + start;
    let expected = format!("```text\n{printed}```\n");
    if std::env::var_os("FORKDRIFT_UPDATE_README").is_some() {
        let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
        std::fs::write(path, updated).unwrap();
        return;
    }
    assert_eq!(
        readme[start..end],
        expected,
        "the README's demo output is stale: FORKDRIFT_UPDATE_README=1 cargo test --test it readme"
    );
}

#[test]
fn a_screen_shows_twenty_notes_and_says_how_many_more() {
    let fixture = Fixture::build("upstream-work");
    // Each commit edits the framework and the fork's own connector: a note each.
    for n in 0..25 {
        for path in ["connectors/source.py", "connectors/sources/acme.py"] {
            let file = fixture.path().join(path);
            let text = std::fs::read_to_string(&file).unwrap();
            std::fs::write(&file, format!("{text}\nSTEP_{n} = {n}\n")).unwrap();
        }
        commit_as_fork(fixture.path(), &["-am", &format!("Step {n}")]);
    }
    let report = fixture.audit(&[]);
    let total = report.notes.len();
    assert!(total > 25, "{:?}", report.notes);
    let run = |args: &[&str]| {
        let output = fixture.forkdrift(args).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let terminal = run(&["audit", "--fail-on", "never"]);
    let shown = report
        .notes
        .iter()
        .filter(|n| terminal.contains(n.as_str()))
        .count();
    assert_eq!(shown, 20, "{terminal}");
    assert!(
        terminal.contains(&format!(
            "… and {} more remarks (`--all` or `--format json` lists them all)",
            total - 20
        )),
        "{terminal}"
    );
    let all = run(&["audit", "--fail-on", "never", "--all"]);
    assert!(report.notes.iter().all(|n| all.contains(n.as_str())));
    assert!(!all.contains("more remarks"));
    // `candidates`, where most remarks come from, takes the `--all` it points to as well.
    assert!(run(&["candidates"]).contains("more remarks"));
    let all = run(&["candidates", "--all"]);
    assert!(
        report.notes.iter().all(|n| all.contains(n.as_str())),
        "{all}"
    );
    let markdown = run(&["audit", "--fail-on", "never", "--format", "markdown"]);
    assert!(
        markdown.contains(&format!("<details><summary>{} more</summary>", total - 20)),
        "{markdown}"
    );
}

/// A help shared by several findings is said once, under the first (op-geth's 104 framework
/// edits printed the same advice 104 times).
#[test]
fn a_help_shared_by_findings_is_said_once() {
    let fixture = Fixture::build("upstream-work");
    let report = fixture.audit(&[]);
    let mut helps: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.severity >= forkdrift::model::Severity::Warning)
        .filter_map(|f| f.help.as_deref())
        .collect();
    let all = helps.len();
    helps.sort();
    helps.dedup();
    assert!(helps.len() < all, "the fixture has findings sharing a help");
    let output = fixture
        .forkdrift(&["audit", "--fail-on", "never"])
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&output.stdout);
    for help in helps {
        assert_eq!(
            terminal.matches(&format!("help: {help}\n")).count(),
            1,
            "{terminal}"
        );
    }
}
