//! [`run`]: a resolved command line in, a typed [`Outcome`] out, for `main.rs` to render and
//! to turn into an exit code.

use crate::cli::{Config, ExplainFormat, Format, Job};
use crate::commands::{self, audit::Audit};
use crate::error::Result;
use crate::model::{Acceptance, Explanation, Refused, Report, Severity};
use crate::repo::Repo;
use crate::repo::collect::{self, Selection};
use crate::repo::git::Git;
use crate::rules::Pack;
use std::path::{Path, PathBuf};

/// Exit codes, documented in the README and `--help`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const ERROR: u8 = 2;
    pub const PROTOCOL: u8 = 3;
}

pub enum Outcome {
    Report(Box<ReportOutcome>),
    Explanation(Explanation, ExplainFormat),
    /// Generated text for stdout as it is: completions, the man page.
    Printed(Vec<u8>),
    /// Built-in packs: name and description.
    Packs(Vec<(String, String)>),
    PackSource(String),
    PackChecked {
        name: String,
        families: usize,
        zones: usize,
        anchors: usize,
    },
    Accepted(Acceptance),
    Built {
        path: PathBuf,
        description: String,
    },
    Written(Box<Written>),
    Check(Box<crate::check::CheckReport>, crate::cli::CheckFormat),
    /// `init`: the configuration, and the file it went to (None: for stdout).
    Initialized {
        text: String,
        file: Option<PathBuf>,
    },
    /// `baseline`: how many findings were appended, and where.
    Baselined {
        added: usize,
        file: PathBuf,
    },
}

/// `forkdrift report`: what was written, and what the report says.
pub struct Written {
    pub files: Vec<PathBuf>,
    pub history: PathBuf,
    pub points: usize,
    pub backfilled: usize,
    /// Backfill dates before the fork or the target had any commit.
    pub unreachable: Vec<String>,
    /// History lines this version could not read (kept in the file).
    pub skipped: usize,
    pub refused: bool,
    pub fails: bool,
}

/// Which view of the report a command prints on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Audit,
    Plan,
    Candidates,
    Deps,
    Demo,
}

pub struct ReportOutcome {
    pub report: Report,
    pub view: View,
    pub format: Format,
    pub fail_on: Severity,
    /// The protocol gate refused the upgrade.
    pub refusal: Option<Refused>,
    /// `candidates --export`: the directory and the files written.
    pub exported: Option<(PathBuf, Vec<PathBuf>)>,
    /// `demo`: where the demo repository was built, and whether it is kept.
    pub demo: Option<(PathBuf, bool)>,
}

impl Outcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Report(outcome) => outcome.exit_code(),
            Outcome::Check(check, _) => check.verdict.exit_code(),
            Outcome::Written(written) if written.refused => exit::PROTOCOL,
            Outcome::Written(written) if written.fails => exit::FINDINGS,
            _ => exit::OK,
        }
    }
}

impl ReportOutcome {
    fn new(audit: Audit, view: View, format: Format, fail_on: Severity) -> ReportOutcome {
        let refusal = audit.refusal();
        ReportOutcome {
            report: audit.report,
            view,
            format,
            fail_on,
            refusal,
            exported: None,
            demo: None,
        }
    }

    /// 3 when the protocol gate refused (the report is still written), else 1 for findings
    /// at or above `--fail-on`.
    pub fn exit_code(&self) -> u8 {
        if self.refusal.is_some()
            && !matches!(self.view, View::Candidates | View::Demo | View::Deps)
        {
            return exit::PROTOCOL;
        }
        if self.failing().is_empty() {
            exit::OK
        } else {
            exit::FINDINGS
        }
    }

    /// The findings that make the run exit 1: those at or above `--fail-on` that the
    /// command answers for (`candidates` and the demo answer for none, `deps` for the
    /// dependency findings only).
    pub fn failing(&self) -> Vec<&crate::model::Finding> {
        if matches!(self.view, View::Candidates | View::Demo) {
            return Vec::new();
        }
        self.report
            .failing(self.fail_on)
            // Only dependencies are `deps`' business: not the protocol, not the paths.
            .filter(|f| {
                self.view != View::Deps || crate::model::is_dependency_finding(&self.report, f)
            })
            .collect()
    }
}

pub fn run(config: Config) -> Result<Outcome> {
    let git = Git::system();
    // Every command that reads a repository opens it and resolves `--to VERSION` the same way.
    let open = |selection: &Selection| -> Result<(Repo, Selection)> {
        crate::progress::phase("opening the repository");
        let repo = Repo::open(&config.dir)?;
        let selection = collect::configure(&repo, selection)?;
        let selection = collect::resolve_version(&repo, &selection)?;
        Ok((repo, selection))
    };
    Ok(match config.job {
        Job::Audit {
            selection,
            format,
            fail_on,
            hops,
        } => {
            let (repo, selection) = open(&selection)?;
            let audit = commands::audit::audit(&repo, &git, &selection, hops)?;
            report(ReportOutcome::new(audit, View::Audit, format, fail_on))
        }
        Job::Plan {
            selection,
            format,
            fail_on,
        } => {
            let (repo, selection) = open(&selection)?;
            let audit = commands::plan::plan(&repo, &git, &selection)?;
            report(ReportOutcome::new(audit, View::Plan, format, fail_on))
        }
        Job::Deps {
            selection,
            format,
            fail_on,
        } => {
            let (repo, selection) = open(&selection)?;
            let audit = commands::audit::audit(&repo, &git, &selection, false)?;
            report(ReportOutcome::new(audit, View::Deps, format, fail_on))
        }
        Job::Candidates {
            selection,
            format,
            export,
        } => {
            let (repo, selection) = open(&selection)?;
            let audit = commands::audit::audit(&repo, &git, &selection, false)?;
            let exported = match &export {
                Some(dir) => Some((
                    dir.clone(),
                    commands::candidates::export(&repo, &audit.facts, &audit.candidates, dir)?,
                )),
                None => None,
            };
            let mut outcome = ReportOutcome::new(audit, View::Candidates, format, Severity::Off);
            outcome.exported = exported;
            report(outcome)
        }
        Job::AcceptProtocol {
            selection,
            why,
            by,
            file,
        } => {
            let (repo, selection) = open(&selection)?;
            Outcome::Accepted(commands::accept::accept(
                &repo,
                &git,
                &selection,
                &why,
                by,
                file.as_deref(),
            )?)
        }
        Job::Explain {
            selection,
            path,
            format,
        } => {
            let (repo, selection) = open(&selection)?;
            let path = repository_path(repo.workdir(), &config.dir, &path)?;
            let facts = collect::collect(&repo, &git, &selection)?;
            Outcome::Explanation(
                crate::analysis::explain::explain(&facts, &repo, &path)?,
                format,
            )
        }
        Job::Print(text) => Outcome::Printed(text),
        Job::RulesList => Outcome::Packs(
            Pack::builtin_names()
                .into_iter()
                .map(|name| Ok((name.clone(), Pack::builtin(&name)?.description)))
                .collect::<Result<_>>()?,
        ),
        Job::RulesShow(name) => Outcome::PackSource(Pack::load(&name)?.source_text),
        Job::RulesCheck(file) => {
            let pack = Pack::load(&file.to_string_lossy())?;
            Outcome::PackChecked {
                families: pack.families.len(),
                zones: pack.zones.len(),
                anchors: pack.protocol.documents.len()
                    + pack.protocol.values.len()
                    + pack.protocol.files.len(),
                name: pack.name,
            }
        }
        Job::Report {
            selection,
            out,
            history,
            backfill,
            fail_on,
        } => {
            let (repo, selection) = open(&selection)?;
            let run = commands::report::report(
                &repo,
                &git,
                &selection,
                &out,
                &history,
                backfill.as_ref(),
                &mut |done, total| {
                    crate::progress::phase(&format!("backfill: {done} of {total} dates"));
                },
            )?;
            Outcome::Written(Box::new(Written {
                files: run.written,
                history,
                points: run.history.len(),
                backfilled: run.backfilled,
                unreachable: run.unreachable,
                skipped: run.skipped,
                refused: run.audit.refused,
                fails: run.audit.report.fails(fail_on),
            }))
        }
        Job::Check {
            selection,
            base,
            format,
            fail_on,
        } => {
            let (repo, selection) = open(&selection)?;
            let check = commands::check::check(&repo, &git, &selection, &base, fail_on)?;
            Outcome::Check(Box::new(check), format)
        }
        Job::Baseline {
            selection,
            owner,
            file,
        } => {
            let (repo, selection) = open(&selection)?;
            let owner = match owner.or_else(|| repo.user()) {
                Some(owner) => owner,
                None => {
                    return Err(crate::Error::Usage {
                        message: "who owns the baseline is unknown".into(),
                        help:
                            "pass --owner \"Name <email>\", or set git's user.name and user.email"
                                .into(),
                    });
                }
            };
            let file = crate::config::path(repo.workdir(), file.as_deref())?;
            let added = commands::check::write_baseline(&repo, &git, &selection, &owner, &file)?;
            Outcome::Baselined { added, file }
        }
        Job::Init { selection, write } => {
            // Whatever .forkdrift.toml says now is what init replaces: only the command line counts.
            let repo = Repo::open(&config.dir)?;
            let selection = collect::resolve_version(&repo, &selection)?;
            let text = commands::init::init(&repo, &git, &selection)?;
            let file = match write {
                Some(target) => {
                    let file = crate::config::path(repo.workdir(), target.file.as_deref())?;
                    if file.exists() && !target.force {
                        return Err(crate::Error::Usage {
                            message: format!("{} exists: init does not overwrite it", file.display()),
                            help: "see what init proposes with `forkdrift init --print`, or replace the file with --force".into(),
                        });
                    }
                    std::fs::write(&file, &text).map_err(|source| crate::Error::Io {
                        context: format!("could not write {}", file.display()),
                        source,
                    })?;
                    Some(file)
                }
                None => None,
            };
            Outcome::Initialized { text, file }
        }
        Job::Demo { format, keep } => demo(&git, format, keep)?,
        Job::Fixture { scenario, dir } => {
            let path = std::path::Path::new(&scenario);
            let scenario = if path.is_file() {
                crate::fixtures::Scenario::from_path(path)?
            } else {
                crate::fixtures::Scenario::embedded(&scenario)?
            };
            let built = crate::fixtures::build(&scenario, &dir)?;
            Outcome::Built {
                path: built.path,
                description: scenario.description,
            }
        }
    })
}

/// `demo --keep DIR` never writes into a directory that holds anything.
fn refuse_non_empty(dir: &Path) -> Result<()> {
    let help = "`forkdrift demo --keep DIR` builds a fork and its upstream inside DIR: name a new or empty directory".to_string();
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(crate::Error::Usage {
                    message: format!(
                        "{} is not empty: the demo is not written into it",
                        dir.display()
                    ),
                    help,
                });
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dir.exists() && !dir.is_dir() => Err(crate::Error::Usage {
            message: format!("{} is not a directory", dir.display()),
            help,
        }),
        Err(source) => Err(crate::Error::Io {
            context: format!("could not read {}", dir.display()),
            source,
        }),
    }
}

fn report(outcome: ReportOutcome) -> Outcome {
    Outcome::Report(Box::new(outcome))
}

/// The bundled demo: an elastic/connectors-shaped upstream and a fork that does what forks
/// do, built from `fixtures/demo.toml` and audited with its hops.
///
/// `--keep DIR` writes only into a new or empty DIR (checked before anything is written): the
/// fork at DIR/fork and its upstream at DIR/upstream.git, which the fork's `upstream` remote
/// names, so that `git fetch upstream` works there.
fn demo(git: &Git, format: Format, keep: Option<PathBuf>) -> Result<Outcome> {
    if let Some(dir) = &keep {
        refuse_non_empty(dir)?;
    }
    // A half-built kept demo is removed on an interruption or a failure: DIR itself when this
    // run creates it, else what the run writes into the empty DIR.
    let pending = keep.as_ref().map(|dir| {
        crate::cleanup::Pending::new(if dir.exists() {
            vec![dir.join("fork"), dir.join("upstream.git")]
        } else {
            vec![dir.clone()]
        })
    });
    let temp = crate::cleanup::TempDir::new("forkdrift-demo-", "the demo repositories")?;
    let root = keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    crate::progress::phase("building the demo upstream and fork");
    let scenario = crate::fixtures::Scenario::embedded("demo")?;
    let built = crate::fixtures::build(&scenario, &root.join("fork"))?;
    if keep.is_some() {
        crate::fixtures::publish_upstream(&built, &scenario, &root.join("upstream.git"))?;
    }
    if let Some(pending) = pending {
        pending.finish();
    }
    let repo = Repo::open(&built.path)?;
    let audit = commands::audit::audit(&repo, git, &Selection::default(), true)?;
    let mut outcome = ReportOutcome::new(audit, View::Demo, format, Severity::Off);
    outcome.demo = Some((built.path, keep.is_some()));
    Ok(report(outcome))
}

/// The repository path `given` names when typed in `cwd` (the directory `-C` names, or the
/// current one), as git resolves pathspecs: relative to that directory inside the work tree
/// (`./x`, `../x`); as typed in a bare repository or outside the work tree.
fn repository_path(
    workdir: Option<&std::path::Path>,
    cwd: &std::path::Path,
    given: &str,
) -> std::result::Result<String, crate::error::Error> {
    use std::path::Component;
    let prefix = match (
        workdir.and_then(|w| w.canonicalize().ok()),
        cwd.canonicalize(),
    ) {
        (Some(root), Ok(here)) => here
            .strip_prefix(&root)
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
        _ => std::path::PathBuf::new(),
    };
    let mut parts: Vec<String> = Vec::new();
    for component in prefix.join(given).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(crate::error::Error::Usage {
                        message: format!("{given} is outside the repository"),
                        help: "name a path inside the fork's work tree".into(),
                    });
                }
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(crate::error::Error::Usage {
                    message: format!("{given} is an absolute path"),
                    help:
                        "name the path relative to the current directory or to the repository's top"
                            .into(),
                });
            }
        }
    }
    Ok(parts.join("/"))
}
