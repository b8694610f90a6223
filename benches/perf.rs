//! Benchmarks for docs/PERFORMANCE.md. Each job is timed against the git plumbing that does
//! the same job, on the same repository, in the same run.
//!
//!     cargo bench --bench perf                          # the generated 5,000-file upstream
//!     cargo bench --bench perf -- --geth /path/to/go-ethereum   # and a 30-point sweep on it
//!     cargo bench --bench perf -- --keep DIR            # only write the generated repository
//!     cargo bench --bench perf -- --growth              # and the 1×, 2×, 4× growth table
//!     cargo bench --bench perf -- --repo DIR [--fork REV] [--to REV] [--rules PACK]
//!                                                       # only an existing repository
//!
//! 1. audit: a fork with 50 own commits (copies, in-place edits, framework edits) of an
//!    elastic-shaped upstream of 5,000 files that moved on by 2,000 commits. Yardstick: the
//!    plumbing that does an audit's jobs, as issue 12 lists it — merge-base, rev-list of own
//!    commits, merge-tree of fork and of fork point with the target, log of upstream churn,
//!    the fork's diff with `-C -C --find-copies-harder`, upstream's diff with `-M`, `git
//!    cherry` — and its narrow part without copies and upstream matching.
//! 2. sweep: 30 release points of a real repository (go-ethereum), each merged with the fork
//!    and with its fork point. Yardstick: `git merge-tree --write-tree` run once per merge.
#![allow(clippy::print_stdout)]

use forkdrift::commands::audit::audit;
use forkdrift::repo::Repo;
use forkdrift::repo::collect::{self, Selection};
use forkdrift::repo::git::Git;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

/// Deterministic pseudo-random numbers: the same repository every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    git_in_store(dir, None, args)
}

/// git in `dir`; with `store = (scratch, objects)`, objects it writes go to the scratch
/// directory and the repository's are only read — as forkdrift runs git.
fn git_in_store(dir: &Path, store: Option<(&Path, &Path)>, args: &[&str]) -> String {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(args);
    if let Some((scratch, objects)) = store {
        command
            .env("GIT_OBJECT_DIRECTORY", scratch)
            .env("GIT_ALTERNATE_OBJECT_DIRECTORIES", objects);
    }
    let output = command.output().unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Feeds a fast-import stream to the repository at `dir`.
fn fast_import(dir: &Path, stream: &str) {
    let mut child = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["fast-import", "--quiet", "--done"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time<T>(f: impl FnMut() -> T) -> (Duration, T) {
    let mut f = f;
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        last = Some(f());
        times.push(started.elapsed());
    }
    (median(times), last.unwrap())
}

/// What the generated fork and upstream are made of; the growth table doubles one at a time.
#[derive(Clone, Copy)]
struct Shape {
    files: usize,
    upstream: u64,
    own: u64,
    /// Framework files both sides rewrite: one content conflict each, on top of the conflicts
    /// the other edits happen to make.
    conflicts: usize,
}

impl Shape {
    const BASE: Shape = Shape {
        files: 5000,
        upstream: 2000,
        own: 50,
        conflicts: 0,
    };
}

fn module(name: &str, seed: u64, lines: usize) -> String {
    let mut rng = Lcg(seed);
    let mut text = format!(
        "from connectors.source import BaseDataSource\n\n\nclass {name}DataSource(BaseDataSource):\n"
    );
    for i in 0..lines {
        let _ = writeln!(
            text,
            "    def step_{i}_{}(self, value):\n        return value * {} + {}",
            rng.below(1000),
            rng.below(97),
            rng.below(10_000)
        );
    }
    text
}

/// Writes the generated upstream and fork with one fast-import stream.
fn generate(dir: &Path, shape: Shape) -> PathBuf {
    let repo = dir.join("fork");
    git(
        dir,
        &[
            "init",
            "--quiet",
            "--initial-branch=main",
            repo.to_str().unwrap(),
        ],
    );
    let mut stream = String::new();
    let mut rng = Lcg(7);
    let mut mark = 0;
    let mut when = 1_600_000_000i64;
    let mut commit = |stream: &mut String,
                      branch: &str,
                      message: &str,
                      from: Option<usize>,
                      files: &[(String, String)]|
     -> usize {
        mark += 1;
        // Commits 8⅓ hours apart: the 2,050 commits span two years, so that a monthly
        // backfill meets a different upstream at each point.
        when += 30_000;
        let _ = write!(
            stream,
            "commit {branch}\nmark :{mark}\nauthor Dev <dev@example.com> {when} +0000\ncommitter Dev <dev@example.com> {when} +0000\ndata {}\n{message}\n",
            message.len()
        );
        if let Some(from) = from {
            let _ = writeln!(stream, "from :{from}");
        }
        for (path, content) in files {
            let _ = write!(
                stream,
                "M 100644 inline {path}\ndata {}\n{content}\n",
                content.len()
            );
        }
        stream.push('\n');
        mark
    };

    // 100 connectors, their tests, 4,600 framework and other files: 5,000 in all.
    let mut files: Vec<(String, String)> = Vec::new();
    let mut sources =
        String::from("def _default_config():\n    return {\n        \"sources\": {\n");
    for i in 0..100 {
        let name = format!("src{i:03}");
        let _ = writeln!(
            sources,
            "            \"{name}\": \"connectors.sources.{name}:Src{i:03}DataSource\","
        );
        files.push((
            format!("connectors/sources/{name}.py"),
            module(&format!("Src{i:03}"), i, 60),
        ));
        files.push((
            format!("tests/sources/test_{name}.py"),
            module(&format!("TestSrc{i:03}"), 1000 + i, 20),
        ));
    }
    sources.push_str("        },\n    }\n");
    files.push(("connectors/config.py".into(), sources));
    files.push(("connectors/VERSION".into(), "8.10.0.0\n".into()));
    let others = shape.files - 202;
    for i in 0..others {
        let dir = [
            "connectors/es",
            "connectors/services",
            "connectors/protocol",
            "docs",
            "scripts",
            "lib/util",
        ][i % 6];
        files.push((
            format!("{dir}/part{}/file{i:04}.py", i % 40),
            module(&format!("Part{i}"), 5000 + i as u64, 8),
        ));
    }
    for k in 0..shape.conflicts {
        files.push((
            format!("connectors/shared/conflict{k:03}.py"),
            module(&format!("Shared{k}"), 7000 + k as u64, 8),
        ));
    }
    assert_eq!(files.len(), shape.files + shape.conflicts);
    let base = commit(
        &mut stream,
        "refs/remotes/upstream/main",
        "Initial import (#1)",
        None,
        &files,
    );
    let _ = write!(stream, "reset refs/tags/v8.10.0.0\nfrom :{base}\n\n");

    // The fork: 50 own commits on the base release.
    let mut tip = base;
    for i in 0..shape.own {
        let change: Vec<(String, String)> = match i % 5 {
            0 => {
                let source = rng.below(100);
                vec![(
                    format!("connectors/sources/acme{i}.py"),
                    module(&format!("Acme{i}"), source, 60)
                        .replace(&format!("Src{source:03}"), &format!("Acme{i}")),
                )]
            }
            1 | 2 => vec![(
                format!("connectors/sources/src{:03}.py", rng.below(100)),
                module("Fork", 90_000 + i, 61),
            )],
            3 => vec![(
                format!(
                    "connectors/es/part{}/file{:04}.py",
                    (i * 6 % others as u64) % 40,
                    i * 6 % others as u64
                ),
                module("ForkFramework", 91_000 + i, 9),
            )],
            _ => vec![(format!("docs/fork-notes-{i}.md"), format!("notes {i}\n"))],
        };
        tip = commit(
            &mut stream,
            "refs/heads/main",
            &format!("Fork change {i}"),
            Some(tip),
            &change,
        );
    }

    let rewrite = |side: &str, seed: u64| -> Vec<(String, String)> {
        (0..shape.conflicts)
            .map(|k| {
                (
                    format!("connectors/shared/conflict{k:03}.py"),
                    module(side, seed + k as u64, 8),
                )
            })
            .collect()
    };
    if shape.conflicts > 0 {
        commit(
            &mut stream,
            "refs/heads/main",
            "Fork rewrites the shared modules",
            Some(tip),
            &rewrite("Fork", 95_000),
        );
    }

    // Upstream moves on by 2,000 commits, with a release every 250.
    let mut upstream = base;
    for i in 0..shape.upstream {
        let path = if i % 10 == 0 {
            format!("connectors/sources/src{:03}.py", rng.below(100))
        } else {
            let n = rng.below(others as u64) as usize;
            let dir = [
                "connectors/es",
                "connectors/services",
                "connectors/protocol",
                "docs",
                "scripts",
                "lib/util",
            ][n % 6];
            format!("{dir}/part{}/file{n:04}.py", n % 40)
        };
        let mut change = vec![(path, module("Upstream", 200_000 + i, 10))];
        if i % 250 == 249 {
            change.push((
                "connectors/VERSION".into(),
                format!("8.{}.0.0\n", 11 + i / 250),
            ));
        }
        upstream = commit(
            &mut stream,
            "refs/remotes/upstream/main",
            &format!("Upstream change {i} (#{})", 100 + i),
            Some(upstream),
            &change,
        );
        if i % 250 == 249 {
            let version = 11 + i / 250;
            let _ = write!(
                stream,
                "reset refs/tags/v8.{version}.0.0\nfrom :{upstream}\n\n"
            );
            let _ = write!(
                stream,
                "reset refs/remotes/upstream/8.{version}\nfrom :{upstream}\n\n"
            );
        }
    }
    if shape.conflicts > 0 {
        commit(
            &mut stream,
            "refs/remotes/upstream/main",
            "Upstream rewrites the shared modules (#99999)",
            Some(upstream),
            &rewrite("Upstream", 96_000),
        );
    }
    stream.push_str("done\n");
    fast_import(&repo, &stream);
    git(
        &repo,
        &[
            "symbolic-ref",
            "refs/remotes/upstream/HEAD",
            "refs/remotes/upstream/main",
        ],
    );
    git(&repo, &["config", "remote.upstream.url", "../upstream.git"]);
    git(&repo, &["reset", "--hard", "--quiet"]);
    repo
}

/// The git plumbing that does an audit's jobs, run as forkdrift runs git (objects written to
/// a scratch directory), as issue 12 defines it: merge-base, the own commits, both merges,
/// the log of upstream's changes to the fork's paths, the fork's diff with copies found as
/// `-C -C --find-copies-harder` finds them, upstream's diff with renames, and `git cherry`
/// (patch-ids of the own commits against upstream's). Returns the time of the first five,
/// the narrower yardstick of the first rounds (no copies, no upstream matching).
fn plumbing(path: &Path, objects: &Path, run: &forkdrift::model::Report, remote: &str) -> Duration {
    let started = Instant::now();
    let scratch = tempfile::tempdir().unwrap();
    let (fork, target, base, point) = (
        &run.fork.commit,
        &run.target.commit,
        &run.merge_base,
        &run.fork_point,
    );
    let store = Some((scratch.path(), objects));
    git_in_store(path, store, &["merge-base", fork, target]);
    let remotes = format!("--remotes={remote}");
    git_in_store(
        path,
        store,
        &["rev-list", fork, "--not", &remotes, "--tags"],
    );
    git_in_store(path, store, &["diff", "--numstat", "-M", base, fork]);
    git_in_store(path, store, &["merge-tree", "--write-tree", fork, target]);
    git_in_store(path, store, &["merge-tree", "--write-tree", point, target]);
    let mut log = vec!["log", "--format=%H", "--name-only", "--no-merges"];
    let range = format!("{point}..{target}");
    log.push(&range);
    log.push("--");
    let paths: Vec<&str> = run.changes.iter().map(|c| c.path.as_str()).collect();
    log.extend(paths);
    git_in_store(path, store, &log);
    let narrow = started.elapsed();
    git_in_store(
        path,
        store,
        &[
            "diff",
            "--numstat",
            "-C",
            "-C",
            "--find-copies-harder",
            base,
            fork,
        ],
    );
    git_in_store(path, store, &["diff", "--numstat", "-M", base, target]);
    git_in_store(path, store, &["cherry", target, fork]);
    narrow
}

/// [`plumbing`] [`RUNS`] times: the medians of the whole yardstick and of its narrow part.
fn time_plumbing(
    path: &Path,
    objects: &Path,
    run: &forkdrift::model::Report,
    remote: &str,
) -> (Duration, Duration) {
    let mut narrow = Vec::new();
    let (full, _) = time(|| narrow.push(plumbing(path, objects, run, remote)));
    (full, median(narrow))
}

/// The peak resident set of this process so far (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn bench_audit(temp: &Path) {
    let started = Instant::now();
    let path = generate(temp, Shape::BASE);
    println!(
        "generated 5,000 files, 50 own commits, 2,000 upstream commits in {:.1?}",
        started.elapsed()
    );
    let repo = Repo::open(&path).unwrap();
    let git = Git::hermetic();
    let selection = Selection::default();
    let (ours, run) = time(|| audit(&repo, &git, &selection, false).unwrap().report);
    println!(
        "audit: {} changes ({} copies), {} conflicts, {} findings",
        run.changes.len(),
        run.changes
            .iter()
            .filter(|c| c.copied_from.is_some())
            .count(),
        run.conflicts.len(),
        run.findings.len()
    );
    let (hops, with_hops) = time(|| audit(&repo, &git, &selection, true).unwrap().report);
    let objects = path.join(".git/objects");
    let (yardstick, narrow) = time_plumbing(&path, &objects, &run, "upstream");
    println!(
        "audit                     {:>8.2?}   git plumbing of the same job {:>8.2?}   ratio {:.1}   (narrow plumbing {:>8.2?}, ratio {:.1})",
        ours,
        yardstick,
        ours.as_secs_f64() / yardstick.as_secs_f64(),
        narrow,
        ours.as_secs_f64() / narrow.as_secs_f64()
    );
    println!(
        "audit --hops ({} hops)     {:>8.2?}",
        with_hops.hops.len(),
        hops
    );
    bench_backfill(&repo, &git, temp);
}

/// The audit at 1×, 2× and 4× of one dimension at a time, with the plumbing beside it: what
/// grows the cost, and whether it grows as git's does.
fn bench_growth(temp: &Path) {
    println!("growth: dimension  ×  audit  plumbing  ratio  (changes, conflicts)");
    type Scale = fn(Shape, usize) -> Shape;
    let dimensions: [(&str, Scale); 4] = [
        ("files", |s, k| Shape {
            files: s.files * k,
            ..s
        }),
        ("upstream commits", |s, k| Shape {
            upstream: s.upstream * k as u64,
            ..s
        }),
        ("own commits", |s, k| Shape {
            own: s.own * k as u64,
            ..s
        }),
        ("conflicts", |s, k| Shape {
            conflicts: 20 * k,
            ..s
        }),
    ];
    for (name, scale) in dimensions {
        for k in [1, 2, 4] {
            let dir = temp.join(format!("growth-{}-{k}", name.replace(' ', "-")));
            std::fs::create_dir_all(&dir).unwrap();
            let path = generate(&dir, scale(Shape::BASE, k));
            let repo = Repo::open(&path).unwrap();
            let git = Git::hermetic();
            let (ours, run) = time(|| {
                audit(&repo, &git, &Selection::default(), false)
                    .unwrap()
                    .report
            });
            let objects = path.join(".git/objects");
            let (yardstick, _) = time_plumbing(&path, &objects, &run, "upstream");
            println!(
                "growth: {name:<17} {k}×  {:>8.2?}  {:>8.2?}  {:>5.1}  ({}, {})",
                ours,
                yardstick,
                ours.as_secs_f64() / yardstick.as_secs_f64(),
                run.changes.len(),
                run.conflicts.len()
            );
            drop(repo);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

/// An existing repository: `--repo DIR [--fork REV] [--to REV] [--rules PACK]`. The audit runs
/// first, so the process's peak resident set is the audit's; git's is measured by GNU time.
fn bench_real(args: &[String]) {
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|at| args[at + 1].clone())
    };
    let path = PathBuf::from(value("--repo").unwrap());
    let selection = Selection {
        fork: value("--fork").unwrap_or_else(|| "HEAD".into()),
        to: value("--to"),
        rules: value("--rules"),
        ..Selection::default()
    };
    let repo = Repo::open(&path).unwrap();
    let git = Git::hermetic();
    let (ours, run) = time(|| audit(&repo, &git, &selection, false).unwrap().report);
    let rss = peak_rss_mib();
    let objects = repo.objects_dir();
    let (yardstick, narrow) = time_plumbing(&path, &objects, &run, "upstream");
    println!(
        "{}: {} own commits, {} changes, {} conflicts",
        path.display(),
        run.own_commits.len(),
        run.changes.len(),
        run.conflicts.len()
    );
    println!(
        "audit {:>8.2?}   git plumbing of the same job {:>8.2?}   ratio {:.1}   peak RSS {} MiB   (narrow plumbing {:>8.2?}, ratio {:.1})",
        ours,
        yardstick,
        ours.as_secs_f64() / yardstick.as_secs_f64(),
        rss.map_or("?".into(), |m| format!("{m:.0}")),
        narrow,
        ours.as_secs_f64() / narrow.as_secs_f64()
    );
}

/// `report --backfill monthly` over the 24 months of the generated history, then up to today.
fn bench_backfill(repo: &Repo, git: &Git, temp: &Path) {
    let last = forkdrift::time::parse_iso("2022-07-25").unwrap();
    let since = forkdrift::time::add_months(last, 0) - 730 * forkdrift::time::DAY;
    let out = temp.join("report");
    let started = Instant::now();
    let run = forkdrift::commands::report::report(
        repo,
        git,
        &Selection::default(),
        &out,
        &out.join("history.jsonl"),
        Some(&forkdrift::commands::report::Backfill {
            cadence: forkdrift::commands::report::Cadence::Monthly,
            since,
        }),
        &mut |_, _| {},
    )
    .unwrap();
    let distinct: std::collections::BTreeSet<(String, String)> = run
        .history
        .iter()
        .map(|m| (m.fork.clone(), m.target.clone()))
        .collect();
    println!(
        "report --backfill monthly: {} dates ({} distinct fork and target pairs) {:>8.2?}",
        run.history.len(),
        distinct.len(),
        started.elapsed()
    );
}

fn bench_sweep(temp: &Path, geth: &Path) {
    // A fork of go-ethereum: 20 own commits on v1.14.0, in a clone that borrows the objects.
    let fork = temp.join("geth");
    git(
        temp,
        &[
            "clone",
            "--quiet",
            "--shared",
            "--bare",
            geth.to_str().unwrap(),
            fork.to_str().unwrap(),
        ],
    );
    let tags: Vec<String> = git(&fork, &["tag", "--sort=version:refname"])
        .lines()
        .filter(|t| t.starts_with("v1.") && t.matches('.').count() == 2 && !t.contains('-'))
        .map(str::to_string)
        .collect();
    let start = tags
        .iter()
        .position(|t| t == "v1.14.0")
        .expect("go-ethereum has v1.14.0");
    let points: Vec<&String> = tags[start + 1..].iter().take(30).collect();
    let mut stream = String::new();
    let mut when = 1_700_000_000i64;
    for i in 0..20 {
        when += 3600;
        let from = if i == 0 {
            "from refs/tags/v1.14.0\n".to_string()
        } else {
            String::new()
        };
        let path = [
            "core/blockchain.go",
            "eth/handler.go",
            "p2p/server.go",
            "README.md",
            "params/config.go",
        ][i % 5];
        let content = git(&fork, &["show", &format!("v1.14.0:{path}")]).replacen(
            "package",
            &format!("// fork change {i}\npackage"),
            1,
        );
        let message = format!("fork change {i}");
        let _ = write!(
            stream,
            "commit refs/heads/fork\nauthor F <f@example.com> {when} +0000\ncommitter F <f@example.com> {when} +0000\ndata {}\n{message}\n{from}M 100644 inline {path}\ndata {}\n{content}\n\n",
            message.len(),
            content.len()
        );
    }
    stream.push_str("done\n");
    fast_import(&fork, &stream);

    let pack = temp.join("geth.toml");
    std::fs::write(
        &pack,
        "name = \"geth\"\ndescription = \"benchmark\"\n[[zone]]\nkind = \"other\"\npaths = [\"**\"]\n[versions]\nscheme = \"dotted\"\ntags = '''^v(?P<version>\\d+\\.\\d+\\.\\d+)$'''\n",
    )
    .unwrap();
    let repo = Repo::open(&fork).unwrap();
    let selection = Selection {
        fork: "fork".into(),
        to: Some(points.last().unwrap().to_string()),
        rules: Some(pack.to_string_lossy().into_owned()),
        ..Selection::default()
    };
    let git_binary = Git::hermetic();
    let facts = collect::collect(&repo, &git_binary, &selection).unwrap();
    let release: Vec<_> = points
        .iter()
        .map(|tag| repo.resolve_commit(tag).unwrap())
        .collect();
    let (ours, merges) = time(|| {
        forkdrift::repo::later::merge_points(&repo, &git_binary, &facts, &release).unwrap()
    });
    let total: usize = merges.iter().map(|m| m.conflicts.len()).sum();
    let session = &facts;
    let scratch = tempfile::tempdir().unwrap();
    let (fork_id, point_id) = (session.fork.id.to_string(), session.fork_point.to_string());
    let objects = fork.join("objects");
    let run = |args: &[&str]| git_in_store(&fork, Some((scratch.path(), &objects)), args);
    let (per_hop, _) = time(|| {
        for point in &points {
            run(&["merge-tree", "--write-tree", "--name-only", &fork_id, point]);
            run(&[
                "merge-tree",
                "--write-tree",
                "--name-only",
                &point_id,
                point,
            ]);
        }
    });
    println!(
        "sweep of {} release points ({} merges, {} conflicted paths)  {:>8.0?}   git merge-tree per merge {:>8.0?}   ratio {:.2}",
        points.len(),
        points.len() * 2,
        total,
        ours,
        per_hop,
        ours.as_secs_f64() / per_hop.as_secs_f64()
    );
    let (full, report) = time(|| audit(&repo, &git_binary, &selection, true).unwrap().report);
    println!(
        "audit --hops of the go-ethereum fork ({} hops, {} own commits)  {:>8.0?}",
        report.hops.len(),
        report.own_commits.len(),
        full
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `--keep DIR` only writes the generated repository there, for profiling by hand.
    if let Some(at) = args.iter().position(|a| a == "--keep") {
        let dir = Path::new(&args[at + 1]);
        std::fs::create_dir_all(dir).unwrap();
        println!("generated {}", generate(dir, Shape::BASE).display());
        return;
    }
    if args.iter().any(|a| a == "--repo") {
        bench_real(&args);
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    println!("git: {}", git(temp.path(), &["--version"]).trim());
    bench_audit(temp.path());
    if args.iter().any(|a| a == "--growth") {
        bench_growth(temp.path());
    }
    if let Some(at) = args.iter().position(|a| a == "--geth") {
        bench_sweep(temp.path(), Path::new(&args[at + 1]));
    }
}
