//! Every way forkdrift can fail, each with the advice a user needs to recover.
//!
//! Messages never repeat their `source`: miette prints the chain itself.

use miette::{Diagnostic, NamedSource, SourceSpan};
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error("{} is not inside a git repository", path.display())]
    #[diagnostic(
        code(forkdrift::not_a_repository),
        help("run forkdrift inside your fork's clone, or point at it with -C <DIR>")
    )]
    NotARepository {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },

    #[error("the repository has no remote named `{name}`")]
    #[diagnostic(code(forkdrift::no_remote), help("{help}"))]
    NoRemote { name: String, help: String },

    #[error("remote `{remote}` has no default branch that forkdrift can find")]
    #[diagnostic(
        code(forkdrift::no_default_branch),
        help(
            "name the target with --to (e.g. --to {remote}/main), or record the default with `git remote set-head {remote} --auto`"
        )
    )]
    NoDefaultBranch { remote: String },

    #[error("unknown revision `{rev}`")]
    #[diagnostic(code(forkdrift::unknown_revision), help("{help}"))]
    UnknownRevision { rev: String, help: String },

    #[error("`{ours}` and `{theirs}` have no merge-base{}", if *shallow { " in this shallow clone" } else { "" })]
    #[diagnostic(code(forkdrift::no_merge_base), help("{}", no_merge_base_help(*shallow)))]
    NoMergeBase {
        ours: String,
        theirs: String,
        shallow: bool,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    InvalidPack(Box<PackError>),

    #[error(transparent)]
    #[diagnostic(transparent)]
    InvalidBaseline(Box<crate::baseline::BaselineError>),

    #[error("no rule pack named `{name}`")]
    #[diagnostic(
        code(forkdrift::unknown_pack),
        help("built-in packs: {known}; or pass the path of a .toml pack file")
    )]
    UnknownPack { name: String, known: String },

    #[error("no rule pack recognises the upstream tree at {target}")]
    #[diagnostic(
        code(forkdrift::no_pack_detected),
        help(
            "choose one with --rules NAME (see `forkdrift rules list`) or --rules path/to/pack.toml"
        )
    )]
    NoPackDetected { target: String },

    #[error("invalid scenario {name}: {message}")]
    #[diagnostic(
        code(forkdrift::invalid_scenario),
        help("see fixtures/README.md for the scenario format")
    )]
    InvalidScenario { name: String, message: String },

    #[error("{what} needs git {required} or newer, found {found}")]
    #[diagnostic(
        code(forkdrift::git_too_old),
        help(
            "install git 2.40 or newer (forkdrift batches merges with merge-ort's `git merge-tree --write-tree --stdin`) and put it first on PATH, or name it in FORKDRIFT_GIT"
        )
    )]
    GitTooOld {
        what: &'static str,
        required: &'static str,
        found: String,
    },

    #[error("could not run `git`")]
    #[diagnostic(
        code(forkdrift::git_missing),
        help(
            "forkdrift uses git's own merge engine: install git 2.40 or newer and put it on PATH, or name it in FORKDRIFT_GIT"
        )
    )]
    GitMissing {
        #[source]
        source: std::io::Error,
    },

    #[error("`git {command}` failed: {stderr}")]
    #[diagnostic(code(forkdrift::git_failed))]
    GitFailed { command: String, stderr: String },

    #[error("{context}")]
    #[diagnostic(code(forkdrift::git))]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },

    #[error("{context}")]
    #[diagnostic(code(forkdrift::io))]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("invalid {what} in {}", path.display())]
    #[diagnostic(code(forkdrift::invalid_config), help("{help}"))]
    InvalidConfig {
        what: &'static str,
        path: PathBuf,
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(forkdrift::usage), help("{help}"))]
    Usage { message: String, help: String },
}

/// A rule pack that does not load, pointing at the offending text.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("invalid rule pack {name}: {message}")]
#[diagnostic(code(forkdrift::invalid_pack))]
pub struct PackError {
    pub name: String,
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("{label}")]
    pub span: Option<SourceSpan>,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

fn no_merge_base_help(shallow: bool) -> &'static str {
    if shallow {
        "fetch the full history first: `git fetch --unshallow` (on CI: actions/checkout with `fetch-depth: 0`, then `git fetch upstream`)"
    } else {
        "the fork and the target share no commit: check that --to names the right upstream, and that the fork was created from it"
    }
}

/// Adds a human-readable context to git2 errors at the adapter boundary.
pub trait GitContext<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> GitContext<T> for std::result::Result<T, git2::Error> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Git {
            context: context(),
            source,
        })
    }
}

pub trait IoContext<T> {
    fn io_context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::result::Result<T, std::io::Error> {
    fn io_context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: context(),
            source,
        })
    }
}
