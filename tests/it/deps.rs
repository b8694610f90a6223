//! Karafka's coupled gems: `forkdrift deps` and the `deps` section of audit and plan.

use crate::support::Fixture;
use forkdrift::model::Report;

fn run_json(fixture: &Fixture, args: &[&str]) -> (i32, Report) {
    let output = fixture.forkdrift(args).output().unwrap();
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code().unwrap(), report)
}

const COMMAND: &str = "bundle update karafka karafka-core rdkafka waterdrop karafka-web";

#[test]
fn karafka_24_with_web_08_is_a_lockstep_finding_with_the_command() {
    let fixture = Fixture::build("karafka-deps");
    let (code, report) = run_json(&fixture, &["deps", "--format", "json"]);
    assert_eq!(code, 1, "FD501 is an error");
    let deps = report.deps.as_ref().expect("the fork has a Gemfile.lock");
    assert_eq!(deps.lockfile, "Gemfile.lock");
    assert_eq!(deps.command, COMMAND);
    let gems: Vec<(&str, &str, &str)> = deps
        .gems
        .iter()
        .map(|g| (g.name.as_str(), g.version.as_str(), g.source.as_str()))
        .collect();
    assert_eq!(
        gems,
        [
            ("karafka", "2.4.2", "gem"),
            ("karafka-core", "2.4.0", "gem"),
            ("karafka-rdkafka", "0.15.1", "gem"),
            ("waterdrop", "2.7.0", "gem"),
            ("karafka-web", "0.8.0", "path"),
        ]
    );
    let web = &deps.gems[4];
    assert_eq!(web.newest_in_series.as_deref(), Some("0.8.2"));
    assert_eq!(deps.gems[2].locked_as.as_deref(), Some("rdkafka"));
    assert_eq!(deps.gems[2].platforms, ["x86_64-linux"]);

    let ours: Vec<(&str, &str, &str)> = report
        .findings
        .iter()
        .filter(|f| deps.findings.contains(&f.fingerprint))
        .map(|f| (f.id.as_str(), f.path.as_str(), f.message.as_str()))
        .collect();
    assert!(ours.contains(&(
        "FD501",
        "Gemfile.lock",
        "karafka 2.4.2 and karafka-web 0.8.0 do not go together: karafka 2.4 goes with karafka-web 0.9 or 0.10"
    )), "{ours:#?}");
    assert!(
        ours.contains(&(
            "FD502",
            "Gemfile.lock",
            "karafka 2.4.2 is outside karafka-web's requirement `>= 2.3.0, < 2.4.0` (as locked)"
        )),
        "{ours:#?}"
    );
    assert!(ours.contains(&(
        "FD502",
        "karafka-web.gemspec",
        "karafka 2.4.2 is outside karafka-web's requirement `>= 2.3.0, < 2.4.0` (karafka-web.gemspec)"
    )), "{ours:#?}");
    assert!(
        ours.contains(&(
            "FD503",
            "Gemfile.lock",
            "karafka-web 0.8.0 is behind 0.8.2, the newest 0.8 release upstream has"
        )),
        "{ours:#?}"
    );
    let behind = report.findings.iter().find(|f| f.id == "FD503").unwrap();
    assert_eq!(
        behind.help.as_deref(),
        Some("merge upstream's v0.8.2 into the fork (`forkdrift plan --to 0.8.2`)")
    );
    let lockstep = report.findings.iter().find(|f| f.id == "FD501").unwrap();
    assert!(
        lockstep
            .help
            .as_deref()
            .unwrap()
            .contains(&format!("`{COMMAND}`"))
    );

    // The same section in audit and plan, and on the terminal.
    let (_, audit) = run_json(
        &fixture,
        &["audit", "--format", "json", "--fail-on", "never"],
    );
    assert_eq!(audit.deps.as_ref(), Some(deps));
    let output = fixture.forkdrift(&["deps"]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Coupled gems (Gemfile.lock)"), "{text}");
    assert!(
        text.contains(&format!("move them together: {COMMAND}")),
        "{text}"
    );
    let output = fixture
        .forkdrift(&["deps", "--format", "markdown"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("### Coupled gems (Gemfile.lock)"), "{text}");
    let output = fixture
        .forkdrift(&["deps", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_plan_from_08_to_011_takes_one_hop_per_minor_with_notes() {
    let fixture = Fixture::build("karafka-deps");
    let (_, report) = run_json(
        &fixture,
        &[
            "plan",
            "--to",
            "v0.11.0",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let plan = report.plan.as_ref().unwrap();
    let versions: Vec<&str> = plan.hops.iter().map(|h| h.version.as_str()).collect();
    assert_eq!(versions, ["0.8.2", "0.9.0", "0.10.0", "0.11.0"]);
    let nine = &plan.hops[1];
    assert!(nine.notes[0].breaking);
    assert_eq!(
        nine.notes[0].text,
        "0.9.0: **[Breaking]** Require karafka 2.4."
    );
    assert!(report.deps.is_some());
}

#[test]
fn the_forks_own_pins_are_listed_per_package_across_the_layout_change() {
    let fixture = Fixture::build("pins");
    let (_, report) = run_json(
        &fixture,
        &["audit", "--format", "json", "--fail-on", "never"],
    );
    type Row<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
    );
    let rows: Vec<Row> = report
        .pins
        .iter()
        .map(|p| {
            (
                p.package.as_str(),
                p.old.as_deref(),
                p.fork.as_deref(),
                p.target.as_deref(),
                p.path.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "aiohttp",
                Some("==3.8.5"),
                Some("==3.9.1"),
                Some("==3.12.14"),
                "requirements/framework.txt"
            ),
            (
                "httpx",
                None,
                Some("==0.27.0"),
                None,
                "requirements/framework.txt"
            ),
        ]
    );
    let mut messages: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.id == "FD504")
        .map(|f| f.message.as_str())
        .collect();
    messages.sort();
    assert_eq!(
        messages,
        [
            "the fork pins aiohttp ==3.9.1 (upstream ==3.8.5, the target ==3.12.14)",
            "the fork pins httpx ==0.27.0 (upstream unpinned, the target unpinned)",
        ]
    );
    let output = fixture
        .forkdrift(&["audit", "--fail-on", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Dependency pins the fork changed"), "{text}");
    let output = fixture.forkdrift(&["deps"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "FD504 is a warning");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("aiohttp") && text.contains("FD504"), "{text}");
    let output = fixture
        .forkdrift(&["deps", "--fail-on", "warning"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}
