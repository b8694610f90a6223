//! Classifies every commit that touched a protocol document, the way the gate would
//! (docs/protocol-gate.md):
//!
//!     cargo run --release --example protocol_history -- /path/to/connectors [main] [docs/CONNECTOR_PROTOCOL.md]
#![allow(clippy::print_stdout)]

use forkdrift::analysis::protocol::{ENUM_MARKER, Verdict, diff, document_items};
use forkdrift::facts::Objects;
use forkdrift::repo::Repo;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repo = Repo::open(std::path::Path::new(&args[1])).unwrap();
    let rev = args.get(2).map_or("main", String::as_str);
    let path = args
        .get(3)
        .map_or("docs/CONNECTOR_PROTOCOL.md", String::as_str);
    let head = repo.resolve_commit(rev).unwrap();
    let read = |id| {
        repo.read(repo.tree_of(id).unwrap(), path)
            .unwrap()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let marker = regex::Regex::new(ENUM_MARKER).unwrap();
    let mut counts = [0; 3];
    for id in repo.walk(&[head], &[]).unwrap().into_iter().rev() {
        let commit = repo.commit(id).unwrap();
        let Some(parent) = commit.parents.first() else {
            continue;
        };
        let (before, after) = (read(*parent), read(id));
        if before == after || commit.parents.len() > 1 {
            continue;
        }
        let changes = diff(
            &document_items(&before.unwrap_or_default(), &marker),
            &document_items(&after.unwrap_or_default(), &marker),
        );
        let verdict = if changes.is_empty() {
            Verdict::Prose
        } else {
            Verdict::Schema
        };
        counts[verdict as usize] += 1;
        println!(
            "{} {:<6} {:>3} {}",
            &id.to_string()[..9],
            verdict.as_str(),
            changes.len(),
            commit.subject
        );
        for change in changes.iter().take(3) {
            println!("          {}", change.describe());
        }
    }
    println!(
        "{} commits: {} schema, {} prose",
        counts[1] + counts[2],
        counts[2],
        counts[1]
    );
}
