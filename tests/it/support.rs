//! Builds fixture scenarios into temporary repositories and runs the forkdrift binary on them
//! with a hermetic git configuration: no user or system config, no colour, fixed HOME.

use assert_cmd::Command;
use forkdrift::fixtures::{self, Built, Scenario};
use forkdrift::model::Report;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub struct Fixture {
    pub built: Built,
    /// Holds the temporary directory for the fixture's lifetime.
    pub temp: tempfile::TempDir,
}

impl Fixture {
    pub fn build(name: &str) -> Fixture {
        let temp = tempfile::Builder::new()
            .prefix("forkdrift-test-")
            .tempdir()
            .unwrap();
        let scenario = Scenario::embedded(name).unwrap_or_else(|e| panic!("{e:?}"));
        let built = fixtures::build(&scenario, &temp.path().join("fork"))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        Fixture { built, temp }
    }

    /// A scenario given as TOML text (for the odd inputs no shared fixture should carry).
    pub fn from_toml(text: &str) -> Fixture {
        let temp = tempfile::Builder::new()
            .prefix("forkdrift-test-")
            .tempdir()
            .unwrap();
        let file = temp.path().join("scenario.toml");
        std::fs::write(&file, text).unwrap();
        let scenario = Scenario::from_path(&file).unwrap_or_else(|e| panic!("{e:?}"));
        let built = fixtures::build(&scenario, &temp.path().join("fork"))
            .unwrap_or_else(|e| panic!("{e:?}"));
        Fixture { built, temp }
    }

    pub fn path(&self) -> &Path {
        &self.built.path
    }

    /// The full id of a scenario step or ref.
    pub fn id(&self, name: &str) -> String {
        self.built
            .ids
            .get(name)
            .unwrap_or_else(|| panic!("scenario has no step or ref named {name}"))
            .clone()
    }

    /// `forkdrift -C <fixture> args…`
    pub fn forkdrift(&self, args: &[&str]) -> Command {
        let mut command = forkdrift_in(self.temp.path());
        command.arg("-C").arg(self.path()).args(args);
        command
    }

    /// The JSON report; a refusal by the protocol gate (exit 3) still writes it.
    pub fn audit(&self, args: &[&str]) -> Report {
        let mut all = vec!["audit", "--format", "json", "--fail-on", "never"];
        all.extend_from_slice(args);
        let output = self.forkdrift(&all).output().unwrap();
        assert!(
            matches!(output.status.code(), Some(0 | 3)),
            "forkdrift {all:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("the JSON report parses")
    }

    /// Runs the system git in the fixture, hermetically.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    /// Replaces `from` by `to` in one file of the fork's work tree and commits it on the fork's
    /// branch.
    pub fn commit_edit(&self, path: &str, from: &str, to: &str, message: &str) {
        let file = self.path().join(path);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(from), "{path}: {from}");
        std::fs::write(&file, text.replace(from, to)).unwrap();
        commit_as_fork(self.path(), &["-am", message]);
    }
}

pub fn hermetic_env(command: &mut Command, home: &Path) {
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
}

pub fn forkdrift_in(home: &Path) -> Command {
    let mut command = Command::cargo_bin("forkdrift").unwrap();
    hermetic_env(&mut command, home);
    command
}

fn run_git(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C")
        .args(args)
        .output()
        .unwrap()
}

/// git's output, whatever its exit code (merge-tree exits 1 on conflicts).
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    String::from_utf8_lossy(&run_git(dir, args).stdout).into_owned()
}

/// Every file under a directory with its bytes: to prove a command changed nothing.
pub fn snapshot_dir(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

pub fn change<'r>(report: &'r Report, path: &str) -> &'r forkdrift::model::Change {
    report
        .changes
        .iter()
        .find(|c| c.path == path)
        .unwrap_or_else(|| {
            panic!(
                "no change at {path}; changes: {:?}",
                report.changes.iter().map(|c| &c.path).collect::<Vec<_>>()
            )
        })
}

pub fn kinds(report: &Report) -> Vec<(String, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.kind.as_str().to_string(), f.path.clone()))
        .collect()
}

/// Like [`git_in`], for set-up steps that must succeed.
/// `git commit --quiet ARGS` as the fork's developer (a test's own commit on top of a fixture).
pub fn commit_as_fork(dir: &Path, args: &[&str]) {
    let mut full = vec![
        "-c",
        "user.name=Fin",
        "-c",
        "user.email=fin@fork.example",
        "commit",
        "--quiet",
    ];
    full.extend_from_slice(args);
    git_ok(dir, &full);
}

pub fn git_ok(dir: &Path, args: &[&str]) -> String {
    let output = run_git(dir, args);
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
