//! Arguments → config → `forkdrift::run` → render → exit code. The only place that prints.

use clap::Parser;
use forkdrift::cli::{Cli, Format};
use forkdrift::outcome::{Outcome, ReportOutcome, View, exit};
use forkdrift::render::{self, Style, text};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = cli.color();
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
    // A bug must not leak exit 101: the exit codes are a contract.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(
            std::io::stderr(),
            "forkdrift: internal error: {info}\nThis is a bug in forkdrift: please report it with the command you ran (https://github.com/forkdrift/forkdrift/issues)."
        );
        std::process::exit(i32::from(exit::ERROR));
    }));
    let style = Style { color };
    let bar = progress_bar();
    let mut progress = |stage: &str, done: usize, total: usize| {
        if let Some(bar) = &bar {
            bar.set_message(stage.to_string());
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    };
    let result = cli
        .into_config()
        .and_then(|config| forkdrift::outcome::run_with(config, &mut progress));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let result = result.and_then(|outcome| show(&outcome, &style).map(|()| outcome.exit_code()));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("{:?}", miette::Report::new(error));
            ExitCode::from(exit::ERROR)
        }
    }
}

/// A bar on stderr for the steps of a long run (a backfill's points), drawn only on a terminal:
/// never into a pipe or a CI log.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} {eta}")
            .expect("a valid template"),
    );
    Some(bar)
}

/// `forkdrift … | head` is not an error.
fn write(text: &[u8]) -> forkdrift::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text)
        .and_then(|()| out.flush())
        .or_else(|error| match error.kind() {
            std::io::ErrorKind::BrokenPipe => Ok(()),
            _ => Err(error),
        })
        .map_err(|source| forkdrift::Error::Io {
            context: "could not write the report".into(),
            source,
        })
}

fn show(outcome: &Outcome, style: &Style) -> forkdrift::Result<()> {
    match outcome {
        Outcome::Report(report) => show_report(report, style),
        Outcome::Explanation(explanation) => {
            write(text::explanation(explanation, style).as_bytes())
        }
        Outcome::Packs(packs) => write(text::packs(packs).as_bytes()),
        Outcome::PackSource(source) => write(source.as_bytes()),
        Outcome::PackChecked {
            name,
            families,
            zones,
            anchors,
        } => write(text::pack_checked(name, *families, *zones, *anchors).as_bytes()),
        Outcome::Accepted(acceptance) => write(text::accepted(acceptance).as_bytes()),
        Outcome::Built { path, description } => write(text::built(path, description).as_bytes()),
        Outcome::Written(written) => write(text::written(written).as_bytes()),
    }
}

fn show_report(outcome: &ReportOutcome, style: &Style) -> forkdrift::Result<()> {
    let report = &outcome.report;
    let terminal = outcome.format == Format::Terminal;
    let mut page = Vec::new();
    if let (Some((path, _)), true) = (&outcome.demo, terminal) {
        page.extend(text::demo_header(path, style).into_bytes());
    }
    let rendered = match (outcome.format, outcome.view) {
        (Format::Terminal, View::Plan) => render::terminal::plan(report, &mut page, style),
        (Format::Terminal, View::Candidates) => {
            render::terminal::candidates(report, &mut page, style)
        }
        (Format::Terminal, _) => render::terminal::render(report, &mut page, style),
        (Format::Json, _) => render::json::render(report, &mut page),
        (Format::Markdown, _) => render::markdown::render(report, &mut page),
    };
    rendered.map_err(|source| forkdrift::Error::Io {
        context: "could not render the report".into(),
        source,
    })?;
    if let (Some((path, kept)), true) = (&outcome.demo, terminal) {
        page.extend(text::demo_footer(path, *kept, style).into_bytes());
    }
    if let Some((dir, written)) = &outcome.exported {
        let list = text::exported(dir, written);
        if terminal {
            page.extend(list.into_bytes());
        } else {
            eprint!("{list}");
        }
    }
    write(&page)?;
    if let (Some(refused), View::Audit | View::Plan) = (&outcome.refusal, outcome.view) {
        eprintln!("{:?}", miette::Report::new(text::refusal(refused)));
    }
    Ok(())
}
