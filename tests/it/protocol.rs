//! Issue 4: the protocol gate (exit 3), acceptances, and the upgrade plan.

use crate::support::Fixture;
use forkdrift::model::Report;
use predicates::prelude::*;

fn audit_json(fixture: &Fixture, args: &[&str]) -> (i32, Report) {
    let mut all = vec!["audit", "--format", "json", "--fail-on", "never"];
    all.extend_from_slice(args);
    let output = fixture.forkdrift(&all).output().unwrap();
    let report =
        serde_json::from_slice(&output.stdout).expect("the full report is written, refused or not");
    (output.status.code().unwrap(), report)
}

fn details(report: &Report) -> Vec<String> {
    let protocol = report.protocol.as_ref().unwrap();
    protocol
        .anchors
        .iter()
        .flat_map(|a| a.changes.iter().map(|c| c.detail.clone()))
        .collect()
}

#[test]
fn typo_fixes_and_a_new_diagram_are_prose() {
    let fixture = Fixture::build("protocol");
    let (code, report) = audit_json(&fixture, &["--to", "v8.11.0.0"]);
    assert_eq!(code, 0);
    let protocol = report.protocol.unwrap();
    assert_eq!(protocol.verdict, "prose");
    assert_eq!(protocol.anchors[0].verdict, "prose");
    assert!(protocol.anchors.iter().all(|a| a.changes.is_empty()));
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.kind.as_str() == "protocol-change" && f.severity.as_str() == "note")
    );
}

#[test]
fn a_changed_protocol_module_whose_values_held_is_a_warning_not_a_verdict() {
    let fixture = Fixture::build("protocol");
    let (code, report) = audit_json(&fixture, &["--fork", "mid", "--to", "v8.12.0.0"]);
    assert_eq!(code, 0);
    let protocol = report.protocol.as_ref().unwrap();
    assert_eq!(protocol.verdict, "none", "the document and the enums held");
    assert_eq!(protocol.warnings.len(), 1);
    let warning = &protocol.warnings[0];
    assert_eq!(warning.path, "connectors/protocol/connectors.py");
    assert_eq!(warning.commits.len(), 1);
    assert_eq!(warning.commits[0].commit, fixture.id("heartbeat"));
    assert_eq!(warning.commits[0].prs, vec![1650]);
    let kinds: Vec<(&str, &str)> = report
        .findings
        .iter()
        .filter(|f| f.kind.as_str().starts_with("protocol"))
        .map(|f| (f.id.as_str(), f.severity.as_str()))
        .collect();
    assert_eq!(kinds, vec![("FD303", "warning")]);

    // The same in the hop rows: the verdict from documents and values, the file as a warning.
    let output = fixture
        .forkdrift(&[
            "audit",
            "--fork",
            "mid",
            "--to",
            "v8.12.0.0",
            "--hops",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: Report = serde_json::from_slice(&output.stdout).unwrap();
    let hop = report.hops.last().unwrap();
    assert_eq!(hop.protocol.as_deref(), Some("none"));
    assert_eq!(
        hop.protocol_warnings,
        vec!["connectors/protocol/connectors.py"]
    );
}

#[test]
fn an_added_field_refuses_the_upgrade_with_exit_3_and_still_writes_the_report() {
    let fixture = Fixture::build("protocol");
    let (code, report) = audit_json(&fixture, &["--to", "v8.13.0.0"]);
    assert_eq!(code, 3);
    assert_eq!(report.protocol.as_ref().unwrap().verdict, "schema");
    assert_eq!(
        details(&report),
        vec![
            "+ connector.api_key_secret_id: string",
            "+ mappings.elastic_connectors.api_key_secret_id: keyword"
        ]
    );
    let change = &report.protocol.as_ref().unwrap().anchors[0].changes[0];
    assert_eq!(change.commits[0].commit, fixture.id("api-key"));
    assert_eq!(change.commits[0].prs, vec![2115]);
    assert_eq!(change.first_release.as_deref(), Some("v8.13.0.0"));
    // The terminal says why and what to do, on stderr.
    fixture
        .forkdrift(&["audit", "--to", "v8.13.0.0", "--fail-on", "never"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "refusing to upgrade to v8.13.0.0: the protocol changed in substance",
        ))
        .stderr(predicate::str::contains(
            "+ connector.api_key_secret_id: string  (#2115)  first released in v8.13.0.0",
        ))
        .stderr(predicate::str::contains("help: read the release notes"))
        .stderr(predicate::str::contains(
            "take a snapshot of your data first",
        ))
        .stderr(predicate::str::contains(
            "forkdrift accept-protocol --to v8.13.0.0",
        ));
}

#[test]
fn an_added_enum_value_in_code_is_a_schema_change() {
    let fixture = Fixture::build("protocol");
    let (code, report) = audit_json(&fixture, &["--fork", "late", "--to", "v8.16.0"]);
    assert_eq!(code, 3);
    assert_eq!(details(&report), vec!["+ JobStatus.PAUSED: paused"]);
    let anchor = report
        .protocol
        .as_ref()
        .unwrap()
        .anchors
        .iter()
        .find(|a| a.kind == "values")
        .unwrap();
    assert_eq!(
        (anchor.name.as_str(), anchor.verdict.as_str()),
        ("protocol enums", "schema")
    );
}

#[test]
fn a_constant_whose_quotes_changed_is_no_change() {
    let fixture = Fixture::build("karafka-web");
    let (code, report) = audit_json(&fixture, &["--to", &fixture.id("standardrb")]);
    assert_eq!(code, 0);
    assert_eq!(report.pack, "karafka-web");
    assert_eq!(report.protocol.as_ref().unwrap().verdict, "none");
    let (code, report) = audit_json(&fixture, &["--to", "v0.11.6"]);
    assert_eq!(code, 3);
    assert_eq!(details(&report), vec!["~ SCHEMA_VERSION: 1.5.0 → 1.6.0"]);
}

#[test]
fn the_fork_editing_a_protocol_anchor_is_an_error() {
    let fixture = Fixture::build("protocol");
    let (_, report) = audit_json(&fixture, &["--fork", "edit", "--to", "v8.11.0.0"]);
    let finding = report
        .findings
        .iter()
        .find(|f| f.kind.as_str() == "protocol-edit")
        .expect("a protocol-edit finding");
    assert_eq!(
        (
            finding.severity.as_str(),
            finding.path.as_str(),
            finding.id.as_str()
        ),
        ("error", "docs/CONNECTOR_PROTOCOL.md", "FD301")
    );
}

#[test]
fn acceptance_passes_exactly_the_reviewed_protocol() {
    let fixture = Fixture::build("protocol");
    fixture
        .forkdrift(&["accept-protocol", "--to", "v8.13.0.0", "--why", "reviewed"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "who accepts the protocol is unknown",
        ))
        .stderr(predicate::str::contains("--by"));
    fixture
        .forkdrift(&[
            "accept-protocol",
            "--to",
            "v8.11.0.0",
            "--why",
            "prose",
            "--by",
            "R <r@example.com>",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("nothing to accept"));
    assert!(!fixture.path().join(".forkdrift.toml").exists());

    fixture
        .forkdrift(&[
            "accept-protocol",
            "--to",
            "v8.13.0.0",
            "--why",
            "our connectors never read api_key_secret_id",
            "--by",
            "Rita Reviewer <rita@fork.example>",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "accepted the protocol of v8.13.0.0 (2 schema changes",
        ));
    let text = std::fs::read_to_string(fixture.path().join(".forkdrift.toml")).unwrap();
    let config: toml::Value = toml::from_str(&text).unwrap();
    let accepted = &config["protocol"]["accepted"][0];
    assert_eq!(
        accepted["by"].as_str(),
        Some("Rita Reviewer <rita@fork.example>")
    );
    assert_eq!(
        accepted["why"].as_str(),
        Some("our connectors never read api_key_secret_id")
    );
    assert_eq!(accepted["target"].as_str(), Some("v8.13.0.0"));
    assert_eq!(
        accepted["commit"].as_str(),
        Some(fixture.id("refs/tags/v8.13.0.0").as_str())
    );
    assert!(forkdrift::time::parse_iso(accepted["at"].as_str().unwrap()).is_some());

    let (code, report) = audit_json(&fixture, &["--to", "v8.13.0.0"]);
    assert_eq!(code, 0, "the accepted protocol passes");
    assert!(report.protocol.as_ref().unwrap().accepted);
    assert_eq!(
        accepted["fingerprint"].as_str(),
        Some(report.protocol.as_ref().unwrap().fingerprint.as_str())
    );
    let (code, report) = audit_json(&fixture, &["--to", "v8.16.0"]);
    assert_eq!(code, 3, "a further change is refused again");
    assert!(!report.protocol.unwrap().accepted);
}

#[test]
fn the_plan_walks_five_releases_and_stops_where_the_protocol_needs_acceptance() {
    let fixture = Fixture::build("protocol");
    let plan = |fixture: &Fixture| {
        let output = fixture
            .forkdrift(&["plan", "--format", "json", "--fail-on", "never"])
            .output()
            .unwrap();
        let report: Report = serde_json::from_slice(&output.stdout).unwrap();
        (output.status.code().unwrap(), report.plan.unwrap())
    };
    let (code, first) = plan(&fixture);
    assert_eq!(code, 3);
    assert_eq!(first.from_version.as_deref(), Some("8.10.0.0"));
    let hops: Vec<(&str, &str, &str, bool)> = first
        .hops
        .iter()
        .map(|h| {
            (
                h.version.as_str(),
                h.name.as_str(),
                h.protocol.as_str(),
                h.needs_acceptance,
            )
        })
        .collect();
    assert_eq!(
        hops,
        vec![
            ("8.11.0.0", "upstream/8.11", "prose", false),
            ("8.12.0.0", "upstream/8.12", "none", false),
            ("8.13.0.0", "upstream/8.13", "schema", true),
        ]
    );
    assert_eq!(first.stopped_at.as_deref(), Some("8.13.0.0"));
    let stop = &first.hops[2];
    assert!(stop.checklist[0].starts_with("Review the protocol changes, then record them: `forkdrift accept-protocol --to upstream/8.13"));
    assert!(
        stop.checklist
            .iter()
            .any(|c| c.starts_with("Take an Elasticsearch snapshot first"))
    );
    assert_eq!(
        stop.notes
            .iter()
            .map(|n| n.text.as_str())
            .collect::<Vec<_>>(),
        vec!["Use API keys for native connector syncs (#2115)"]
    );

    fixture
        .forkdrift(&[
            "accept-protocol",
            "--to",
            "upstream/8.13",
            "--why",
            "reviewed",
            "--by",
            "R <r@example.com>",
        ])
        .assert()
        .success();
    let (code, second) = plan(&fixture);
    assert_eq!(code, 3);
    let versions: Vec<(&str, &str)> = second
        .hops
        .iter()
        .map(|h| (h.version.as_str(), h.protocol.as_str()))
        .collect();
    assert_eq!(
        versions,
        vec![
            ("8.11.0.0", "prose"),
            ("8.12.0.0", "none"),
            ("8.13.0.0", "schema"),
            ("8.15.0.0", "none"),
            ("8.16.0", "schema")
        ]
    );
    assert!(!second.hops[2].needs_acceptance);
    assert_eq!(second.stopped_at.as_deref(), Some("8.16.0"));
}

#[test]
fn plan_takes_a_version_as_its_target() {
    let fixture = Fixture::build("protocol");
    let output = fixture
        .forkdrift(&["plan", "--to", "8.12", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: Report = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report.target.name, "upstream/8.12");
    let versions: Vec<&str> = report
        .plan
        .as_ref()
        .unwrap()
        .hops
        .iter()
        .map(|h| h.version.as_str())
        .collect();
    assert_eq!(versions, vec!["8.11.0.0", "8.12.0.0"]);
    // `--hops`, as on audit, is what the plan does anyway.
    let with_hops = fixture
        .forkdrift(&["plan", "--to", "8.12", "--format", "json", "--hops"])
        .output()
        .unwrap();
    assert_eq!(with_hops.status.code(), Some(0));
    assert_eq!(with_hops.stdout, output.stdout);
}

#[test]
fn karafka_plans_list_breaking_changelog_entries_first_and_the_deploy_order() {
    let fixture = Fixture::build("karafka-web");
    let output = fixture
        .forkdrift(&["plan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report: Report = serde_json::from_slice(&output.stdout).unwrap();
    let hop = &report.plan.as_ref().unwrap().hops[0];
    assert_eq!(hop.version, "0.11.6");
    let notes: Vec<(bool, &str)> = hop
        .notes
        .iter()
        .map(|n| (n.breaking, n.text.as_str()))
        .collect();
    assert_eq!(
        notes,
        vec![
            (
                true,
                "0.11.6: [Enhancement] Report partition lag. Consumers report schema version bumped to 1.6.0."
            ),
            (true, "0.11.6: **[Breaking]** Drop Ruby 3.1 support."),
            (false, "0.11.6: [Fix] Keep the dashboard refresh interval."),
        ]
    );
    assert!(
        hop.checklist
            .iter()
            .any(|c| c.contains("Deploy all consumer processes first"))
    );
    assert!(hop.checklist.iter().any(|c| c == "Upgrade these together: karafka, karafka-rdkafka, karafka-core, waterdrop, karafka-web, karafka-testing."));
}

/// The Karafka guide: one minor at a time, read the changelog and the upgrade notes. From 0.8.0
/// the plan goes to the newest patch of each minor, with each minor's entries, the upgrade
/// notes among the breaking ones first.
#[test]
fn a_karafka_web_plan_from_08_to_011_hops_once_per_minor_with_its_upgrade_notes() {
    let fixture = Fixture::build("karafka-web-minors");
    let output = fixture
        .forkdrift(&["plan", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report: Report = serde_json::from_slice(&output.stdout).unwrap();
    let plan = report.plan.as_ref().unwrap();
    let hops: Vec<(&str, &str)> = plan
        .hops
        .iter()
        .map(|h| (h.version.as_str(), h.name.as_str()))
        .collect();
    assert_eq!(
        hops,
        [
            ("0.8.2", "v0.8.2"),
            ("0.9.1", "v0.9.1"),
            ("0.10.0", "v0.10.0"),
            ("0.11.2", "v0.11.2")
        ]
    );
    let notes = |index: usize| -> Vec<(bool, &str)> {
        plan.hops[index]
            .notes
            .iter()
            .map(|n| (n.breaking, n.text.as_str()))
            .collect()
    };
    assert_eq!(
        notes(1),
        [
            (true, "0.9.0: **[Breaking]** Require karafka 2.4."),
            (
                true,
                "0.9.0: Run `bundle exec karafka-web migrate` after the deploy of the consumers."
            ),
            (
                false,
                "0.9.1: [Fix] Keep the refresh interval across pages."
            ),
            (
                false,
                "0.9.0: [Feature] Data sharing between consumers reports."
            ),
        ]
    );
    assert_eq!(
        notes(3),
        [
            (true, "0.11.0: Run `bundle exec karafka-web migrate`."),
            (false, "0.11.2: [Fix] Topics sorting."),
            (false, "0.11.0: [Feature] Recurring tasks management."),
        ]
    );
    assert!(plan.hops.iter().all(|h| h.protocol == "none"));
}

#[test]
fn an_edit_beside_the_protocols_values_is_no_protocol_edit() {
    let fixture = Fixture::build("karafka-web");
    let sampler = "lib/karafka/web/tracking/consumers/sampler.rb";
    let edit =
        |from: &str, to: &str, message: &str| fixture.commit_edit(sampler, from, to, message);
    let on_sampler = |report: &Report| -> Vec<String> {
        report
            .findings
            .iter()
            .filter(|f| f.path == sampler)
            .map(|f| f.id.clone())
            .collect()
    };
    // A fix in the sampler's code: a framework edit, the protocol untouched.
    edit(
        "{ schema_version: SCHEMA_VERSION }",
        "{ schema_version: SCHEMA_VERSION, threads: 1 }",
        "Report the thread count",
    );
    let (_, report) = audit_json(&fixture, &["--to", "v0.11.5"]);
    assert_eq!(on_sampler(&report), ["FD101"]);
    // The schema version itself: the protocol, the fork's to propose upstream.
    edit(
        "SCHEMA_VERSION = '1.5.0'",
        "SCHEMA_VERSION = '1.5.1'",
        "Bump the schema",
    );
    let (_, report) = audit_json(&fixture, &["--to", "v0.11.5"]);
    assert_eq!(on_sampler(&report), ["FD101", "FD301"]);
}

/// A hop's release notes are all in the JSON; a screen shows the first 25 and counts the rest.
#[test]
fn a_plan_lists_every_release_note_in_json_and_counts_what_a_screen_leaves_out() {
    let mut scenario = String::from(
        r#"description = "Upstream changes the file the fork edited in 27 commits before its next release."

[[step]]
commit = "upstream/main"
message = "The agent (#1)"
write = { "agent.go" = "package agent\n\nconst Retries = 3\n", "notes.go" = "package agent\n" }

[[step]]
tag = "v1.0.0"
at = "upstream/main"

[[step]]
commit = "fork/main"
at = "upstream/main"
message = "Retry more"
edit = [{ path = "agent.go", replace = [["Retries = 3", "Retries = 5"]] }]
"#,
    );
    for n in 1..=27 {
        scenario.push_str(&format!(
            "\n[[step]]\ncommit = \"upstream/main\"\nmessage = \"Note {n} (#{})\"\nedit = [{{ path = \"agent.go\", append = \"// {n}\\n\" }}]\n",
            n + 1
        ));
    }
    scenario.push_str("\n[[step]]\ntag = \"v1.1.0\"\nat = \"upstream/main\"\n");
    let fixture = Fixture::from_toml(&scenario);
    let report = fixture.audit(&["--rules", "generic"]);
    assert!(report.plan.is_none());
    let output = fixture
        .forkdrift(&[
            "plan",
            "--rules",
            "generic",
            "--to",
            "v1.1.0",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let report: forkdrift::model::Report = serde_json::from_slice(&output.stdout).unwrap();
    let notes = &report.plan.as_ref().unwrap().hops[0].notes;
    assert_eq!(notes.len(), 27);
    assert!(notes.iter().all(|n| n.text.starts_with("Note ")));
    let output = fixture
        .forkdrift(&[
            "plan",
            "--rules",
            "generic",
            "--to",
            "v1.1.0",
            "--color",
            "never",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(text.matches("     - Note ").count(), 25, "{text}");
    assert!(
        text.contains("     - … and 2 more (`--format json` lists them)"),
        "{text}"
    );
}
