use forkdrift::analysis::protocol::code_items;
use forkdrift::rules::Pack;
fn main() {
    let pack = Pack::builtin("elastic-connectors").unwrap();
    let anchor = &pack.protocol.values[0];
    let text = std::process::Command::new("git")
        .args([
            "-C",
            "/work/.mirror/elastic+connectors/repo",
            "show",
            "main:app/connectors_service/connectors/protocol/connectors.py",
        ])
        .output()
        .unwrap()
        .stdout;
    let items = code_items(
        &String::from_utf8_lossy(&text),
        anchor.scope.as_ref(),
        &anchor.value,
    );
    for (k, v) in &items {
        println!("{k} = {v}");
    }
}
