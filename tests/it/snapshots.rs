//! What a person reads: the terminal and Markdown reports, the plan and its refusal, the
//! bookkeeping view, `explain`, and diagnostics — without colour, temporary paths redacted.

use crate::support::Fixture;

fn output(fixture: &Fixture, args: &[&str]) -> (String, String) {
    let output = fixture.forkdrift(args).output().unwrap();
    let redact = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes).replace(&fixture.temp.path().display().to_string(), "[TEMP]")
    };
    (redact(&output.stdout), redact(&output.stderr))
}

#[test]
fn terminal_report() {
    let fixture = Fixture::build("demo");
    let (stdout, _) = output(&fixture, &["audit", "--hops"]);
    insta::assert_snapshot!(stdout);
}

#[test]
fn markdown_report() {
    let fixture = Fixture::build("release-branch");
    let (stdout, _) = output(&fixture, &["audit", "--format", "markdown"]);
    insta::assert_snapshot!(stdout);
}

#[test]
fn plan_and_refusal() {
    let fixture = Fixture::build("protocol");
    let (stdout, stderr) = output(&fixture, &["plan"]);
    insta::assert_snapshot!("plan", stdout);
    insta::assert_snapshot!("refusal", stderr);
    let (stdout, _) = output(&fixture, &["plan", "--format", "markdown"]);
    insta::assert_snapshot!("plan_markdown", stdout);
}

#[test]
fn bookkeeping_view() {
    let fixture = Fixture::build("upstream-work");
    let (stdout, _) = output(&fixture, &["candidates"]);
    insta::assert_snapshot!(stdout);
}

#[test]
fn explanation() {
    let fixture = Fixture::build("restructure");
    let (stdout, _) = output(&fixture, &["explain", "connectors/config.py"]);
    insta::assert_snapshot!(stdout);
}

#[test]
fn diagnostics() {
    let fixture = Fixture::build("minimal");
    fixture.git(&["remote", "rename", "upstream", "origin"]);
    let (_, stderr) = output(&fixture, &["audit"]);
    insta::assert_snapshot!("no_remote", stderr);
    let (_, stderr) = output(
        &fixture,
        &["audit", "--upstream", "origin", "--to", "origin/nope"],
    );
    insta::assert_snapshot!("unknown_revision", stderr);
}
