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
        help(
            "-C, or the current directory without it, must be inside your fork's clone (or be a bare repository)"
        )
    )]
    NotARepository {
        path: PathBuf,
        #[source]
        source: LibGit2,
    },

    #[error("{} does not exist", path.display())]
    #[diagnostic(
        code(forkdrift::no_such_directory),
        help(
            "-C names the fork's clone (or bare repository); check the path, or leave -C out to use the current directory"
        )
    )]
    NoSuchDirectory { path: PathBuf },

    #[error("{} is owned by another user, and git does not trust it", path.display())]
    #[diagnostic(
        code(forkdrift::dubious_ownership),
        help("if you trust the repository, mark it safe as git itself asks: `git config --global --add safe.directory {}`", path.display())
    )]
    NotOwned {
        path: PathBuf,
        #[source]
        source: LibGit2,
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

    #[error("{} has no commits{}", path.display(), if *empty { "" } else { " on the branch HEAD names" })]
    #[diagnostic(
        code(forkdrift::no_commits),
        help(
            "forkdrift audits a fork's history: commit or fetch it first, check out a branch that has commits, or point -C at the fork's clone"
        )
    )]
    NoCommits { path: PathBuf, empty: bool },

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
    InvalidFile(Box<FileError>),

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
            "choose one with --rules NAME (see `forkdrift rules list`) or --rules path/to/pack.toml; for any other upstream, `--rules generic` with your own paths in .forkdrift.toml (`forkdrift init` writes one)"
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

    #[error("could not run `{program}`{}", if *from_env { " (named by FORKDRIFT_GIT)" } else { "" })]
    #[diagnostic(code(forkdrift::git_missing), help("{}", git_missing_help(*from_env)))]
    GitMissing {
        program: String,
        from_env: bool,
        #[source]
        source: std::io::Error,
    },

    #[error("`git {command}` failed: {stderr}")]
    #[diagnostic(
        code(forkdrift::git_failed),
        help(
            "that is git's own message; `git fsck` checks the repository, and FORKDRIFT_GIT can name another git (2.40 or newer)"
        )
    )]
    GitFailed { command: String, stderr: String },

    /// git's merge stopped at an object it could not read.
    #[error("git could not read object {id}{place} (`git {command}`: {stderr})")]
    #[diagnostic(
        code(forkdrift::unreadable_object),
        help("{}", unreadable_help(promisor.as_deref()))
    )]
    UnreadableObject {
        id: String,
        /// Where the object is, as " (path in revision)", or empty when no merged tree has it.
        place: String,
        command: String,
        stderr: String,
        /// The remote a partial clone came from, when the repository is one.
        promisor: Option<String>,
    },

    #[error("{context}")]
    #[diagnostic(code(forkdrift::git), help("{}", git_help(source)))]
    Git {
        context: String,
        #[source]
        source: LibGit2,
    },

    #[error("{context}")]
    #[diagnostic(code(forkdrift::io), help("{}", io_help(context, source)))]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{message}")]
    #[diagnostic(code(forkdrift::usage), help("{help}"))]
    Usage { message: String, help: String },
}

/// Which file a [`FileError`] is about: its diagnostic code and its message's first words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pack,
    Config,
    Baseline,
}

impl FileKind {
    fn what(self) -> &'static str {
        match self {
            FileKind::Pack => "rule pack",
            FileKind::Config => "forkdrift configuration",
            FileKind::Baseline => "baseline in",
        }
    }

    fn code(self) -> &'static str {
        match self {
            FileKind::Pack => "forkdrift::invalid_pack",
            FileKind::Config => "forkdrift::invalid_config",
            FileKind::Baseline => "forkdrift::invalid_baseline",
        }
    }
}

/// A TOML file forkdrift reads (a rule pack, `.forkdrift.toml`, its baseline) that does not
/// parse or validate, pointing at the offending text.
#[derive(Debug, thiserror::Error)]
#[error("invalid {} {name}: {message}", kind.what())]
pub struct FileError {
    pub kind: FileKind,
    pub name: String,
    pub message: String,
    pub src: NamedSource<String>,
    pub span: Option<SourceSpan>,
    pub label: String,
    pub help: String,
}

impl FileError {
    /// The error for `text`, read as `name`: `message` about the text at `span`, which
    /// `label` marks.
    pub fn error(
        kind: FileKind,
        name: &str,
        text: &str,
        message: String,
        span: Option<std::ops::Range<usize>>,
        label: &str,
        help: String,
    ) -> Error {
        Error::InvalidFile(Box::new(FileError {
            kind,
            name: name.to_string(),
            message,
            src: NamedSource::new(name, text.to_string()),
            span: span.map(|r| SourceSpan::from(r.start..r.end)),
            label: label.to_string(),
            help,
        }))
    }
}

impl Diagnostic for FileError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some(self.label.clone()), span),
        )))
    }
}

fn no_merge_base_help(shallow: bool) -> &'static str {
    if shallow {
        "fetch the full history first: `git fetch --unshallow` (on CI: actions/checkout with `fetch-depth: 0`, then `git fetch upstream`)"
    } else {
        "the fork and the target share no commit: check that --to names the right upstream, and that the fork was created from it"
    }
}

fn git_missing_help(from_env: bool) -> &'static str {
    if from_env {
        "FORKDRIFT_GIT must name a git program (a path, or a name on PATH): fix or unset it"
    } else {
        "forkdrift uses git's own merge engine: install git 2.40 or newer and put it on PATH, or name it in FORKDRIFT_GIT"
    }
}

/// A libgit2 error as a person reads it: its message, without the `; class=…; code=…` that
/// git2's own Display appends for programmers.
#[derive(Debug)]
pub struct LibGit2(pub git2::Error);

impl std::fmt::Display for LibGit2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.message())
    }
}

impl std::error::Error for LibGit2 {}

impl From<git2::Error> for LibGit2 {
    fn from(error: git2::Error) -> LibGit2 {
        LibGit2(error)
    }
}

/// What to do about a git2 error: by the kind of thing that could not be read.
fn git_help(source: &LibGit2) -> &'static str {
    use git2::ErrorClass;
    match source.0.class() {
        ErrorClass::Odb | ErrorClass::Object | ErrorClass::Zlib | ErrorClass::Tree => {
            "an object could not be read: `git fsck` finds damage; in a partial or shallow clone, fetch the full history (`git fetch --unshallow`, `git fetch --refetch upstream`)"
        }
        ErrorClass::Reference => {
            "a ref could not be read: `git for-each-ref` lists them and `git fsck` checks them; name the revision with --fork or --to"
        }
        ErrorClass::Os | ErrorClass::Filesystem => {
            "check that the repository's files are readable by you (permissions, disk)"
        }
        _ => {
            "`git fsck` checks the repository; if git reads it fine, this is a bug in forkdrift: please report it with the command you ran"
        }
    }
}

/// What to do about an object git could not read: in a partial clone, fetch what forkdrift
/// does not (it tells git not to fetch: it works offline); else find the damage or refetch.
fn unreadable_help(promisor: Option<&str>) -> String {
    match promisor {
        Some(remote) => format!(
            "this is a partial clone, and forkdrift does not fetch: `git -c remote.{remote}.partialclonefilter= fetch --refetch {remote}` fetches the blobs it lacks"
        ),
        None => "`git fsck` names what is damaged; a shallow or pruned clone lacks objects: `git fetch --refetch` from the remote that has them (`git fetch --unshallow` for a shallow clone)".into(),
    }
}

/// What to do about an I/O error: by its kind, and for temporary files by TMPDIR.
fn io_help(context: &str, source: &std::io::Error) -> String {
    use std::io::ErrorKind;
    if context.contains("temporary directory") {
        return format!(
            "set TMPDIR to a writable directory with free space (now {})",
            std::env::temp_dir().display()
        );
    }
    match source.kind() {
        ErrorKind::PermissionDenied => "check the permissions of the path named above".into(),
        ErrorKind::NotFound => "check that the path named above exists".into(),
        ErrorKind::AlreadyExists | ErrorKind::NotADirectory => {
            "a file is in the way: choose another path, or move the file".into()
        }
        ErrorKind::StorageFull => "free some disk space and run again".into(),
        _ => "check the path named above: permissions, free space, and that it is a directory where one is expected".into(),
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
            source: source.into(),
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
