//! Command-line definitions, resolved once into [`Config`]: no clap type goes further.

use crate::commands::report::{Backfill, Cadence};
use crate::error::{Error, Result};
use crate::model::Severity;
use crate::render::Style;
use crate::repo::collect::Selection;
use clap::{Args, Parser, Subcommand, ValueEnum};
use globset::{Glob, GlobSetBuilder};
use std::io::IsTerminal;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Exit codes: 0 ok · 1 findings at or above --fail-on · 2 usage or runtime error · 3 refused: the protocol changed · 130/143/129 interrupted (SIGINT, SIGTERM, SIGHUP).
Start with `forkdrift demo`; on your fork: `git remote add upstream <url> && git fetch upstream --tags && forkdrift audit`.";

#[derive(Debug, Parser)]
#[command(name = "forkdrift", version, about, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Run as if started in DIR: the fork's clone, or a bare repository [default: .] (for
    /// the commands that read a repository: audit, plan, deps, check, report and the others).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// Print nothing on stderr but errors and refusals: no progress, no hints.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Say on stderr what each step does and how long it took.
    #[arg(short, long, global = true)]
    verbose: bool,

    /// When to colour terminal output (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    color: ColorWhen,

    #[command(subcommand)]
    command: Command,
}

/// How much goes to stderr besides errors: `--quiet`, default, `--verbose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Verbosity {
    Quiet,
    #[default]
    Normal,
    Verbose,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Terminal,
    Json,
    Markdown,
}

/// The outputs of `check`: what CI systems read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Terminal,
    Json,
    Markdown,
    Github,
    Sarif,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CadenceArg {
    Weekly,
    Monthly,
}

/// `--help` groups the options that name what is compared, and those that shape the output.
const SELECTION: &str = "Fork and upstream";
const OUTPUT: &str = "Output";

#[derive(Debug, Args)]
struct SelectionArgs {
    /// The fork revision to audit (for `check`: the PR's head).
    #[arg(long, help_heading = SELECTION, visible_alias = "head", value_name = "REV", default_value = "HEAD")]
    fork: String,

    /// The remote that holds the upstream [default: upstream].
    #[arg(long, help_heading = SELECTION, value_name = "REMOTE")]
    upstream: Option<String>,

    /// The upgrade target: a branch, tag or commit, or a version (`--to 9.1`: its newest release)
    /// [default: the remote's default branch].
    #[arg(long, help_heading = SELECTION, value_name = "REV")]
    to: Option<String>,

    /// More refs that count as upstream (glob over full names, e.g. 'refs/heads/vendor/*').
    #[arg(long = "upstream-ref", help_heading = SELECTION, value_name = "GLOB")]
    upstream_refs: Vec<String>,

    /// Rule pack: a built-in name (`forkdrift rules list`) or a .toml file [default: detected
    /// from the target's tree].
    #[arg(long, help_heading = SELECTION, value_name = "NAME|FILE")]
    rules: Option<String>,

    /// Print a table of the run's stages and their wall-clock times on stderr when it ends
    /// (stdout and the exit code stay as they are).
    #[arg(long, help_heading = OUTPUT)]
    timings: bool,
}

impl SelectionArgs {
    /// Compiles the `--upstream-ref` globs once, before anything is read.
    fn resolve(self) -> Result<Selection> {
        let upstream_refs = if self.upstream_refs.is_empty() {
            None
        } else {
            let mut globs = GlobSetBuilder::new();
            for pattern in &self.upstream_refs {
                let glob = Glob::new(pattern).map_err(|e| Error::Usage {
                    message: format!("invalid --upstream-ref pattern `{pattern}`: {e}"),
                    help: "patterns match full ref names, e.g. 'refs/heads/vendor/*' or 'refs/tags/v*'".into(),
                })?;
                globs.add(glob);
            }
            Some(globs.build().map_err(|e| Error::Usage {
                message: e.to_string(),
                help: "patterns match full ref names".into(),
            })?)
        };
        Ok(Selection {
            fork: self.fork,
            remote: self.upstream,
            to: self.to,
            upstream_refs,
            rules: self.rules,
            notes: Vec::new(),
            own: Default::default(),
        })
    }
}

#[derive(Debug, Args)]
struct OutputArgs {
    /// Output format: markdown suits PR comments; JSON is a versioned contract.
    #[arg(long, help_heading = OUTPUT, value_enum, default_value_t = Format::Terminal)]
    format: Format,

    /// Exit 1 when a finding of this severity or worse exists.
    #[arg(long, help_heading = OUTPUT, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    fail_on: FailOn,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Classify what the fork changed, and what the next upgrade will conflict on.
    Audit {
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Also sweep the release points between the fork point and the target.
        #[arg(long)]
        hops: bool,
        /// List every changed path, upstream's backports too (by default one counted line),
        /// and every remark (by default the first twenty).
        #[arg(long)]
        all: bool,
    },
    /// Plan the upgrade one minor at a time: protocol, conflicts, release notes, checklist.
    Plan {
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The plan always walks every hop; `--hops` as on `audit` is taken, not refused.
        #[arg(long, hide = true)]
        hops: bool,
    },
    /// The fork's dependencies: coupled gems that must move together (Karafka's lockstep
    /// family) and the pins it changed against upstream's and the target's (elastic/connectors).
    Deps {
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// What upstream already has, what it should get (PR candidates), what the copies miss.
    Candidates {
        #[command(flatten)]
        selection: SelectionArgs,
        /// Output format: markdown suits PR comments; JSON is a versioned contract.
        #[arg(long, help_heading = OUTPUT, value_enum, default_value_t = Format::Terminal)]
        format: Format,
        /// Write each candidate as an mbox series (`git am` applies it onto the target) and a PR text.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
        /// List every remark: why each other commit is no candidate (by default the first
        /// twenty).
        #[arg(long)]
        all: bool,
    },
    /// Record that the target's protocol was reviewed, so the gate lets this exact protocol pass.
    AcceptProtocol {
        #[command(flatten)]
        selection: SelectionArgs,
        /// Why the change is safe for this fork (kept in .forkdrift.toml).
        #[arg(long)]
        why: String,
        /// Who reviewed it (default: git's user.name and user.email).
        #[arg(long)]
        by: Option<String>,
        /// Where to record it (default: .forkdrift.toml in the work tree).
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
    /// Check a pull request: the findings base..head adds, in the formats CI reads.
    /// `--fork` (alias `--head`) is the PR's head.
    Check {
        /// The PR's base: the revision the findings are compared with.
        #[arg(long, value_name = "REV")]
        base: String,
        #[command(flatten)]
        selection: SelectionArgs,
        /// Output: github (workflow annotations), sarif (code scanning), markdown (a PR
        /// comment), json (forkdrift.check/1) or a terminal summary.
        #[arg(long, help_heading = OUTPUT, value_enum, default_value_t = CheckFormat::Terminal)]
        format: CheckFormat,
        /// Exit 1 when a new finding of this severity or worse exists.
        #[arg(long, help_heading = OUTPUT, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
        fail_on: FailOn,
    },
    /// Accept today's findings: append them to .forkdrift.toml as a baseline to review.
    Baseline {
        #[command(flatten)]
        selection: SelectionArgs,
        /// Who owns the accepted findings (default: git's user.name and user.email).
        #[arg(long)]
        owner: Option<String>,
        /// Where to write (default: .forkdrift.toml in the work tree).
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
    /// Write a commented .forkdrift.toml to start from: the pack, the upstream remote, the
    /// default target and what the fork owns, guessed from the directories it added.
    Init {
        #[command(flatten)]
        selection: SelectionArgs,
        /// Print the configuration instead of writing it.
        #[arg(long)]
        print: bool,
        /// Replace an existing file.
        #[arg(long, conflicts_with = "print")]
        force: bool,
        /// Where to write (default: .forkdrift.toml in the work tree).
        #[arg(long, value_name = "PATH", conflicts_with = "print")]
        file: Option<PathBuf>,
    },
    /// Tell which zone or rule decides a path's class, and why.
    Explain {
        /// A path in the fork (or the upstream).
        path: String,
        #[command(flatten)]
        selection: SelectionArgs,
        /// Output format (JSON: the fields of the explanation).
        #[arg(long, help_heading = OUTPUT, value_enum, default_value_t = ExplainFormat::Terminal)]
        format: ExplainFormat,
    },
    /// List, show or check rule packs.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Write the periodic divergence report: a self-contained page, report.json, report.md,
    /// and one line of metrics appended to the history.
    Report {
        #[command(flatten)]
        selection: SelectionArgs,
        /// The directory to write index.html, report.json and report.md into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The history of metrics, one JSON line per run [default: DIR/history.jsonl].
        #[arg(long, value_name = "FILE")]
        history: Option<PathBuf>,
        /// Compute the metrics at past dates too, from the fork and the target as they were.
        #[arg(long, value_enum, value_name = "CADENCE", requires = "since")]
        backfill: Option<CadenceArg>,
        /// The first date of the backfill (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", requires = "backfill")]
        since: Option<String>,
        /// Exit 1 when a finding of this severity or worse exists.
        #[arg(long, help_heading = OUTPUT, value_enum, default_value_t = FailOn::Never, value_name = "SEVERITY")]
        fail_on: FailOn,
    },
    /// Build the bundled demo (an upstream and a fork) in a temporary directory and audit it.
    Demo {
        /// Output format: markdown suits PR comments; JSON is a versioned contract.
        #[arg(long, help_heading = OUTPUT, value_enum, default_value_t = Format::Terminal)]
        format: Format,
        /// Keep the demo (DIR/fork and its upstream, DIR/upstream.git) in DIR, a new or empty
        /// directory, instead of a temporary directory.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
        /// List every changed path, upstream's backports too.
        #[arg(long)]
        all: bool,
    },
    /// Print a shell completion script (e.g. `forkdrift completions bash > ~/.local/share/bash-completion/completions/forkdrift`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `forkdrift man > ~/.local/share/man/man1/forkdrift.1`.
    Man,
    /// Build a fixture scenario into DIR (for exploring and for bug reports). Its upstream is
    /// there as refs only, with no repository to fetch from: `demo --keep DIR` writes one.
    #[command(hide = true)]
    Fixture {
        /// A bundled scenario name, or a path to a scenario .toml.
        scenario: String,
        /// Where to build it (a new or empty directory).
        #[arg(value_name = "DIR")]
        dest: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Terminal,
    Json,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// The built-in packs.
    List,
    /// Print a pack's source.
    Show { name: String },
    /// Validate a pack file.
    Check { file: PathBuf },
}

/// Everything a run needs, decided.
#[derive(Debug)]
pub struct Config {
    pub dir: PathBuf,
    pub style: Style,
    pub verbosity: Verbosity,
    pub job: Job,
}

/// Where `init` writes its configuration.
#[derive(Debug)]
pub struct InitTarget {
    /// Default: `.forkdrift.toml` in the work tree.
    pub file: Option<PathBuf>,
    /// Replace what is there.
    pub force: bool,
}

#[derive(Debug)]
pub enum Job {
    Audit {
        selection: Selection,
        format: Format,
        fail_on: Severity,
        hops: bool,
    },
    Plan {
        selection: Selection,
        format: Format,
        fail_on: Severity,
    },
    Candidates {
        selection: Selection,
        format: Format,
        export: Option<PathBuf>,
    },
    Deps {
        selection: Selection,
        format: Format,
        fail_on: Severity,
    },
    AcceptProtocol {
        selection: Selection,
        why: String,
        by: Option<String>,
        file: Option<PathBuf>,
    },
    Explain {
        selection: Selection,
        path: String,
        format: ExplainFormat,
    },
    Check {
        selection: Selection,
        base: String,
        format: CheckFormat,
        fail_on: Severity,
    },
    Baseline {
        selection: Selection,
        owner: Option<String>,
        file: Option<PathBuf>,
    },
    Init {
        selection: Selection,
        /// None: print to stdout.
        write: Option<InitTarget>,
    },
    RulesList,
    RulesShow(String),
    RulesCheck(PathBuf),
    Report {
        selection: Selection,
        out: PathBuf,
        history: PathBuf,
        backfill: Option<Backfill>,
        fail_on: Severity,
    },
    Demo {
        format: Format,
        keep: Option<PathBuf>,
    },
    /// Generated text for stdout: completions, the man page.
    Print(Vec<u8>),
    Fixture {
        scenario: String,
        dir: PathBuf,
    },
}

impl Cli {
    /// Colour or not: decided once from --color, NO_COLOR and whether stdout is a terminal.
    pub fn color(&self) -> bool {
        match self.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }

    /// `--timings`, which only the commands that read a repository take.
    pub fn timings(&self) -> bool {
        match &self.command {
            Command::Audit { selection, .. }
            | Command::Plan { selection, .. }
            | Command::Deps { selection, .. }
            | Command::Candidates { selection, .. }
            | Command::AcceptProtocol { selection, .. }
            | Command::Check { selection, .. }
            | Command::Baseline { selection, .. }
            | Command::Explain { selection, .. }
            | Command::Init { selection, .. }
            | Command::Report { selection, .. } => selection.timings,
            Command::Rules { .. }
            | Command::Demo { .. }
            | Command::Completions { .. }
            | Command::Man
            | Command::Fixture { .. } => false,
        }
    }

    pub fn verbosity(&self) -> Verbosity {
        if self.quiet {
            Verbosity::Quiet
        } else if self.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        }
    }

    pub fn into_config(self) -> Result<Config> {
        let color = self.color();
        let verbosity = self.verbosity();
        let mut all = false;
        let uses_dir = matches!(
            self.command,
            Command::Audit { .. }
                | Command::Plan { .. }
                | Command::Deps { .. }
                | Command::Candidates { .. }
                | Command::AcceptProtocol { .. }
                | Command::Explain { .. }
                | Command::Report { .. }
                | Command::Check { .. }
                | Command::Baseline { .. }
                | Command::Init { .. }
        );
        if let (Some(dir), false) = (&self.dir, uses_dir) {
            return Err(Error::Usage {
                message: format!(
                    "-C {} means nothing to this command: it does not read a repository",
                    dir.display()
                ),
                help: "-C names the fork's repository for audit, plan, deps, candidates, check, report, baseline, init, accept-protocol and explain; leave it out here".into(),
            });
        }
        let fail_on = |f: FailOn| match f {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Note => Severity::Note,
            FailOn::Never => Severity::Off,
        };
        let job = match self.command {
            Command::Audit {
                selection,
                output,
                hops,
                all: expand,
            } => {
                all = expand;
                Job::Audit {
                    selection: selection.resolve()?,
                    format: output.format,
                    fail_on: fail_on(output.fail_on),
                    hops,
                }
            }
            Command::Plan {
                selection, output, ..
            } => Job::Plan {
                selection: selection.resolve()?,
                format: output.format,
                fail_on: fail_on(output.fail_on),
            },
            Command::Deps { selection, output } => Job::Deps {
                selection: selection.resolve()?,
                format: output.format,
                fail_on: fail_on(output.fail_on),
            },
            Command::Candidates {
                selection,
                format,
                export,
                all: expand,
            } => {
                all = expand;
                Job::Candidates {
                    selection: selection.resolve()?,
                    format,
                    export,
                }
            }
            Command::AcceptProtocol {
                selection,
                why,
                by,
                file,
            } => Job::AcceptProtocol {
                selection: selection.resolve()?,
                why,
                by,
                file,
            },
            Command::Explain {
                path,
                selection,
                format,
            } => Job::Explain {
                selection: selection.resolve()?,
                path,
                format,
            },
            Command::Check {
                base,
                selection,
                format,
                fail_on: threshold,
            } => Job::Check {
                selection: selection.resolve()?,
                base,
                format,
                fail_on: fail_on(threshold),
            },
            Command::Baseline {
                selection,
                owner,
                file,
            } => Job::Baseline {
                selection: selection.resolve()?,
                owner,
                file,
            },
            Command::Init {
                selection,
                print,
                force,
                file,
            } => Job::Init {
                selection: selection.resolve()?,
                write: (!print).then_some(InitTarget { file, force }),
            },
            Command::Rules { command } => match command {
                RulesCommand::List => Job::RulesList,
                RulesCommand::Show { name } => Job::RulesShow(name),
                RulesCommand::Check { file } => Job::RulesCheck(file),
            },
            Command::Report {
                selection,
                out,
                history,
                backfill,
                since,
                fail_on: threshold,
            } => Job::Report {
                selection: selection.resolve()?,
                history: history.unwrap_or_else(|| out.join("history.jsonl")),
                out,
                backfill: match (backfill, since) {
                    (Some(cadence), Some(since)) => Some(Backfill {
                        cadence: match cadence {
                            CadenceArg::Weekly => Cadence::Weekly,
                            CadenceArg::Monthly => Cadence::Monthly,
                        },
                        since: crate::time::parse_iso(&since).ok_or_else(|| Error::Usage {
                            message: format!("`{since}` is not a date"),
                            help: "write the first date of the backfill as YYYY-MM-DD, e.g. --since 2025-01-01".into(),
                        })?,
                    }),
                    _ => None,
                },
                fail_on: fail_on(threshold),
            },
            Command::Demo {
                format,
                keep,
                all: expand,
            } => {
                all = expand;
                Job::Demo { format, keep }
            }
            Command::Completions { shell } => Job::Print(completions(shell)),
            Command::Man => Job::Print(man()?),
            Command::Fixture { scenario, dest } => Job::Fixture {
                scenario,
                dir: dest,
            },
        };
        Ok(Config {
            dir: self.dir.unwrap_or_else(|| PathBuf::from(".")),
            style: Style { color, all },
            verbosity,
            job,
        })
    }
}

/// `forkdrift completions SHELL`: the completion script.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "forkdrift", &mut out);
    out
}

/// `forkdrift man`: the man page, in roff.
pub fn man() -> Result<Vec<u8>> {
    let command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut out)
        .map_err(|source| Error::Io {
            context: "could not render the man page".into(),
            source,
        })?;
    Ok(out)
}
