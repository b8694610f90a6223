//! The whole report of every fixture, in-process: the facts are read once per fixture and
//! every analysis step runs on them, as `audit --hops` composes them. Snapshots of the JSON
//! hold every field; the matrix of finding kinds × fixtures shows at a glance which rule fires
//! where (the rule × fixture matrix of cargo-semver-checks).

use crate::support::Fixture;
use forkdrift::catalog::CATALOG;
use forkdrift::commands::audit::audit;
use forkdrift::fixtures::Scenario;
use forkdrift::repo::Repo;
use forkdrift::repo::collect::Selection;
use forkdrift::repo::git::Git;
use std::fmt::Write as _;

/// Fixtures whose histories cannot be audited (by design: no common history).
const UNAUDITABLE: &[&str] = &["unrelated"];

#[test]
fn every_fixture_reports_the_same_json_and_the_matrix_holds() {
    let mut matrix = String::from("fixture");
    for entry in CATALOG {
        let _ = write!(matrix, " {}", entry.id);
    }
    matrix.push('\n');
    let mut names = Scenario::names();
    names.sort();
    for name in names.iter().filter(|n| !UNAUDITABLE.contains(&n.as_str())) {
        let fixture = Fixture::build(name);
        let repo = Repo::open(fixture.path()).unwrap();
        // As the command line does: .forkdrift.toml's pack and own paths count.
        let selection = forkdrift::repo::collect::configure(&repo, &Selection::default()).unwrap();
        let run = audit(&repo, &Git::hermetic(), &selection, true)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        insta::assert_json_snapshot!(format!("report_{name}"), run.report);
        let _ = write!(matrix, "{name}");
        for entry in CATALOG {
            let count = run
                .report
                .findings
                .iter()
                .filter(|f| f.kind == entry.kind)
                .count();
            let _ = write!(matrix, " {count}");
        }
        matrix.push('\n');
    }
    insta::assert_snapshot!("finding_matrix", matrix);
}
