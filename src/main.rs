//! Parses arguments, runs the job, renders, and maps the outcome to an exit code. The only
//! place that prints errors.

use clap::Parser;
use forkdrift::cli::{Cli, Config, Format, Job};
use forkdrift::model::Report;
use forkdrift::render::{self, Style};
use forkdrift::repo::Repo;
use forkdrift::repo::git::Git;
use forkdrift::{Error, audit};
use std::io::Write;
use std::process::ExitCode;

/// Exit codes, documented in the README and `--help`.
mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const ERROR: u8 = 2;
    pub const PROTOCOL: u8 = 3;
}

fn main() -> ExitCode {
    let config = Cli::parse().into_config();
    let color = config.style.color;
    miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .wrap_lines(false)
                .build(),
        )
    }))
    .ok();
    match run(config) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("{:?}", miette::Report::new(error));
            ExitCode::from(exit::ERROR)
        }
    }
}

fn write_report(report: &Report, format: Format, style: &Style) -> forkdrift::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        Format::Terminal => render::terminal::render(report, &mut out, style),
        Format::Json => render::json::render(report, &mut out),
        Format::Markdown => render::markdown::render(report, &mut out),
    };
    written
        .and_then(|_| out.flush())
        .or_else(ignore_broken_pipe)
}

/// `forkdrift … | head` is not an error.
fn ignore_broken_pipe(error: std::io::Error) -> forkdrift::Result<()> {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Error::Io {
            context: "could not write the report".into(),
            source: error,
        })
    }
}

fn print(text: &str) -> forkdrift::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .or_else(ignore_broken_pipe)
}

fn run(config: Config) -> forkdrift::Result<u8> {
    let git = Git::system();
    match config.job {
        Job::Audit {
            selection,
            format,
            fail_on,
            hops,
        } => {
            let repo = Repo::open(&config.dir)?;
            let run = audit::audit(&repo, &git, &audit::AuditOptions { selection, hops })?;
            write_report(&run.report, format, &config.style)?;
            Ok(outcome(&run, fail_on))
        }
        Job::Plan {
            selection,
            format,
            fail_on,
        } => {
            let repo = Repo::open(&config.dir)?;
            let run = forkdrift::plan::plan(&repo, &git, &selection)?;
            match format {
                Format::Terminal => {
                    let mut out = std::io::stdout().lock();
                    render::terminal::plan(&run.report, &mut out, &config.style)
                        .and_then(|_| out.flush())
                        .or_else(ignore_broken_pipe)?;
                }
                other => write_report(&run.report, other, &config.style)?,
            }
            Ok(outcome(&run, fail_on))
        }
        Job::Candidates {
            selection,
            format,
            export,
        } => {
            let repo = Repo::open(&config.dir)?;
            let run = audit::audit(
                &repo,
                &git,
                &audit::AuditOptions {
                    selection,
                    hops: false,
                },
            )?;
            match format {
                Format::Terminal => {
                    let mut out = std::io::stdout().lock();
                    render::terminal::candidates(&run.report, &mut out, &config.style)
                        .and_then(|_| out.flush())
                        .or_else(ignore_broken_pipe)?;
                }
                other => write_report(&run.report, other, &config.style)?,
            }
            if let Some(dir) = export {
                let written =
                    forkdrift::candidates::export(&repo, &run.session, &run.candidates, &dir)?;
                let mut text = format!("\nwrote {} files to {}:\n", written.len(), dir.display());
                for path in &written {
                    text.push_str(&format!("  {}\n", path.display()));
                }
                if format == Format::Terminal {
                    print(&text)?;
                } else {
                    eprint!("{text}");
                }
            }
            Ok(exit::OK)
        }
        Job::AcceptProtocol {
            selection,
            why,
            by,
            file,
        } => {
            let repo = Repo::open(&config.dir)?;
            let accepted = forkdrift::accept::accept(&repo, &selection, &why, by, file.as_deref())?;
            print(&accepted)?;
            Ok(exit::OK)
        }
        Job::Explain { selection, path } => {
            let repo = Repo::open(&config.dir)?;
            let explanation = audit::explain(&repo, &selection, &path)?;
            let style = config.style;
            let mut text = format!(
                "{}\n  class  {}{}\n  rule   {}\n  pack   {} ({})\n",
                style.bold(&explanation.path),
                explanation.class.as_str(),
                explanation
                    .unit
                    .as_ref()
                    .map(|u| format!(" (unit {u})"))
                    .unwrap_or_default(),
                explanation.rule,
                explanation.pack,
                explanation.pack_origin,
            );
            text.push_str(&match explanation.change {
                Some(status) => {
                    format!("  change {status:?} by the fork since the merge-base\n").to_lowercase()
                }
                None => {
                    "  change none: the fork leaves this path as the merge-base has it\n".into()
                }
            });
            for fact in &explanation.facts {
                text.push_str(&format!("  · {fact}\n"));
            }
            print(&text)?;
            Ok(exit::OK)
        }
        Job::RulesList => {
            let mut text = String::new();
            for name in forkdrift::rules::Pack::builtin_names() {
                let pack = forkdrift::rules::Pack::builtin(&name)?;
                text.push_str(&format!("{:<20} {}\n", pack.name, pack.description));
            }
            print(&text)?;
            Ok(exit::OK)
        }
        Job::RulesShow(name) => {
            let pack = forkdrift::rules::Pack::load(&name)?;
            print(&pack.source_text)?;
            Ok(exit::OK)
        }
        Job::RulesCheck(file) => {
            let pack = forkdrift::rules::Pack::load(&file.to_string_lossy())?;
            print(&format!(
                "{}: ok — {} unit families, {} zones, {} protocol anchors\n",
                pack.name,
                pack.families.len(),
                pack.zones.len(),
                pack.protocol.documents.len()
                    + pack.protocol.values.len()
                    + pack.protocol.files.len()
            ))?;
            Ok(exit::OK)
        }
        Job::Demo { format, keep } => demo(&git, format, keep, &config.style),
        Job::Fixture { scenario, dir } => {
            let path = std::path::Path::new(&scenario);
            let scenario = if path.is_file() {
                forkdrift::scenario::Scenario::from_path(path)?
            } else {
                forkdrift::scenario::Scenario::embedded(&scenario)?
            };
            let built = forkdrift::scenario::build(&scenario, &dir)?;
            print(&format!(
                "built {} ({})\n",
                built.path.display(),
                scenario.description
            ))?;
            Ok(exit::OK)
        }
    }
}

/// Exit 3 when the protocol gate refused (after the report was written), else 1 for findings.
fn outcome(run: &audit::AuditRun, fail_on: forkdrift::model::Severity) -> u8 {
    if run.refused {
        let report = &run.report;
        let stop = report
            .plan
            .as_ref()
            .and_then(|p| p.hops.last().filter(|_| p.stopped_at.is_some()));
        let (what, to, protocol) = match stop {
            Some(hop) => (
                format!("to {} ({})", hop.version, hop.name),
                hop.name.clone(),
                hop.protocol_report.as_ref(),
            ),
            None => (
                format!("to {}", report.target.name),
                report.target.name.clone(),
                report.protocol.as_ref(),
            ),
        };
        if let Some(protocol) = protocol {
            let refusal = forkdrift::gate::refusal(&run.session.pack, protocol, &what, &to);
            eprintln!("{:?}", miette::Report::new(refusal));
        }
        return exit::PROTOCOL;
    }
    if run.report.fails(fail_on) {
        exit::FINDINGS
    } else {
        exit::OK
    }
}

fn demo(
    git: &Git,
    format: Format,
    keep: Option<std::path::PathBuf>,
    style: &Style,
) -> forkdrift::Result<u8> {
    let temp = tempfile::Builder::new()
        .prefix("forkdrift-demo-")
        .tempdir()
        .map_err(|source| Error::Io {
            context: "could not create a temporary directory".into(),
            source,
        })?;
    let dir = keep.clone().unwrap_or_else(|| temp.path().join("fork"));
    let built = forkdrift::demo::build(&dir)?;
    let repo = Repo::open(&built.path)?;
    let run = audit::audit(
        &repo,
        git,
        &audit::AuditOptions {
            hops: true,
            ..Default::default()
        },
    )?;
    if format == Format::Terminal {
        print(&format!(
            "{}\n\n",
            style.dim(&format!(
                "Demo: a fork of an elastic/connectors-shaped upstream, built in {}",
                built.path.display()
            ))
        ))?;
    }
    write_report(&run.report, format, style)?;
    if format == Format::Terminal {
        let kept = match &keep {
            Some(dir) => format!("The demo repository stays in {}.", dir.display()),
            None => "Keep the demo repository with `forkdrift demo --keep DIR`.".into(),
        };
        print(&format!(
            "\n{}\n  cd your-fork\n  git remote add upstream https://github.com/elastic/connectors && git fetch upstream --tags\n  forkdrift audit            # or: --to upstream/9.2, --format json, --hops\n{kept}\n",
            style.bold("Run the same on your own fork:")
        ))?;
    }
    Ok(exit::OK)
}
