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
    let started = Instant::now();
    let stdout_closed = stdout_was_closed();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() || asks_for_help(&error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(exit::ERROR));
        }
        Err(error) => {
            // Without a parsed --color, plainly.
            diagnostics_in_color(false);
            return fail(usage_error(&error));
        }
    };
    on_signals();
    let color = cli.color();
    let verbosity = cli.verbosity();
    diagnostics_in_color(color);
    // A bug must not leak exit 101: the exit codes are a contract.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(
            std::io::stderr(),
            "forkdrift: internal error: {info}\nThis is a bug in forkdrift: please report it with the command you ran (https://github.com/forkdrift/forkdrift/issues)."
        );
        std::process::exit(i32::from(exit::ERROR));
    }));
    let timings = cli.timings();
    let progress = Progress::install(verbosity, timings);
    let code = run(cli, &progress, verbosity, stdout_closed);
    progress.finish();
    if timings {
        write_stderr(&progress.table(started));
    }
    code
}

fn run(cli: Cli, progress: &Progress, verbosity: Verbosity, stdout_closed: bool) -> ExitCode {
    let result = cli.into_config().and_then(|config| {
        let style = config.style;
        forkdrift::run(config).map(|outcome| (outcome, style))
    });
    let (outcome, style) = match result {
        Ok(done) => done,
        Err(error) => {
            progress.finish();
            return fail(error);
        }
    };
    progress.phase("rendering and writing the output");
    let code = outcome.exit_code();
    let page = match show(&outcome, &style, verbosity) {
        Ok(page) => page,
        Err(error) => return fail(error),
    };
    // The spinner must be gone before the page is written.
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
    if let Err(error) = write_stdout(&page.stdout, stdout_closed) {
        return fail(error);
    }
    write_stderr(&page.stderr);
    ExitCode::from(code)
}

/// How diagnostics print: in colour and with box-drawing characters, or plainly; never
/// wrapped (a path or a command in a help line stays whole).
fn diagnostics_in_color(color: bool) {
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
}

fn asks_for_help(error: &clap::Error) -> bool {
    error.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
}

/// clap's words for a bad command line, as the diagnostic every other bad input gets: what
/// is wrong, and a `help:` line with clap's tip and the usage.
fn usage_error(error: &clap::Error) -> forkdrift::Error {
    let rendered = error.render().to_string();
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut message = lines
        .next()
        .map(|l| l.strip_prefix("error: ").unwrap_or(l).to_string())
        .unwrap_or_else(|| "the command line could not be read".into());
    let mut help: Vec<String> = Vec::new();
    for line in lines {
        if let Some(tip) = line.strip_prefix("tip: ") {
            help.push(tip.to_string());
        } else if let Some(usage) = line.strip_prefix("Usage: ") {
            help.push(format!("usage: {usage}"));
        } else if line.starts_with('[') {
            // `[possible values: terminal, json, markdown]`
            help.push(line.trim_matches(['[', ']']).to_string());
        } else if !line.starts_with("For more information") {
            // The missing arguments clap lists under its first line.
            message.push(' ');
            message.push_str(line);
        }
    }
    help.push("`--help` lists the options".into());
    forkdrift::Error::Usage {
        message,
        help: help.join("; "),
    }
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
/// With `--timings`, every step's time is kept for the table printed when the run ends.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    steps: &'static Steps,
}

/// The step under way and, with `--timings`, those already over.
struct Steps {
    verbose: bool,
    keep: bool,
    state: Mutex<StepState>,
}

#[derive(Default)]
struct StepState {
    current: Option<(String, Instant)>,
    done: Vec<(String, Duration)>,
}

impl Steps {
    /// Ends the step under way (if any) and begins `next`.
    fn switch(&self, next: Option<&str>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((previous, since)) = state.current.take() {
            let took = since.elapsed();
            if self.verbose {
                write_stderr(&format!(
                    "forkdrift: {previous}: {:.2} s\n",
                    took.as_secs_f64()
                ));
            }
            if self.keep {
                state.done.push((previous, took));
            }
        }
        state.current = next.map(|what| (what.to_string(), Instant::now()));
    }

    fn done(&self) -> Vec<(String, Duration)> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.done.clone()
    }
}

struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    steps: &'static Steps,
}

impl forkdrift::progress::Progress for Reporter {
    fn phase(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
        }
        self.steps.switch(Some(what));
    }
}

impl Progress {
    fn install(verbosity: Verbosity, timings: bool) -> Progress {
        let bar = match verbosity {
            Verbosity::Quiet | Verbosity::Verbose => None,
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
                Some(bar)
            }
        };
        // The reporter lives as long as the process: the library holds it in a static.
        let steps: &'static Steps = Box::leak(Box::new(Steps {
            verbose: verbosity == Verbosity::Verbose,
            keep: timings,
            state: Mutex::new(StepState::default()),
        }));
        forkdrift::progress::install(Box::new(Reporter {
            bar: bar.clone(),
            steps,
        }));
        Progress { bar, steps }
    }

    /// A step of `main`'s own (rendering), timed like the library's.
    fn phase(&self, what: &str) {
        self.steps.switch(Some(what));
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.steps.switch(None);
    }

    /// `--timings`: each step's wall time in the order they ran (a step that ran several
    /// times, as in a backfill, once with its sum and count), and the whole run's.
    fn table(&self, started: Instant) -> String {
        let mut rows: Vec<(String, Duration, usize)> = Vec::new();
        for (what, took) in self.steps.done() {
            // A phase that counts (`backfill: 3 of 24 dates`) is one stage, not 24 rows.
            let what = counted(&what);
            match rows.iter_mut().find(|(name, _, _)| *name == what) {
                Some(row) => {
                    row.1 += took;
                    row.2 += 1;
                }
                None => rows.push((what, took, 1)),
            }
        }
        let mut out = String::from("forkdrift timings (wall clock):\n");
        for (what, took, count) in rows {
            let times = if count > 1 {
                format!(" (×{count})")
            } else {
                String::new()
            };
            out.push_str(&format!("  {:>8.3} s  {what}{times}\n", took.as_secs_f64()));
        }
        out.push_str(&format!(
            "  {:>8.3} s  total\n",
            started.elapsed().as_secs_f64()
        ));
        out
    }
}

/// A phase's name with its counters (runs of digits) folded into `…`.
fn counted(what: &str) -> String {
    let mut out = String::with_capacity(what.len());
    let mut in_number = false;
    for c in what.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('…');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
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
    if let (Some((path, kept)), true) = (&outcome.demo, terminal) {
        out.extend(text::demo_header(path, *kept, style).into_bytes());
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
    // An exit status of 1 with nothing saying why reads as a failure of the tool.
    if outcome.exit_code() == exit::FINDINGS && terminal && verbosity > Verbosity::Quiet {
        page.stderr
            .push_str(&text::failing(&outcome.failing(), outcome.fail_on.as_str()));
    }
    Ok(page)
}
