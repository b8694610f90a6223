//! `check --format sarif` against the official SARIF 2.1.0 schema (OASIS errata01, committed
//! as tests/data/sarif-schema-2.1.0.json), formats included.

use forkdrift::baseline::Accepted;
use forkdrift::check::{CheckReport, compare};
use forkdrift::model::{AUDIT_SCHEMA, Finding, RefInfo, Report, Severity, Tool};
use forkdrift::render::sarif;
use serde_json::Value;

fn finding(id: &str, kind: &str, severity: Severity, path: &str, fp: &str) -> Finding {
    Finding {
        id: id.into(),
        severity,
        kind: forkdrift::catalog::Kind::from_key(kind).expect("a catalog kind"),
        path: path.into(),
        message: format!("{kind} at {path}\nsecond line with 100% and \"quotes\""),
        fingerprint: fp.into(),
        unit: Some("acme".into()),
        help: Some("do something".into()),
    }
}

fn at(name: &str, c: char) -> RefInfo {
    RefInfo {
        name: name.into(),
        commit: c.to_string().repeat(40),
    }
}

fn check() -> CheckReport {
    let base = [
        finding(
            "FD102",
            "connector-modified",
            Severity::Warning,
            "connectors/sources/old.py",
            "0000000000000001",
        ),
        finding(
            "FD101",
            "framework-edit",
            Severity::Error,
            "connectors/kept.py",
            "0000000000000002",
        ),
    ];
    let head = [
        finding(
            "FD101",
            "framework-edit",
            Severity::Error,
            "connectors/kept.py",
            "0000000000000002",
        ),
        finding(
            "FD101",
            "framework-edit",
            Severity::Error,
            "odd dir/a:b,c%é.py",
            "0000000000000003",
        ),
        finding(
            "FD105",
            "zone-warning",
            Severity::Warning,
            "config.yml",
            "0000000000000004",
        ),
        finding(
            "FD302",
            "protocol-change",
            Severity::Note,
            "docs/CONNECTOR_PROTOCOL.md",
            "0000000000000005",
        ),
        finding(
            "FD401",
            "stale-copy",
            Severity::Note,
            "x.py",
            "0000000000000006",
        ),
    ];
    let accepted = [
        Accepted {
            fingerprint: "0000000000000004".into(),
            kind: Some("zone-warning".into()),
            path: Some("config.yml".into()),
            reason: "local settings".into(),
            owner: "ops".into(),
            upstream_pr: Some("https://github.com/elastic/connectors/pull/1".into()),
            expires: Some("2030-01-01".into()),
        },
        Accepted {
            fingerprint: "00000000000000ff".into(),
            kind: None,
            path: None,
            reason: "gone".into(),
            owner: "ops".into(),
            upstream_pr: None,
            expires: None,
        },
    ];
    let mut comparison = compare(&base, &head, &accepted, "2025-01-01");
    comparison.locate(|f| (f.path != "config.yml").then_some([3, 7]));
    let report = Report {
        schema: AUDIT_SCHEMA.into(),
        tool: Tool::default(),
        fork: at("HEAD", 'b'),
        target: at("upstream/main", 'c'),
        merge_base: "d".repeat(40),
        fork_point: "d".repeat(40),
        pack: "elastic-connectors".into(),
        own_commits: vec![],
        changes: vec![],
        findings: head.to_vec(),
        summary: Default::default(),
        conflicts: vec![],
        risk: Default::default(),
        hops: vec![],
        protocol: None,
        plan: None,
        already_upstream: vec![],
        pr_candidates: vec![],
        stale_copies: vec![],
        in_place_edits: vec![],
        deps: None,
        pins: vec![],
        notes: vec![],
    };
    CheckReport::new(
        at("origin/main", 'a'),
        at("HEAD", 'b'),
        report,
        comparison,
        Severity::Error,
    )
}

fn validator() -> jsonschema::Validator {
    let text = include_str!("../data/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(text).unwrap();
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let check = check();
    let mut out = Vec::new();
    sarif::render(&check, &mut out).unwrap();
    let log: Value = serde_json::from_slice(&out).unwrap();
    let validator = validator();
    let problems = errors(&validator, &log);
    assert!(problems.is_empty(), "{problems:#?}\n{log:#}");

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), forkdrift::catalog::CATALOG.len());
    assert_eq!(rules[1]["id"], "FD102");
    assert_eq!(rules[1]["name"], "ConnectorEditedInPlace");
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
    assert_eq!(run["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));

    let results = run["results"].as_array().unwrap();
    let by_fp = |fp: &str| {
        results
            .iter()
            .find(|r| r["partialFingerprints"]["forkdrift/v1"] == fp)
            .unwrap_or_else(|| panic!("no result for {fp}"))
    };
    let new = by_fp("0000000000000003");
    assert_eq!(new["baselineState"], "new");
    assert_eq!(new["ruleId"], "FD101");
    assert_eq!(new["ruleIndex"], 0);
    assert_eq!(new["level"], "error");
    let location = &new["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "odd%20dir/a%3Ab%2Cc%25%C3%A9.py"
    );
    assert_eq!(location["region"]["startLine"], 3);
    assert_eq!(location["region"]["endLine"], 7);
    assert_eq!(by_fp("0000000000000002")["baselineState"], "unchanged");
    let fixed = by_fp("0000000000000001");
    assert_eq!(fixed["baselineState"], "absent");
    assert_eq!(fixed["kind"], "pass");
    let suppressed = by_fp("0000000000000004");
    assert_eq!(suppressed["suppressions"][0]["kind"], "external");
    assert!(
        suppressed["locations"][0]["physicalLocation"]
            .get("region")
            .is_none()
    );
    assert!(
        suppressed["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("local settings")
    );
    assert!(by_fp("0000000000000006").get("ruleIndex").is_some());
    assert_eq!(results.len(), 6);
    let notes = &run["invocations"][0]["toolConfigurationNotifications"];
    assert!(
        notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("matches nothing")
    );
}

#[test]
fn the_schema_catches_what_is_not_sarif() {
    let mut log = sarif::document(&check(), true);
    let validator = validator();
    assert!(errors(&validator, &log).is_empty());
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    log["runs"][0]["results"][1]["baselineState"] = "fixed".into();
    log["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["region"] =
        serde_json::json!({"endLine": 3});
    assert_eq!(
        errors(&validator, &log).len(),
        3,
        "{:#?}",
        errors(&validator, &log)
    );
}
