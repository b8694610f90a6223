use forkdrift::analysis::protocol::{code_items, diff};
use forkdrift::rules::Pack;
fn show(rev: &str, path: &str) -> String {
    String::from_utf8_lossy(
        &std::process::Command::new("git")
            .args([
                "-C",
                "/work/.mirror/karafka+karafka-web/repo",
                "show",
                &format!("{rev}:{path}"),
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned()
}
fn main() {
    let pack = Pack::builtin("karafka-web").unwrap();
    for (a, b) in [
        ("v0.11.5", "v0.11.6"),
        ("bf05525d2b^", "bf05525d2b"),
        ("v0.10.4", "v0.11.0"),
        ("v0.11.6", "v1.0.0"),
    ] {
        let mut all = vec![];
        for anchor in &pack.protocol.values {
            for path in &anchor.paths {
                let (x, y) = (show(a, path), show(b, path));
                if x.is_empty() && y.is_empty() {
                    continue;
                }
                let d = diff(
                    &code_items(&x, None, &anchor.value),
                    &code_items(&y, None, &anchor.value),
                );
                for c in d {
                    all.push(format!("{}: {}", anchor.name, c.describe()));
                }
                if x != y && all.is_empty() {}
            }
        }
        println!(
            "{a} -> {b}: {}",
            if all.is_empty() {
                "none".into()
            } else {
                all.join("; ")
            }
        );
    }
}
