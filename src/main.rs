//! Arguments → config → `forkdrift::run` → render → exit code. The only place that prints.
//!
//! Output never decides the exit code by accident: a closed pipe on stdout or stderr
//! (`forkdrift … | head`) ends quietly with the code the run would have had; any other write
//! error on stdout is exit 2. SIGINT, SIGTERM and SIGHUP remove the run's temporary
//! directories and exit 128 + the signal's number (130, 143, 129).

use clap::Parser;
use forkdrift::cli::{CheckFormat, Cli, ExplainFormat, Format, Verbosity};
use forkdrift::outcome::{Outcome, ReportOutcome, View, exit};
use forkdrift::render::{self, Style, text};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let stdout_closed = stdout_was_closed();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(exit::ERROR));
        }
    };
    on_signals();
    let color = cli.color();
    let verbosity = cli.verbosity();
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
    let progress = Progress::install(verbosity);
    let result = cli.into_config().and_then(|config| {
        let style = config.style;
        forkdrift::run(config).map(|outcome| (outcome, style))
    });
    progress.finish();
    let (outcome, style) = match result {
        Ok(done) => done,
        Err(error) => return fail(error),
    };
    let code = outcome.exit_code();
    let page = match show(&outcome, &style, verbosity) {
        Ok(page) => page,
        Err(error) => return fail(error),
    };
    if let Err(error) = write_stdout(&page.stdout, stdout_closed) {
        return fail(error);
    }
    write_stderr(&page.stderr);
    ExitCode::from(code)
}

fn fail(error: forkdrift::Error) -> ExitCode {
    write_stderr(&format!("{:?}\n", miette::Report::new(error)));
    ExitCode::from(exit::ERROR)
}

/// std reopens a closed stdout on /dev/null, read-write, before `main`; a shell's `>/dev/null`
/// opens it write-only. A closed stdout must not pass for a report written.
fn stdout_was_closed() -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        // SAFETY: fcntl(F_GETFL) on a descriptor number reads flags and touches no memory.
        let flags = unsafe { libc::fcntl(1, libc::F_GETFL) };
        if flags < 0 {
            return true;
        }
        if flags & libc::O_ACCMODE != libc::O_RDWR {
            return false;
        }
        match (
            std::fs::metadata("/proc/self/fd/1"),
            std::fs::metadata("/dev/null"),
        ) {
            (Ok(out), Ok(null)) => out.file_type().is_char_device() && out.rdev() == null.rdev(),
            _ => false,
        }
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// `forkdrift … | head` is not an error; a full disk or a closed stdout is.
fn write_stdout(bytes: &[u8], closed: bool) -> forkdrift::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let result = if closed {
        Err(std::io::Error::from_raw_os_error(libc::EBADF))
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes).and_then(|()| out.flush())
    };
    match result {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|source| forkdrift::Error::Io {
            context: "could not write the report to stdout".into(),
            source,
        }),
    }
}

/// Diagnostics and hints: a closed or broken stderr loses them, nothing else.
fn write_stderr(text: &str) {
    if !text.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
    }
}

/// Removes the run's temporary directories on SIGINT, SIGTERM and SIGHUP, then exits
/// 128 + the signal's number. signal-hook: a handler thread, no unsafe signal-handler code.
fn on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            forkdrift::cleanup::interrupted();
            std::process::exit(128 + signal);
        }
    });
}

/// A spinner on stderr once a run takes over a second (indicatif hides it when stderr is not
/// a terminal); with `--verbose`, a line per step with its time; with `--quiet`, nothing.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    verbose: Option<&'static Mutex<Option<(String, Instant)>>>,
}

struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    verbose: Option<&'static Mutex<Option<(String, Instant)>>>,
}

impl forkdrift::progress::Progress for Reporter {
    fn phase(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
        if let Some(current) = self.verbose {
            let mut current = current.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((previous, since)) = current.take() {
                write_stderr(&format!(
                    "forkdrift: {previous}: {:.2} s\n",
                    since.elapsed().as_secs_f64()
                ));
            }
            *current = Some((what.to_string(), Instant::now()));
        }
    }
}

impl Progress {
    fn install(verbosity: Verbosity) -> Progress {
        let (bar, verbose) = match verbosity {
            Verbosity::Quiet => (None, None),
            Verbosity::Verbose => (
                None,
                Some(&*Box::leak(Box::new(Mutex::new(None::<(String, Instant)>)))),
            ),
            Verbosity::Normal => {
                let bar = indicatif::ProgressBar::with_draw_target(
                    None,
                    indicatif::ProgressDrawTarget::hidden(),
                );
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                let later = bar.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(1));
                    if !later.is_finished() {
                        later.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                        later.enable_steady_tick(Duration::from_millis(120));
                    }
                });
                (Some(bar), None)
            }
        };
        forkdrift::progress::install(Box::new(Reporter {
            bar: bar.clone(),
            verbose,
        }));
        Progress { bar, verbose }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let Some(current) = self.verbose {
            let mut current = current.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((previous, since)) = current.take() {
                write_stderr(&format!(
                    "forkdrift: {previous}: {:.2} s\n",
                    since.elapsed().as_secs_f64()
                ));
            }
        }
    }
}

/// What a run prints: the page for stdout, and what goes to stderr after it.
#[derive(Default)]
struct Page {
    stdout: Vec<u8>,
    stderr: String,
}

fn show(outcome: &Outcome, style: &Style, verbosity: Verbosity) -> forkdrift::Result<Page> {
    let stdout = match outcome {
        Outcome::Report(report) => return show_report(report, style, verbosity),
        Outcome::Explanation(explanation, ExplainFormat::Terminal) => {
            text::explanation(explanation, style).into_bytes()
        }
        Outcome::Explanation(explanation, ExplainFormat::Json) => {
            let mut json =
                serde_json::to_vec_pretty(explanation).expect("an explanation serialises to JSON");
            json.push(b'\n');
            json
        }
        Outcome::Printed(bytes) => bytes.clone(),
        Outcome::Packs(packs) => text::packs(packs).into_bytes(),
        Outcome::PackSource(source) => source.clone().into_bytes(),
        Outcome::PackChecked {
            name,
            families,
            zones,
            anchors,
        } => text::pack_checked(name, *families, *zones, *anchors).into_bytes(),
        Outcome::Accepted(acceptance) => text::accepted(acceptance).into_bytes(),
        Outcome::Built { path, description } => text::built(path, description).into_bytes(),
        Outcome::Written(written) => text::written(written).into_bytes(),
        Outcome::Check(check, format) => show_check(check, *format)?,
        Outcome::Baselined { added, file } => text::baselined(*added, file).into_bytes(),
        Outcome::Initialized { text, file: None } => text.clone().into_bytes(),
        Outcome::Initialized {
            file: Some(file), ..
        } => text::initialized(file).into_bytes(),
    };
    Ok(Page {
        stdout,
        stderr: String::new(),
    })
}

fn show_check(
    check: &forkdrift::check::CheckReport,
    format: CheckFormat,
) -> forkdrift::Result<Vec<u8>> {
    let mut out = Vec::new();
    match format {
        CheckFormat::Terminal => out.extend(text::check(check).into_bytes()),
        CheckFormat::Json => render::json::render(check, &mut out).map_err(rendering)?,
        CheckFormat::Markdown => render::pr_comment::render(check, &mut out).map_err(rendering)?,
        CheckFormat::Github => render::github::render(check, &mut out, render::github::STEP_LIMIT)
            .map_err(rendering)?,
        CheckFormat::Sarif => render::sarif::render(check, &mut out).map_err(rendering)?,
    }
    Ok(out)
}

fn rendering(source: std::io::Error) -> forkdrift::Error {
    forkdrift::Error::Io {
        context: "could not render the check".into(),
        source,
    }
}

fn show_report(
    outcome: &ReportOutcome,
    style: &Style,
    verbosity: Verbosity,
) -> forkdrift::Result<Page> {
    let report = &outcome.report;
    let terminal = outcome.format == Format::Terminal;
    let mut page = Page::default();
    let out = &mut page.stdout;
    if let (Some((path, _)), true) = (&outcome.demo, terminal) {
        out.extend(text::demo_header(path, style).into_bytes());
    }
    let rendered = match (outcome.format, outcome.view) {
        (Format::Terminal, View::Plan) => render::terminal::plan(report, out, style),
        (Format::Terminal, View::Candidates) => render::terminal::candidates(report, out, style),
        (Format::Terminal, View::Deps) => render::terminal::deps(report, out, style),
        (Format::Terminal, _) => render::terminal::render(report, out, style),
        (Format::Json, _) => render::json::render(report, out),
        (Format::Markdown, _) => render::markdown::render(report, outcome.refusal.as_ref(), out),
    };
    rendered.map_err(|source| forkdrift::Error::Io {
        context: "could not render the report".into(),
        source,
    })?;
    if let (Some((path, kept)), true) = (&outcome.demo, terminal) {
        out.extend(text::demo_footer(path, *kept, style).into_bytes());
    }
    if let Some((dir, written)) = &outcome.exported {
        let list = text::exported(dir, written);
        if terminal {
            out.extend(list.into_bytes());
        } else if verbosity > Verbosity::Quiet {
            page.stderr.push_str(&list);
        }
    }
    if let (Some(refused), View::Audit | View::Plan) = (&outcome.refusal, outcome.view) {
        page.stderr.push_str(&format!(
            "{:?}\n",
            miette::Report::new(text::refusal(refused))
        ));
    }
    Ok(page)
}
