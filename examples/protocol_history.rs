// Scratch evaluation (not committed): classify every commit that touched the protocol doc.
use forkdrift::analysis::protocol::{diff, document_items};
use std::process::Command;
fn git(args: &[&str]) -> String {
    String::from_utf8_lossy(
        &Command::new("git")
            .arg("-C")
            .arg("/work/.mirror/elastic+connectors/repo")
            .args(args)
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned()
}
fn main() {
    let log = git(&[
        "log",
        "--format=%h %s",
        "main",
        "--",
        "docs/CONNECTOR_PROTOCOL.md",
    ]);
    for line in log.lines().rev() {
        let (id, subject) = line.split_once(' ').unwrap();
        let after = git(&["show", &format!("{id}:docs/CONNECTOR_PROTOCOL.md")]);
        let before = git(&["show", &format!("{id}^:docs/CONNECTOR_PROTOCOL.md")]);
        let changes = diff(&document_items(&before), &document_items(&after));
        let verdict = if changes.is_empty() {
            if before == after { "none" } else { "prose" }
        } else {
            "SCHEMA"
        };
        println!(
            "{id} {verdict:6} {:3} {}",
            changes.len(),
            &subject[..subject.len().min(70)]
        );
        for c in changes.iter().take(4) {
            println!("        {}", c.describe());
        }
    }
    let main = git(&["show", "main:docs/CONNECTOR_PROTOCOL.md"]);
    println!("items at main: {}", document_items(&main).len());
}
