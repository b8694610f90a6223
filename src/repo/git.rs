//! The `git` program, for what only git does right: merge-ort (`git merge-tree`) and, when
//! building fixtures, `git fast-import`. Nothing here may write into a user's repository.

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// merge-ort's `git merge-tree --write-tree --stdin` with `--merge-base` lines arrived in 2.40.
pub const MERGE_TREE_MIN: (u32, u32) = (2, 40);

/// `git --attr-source=<tree-ish>`: attributes read from a tree instead of the work tree.
pub const ATTR_SOURCE_MIN: (u32, u32) = (2, 42);

#[derive(Debug, Clone)]
pub struct Git {
    program: OsString,
    /// Ignore the user's and the system's git configuration (fixtures must not depend on them).
    hermetic: bool,
    /// The commit whose `.gitattributes` merges obey (merge drivers such as `merge=union`), so
    /// that a merge depends on the fork, not on the directory forkdrift was started in.
    attr_source: Option<String>,
    /// `git --version`, asked once per run: every merge batch checks it, and clones share it.
    version: std::sync::Arc<std::sync::OnceLock<(u32, u32, String)>>,
}

impl Git {
    /// The `git` on PATH, reading the user's configuration as their own `git merge` would.
    pub fn system() -> Self {
        Git {
            program: std::env::var_os("FORKDRIFT_GIT").unwrap_or_else(|| "git".into()),
            hermetic: false,
            attr_source: None,
            version: Default::default(),
        }
    }

    pub fn hermetic() -> Self {
        Git {
            hermetic: true,
            ..Git::system()
        }
    }

    /// This git, with merges reading attributes from `rev`'s tree (git 2.42 and newer).
    pub fn with_attributes_of(&self, rev: impl std::fmt::Display) -> Git {
        Git {
            attr_source: Some(rev.to_string()),
            ..self.clone()
        }
    }

    pub fn attr_source(&self) -> Option<&str> {
        self.attr_source.as_deref()
    }

    pub fn command(&self, git_dir: Option<&Path>) -> Command {
        let mut command = Command::new(&self.program);
        // A caller's GIT_DIR or GIT_INDEX_FILE (forkdrift run from a hook) must not redirect us.
        for variable in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
        ] {
            command.env_remove(variable);
        }
        // In a partial clone git fetches a missing blob from the promisor remote on demand:
        // forkdrift works offline, so git 2.44+ is told not to (a missing blob is then named,
        // with how to fetch it); older gits ignore the variable.
        command
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_NO_LAZY_FETCH", "1")
            .env("LC_ALL", "C");
        if self.hermetic {
            command
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env_remove("GIT_CONFIG_PARAMETERS");
        }
        if let Some(git_dir) = git_dir {
            command.arg("--git-dir").arg(git_dir);
        }
        command
    }

    /// Runs git to completion; non-zero exit is an error carrying git's stderr.
    pub fn run(&self, mut command: Command, stdin: Option<&[u8]>) -> Result<Vec<u8>> {
        let output = self.output(&mut command, stdin)?;
        if !output.status.success() {
            return Err(failure(&command, &output.stderr));
        }
        Ok(output.stdout)
    }

    pub fn output(
        &self,
        command: &mut Command,
        stdin: Option<&[u8]>,
    ) -> Result<std::process::Output> {
        command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = command.spawn().map_err(|source| Error::GitMissing {
            program: self.program.to_string_lossy().into_owned(),
            from_env: std::env::var_os("FORKDRIFT_GIT").is_some(),
            source,
        })?;
        let pid = child.id();
        crate::cleanup::child_started(pid);
        let output = self.wait(child, stdin);
        crate::cleanup::child_ended(pid);
        output
    }

    fn wait(
        &self,
        mut child: std::process::Child,
        stdin: Option<&[u8]>,
    ) -> Result<std::process::Output> {
        let failed = |source| Error::Io {
            context: "could not wait for git".into(),
            source,
        };
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            // A writer thread keeps a large input from deadlocking against a full stdout pipe.
            let input = input.to_vec();
            let writer = std::thread::spawn(move || pipe.write_all(&input));
            let output = child.wait_with_output().map_err(failed)?;
            writer
                .join()
                .expect("stdin writer does not panic")
                .map_err(|source| Error::Io {
                    context: "could not write to git".into(),
                    source,
                })?;
            return Ok(output);
        }
        child.wait_with_output().map_err(failed)
    }

    pub fn version(&self) -> Result<(u32, u32, String)> {
        if let Some(known) = self.version.get() {
            return Ok(known.clone());
        }
        let mut command = self.command(None);
        command.arg("--version");
        let text = String::from_utf8_lossy(&self.run(command, None)?)
            .trim()
            .to_string();
        let numbers = text.trim_start_matches("git version ").to_string();
        let mut parts = numbers.split(|c: char| !c.is_ascii_digit());
        let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        Ok(self.version.get_or_init(|| (major, minor, numbers)).clone())
    }

    pub fn require(
        &self,
        what: &'static str,
        min: (u32, u32),
        required: &'static str,
    ) -> Result<()> {
        let (major, minor, found) = self.version()?;
        if (major, minor) < min {
            return Err(Error::GitTooOld {
                what,
                required,
                found,
            });
        }
        Ok(())
    }
}

pub fn failure(command: &Command, stderr: &[u8]) -> Error {
    let args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .skip_while(|a| a == "--git-dir" || a.starts_with('/'))
        .collect();
    Error::GitFailed {
        command: args.join(" "),
        stderr: String::from_utf8_lossy(stderr).trim().to_string(),
    }
}
